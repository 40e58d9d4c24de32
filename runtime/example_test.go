package runtime_test

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// tinyAE returns a tiny 4-2-4 autoencoder with hand-picked weights:
// Model(x, decoder(encoder(x))) as Keras builds it.
func tinyAE() *runtime.Model {
	encoder := &runtime.Model{Name: "encoder", Input: []int{4}, Layers: []*runtime.Layer{{
		Name: "code", Type: runtime.Dense, In: 4, Units: 2,
		Kernel: []float32{1, 0, 1, 0, 0, 1, 0, 1}, // inputs 0,1 → unit 0; 2,3 → unit 1
		Bias:   []float32{0, -1},
		Act:    runtime.Act(runtime.ReLU),
	}}}
	decoder := &runtime.Model{Name: "decoder", Input: []int{2}, Layers: []*runtime.Layer{{
		Name: "reconstruction", Type: runtime.Dense, In: 2, Units: 4,
		Kernel: []float32{1, 1, 0, 0, 0, 0, 1, 1},
		Act:    runtime.Act(runtime.Sigmoid),
	}}}
	return &runtime.Model{Name: "autoencoder", Input: []int{4}, Layers: []*runtime.Layer{
		{Name: "encoder", Type: runtime.SubModel, Sub: encoder},
		{Name: "decoder", Type: runtime.SubModel, Sub: decoder},
	}}
}

func ExampleModel_Predict() {
	m := tinyAE()
	if err := m.Validate(); err != nil {
		panic(err)
	}
	x := []float32{ // two samples of four values
		1, 1, 0, 0,
		0, 0, 2, 2,
	}
	y, err := m.Predict(nil, x)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.3f\n%.3f\n", y[:4], y[4:])
	// Output:
	// [0.881 0.881 0.500 0.500]
	// [0.500 0.500 0.953 0.953]
}

func ExampleModel_Until() {
	m := tinyAE()
	enc, err := m.Until("encoder") // the model's input to the encoder's output
	if err != nil {
		panic(err)
	}
	codes, _ := enc.Predict(nil, []float32{1, 1, 0, 0, 0, 0, 2, 2})
	fmt.Println(codes, enc.OutputShape())
	// Output:
	// [2 0 0 3] [2]
}

func ExampleModel_Submodel() {
	m := tinyAE()
	dec, err := m.Submodel("decoder") // the decoder alone, on codes
	if err != nil {
		panic(err)
	}
	y, _ := dec.Predict(nil, []float32{0, 0})
	fmt.Println(dec.InputWidth(), y)
	_, err = m.Submodel("bottleneck")
	fmt.Println(err)
	// Output:
	// 2 [0.5 0.5 0.5 0.5]
	// runtime: no such layer "bottleneck" (have encoder, code, decoder, reconstruction)
}
