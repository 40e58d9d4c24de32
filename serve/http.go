package serve

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HeaderLength is Triton's binary-tensor extension header: the length in
// bytes of the JSON part of a body whose binary tensor data follows it.
const HeaderLength = "Inference-Header-Content-Length"

// Handler returns the REST handler: the Open Inference Protocol's /v2
// endpoints and Prometheus's /metrics.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// Health answers are in the status code (200, or 400 as the protocol
	// says for false), with the gRPC answer's fields as a JSON body for
	// clients that read one.
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, readyCode(s.Ready()), map[string]bool{"ready": s.Ready()})
	})
	mux.HandleFunc("GET /v2", func(w http.ResponseWriter, r *http.Request) {
		name, ver, ext := serverMetadata()
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "version": ver, "extensions": ext})
	})
	mux.HandleFunc("GET /v2/models/{name}", s.httpModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.httpModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.httpModelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.httpModelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.httpInfer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.httpInfer)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.met.reg, promhttp.HandlerOpts{}))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// httpStatus maps an error to its HTTP status code.
func httpStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrOverloaded):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) int {
	code := httpStatus(err)
	writeJSON(w, code, map[string]string{"error": err.Error()})
	return code
}

// tensorMetadata is a tensor's entry in a model's metadata.
type tensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// metadataOf returns a model's inputs and outputs as the protocol
// describes them, with -1 for the batch dimension.
func metadataOf(mo *model) (in, out []tensorMetadata) {
	shape := func(s []int) []int64 {
		r := []int64{-1}
		for _, d := range s {
			r = append(r, int64(d))
		}
		return r
	}
	in = []tensorMetadata{{mo.in, "FP32", shape(mo.inShape)}}
	out = []tensorMetadata{{mo.out, "FP32", shape(mo.outShape)}}
	if mo.canScore {
		out = append(out, tensorMetadata{ScoreOutput, "FP32", []int64{-1}})
		if mo.threshold != nil {
			out = append(out, tensorMetadata{AnomalyOutput, "BOOL", []int64{-1}})
		}
	}
	return in, out
}

func (s *Server) httpModelMetadata(w http.ResponseWriter, r *http.Request) {
	mo, err := s.lookup(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeError(w, err)
		return
	}
	in, out := metadataOf(mo)
	writeJSON(w, http.StatusOK, map[string]any{"name": mo.src.name, "versions": []string{mo.src.version},
		"platform": mo.platform, "inputs": in, "outputs": out})
}

func (s *Server) httpModelReady(w http.ResponseWriter, r *http.Request) {
	mo, err := s.lookup(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, readyCode(s.Ready()), map[string]any{"name": mo.src.name, "ready": s.Ready()})
}

// readyCode is the status of a readiness answer: 200, or 400 when not
// ready (the protocol's 4xx for false).
func readyCode(ready bool) int {
	if ready {
		return http.StatusOK
	}
	return http.StatusBadRequest
}

// jsonParams are the request, input and output parameters the server
// reads; others are ignored.
type jsonParams struct {
	BinaryDataSize   *int64 `json:"binary_data_size"`
	BinaryData       *bool  `json:"binary_data"`
	BinaryDataOutput *bool  `json:"binary_data_output"`
	ClassCount       *int64 `json:"classification"`
}

// jsonRequest is the JSON of an inference request.
type jsonRequest struct {
	ID         string     `json:"id"`
	Parameters jsonParams `json:"parameters"`
	Inputs     []struct {
		Name       string          `json:"name"`
		Shape      []int64         `json:"shape"`
		Datatype   string          `json:"datatype"`
		Parameters jsonParams      `json:"parameters"`
		Data       json.RawMessage `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name       string     `json:"name"`
		Parameters jsonParams `json:"parameters"`
	} `json:"outputs"`
}

// httpRequest is an inference request decoded from a REST body, with
// which outputs are to be answered as binary data.
type httpRequest struct {
	inferRequest
	binary    map[string]bool // per output asked for
	binaryAll bool            // the request's binary_data_output
}

// decodeHTTP decodes an inference request body: JSON, or with
// headerLen ≥ 0 (the Inference-Header-Content-Length header) a JSON
// header of headerLen bytes followed by the binary data of the inputs
// whose binary_data_size parameter is set, in input order. JSON data is
// decoded only after the input's shape is checked against the model
// (shapeOK), so that no allocation exceeds what the shape allows.
func decodeHTTP(body []byte, headerLen int, shapeOK func(*inTensor) (int, error)) (*httpRequest, error) {
	head, bin := body, []byte(nil)
	if headerLen >= 0 {
		if headerLen > len(body) {
			return nil, invalidf("%s %d is larger than the body's %d bytes", HeaderLength, headerLen, len(body))
		}
		head, bin = body[:headerLen], body[headerLen:]
	}
	var jr jsonRequest
	if err := json.Unmarshal(head, &jr); err != nil {
		return nil, invalidf("request JSON: %v", err)
	}
	req := &httpRequest{inferRequest: inferRequest{id: jr.ID}, binary: map[string]bool{}}
	if p := jr.Parameters.BinaryDataOutput; p != nil {
		req.binaryAll = *p
	}
	off := 0
	for _, in := range jr.Inputs {
		t := inTensor{name: in.Name, datatype: in.Datatype, shape: in.Shape}
		if p := in.Parameters.BinaryDataSize; p != nil {
			sz := *p
			if sz < 0 || sz > int64(len(bin)-off) {
				return nil, invalidf("input %q: binary_data_size %d, but %d bytes of binary data are left", in.Name, sz, len(bin)-off)
			}
			if len(in.Data) > 0 && string(in.Data) != "null" {
				return nil, invalidf("input %q: both data and binary_data_size", in.Name)
			}
			t.raw, t.hasData = bin[off:off+int(sz)], true
			off += int(sz)
		} else if len(in.Data) > 0 && string(in.Data) != "null" {
			t.hasData = true
			if shapeOK != nil {
				n, err := shapeOK(&t)
				if err != nil {
					return nil, err
				}
				t.f32 = make([]float32, n)
				if err := parseNumbers(t.f32, in.Data, t.shape); err != nil {
					return nil, invalidf("input %q: %v", in.Name, err)
				}
			}
		}
		req.inputs = append(req.inputs, t)
	}
	if off != len(bin) {
		return nil, invalidf("%d bytes of binary data after the inputs' binary_data_size", len(bin)-off)
	}
	for _, o := range jr.Outputs {
		if o.Parameters.ClassCount != nil && *o.Parameters.ClassCount != 0 {
			return nil, invalidf("output %q: the classification extension is not supported", o.Name)
		}
		req.outputs = append(req.outputs, o.Name)
		b := req.binaryAll
		if p := o.Parameters.BinaryData; p != nil {
			b = *p
		}
		req.binary[o.Name] = b
	}
	return req, nil
}

// bodyChunk is the most readBody allocates for a body before its bytes
// arrive.
const bodyChunk = 1 << 20

// readBody reads a request body of at most max bytes, decompressed
// when its Content-Encoding is gzip or deflate (zlib, as tritonclient's
// request_compression_algorithm sends it), the limit applying to the
// decompressed bytes too.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, invalidf("request body of %d bytes is larger than the limit, %d", r.ContentLength, max)
	}
	var b []byte
	var err error
	if n := r.ContentLength; n >= 0 {
		// The buffer grows with the bytes received, not to the length
		// declared: a client that declares max bytes and sends none
		// must not pin max bytes.
		b = make([]byte, 0, min(n, bodyChunk))
		for int64(len(b)) < n {
			if len(b) == cap(b) {
				b = slices.Grow(b, int(min(n, 2*int64(cap(b)))-int64(len(b))))
			}
			k, err := r.Body.Read(b[len(b):min(int64(cap(b)), n)])
			b = b[:len(b)+k]
			if err != nil && (err != io.EOF || int64(len(b)) < n) {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, invalidf("reading the body: %v", err)
			}
		}
	} else if b, err = readLimited(r.Body, max); err != nil {
		return nil, err
	}
	return decompress(r.Header.Get("Content-Encoding"), b, max)
}

// readLimited reads rd to its end, failing past max bytes.
func readLimited(rd io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return nil, invalidf("reading the body: %v", err)
	}
	if int64(len(b)) > max {
		return nil, invalidf("request body larger than the limit, %d bytes", max)
	}
	return b, nil
}

// decompress decodes a body of Content-Encoding enc.
func decompress(enc string, b []byte, max int64) ([]byte, error) {
	var rd io.ReadCloser
	var err error
	switch enc {
	case "", "identity":
		return b, nil
	case "gzip":
		rd, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		rd, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return nil, invalidf("Content-Encoding %q is not supported (gzip, deflate)", enc)
	}
	if err != nil {
		return nil, invalidf("%s body: %v", enc, err)
	}
	defer rd.Close()
	return readLimited(rd, max)
}

func (s *Server) httpInfer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("name")
	label := "" // an unknown model's name is not a label: it would be unbounded
	code := s.serveInfer(w, r, name, &label)
	s.met.requests.WithLabelValues(label, "http", strconv.Itoa(code)).Inc()
	s.met.latency.WithLabelValues(label, "http").Observe(time.Since(start).Seconds())
}

func (s *Server) serveInfer(w http.ResponseWriter, r *http.Request, name string, label *string) int {
	if err := s.admit(); err != nil {
		s.log.Debug("request refused", "model", name, "error", err)
		return writeError(w, err)
	}
	defer s.release()
	// Reserve the body's bytes (a body of unknown length may be as large
	// as the limit) before reading it.
	n := r.ContentLength
	if n < 0 || n > s.cfg.MaxBodyBytes {
		n = s.cfg.MaxBodyBytes
	}
	if !s.body.tryTake(n) {
		s.answered.Add(1)
		return writeError(w, fmt.Errorf("%w: %d bytes of request bodies in flight", ErrOverloaded, s.cfg.MaxBodyBuffer))
	}
	defer s.body.give(n)
	code := s.inferHTTP(w, r, name, label)
	s.answered.Add(1)
	return code
}

func (s *Server) inferHTTP(w http.ResponseWriter, r *http.Request, name string, label *string) int {
	mo, err := s.lookup(name, r.PathValue("version"))
	if err != nil {
		return writeError(w, err)
	}
	*label = name
	body, err := readBody(r, s.cfg.MaxBodyBytes)
	if err != nil {
		return writeError(w, err)
	}
	headerLen := -1
	if h := r.Header.Get(HeaderLength); h != "" {
		if headerLen, err = strconv.Atoi(h); err != nil || headerLen < 0 {
			return writeError(w, invalidf("%s %q is not a length", HeaderLength, h))
		}
	}
	req, err := decodeHTTP(body, headerLen, func(t *inTensor) (int, error) {
		if t.name != mo.in {
			return 0, invalidf("unknown input %q: the model's input is %q", t.name, mo.in)
		}
		n, err := rowsOf(t, mo, s.cfg.MaxRows)
		return n * mo.inW, err
	})
	if err != nil {
		return writeError(w, err)
	}
	mo, j, outs, err := s.run(&req.inferRequest, mo, name, r.PathValue("version"))
	if err != nil {
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFound) {
			s.log.Warn("inference failed", "model", name, "error", err)
		}
		return writeError(w, err)
	}
	if len(req.outputs) == 0 {
		req.binary[mo.out] = req.binaryAll
	}
	return writeAnswer(w, mo, req, answer(j, mo, outs))
}

// writeAnswer writes an inference answer: JSON, or a JSON header and the
// binary data of the outputs asked for as binary.
func writeAnswer(w http.ResponseWriter, mo *model, req *httpRequest, ts []outTensor) int {
	b := make([]byte, 0, 256)
	b = append(b, `{"model_name":`...)
	b = strconv.AppendQuote(b, mo.src.name)
	b = append(b, `,"model_version":`...)
	b = strconv.AppendQuote(b, mo.src.version)
	if req.id != "" {
		b = append(b, `,"id":`...)
		id, _ := json.Marshal(req.id)
		b = append(b, id...)
	}
	b = append(b, `,"outputs":[`...)
	binSize := 0
	for i := range ts {
		t := &ts[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		nm, _ := json.Marshal(t.name)
		b = append(b, nm...)
		b = append(b, `,"datatype":"`...)
		b = append(b, t.datatype...)
		b = append(b, `","shape":[`...)
		for k, d := range t.shape {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, ']')
		if req.binary[t.name] {
			n := rawSize(t)
			binSize += n
			b = append(b, `,"parameters":{"binary_data_size":`...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, "}}"...)
			continue
		}
		b = append(b, `,"data":[`...)
		if t.datatype == "BOOL" {
			for k, v := range t.bools {
				if k > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendBool(b, v)
			}
		} else {
			for k, v := range t.f32 {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendJSONFloat(b, v)
			}
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]}"...)
	h := w.Header()
	if binSize > 0 {
		h.Set(HeaderLength, strconv.Itoa(len(b)))
		h.Set("Content-Type", "application/octet-stream")
		b = append(make([]byte, 0, len(b)+binSize), b...)
		for i := range ts {
			if req.binary[ts[i].name] {
				b = appendRaw(b, &ts[i])
			}
		}
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(b); err != nil {
		return 499 // the client went away
	}
	return http.StatusOK
}
