//go:build amd64 && !purego

package tile

import "golang.org/x/sys/cpu"

// Has512 reports whether Kern512 and Row512 run here: AVX-512 F, DQ
// (VPMOVD2M) and VL.
var Has512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// Has256 reports whether Kern256 and Row256 run here: AVX2 and FMA.
var Has256 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Kern512 computes one tile of C = A·B of up to 8 rows and 32 columns
// against one 32-column panel of packed B (k rows of 32 values): C[i][j] =
// Σₚ A[i][p]·panel[p][j] for i < rows ≤ 8, plus bias[j] when bias is not
// nil, then max(x, 0) (NaN kept) when flags has Relu; only the lanes j
// whose mask entry (mask[j], 32 int32) is −1 are read from bias and C and
// written to C. With Accumulate in flags the sums start from the values
// in C instead of 0, so that a product can be cut along k (the chain of
// each element is the same). lda is the distance between A's rows and ks
// between its values along k, in elements: lda and 1 for A stored
// row-major, 1 and the row stride for A stored transposed (k×rows); ldc
// is C's row stride. With Sigmoid in flags it applies package vmath's
// AVX-512 sigmoid after the bias, in registers, and returns non-zero when
// a valid lane held |x| > 87 or NaN, which that kernel leaves to the
// scalar loop: the tile's values are then not final (see Sigmoid). It
// returns 0 otherwise. It needs Has512.
//
//go:noescape
func Kern512(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int

// Flags of Kern512 and Kern256.
const (
	Relu       = 1 // apply max(x, 0) after the bias
	Accumulate = 2 // start from C's values instead of 0
	// Sigmoid applies σ after the bias with package vmath's AVX-512
	// arithmetic (Kern512 and Kern512x12 only; bit for bit
	// vmath.SigmoidBias on the lanes it computes). Where a lane is out of
	// that kernel's range (|x| > 87 or NaN) the kernel returns non-zero
	// and the caller must compute the tile again without Sigmoid and
	// finish it with vmath and its scalar loop.
	Sigmoid = 4
	// PrefetchA (Kern256S only) prefetches A's lines ahead: for an A
	// read transposed that does not stay in L2.
	PrefetchA = 8
)

// Kern512S is Kern512 with B read where it is instead of from a packed
// panel: row p of the tile's 32 columns starts at b + p·ldb (ldb in
// elements, any stride; masked columns are not read). It computes
// C[i][j] = Σₚ A[i][p]·B[p][j] for i < rows ≤ 8 as one chain of fused
// multiply-adds per element (the bits of Kern512 on the same values), with
// no bias or activation; flags may hold Accumulate. lda, ks, ldc, rows and
// mask are Kern512's. It needs Has512.
//
//go:noescape
func Kern512S(a *float32, lda int, b *float32, ldb int, k int, c *float32, ldc int, rows int, mask *int32, flags int, ks int)

// Kern256S is Kern512S with AVX2: a tile of up to 6 rows and 16 columns
// (mask of 16 entries), B's row p at b + p·ldb read in place (masked
// columns are not read), no bias or activation, flags Accumulate or 0;
// each element one chain of fused multiply-adds over p, Kern256's bits;
// with PrefetchA in flags it asks for A's lines 8 steps of p ahead. With
// at most 4 rows and all 16 columns it runs their 8 accumulators only.
// It needs Has256.
//
//go:noescape
func Kern256S(a *float32, lda int, b *float32, ldb int, k int, c *float32, ldc int, rows int, mask *int32, flags int, ks int)

// RowS256 computes one row of C = a·B, B's row l at b + l·ldb read in
// place (no packing): cols = 64 columns, or cols ≤ 32 with mask the
// 32-entry mask of cols columns (lanes past it neither read nor written),
// into c[0:cols]. Each element is one chain of fused multiply-adds over
// l = 0 … k−1 from 0, whatever the columns around it. It needs Has256.
//
//go:noescape
func RowS256(a *float32, b *float32, ldb int, k int, c *float32, cols int, mask *int32)

// Kern256P is Kern256 (A row-major, ks = 1) over panels ≥ 1 consecutive
// packed panels (b at the first; each k·16 values) for the same up to 6
// rows of A: each panel's tile from 0, then bias (when not nil, 16 values
// a panel) and ReLU (relu ≠ 0), the same bits as a call of Kern256 per
// panel; mask (16 entries) applies to the last panel, the others are
// whole. It saves a call per panel where k is short. With at most 4
// rows it runs their 8 accumulators only, which on Zen 3 made 4-row
// tiles of the models' products with k ≤ 256 1.01–1.23× faster than
// 6-row ones (256×32·32×784 1.10–1.13×; long-k ones no faster). There,
// when the last panel has at most 8 columns (a width of 16j + 1 … 16j + 8,
// as 100), it and the panel before it run together on 24 columns, 12
// accumulators, instead of 16 and then a latency-bound 8 (on Zen 3,
// best of 12 interleaved runs: 256×100·100×100 85 → 92 GFLOP/s,
// 256×10·10×100 64 → 68), the same bits. It needs Has256.
//
//go:noescape
func Kern256P(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, panels int, mask *int32, bias *float32, relu int)

// Kern512x12T computes a full 12×32 tile of C = A·B with A stored
// transposed (row i's value p at a + i + p·ks: the 12 rows' values of one
// p are consecutive) and B's row p at b + p·ldb (ldb = 32 for a packed
// panel, or a matrix's row stride to read it in place): each element one
// chain of fused multiply-adds over p, Kern512's bits. Only the columns
// whose mask entry is −1 are read from B and C and written to C; no bias
// or activation; flags may hold Accumulate. It needs Has512.
//
//go:noescape
func Kern512x12T(a *float32, ks int, b *float32, ldb int, k int, c *float32, ldc int, mask *int32, flags int)

// Kern512x12 is Kern512 for a full tile of 12 rows (24 accumulators), A
// stored row-major (ks = 1); flags and result as Kern512's. It needs
// Has512.
//
//go:noescape
func Kern512x12(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int) int

// Row512 computes one row of C against up to 4 consecutive 32-column
// panels of packed B (panel stride pstride elements; panels ≥ 1), 128
// columns, with Kern512's bias, ReLU (relu ≠ 0) and mask (128 int32).
//
//go:noescape
func Row512(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int)

// Kern256 is Kern512 with AVX2: tiles of up to 6 rows and 16 columns
// against 16-column panels; mask has 16 entries (a prefix of valid
// columns: a partial panel's are written in pieces of 8, 4, 2 and 1
// through the stack, as masked stores are microcoded on AMD cores and
// took Zen 3 about as long as the products of 256×100·100×100's last
// panel). With Sigmoid it applies
// package vmath's AVX2 sigmoid (sigmoidBiasAVX2, bit for bit, a row's
// tail of fewer than 8 columns as vmath's padded tail) to the stored
// tile, and returns non-zero when a value was out of its range, as
// Kern512 does. It needs Has256.
//
//go:noescape
func Kern256(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int

// Row256 is Row512 with AVX2: up to 4 16-column panels (64 columns); mask
// has 64 entries.
//
//go:noescape
func Row256(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int)

// EqualRows512 reports whether the k rows of B at b (row stride ldb
// elements) equal, bit for bit, the packed 32-column panels at p (panels
// of them, each k rows of 32 values): row l of B against row l of every
// panel, B read in order; mask (32 int32, −1 for a valid lane) applies to
// the last panel's columns, the others are compared whole. It is how
// package kernel checks that a matrix has not changed since it was
// packed, without a copy of it. It needs Has512.
//
//go:noescape
func EqualRows512(b *float32, ldb int, p *float32, k int, panels int, mask *int32) bool

// EqualRows256 is EqualRows512 for 16-column panels (AVX2: mask has 16
// entries). It needs Has256.
//
//go:noescape
func EqualRows256(b *float32, ldb int, p *float32, k int, panels int, mask *int32) bool

// Trans8x8 transposes blocks 8×8 blocks: for b < blocks, dst[(8b+i)·ldd +
// j] = src[j·lds + 8b + i] for i, j < 8 (strides in elements): 8 rows of
// src, read along, become columns of dst. It needs Has256 (it uses AVX
// only).
//
//go:noescape
func Trans8x8(src *float32, lds int, dst *float32, ldd int, blocks int)

// PrefetchLines issues PREFETCHT0 for the n 64-byte cache lines from p
// on: a hint that reads and changes nothing (a line past the end of an
// allocation is never faulted on).
//
//go:noescape
func PrefetchLines(p *float32, n int)

// Kern512x14 is Kern512x12 for a full tile of 14 rows (28 accumulators),
// without the sigmoid: flags may hold Relu and Accumulate. Each element
// is the same chain of fused multiply-adds as in the other tiles, so the
// bits do not depend on which tile computes a row. It needs Has512.
//
//go:noescape
func Kern512x14(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int)
