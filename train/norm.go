package train

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// normOp is the part of an op for a layer of a runtime.Kind that trains
// through the runtime.Trainer seam (BatchNormalization,
// LayerNormalization): its parameters live in net.params like a Dense
// layer's, the optimizer updates the trainable ones, and statistics such
// as moving averages are updated by the kind's ForwardTrain. The kind's
// batch statistics and parameter gradients are reductions over the rows,
// so its passes run on one thread, in a fixed order: the result does not
// depend on the thread count.
type normOp struct {
	kind  runtime.Kind
	tr    runtime.Trainer
	cache []float32
	// pgrads are the trainable parameters' gradients (views into
	// net.grads) in the order of the kind's Params; ranges their
	// offsets in net.params.
	pgrads [][]float32
	ranges [][2]int
	// fixed: the layer is frozen and its kind Affine (BatchNormalization):
	// it runs its inference pass while training too (bindFixed).
	fixed bool
}

// newNormOp returns the op of an Other layer l on rows of width w, or an
// error wrapping ErrModel when its kind does not train. A frozen layer
// of a runtime.Affine kind (BatchNormalization) runs its inference pass
// while training (frozen.go); a frozen one of another trainable kind
// (LayerNormalization) its training pass, without updates.
func newNormOp(l *runtime.Layer, w, maxB int, frozen bool) (*op, error) {
	tr, ok := l.Kind.(runtime.Trainer)
	_, affine := l.Kind.(runtime.Affine)
	fixed := frozen && affine
	if l.Kind == nil || !ok && !fixed {
		return nil, fmt.Errorf("%w: layer %q (%s) cannot be trained", ErrModel, l.Name, l.Class)
	}
	if err := l.Kind.Check(w); err != nil {
		return nil, fmt.Errorf("%w: layer %q: %w", ErrModel, l.Name, err)
	}
	no := &normOp{kind: l.Kind, tr: tr, fixed: fixed}
	if !fixed {
		no.cache = make([]float32, tr.CacheSize(maxB, w))
	}
	return &op{layer: l, in: w, out: w, norm: no, frozen: frozen}, nil
}

// normParams returns the number of weights of the Other layers of m
// (trainable and statistics), which net.params holds.
func normParams(l *runtime.Layer) int {
	if l.Type != runtime.Other || l.Kind == nil {
		return 0
	}
	n := 0
	for _, p := range l.Kind.Params() {
		n += len(p.Values)
	}
	return n
}

// bindParams moves the kind's weights into nt.params from offset off and
// returns the offset after them. The optimizer updates the trainable
// ones unless the layer is frozen.
func (no *normOp) bindParams(nt *net, off int, frozen bool) (int, error) {
	ps := no.kind.Params()
	views := make([][]float32, len(ps))
	for i, p := range ps {
		k := len(p.Values)
		copy(nt.params[off:off+k], p.Values)
		views[i] = nt.params[off : off+k : off+k]
		switch {
		case p.Trainable && !frozen:
			no.pgrads = append(no.pgrads, nt.grads[off:off+k:off+k])
			no.ranges = append(no.ranges, [2]int{off, off + k})
		case p.Trainable:
			// A frozen trainable kind (LayerNormalization) still
			// computes its parameters' gradients: into a buffer of
			// its own, never applied.
			no.pgrads = append(no.pgrads, make([]float32, k))
		}
		off += k
	}
	return off, no.kind.SetParams(views)
}

// bindNorm binds a norm op: training mode (batch statistics) while
// training, the kind's inference pass otherwise.
func (nt *net) bindNorm(o *op) {
	if o.norm.fixed {
		nt.bindFixed(o)
		return
	}
	w, no := o.out, o.norm
	o.fwd = func(c, t int) {
		if nt.train {
			if c == 0 {
				n := nt.n
				no.tr.ForwardTrain(o.a[:n*w], o.x[:n*w], n, w, no.cache)
			}
			return
		}
		nt.inferNorm(o, c, t)
	}
	o.bwdRows = func(c, t int) {
		if c != 0 {
			return
		}
		n := nt.n
		for _, g := range no.pgrads {
			clear(g)
		}
		var dx []float32
		if o.prevG != nil {
			dx = o.prevG[:n*w]
		}
		no.tr.Backward(dx, o.g[:n*w], n, w, no.cache, no.pgrads)
		for _, r := range no.ranges {
			nt.apply(r[0], r[1])
		}
	}
}

// inferNorm runs thread c's rows of a norm op's inference pass (the
// kind's Forward, as Predict runs it).
func (nt *net) inferNorm(o *op, c, t int) {
	lo, hi := span(c, t, nt.n)
	if hi <= lo {
		return
	}
	w := o.out
	copy(o.a[lo*w:hi*w], o.x[lo*w:hi*w])
	o.norm.kind.Forward(o.a[lo*w:hi*w], hi-lo, w)
}
