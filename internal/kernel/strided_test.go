package kernel

import (
	"math/rand/v2"
	"testing"
)

// stridedAsGemm adapts GemmAT to the Gemm signature for the conformance
// suite: A is copied transposed (k×m) unless transA, B (k×n) when transB,
// the product is cut into column ranges of 32, 64 and the rest (so that
// j0 > 0 is exercised), and C = α·(Aᵀ·B) + β·C is formed after it (a
// test-only adapter; it allocates).
func stridedAsGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	at, ldat := a, lda
	if !transA {
		at, ldat = make([]float32, k*m), m
		for i := range m {
			for l := range k {
				at[l*m+i] = a[i*lda+l]
			}
		}
	}
	bt, ldbt := b, ldb
	if transB {
		bt, ldbt = make([]float32, k*n), n
		for j := range n {
			for l := range k {
				bt[l*n+j] = b[j*ldb+l]
			}
		}
	}
	// Exactly as long as the shape needs: the kernel's masked loads must
	// not read past the last row.
	if k > 0 {
		at = at[:(k-1)*ldat+m]
		bt = bt[:(k-1)*ldbt+n]
	}
	t := make([]float32, m*n)
	for j0 := 0; j0 < n; {
		j1 := min(n, j0+32*(1+j0%3))
		GemmAT(m, k, at, ldat, bt, ldbt, j0, j1, t[j0:], n)
		j0 = j1
	}
	for i := range m {
		for j := range n {
			v := alpha * t[i*n+j]
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// TestGemmATConformance runs the GEMM conformance suite (every shape
// class, within gemmTol of a float64 product) on GemmAT.
func TestGemmATConformance(t *testing.T) { runConformance(t, stridedAsGemm) }

// TestGemmATMatchesPacked checks that GemmAT gives GemmPackedAT's bits on
// the training shapes it replaces OpenBLAS on (deep's 128×784 weight
// gradient, and others; the 784-row ones with A's lines prefetched), with
// padded strides and C's padding untouched.
func TestGemmATMatchesPacked(t *testing.T) {
	if !StridedAsm() || !PackedAsm() {
		t.Skip("no assembly kernels in this build: GemmAT is a plain Go loop (covered by the conformance suite)")
	}
	r := rand.New(rand.NewPCG(3, 9))
	for _, s := range [][3]int{{128, 784, 256}, {64, 784, 256}, {128, 784, 100}, {33, 70, 513}, {8, 32, 1}, {130, 17, 7}, {784, 128, 256}, {784, 32, 256}} {
		m, n, k := s[0], s[1], s[2]
		lda, ldb, ldc := m+3, n+5, n+7
		a := make([]float32, (k-1)*lda+m)
		b := make([]float32, (k-1)*ldb+n)
		for i := range a {
			a[i] = r.Float32()*2 - 1
		}
		for i := range b {
			b[i] = r.Float32()*2 - 1
		}
		var p Packed
		p.Pack(k, n, b, ldb, false)
		want := make([]float32, m*ldc)
		GemmPackedAT(m, a, lda, &p, 0, n, want, ldc)
		got := make([]float32, m*ldc)
		for i := range got {
			got[i] = -7
		}
		// Two column ranges, as a training step's threads take them.
		mid := n / 64 * 32
		GemmAT(m, k, a, lda, b, ldb, 0, mid, got, ldc)
		GemmAT(m, k, a, lda, b, ldb, mid, n, got[mid:], ldc)
		for i := range m {
			if !SameBits(got[i*ldc:i*ldc+n], want[i*ldc:i*ldc+n]) {
				t.Fatalf("%v: row %d differs from GemmPackedAT's", s, i)
			}
			for j := n; j < ldc && i*ldc+j < len(got); j++ {
				if got[i*ldc+j] != -7 {
					t.Fatalf("%v: padding C[%d][%d] written", s, i, j)
				}
			}
		}
	}
}

// TestGemmATNoAllocs checks that GemmAT does not allocate.
func TestGemmATNoAllocs(t *testing.T) {
	const m, n, k = 128, 784, 256
	a, b, c := make([]float32, k*m), make([]float32, k*n), make([]float32, m*n)
	if got := testing.AllocsPerRun(5, func() { GemmAT(m, k, a, m, b, n, 0, n, c, n) }); got != 0 {
		t.Fatalf("%v allocations per call", got)
	}
}

// BenchmarkWeightGradient times deep's widest weight gradient xᵀ·g (x
// 256×128, g 256×784: 128×784 of C) through GemmAT and through Gemm, in
// blocks of 128 columns as a training step cuts it.
func BenchmarkWeightGradient(b *testing.B) {
	const m, n, k = 128, 784, 256
	r := rand.New(rand.NewPCG(1, 2))
	x, g, c := make([]float32, k*m), make([]float32, k*n), make([]float32, m*n)
	for i := range x {
		x[i] = r.Float32()
	}
	for i := range g {
		g[i] = r.Float32() - 0.5
	}
	run := func(b *testing.B, f func(j, e int)) {
		for b.Loop() {
			for j := 0; j < n; j += 128 {
				f(j, min(j+128, n))
			}
		}
		b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("GemmAT", func(b *testing.B) {
		run(b, func(j, e int) { GemmAT(m, k, x, m, g, n, j, e, c[j:], n) })
	})
	b.Run("Gemm", func(b *testing.B) {
		run(b, func(j, e int) { Gemm(true, false, m, e-j, k, 1, x, m, g[j:], n, 0, c[j:], n) })
	})
}
