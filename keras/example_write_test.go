//go:build cgo

// ExampleWrite writes a .h5 file, which needs libhdf5 (cgo): without cgo
// it cannot run, so it is built only with cgo.

package keras_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/runtime"
)

// Write a model as a Keras 3 .keras file and read it back.
func ExampleWrite() {
	m := &runtime.Model{Name: "tiny", Input: []int{2}, Layers: []*runtime.Layer{{
		Name: "dense", Type: runtime.Dense, In: 2, Units: 1,
		Kernel: []float32{0.5, -1}, Bias: []float32{0.25}, Act: runtime.Act(runtime.Sigmoid),
	}}}
	var buf bytes.Buffer
	if err := keras.Write(&buf, m, keras.FormatKeras); err != nil {
		log.Fatal(err)
	}
	back, info, err := keras.Read(&buf, nil)
	if err != nil {
		log.Fatal(err)
	}
	y, _ := back.Predict(nil, []float32{1, 0.25})
	fmt.Println(info.Format, info.KerasVersion, back.Layers[0].Act, y)
	// Output:
	// keras 3.10.0 sigmoid [0.62245935]
}
