package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmTol is the conformance tolerance: every element of C must be within
// gemmTol·(|α|·Σₗ|a_il·b_lj| + |β·c_ij|) of the float64 product, a bound
// on float32 summation error that does not depend on cancellation.
const gemmTol = 1e-5

// gemmImpls returns every GEMM implementation to run the suite against:
// the variants compiled into this build and the default Gemm.
func gemmImpls(t *testing.T) []gemmVariant {
	return append(gemmVariants(), gemmVariant{"Gemm", Gemm})
}

// TestGemmConformance is the suite every GEMM variant must pass, as gonum's
// testblas: random shapes including 0, 1, odd and large sizes, all four
// transpose combinations, several α and β, leading dimensions wider than
// the matrices, NaN in C when β = 0, and padding left untouched. Every
// element must be within gemmTol of a float64 product (see checkOneGemm).
// Products with one row or one column (m = 1 or n = 1, which the
// openblas-gemv variant hands to sgemv with strided vectors) are run
// exhaustively over vecDims × vecKs, k = 0 included.
func TestGemmConformance(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		t.Run(impl.name, func(t *testing.T) { runConformance(t, impl.fn) })
	}
}

// runConformance runs TestGemmConformance's cases on fn.
func runConformance(t *testing.T, fn gemmFunc) {
	sizes := []int{1, 2, 3, 5, 7, 16, 17, 31, 33, 64, 65, 100}
	large := [][3]int{{256, 32, 784}, {256, 784, 32}, {784, 32, 256}, {300, 130, 257}, {1, 784, 32}, {784, 1, 3}}
	// The other dimension and k of the one-row and one-column products.
	vecDims := []int{1, 2, 7, 33, 130, 784}
	vecKs := []int{0, 1, 5, 64, 300}
	vecParams := []struct {
		alpha, beta float32
		pad         int
	}{{1, 0, 0}, {1, 0, 3}, {-0.5, 1.5, 3}, {2.25, -0.75, 0}, {0, 0, 3}, {0, 1, 2}}
	r := rand.New(rand.NewPCG(7, 11))
	cases := 0
	check := func(m, n, k int, ta, tb bool, alpha, beta float32, pad int) {
		cases++
		if err := checkOneGemm(r, fn, m, n, k, ta, tb, alpha, beta, pad); err != nil {
			t.Fatalf("m=%d n=%d k=%d transA=%v transB=%v alpha=%g beta=%g pad=%d: %v", m, n, k, ta, tb, alpha, beta, pad, err)
		}
	}
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, s := range large {
				check(s[0], s[1], s[2], ta, tb, 1, 0, 0)
				check(s[0], s[1], s[2], ta, tb, -0.5, 1.5, 3)
			}
			for range 60 {
				m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]
				alpha := []float32{1, -1, 0.5, 2.25, 0}[r.IntN(5)]
				beta := []float32{0, 1, -0.75}[r.IntN(3)]
				check(m, n, k, ta, tb, alpha, beta, []int{0, 1, 5}[r.IntN(3)])
			}
			// One row or one column of C, with tight and padded
			// leading dimensions (a stride of lda, ldb or ldc
			// for the vectors of a gemv), β = 0 over NaN and
			// β ≠ 0, α = 0.
			for _, d := range vecDims {
				for _, k := range vecKs {
					for _, p := range vecParams {
						check(1, d, k, ta, tb, p.alpha, p.beta, p.pad)
						check(d, 1, k, ta, tb, p.alpha, p.beta, p.pad)
					}
				}
			}
			// Degenerate: k = 0 scales C by β; m or n = 0 does nothing.
			check(4, 3, 0, ta, tb, 1, 0.5, 2)
			check(0, 3, 4, ta, tb, 1, 0.5, 0)
			check(3, 0, 4, ta, tb, 1, 0.5, 0)
		}
	}
	t.Logf("%d cases within %g", cases, gemmTol)
}

// checkOneGemm runs fn on random operands and compares with float64.
func checkOneGemm(r *rand.Rand, fn gemmFunc, m, n, k int, ta, tb bool, alpha, beta float32, pad int) error {
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	lda, ldb, ldc := max(1, ac+pad), max(1, bc+pad), max(1, n+pad)
	rnd := func(rows, ld int) []float32 {
		x := make([]float32, rows*ld)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	a, b, c := rnd(ar, lda), rnd(br, ldb), rnd(m, ldc)
	if beta == 0 {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	c0 := append([]float32(nil), c...)
	at := func(i, l int) float64 {
		if ta {
			return float64(a[l*lda+i])
		}
		return float64(a[i*lda+l])
	}
	bt := func(l, j int) float64 {
		if tb {
			return float64(b[j*ldb+l])
		}
		return float64(b[l*ldb+j])
	}
	fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= n {
				if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
					return fmt.Errorf("padding C[%d][%d] changed", i, j)
				}
				continue
			}
			var s, mag float64
			for l := 0; l < k; l++ {
				p := at(i, l) * bt(l, j)
				s += p
				mag += math.Abs(p)
			}
			want := float64(alpha) * s
			mag *= math.Abs(float64(alpha))
			if beta != 0 {
				want += float64(beta) * float64(c0[i*ldc+j])
				mag += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
			}
			if d := math.Abs(float64(got) - want); !(d <= gemmTol*mag) && !(mag == 0 && got == 0) {
				return fmt.Errorf("C[%d][%d] = %g, want %g (error %g, bound %g)", i, j, got, want, d, gemmTol*mag)
			}
		}
	}
	return nil
}

func TestVariant(t *testing.T) {
	t.Logf("Gemm uses %s", Variant())
	if Variant() == "" {
		t.Fatal("empty Variant")
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	for _, v := range gemmVariants() {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic for a short C", v.name)
				}
			}()
			v.fn(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}()
	}
}
