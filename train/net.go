package train

import (
	"fmt"

	"github.com/aekit/aekit/internal/kernel"
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
	x       []float32 // input rows (the previous op's a, or net.xb)
	z       []float32 // pre-activation rows (for an activation op, x)
	a       []float32 // output rows (z itself when the activation is linear)
	g       []float32 // gradient w.r.t. a, turned in place into w.r.t. z
	prevG   []float32 // where the gradient w.r.t. x goes (nil for the first op)
	logits  bool      // last op whose sigmoid is folded into the loss

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
	pool      *pool

	n       int       // rows in the current batch
	train   bool      // compute gradients
	xb, yb  []float32 // batch inputs and targets
	rowLoss []float64 // per-row loss (mean over features)
	loss    Loss
	scale   float32
	src     []float32 // gather source rows
	tgt     []float32
	idx     []int // gather row indices (nil: rows start..start+n)
	start   int

	opt    Optimizer // the update in progress
	consts stepConsts
	slots  [][]float32

	gather, lossRows, updateChunk func(c, t int)
}

// newNet flattens m and points its Dense layers' Kernel and Bias at one
// contiguous parameter buffer holding the same values.
func newNet(m *runtime.Model, loss Loss, maxB, threads int) (*net, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	nt := &net{inW: m.InputWidth(), outW: m.OutputWidth(), maxB: maxB, loss: loss}
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
			nt.ops = append(nt.ops, &op{dense: true, layer: l, in: l.In, out: l.Units, act: l.Act})
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
			if l.Rate != 0 {
				werr = fmt.Errorf("%w: layer %q (%s, rate %g) behaves differently while training; remove it or set its rate to 0",
					ErrModel, l.Name, l.Class, l.Rate)
			}
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
	nt.params = make([]float32, total)
	nt.grads = make([]float32, total)
	off := 0
	for _, o := range nt.ops {
		if !o.dense {
			continue
		}
		l := o.layer
		k := len(l.Kernel)
		copy(nt.params[off:off+k], l.Kernel)
		o.w, o.dw = nt.params[off:off+k:off+k], nt.grads[off:off+k:off+k]
		l.Kernel = o.w
		off += k
		if l.Bias != nil {
			b := len(l.Bias)
			copy(nt.params[off:off+b], l.Bias)
			o.b, o.db = nt.params[off:off+b:off+b], nt.grads[off:off+b:off+b]
			l.Bias = o.b
			off += b
		}
	}

	nt.xb = make([]float32, maxB*nt.inW)
	nt.yb = make([]float32, maxB*nt.outW)
	nt.rowLoss = make([]float64, maxB)
	prev := nt.xb
	for i, o := range nt.ops {
		o.x = prev
		if o.dense {
			o.z = make([]float32, maxB*o.out)
		} else {
			o.z = prev
		}
		if o.dense && o.act.IsIdentity() {
			o.a = o.z
		} else {
			o.a = make([]float32, maxB*o.out)
		}
		o.g = make([]float32, maxB*o.out)
		if i > 0 {
			o.prevG = nt.ops[i-1].g
		}
		prev = o.a
	}
	last := nt.ops[len(nt.ops)-1]
	last.logits = loss == BinaryCrossentropy && last.act.Func == runtime.Sigmoid
	if last.logits && !last.dense {
		// The sigmoid layer's input gradient is computed by the loss.
		last.g = last.prevG
	}
	for _, o := range nt.ops {
		nt.bindOp(o)
	}
	nt.gather = nt.gatherRows
	nt.lossRows = nt.computeLossRows
	nt.updateChunk = nt.updateChunkFn
	nt.pool = newPool(threads)
	return nt, nil
}

func (nt *net) close() { nt.pool.close() }

func (nt *net) bindOp(o *op) {
	o.fwd = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo {
			return
		}
		if o.dense {
			for r := lo; r < hi; r += blockRows {
				e := min(r+blockRows, hi)
				kernel.Gemm(false, false, e-r, o.out, o.in, 1, o.x[r*o.in:e*o.in], o.in, o.w, o.out, 0, o.z[r*o.out:e*o.out], o.out)
			}
			if o.b != nil {
				kernel.AddBias(o.z[lo*o.out:hi*o.out], hi-lo, o.out, o.b)
			}
		}
		if o.act.IsIdentity() || o.logits {
			return // the loss reads the logits z
		}
		a := o.a[lo*o.out : hi*o.out]
		copy(a, o.z[lo*o.out:hi*o.out])
		o.act.Apply(a, o.out)
	}
	o.bwdRows = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo {
			return
		}
		g := o.g[lo*o.out : hi*o.out]
		if !o.logits {
			actGrad(g, o.z[lo*o.out:hi*o.out], o.a[lo*o.out:hi*o.out], o.act, o.out)
		}
		if o.prevG == nil {
			return
		}
		if o.dense {
			for r := lo; r < hi; r += blockRows {
				e := min(r+blockRows, hi)
				kernel.Gemm(false, true, e-r, o.in, o.out, 1, o.g[r*o.out:e*o.out], o.out, o.w, o.out, 0, o.prevG[r*o.in:e*o.in], o.in)
			}
		} else if !o.logits {
			copy(o.prevG[lo*o.in:hi*o.in], g)
		}
	}
	o.bwdWeights = func(c, t int) {
		n := nt.n
		lo, hi := span(c, t, o.in)
		for r := lo; r < hi; r += blockRows {
			e := min(r+blockRows, hi)
			kernel.Gemm(true, false, e-r, o.out, n, 1, o.x[r:], o.in, o.g, o.out, 0, o.dw[r*o.out:e*o.out], o.out)
		}
		if o.db != nil {
			lo, hi := span(c, t, o.out)
			colSums(o.db[lo:hi], o.g[:n*o.out], o.out, lo)
		}
	}
}

// colSums sets dst[j] to the sum over rows of column off+j of the
// row-major matrix m with the given width.
func colSums(dst, m []float32, width, off int) {
	if len(dst) == 0 {
		return
	}
	copy(dst, m[off:off+len(dst)])
	for r := width; r+width <= len(m); r += width {
		row := m[r+off : r+off+len(dst)]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// gatherRows copies the batch's rows of src and tgt into xb and yb.
func (nt *net) gatherRows(c, t int) {
	lo, hi := span(c, t, nt.n)
	in, out := nt.inW, nt.outW
	for r := lo; r < hi; r++ {
		i := nt.start + r
		if nt.idx != nil {
			i = nt.idx[nt.start+r]
		}
		copy(nt.xb[r*in:(r+1)*in], nt.src[i*in:(i+1)*in])
		copy(nt.yb[r*out:(r+1)*out], nt.tgt[i*out:(i+1)*out])
	}
}

// computeLossRows fills rowLoss and, when training, the last op's
// gradient.
func (nt *net) computeLossRows(c, t int) {
	lo, hi := span(c, t, nt.n)
	last := nt.ops[len(nt.ops)-1]
	w := nt.outW
	inv := 1 / float64(w)
	for r := lo; r < hi; r++ {
		var dst []float32
		if nt.train {
			dst = last.g[r*w : (r+1)*w]
		}
		y := nt.yb[r*w : (r+1)*w]
		var s float64
		switch {
		case last.logits:
			s = bceLogitsRow(dst, last.z[r*w:(r+1)*w], y, nt.scale)
		case nt.loss == BinaryCrossentropy:
			s = bceProbRow(dst, last.a[r*w:(r+1)*w], y, nt.scale)
		case nt.loss == MeanSquaredError:
			s = mseRow(dst, last.a[r*w:(r+1)*w], y, nt.scale)
		default:
			s = maeRow(dst, last.a[r*w:(r+1)*w], y, nt.scale)
		}
		nt.rowLoss[r] = s * inv
	}
}

// batch loads n rows starting at position start of idx (or of the data
// when idx is nil), runs the forward pass and the loss, and, when train is
// set, the backward pass into nt.grads. It returns the batch's mean loss.
func (nt *net) batch(src, tgt []float32, idx []int, start, n int, train bool) float64 {
	nt.src, nt.tgt, nt.idx, nt.start, nt.n, nt.train = src, tgt, idx, start, n, train
	nt.scale = float32(1 / (float64(n) * float64(nt.outW)))
	nt.pool.run(nt.gather)
	for _, o := range nt.ops {
		nt.pool.run(o.fwd)
	}
	nt.pool.run(nt.lossRows)
	var s float64
	for _, v := range nt.rowLoss[:n] {
		s += v
	}
	if train {
		for i := len(nt.ops) - 1; i >= 0; i-- {
			o := nt.ops[i]
			nt.pool.run(o.bwdRows)
			if o.dense {
				nt.pool.run(o.bwdWeights)
			}
		}
	}
	return s / float64(n)
}
