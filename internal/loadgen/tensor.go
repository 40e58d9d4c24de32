package loadgen

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// HeaderLength is Triton's binary-tensor extension header: the length in
// bytes of the JSON part of a body whose binary tensor data follows it.
const HeaderLength = "Inference-Header-Content-Length"

// Protocol selects how a request's tensor travels.
type Protocol string

// The protocols a Runner speaks.
const (
	// JSON sends and asks for tensors as JSON number arrays.
	JSON Protocol = "json"
	// Binary sends the tensor as raw little-endian FP32 bytes after the JSON
	// header (Triton's binary-tensor extension) and asks for binary outputs.
	Binary Protocol = "binary"
	// GRPC calls inference.GRPCInferenceService/ModelInfer with the tensor
	// in raw_input_contents.
	GRPC Protocol = "grpc"
)

// ErrBadResponse reports a response that is not a valid answer to the
// request: wrong status, malformed body, or an output of the wrong size.
var ErrBadResponse = errors.New("bad infer response")

// Tensor is one OIP tensor as it appears in a JSON request or response.
type Tensor struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       []float32      `json:"data,omitempty"`
}

// InferRequest is the JSON part of an OIP infer request.
type InferRequest struct {
	ID         string         `json:"id,omitempty"`
	Inputs     []Tensor       `json:"inputs"`
	Outputs    []OutputSpec   `json:"outputs,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// OutputSpec asks for one output by name, optionally as binary data.
type OutputSpec struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// InferResponse is the JSON part of an OIP infer response.
type InferResponse struct {
	ModelName    string   `json:"model_name"`
	ModelVersion string   `json:"model_version,omitempty"`
	ID           string   `json:"id,omitempty"`
	Outputs      []Tensor `json:"outputs"`
}

// EncodeRequest returns the body of an infer request carrying row as input
// tensor name (shape [1, len(row)], FP32) and, for Binary, the value of the
// Inference-Header-Content-Length header (0 for JSON). With Binary the
// request also asks for every output in binary form.
func EncodeRequest(p Protocol, name string, row []float32) (body []byte, headerLen int, err error) {
	in := Tensor{Name: name, Shape: []int64{1, int64(len(row))}, Datatype: "FP32"}
	req := InferRequest{Inputs: []Tensor{in}}
	switch p {
	case JSON:
		req.Inputs[0].Data = row
		body, err = json.Marshal(req)
		return body, 0, err
	case Binary:
		req.Inputs[0].Parameters = map[string]any{"binary_data_size": 4 * len(row)}
		req.Parameters = map[string]any{"binary_data_output": true}
		head, err := json.Marshal(req)
		if err != nil {
			return nil, 0, err
		}
		return append(head, EncodeFP32(row)...), len(head), nil
	}
	return nil, 0, fmt.Errorf("loadgen: unknown protocol %q", p)
}

// DecodeResponse checks an infer response body and returns its first
// output's values. headerLen is the response's
// Inference-Header-Content-Length value ("" when absent: a JSON-only body).
// Binary outputs are located with their binary_data_size parameters and
// bounds-checked against the body.
func DecodeResponse(body []byte, headerLen string) ([]float32, error) {
	head := body
	var rest []byte
	if headerLen != "" {
		n, err := strconv.Atoi(headerLen)
		if err != nil || n < 0 || n > len(body) {
			return nil, fmt.Errorf("%w: %s %q outside the %d-byte body", ErrBadResponse, HeaderLength, headerLen, len(body))
		}
		head, rest = body[:n], body[n:]
	}
	var resp InferResponse
	if err := json.Unmarshal(head, &resp); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if len(resp.Outputs) == 0 {
		return nil, fmt.Errorf("%w: no outputs", ErrBadResponse)
	}
	var first []float32
	for i, o := range resp.Outputs {
		size, binaryOut := binarySize(o.Parameters)
		if !binaryOut {
			if i == 0 {
				first = o.Data
			}
			continue
		}
		if size < 0 || size > len(rest) {
			return nil, fmt.Errorf("%w: output %q binary_data_size %d exceeds the %d bytes left", ErrBadResponse, o.Name, size, len(rest))
		}
		if i == 0 {
			if o.Datatype != "FP32" || size%4 != 0 {
				return nil, fmt.Errorf("%w: output %q: %s with %d bytes, want FP32", ErrBadResponse, o.Name, o.Datatype, size)
			}
			first = DecodeFP32(rest[:size])
		}
		rest = rest[size:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last binary output", ErrBadResponse, len(rest))
	}
	want := int64(1)
	for _, d := range resp.Outputs[0].Shape {
		want *= d
	}
	if int64(len(first)) != want {
		return nil, fmt.Errorf("%w: output %q has %d values for shape %v", ErrBadResponse, resp.Outputs[0].Name, len(first), resp.Outputs[0].Shape)
	}
	return first, nil
}

// DecodeFP32 reads little-endian FP32 values (Triton's binary tensors,
// gRPC raw contents); a trailing partial value is ignored.
func DecodeFP32(raw []byte) []float32 {
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// EncodeFP32 writes values as little-endian FP32 bytes.
func EncodeFP32(values []float32) []byte {
	out := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out
}

// binarySize returns a tensor's binary_data_size parameter and whether it has one.
func binarySize(params map[string]any) (int, bool) {
	v, ok := params["binary_data_size"]
	if !ok {
		return 0, false
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || f > math.MaxInt32 {
		return -1, true
	}
	return int(f), true
}
