package tolerance_test

import (
	"fmt"
	"math"

	"github.com/aekit/aekit/internal/tolerance"
)

func ExampleCompare() {
	got := []float32{1, 2.00001, float32(math.NaN()), 3}
	want := []float32{1, 2, float32(math.NaN()), float32(math.Inf(1))}
	r := tolerance.Compare(got, want, 1e-6, 1e-5)
	fmt.Printf("ok=%v bad=%d worst=%d max abs %.3g at %d\n", r.OK(), r.Bad, r.Worst, r.MaxAbs, r.MaxAbsAt)
	fmt.Println(r.Err(got, want))
	// Output:
	// ok=false bad=1 worst=3 max abs 1e-05 at 1
	// 1 of 4 values differ; worst at 3: got 3, want +Inf (|Δ|=+Inf)
}
