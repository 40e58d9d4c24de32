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
