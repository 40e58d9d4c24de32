package runtime

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/internal/pool"
)

// workspace holds the two ping-pong buffers of one forward pass.
type workspace struct {
	buf [2][]float32
}

func (w *workspace) get(i, n int) []float32 {
	if cap(w.buf[i]) < n {
		w.buf[i] = make([]float32, n)
	}
	return w.buf[i][:n]
}

// Predict runs m on the samples in x, row-major with InputWidth values per
// sample, and writes the outputs to dst, which it grows if its capacity is
// too small, and returns. Once warm (after a first call with at least as
// many rows), Predict allocates nothing when dst has room. It is safe to
// call from several goroutines at once.
//
// Predict runs on the calling goroutine only: each matrix product is one
// single-threaded call (see package internal/kernel), so concurrent
// callers never oversubscribe the cores. To spread one large batch over
// several cores use a Parallel.
//
// Where package kernel has an assembly micro-kernel for the CPU (AVX-512
// or AVX2+FMA), a batch of at least PackedMinRows rows multiplies with
// weights packed into the micro-kernel's layout, adding the bias and
// applying the activation as each block of rows is computed
// (kernel.GemmPacked); a single sample multiplies with the kernels read
// in place (kernel.GemmRow: each output one chain of fused multiply-adds,
// 13–19% less time than OpenBLAS's sgemv for 784-32-784 and
// 100-10-10-100-100, about the same for the deep model, on Zen 3), the
// bias and activation then applied by kernel.BiasAct; other batches, and
// other CPUs, run a Gemm and kernel.BiasAct per layer. The first packed
// batch packs every Dense kernel, once; every later batch compares the
// Kernel values with the packed panels (kernel.Packed.Holds: no copy of the weights is kept, and
// the panels it reads are those the products read next) and packs again
// if they differ, so weights may be changed in place between calls as
// before. Callers that do not change weights in place can turn the
// comparison off with CheckWeights(false) and then announce in-place
// changes with WeightsChanged (Parallel does not compare either). The
// packed copy takes as much memory as the Dense kernels; models with more
// than PackedMaxWeights kernel values are not packed.
//
// An x whose length is not a multiple of InputWidth returns an error
// wrapping ErrShape. NaN and Inf inputs propagate as IEEE arithmetic says.
func (m *Model) Predict(dst, x []float32) ([]float32, error) {
	n, dst, err := m.prepare(dst, x)
	if err != nil {
		return dst, err
	}
	ws, _ := m.scratch.Get().(*workspace)
	if ws == nil {
		ws = new(workspace)
	}
	m.predictRows(ws, dst, x, n, m.packedFor(n))
	m.scratch.Put(ws)
	return dst, nil
}

// prepare checks x and sizes dst for its rows.
func (m *Model) prepare(dst, x []float32) (int, []float32, error) {
	w := m.InputWidth()
	if w <= 0 || len(x)%w != 0 {
		return 0, dst, fmt.Errorf("%w: %d values is not a whole number of samples of width %d", ErrShape, len(x), w)
	}
	if err := m.check(); err != nil {
		return 0, dst, err
	}
	n := len(x) / w
	need := n * m.outWidth()
	if cap(dst) < need {
		dst = make([]float32, need)
	}
	return n, dst[:need], nil
}

// check is the part of Validate that keeps the forward pass in bounds,
// done without allocating before every pass, so that a model built or
// changed in code gets an error wrapping ErrInvalid instead of a panic.
func (m *Model) check() error {
	size := m.InputWidth()
	last := size
	if len(m.Input) > 0 {
		last = m.Input[len(m.Input)-1]
	}
	_, _, err := m.checkWidths(last, size)
	return err
}

func (m *Model) checkWidths(last, size int) (int, int, error) {
	for i, l := range m.Layers {
		if l == nil {
			return 0, 0, fmt.Errorf("%w: model %q layer %d is nil", ErrInvalid, m.Name, i)
		}
		if l.Act.Func >= numFuncs {
			return 0, 0, fmt.Errorf("%w: layer %q has activation %v", ErrInvalid, l.Name, l.Act.Func)
		}
		switch l.Type {
		case Dense:
			if l.In != size || l.In != last || l.Units <= 0 || len(l.Kernel) != l.In*l.Units || (l.Bias != nil && len(l.Bias) != l.Units) {
				return 0, 0, fmt.Errorf("%w: Dense layer %q (%d→%d, %d kernel and %d bias values) does not fit its input of width %d; see Validate",
					ErrInvalid, l.Name, l.In, l.Units, len(l.Kernel), len(l.Bias), size)
			}
		case Reshape:
			known, free := 1, false
			for _, d := range l.Shape {
				if d == -1 {
					free = true
				} else {
					known *= d
				}
			}
			if known <= 0 || (!free && l.Shape != nil && known != size) || (free && size%known != 0) {
				return 0, 0, fmt.Errorf("%w: layer %q cannot reshape %d values to %v", ErrInvalid, l.Name, size, l.Shape)
			}
		case SubModel:
			if l.Sub == nil {
				return 0, 0, fmt.Errorf("%w: layer %q has no model", ErrInvalid, l.Name)
			}
			var err error
			if last, size, err = l.Sub.checkWidths(last, size); err != nil {
				return 0, 0, err
			}
			continue
		case Other:
			if l.Kind == nil {
				return 0, 0, fmt.Errorf("%w: layer %q has no kind", ErrInvalid, l.Name)
			}
			if err := l.Kind.Check(last); err != nil {
				return 0, 0, fmt.Errorf("layer %q (%s): %w", l.Name, l.Kind.Class(), err)
			}
		case ActivationLayer, Identity:
		default:
			return 0, 0, fmt.Errorf("%w: layer %q has type %v", ErrInvalid, l.Name, l.Type)
		}
		last, size = l.outWidths(last, size)
	}
	return last, size, nil
}

// predictRows runs the n rows of x through m into dst using ws, with the
// packed kernels pm (nil: Gemm).
func (m *Model) predictRows(ws *workspace, dst, x []float32, n int, pm *packedModel) {
	m.predictRowsCols(ws, dst, x, n, pm, nil)
}

// predictRowsCols is predictRows with the Dense products of a single
// sample offered first to cols (Parallel.splitCols), which reports whether
// it computed the layer (nil: none is).
func (m *Model) predictRowsCols(ws *workspace, dst, x []float32, n int, pm *packedModel, cols func(l *Layer, x, out []float32) bool) {
	f := forward{ws: ws, n: n, cur: x, which: -1, dst: dst, tail: m.tailDense(), packed: pm, cols: cols}
	size := m.InputWidth()
	last := size
	if len(m.Input) > 0 {
		last = m.Input[len(m.Input)-1]
	}
	f.run(m, last, size)
	if f.which != inDst {
		copy(dst, f.cur)
	}
}

// tailDense returns m's last Dense layer when only layers that leave values
// unchanged (Identity, Reshape) follow it, else nil: its output is the
// model's, so it can be written straight into the caller's buffer.
func (m *Model) tailDense() *Layer {
	for i := len(m.Layers) - 1; i >= 0; i-- {
		switch l := m.Layers[i]; l.Type {
		case Dense:
			return l
		case SubModel:
			if l.Sub == nil {
				return nil
			}
			return l.Sub.tailDense()
		case Identity, Reshape:
		default:
			return nil
		}
	}
	return nil
}

// forward is the state of one pass: the current activations cur, held in
// x (which == -1), in ws.buf[which] or in dst (which == inDst).
type forward struct {
	ws    *workspace
	n     int
	cur   []float32
	which int
	dst   []float32 // the caller's output
	tail  *Layer    // the layer whose output is the model's (see tailDense)

	packed *packedModel // the packed kernels, nil when Gemm runs
	dense  int          // index in packed of the next Dense layer

	// cols, when not nil, may compute a Dense layer of a single sample
	// (n = 1, Gemm) and then reports true (Parallel.splitCols).
	cols func(l *Layer, x, out []float32) bool
}

// inDst is forward.which when cur is the caller's dst.
const inDst = 2

// own makes cur writable, copying the caller's input into scratch.
func (f *forward) own() {
	if f.which < 0 {
		b := f.ws.get(0, len(f.cur))
		copy(b, f.cur)
		f.cur, f.which = b, 0
	}
}

// run runs m's layers; last is the width of the innermost axis of the
// current samples (Softmax's axis), size the number of values per sample.
// It works on widths rather than shapes so as not to allocate.
func (f *forward) run(m *Model, last, size int) (int, int) {
	for _, l := range m.Layers {
		switch l.Type {
		case Dense:
			next := 1
			if f.which == 1 {
				next = 0
			}
			var out []float32
			if l == f.tail && f.which >= 0 {
				// The last layer writes the output in place, unless
				// it reads the caller's x, which dst may overlap.
				out, next = f.dst[:f.n*l.Units], inDst
			} else {
				out = f.ws.get(next, f.n*l.Units)
			}
			switch {
			case f.packed != nil:
				p := &f.packed.layers[f.dense].p
				f.dense++
				kernel.GemmPacked(f.n, f.cur, l.In, p, out, l.Units, l.Bias, kernel.Act(l.Act))
			case f.n == 1 && f.cols != nil && f.cols(l, f.cur, out):
			case f.n == 1 && kernel.RowAsm():
				// A single sample: the kernel read in place, each
				// output one chain over the inputs (Parallel may
				// split the columns: the same bits).
				kernel.GemmRow(l.In, f.cur, l.Kernel, l.Units, 0, l.Units, out)
				kernel.BiasAct(kernel.Act(l.Act), out, 1, l.Units, l.Bias)
			default:
				kernel.Gemm(false, false, f.n, l.Units, l.In, 1, f.cur, l.In, l.Kernel, l.Units, 0, out, l.Units)
				kernel.BiasAct(kernel.Act(l.Act), out, f.n, l.Units, l.Bias)
			}
			f.cur, f.which = out, next
		case ActivationLayer:
			if !l.Act.IsIdentity() {
				f.own()
				l.Act.Apply(f.cur, last)
			}
		case SubModel:
			last, size = f.run(l.Sub, last, size)
			continue
		case Other:
			f.own()
			l.Kind.Forward(f.cur, f.n, last)
		}
		last, size = l.outWidths(last, size)
	}
	return last, size
}

// outWidths is OutputShape reduced to the innermost width and the size, for
// the layer types that are not sub-models; it does not allocate.
func (l *Layer) outWidths(last, size int) (int, int) {
	switch l.Type {
	case Dense:
		return l.Units, l.Units
	case Reshape:
		if len(l.Shape) == 0 {
			return size, size
		}
		d := l.Shape[len(l.Shape)-1]
		if d == -1 {
			known := 1
			for _, v := range l.Shape[:len(l.Shape)-1] {
				known *= v
			}
			if known > 0 {
				d = size / known
			}
		}
		return d, size
	}
	return last, size
}

// outWidth returns the number of values in one output sample of m without
// allocating (OutputWidth builds the shape).
func (m *Model) outWidth() int {
	size := m.InputWidth()
	last := size
	if len(m.Input) > 0 {
		last = m.Input[len(m.Input)-1]
	}
	_, size = m.widths(last, size)
	return size
}

func (m *Model) widths(last, size int) (int, int) {
	for _, l := range m.Layers {
		if l.Type == SubModel {
			last, size = l.Sub.widths(last, size)
			continue
		}
		last, size = l.outWidths(last, size)
	}
	return last, size
}

// parallelMinMACs is the least work, in multiply-adds per goroutine, for
// which Parallel splits a batch: below it handing rows to another
// goroutine costs more than it saves, so small batches run on the
// caller's goroutine (a single sample may be cut into blocks of columns:
// see colMinMACs). The hand-off costs 0.1–0.4 µs while the
// workers spin between calls (pool.BenchmarkRun) but 12–18 µs when they
// have parked, about the time of 2¹⁹ multiply-adds, so that a first call
// after a pause loses little. Measured with 2 goroutines against Predict
// (AMD EPYC Zen 3, packed AVX2 kernels, calls back to back): at 128 rows,
// the smallest batch split (two blocks of PackedMinRows), 2.0× for
// 100-10-10-100-100 (0.77M per goroutine), 1.6× for 784-32-784 and 2.0×
// for the deep 784-…-784 model.
const parallelMinMACs = 1 << 19

// Parallel runs a Model's forward pass on several goroutines, splitting a
// batch into contiguous blocks of rows, one per goroutine, each with its own
// scratch buffers: every layer of a block runs on one goroutine with no
// synchronisation between layers, and each matrix product is a
// single-threaded BLAS call, so the goroutines never oversubscribe the
// cores. Batches too small to be worth splitting (under 2·PackedMinRows
// rows or about 2¹⁹ multiply-adds per goroutine) run on the caller's
// goroutine, except a single sample where kernel.GemmRow has its
// assembly: its Dense layers of at least colMinMACs multiply-adds are cut
// into blocks of columns, one per goroutine (the same bits: each output is
// one chain over the layer's inputs), so that each core reads only its
// share of the kernel, from its own L2 cache once warm. The deep
// 784-128-64-32-64-128-784 model's single sample took 17.7 → 9.6 µs on 2
// goroutines (Zen 3, interleaved runs).
//
// A Parallel is safe for concurrent use, but serves one Predict at a time:
// concurrent callers take turns. Give each concurrent caller its own
// Parallel, or use Model.Predict, when they should run side by side. The
// model's weights must not change while a Parallel uses them: where
// package kernel has an assembly micro-kernel, its first batch of at least
// PackedMinRows rows packs the Dense kernels (see Model.Predict) and it
// keeps using them, without comparing them with the model's Kernel values
// on every call as Model.Predict does (unless CheckWeights(false)): a
// compare of every weight with its packed copy, ~10 µs or 1.5% of a
// 256-row pass of the deep model when in cache (kernel.BenchmarkHolds).
// After changing weights in place, call the model's WeightsChanged (or
// make a new Parallel); replacing layers or Kernel slices is noticed.
// Close stops its goroutines.
type Parallel struct {
	m       *Model
	threads int
	macs    int // multiply-adds per sample

	mu     sync.Mutex
	pm     *packedModel // the weights packed by the first large batch
	ws     []*workspace
	pool   *pool.Pool // nil when threads == 1
	closed bool

	// The batch being split, read by block on every goroutine.
	job   parJob
	parts int
	block func(c, t int) // p.runBlock, bound once so Predict allocates nothing

	// The Dense layer of a single sample being split by columns, read
	// by colBlock on every goroutine; split and colBlock are p.splitCols
	// and p.runCols, bound once.
	col      colJob
	split    func(l *Layer, x, out []float32) bool
	colBlock func(c, t int)
}

// colJob is one Dense layer of a single sample that Parallel splits into
// blocks of columns.
type colJob struct {
	l      *Layer
	x, out []float32
	parts  int
}

// colMinMACs is the least multiply-adds a Dense layer of a single sample
// must have for Parallel to split it into blocks of columns, each
// goroutine reading its block's share of the kernel; smaller layers run
// on the caller's goroutine, as a hand-off costs 0.1–0.4 µs. A goroutine
// keeps the same columns from call to call, so that a kernel too large
// for one core's L2 cache (the deep model's two 784×128 ones, 0.8 MB with
// the others, against Zen 3's 512 KB) stays in the L2 caches of the
// cores together.
const colMinMACs = 1 << 16

// colAlign is the width of Parallel's blocks of columns but the last: a
// multiple of the vector kernels' widths and of the activations' blocks of
// 8 values (vmath's sigmoid computes a block holding a value out of its
// range in float64), so that every column's sum and activation are
// computed as in the whole row's.
const colAlign = 64

// parJob is a batch Parallel splits into blocks of rows.
type parJob struct {
	dst, x    []float32
	n         int
	inW, outW int // values per sample in x and dst
	pm        *packedModel
}

// NewParallel returns a Parallel running m on up to threads goroutines:
// the caller's and threads−1 workers it starts. threads ≤ 0 means
// runtime.GOMAXPROCS(0), all the cores Go may use. m must be valid (see
// Validate).
func NewParallel(m *Model, threads int) *Parallel {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Parallel{m: m, threads: threads, macs: macsPerSample(m)}
	p.ws = make([]*workspace, threads)
	for i := range p.ws {
		p.ws[i] = new(workspace)
	}
	if threads > 1 {
		p.pool = pool.New(threads)
	}
	p.block = p.runBlock
	p.split, p.colBlock = p.splitCols, p.runCols
	return p
}

// splitCols computes Dense layer l of a single sample, x into out, in
// blocks of columns on p's goroutines, when it is large enough
// (colMinMACs) and its activation acts on each value alone; it reports
// whether it did.
func (p *Parallel) splitCols(l *Layer, x, out []float32) bool {
	if !kernel.RowAsm() || l.In*l.Units < colMinMACs || l.Act.Func == Softmax || l.Act.Func == LogSoftmax {
		return false
	}
	parts := min(p.threads, l.Units/colAlign)
	if parts < 2 {
		return false
	}
	p.col = colJob{l: l, x: x, out: out, parts: parts}
	p.pool.Run(p.colBlock)
	p.col = colJob{}
	return true
}

// runCols computes block c of the columns of p.col's layer (none when
// c ≥ its parts): the product, then the bias and activation, as Predict
// does for the whole row.
func (p *Parallel) runCols(c, _ int) {
	j := &p.col
	if c >= j.parts {
		return
	}
	l := j.l
	lo, hi := colStart(c, j.parts, l.Units), colStart(c+1, j.parts, l.Units)
	w := hi - lo
	kernel.GemmRow(l.In, j.x, l.Kernel, l.Units, lo, hi, j.out[lo:hi])
	var b []float32
	if l.Bias != nil {
		b = l.Bias[lo:hi]
	}
	kernel.BiasAct(kernel.Act(l.Act), j.out[lo:hi], 1, w, b)
}

// colStart returns where block c of parts starts in n columns: at a
// multiple of colAlign.
func colStart(c, parts, n int) int {
	if c >= parts {
		return n
	}
	return c * n / parts / colAlign * colAlign
}

// macsPerSample returns the multiply-adds of m's Dense layers per sample.
func macsPerSample(m *Model) int {
	s := 0
	m.Walk(func(_ []string, l *Layer) {
		if l.Type == Dense {
			s += l.In * l.Units
		}
	})
	return max(s, 1)
}

// runBlock runs block c of p.parts of the current batch (none when c ≥
// p.parts) with workspace c.
func (p *Parallel) runBlock(c, _ int) {
	if c >= p.parts {
		return
	}
	j := &p.job
	inW, outW := j.inW, j.outW
	lo, hi := blockStart(c, p.parts, j.n), blockStart(c+1, p.parts, j.n)
	p.m.predictRows(p.ws[c], j.dst[lo*outW:hi*outW], j.x[lo*inW:hi*inW], hi-lo, j.pm)
}

// Threads returns the largest number of goroutines p runs a batch on.
func (p *Parallel) Threads() int { return p.threads }

// Predict is Model.Predict spread over p's goroutines, in blocks of at
// least PackedMinRows rows. With the packed micro-kernels (see
// Model.Predict) the outputs are Model.Predict's, bit for bit, whatever
// the number of goroutines: each output is one chain of multiply-adds
// whatever rows share its tile. With Gemm they agree within float32
// rounding, not always bitwise: OpenBLAS may sum a row's products in
// another order when the product has fewer rows (measured: 1 ulp on some
// values; TestParallelMatchesPredict bounds it by 1e-6 relative). Once
// warm it allocates nothing when dst has room. Between calls p's workers
// spin for up to 50 µs (pool.SpinFor) before they park, so that calls in
// quick succession do not wait for parked threads to wake. A panic in a
// block is raised in the caller's goroutine. After Close it runs on the
// caller's goroutine.
func (p *Parallel) Predict(dst, x []float32) ([]float32, error) {
	n, dst, err := p.m.prepare(dst, x)
	if err != nil {
		return dst, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	parts := 1
	if !p.closed {
		// Each block keeps at least PackedMinRows rows, so that every
		// block multiplies as the whole batch would (packed or not).
		parts = min(p.threads, n*p.macs/parallelMinMACs, n/PackedMinRows)
	}
	var pm *packedModel
	if n >= PackedMinRows && kernel.PackedAsm() && p.m.denseWeights() <= PackedMaxWeights {
		if p.pm == nil || !p.pm.sameLayers(p.m) || p.pm.gen != p.m.packs.gen.Load() {
			p.pm = p.m.packedFor(n)
		}
		pm = p.pm
	}
	if parts <= 1 {
		var cols func(l *Layer, x, out []float32) bool
		if n == 1 && p.pool != nil && !p.closed {
			cols = p.split
		}
		p.m.predictRowsCols(p.ws[0], dst, x, n, pm, cols)
		return dst, nil
	}
	p.job, p.parts = parJob{dst: dst, x: x, n: n, inW: len(x) / n, outW: len(dst) / n, pm: pm}, parts
	defer func() { p.job = parJob{} }() // drop the caller's slices
	p.pool.Run(p.block)
	return dst, nil
}

// blockStart returns where block c of parts starts in n rows: at a
// multiple of 16 rows, the height of OpenBLAS's AVX-512 micro-tiles.
func blockStart(c, parts, n int) int {
	if c >= parts {
		return n
	}
	return min(n, (c*n/parts+15)/16*16)
}

// Close stops p's workers; later calls to Predict run on the caller's
// goroutine. Close is idempotent.
func (p *Parallel) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pool.Close()
	p.closed = true
}

// PackedMinRows is the smallest batch Predict and Parallel multiply with
// packed weights. Below it each product is a Gemm (OpenBLAS's small-matrix
// kernels, or gonum). Measured with Model.Predict (best of 300 calls,
// packing and comparing included, against Gemm): at 32 rows 0.90–1.0×
// for the three models; at 64 rows 0.94× (deep), 0.96× (seed) and 1.32×
// (ae784); at 128 rows 1.08×, 1.13× and 1.43×. Parallel never cuts a batch
// into blocks smaller than this, so that its blocks take the path the
// whole batch would.
const PackedMinRows = 64

// PackedMaxWeights is the largest number of Dense kernel values (all
// layers) a model may have for Predict and Parallel to pack them: packing
// keeps one more copy, 4 bytes per weight, so larger models multiply with
// Gemm, which packs per call into memory it frees.
const PackedMaxWeights = 16 << 20

// denseWeights returns the number of Dense kernel values in m, without
// allocating.
func (m *Model) denseWeights() int {
	s := 0
	for _, l := range m.Layers {
		switch l.Type {
		case Dense:
			s += len(l.Kernel)
		case SubModel:
			if l.Sub != nil {
				s += l.Sub.denseWeights()
			}
		}
	}
	return s
}
