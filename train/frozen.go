package train

import (
	"math"

	"github.com/aekit/aekit/runtime"
)

// Frozen layers: Keras's trainable=False (runtime.Layer.Frozen, on a
// layer or on a nested model, runtime.Model.FrozenLayers), as Keras 3
// trains them:
//
//   - a frozen Dense layer's kernel and bias are not updated: their
//     gradients are neither computed nor applied (the optimizer's state
//     for them stays as it started), and the backward pass does not go
//     below the first layer that trains;
//   - its kernel and bias regularisers add nothing to the loss (Keras 3's
//     Layer._get_regularization_losses sums over trainable_weights only),
//     while an activity regulariser still does, with its gradient (Keras
//     adds it in Layer.__call__ whatever trainable says);
//   - a frozen BatchNormalization runs in inference mode while training
//     too (Keras 3's call: "if training and self.trainable"): the moving
//     statistics normalise the batch and are not updated; gamma and beta
//     are not updated; the gradient through it is dy·γ/√(var + ε);
//   - a frozen LayerNormalization computes as when trainable (it has no
//     training mode) and its gamma and beta are not updated;
//   - noise layers (Dropout, GaussianNoise, ...) behave as when trainable:
//     Keras switches them on the training flag alone.
//
// Gradients still flow through frozen layers to the trainable layers
// before them. The parameter buffer, its gradients and the optimizer's
// state keep every weight, frozen or not, so checkpoints and resuming are
// unchanged.

// trains reports whether o has weights that training updates: a Dense
// layer, or a kind with trainable parameters, not frozen. It holds before
// the parameters are bound (newNet sizes its arena by it).
func (o *op) trains() bool {
	if o.frozen {
		return false
	}
	if o.dense {
		return true
	}
	if o.norm == nil {
		return false
	}
	for _, p := range o.norm.kind.Params() {
		if p.Trainable {
			return true
		}
	}
	return false
}

// trainedReg returns the regularisers of a Dense layer that training
// applies: r, or for a frozen layer only its activity regulariser; nil
// when none.
func trainedReg(r *runtime.Regularizers, frozen bool) *runtime.Regularizers {
	if r.IsZero() {
		return nil
	}
	if frozen {
		if r.Activity.IsZero() {
			return nil
		}
		return &runtime.Regularizers{Activity: r.Activity}
	}
	return r
}

// noWork is the pass of an op that has nothing to do.
func noWork(c, t int) {}

// bindFixed binds a norm op that runs its kind's inference pass while
// training too (a frozen BatchNormalization, or another frozen
// runtime.Affine kind): y = x·scale + shift per feature, and the input
// gradient dy·scale. A BatchNormalization's scale γ/√(var + ε) is taken
// again at each training batch, without allocating (a resumed run
// restores the weights after newNet); another kind's once, here.
func (nt *net) bindFixed(o *op) {
	w, no := o.out, o.norm
	scale, _ := no.kind.(runtime.Affine).Affine()
	if len(scale) == 1 {
		one := scale[0]
		scale = make([]float32, w)
		fill(scale, one)
	}
	bn, _ := no.kind.(*runtime.BatchNormalization)
	o.fwd = func(c, t int) {
		if c == 0 && nt.train && bn != nil {
			bnScale(scale, bn)
		}
		nt.inferNorm(o, c, t)
	}
	o.bwdRows = func(c, t int) {
		lo, hi := span(c, t, nt.n)
		if hi <= lo || o.prevG == nil {
			return
		}
		for r := lo; r < hi; r++ {
			g, pg := o.g[r*w:(r+1)*w], o.prevG[r*w:(r+1)*w]
			for j, v := range g {
				pg[j] = v * scale[j]
			}
		}
	}
}

// bnScale sets dst[j] to b's inference scale γ[j]/√(var[j] + ε), in
// float32 as BatchNormalization.Affine computes it.
func bnScale(dst []float32, b *runtime.BatchNormalization) {
	for j := range dst {
		v := 1 / float32(math.Sqrt(float64(b.MovingVariance[j]+b.Epsilon)))
		if b.Gamma != nil {
			v *= b.Gamma[j]
		}
		dst[j] = v
	}
}
