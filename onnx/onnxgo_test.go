package onnx

import (
	"fmt"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	gtensor "gorgonia.org/tensor"

	"github.com/aekit/aekit/internal/conformance"
)

// onnxGoSkip lists the conformance cases onnx-go v0.5.0's gorgonnx backend
// cannot run, with the reason. Every other case must load and match.
var onnxGoSkip = map[string]string{
	"act_elu":                  "gorgonnx has no Elu operator",
	"act_elu_0.5":              "gorgonnx has no Elu operator",
	"act_gelu":                 "gorgonnx has no Erf operator (GELU's expansion below opset 20) nor Gelu",
	"act_gelu_tanh":            "onnx-go keeps one graph edge per input pair, so Mul(x, x) in the tanh expansion has arity 1",
	"act_hard_sigmoid":         "gorgonnx has no HardSigmoid operator",
	"act_hard_sigmoid_keras3":  "gorgonnx has no HardSigmoid operator",
	"act_log_softmax":          "gorgonnx has no LogSoftmax operator",
	"act_relu6":                "gorgonnx has no Clip operator",
	"act_relu_capped":          "gorgonnx has no Clip operator",
	"act_relu_leaky_threshold": "gorgonnx has no Greater or Where operator (relu with a threshold)",
	"act_relu_all_params":      "gorgonnx has no Greater or Where operator (relu with a threshold)",
	"act_selu":                 "gorgonnx has no Selu operator",
	"act_softsign":             "gorgonnx has no Softsign operator",
}

// runOnnxGo runs an ONNX model in onnx-go's gorgonnx backend on n samples.
func runOnnxGo(b []byte, x []float32, shape []int) (out []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx-go panicked: %v", r)
		}
	}()
	backend := gorgonnx.NewGraph()
	model := onnxgo.NewModel(backend)
	if err := model.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := model.SetInput(0, gtensor.New(gtensor.WithShape(shape...), gtensor.WithBacking(append([]float32(nil), x...)))); err != nil {
		return nil, fmt.Errorf("set input: %w", err)
	}
	if err := backend.Run(); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	outs, err := model.GetOutputTensors()
	if err != nil {
		return nil, err
	}
	v, ok := outs[0].Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("output is %T", outs[0].Data())
	}
	return v, nil
}

// TestOnnxGo loads what aekit exports into onnx-go, the second Go consumer.
// onnx-go drops symbolic dimensions, so the models are exported with a
// fixed batch size (ExportOptions.BatchSize) equal to the number of
// samples fed.
func TestOnnxGo(t *testing.T) {
	var st errStats
	ran := 0
	for _, c := range conformance.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			why, skip := onnxGoSkip[c.Name]
			b, err := Marshal(c.Model, &ExportOptions{BatchSize: c.N})
			if err != nil {
				t.Fatal(err)
			}
			got, err := runOnnxGo(b, c.X, append([]int{c.N}, c.Model.Input...))
			if skip {
				if err == nil {
					if st.add(c.Name, got, c.Want) == 0 {
						t.Errorf("listed in onnxGoSkip (%s) but onnx-go runs it correctly now", why)
					}
				}
				t.Skip(why)
			}
			if err != nil {
				t.Fatalf("onnx-go: %v", err)
			}
			if bad := st.add(c.Name, got, c.Want); bad > 0 {
				t.Errorf("%d of %d outputs differ from the reference beyond %g + %g·|want|", bad, len(got), interopATol, interopRTol)
			}
			ran++
		})
	}
	t.Logf("onnx-go ran %d cases; vs reference: max |Δ| %.3g (%s), max rel %.3g (%s)", ran, st.maxAbs, st.where, st.maxRel, st.whereRel)
}
