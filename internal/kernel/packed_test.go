package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// packedAsGemm adapts GemmPacked on the given micro-kernel to the Gemm
// signature, so that the conformance suite runs on it: B (or Bᵀ) is
// packed, the micro-kernels read A transposed (their k stride) when
// transA, and C = α·(A·B) + β·C is formed after the product (a test-only
// adapter; it allocates).
func packedAsGemm(kern *microKernel) gemmFunc {
	return func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
		if m == 0 || n == 0 {
			return
		}
		var p Packed
		p.pack(kern, k, n, b, ldb, transB)
		t := make([]float32, m*n)
		if transA && !transB {
			// A stored k×m, read transposed by the micro-kernels
			// (row stride 1, k stride lda): GemmPackedAT.
			GemmPackedAT(m, a, lda, &p, 0, n, t, n)
		} else if transA {
			for i0 := 0; i0 < m; i0 += kern.mb {
				ai := a
				if k > 0 {
					ai = a[i0:]
				}
				kern.rowBlock(min(kern.mb, m-i0), ai, 1, lda, &p, 0, n, t[i0*n:], n, nil, false)
			}
		} else {
			GemmPacked(m, a, lda, &p, t, n, nil, Act{})
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
}

// TestGemmPackedConformance runs TestGemmConformance's suite (every shape
// class, 0/1/odd sizes, padded strides, NaN in C, untouched padding,
// within gemmTol of a float64 product) on the packed GEMM with each
// micro-kernel this CPU and build run.
func TestGemmPackedConformance(t *testing.T) {
	for _, kern := range availableKernels() {
		t.Run(kern.name, func(t *testing.T) { runConformance(t, packedAsGemm(kern)) })
	}
}

// epilogueActs are the activations the epilogue tests run: the two fused
// in the micro-kernel and some applied over each block of rows.
func epilogueActs() []Act {
	return []Act{{}, {Func: ActReLU}, {Func: ActSigmoid}, {Func: ActTanh}, {Func: ActSoftmax},
		{Func: ActLeakyReLU, Alpha: 0.2}, {Func: ActReLU, Capped: true, MaxValue: 1}}
}

// TestGemmPackedEpilogue checks the fused bias and activations: with a
// bias and no activation every element is within gemmTol of the float64
// value Σ a·b + bias (bound gemmTol·(Σ|a·b| + |bias|)); with an activation
// the result is, bit for bit (±0 equal), BiasAct applied to that
// identity result, as the runtime did before. Shapes cover tile edges in
// both directions (rows 1…40 around the 6- and 8-row tiles, columns
// around 16, 32 and the 4-panel one-row tiles), k = 0 and k cut into blocks
// (300, 600), padded strides, NaN
// in C beforehand and untouched padding.
func TestGemmPackedEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	ms := []int{1, 2, 5, 6, 7, 8, 9, 13, 16, 17, 40}
	ns := []int{1, 3, 15, 16, 17, 31, 32, 33, 64, 65, 100, 127, 128, 129, 200}
	ks := []int{0, 1, 7, 32, 100, 300, 600}
	for _, kern := range availableKernels() {
		for trial := range 300 {
			m, n, k := ms[r.IntN(len(ms))], ns[r.IntN(len(ns))], ks[r.IntN(len(ks))]
			pad := []int{0, 1, 7}[r.IntN(3)]
			lda, ldc := max(k+pad, 1), n+pad
			a, b := randMat(r, m, lda, 1), randMat(r, k, n, 1)
			bias := randMat(r, 1, n, 1)
			if trial%4 == 0 {
				bias = nil
			}
			var p Packed
			p.pack(kern, k, n, b, n, false)
			what := fmt.Sprintf("%s m=%d n=%d k=%d pad=%d", kern.name, m, n, k, pad)
			checkEpilogues(t, what, epilogueActs(), m, n, k, a, lda, b, &p, bias, ldc)
		}
	}
}

// checkEpilogues checks GemmPacked(m, a, lda, p, ·, ldc, bias, act) with p
// packing B (k×n, row stride n): with no activation every element within
// gemmTol of the float64 Σ a·b + bias (bound gemmTol·(Σ|a·b| + |bias|)),
// and with each of acts, bit for bit (±0 equal), BiasAct applied to that
// result, over a C filled with NaN whose padding past n must stay so.
func checkEpilogues(t *testing.T, what string, acts []Act, m, n, k int, a []float32, lda int, b []float32, p *Packed, bias []float32, ldc int) {
	t.Helper()
	lin := make([]float32, m*ldc)
	GemmPacked(m, a, lda, p, lin, ldc, bias, Act{})
	for i := range m {
		for j := range n {
			var s, mag float64
			for l := range k {
				v := float64(a[i*lda+l]) * float64(b[l*n+j])
				s += v
				mag += math.Abs(v)
			}
			if bias != nil {
				s += float64(bias[j])
				mag += math.Abs(float64(bias[j]))
			}
			if got := float64(lin[i*ldc+j]); math.Abs(got-s) > gemmTol*mag && !(mag == 0 && got == 0) {
				t.Fatalf("%s: C[%d][%d] = %g, want %g", what, i, j, got, s)
			}
		}
	}
	for _, act := range acts {
		c := make([]float32, m*ldc)
		for i := range c {
			c[i] = float32(math.NaN())
		}
		GemmPacked(m, a, lda, p, c, ldc, bias, act)
		for i := range m {
			want := append([]float32(nil), lin[i*ldc:i*ldc+n]...)
			BiasAct(act, want, 1, n, nil)
			for j := range ldc {
				got := c[i*ldc+j]
				if j >= n {
					if !math.IsNaN(float64(got)) {
						t.Fatalf("%s %v: padding C[%d][%d] written", what, act.Func, i, j)
					}
					continue
				}
				if math.Float32bits(got) != math.Float32bits(want[j]) && !(got == 0 && want[j] == 0) {
					t.Fatalf("%s %v: C[%d][%d] = %g, BiasAct gives %g", what, act.Func, i, j, got, want[j])
				}
			}
		}
	}
}

// TestGemmPackedPartialPanels sweeps every width of a last, partial panel
// (n = 1…48 covers each remainder of the 8-, 16- and 32-wide panels) over
// 1…13 rows (every row count of the 6- and 8-row tiles, and more than one
// tile), with k in one block and in two (400, past the AVX2 kcMax), and
// k = 3000, whose 3 panels are more than multiMaxValues (the blocks of k
// a panel at a time instead of the multi-panel tile): a
// kernel writes a partial panel's valid columns in pieces, not with masked
// stores, and the values must be GemmPacked's linear result with the
// activation BiasAct applies (bit for bit, as TestGemmPackedEpilogue), the
// padding after each row untouched.
func TestGemmPackedPartialPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	const pad = 5
	for _, kern := range availableKernels() {
		for _, k := range []int{7, 400, 3000} {
			for n := 1; n <= 48; n++ {
				b, bias := randMat(r, k, n, 1), randMat(r, 1, n, 1)
				var p Packed
				p.pack(kern, k, n, b, n, false)
				for m := 1; m <= 13; m++ {
					a := randMat(r, m, k, 1)
					what := fmt.Sprintf("%s m=%d n=%d k=%d", kern.name, m, n, k)
					checkEpilogues(t, what, []Act{{}, {Func: ActReLU}, {Func: ActSigmoid}}, m, n, k, a, k, b, &p, bias, n+pad)
				}
			}
		}
	}
}

// TestGemmPackedDeterministic checks the property the thread split relies
// on: a row's result does not depend on how the rows are cut (all at
// once, one by one, blocks of 3 or 16, or starting anywhere), and the
// assembly kernels (AVX-512 and AVX2, where the CPU runs both) give the
// same bits.
func TestGemmPackedDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, sh := range [][3]int{{37, 100, 45}, {50, 784, 32}, {20, 10, 100}, {17, 130, 257}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b, bias := randMat(r, m, k, 1), randMat(r, k, n, 1), randMat(r, 1, n, 1)
		var ref []float32
		for _, kern := range availableKernels() {
			var p Packed
			p.pack(kern, k, n, b, n, false)
			whole := make([]float32, m*n)
			GemmPacked(m, a, k, &p, whole, n, bias, Act{Func: ActReLU})
			for _, blk := range []int{1, 3, 16} {
				split := make([]float32, m*n)
				for i := 0; i < m; i += blk {
					rows := min(blk, m-i)
					GemmPacked(rows, a[i*k:], k, &p, split[i*n:], n, bias, Act{Func: ActReLU})
				}
				if err := sameBits(whole, split); err != nil {
					t.Fatalf("%s %v blocks of %d: %v", kern.name, sh, blk, err)
				}
			}
			if kern == kernGo {
				continue
			}
			if ref == nil {
				ref = whole
			} else if err := sameBits(ref, whole); err != nil {
				t.Fatalf("%v: %s differs from %s: %v", sh, kern.name, availableKernels()[0].name, err)
			}
		}
	}
}

func sameBits(a, b []float32) error {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return fmt.Errorf("element %d: %g vs %g", i, a[i], b[i])
		}
	}
	return nil
}

// TestGemmPackedTrans checks Pack with trans against packing the
// transposed copy.
func TestGemmPackedTrans(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, kern := range availableKernels() {
		for _, sh := range [][2]int{{1, 1}, {5, 33}, {64, 10}, {128, 784}} {
			k, n := sh[0], sh[1]
			bt := randMat(r, n, k+2, 1) // n×k, row stride k+2
			b := make([]float32, k*n)
			for l := range k {
				for j := range n {
					b[l*n+j] = bt[j*(k+2)+l]
				}
			}
			var p, q Packed
			p.pack(kern, k, n, bt, k+2, true)
			q.pack(kern, k, n, b, n, false)
			if err := sameBits(p.data, q.data); err != nil {
				t.Fatalf("%s %v: %v", kern.name, sh, err)
			}
		}
	}
}

// TestPackedReserve checks that Pack and Resize store into the memory
// Reserve gives them when it is large enough (k·PackedWidth(n) values),
// with the values Pack stores without it, and allocate otherwise.
func TestPackedReserve(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, sh := range [][2]int{{1, 1}, {5, 33}, {64, 10}, {128, 784}} {
		k, n := sh[0], sh[1]
		b := randMat(r, k, n, 1)
		var p, q Packed
		buf := make([]float32, k*PackedWidth(n)+3)
		p.Reserve(buf)
		if got := testing.AllocsPerRun(1, func() { p.Pack(k, n, b, n, false) }); got != 0 {
			t.Errorf("%v: Pack into reserved memory: %v allocations", sh, got)
		}
		if &p.data[0] != &buf[0] {
			t.Errorf("%v: Pack did not store into the reserved memory", sh)
		}
		q.Pack(k, n, b, n, false)
		if err := sameBits(p.data, q.data); err != nil {
			t.Errorf("%v: %v", sh, err)
		}
		p.Reserve(make([]float32, 1))
		p.Resize(k, n)
		if len(p.data) != len(q.data) {
			t.Errorf("%v: Resize after a short Reserve: %d values, want %d", sh, len(p.data), len(q.data))
		}
	}
}

// TestGemmPackedNoAllocs checks that GemmPacked and re-packing into the
// same Packed allocate nothing.
func TestGemmPackedNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const m, n, k = 37, 130, 64
	a, b, c, bias := randMat(r, m, k, 1), randMat(r, k, n, 1), make([]float32, m*n), randMat(r, 1, n, 1)
	var p Packed
	p.Pack(k, n, b, n, false)
	for _, act := range epilogueActs() {
		if got := testing.AllocsPerRun(10, func() { GemmPacked(m, a, k, &p, c, n, bias, act) }); got != 0 {
			t.Errorf("GemmPacked %v: %v allocations", act.Func, got)
		}
		if got := testing.AllocsPerRun(10, func() { GemmPacked(1, a, k, &p, c, n, bias, act) }); got != 0 {
			t.Errorf("GemmPacked one row %v: %v allocations", act.Func, got)
		}
	}
	if got := testing.AllocsPerRun(10, func() { p.Pack(k, n, b, n, false) }); got != 0 {
		t.Errorf("re-Pack: %v allocations", got)
	}
	t.Logf("packed GEMM: %s", PackedVariant())
}

// TestTileRowsBits checks that which tile computes a row (the 14-, 12- or
// 8-row one, chosen by tileFor from the rows left in a block) changes no
// bit: every row count from 1 to 64 and some block sizes, with a k cut
// into blocks (Accumulate), a masked last panel, bias and ReLU, against
// the same rows computed one at a time; and GemmPackedAT and GemmAT
// (A transposed) against GemmPackedAT one row at a time.
func TestTileRowsBits(t *testing.T) {
	if !PackedAsm() {
		t.Skip("no assembly kernels in this build")
	}
	r := rand.New(rand.NewPCG(14, 12))
	const k, n = 300, 45
	counts := []int{96, 98, 110, 256}
	for m := 1; m <= 64; m++ {
		counts = append(counts, m)
	}
	for _, m := range counts {
		a, b, bias := randMat(r, m, k, 1), randMat(r, k, n, 1), randMat(r, 1, n, 1)
		var p Packed
		p.Pack(k, n, b, n, false)
		whole, rows := make([]float32, m*n), make([]float32, m*n)
		GemmPacked(m, a, k, &p, whole, n, bias, Act{Func: ActReLU})
		for i := range m {
			// One row at a time: the one-row kernel.
			GemmPacked(1, a[i*k:], k, &p, rows[i*n:], n, bias, Act{Func: ActReLU})
		}
		if err := sameBits(whole, rows); err != nil {
			t.Fatalf("GemmPacked m=%d: %v", m, err)
		}
		// C = Aᵀ·B with A k×m: B is k×n packed.
		at := randMat(r, k, m, 1)
		var pb Packed
		pb.Pack(k, n, b, n, false)
		wantT, gotT, atT := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
		for i := range m {
			GemmPackedAT(1, at[i:], m, &pb, 0, n, wantT[i*n:], n)
		}
		GemmPackedAT(m, at, m, &pb, 0, n, gotT, n)
		if err := sameBits(wantT, gotT); err != nil {
			t.Fatalf("GemmPackedAT m=%d: %v", m, err)
		}
		if StridedAsm() {
			GemmAT(m, k, at, m, b, n, 0, n, atT, n)
			if err := sameBits(wantT, atT); err != nil {
				t.Fatalf("GemmAT m=%d: %v", m, err)
			}
		}
	}
}

// TestCopyPanel checks the full-panel copies of packPanels against a
// plain loop, for both panel widths (the 32-wide one only runs with the
// AVX-512 kernel) and row strides wider than the panel.
func TestCopyPanel(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for _, w := range []int{16, 32} {
		for _, k := range []int{1, 3, 17} {
			ldb := w + 5
			b := randMat(r, k, ldb, 1)
			got := make([]float32, w*k+1)
			want := make([]float32, w*k+1)
			for l := range k {
				copy(want[l*w:(l+1)*w], b[l*ldb:])
			}
			if w == 16 {
				copyPanel16(got, b, ldb, k)
			} else {
				copyPanel32(got, b, ldb, k)
			}
			if err := sameBits(got, want); err != nil {
				t.Errorf("width %d, %d rows: %v", w, k, err)
			}
		}
	}
}
