package serve

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/oip"
)

// fuzzModel is a 4 → 4 model's description, enough for the decoders.
var fuzzModel = &model{src: source{name: "m", version: "1"}, in: "x", out: "y", inShape: []int{2, 2}, outShape: []int{4},
	inW: 4, outW: 4, canScore: true}

// FuzzDecodeHTTP feeds the REST request decoder (JSON, Triton's binary
// tensor header and the data decoder) and the checks against a model
// arbitrary bodies and header lengths: it must return a job or an error,
// never panic, and a job it returns must hold the rows its shape says.
// Run it bounded: go test ./serve -run '^$' -fuzz FuzzDecodeHTTP -fuzztime 30s
func FuzzDecodeHTTP(f *testing.F) {
	f.Add([]byte(`{"id":"a","inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[5,6,7,8]]}],"outputs":[{"name":"y"},{"name":"reconstruction_error"}]}`), -1)
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,2,2],"datatype":"FP32","data":[[[1,2],[3,4]]]}]}`), -1)
	head := `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],"parameters":{"binary_data_output":true}}`
	f.Add([]byte(head+"0123456789abcdef"), len(head))
	f.Add([]byte(head+"0123"), len(head))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[9223372036854775807,4],"datatype":"FP32","data":[]}]}`), -1)
	f.Add([]byte(`{"inputs":[]}`), 3)
	f.Fuzz(func(t *testing.T, body []byte, headerLen int) {
		req, err := decodeHTTP(body, headerLen, func(tn *inTensor) (int, error) {
			n, err := rowsOf(tn, fuzzModel, 16)
			return n * fuzzModel.inW, err
		})
		if err != nil {
			return
		}
		j, outs, err := prepare(&req.inferRequest, fuzzModel, 16)
		if err != nil {
			return
		}
		if j.n < 1 || j.n > 16 || len(j.x) != j.n*4 || len(outs) == 0 {
			t.Fatalf("job of %d rows with %d values, outputs %v", j.n, len(j.x), outs)
		}
		echo(j, fuzzModel)
		answer(j, fuzzModel, outs)
	})
}

// FuzzDecodeGRPC feeds the gRPC request decoder arbitrary
// ModelInferRequest messages.
// Run it bounded: go test ./serve -run '^$' -fuzz FuzzDecodeGRPC -fuzztime 30s
func FuzzDecodeGRPC(f *testing.F) {
	for _, r := range []*oip.ModelInferRequest{
		{ModelName: "m", Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}}},
			RawInputContents: [][]byte{make([]byte, 16)}},
		{ModelName: "m", Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{2, 2, 2},
			Contents: &oip.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4, 5, 6, 7, 8}}}},
			Outputs: []*oip.ModelInferRequest_InferRequestedOutputTensor{{Name: "reconstruction_error"}}},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r oip.ModelInferRequest
		if proto.Unmarshal(b, &r) != nil {
			return
		}
		req, err := decodeGRPC(&r)
		if err != nil {
			return
		}
		j, outs, err := prepare(req, fuzzModel, 16)
		if err != nil {
			return
		}
		if j.n < 1 || j.n > 16 || len(j.x) != j.n*4 {
			t.Fatalf("job of %d rows with %d values", j.n, len(j.x))
		}
		echo(j, fuzzModel)
		encodeGRPC(&r, fuzzModel, answer(j, fuzzModel, outs))
	})
}

// The seeds decode as expected.
func TestDecodeSeeds(t *testing.T) {
	head := `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`
	raw := appendRaw(nil, &outTensor{datatype: "FP32", f32: []float32{1, -2, 3.5, 4}})
	req, err := decodeHTTP(append([]byte(head), raw...), len(head), nil)
	if err != nil {
		t.Fatal(err)
	}
	j, outs, err := prepare(&req.inferRequest, fuzzModel, 16)
	if err != nil || fmt.Sprint(j.x, outs) != "[1 -2 3.5 4] [y]" {
		t.Fatalf("%v %v %v", j, outs, err)
	}
	_, err = decodeHTTP([]byte(`{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"parameters":{"binary_data_size":0}}]}`), -1, nil)
	if err == nil || !strings.Contains(err.Error(), `input "x": both data and binary_data_size`) {
		t.Errorf("data and binary: %v", err)
	}
}
