package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// EchoConfig describes the one model an Echo server pretends to serve.
type EchoConfig struct {
	// Model is the model name; Input and Output its tensor names.
	Model, Input, Output string
	// Width is the row width of the input and the output.
	Width int
	// MaxBody bounds a request body in bytes; 0 means 64 MiB.
	MaxBody int64
}

// Echo returns an OIP v2 REST handler for the transport limit: health,
// model metadata and infer, where infer decodes the input tensor (JSON or
// Triton binary) as a server would and answers with an FP32 output of the
// same shape holding the input's values, encoded as asked (binary when the
// request sets binary_data_output or an output's binary_data), without
// running any model. Malformed requests get 400 with a one-line message.
func Echo(cfg EchoConfig) http.Handler {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 64 << 20
	}
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	mux.HandleFunc("GET /v2/health/live", ok)
	mux.HandleFunc("GET /v2/health/ready", ok)
	mux.HandleFunc("GET /v2/models/{model}/ready", ok)
	meta := func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("model") != cfg.Model {
			httpError(w, http.StatusNotFound, "unknown model %q", r.PathValue("model"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"name": cfg.Model, "versions": []string{"1"}, "platform": "echo",
			"inputs":  []any{map[string]any{"name": cfg.Input, "datatype": "FP32", "shape": []int{-1, cfg.Width}}},
			"outputs": []any{map[string]any{"name": cfg.Output, "datatype": "FP32", "shape": []int{-1, cfg.Width}}},
		})
	}
	mux.HandleFunc("GET /v2/models/{model}", meta)
	infer := func(w http.ResponseWriter, r *http.Request) { echoInfer(w, r, cfg) }
	mux.HandleFunc("POST /v2/models/{model}/infer", infer)
	mux.HandleFunc("POST /v2/models/{model}/versions/{version}/infer", infer)
	return mux
}

func httpError(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
}

func echoInfer(w http.ResponseWriter, r *http.Request, cfg EchoConfig) {
	if r.PathValue("model") != cfg.Model {
		httpError(w, http.StatusNotFound, "unknown model %q", r.PathValue("model"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.MaxBody))
	if err != nil {
		httpError(w, http.StatusRequestEntityTooLarge, "body: %v", err)
		return
	}
	head, rest := body, []byte(nil)
	if hl := r.Header.Get(HeaderLength); hl != "" {
		n, err := strconv.Atoi(hl)
		if err != nil || n < 0 || n > len(body) {
			httpError(w, http.StatusBadRequest, "%s %q outside the %d-byte body", HeaderLength, hl, len(body))
			return
		}
		head, rest = body[:n], body[n:]
	}
	var req InferRequest
	if err := json.Unmarshal(head, &req); err != nil {
		httpError(w, http.StatusBadRequest, "request JSON: %v", err)
		return
	}
	if len(req.Inputs) != 1 || req.Inputs[0].Name != cfg.Input {
		httpError(w, http.StatusBadRequest, "want exactly one input named %q", cfg.Input)
		return
	}
	in := req.Inputs[0]
	if in.Datatype != "FP32" || len(in.Shape) != 2 || in.Shape[1] != int64(cfg.Width) || in.Shape[0] < 1 || in.Shape[0] > 1<<20 {
		httpError(w, http.StatusBadRequest, "input %q: %s %v, want FP32 [n, %d]", in.Name, in.Datatype, in.Shape, cfg.Width)
		return
	}
	n := int(in.Shape[0]) * cfg.Width
	data := in.Data
	if size, isBinary := binarySize(in.Parameters); isBinary {
		if size != 4*n || size > len(rest) {
			httpError(w, http.StatusBadRequest, "input %q: binary_data_size %d, want %d within the body", in.Name, size, 4*n)
			return
		}
		data = DecodeFP32(rest[:size])
	} else if len(data) != n {
		httpError(w, http.StatusBadRequest, "input %q: %d values for shape %v", in.Name, len(data), in.Shape)
		return
	}
	wantBinary, _ := req.Parameters["binary_data_output"].(bool)
	for _, o := range req.Outputs {
		if b, _ := o.Parameters["binary_data"].(bool); b {
			wantBinary = true
		}
	}
	out := Tensor{Name: cfg.Output, Shape: in.Shape, Datatype: "FP32"}
	resp := InferResponse{ModelName: cfg.Model, ModelVersion: "1", ID: req.ID, Outputs: []Tensor{out}}
	if !wantBinary {
		resp.Outputs[0].Data = data
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
		return
	}
	resp.Outputs[0].Parameters = map[string]any{"binary_data_size": 4 * n}
	h, err := json.Marshal(resp)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderLength, strconv.Itoa(len(h)))
	w.Write(append(h, EncodeFP32(data)...))
}
