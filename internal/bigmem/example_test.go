package bigmem_test

import (
	"fmt"

	"github.com/aekit/aekit/internal/bigmem"
)

// A data set of 60,000 rows of 784 values, in huge pages where Linux
// offers them: a zeroed slice like make's.
func ExampleFloat32s() {
	x := bigmem.Float32s(60000 * 784)
	fmt.Println(len(x), x[0], x[len(x)-1])
	// Output: 47040000 0 0
}

// A training step's buffers carved from one arena: each on a cache line,
// in huge pages where Linux offers them; what does not fit, and every
// slice of a nil arena (a working set under Threshold), comes from make.
func ExampleArena() {
	a := bigmem.NewArena(2 << 20) // 8 MiB
	x := a.Float32s(256 * 784)    // a batch
	g := a.Float32s(256 * 784)    // its gradient
	fmt.Println(len(x), len(g), a.Left())
	small := bigmem.NewArena(1000)
	fmt.Println(small == nil, len(small.Float32s(10)))
	// Output:
	// 200704 200704 1695744
	// true 10
}
