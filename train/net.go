package train

import (
	"fmt"
	"math"

	"github.com/aekit/aekit/internal/bigmem"
	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/internal/pool"
	"github.com/aekit/aekit/runtime"
)

// op is one differentiable step of the flattened model: a Dense layer with
// its activation, or a stand-alone activation.
type op struct {
	dense   bool
	layer   *runtime.Layer
	in, out int
	act     runtime.Activation
	w, b    []float32 // weights: views into net.params (b nil without bias)
	dw, db  []float32 // gradients: views into net.grads
	wOff    int       // offset of w in net.params (and of its optimizer state)
	bOff    int       // offset of b in net.params
	x       []float32 // input rows (the previous op's a, or net.xb)
	z       []float32 // pre-activation rows (for an activation op, x)
	a       []float32 // output rows (z itself when the activation is linear)
	g       []float32 // gradient w.r.t. a, turned in place into w.r.t. z
	prevG   []float32 // where the gradient w.r.t. x goes (nil for the first op)
	logits  bool      // last op whose sigmoid is folded into the loss

	// reg holds a Dense op's regularisers (nil: none); actPen is the
	// activity penalty of each row of the batch.
	reg    *runtime.Regularizers
	actPen []float64

	// A noise op (Dropout, GaussianNoise, ...; see noise.go) of kind
	// with rate, its constants, and the multiplier of x per value.
	noise        bool
	kind         Kind
	rate         float64
	scale, shift float32
	mask         []float32
	index        int // position in net.ops, for the noise key

	norm *normOp // a layer of a trainable runtime.Kind (norm.go)

	frozen bool // the layer is frozen: its weights are not trained (frozen.go)

	packed bool          // forward through pw (kernel.GemmPacked)
	pw     kernel.Packed // w packed for the forward product, again before each batch (repackRows)
	// With packed, δ·Wᵀ runs on the packed kernels too, against pwT (wᵀ,
	// re-packed before each training batch, when the op has a prevG);
	// with packG, so does xᵀ·δ, against pg (g, packed by each thread's
	// bwdRows as it finishes its rows).
	pwT   kernel.Packed
	packG bool
	pg    kernel.Packed
	// With packXT, xᵀ·δ is computed transposed, (δᵀ·x)ᵀ: x packed by
	// each thread's bwdRows into px, δᵀ·x into dwT (out×in), transposed
	// into dw; for a wide g (an output layer's 784) on a narrow x.
	packXT bool
	px     kernel.Packed
	dwT    []float32
	// With strideG, xᵀ·δ reads x and g in place (kernel.GemmAT): a g
	// wider than 128 on an x wider than 64 (deep's 128×784), where
	// neither g nor x is worth packing.
	strideG bool

	fwd, bwdRows, bwdWeights func(c, t int)
}

// net holds a model's flattened ops and every buffer one training step
// needs, allocated once for batches of up to maxB rows.
type net struct {
	ops       []*op
	inW, outW int
	maxB      int
	params    []float32 // all weights, layer by layer: kernel then bias
	grads     []float32
	pool      *pool.Pool

	n        int       // rows in the current batch
	train    bool      // compute gradients
	xb, yb   []float32 // batch inputs and targets
	rowLoss  []float64 // per-row loss (mean over features)
	ones     []float32 // maxB ones, for the bias gradients
	loss     Loss
	scale    float32
	src, tgt Data // the batch's inputs and targets
	// selfTarget is set when tgt is src (an autoencoder): the targets
	// are read from xb.
	selfTarget bool
	y          []float32 // the batch's targets: yb, xb, or rows of tgt
	gx, gy     bool      // read rows of src into xb, of tgt into yb
	// seed and iter key the noise layers' random numbers of a training
	// batch (see noise.go).
	seed     uint64
	iter     int64
	noiseKey uint64
	hasReg   bool // some Dense op has regularisers
	// firstParams is the index of the first op with weights: the
	// backward pass stops there.
	firstParams int
	rowIdx      []int   // the batch's row indices
	seq         []int   // maxB indices for batches in data order
	errs        []error // per-thread read errors

	// opt, when not nil, is the update the next training batch applies,
	// layer by layer, as soon as a layer's gradient is complete (see
	// arm).
	opt    Optimizer
	consts stepConsts
	slots  [][]float32

	gather, lossRows func(c, t int)
	repack           func(c, t int) // repackRows

	// strided tells packRule that kernel.GemmAT's assembly runs here
	// (newNetStrided).
	strided bool

	// arena holds the buffers a step works on (nil: each from make); see
	// arenaSize.
	arena *bigmem.Arena

	// times, when not nil, receives each training step's time by phase,
	// prod each thread's product time within the step (steptimes.go).
	times *StepTimes
	ph    StepTimes     // the phases of the step being timed
	prod  [][]prodClock // per thread, per op and product site
	sites []int         // the sites of ph.ByProduct's entries
}

// newNet flattens m and points its Dense layers' Kernel and Bias at one
// contiguous parameter buffer holding the same values.
func newNet(m *runtime.Model, loss Loss, maxB, threads int) (*net, error) {
	return newNetStrided(m, loss, maxB, threads, kernel.StridedAsm())
}

// newNetStrided is newNet with the choice of packRule's strided made by
// the caller: false computes the weight gradients the strided kernel
// would with the packed-x path instead (the same bits), as on CPUs
// without it, which a test runs here.
func newNetStrided(m *runtime.Model, loss Loss, maxB, threads int, strided bool) (*net, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	nt := &net{inW: m.InputWidth(), outW: m.OutputWidth(), maxB: maxB, loss: loss, strided: strided}
	frozen := m.FrozenLayers()
	var layers []*runtime.Layer
	var werr error
	width := nt.inW
	m.Walk(func(_ []string, l *runtime.Layer) {
		if werr != nil {
			return
		}
		switch l.Type {
		case runtime.Dense:
			if err := differentiable(l.Act); err != nil {
				werr = fmt.Errorf("layer %q: %w", l.Name, err)
				return
			}
			o := &op{dense: true, layer: l, in: l.In, out: l.Units, act: l.Act, frozen: frozen[l]}
			if l.Reg != nil && l.Reg.Unsupported != "" {
				werr = fmt.Errorf("%w: layer %q: %s, which the trainer cannot add to the loss as Keras would", ErrModel, l.Name, l.Reg.Unsupported)
				return
			}
			if o.reg = trainedReg(l.Reg, o.frozen); o.reg != nil {
				nt.hasReg = true
			}
			nt.ops = append(nt.ops, o)
			layers = append(layers, l)
			width = l.Units
		case runtime.ActivationLayer:
			if err := differentiable(l.Act); err != nil {
				werr = fmt.Errorf("layer %q: %w", l.Name, err)
				return
			}
			if !l.Act.IsIdentity() {
				nt.ops = append(nt.ops, &op{layer: l, in: width, out: width, act: l.Act})
			}
		case runtime.Identity:
			if l.Rate == 0 {
				return
			}
			k, ok := noiseKind(l)
			if !ok {
				werr = fmt.Errorf("%w: layer %q (%s, rate %g) behaves differently while training, which the trainer does not reproduce for %s; remove it or set its rate to 0",
					ErrModel, l.Name, l.Class, l.Rate, l.Class)
				return
			}
			o := &op{layer: l, in: width, out: width}
			o.setNoise(k, l.Rate)
			nt.ops = append(nt.ops, o)
		case runtime.Other:
			o, err := newNormOp(l, width, maxB, frozen[l])
			if err != nil {
				werr = err
				return
			}
			nt.ops = append(nt.ops, o)
		case runtime.Reshape, runtime.SubModel:
			// Values are unchanged on flat rows.
		default:
			werr = fmt.Errorf("%w: layer %q of type %v", ErrModel, l.Name, l.Type)
		}
	})
	if werr != nil {
		return nil, werr
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: model %q has no Dense layer", ErrModel, m.Name)
	}
	total := 0
	for _, l := range layers {
		total += len(l.Kernel) + len(l.Bias)
	}
	for _, o := range nt.ops {
		total += normParams(o.layer)
	}
	last := nt.ops[len(nt.ops)-1]
	last.logits = loss.IsBinaryCrossentropy() && last.act.Func == runtime.Sigmoid
	// Nothing before the first layer with weights to train (a Dense
	// layer, or a kind such as BatchNormalization, not frozen) is
	// trained: its input gradient and the backward pass of the ops before
	// it are not needed. With none, there is no backward pass.
	nt.firstParams = len(nt.ops)
	for i, o := range nt.ops {
		if o.trains() {
			nt.firstParams = i
			break
		}
	}
	nt.params = make([]float32, total) // the model's Kernel and Bias after Fit: not in the arena
	nt.arena = bigmem.NewArena(nt.arenaSize(total, arenaSlots))
	nt.grads = nt.arena.Float32s(total)
	off := 0
	for _, o := range nt.ops {
		if o.norm != nil {
			var err error
			if off, err = o.norm.bindParams(nt, off, o.frozen); err != nil {
				return nil, fmt.Errorf("%w: layer %q: %w", ErrModel, o.layer.Name, err)
			}
		}
		if !o.dense {
			continue
		}
		l := o.layer
		k := len(l.Kernel)
		copy(nt.params[off:off+k], l.Kernel)
		o.w, o.dw = nt.params[off:off+k:off+k], nt.grads[off:off+k:off+k]
		o.wOff = off
		l.Kernel = o.w
		off += k
		if l.Bias != nil {
			b := len(l.Bias)
			copy(nt.params[off:off+b], l.Bias)
			o.b, o.db = nt.params[off:off+b:off+b], nt.grads[off:off+b:off+b]
			o.bOff = off
			l.Bias = o.b
			off += b
		}
	}

	nt.xb = nt.arena.Float32s(maxB * nt.inW)
	// Targets of their own (a denoising autoencoder's, or a model's
	// that is no autoencoder) are read row by row; an autoencoder's are
	// the batch itself and never touch yb, which in a huge page would
	// still be resident.
	nt.yb = make([]float32, maxB*nt.outW)
	nt.rowLoss = make([]float64, maxB)
	nt.ones = make([]float32, maxB)
	for i := range nt.ones {
		nt.ones[i] = 1
	}
	prev := nt.xb
	if last.reg != nil && !last.reg.Activity.IsZero() && last.logits {
		return nil, fmt.Errorf("%w: layer %q: an activity regulariser on the sigmoid output layer under binary cross-entropy is not supported", ErrModel, last.layer.Name)
	}
	for i, o := range nt.ops {
		o.x = prev
		o.index = i
		switch {
		case o.dense:
			o.z = nt.arena.Float32s(maxB * o.out)
		case !o.noise && o.norm == nil:
			o.z = prev
		}
		if o.reg != nil && !o.reg.Activity.IsZero() {
			o.actPen = make([]float64, maxB)
		}
		switch {
		case o.norm != nil:
			o.a = make([]float32, maxB*o.out)
		case o.noise:
			o.a = make([]float32, maxB*o.out)
			o.mask = make([]float32, maxB*o.out)
		case o.aInZ():
			// The backward pass needs only a (or, for logits, z):
			// the activation runs in place.
			o.a = o.z
		default:
			o.a = nt.arena.Float32s(maxB * o.out)
		}
		if i > 0 {
			o.prevG = nt.ops[i-1].g
		}
		switch {
		case o.noise || o.norm != nil:
			o.g = make([]float32, maxB*o.out)
		case !o.dense && i > 0:
			// An activation's gradient turns into its input's in
			// place, in the previous op's buffer.
			o.g = o.prevG
		case o.dense && o.logits:
			// The loss overwrites the logits, which nothing reads
			// afterwards, with their gradient.
			o.g = o.z
		default:
			o.g = nt.arena.Float32s(maxB * o.out)
		}
		prev = o.a
	}
	if nt.firstParams < len(nt.ops) {
		nt.ops[nt.firstParams].prevG = nil // no input gradient (above)
	}
	for _, o := range nt.ops {
		nt.bindOp(o)
	}
	// A shuffled batch re-packs the weights in the gather's pass over the
	// threads (one barrier fewer: measured 0.75x on seed's 2-thread step
	// with a pass of its own, under load).
	nt.gather = func(c, t int) { nt.gatherRows(c, t); nt.repackRows(c, t) }
	nt.repack = nt.repackRows
	nt.lossRows = nt.computeLossRows
	nt.pool = pool.New(threads)
	nt.seq = make([]int, maxB)
	nt.errs = make([]error, nt.pool.Threads())
	return nt, nil
}

func (nt *net) close() { nt.pool.Close() }

// arenaSlots is the optimizer state vectors newNet keeps room for in its
// arena: Adam's two moments (an optimizer with more takes the rest from
// make; with fewer, the room is never touched).
const arenaSlots = 2

// arenaSize returns the float32 values (each slice rounded up to a cache
// line, as bigmem.Arena hands them out) that newNet and bindOp take from
// nt.arena for a net with total parameters, and newSlots for slots
// optimizer state vectors: the gradients, the batch's inputs, each op's
// z, a and g where it has its own, a Dense layer's
// packed kernel, transposed kernel (with a δ·Wᵀ), packed g or x and
// transposed weight gradient (packRule). It follows the decisions newNet
// and bindOp make, before they make them (TestArenaSize checks that the
// two agree): the arena's block is live Go memory, so room never handed
// out would let the garbage grow by as much before a collection.
//
// In 2 MiB pages (bigmem.Arena) the deep benchmark model trained 0–5%
// faster at 1 thread and 6–12% at 2 (2026-12-06, Intel Xeon under KVM):
// xᵀ·δ reads a batch's columns with a stride of a row, one 4 KiB page per
// row. The parameters stay out of it: the model holds them after Fit.
func (nt *net) arenaSize(total, slots int) int {
	line := bigmem.ArenaLen
	n := (1+slots)*line(total) + line(nt.maxB*nt.inW)
	packed := kernel.PackedAsm()
	for i, o := range nt.ops {
		rows := line(nt.maxB * o.out)
		if o.dense {
			n += rows // z
		}
		if o.norm == nil && !o.noise && !o.aInZ() {
			n += rows // a
		}
		if o.norm == nil && !o.noise && (o.dense || i == 0) && !(o.dense && o.logits) {
			n += rows // g
		}
		if !o.dense || !packed {
			continue
		}
		n += line(o.in * kernel.PackedWidth(o.out))
		if i > 0 && i != nt.firstParams { // prevG: a δ·Wᵀ
			n += line(o.out * kernel.PackedWidth(o.in))
		}
		if o.frozen {
			continue
		}
		switch packG, packXT, _ := packRule(o.in, o.out, nt.strided); {
		case packG:
			n += line(nt.maxB * kernel.PackedWidth(o.out))
		case packXT:
			n += line(nt.maxB*kernel.PackedWidth(o.in)) + line(o.out*o.in)
		}
	}
	return n
}

// aInZ tells whether op o's activation runs in place in z (a is z): a
// Dense layer whose backward pass needs only a (or, for logits, z).
func (o *op) aInZ() bool {
	return o.dense && (o.act.IsIdentity() || o.logits || kernelAct(o.act).InPlace())
}

func (nt *net) bindOp(o *op) {
	if o.noise {
		nt.bindNoise(o)
		return
	}
	if o.norm != nil {
		nt.bindNorm(o)
		return
	}
	ka := kernelAct(o.act)
	if o.packed = o.dense && kernel.PackedAsm(); o.packed {
		o.pw.Reserve(nt.arena.Float32s(o.in * kernel.PackedWidth(o.out)))
		o.pw.Pack(o.in, o.out, o.w, o.out, false) // sized here, re-packed per batch (repackRows)
		if o.prevG != nil {
			o.pwT.Reserve(nt.arena.Float32s(o.out * kernel.PackedWidth(o.in)))
			o.pwT.Pack(o.out, o.in, o.w, o.out, true)
		}
		// xᵀ·δ by kernel.GemmAT where it has its assembly; else on the
		// packed kernels where g is 32–128 wide and x at least 32
		// (packRule): measured on 256-row batches
		// (bench/shapes-2026-12-06-1255.txt), the kernel saves more than
		// packing g costs there; seed's 10-wide layers multiply faster
		// in OpenBLAS, and packing the 784-wide g of an output layer
		// (0.8 MB) costs about what the kernel saves. A fixed rule, not
		// a timing at start-up, so that a run's bits do not depend on
		// the machine's load.
		o.packG, o.packXT, o.strideG = packRule(o.in, o.out, nt.strided)
		if o.frozen { // no weight gradient: nothing to pack for it
			o.packG, o.packXT, o.strideG = false, false, false
		}
		if o.packG {
			o.pg.Reserve(nt.arena.Float32s(nt.maxB * kernel.PackedWidth(o.out)))
			o.pg.Pack(nt.maxB, o.out, o.g, o.out, false)
		}
		if o.packXT {
			o.px.Reserve(nt.arena.Float32s(nt.maxB * kernel.PackedWidth(o.in)))
			o.px.Pack(nt.maxB, o.in, o.x, o.in, false)
			o.dwT = nt.arena.Float32s(o.out * o.in)
		}
	}
	inPlace := o.dense && &o.a[0] == &o.z[0]
	o.fwd = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo {
			return
		}
		rows := hi - lo
		z, a := o.z[lo*o.out:hi*o.out], o.a[lo*o.out:hi*o.out]
		if !o.dense {
			if !o.logits {
				kernel.BiasActTo(ka, a, z, rows, o.out, nil)
			}
			return
		}
		if o.packed {
			// One product per thread, bias (and ReLU) in its
			// registers: bit-identical whatever the thread split.
			x := o.x[lo*o.in : hi*o.in]
			t0 := nt.clock()
			switch {
			case o.logits:
				kernel.GemmPacked(rows, x, o.in, &o.pw, z, o.out, o.b, kernel.Act{})
			case inPlace:
				kernel.GemmPacked(rows, x, o.in, &o.pw, a, o.out, o.b, ka)
			default:
				kernel.GemmPacked(rows, x, o.in, &o.pw, z, o.out, o.b, kernel.Act{})
			}
			nt.product(c, o, siteForward, t0, rows, o.out, o.in)
			if !o.logits && !inPlace {
				kernel.BiasActTo(ka, a, z, rows, o.out, nil)
			}
		} else {
			t0 := nt.clock()
			for r := lo; r < hi; r += blockRows {
				e := min(r+blockRows, hi)
				kernel.Gemm(false, false, e-r, o.out, o.in, 1, o.x[r*o.in:e*o.in], o.in, o.w, o.out, 0, o.z[r*o.out:e*o.out], o.out)
			}
			nt.product(c, o, siteForward, t0, rows, o.out, o.in)
			switch {
			case o.logits:
				// The loss reads the logits z.
				if o.b != nil {
					kernel.AddBias(z, rows, o.out, o.b)
				}
			case inPlace:
				kernel.BiasAct(ka, a, rows, o.out, o.b)
			default:
				kernel.BiasActTo(ka, a, z, rows, o.out, o.b)
			}
		}
		if o.actPen != nil {
			act := o.reg.Activity
			for r := lo; r < hi; r++ {
				o.actPen[r] = regPenalty(act, o.a[r*o.out:(r+1)*o.out])
			}
		}
	}
	o.bwdRows = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo {
			return
		}
		if o.actPen != nil {
			// Keras 3 divides the activity penalty by the batch size.
			regGrad(o.reg.Activity, o.g[lo*o.out:hi*o.out], o.a[lo*o.out:hi*o.out], float32(1/float64(nt.n)))
		}
		if !o.logits {
			kernel.ActGrad(ka, o.g[lo*o.out:hi*o.out], o.z[lo*o.out:hi*o.out], o.a[lo*o.out:hi*o.out], hi-lo, o.out)
		}
		if !o.dense {
			return // an activation op's g is its prevG
		}
		if o.packG {
			// This thread's rows of g, for xᵀ·g (bwdWeights).
			o.pg.PackRows(o.g, o.out, lo, hi)
		}
		if o.packXT {
			o.px.PackRows(o.x, o.in, lo, hi) // for (gᵀ·x)ᵀ
		}
		if o.prevG == nil {
			return
		}
		t0 := nt.clock()
		if o.packed {
			// One chain over out per element: bit-identical
			// whatever the thread split.
			kernel.GemmPacked(hi-lo, o.g[lo*o.out:hi*o.out], o.out, &o.pwT, o.prevG[lo*o.in:hi*o.in], o.in, nil, kernel.Act{})
		} else {
			for r := lo; r < hi; r += blockRows {
				e := min(r+blockRows, hi)
				kernel.Gemm(false, true, e-r, o.in, o.out, 1, o.g[r*o.out:e*o.out], o.out, o.w, o.out, 0, o.prevG[r*o.in:e*o.in], o.in)
			}
		}
		nt.product(c, o, siteBackward, t0, hi-lo, o.in, o.out)
	}
	// The weight gradient xᵀ·g is in×out: cut it into blocks of rows of
	// the kernel when it has enough of them, else into blocks of columns,
	// so that both threads have work for the 32×784 decoder of 784-32-784.
	wByRows := o.in >= o.out || o.in >= 2*blockRows
	o.bwdWeights = func(c, t int) {
		n := nt.n
		if wByRows {
			lo, hi := span(c, t, o.in)
			for r := lo; r < hi; r += blockRows {
				e := min(r+blockRows, hi)
				t0 := nt.clock()
				switch {
				case o.packG:
					kernel.GemmPackedAT(e-r, o.x[r:], o.in, &o.pg, 0, o.out, o.dw[r*o.out:e*o.out], o.out)
				case o.strideG:
					kernel.GemmAT(e-r, n, o.x[r:], o.in, o.g, o.out, 0, o.out, o.dw[r*o.out:e*o.out], o.out)
				default:
					kernel.Gemm(true, false, e-r, o.out, n, 1, o.x[r:], o.in, o.g, o.out, 0, o.dw[r*o.out:e*o.out], o.out)
				}
				nt.product(c, o, siteWeights, t0, e-r, o.out, n)
				if o.reg != nil && !o.reg.Kernel.IsZero() {
					regGrad(o.reg.Kernel, o.dw[r*o.out:e*o.out], o.w[r*o.out:e*o.out], 1)
				}
				nt.apply(o.wOff+r*o.out, o.wOff+e*o.out)
			}
		} else {
			lo, hi := span(c, t, o.out)
			for j := lo; j < hi; j += blockRows {
				e := min(j+blockRows, hi)
				t0 := nt.clock()
				switch {
				case o.packG:
					// j is a multiple of blockRows, so of the panel width.
					kernel.GemmPackedAT(o.in, o.x, o.in, &o.pg, j, e, o.dw[j:], o.out)
				case o.strideG:
					kernel.GemmAT(o.in, n, o.x, o.in, o.g, o.out, j, e, o.dw[j:], o.out)
				case o.packXT:
					// Rows j…e−1 of dwᵀ = gᵀ·x, then into columns j…e−1 of dw.
					dt := o.dwT[j*o.in : e*o.in]
					kernel.GemmPackedAT(e-j, o.g[j:], o.out, &o.px, 0, o.in, dt, o.in)
					kernel.Transpose(o.dw[j:], o.out, dt, o.in, e-j, o.in)
				default:
					kernel.Gemm(true, false, o.in, e-j, n, 1, o.x, o.in, o.g[j:], o.out, 0, o.dw[j:], o.out)
				}
				nt.product(c, o, siteWeights, t0, o.in, e-j, n)
			}
			// The update of this thread's columns, after all of
			// them: one call per row of the kernel (or one for the
			// whole kernel when they are all its columns) rather
			// than one per row of each 128-column block, which cost
			// deep's 128×784 layer twice its 784×128 encoder's
			// update (the same number of weights).
			if o.reg != nil && !o.reg.Kernel.IsZero() {
				for r := range o.in {
					regGrad(o.reg.Kernel, o.dw[r*o.out+lo:r*o.out+hi], o.w[r*o.out+lo:r*o.out+hi], 1)
				}
			}
			if lo == 0 && hi == o.out {
				nt.apply(o.wOff, o.wOff+o.in*o.out)
			} else {
				for r := range o.in {
					nt.apply(o.wOff+r*o.out+lo, o.wOff+r*o.out+hi)
				}
			}
		}
		if o.db != nil {
			// The bias gradient onesᵀ·g: a product, like the
			// others, 14 times faster than a Go loop.
			lo, hi := span(c, t, o.out)
			for j := lo; j < hi; j += blockRows {
				e := min(j+blockRows, hi)
				kernel.Gemm(false, false, 1, e-j, n, 1, nt.ones, n, o.g[j:], o.out, 0, o.db[j:e], o.out)
				if o.reg != nil && !o.reg.Bias.IsZero() {
					regGrad(o.reg.Bias, o.db[j:e], o.b[j:e], 1)
				}
				nt.apply(o.bOff+j, o.bOff+e)
			}
		}
	}
	if o.frozen {
		o.bwdWeights = noWork // nothing to train (frozen.go)
	}
}

// bindNoise binds a noise op: the noise while training, a copy
// otherwise; the backward pass multiplies the gradient by the mask.
func (nt *net) bindNoise(o *op) {
	w := o.out
	o.fwd = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo {
			return
		}
		if !nt.train || o.rate == 0 {
			copy(o.a[lo*w:hi*w], o.x[lo*w:hi*w])
			fill(o.mask[lo*w:hi*w], 1)
			return
		}
		o.noiseFwd(lo, hi, mix64(nt.noiseKey+uint64(o.index)*0xbf58476d1ce4e5b9))
	}
	o.bwdRows = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo || o.prevG == nil {
			return
		}
		g, pg := o.g[lo*w:hi*w], o.prevG[lo*w:hi*w]
		if o.kind == GaussianNoise {
			copy(pg, g)
			return
		}
		m := o.mask[lo*w : hi*w]
		for i, v := range g {
			pg[i] = v * m[i]
		}
	}
}

// arm makes the next training batch apply the optimizer update o with the
// step's scalars c and state slots, layer by layer: each block of a
// layer's weights is updated by the thread that computed its gradient, as
// soon as it has (nothing reads a layer's weights in a step after its
// weight gradient). Measured on the deep model at 2 threads, a separate
// update pass over all the weights took 3 times as long as at 1 thread,
// reading gradients the other core had just written. The update of a
// weight depends on its own values only, so the result is the same as one
// pass over all weights after the batch. The batch disarms it.
func (nt *net) arm(o Optimizer, c stepConsts, slots [][]float32) {
	nt.opt, nt.consts, nt.slots = o, c, slots
}

// apply runs the armed update on params[lo:hi], if one is armed.
func (nt *net) apply(lo, hi int) {
	if nt.opt == nil || hi <= lo {
		return
	}
	var s [3][]float32
	for i, sl := range nt.slots {
		s[i] = sl[lo:hi]
	}
	nt.opt.apply(nt.consts, nt.params[lo:hi], nt.grads[lo:hi], s)
}

// differentiable reports whether the trainer has a derivative for a
// (kernel.ActGrad).
func differentiable(a runtime.Activation) error {
	switch a.Func {
	case runtime.Linear, runtime.ReLU, runtime.ReLU6, runtime.LeakyReLU, runtime.ELU,
		runtime.SELU, runtime.Sigmoid, runtime.HardSigmoid, runtime.Tanh, runtime.Softmax,
		runtime.LogSoftmax, runtime.Softplus, runtime.Softsign, runtime.Exponential,
		runtime.Swish, runtime.GELU, runtime.Mish:
		return nil
	}
	return fmt.Errorf("%w: no derivative for activation %v", ErrModel, a)
}

// kernelAct converts a to the kernel's description of the same function.
func kernelAct(a runtime.Activation) kernel.Act {
	return kernel.Act{
		Func: kernel.ActFunc(a.Func), Alpha: a.Alpha, Beta: a.Beta, Threshold: a.Threshold,
		MaxValue: a.MaxValue, Capped: a.Capped, Approximate: a.Approximate,
	}
}

// setInputGrad makes the backward pass write the gradient with respect
// to the net's input into g (maxB rows of the input width), as a VAE's
// decoder needs for the sampling step; newNet leaves it out.
func (nt *net) setInputGrad(g []float32) {
	o := nt.ops[0]
	o.prevG = g
	if o.packed {
		o.pwT.Pack(o.out, o.in, o.w, o.out, true) // re-packed per batch (repackRows)
	}
}

// repackRows packs thread c's share of every Dense layer's weights for
// the forward pass (and for δ·Wᵀ where the backward pass needs it): they
// changed in the last step's update (or since, by a restore), so each
// batch starts from the weights as they are.
func (nt *net) repackRows(c, t int) {
	for _, o := range nt.ops {
		if o.packed {
			o.pw.Repack(o.w, o.out, c, t)
			if nt.train && o.prevG != nil {
				o.pwT.Repack(o.w, o.out, c, t)
			}
		}
	}
}

// gatherRows reads the batch's rows of src and tgt that are not read in
// place into xb and yb (only into xb when the target is the input), each
// thread its share of the rows.
func (nt *net) gatherRows(c, t int) {
	lo, hi := span(c, t, nt.n)
	if hi <= lo {
		return
	}
	in, out := nt.inW, nt.outW
	idx := nt.rowIdx[lo:hi]
	if sx, ok := nt.src.(*sliceData); ok && nt.gx && !nt.gy {
		// An autoencoder's shuffled rows from memory: each row's
		// memory reads are started a few rows ahead of its copy.
		gatherAhead(nt.xb[lo*in:hi*in], sx.x, in, idx)
		return
	}
	if nt.gx {
		if err := nt.src.ReadRows(nt.xb[lo*in:hi*in], idx); err != nil {
			nt.errs[c] = err
			return
		}
	}
	if nt.gy {
		if err := nt.tgt.ReadRows(nt.yb[lo*out:hi*out], idx); err != nil {
			nt.errs[c] = err
		}
	}
}

// gatherAhead copies rows idx of x (w values each) into dst, as
// sliceData.ReadRows, prefetching the row 4 rows later before each copy:
// the shuffled rows of a large array come from memory, and a row's reads
// then overlap the copies before it instead of starting when its copy
// does. Deep's 256-row gather with the re-pack, best of 300 steps:
// 211–214 → 189–200 µs (8 rows ahead: 201–208).
func gatherAhead(dst, x []float32, w int, idx []int) {
	const ahead = 4
	for r := range min(ahead, len(idx)) {
		kernel.Prefetch(x[idx[r]*w : (idx[r]+1)*w])
	}
	for r, i := range idx {
		if r+ahead < len(idx) {
			j := idx[r+ahead]
			kernel.Prefetch(x[j*w : (j+1)*w])
		}
		copy(dst[r*w:(r+1)*w], x[i*w:(i+1)*w])
	}
}

// computeLossRows fills rowLoss and, when training, the last op's
// gradient.
func (nt *net) computeLossRows(c, t int) {
	lo, hi := span(c, t, nt.n)
	if hi <= lo {
		return
	}
	last := nt.ops[len(nt.ops)-1]
	w := nt.outW
	inv := 1 / float64(w)
	yb := nt.y
	for r := lo; r < hi; r++ {
		var dst []float32
		if nt.train {
			dst = last.g[r*w : (r+1)*w]
		}
		y := yb[r*w : (r+1)*w]
		var s float64
		switch {
		case last.logits:
			s = kernel.SigmoidBCERow(dst, last.z[r*w:(r+1)*w], y, nt.scale)
		case nt.loss.IsBinaryCrossentropy():
			s = bceProbRow(dst, last.a[r*w:(r+1)*w], y, nt.scale, nt.loss == BinaryCrossentropyKeras2)
		case nt.loss == MeanSquaredError:
			s = mseRow(dst, last.a[r*w:(r+1)*w], y, nt.scale)
		default:
			s = maeRow(dst, last.a[r*w:(r+1)*w], y, nt.scale)
		}
		nt.rowLoss[r] = s * inv
	}
}

// batch loads n rows starting at position start of idx (or rows
// start..start+n of the data when idx is nil), runs the forward pass and
// the loss, and, when train is set and the loss is finite, the backward
// pass into nt.grads, with the update armed by arm if there is one. It
// returns the batch's mean loss; when that is not finite, neither
// gradients nor weights are touched. In-memory rows in data order (idx
// nil) are read where they are; others are read into xb and yb. An error
// reading the data (wrapping ErrData) comes before anything is computed.
func (nt *net) batch(src, tgt Data, idx []int, start, n int, train bool) (float64, error) {
	defer nt.arm(nil, stepConsts{}, nil)
	nt.src, nt.tgt, nt.n, nt.train = src, tgt, n, train
	nt.selfTarget = nt.inW == nt.outW && sameData(src, tgt)
	nt.scale = float32(1 / (float64(n) * float64(nt.outW)))
	x, y := nt.xb, nt.yb
	sx, xMem := src.(*sliceData)
	sy, yMem := tgt.(*sliceData)
	nt.gx, nt.gy = true, !nt.selfTarget
	if idx == nil {
		if xMem {
			x, nt.gx = sx.rows(start, start+n), false
		}
		if yMem {
			y, nt.gy = sy.rows(start, start+n), false
		}
		nt.rowIdx = nt.seq[:n]
		for i := range nt.rowIdx {
			nt.rowIdx[i] = start + i
		}
	} else {
		nt.rowIdx = idx[start : start+n]
	}
	t0 := nt.clock()
	ph := &nt.ph
	if nt.times != nil {
		nt.startStep()
	}
	gathered := nt.gx || nt.gy
	if gathered {
		nt.phase(&ph.Data, nt.gather) // re-packs the weights too (repackRows)
		for _, err := range nt.errs {
			if err != nil {
				clear(nt.errs)
				return 0, fmt.Errorf("%w: %w", ErrData, err)
			}
		}
	}
	if nt.selfTarget {
		y = x
	}
	nt.y = y
	first := nt.ops[0]
	first.x = x
	if !first.dense && !first.noise {
		first.z = x
	}
	if !gathered && kernel.PackedAsm() {
		nt.phase(&ph.Data, nt.repack)
	}
	// Weight penalties are Keras's on the weights the batch starts from.
	var pen float64
	if nt.hasReg {
		for _, o := range nt.ops {
			if o.reg != nil {
				pen += regPenalty(o.reg.Kernel, o.w) + regPenalty(o.reg.Bias, o.b)
			}
		}
	}
	nt.noiseKey = mix64(nt.seed ^ streamNoise + uint64(nt.iter)*0x9e3779b97f4a7c15)
	for _, o := range nt.ops {
		nt.phase(&ph.Forward, o.fwd)
	}
	nt.phase(&ph.Loss, nt.lossRows)
	var s float64
	for _, v := range nt.rowLoss[:n] {
		s += v
	}
	loss := s / float64(n)
	for _, o := range nt.ops {
		if o.actPen != nil {
			var a float64
			for _, v := range o.actPen[:n] {
				a += v
			}
			pen += a / float64(n)
		}
	}
	loss += pen
	if train && !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		for i := len(nt.ops) - 1; i >= nt.firstParams; i-- {
			o := nt.ops[i]
			if o.packG && o.pg.K() != n {
				o.pg.Resize(n, o.out) // this batch's rows of g
			}
			if o.packXT && o.px.K() != n {
				o.px.Resize(n, o.in) // and of x
			}
			nt.phase(&ph.Backward, o.bwdRows)
			if o.dense && !o.frozen {
				nt.phase(&ph.Weights, o.bwdWeights)
			}
		}
		if nt.times != nil {
			nt.endStep(t0)
		}
	}
	return loss, nil
}

// packRule returns how training computes the weight gradient xᵀ·δ of a
// Dense layer in→out on the packed kernels (bindOp), given whether this
// CPU runs kernel.GemmAT's assembly (strided): packG packs g (δ);
// strideG reads x and g in place with kernel.GemmAT; packXT packs x and
// computes (δᵀ·x)ᵀ, transposed into the gradient; with none, OpenBLAS.
// A fixed rule of the shape and the CPU's features, not a timing at
// start-up, so that a run's bits do not depend on the machine's load —
// and all three give the same bits (each element one chain of fused
// multiply-adds over the batch's rows in order).
//
// Measured on 256-row batches, in the 128-row blocks training cuts the
// gradient into (bench/strided-xt-2026-12-06-1850.txt): GemmAT beats
// packing g and GemmPackedAT wherever both are 32 wide or more (784×128
// 322–334 against 346–355 µs with the packing, deep's small layers
// 10–35% faster, 784×32 within 3%), is 1.15× OpenBLAS on deep's 128×784,
// and 1.11–1.13× the packed-x path on 784-32-784's 32×784; the AVX2 one
// (Zen 3, in deep's training steps, `aekit bench --peak`, two interleaved
// pairs) 1.03–1.07× OpenBLAS on the 128×784 and 1.01× packing g on the
// 784×128, the step 1.02–1.04× faster. Without it:
// packing g pays where it is 32–128 wide and x at least 32
// (bench/shapes-2026-12-06-1255.txt; seed's 10-wide layers multiply
// faster in OpenBLAS, and packing a 784-wide g, 0.8 MB, costs about what
// the kernel saves), and for a wider g on x of 32–64 packing x (the
// narrow side) and transposing beats OpenBLAS (32×784 78 µs against 99,
// bench/shapes-2026-12-06-1310.txt), but not on a 128-wide x, whose
// transpose into the 400 KB gradient costs the step more than the kernel
// saves (bench/xt-2026-12-06-1315.txt). GemmAT also beats OpenBLAS on
// narrow layers (Zen 3, 256-row batch, best of 3 runs each: seed's 100×10
// 1.15×, 10×100 2.0×, 10×10 2.3×; 784×10 1.05×, 10×784 1.9×, 784×16
// 1.35×, 16×784 1.3×, 64×16 1.5×, 8×32 1.5×), so with it every layer
// reads x and g in place (seed's training at 1 thread +4–5%); the AVX-512
// kernel was not measured on narrow layers, which keep OpenBLAS there
// (kernel.StridedNarrow).
func packRule(in, out int, strided bool) (packG, packXT, strideG bool) {
	strideG = strided && (in >= 32 && out >= 32 || kernel.StridedNarrow())
	packG = !strided && out >= 32 && out <= 128 && in >= 32
	packXT = !strided && !packG && out > 128 && in >= 32 && in <= 64
	return packG, packXT, strideG
}

// packedValues returns an upper bound of the float32 values training keeps
// for the packed copies of a Dense layer in→out (bindOp): fixed ones (the
// kernel packed for the forward product and its transpose for δ·Wᵀ, and
// packXT's transposed gradient) and per row of the batch (the packed g or
// x of the weight gradient). Each packed row is counted at its widest
// panel padding (kernel.PackedWidth), whatever kernel this CPU runs; in,
// out ≤ MaxUnits, so nothing overflows.
func packedValues(in, out int) (fixed, perRow int) {
	fixed = in*kernel.PackedWidth(out) + out*kernel.PackedWidth(in)
	// Without GemmAT's assembly, which needs neither copy: the bound is
	// the same on every CPU.
	packG, packXT, _ := packRule(in, out, false)
	if packG {
		perRow = kernel.PackedWidth(out)
	}
	if packXT {
		perRow = kernel.PackedWidth(in)
		fixed += out * in
	}
	return fixed, perRow
}

// checkSize returns an error if training m on batches of maxB rows would
// take more than MaxValues float32 values of working memory: the
// parameters, copies more parameter-sized buffers (gradients, optimizer
// state, best weights), the packed copies of the Dense layers' kernels
// (packedValues) and the per-batch buffers newNet allocates (an upper
// bound: three maxB-row buffers per layer, and a Dense layer's packed
// rows). It runs before anything is allocated; the sizes are added with
// overflow checks.
func checkSize(m *runtime.Model, maxB, copies int) error {
	var params int
	ok := true
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Dense && ok {
			params, ok = addSize(params, len(l.Kernel)+len(l.Bias), 1)
		}
		if l.Type == runtime.Other && ok {
			params, ok = addSize(params, normParams(l), 1)
		}
	})
	total, ok2 := addSize(0, params, copies)
	if !ok || !ok2 {
		count := fmt.Sprint(params)
		if !ok { // the count stopped at the limit
			count = fmt.Sprintf("more than %d", MaxValues)
		}
		return fmt.Errorf("%w: model %q has %s parameters; training keeps %d copies of them (weights, gradients, optimizer state), more than the limit of %d float32 values (%d GiB)",
			ErrModel, m.Name, count, copies, MaxValues, MaxValues>>28)
	}
	fail := func(what string, need int) error {
		return fmt.Errorf("%w: batch size %d: %s needs %d×%d more float32 values, which takes the run past the limit of %d (%d GiB, of which the model's parameters and optimizer state take %d); use a smaller batch size",
			ErrConfig, maxB, what, maxB, need, MaxValues, MaxValues>>28, params*copies)
	}
	if total, ok = addSize(total, m.InputWidth()+m.OutputWidth()+3, maxB); !ok {
		return fail("the batch's inputs and targets", m.InputWidth()+m.OutputWidth()+3)
	}
	var err error
	width := m.InputWidth()
	m.Walk(func(_ []string, l *runtime.Layer) {
		if err != nil {
			return
		}
		w, extra := 0, 0
		switch l.Type {
		case runtime.Dense:
			w, width = l.Units, l.Units
			fixed, perRow := packedValues(l.In, l.Units)
			if total, ok = addSize(total, fixed, 1); !ok {
				err = fmt.Errorf("%w: layer %q (%d×%d): the packed copies of its kernel take the run past the limit of %d float32 values (%d GiB)",
					ErrModel, l.Name, l.In, l.Units, MaxValues, MaxValues>>28)
				return
			}
			extra = perRow
		case runtime.ActivationLayer:
			if !l.Act.IsIdentity() {
				w = width
			}
		case runtime.Identity:
			if l.Rate != 0 {
				w = width // output, gradient, mask
			}
		case runtime.Other:
			w = width // output, gradient, cache
		}
		if w == 0 {
			return
		}
		need, ok := addSize(extra, w, 3)
		if total, ok2 = addSize(total, need, maxB); !ok || !ok2 {
			err = fail(fmt.Sprintf("layer %q (%d units)", l.Name, w), 3*w+extra)
		}
	})
	return err
}

// addSize returns total + n·k and whether it is at most MaxValues (n, k ≥
// 0); it never overflows.
func addSize(total, n, k int) (int, bool) {
	if n < 0 || k < 0 || total > MaxValues {
		return total, false
	}
	if k != 0 && n > (MaxValues-total)/k {
		return total, false
	}
	return total + n*k, true
}
