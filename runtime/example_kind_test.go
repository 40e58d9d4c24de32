package runtime_test

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// A layer kind beyond Dense runs as a layer of type Other. Readers make
// kinds from Keras configs with NewKind; Go code may build them directly.
func ExampleNewKind() {
	scale, err := runtime.NewKind("Rescaling", map[string]any{"scale": 1 / 255.0, "offset": -0.5})
	if err != nil {
		panic(err)
	}
	bn := runtime.NewBatchNormalization([]float32{2}, []float32{1}, []float32{0.5}, []float32{0.25}, 0)
	m := &runtime.Model{Input: []int{1}, Layers: []*runtime.Layer{
		{Name: "rescaling", Type: runtime.Other, Kind: scale},
		{Name: "bn", Type: runtime.Other, Kind: bn},
	}}
	y, err := m.Predict(nil, []float32{0, 255})
	if err != nil {
		panic(err)
	}
	// Dispatch on behaviour: both are per-feature affine maps.
	for _, l := range m.Layers {
		s, b := l.Kind.(runtime.Affine).Affine()
		fmt.Printf("%s: %s ×%.4g %+.4g\n", l.Name, l.Kind.Class(), s[0], b[0])
	}
	fmt.Println(y)
	// Output:
	// rescaling: Rescaling ×0.003922 -0.5
	// bn: BatchNormalization ×4 -1
	// [-3 1]
}
