package onnx_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
)

// autoencoder returns a tiny 4-2-4 autoencoder with nested encoder and
// decoder models.
func autoencoder() *runtime.Model {
	enc := &runtime.Model{Name: "encoder", Input: []int{4}, Layers: []*runtime.Layer{{
		Name: "code", Type: runtime.Dense, In: 4, Units: 2, Act: runtime.Act(runtime.ReLU),
		Kernel: []float32{1, 0, 0, 1, 1, 0, 0, 1}, Bias: []float32{0, 0.5},
	}}}
	dec := &runtime.Model{Name: "decoder", Input: []int{2}, Layers: []*runtime.Layer{{
		Name: "out", Type: runtime.Dense, In: 2, Units: 4, Act: runtime.Act(runtime.Sigmoid),
		Kernel: []float32{1, -1, 0.5, 0, 0, 1, -1, 0.5}, Bias: []float32{0, 0, 0, 0},
	}}}
	return &runtime.Model{Name: "autoencoder", Input: []int{4}, Layers: []*runtime.Layer{
		{Name: "encoder", Type: runtime.SubModel, Sub: enc},
		{Name: "decoder", Type: runtime.SubModel, Sub: dec},
	}}
}

func ExampleWrite() {
	var buf bytes.Buffer
	if err := onnx.Write(&buf, autoencoder(), nil); err != nil {
		log.Fatal(err)
	}
	m, info, err := onnx.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %v, IR %d, opset %d\n", info.Producer, info.ProducerVersion != "", info.IRVersion, info.Opset)
	fmt.Println(m.LayerNames())
	y, _ := m.Predict(nil, []float32{1, 2, 3, 4})
	fmt.Printf("%.4f\n", y)
	// Output:
	// aekit true, IR 7, opset 13
	// [encoder code decoder out]
	// [0.9820 0.9241 0.0110 0.9627]
}

func ExampleWrite_encoder() {
	enc, err := autoencoder().Submodel("encoder")
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := onnx.Write(&buf, enc, &onnx.ExportOptions{Opset: 17}); err != nil {
		log.Fatal(err)
	}
	m, info, err := onnx.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Opset, info.IRVersion, info.Batch, m.InputWidth(), "→", m.OutputWidth())
	// Output:
	// 17 8 N 4 → 2
}

func ExampleSelfCheck() {
	b, err := onnx.Marshal(autoencoder(), nil)
	if err != nil {
		log.Fatal(err)
	}
	m, info, err := onnx.Unmarshal(b)
	if err != nil {
		log.Fatal(err)
	}
	r, err := onnx.SelfCheck(m, info)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r)
	// Output:
	// 3 samples, 12 values: max |Δ| 0, max rel 0
}

func ExampleReadFile() {
	m, info, err := onnx.ReadFile("../fixtures/onnx/torch_relu_sigmoid.onnx")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Producer, info.Opset, info.Batch)
	for _, l := range m.Layers {
		fmt.Println(l.Name, l.In, "→", l.Units, l.Act)
	}
	// Output:
	// pytorch 13 batch
	// encoder/encoder.0/Gemm 20 → 8 relu
	// decoder/decoder.0/Gemm 8 → 20 sigmoid
}

func ExampleIRVersion() {
	for _, opset := range []int{11, 13, 15, 19, 21} {
		fmt.Print(onnx.IRVersion(opset), " ")
	}
	fmt.Println()
	// Output:
	// 6 7 8 9 10
}
