package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmRow checks GemmRow against a float64 product (within gemmTol
// of Σ|x·b|) over widths around its 64- and 32-column blocks, and that
// any split of the columns gives the whole row's bits, C's padding
// untouched.
func TestGemmRow(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 11))
	for _, k := range []int{0, 1, 7, 100, 784} {
		for _, n := range []int{1, 5, 8, 31, 32, 33, 63, 64, 65, 100, 128, 129, 333, 784} {
			ldb := n + r.IntN(3)
			x := randMat(r, 1, max(k, 1), 1)
			b := randMat(r, max(k, 1), ldb, 1)
			if k > 0 {
				b = b[:(k-1)*ldb+n] // exactly as long as the shape needs
			}
			whole := make([]float32, n+1)
			whole[n] = -7
			GemmRow(k, x, b, ldb, 0, n, whole)
			if whole[n] != -7 {
				t.Fatalf("k=%d n=%d: C past n written", k, n)
			}
			for j := range n {
				var s, mag float64
				for l := range k {
					v := float64(x[l]) * float64(b[l*ldb+j])
					s += v
					mag += math.Abs(v)
				}
				if got := float64(whole[j]); math.Abs(got-s) > gemmTol*mag {
					t.Fatalf("k=%d n=%d: C[%d] = %g, want %g", k, n, j, got, s)
				}
			}
			for _, cut := range []int{1, 3, 64, 100, n / 2} {
				if cut <= 0 || cut >= n {
					continue
				}
				part := make([]float32, n)
				GemmRow(k, x, b, ldb, 0, cut, part)
				GemmRow(k, x, b, ldb, cut, n, part[cut:])
				if err := sameBits(whole[:n], part); err != nil {
					t.Fatalf("k=%d n=%d cut at %d: %v", k, n, cut, err)
				}
			}
		}
	}
}

// TestGemmRowNoAllocs checks that GemmRow does not allocate.
func TestGemmRowNoAllocs(t *testing.T) {
	const k, n = 784, 128
	x, b, c := make([]float32, k), make([]float32, k*n), make([]float32, n)
	if got := testing.AllocsPerRun(5, func() { GemmRow(k, x, b, n, 0, n, c) }); got != 0 {
		t.Fatalf("%v allocations per call", got)
	}
}
