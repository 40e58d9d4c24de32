package kernel

import (
	"bytes"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/aekit/aekit/internal/kernel/tile"
	"github.com/aekit/aekit/internal/kernel/vmath"
)

// Packed is a k×n matrix B (a Dense layer's kernel, or its transpose)
// packed once into the layout of the packed GEMM's micro-kernel, for
// GemmPacked. The zero value is empty; Pack fills it. A Packed is not
// safe for concurrent Pack calls, but once packed any number of goroutines
// may multiply with it.
type Packed struct {
	k, n  int
	trans bool // packed from the transpose of the matrix given (Pack's trans)
	kern  *microKernel
	// data holds ceil(n/nr) panels; panel q is k rows of the nr columns
	// q·nr … q·nr+nr−1 of B, row by row, zero past column n−1.
	data []float32
}

// Prefetch asks the CPU to bring the cache lines of s into its caches
// (PREFETCHT0 on each 64-byte line; nothing without the assembly), without
// waiting for them: a hint that changes no value, so that a copy of s a
// little later finds it in cache instead of waiting for memory.
func Prefetch(s []float32) {
	if len(s) == 0 {
		return
	}
	tile.PrefetchLines(&s[0], (len(s)*4+63)/64)
}

// MaxPanel is the widest panel of any micro-kernel (AVX-512's 32
// columns): a Packed k×n matrix holds at most k·PackedWidth(n) values.
const MaxPanel = 32

// PackedWidth returns n rounded up to a multiple of MaxPanel: an upper
// bound of the values per row Pack keeps for a matrix n columns wide, on
// any micro-kernel, for callers that bound their memory before packing.
func PackedWidth(n int) int { return (n + MaxPanel - 1) / MaxPanel * MaxPanel }

// Reserve gives p the memory of buf, from buf[0] up to its capacity, for
// the values that Pack, Resize and PackRows store next, when they fit
// (at most k·PackedWidth(n) for a k×n matrix); it discards what p held.
// A caller that keeps the buffers a training step works on together
// (in huge pages) places p's values with them this way.
func (p *Packed) Reserve(buf []float32) {
	p.data = buf[:0]
}

// K returns the number of rows of the packed matrix (k×n).
func (p *Packed) K() int { return p.k }

// N returns the number of columns of the packed matrix.
func (p *Packed) N() int { return p.n }

// Pack packs B, k×n with row stride ldb, or when trans the transpose of
// the n×k matrix stored in b with row stride ldb (so that GemmPacked
// computes A·Bᵀ), into p. It reuses p's memory when it is large enough,
// so re-packing a layer's weights after an update does not allocate.
func (p *Packed) Pack(k, n int, b []float32, ldb int, trans bool) {
	kern := packedKernel()
	if kern == kernAVX512 && n <= 16 && tile.Has256 {
		// A matrix at most 16 wide would fill half a 32-wide panel or
		// less: the AVX2 kernel's 16-wide panels waste less, and
		// compute the same bits (measured on 256×100·100×10: 66
		// GFLOP/s against 55).
		kern = kernAVX2
	}
	p.pack(kern, k, n, b, ldb, trans)
}

// pack is Pack with the layout of the given micro-kernel.
func (p *Packed) pack(kern *microKernel, k, n int, b []float32, ldb int, trans bool) {
	if k < 0 || n < 0 {
		panic("kernel: negative dimension")
	}
	br, bc := k, n
	if trans {
		br, bc = n, k
	}
	if ldb < max(1, bc) {
		panic("kernel: bad leading dimension")
	}
	if br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc {
		panic("kernel: short B")
	}
	nr := kern.nr
	panels := (n + nr - 1) / nr
	size := panels * k * nr
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
	p.k, p.n, p.kern, p.trans = k, n, kern, trans
	p.packPanels(b, ldb, trans, 0, panels)
}

// Repack packs B again into p, which must hold a matrix of B's shape
// packed by Pack, with the same trans (a layer's kernel, or its
// transpose, after an update): only the panels of part part of parts
// (near-equal runs of panels), so that parts goroutines can share the
// work, each with its own part, while nothing multiplies with p. It does
// not allocate.
func (p *Packed) Repack(b []float32, ldb int, part, parts int) {
	if p.kern == nil || parts < 1 || part < 0 || part >= parts {
		panic("kernel: bad Repack")
	}
	k, n := p.k, p.n
	br, bc := k, n
	if p.trans {
		br, bc = n, k
	}
	if ldb < max(1, bc) || (br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc) {
		panic("kernel: short B")
	}
	panels := (n + p.kern.nr - 1) / p.kern.nr
	p.packPanels(b, ldb, p.trans, part*panels/parts, (part+1)*panels/parts)
}

// PackRows packs rows l0 … l1−1 of B, k×n with row stride ldb, into p,
// which must hold a matrix of B's shape packed by Pack without trans:
// every panel's rows l0 … l1−1, so that goroutines can each pack the
// rows they computed (a gradient) while nothing multiplies with p. It
// does not allocate.
func (p *Packed) PackRows(b []float32, ldb int, l0, l1 int) {
	if p.kern == nil || p.trans || l0 < 0 || l1 > p.k || l0 > l1 {
		panic("kernel: bad PackRows")
	}
	k, n, nr := p.k, p.n, p.kern.nr
	if l1 == l0 || n == 0 {
		return
	}
	if ldb < n || len(b) < (l1-1)*ldb+n {
		panic("kernel: short B")
	}
	// Panel by panel, so that the writes run in order (row by row they
	// would jump k·nr values between panels, a multiple of 4 KiB apart).
	panels := (n + nr - 1) / nr
	for q := range panels {
		j0 := q * nr
		packRows(p.data[q*k*nr:(q+1)*k*nr], nr, b, ldb, j0, min(nr, n-j0), l0, l1)
	}
}

// Resize gives p, packed by Pack, the shape k×n (B's, or for a
// transposed Pack Bᵀ's), with the same micro-kernel and trans, keeping its
// memory when it is large enough: a gradient whose row count changes with
// the batch. The packed values are undefined until Repack or PackRows
// fill them.
func (p *Packed) Resize(k, n int) {
	if p.kern == nil || k < 0 || n < 0 {
		panic("kernel: bad Resize")
	}
	size := (n + p.kern.nr - 1) / p.kern.nr * k * p.kern.nr
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.k, p.n, p.data = k, n, p.data[:size]
}

// Panel returns the width of p's panels (32 for the AVX-512 kernel, 16
// otherwise; 0 before Pack): column blocks of GemmPackedAT start at a
// multiple of it.
func (p *Packed) Panel() int {
	if p.kern == nil {
		return 0
	}
	return p.kern.nr
}

// packPanels packs panels q0 … q1−1 of B (see pack).
func (p *Packed) packPanels(b []float32, ldb int, trans bool, q0, q1 int) {
	k, n, nr := p.k, p.n, p.kern.nr
	if trans {
		// Bᵀ stored n×k: each of the panel's nr rows of b is read in
		// order into a column of the panel, in blocks of 64 values of k
		// so that the panel's lines being written stay in L1.
		const kb = 64
		for q := q0; q < q1; q++ {
			panel := p.data[q*k*nr : (q+1)*k*nr]
			j0 := q * nr
			w := min(nr, n-j0)
			for l0 := 0; l0 < k; l0 += kb {
				l1 := min(l0+kb, k)
				j8 := 0
				if tile.Has256 && l1-l0 >= 8 {
					// 8×8 blocks in registers; the rows and
					// values past a multiple of 8 below.
					for ; j8+8 <= w; j8 += 8 {
						tile.Trans8x8(&b[(j0+j8)*ldb+l0], ldb, &panel[l0*nr+j8], nr, (l1-l0)/8)
					}
					if l8 := l0 + (l1-l0)/8*8; l8 < l1 {
						for j := range j8 {
							src := b[(j0+j)*ldb+l8 : (j0+j)*ldb+l1]
							dst := panel[l8*nr+j:]
							for i, v := range src {
								dst[i*nr] = v
							}
						}
					}
				}
				for j := j8; j < w; j++ {
					src := b[(j0+j)*ldb+l0 : (j0+j)*ldb+l1]
					dst := panel[l0*nr+j:]
					for i, v := range src {
						dst[i*nr] = v
					}
				}
				if w < nr {
					for l := l0; l < l1; l++ {
						clear(panel[l*nr+w : l*nr+nr])
					}
				}
			}
		}
		return
	}
	for q := q0; q < q1; q++ {
		j0 := q * nr
		packRows(p.data[q*k*nr:(q+1)*k*nr], nr, b, ldb, j0, min(nr, n-j0), 0, k)
	}
}

// packRows copies rows l0 … l1−1 of B's w columns from column j0 (row
// stride ldb) into the same rows of panel, nr values a row, zero past w:
// full panels by copyPanel16 or copyPanel32.
func packRows(panel []float32, nr int, b []float32, ldb, j0, w, l0, l1 int) {
	if l1 <= l0 {
		return
	}
	dst, src := panel[l0*nr:l1*nr], b[l0*ldb+j0:]
	switch {
	case w == 16 && nr == 16:
		copyPanel16(dst, src, ldb, l1-l0)
	case w == 32 && nr == 32:
		copyPanel32(dst, src, ldb, l1-l0)
	default:
		for l := range l1 - l0 {
			row := dst[l*nr : (l+1)*nr]
			copy(row[:w], src[l*ldb:l*ldb+w])
			clear(row[w:])
		}
	}
}

// copyPanel16 copies the first 16 values of k rows of b (row stride ldb)
// into the rows of dst, one after the other: a full panel of the AVX2
// kernel. A loop of its own, in halves the compiler copies in registers
// (within packPanels, whole rows went through spilled registers and
// runtime.memmove: a 784×128 kernel's re-pack took 40 µs on Zen 3, 32
// with this loop, about what the L3 cache's bandwidth allows for it and
// its packed copy, 800 KB against 512 KB of L2).
func copyPanel16(dst, b []float32, ldb, k int) {
	dst = dst[:16*k]
	for l := range k {
		src := b[l*ldb : l*ldb+16]
		lo, hi := [8]float32(src[:8]), [8]float32(src[8:])
		*(*[8]float32)(dst[16*l:]), *(*[8]float32)(dst[16*l+8:]) = lo, hi
	}
}

// copyPanel32 is copyPanel16 for the AVX-512 kernel's 32-wide panels.
func copyPanel32(dst, b []float32, ldb, k int) {
	dst = dst[:32*k]
	for l := range k {
		src := b[l*ldb : l*ldb+32]
		v0, v1, v2, v3 := [8]float32(src[:8]), [8]float32(src[8:16]), [8]float32(src[16:24]), [8]float32(src[24:])
		row := dst[32*l : 32*l+32]
		*(*[8]float32)(row), *(*[8]float32)(row[8:]), *(*[8]float32)(row[16:]), *(*[8]float32)(row[24:]) = v0, v1, v2, v3
	}
}

// Holds reports whether p holds B, k×n with row stride ldb, packed
// without transposing, bit for bit (NaN equal to the same NaN, +0 and −0
// different): a check that a matrix has not changed since it was packed
// which needs no copy of it. It reads B and the packed panels once
// (AVX-512: B row by row, two 512-bit compares per panel) and allocates
// nothing.
func (p *Packed) Holds(k, n int, b []float32, ldb int) bool {
	if p.kern == nil || p.trans || p.k != k || p.n != n {
		return false
	}
	if k == 0 || n == 0 {
		return true
	}
	if ldb < n || len(b) < (k-1)*ldb+n {
		return false
	}
	nr := p.kern.nr
	panels := (n + nr - 1) / nr
	switch {
	case nr == 32 && tile.Has512:
		// B in order, row by row across the panels: measured 2–2.5×
		// faster than panel by panel on 128×784.
		return tile.EqualRows512(&b[0], ldb, &p.data[0], k, panels, lanes(n-(panels-1)*nr))
	case nr == 16 && tile.Has256:
		// The same with AVX2: on Zen 3 (BenchmarkHolds) 2.8–3.5×
		// faster than panel by panel on 784×128 and 128×784.
		return tile.EqualRows256(&b[0], ldb, &p.data[0], k, panels, lanes(n-(panels-1)*nr))
	}
	for q := range panels {
		j0 := q * nr
		w := min(nr, n-j0)
		panel := p.data[q*k*nr : (q+1)*k*nr]
		for l := range k {
			if !SameBits(panel[l*nr:l*nr+w], b[l*ldb+j0:l*ldb+j0+w]) {
				return false
			}
		}
	}
	return true
}

// GemmPacked computes C = f(A·B + bias) for the m×k matrix A (row stride
// lda), the k×n matrix B packed in p, and the m×n matrix C (row stride
// ldc): C is written, never read, and its padding is left alone. A nil
// bias adds nothing. Identity and plain ReLU are applied in the
// micro-kernel's registers before a tile is stored, and so is Sigmoid by
// the AVX-512 kernel where package vmath runs its AVX-512 sigmoid (the
// same instructions, so the same bits as BiasAct; a block of rows holding
// a value that kernel leaves to its scalar loop, |x| > 87 or NaN, is
// computed again and finished as below). Any other activation runs over
// each block of rows right after it is computed, while it is in cache,
// with BiasAct's arithmetic (Sigmoid through package vmath's kernels, the
// others as runtime.Activation.Apply).
//
// Every element of C is one chain of float32 fused multiply-adds over
// l = 0 … k−1 starting from 0 (mul-then-add in the pure-Go kernel),
// whatever m, the rows around it or the vector width, so splitting the
// rows among threads does not change a bit. It does not allocate, and
// panics when a slice is too short for its shape.
func GemmPacked(m int, a []float32, lda int, p *Packed, c []float32, ldc int, bias []float32, act Act) {
	k, n := p.k, p.n
	if m < 0 {
		panic("kernel: negative dimension")
	}
	if p.kern == nil {
		panic("kernel: GemmPacked with an empty Packed")
	}
	if m == 0 || n == 0 {
		return
	}
	if lda < max(1, k) || ldc < max(1, n) {
		panic("kernel: bad leading dimension")
	}
	if k > 0 && len(a) < (m-1)*lda+k {
		panic("kernel: short A")
	}
	if len(c) < (m-1)*ldc+n {
		panic("kernel: short C")
	}
	if bias != nil && len(bias) < n {
		panic("kernel: short bias")
	}
	fused := act.Func == ActLinear || act.plainReLU()
	kern := p.kern
	if m == 1 && kern.row != nil {
		kern.oneRow(a, p, c, bias, act.plainReLU())
	} else {
		ep := 0
		switch {
		case act.plainReLU():
			ep = tile.Relu
		case act.Func == ActSigmoid && kern.fusesSigmoid() && (kern.sigMaxN == 0 || n <= kern.sigMaxN || ldc == n && kern.sigVec != nil && kern.multiFits(k, n)):
			ep = tile.Sigmoid
		}
		mb := kern.blockSize(m)
		for i0 := 0; i0 < m; i0 += mb {
			rows := min(mb, m-i0)
			ai := a
			if k > 0 {
				ai = a[i0*lda:]
			}
			ci := c[i0*ldc:]
			if kern.block(rows, ai, lda, 1, p, 0, n, ci, ldc, bias, ep) && ep == tile.Sigmoid {
				continue
			}
			if ep == tile.Sigmoid {
				// A value out of the vector sigmoid's range: the
				// block again without it, finished as BiasAct does.
				kern.block(rows, ai, lda, 1, p, 0, n, ci, ldc, bias, 0)
			}
			if !fused {
				finish(act, ci, rows, n, ldc)
			}
		}
		return
	}
	if !fused {
		finish(act, c, 1, n, ldc)
	}
}

// GemmPackedAT computes columns j0 … j1−1 of C = Aᵀ·B for A k×m stored
// row-major with row stride lda (so C has m rows: a weight gradient xᵀ·g
// with x the batch's rows), B k×n packed in p without trans, and C with
// row stride ldc: those columns of C are written, never read, into c from
// c[0] (c[i·ldc + j−j0]). j0 must be a multiple of p.Panel() and j1 ≤ n.
//
// Every element of C is one chain of float32 fused multiply-adds over
// l = 0 … k−1 starting from 0, as in GemmPacked, so splitting C's rows or
// panels among threads does not change a bit. It does not allocate, and
// panics when a slice is too short for its shape.
func GemmPackedAT(m int, a []float32, lda int, p *Packed, j0, j1 int, c []float32, ldc int) {
	k, n := p.k, p.n
	if p.kern == nil || p.trans {
		panic("kernel: GemmPackedAT needs a Packed packed without trans")
	}
	if m < 0 || j0 < 0 || j1 > n || j0%p.kern.nr != 0 {
		panic("kernel: bad GemmPackedAT columns")
	}
	if m == 0 || j1 <= j0 {
		return
	}
	if lda < max(1, m) || ldc < j1-j0 {
		panic("kernel: bad leading dimension")
	}
	if k > 0 && len(a) < (k-1)*lda+m {
		panic("kernel: short A")
	}
	if len(c) < (m-1)*ldc+j1-j0 {
		panic("kernel: short C")
	}
	kern := p.kern
	mb := kern.blockSize(m)
	for i0 := 0; i0 < m; i0 += mb {
		rows := min(mb, m-i0)
		ai := a
		if k > 0 {
			ai = a[i0:]
		}
		kern.block(rows, ai, 1, lda, p, j0, j1, c[i0*ldc:], ldc, nil, 0)
	}
}

// multiMaxValues is the largest packed B (values, 512 KB: Zen 3's L2 per
// core) whose rows block runs on the multi-panel tile (microKernel.multi):
// each tile of rows against every panel in turn, the whole of k at once,
// so that the tile's call and its rows of C are made once; B is read
// from L2 by every tile. Measured on Zen 3 against a call per panel and
// tile within blocks of k (25 interleaved rounds a shape, bits equal):
// 256×100·10×100 1.11×, 256×32·32×784 1.28×, 256×128·128×128 1.14×,
// 256×784·784×128 1.06×, 256×128·128×784 1.03×, never slower; and in
// `aekit bench` (4 interleaved runs): 784-32-784's inference +10%, deep's
// +5%, training +5% (deep, 784-32-784) and +2% (seed).
const multiMaxValues = 1 << 17

// multi4MaxK is the longest k for which the multi-panel path runs tiles
// of 4 rows rather than mr (tile.Kern256P then runs 8 accumulators).
// Measured on Zen 3 (25 interleaved rounds a shape, bits equal), 4-row
// tiles ran the models' short-k products faster — 256×10·10×100 1.23×,
// 256×32·32×784 1.10–1.13×, 256×32·32×64 1.11×, 256×64·64×32 1.05×,
// 256×128·128×64 1.02×, 256×256·256×128 1.01× — and long-k ones no
// faster (256×784·784×128 0.97×, 256×512·512×64 1.00×).
const multi4MaxK = 256

// multiFits reports whether block runs a product of k×n packed B on
// kern's multi-panel tiles (A row-major).
func (kern *microKernel) multiFits(k, n int) bool {
	return kern.multi != nil && k > 0 && (n+kern.nr-1)/kern.nr*kern.nr*k <= multiMaxValues
}

// fusesSigmoid reports whether kern's tiles apply Sigmoid in this
// process: package vmath runs the level whose sigmoid they compute, and
// BiasAct uses it (the tests may switch vmath off).
func (kern *microKernel) fusesSigmoid() bool {
	return kern.sigmoid != nil && useVec && kern.sigmoid()
}

// finish applies a to rows rows of n values of c (row stride ldc) that
// hold x·W + bias, as BiasAct does: Sigmoid through package vmath, the
// others as runtime.Activation.Apply.
func finish(a Act, c []float32, rows, n, ldc int) {
	for r := range rows {
		row := c[r*ldc : r*ldc+n]
		if a.Func == ActSigmoid {
			sigmoidRow(row, nil)
		} else {
			a.apply(row, n)
		}
	}
}

// tileFunc computes a tile of up to mr rows and one nr-wide panel: the
// assembly kernels' signature (see package tile).
type tileFunc func(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int

// rowFunc computes one row against up to 4 panels (see tile.Row512).
type rowFunc func(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int)

// microKernel is one implementation of the packed GEMM's inner loops.
type microKernel struct {
	name   string
	mr, nr int // tile rows and panel width
	mb     int // rows per block: the tiles that share a panel while it is in L1
	kcMax  int // longest block of k: a panel block of kcMax×nr values stays in L1
	tile   tileFunc
	row    rowFunc // nil: one-row products go through tile
	// multi, when not nil, computes a row tile against several
	// consecutive panels in one call (tile.Kern256P), where B is at
	// most multiMaxValues.
	multi func(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, panels int, mask *int32, bias *float32, relu int)
	// sigVec, when not nil, is vmath's sigmoid that the tiles'
	// epilogue computes (vmath.SigmoidBiasAVX2), which block runs over
	// a block of rows of C stored contiguously after the multi-panel
	// tiles instead (see block).
	sigVec func(dst, bias []float32) int
	// sigmoid names the vmath level (vmath.AVX512 or vmath.AVX2) whose
	// sigmoid tile and big compute with tile.Sigmoid, nil if none.
	sigmoid func() bool
	// sigMaxN, when not 0, is the widest C the tiles apply Sigmoid to
	// (but for block's contiguous path, see sigVec); wider rows get the
	// sigmoid from vmath after each block of rows.
	// AVX2: 128, by measurement (BenchmarkSigmoidEpilogue on Zen 3: the
	// tile's epilogue, which re-reads each stored tile, won on 256×100
	// and lost by 13–19% on the 784-wide output layers, where vmath's
	// loop runs over whole rows).
	sigMaxN int
	// big, when not nil, computes full tiles of bigRows rows (A
	// row-major); tile does the rest.
	big     func(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int) int
	bigRows int
	// bigT, when not nil, computes full tiles of bigRows rows of A
	// stored transposed (ks ≠ 1, as GemmPackedAT reads it), without
	// bias or activation (tile.Kern512x12T).
	bigT func(a *float32, ks int, b *float32, ldb int, k int, c *float32, ldc int, mask *int32, flags int)
	// wide, when not nil, is big for full tiles of wideRows rows,
	// without the sigmoid (tile.Kern512x14); see plan for which tile
	// takes which rows. There is no transposed-A wide tile: 14 rows'
	// values of a step span two cache lines more often than 12 do, and
	// a 14-row Kern512x12T measured 0–8% slower than the 12-row one.
	wide     func(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int)
	wideRows int
}

// plan returns how many wide (wideRows) and big (bigRows) tiles compute
// the first rows of a block of r rows, the rest going to kern.tile in
// tiles of up to mr rows, given whether a wide and a big tile apply (the
// caller knows the layout of A and the epilogue). It takes the cover that
// computes the fewest rows, a row of a small tile counting 1.1 (its loads
// per FMA are more) and of a big one 1.01 (measured: 14-row tiles are
// 0–4% faster than 12-row ones on the models' forward products): 96 rows
// are 6 wide tiles and a big one, 32 rows two big ones and a full small
// one. Which tile computes a row changes no bit.
func (kern *microKernel) plan(r int, wide, big bool) (nw, nb int) {
	if !wide && !big {
		return 0, 0
	}
	best := -1.0
	for w := 0; ; w++ {
		if w > 0 && (!wide || w*kern.wideRows > r) {
			break
		}
		for b := 0; ; b++ {
			if b > 0 && (!big || w*kern.wideRows+b*kern.bigRows > r) {
				break
			}
			rest := r - w*kern.wideRows - b*kern.bigRows
			cost := float64(w*kern.wideRows) + 1.01*float64(b*kern.bigRows) + 1.1*float64((rest+kern.mr-1)/kern.mr*kern.mr)
			if best < 0 || cost < best {
				best, nw, nb = cost, w, b
			}
		}
	}
	return nw, nb
}

// blockSize returns the rows of the blocks a product of m rows is cut
// into: near-equal, at most kern.mb. With wide and big tiles (see plan)
// they are even, so that each can be covered by those tiles where the
// block cut by mb would leave a part tile (128 rows: 64 and 64, not 96
// and 32); with mr-row tiles alone they are whole tiles, as far as m
// allows (AVX2, 256 rows: five blocks of 48 and one of 16 rather than
// six of 44, each ending in a tile of 2 rows; measured on Zen 3, 25
// interleaved rounds, the models' widest products at batch 256 ran
// 2–7% faster).
func (kern *microKernel) blockSize(m int) int {
	nb := (m + kern.mb - 1) / kern.mb
	if kern.wide == nil && kern.big == nil {
		return min(kern.mb, ((m+nb-1)/nb+kern.mr-1)/kern.mr*kern.mr)
	}
	return min(kern.mb, ((m+nb-1)/nb+1)&^1)
}

// rowBlock computes rows (≤ mb) rows of C = A·B (+ bias, ReLU when relu)
// against all of p's panels: for each block of k (the whole of k, or
// near-equal blocks of at most kcMax), for each panel, every tile of mr
// rows, so that a panel's block is read from memory once per block of
// rows and from L1 by the other tiles. Blocks of k after the first
// continue each element's chain from the partial sums in C; the bias and
// ReLU come with the last. Where the kernel has a multi-panel tile and
// B is small enough (multiMaxValues), A row-major and the epilogue at
// most ReLU, each tile of rows runs against all the panels in one call
// instead, over the whole of k (the same bits).
//
// A's row i, value l is a[i·rs + l·ks]: rs = lda, ks = 1 for A stored
// row-major, rs = 1, ks = lda for A stored transposed. Only the panels of
// columns j0…j1−1 are computed (j0 a multiple of the panel width), into
// C's columns from 0.
func (kern *microKernel) rowBlock(rows int, a []float32, rs, ks int, p *Packed, j0, j1 int, c []float32, ldc int, bias []float32, relu bool) {
	ep := 0
	if relu {
		ep = tile.Relu
	}
	kern.block(rows, a, rs, ks, p, j0, j1, c, ldc, bias, ep)
}

// block is rowBlock with the epilogue given as tile flags (0, tile.Relu,
// or tile.Sigmoid where kern.sigmoid). It reports whether the block is
// final: false when a tile with tile.Sigmoid met a value out of the vector
// sigmoid's range, and the caller must compute the block again without it.
func (kern *microKernel) block(rows int, a []float32, rs, ks int, p *Packed, j0, j1 int, c []float32, ldc int, bias []float32, ep int) bool {
	k, nr := p.k, kern.nr
	bad := 0
	var nw, nb int
	if ks == 1 {
		nw, nb = kern.plan(rows, kern.wide != nil && ep&tile.Sigmoid == 0, kern.big != nil)
	} else if bias == nil && ep == 0 {
		nw, nb = kern.plan(rows, false, kern.bigT != nil)
	}
	nk := max(1, (k+kern.kcMax-1)/kern.kcMax)
	kc := (k + nk - 1) / max(nk, 1)
	panels := (j1 - j0 + nr - 1) / nr
	multi := ks == 1 && nw == 0 && nb == 0 && kern.multiFits(k, j1-j0)
	if multi && ep == tile.Sigmoid && kern.sigVec != nil && ldc == j1-j0 {
		// C's rows are contiguous: the product and bias on the
		// multi-panel tiles, then vmath's sigmoid over the whole block
		// at once, each value with the instructions of the tiles'
		// epilogue (so the same bits); a value out of its range makes
		// the block not final.
		kern.block(rows, a, rs, ks, p, j0, j1, c, ldc, bias, 0)
		v := c[:rows*ldc]
		return kern.sigVec(v, nil) == len(v)
	}
	if multi && ep&^tile.Relu == 0 {
		// Each row tile over all the panels in one call, the whole
		// of k at once.
		mask := lanes(j1 - (j0 + (panels-1)*nr))
		var pb *float32
		if bias != nil {
			pb = &bias[j0]
		}
		pp := &p.data[j0/nr*k*nr]
		mr := kern.mr
		if k <= multi4MaxK {
			mr = 4
		}
		for i := 0; i < rows; i += mr {
			kern.multi(&a[i*rs], rs, pp, k, &c[i*ldc], ldc, min(mr, rows-i), panels, mask, pb, ep&tile.Relu)
		}
		return true
	}
	for l0 := 0; l0 == 0 || l0 < k; l0 += kc {
		lk := min(kc, k-l0)
		last := l0+kc >= k
		flags := 0
		if l0 > 0 {
			flags |= tile.Accumulate
		}
		if last {
			flags |= ep
		}
		for j := j0; j < j1; j += nr {
			var pb, pp *float32
			if last && bias != nil {
				pb = &bias[j]
			}
			if lk > 0 {
				pp = &p.data[j/nr*k*nr+l0*nr]
			}
			mask := lanes(min(nr, j1-j))
			for t, i := 0, 0; i < rows; t++ {
				var pa *float32
				if lk > 0 {
					pa = &a[i*rs+l0*ks]
				}
				ci := &c[i*ldc+j-j0]
				switch {
				case lk == 0:
				case t < nw:
					kern.wide(pa, rs, pp, lk, ci, ldc, mask, pb, flags)
					i += kern.wideRows
					continue
				case t < nw+nb && ks != 1:
					kern.bigT(pa, ks, pp, nr, lk, ci, ldc, mask, flags)
					i += kern.bigRows
					continue
				case t < nw+nb:
					bad |= kern.big(pa, rs, pp, lk, ci, ldc, mask, pb, flags)
					i += kern.bigRows
					continue
				}
				bad |= kern.tile(pa, rs, pp, lk, ci, ldc, min(kern.mr, rows-i), mask, pb, flags, ks)
				i += kern.mr
			}
		}
		if k == 0 {
			break
		}
	}
	return bad == 0
}

// oneRow computes the single row of C = A·B (+ bias, ReLU when relu) with
// the row kernel, 4 panels per call.
func (kern *microKernel) oneRow(a []float32, p *Packed, c []float32, bias []float32, relu bool) {
	k, n, nr := p.k, p.n, kern.nr
	stride := k * nr
	for j := 0; j < n; j += 4 * nr {
		cols := min(4*nr, n-j)
		var pb, pp *float32
		if bias != nil {
			pb = &bias[j]
		}
		if k > 0 {
			pp = &p.data[j/nr*stride]
		}
		kern.row(fptr(a), pp, stride, k, &c[j], (cols+nr-1)/nr, lanes(cols), pb, b2int(relu))
	}
}

// maskTable holds 128 −1 then 128 zeros: the int32 lane masks of the
// assembly kernels start at maskTable[128−cols:] for cols valid columns.
var maskTable = func() (t [256]int32) {
	for i := range 128 {
		t[i] = -1
	}
	return t
}()

// lanes returns the mask for the first cols (1…128) columns.
func lanes(cols int) *int32 { return &maskTable[128-cols] }

func fptr(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}

func b2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// goTile is the pure-Go micro-kernel, with the assembly kernels'
// signature: each element a chain of float32 multiply-adds over k (the
// compiler may or may not fuse them, depending on the architecture).
func goTile(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int {
	const nr = goNR
	m := unsafe.Slice(mask, nr)
	cols := 0
	for cols < nr && m[cols] != 0 {
		cols++
	}
	var as, bs []float32
	if k > 0 {
		as = unsafe.Slice(a, (rows-1)*lda+(k-1)*ks+1)
		bs = unsafe.Slice(b, k*nr)
	}
	cs := unsafe.Slice(c, (rows-1)*ldc+cols)
	var bi []float32
	if bias != nil {
		bi = unsafe.Slice(bias, cols)
	}
	for r := range rows {
		var acc [nr]float32
		crow := cs[r*ldc : r*ldc+cols]
		if flags&tile.Accumulate != 0 {
			copy(acc[:], crow)
		}
		for l := range k {
			x := as[r*lda+l*ks]
			bl := (*[nr]float32)(bs[l*nr : l*nr+nr])
			for t := range acc {
				acc[t] += x * bl[t]
			}
		}
		for t := range crow {
			v := acc[t]
			if bi != nil {
				v += bi[t]
			}
			if flags&tile.Relu != 0 && 0 > v {
				v = 0
			}
			crow[t] = v
		}
	}
	return 0
}

// goNR is the panel width of the pure-Go kernel.
const goNR = 16

// The micro-kernels: AVX-512 (8×32 tiles), AVX2+FMA (6×16) and pure Go.
var (
	kernAVX512 = &microKernel{name: "avx512", mr: 8, nr: 32, mb: 96, kcMax: 256, tile: tile.Kern512, row: tile.Row512,
		big: tile.Kern512x12, bigT: tile.Kern512x12T, bigRows: 12,
		wide: tile.Kern512x14, wideRows: 14, sigmoid: vmath.AVX512}
	kernAVX2 = &microKernel{name: "avx2", mr: 6, nr: 16, mb: 48, kcMax: 384, tile: tile.Kern256, row: tile.Row256, multi: tile.Kern256P, sigVec: vmath.SigmoidBiasAVX2,
		sigmoid: vmath.AVX2, sigMaxN: 128}
	kernGo = &microKernel{name: "go", mr: 4, nr: goNR, mb: 64, kcMax: 1 << 30, tile: goTile}
)

// availableKernels returns the micro-kernels this CPU and build run, the
// widest first; the pure-Go one is always last.
func availableKernels() []*microKernel {
	var ks []*microKernel
	if tile.Has512 {
		ks = append(ks, kernAVX512)
	}
	if tile.Has256 {
		ks = append(ks, kernAVX2)
	}
	return append(ks, kernGo)
}

// tiles names the kernel's register tiles, e.g. "14×32, 12×32 and 8×32".
func (kern *microKernel) tiles() string {
	if kern.wide != nil && kern.big != nil {
		return fmt.Sprintf("%d×%d, %d×%d and %d×%d", kern.wideRows, kern.nr, kern.bigRows, kern.nr, kern.mr, kern.nr)
	}
	if kern.big != nil {
		return fmt.Sprintf("%d×%d and %d×%d", kern.bigRows, kern.nr, kern.mr, kern.nr)
	}
	return fmt.Sprintf("%d×%d", kern.mr, kern.nr)
}

// chosen is the micro-kernel packed matrices use, decided once by
// chooseKernel.
var chosen struct {
	once sync.Once
	kern *microKernel
	desc string
}

// packedKernel returns the micro-kernel of this process, measuring the
// candidates on first use.
func packedKernel() *microKernel {
	chosen.once.Do(chooseKernel)
	return chosen.kern
}

// SameBits reports whether a and b hold the same values bit for bit (NaN
// equal to the same NaN), with the Go runtime's vectorised memory
// compare: how the users of Packed check that the matrix they packed has
// not changed since.
func SameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	ab := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), 4*len(a))
	bb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), 4*len(b))
	return bytes.Equal(ab, bb)
}

// PackedAsm reports whether GemmPacked runs an assembly micro-kernel
// here (AVX-512 or AVX2+FMA, without the purego tag). Without one, its
// pure-Go kernel is slower than Gemm (OpenBLAS, or gonum's blocked
// kernels), and callers such as the runtime keep using Gemm.
func PackedAsm() bool { return packedKernel() != kernGo }

// PackedVariant describes the packed GEMM's micro-kernel in this process
// and how it was chosen, e.g. "avx512 (14×32, 12×32 and 8×32 tiles; 1.69× avx2
// at start-up)".
func PackedVariant() string {
	packedKernel()
	return chosen.desc
}

// chooseKernel picks the packed GEMM's micro-kernel. With both AVX-512 and
// AVX2 it times each on the same product (128×256·256×256, the
// shape class of the models' layers), alternating, 9 runs each, and keeps
// AVX-512 unless AVX2's best run is at least 10% faster: cores that split
// 512-bit operations in two may run the AVX2 kernel as fast or faster. The
// two compute the same bits (see GemmPacked), so the choice changes speed
// only. It takes about 2 ms, once per process, on first use.
func chooseKernel() {
	ks := availableKernels()
	if len(ks) < 3 {
		chosen.kern = ks[0]
		chosen.desc = fmt.Sprintf("%s (%s tiles)", ks[0].name, ks[0].tiles())
		return
	}
	const m, n, k = 128, 256, 256
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.25
	}
	for i := range b {
		b[i] = float32(i%5) * 0.5
	}
	best := [2]time.Duration{1 << 62, 1 << 62}
	var ps [2]Packed
	for i := range 2 {
		ps[i].pack(ks[i], k, n, b, n, false)
	}
	for range 9 {
		for i := range 2 {
			t := time.Now()
			GemmPacked(m, a, k, &ps[i], c, n, nil, Act{})
			best[i] = min(best[i], time.Since(t))
		}
	}
	// The wider kernel unless the narrower one is clearly faster: a
	// loaded machine should not flip the choice by noise.
	w := 0
	if float64(best[1]) < 0.9*float64(best[0]) {
		w = 1
	}
	chosen.kern = ks[w]
	chosen.desc = fmt.Sprintf("%s (%s tiles; %.2f× %s at start-up)", ks[w].name, ks[w].tiles(),
		float64(best[1-w])/float64(best[w]), ks[1-w].name)
}

// packedImpls returns a ProductImpl per micro-kernel this process runs,
// for aekit bench --peak.
// The pure-Go kernel is left out where an assembly one runs (it takes
// seconds on a 1024² square).
func packedImpls() []ProductImpl {
	var impls []ProductImpl
	for _, kern := range availableKernels() {
		if kern == kernGo && PackedAsm() {
			continue
		}
		impls = append(impls, ProductImpl{Name: "packed-" + kern.name, Prepare: func(m, n, k int, a, b, c []float32) func() {
			var p Packed
			p.pack(kern, k, n, b, n, false)
			return func() { GemmPacked(m, a, k, &p, c, n, nil, Act{}) }
		}})
	}
	return impls
}

// Transpose writes the transpose of the rows×cols matrix src (row stride
// lds) into dst (cols×rows, row stride ldd): dst[c·ldd + r] = src[r·lds +
// c]. With AVX it moves 8×8 blocks in registers (tile.Trans8x8), the rest
// value by value. It does not allocate.
func Transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if lds < cols || ldd < rows || len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic("kernel: bad Transpose")
	}
	r8, c8 := 0, 0
	if tile.Has256 && rows >= 8 && cols >= 8 {
		r8, c8 = rows/8*8, cols/8*8
		// 8 rows of src at a time, across its columns: dst's rows
		// c…c+7 get src's rows r…r+7.
		for r := 0; r < r8; r += 8 {
			tile.Trans8x8(&src[r*lds], lds, &dst[r], ldd, c8/8)
		}
	}
	for r := range rows {
		c0 := c8
		if r >= r8 {
			c0 = 0
		}
		for c := c0; c < cols; c++ {
			dst[c*ldd+r] = src[r*lds+c]
		}
	}
}
