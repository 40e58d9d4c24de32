package kernel

import "math"

// Adam is Keras's Adam optimizer (Keras 2 and 3, which both follow
// TensorFlow's ApplyAdam kernel): at step t ≥ 1, for each weight,
//
//	m ← m + (g − m)·(1 − β1)
//	v ← v + (g² − v)·(1 − β2)
//	v̂ ← max(v̂, v)                       (AMSGrad only; v̂ replaces v below)
//	w ← w − lr_t·m / (√v + ε),  lr_t = lr·√(1 − β2ᵗ) / (1 − β1ᵗ)
//
// with β^t and lr_t in float32. This is the "epsilon hat" form: ε is added
// to √v, not to the bias-corrected √v̂ as in PyTorch. Keras's defaults are
// lr 1e-3, β1 0.9, β2 0.999, ε 1e-7; the zero value is not usable.
type Adam struct {
	LR, Beta1, Beta2, Epsilon float32
	AMSGrad                   bool
}

// Update applies step t (1 for the first step) to the weights w with
// gradients g and moments m and v, all the same length; vhat holds
// AMSGrad's running maximum of v and is only used (and may only be nil)
// when AMSGrad is false. m, v and vhat start at zero. It does not
// allocate.
func (o Adam) Update(t int, w, g, m, v, vhat []float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1p := float32(math.Pow(float64(o.Beta1), float64(t)))
	b2p := float32(math.Pow(float64(o.Beta2), float64(t)))
	lrt := o.LR * float32(math.Sqrt(float64(1-b2p))) / (1 - b1p)
	c1, c2, eps := 1-o.Beta1, 1-o.Beta2, o.Epsilon
	if o.AMSGrad {
		vhat = vhat[:n]
		for i, gi := range g {
			mi := m[i] + (gi-m[i])*c1
			vi := v[i] + (gi*gi-v[i])*c2
			vh := max(vhat[i], vi)
			m[i], v[i], vhat[i] = mi, vi, vh
			w[i] -= mi * lrt / (float32(math.Sqrt(float64(vh))) + eps)
		}
		return
	}
	for i, gi := range g {
		mi := m[i] + (gi-m[i])*c1
		vi := v[i] + (gi*gi-v[i])*c2
		m[i], v[i] = mi, vi
		w[i] -= mi * lrt / (float32(math.Sqrt(float64(vi))) + eps)
	}
}

// SGD is Keras's SGD optimizer: with momentum μ and velocity u,
//
//	u ← μ·u − lr·g
//	w ← w + u                  (w ← w + μ·u − lr·g when Nesterov)
//
// and w ← w − lr·g when Momentum is 0. Keras's default lr is 0.01.
type SGD struct {
	LR, Momentum float32
	Nesterov     bool
}

// Update applies one step to the weights w with gradients g; vel holds the
// velocity u (starting at zero), the same length as w, and may be nil when
// Momentum is 0. It does not allocate.
func (o SGD) Update(w, g, vel []float32) {
	n := len(w)
	g = g[:n]
	lr, mu := o.LR, o.Momentum
	if mu == 0 {
		for i, gi := range g {
			w[i] -= lr * gi
		}
		return
	}
	vel = vel[:n]
	for i, gi := range g {
		u := mu*vel[i] - lr*gi
		vel[i] = u
		if o.Nesterov {
			w[i] += mu*u - lr*gi
		} else {
			w[i] += u
		}
	}
}
