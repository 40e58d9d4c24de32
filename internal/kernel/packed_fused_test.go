package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/internal/kernel/tile"
	"github.com/aekit/aekit/internal/kernel/vmath"
)

// fusedSigmoid reports whether GemmPacked applies Sigmoid in kern's
// registers in this process.

// TestGemmPackedSigmoidFused checks the sigmoid epilogue of the AVX-512
// micro-kernels where it runs: bit for bit (±0 equal) BiasAct applied to
// the identity product, on pre-activations spread over ±120 so that
// blocks hold values out of the vector sigmoid's range (|x| > 87, NaN,
// ±Inf) next to ones in it, which the kernel must report (the block is
// then computed again and finished by the scalar loop), and on blocks
// entirely in range, which it must not report.
func TestGemmPackedSigmoidFused(t *testing.T) {
	if !kernAVX512.fusesSigmoid() || !tile.Has512 {
		t.Skip("no fused sigmoid here: needs AVX-512 F/DQ/VL and package vmath's AVX-512 kernels")
	}
	r := rand.New(rand.NewPCG(7, 11))
	kern := kernAVX512
	for trial := range 200 {
		m := []int{2, 5, 8, 12, 13, 24, 40, 97, 200}[r.IntN(9)]
		n := []int{17, 32, 33, 64, 100, 129, 784}[r.IntN(7)]
		k := []int{1, 7, 32, 100, 300}[r.IntN(5)]
		scale := []float64{0.5, 30}[trial%2] // 30: sums beyond ±87
		a, b := randMat(r, m, k, scale/math.Sqrt(float64(k))), randMat(r, k, n, 1)
		bias := randMat(r, 1, n, 1)
		special := trial%5 == 4
		if special {
			for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -88, 87.5, -1e30} {
				a[r.IntN(len(a))] = v
			}
		}
		var p Packed
		p.pack(kern, k, n, b, n, false)
		lin := make([]float32, m*n)
		GemmPacked(m, a, k, &p, lin, n, bias, Act{})
		want := append([]float32(nil), lin...)
		BiasAct(Act{Func: ActSigmoid}, want, m, n, nil)
		got := make([]float32, m*n)
		GemmPacked(m, a, k, &p, got, n, bias, Act{Func: ActSigmoid})
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] == 0 && want[i] == 0) {
				t.Fatalf("m=%d n=%d k=%d scale=%g: C[%d][%d] = %g (%#x), BiasAct gives %g (%#x)",
					m, n, k, scale, i/n, i%n, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
		// The report: a block is final exactly when all its values were
		// in range.
		for i0 := 0; i0 < m; i0 += kern.mb {
			rows := min(kern.mb, m-i0)
			inRange := true
			for _, v := range lin[i0*n : (i0+rows)*n] {
				if !(math.Abs(float64(v)) <= 87) {
					inRange = false
				}
			}
			c := make([]float32, rows*n)
			if ok := kern.block(rows, a[i0*k:], k, 1, &p, 0, n, c, n, bias, tile.Sigmoid); ok != inRange {
				t.Fatalf("m=%d n=%d k=%d rows %d…: block reported final=%v, values in range=%v", m, n, k, i0, ok, inRange)
			}
		}
	}
}

// BenchmarkSigmoidEpilogue times the sigmoid output layers of the three
// models at batch 256: GemmPacked's sigmoid (AVX-512: in the tile's
// registers; AVX2: vmath's sigmoid over each contiguous block of rows
// after the multi-panel tiles, or the tile's epilogue) against the
// product with the bias followed by vmath's sigmoid row by row.
func BenchmarkSigmoidEpilogue(b *testing.B) {
	kern := packedKernel()
	for _, sh := range [][2]int{{100, 100}, {32, 784}, {128, 784}} {
		in, out := sh[0], sh[1]
		s := gemmShape{"NN", false, false, 256, out, in}
		a, lda, w, ldb, c, ldc := gemmOperands(s)
		bias := make([]float32, out)
		var p Packed
		p.Pack(in, out, w, ldb, false)
		act := Act{Func: ActSigmoid}
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		name := fmt.Sprintf("%dx%d", in, out)
		b.Run(name+"/fused", func(b *testing.B) {
			for b.Loop() {
				GemmPacked(s.m, a, lda, &p, c, ldc, bias, act)
			}
			reportGFLOPS(b, flops)
		})
		b.Run(name+"/block-then-sigmoid", func(b *testing.B) {
			for b.Loop() {
				for i0 := 0; i0 < s.m; i0 += kern.mb {
					rows := min(kern.mb, s.m-i0)
					p.kern.block(rows, a[i0*lda:], lda, 1, &p, 0, out, c[i0*ldc:], ldc, bias, 0)
					finish(act, c[i0*ldc:], rows, out, ldc)
				}
			}
			reportGFLOPS(b, flops)
		})
	}
}

// TestPackedHolds checks Holds against the matrix packed and against
// copies with one value changed (every position of a small matrix, +0 to
// −0 and NaN payloads included), for each micro-kernel's layout.
func TestPackedHolds(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	for _, kern := range availableKernels() {
		for _, sh := range [][3]int{{1, 1, 1}, {3, 17, 20}, {7, 33, 33}, {5, 64, 70}, {10, 100, 100}, {0, 5, 5}} {
			k, n, ldb := sh[0], sh[1], sh[2]
			b := randMat(r, k, ldb, 1)
			var p Packed
			p.pack(kern, k, n, b, ldb, false)
			if !p.Holds(k, n, b, ldb) {
				t.Fatalf("%s %v: Holds false on the packed matrix", kern.name, sh)
			}
			if k > 0 && (p.Holds(k-1, n, b, ldb) || p.Holds(k, n-1, b, ldb)) {
				t.Fatalf("%s %v: Holds true for another shape", kern.name, sh)
			}
			for l := range k {
				for j := range ldb {
					c := append([]float32(nil), b...)
					switch (l + j) % 3 {
					case 0:
						c[l*ldb+j] = -c[l*ldb+j]
					case 1:
						c[l*ldb+j] = math.Float32frombits(math.Float32bits(c[l*ldb+j]) ^ 1)
					case 2:
						c[l*ldb+j] = float32(math.NaN())
					}
					if got, want := p.Holds(k, n, c, ldb), j >= n; got != want {
						t.Fatalf("%s %v: B[%d][%d] changed: Holds = %v, want %v", kern.name, sh, l, j, got, want)
					}
				}
			}
			z := make([]float32, len(b))
			nz := append([]float32(nil), z...)
			var q Packed
			q.pack(kern, k, n, z, ldb, false)
			if k > 0 {
				nz[0] = float32(math.Copysign(0, -1))
				if q.Holds(k, n, nz, ldb) {
					t.Fatalf("%s %v: −0 for +0 not seen", kern.name, sh)
				}
			}
		}
	}
}

// sigmoidRowAVX2 is sigmoidRow with package vmath at its AVX2 level: the
// reference the AVX2 epilogue must match bit for bit.
func sigmoidRowAVX2(row []float32) {
	for i := 0; i < len(row); {
		i += vmath.SigmoidBiasAVX2(row[i:], nil)
		end := min(i+8, len(row))
		sigmoidScalar(row[i:end], nil)
		i = end
	}
}

// TestGemmPackedSigmoidAVX2 checks the AVX2 micro-kernel's sigmoid
// (which GemmPacked uses where package vmath runs at its AVX2 level: the
// tile's epilogue, or vmath's sigmoid over a contiguous block after the
// multi-panel tiles where B fits them, as here with k·n ≤ 2¹⁷) on any CPU
// with AVX2: a block it reports final, the rows' tails
// (n%8 values) included, is bit for bit (±0 equal) the identity product
// with vmath's AVX2 sigmoid applied as sigmoidRow does at that level; it
// reports a block not final exactly when a value it computes is out of
// range (|x| > 87 or NaN).
func TestGemmPackedSigmoidAVX2(t *testing.T) {
	if !tile.Has256 {
		t.Skip("no AVX2+FMA here")
	}
	r := rand.New(rand.NewPCG(21, 2))
	kern := kernAVX2
	for trial := range 200 {
		m := []int{1, 2, 5, 6, 7, 13, 48, 50, 100}[r.IntN(9)]
		n := []int{1, 7, 8, 9, 15, 16, 17, 33, 100, 784}[r.IntN(10)]
		k := []int{1, 7, 32, 100, 500}[r.IntN(5)]
		scale := []float64{0.5, 30}[trial%2]
		a, b := randMat(r, m, k, scale/math.Sqrt(float64(k))), randMat(r, k, n, 1)
		bias := randMat(r, 1, n, 1)
		if trial%5 == 4 {
			for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), -88, 87.5} {
				a[r.IntN(len(a))] = v
			}
		}
		var p Packed
		p.pack(kern, k, n, b, n, false)
		lin := make([]float32, m*n)
		GemmPacked(m, a, k, &p, lin, n, bias, Act{})
		want := append([]float32(nil), lin...)
		for i := range m {
			sigmoidRowAVX2(want[i*n : i*n+n])
		}
		for i0 := 0; i0 < m; i0 += kern.mb {
			rows := min(kern.mb, m-i0)
			inRange := true
			for i := i0; i < i0+rows; i++ {
				for _, v := range lin[i*n : i*n+n] {
					if !(math.Abs(float64(v)) <= 87) {
						inRange = false
					}
				}
			}
			got := make([]float32, rows*n)
			ok := kern.block(rows, a[i0*k:], k, 1, &p, 0, n, got, n, bias, tile.Sigmoid)
			if ok != inRange {
				t.Fatalf("m=%d n=%d k=%d rows %d…: block reported final=%v, values in range=%v", m, n, k, i0, ok, inRange)
			}
			if !ok {
				continue
			}
			for i, g := range got {
				w := want[i0*n+i]
				if math.Float32bits(g) != math.Float32bits(w) && !(g == 0 && w == 0) {
					t.Fatalf("m=%d n=%d k=%d: C[%d][%d] = %g, vmath's AVX2 sigmoid gives %g", m, n, k, i0+i/n, i%n, g, w)
				}
			}
		}
	}
}

// TestPackedRepack checks that re-packing another matrix of the same
// shape in 1–4 parts, concurrently, gives Pack's layout bit for bit, and
// does not allocate.
func TestPackedRepack(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, kern := range availableKernels() {
		for _, sh := range [][3]int{{1, 1, 1}, {3, 17, 20}, {7, 33, 33}, {784, 128, 128}, {64, 100, 101}, {0, 5, 5}} {
			k, n, ldb := sh[0], sh[1], sh[2]
			a, b := randMat(r, k, ldb, 1), randMat(r, k, ldb, 1)
			var want Packed
			want.pack(kern, k, n, b, ldb, false)
			for parts := 1; parts <= 4; parts++ {
				var p Packed
				p.pack(kern, k, n, a, ldb, false)
				done := make(chan bool)
				for part := range parts {
					go func() { p.Repack(b, ldb, part, parts); done <- true }()
				}
				for range parts {
					<-done
				}
				if err := sameBits(p.data, want.data); err != nil {
					t.Fatalf("%s %v in %d parts: %v", kern.name, sh, parts, err)
				}
			}
		}
	}
	var p Packed
	b := randMat(r, 100, 100, 1)
	p.Pack(100, 100, b, 100, false)
	if got := testing.AllocsPerRun(10, func() { p.Repack(b, 100, 0, 2) }); got != 0 {
		t.Errorf("Repack: %v allocations", got)
	}
}

// TestPackedTransRowsAT checks the training's packings and product: a
// transposed Pack re-packed in 1–4 concurrent parts, and PackRows over
// 1–4 concurrent runs of rows, give Pack's layout bit for bit;
// GemmPackedAT over runs of panels gives the whole product bit for bit;
// none of them allocates.
func TestPackedTransRowsAT(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	for _, kern := range availableKernels() {
		for _, sh := range [][3]int{{1, 1, 1}, {3, 17, 20}, {7, 33, 33}, {128, 784, 784}, {256, 64, 70}, {65, 100, 101}, {0, 5, 5}} {
			k, n, ld := sh[0], sh[1], sh[2]
			// Transposed: B = Sᵀ for S n×k with row stride ld ≥ k.
			ldt := max(1, k+ld-n)
			s1, s2 := randMat(r, n, ldt, 1), randMat(r, n, ldt, 1)
			var want Packed
			want.pack(kern, k, n, s2, ldt, true)
			b, b0 := randMat(r, k, ld, 1), randMat(r, k, ld, 1)
			var wantRows Packed
			wantRows.pack(kern, k, n, b, ld, false)
			for parts := 1; parts <= 4; parts++ {
				var p, q Packed
				p.pack(kern, k, n, s1, ldt, true)
				q.pack(kern, k, n, b0, ld, false) // another matrix's values: all overwritten
				done := make(chan bool)
				for part := range parts {
					go func() {
						p.Repack(s2, ldt, part, parts)
						q.PackRows(b, ld, part*k/parts, (part+1)*k/parts)
						done <- true
					}()
				}
				for range parts {
					<-done
				}
				if err := sameBits(p.data, want.data); err != nil {
					t.Fatalf("%s Repack trans %v in %d parts: %v", kern.name, sh, parts, err)
				}
				if err := sameBits(q.data, wantRows.data); err != nil {
					t.Fatalf("%s PackRows %v in %d parts: %v", kern.name, sh, parts, err)
				}
			}
			// C = Aᵀ·B, A k×m (m = 37 with row stride 40), whole and
			// by runs of panels.
			const m, lda = 37, 40
			a := randMat(r, k, lda, 1)
			whole, cut := make([]float32, m*n), make([]float32, m*n)
			GemmPackedAT(m, a, lda, &wantRows, 0, n, whole, n)
			nr := wantRows.Panel()
			for j := 0; j < n; j += 2 * nr {
				GemmPackedAT(m, a, lda, &wantRows, j, min(j+2*nr, n), cut[j:], n)
			}
			if err := sameBits(cut, whole); err != nil {
				t.Fatalf("%s GemmPackedAT %v by panels: %v", kern.name, sh, err)
			}
			for i := range m {
				for j := range n {
					var s float64
					for l := range k {
						s += float64(a[l*lda+i]) * float64(b[l*ld+j])
					}
					if d := math.Abs(float64(whole[i*n+j]) - s); d > 1e-5*(1+math.Abs(s))*float64(k+1) {
						t.Fatalf("%s GemmPackedAT %v [%d,%d] = %v, float64 %v", kern.name, sh, i, j, whole[i*n+j], s)
					}
				}
			}
		}
	}
	var p, q Packed
	s := randMat(r, 100, 120, 1)
	p.Pack(120, 100, s, 120, true)
	q.Pack(100, 120, s, 120, false)
	c := make([]float32, 120*120)
	if got := testing.AllocsPerRun(10, func() {
		p.Repack(s, 120, 0, 2)
		q.PackRows(s, 120, 10, 60)
		GemmPackedAT(120, s, 120, &q, 0, 120, c, 120)
	}); got != 0 {
		t.Errorf("Repack trans, PackRows, GemmPackedAT: %v allocations", got)
	}
}

// BenchmarkHolds times the check runtime.Predict makes on every packed
// batch, on the deep model's 784×128 and 128×784 kernels: Packed.Holds
// against the packed panels, and SameBits against a plain copy (what the
// runtime did before, keeping that copy).
func BenchmarkHolds(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, sh := range [][2]int{{784, 128}, {128, 784}} {
		k, n := sh[0], sh[1]
		w := randMat(r, k, n, 1)
		cp := append([]float32(nil), w...)
		var p Packed
		p.Pack(k, n, w, n, false)
		b.Run(fmt.Sprintf("%dx%d/holds", k, n), func(b *testing.B) {
			for b.Loop() {
				if !p.Holds(k, n, w, n) {
					b.Fatal("changed")
				}
			}
		})
		b.Run(fmt.Sprintf("%dx%d/samebits-copy", k, n), func(b *testing.B) {
			for b.Loop() {
				if !SameBits(cp, w) {
					b.Fatal("changed")
				}
			}
		})
	}
}

// TestTranspose checks Transpose on shapes around the 8×8 blocks, with
// padded strides, against the definition, and that it does not allocate.
func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 19))
	for _, sh := range [][2]int{{1, 1}, {8, 8}, {7, 9}, {9, 7}, {16, 24}, {128, 784}, {784, 128}, {17, 3}, {0, 4}} {
		rows, cols := sh[0], sh[1]
		lds, ldd := cols+3, rows+5
		src := randMat(r, rows, lds, 1)
		dst := randMat(r, cols, ldd, 1)
		keep := append([]float32(nil), dst...)
		Transpose(dst, ldd, src, lds, rows, cols)
		for c := range cols {
			for i := range ldd {
				want := keep[c*ldd+i]
				if i < rows {
					want = src[i*lds+c]
				}
				if dst[c*ldd+i] != want {
					t.Fatalf("%v: dst[%d][%d] = %v, want %v", sh, c, i, dst[c*ldd+i], want)
				}
			}
		}
	}
	src, dst := make([]float32, 64*40), make([]float32, 40*64)
	if got := testing.AllocsPerRun(10, func() { Transpose(dst, 64, src, 40, 64, 40) }); got != 0 {
		t.Errorf("Transpose: %v allocations", got)
	}
}
