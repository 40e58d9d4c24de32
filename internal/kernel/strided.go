package kernel

import "github.com/aekit/aekit/internal/kernel/tile"

// StridedAsm reports whether GemmAT runs an assembly kernel here (AVX-512
// or AVX2 with FMA, without the purego tag); without one it runs a pure-Go
// loop, slower than Gemm, and callers should use Gemm.
func StridedAsm() bool { return tile.Has512 || tile.Has256 }

// StridedNarrow reports whether GemmAT also beats OpenBLAS on narrow
// products (under 32 rows or columns) here: where it runs the AVX2 kernel
// (on Zen 3, 256-row batches: 1.05–2.3× on 8–16-wide shapes). The AVX-512
// kernel's 32-column panels were not measured on them.
func StridedNarrow() bool { return tile.Has256 && !tile.Has512 }

// GemmAT computes columns j0 … j1−1 of C = Aᵀ·B for A k×m and B k×n, both
// stored row-major (row strides lda and ldb), into c from c[0] (c[i·ldc +
// j−j0]), never reading C: a weight gradient xᵀ·g with x and g the
// batch's rows, read in place. It is GemmPackedAT without packing B, for
// a wide B (an output layer's 784-wide g) whose packing costs about what
// the packed kernel saves.
//
// With the assembly kernel every element of C is one chain of float32
// fused multiply-adds over l = 0 … k−1 starting from 0, the bits of
// GemmPackedAT on the same values, whatever the rows or columns around it,
// so splitting C among threads does not change a bit (the pure-Go loop
// multiplies and adds). It does not allocate, and panics when a slice is
// too short for its shape.
func GemmAT(m, k int, a []float32, lda int, b []float32, ldb int, j0, j1 int, c []float32, ldc int) {
	if m < 0 || k < 0 || j0 < 0 || j1 < j0 {
		panic("kernel: bad GemmAT dimension")
	}
	if m == 0 || j1 == j0 {
		return
	}
	if lda < m || ldb < j1 || ldc < j1-j0 {
		panic("kernel: bad leading dimension")
	}
	if len(c) < (m-1)*ldc+j1-j0 {
		panic("kernel: short C")
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+j1-j0])
		}
		return
	}
	if len(a) < (k-1)*lda+m {
		panic("kernel: short A")
	}
	if len(b) < (k-1)*ldb+j1 {
		panic("kernel: short B")
	}
	if !tile.Has512 {
		if tile.Has256 {
			gemmAT256(m, k, a, lda, b, ldb, j0, j1, c, ldc)
			return
		}
		gemmATGo(m, k, a, lda, b, ldb, j0, j1, c, ldc)
		return
	}
	const mr, nr, kcMax = 8, 32, 256 // and full tiles of 12 rows
	_, nb := kernAVX512.plan(m, false, true)
	nk := (k + kcMax - 1) / kcMax
	kc := (k + nk - 1) / nk
	// Panel by panel, so that a block of B's 32 columns (kc rows) is read
	// from memory once and from L1 by every tile of A's columns.
	for j := j0; j < j1; j += nr {
		mask := lanes(min(nr, j1-j))
		for l0 := 0; l0 < k; l0 += kc {
			lk := min(kc, k-l0)
			flags := 0
			if l0 > 0 {
				flags = tile.Accumulate
			}
			i := 0
			for range nb {
				tile.Kern512x12T(&a[l0*lda+i], lda, &b[l0*ldb+j], ldb, lk, &c[i*ldc+j-j0], ldc, mask, flags)
				i += 12
			}
			for ; i < m; i += mr {
				tile.Kern512S(&a[l0*lda+i], 1, &b[l0*ldb+j], ldb, lk, &c[i*ldc+j-j0], ldc, min(mr, m-i), mask, flags, lda)
			}
		}
	}
}

// gemmAT256 is GemmAT on the AVX2 tile (tile.Kern256S), in the order
// of the AVX-512 one: panel by panel of 16 columns, each block of B's
// rows read from memory once and from L1 by every 6-row tile.
func gemmAT256(m, k int, a []float32, lda int, b []float32, ldb int, j0, j1 int, c []float32, ldc int) {
	const mr, nr, kcMax = 6, 16, 256
	nk := (k + kcMax - 1) / kcMax
	kc := (k + nk - 1) / nk
	// A's rows span more than L2 (Zen 3: 512 KB): its lines are asked for
	// ahead. On Zen 3 (25 interleaved rounds) deep's 784×128 and
	// 784-32-784's 784×32 gradients, whose x is 784 wide, 1.04–1.08×
	// faster; a narrow x (128 or 32 wide) 4–7% slower with it.
	pf := 0
	if lda*k > 1<<17 {
		pf = tile.PrefetchA
	}
	for j := j0; j < j1; j += nr {
		mask := lanes(min(nr, j1-j))
		for l0 := 0; l0 < k; l0 += kc {
			lk := min(kc, k-l0)
			flags := 0
			if l0 > 0 {
				flags = tile.Accumulate
			}
			for i := 0; i < m; {
				rows := tileRows256(m - i)
				tile.Kern256S(&a[l0*lda+i], 1, &b[l0*ldb+j], ldb, lk, &c[i*ldc+j-j0], ldc, rows, mask, flags|pf, lda)
				i += rows
			}
		}
	}
}

// gemmATGo is GemmAT's pure-Go loop: each element a chain of float32
// multiply-adds over l.
func gemmATGo(m, k int, a []float32, lda int, b []float32, ldb int, j0, j1 int, c []float32, ldc int) {
	for i := range m {
		crow := c[i*ldc : i*ldc+j1-j0]
		clear(crow)
		for l := range k {
			x := a[l*lda+i]
			brow := b[l*ldb+j0 : l*ldb+j1]
			for t, v := range brow {
				crow[t] += x * v
			}
		}
	}
}

// tileRows256 returns the rows of the next tile.Kern256S tile when left
// rows are left: 6, but for the last 7 or 8, which go as 4 and 3 or 4 and
// 4 (a tile of up to 4 rows runs 8 accumulators, one of 5 or 6 rows 12;
// 32 rows as five 6-row tiles and a 2-row one cost six 6-row tiles). On
// Zen 3 (medians of 8 interleaved runs) 784-32-784's 32×784 weight
// gradient went from 75 to 80 GFLOP/s, deep's 128×784 from 82 to 86;
// which tile computes a row changes no bit.
func tileRows256(left int) int {
	if left == 7 || left == 8 {
		return 4
	}
	return min(6, left)
}
