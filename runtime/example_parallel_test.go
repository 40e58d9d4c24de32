package runtime_test

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// A Parallel spreads large batches over several goroutines; small ones,
// like this, run on the caller's. Its outputs are Predict's.
func ExampleNewParallel() {
	m := &runtime.Model{Input: []int{2}, Layers: []*runtime.Layer{{
		Name: "dense", Type: runtime.Dense, In: 2, Units: 1,
		Kernel: []float32{1, -1}, Bias: []float32{0.5},
		Act: runtime.Act(runtime.Sigmoid),
	}}}
	p := runtime.NewParallel(m, 2)
	defer p.Close()
	x := []float32{0, 0, 1, 0, 0, 1} // three samples of two values
	y, err := p.Predict(nil, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f\n", y)
	// Output: [0.6225 0.8176 0.3775]
}
