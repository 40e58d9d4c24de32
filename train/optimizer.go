package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/aekit/aekit/internal/kernel"
)

// Optimizer updates weights from gradients with one of Keras's formulas.
// The implementations are *Adam, *SGD, *RMSprop and *Adagrad; a zero field
// means the Keras default given in each type's documentation. The formulas
// are Keras 3's (keras.optimizers), which agree with Keras 2's except
// where noted.
//
// An Optimizer holds no per-weight state: Fit keeps that (and checkpoints
// it), so one value can configure several runs.
type Optimizer interface {
	// Name returns the Keras name: "adam", "sgd", "rmsprop", "adagrad".
	Name() string
	// LearningRate returns the learning rate used for the update after
	// iter earlier updates (Keras's optimizer.iterations), following the
	// schedule if there is one.
	LearningRate(iter int64) float64
	// Validate returns an error wrapping ErrConfig that names the first
	// setting outside its range (after defaults are applied): a learning
	// rate that is not finite and > 0, a β, ρ or momentum outside [0, 1),
	// an ε that is not finite and > 0, a negative or non-finite initial
	// accumulator, or a bad Decay (see ExponentialDecay). Fit calls it
	// before training.
	Validate() error

	// slots returns the number of state vectors the optimizer keeps per
	// weight, and the initial value of each.
	slots() []float32
	// consts computes the step's scalars for update number iter (0-based).
	consts(iter int64) stepConsts
	// apply updates w in place from the gradient g and the state s, all
	// of the same length.
	apply(c stepConsts, w, g []float32, s [3][]float32)
}

// stepConsts are the float32 scalars of one update.
type stepConsts struct {
	lr, a, b, c, d float32
}

// ExponentialDecay is Keras's ExponentialDecay learning-rate schedule:
// after iter updates the rate is lr·DecayRate^(iter/DecaySteps), with the
// exponent rounded down when Staircase is set (step decay).
type ExponentialDecay struct {
	DecaySteps int     // updates per decay period; must be ≥ 1
	DecayRate  float64 // factor per period, e.g. 0.96; must be finite and > 0
	Staircase  bool    // decay in steps instead of continuously
}

// validate checks d (nil is no schedule): DecaySteps ≥ 1 and DecayRate
// finite and > 0.
func (d *ExponentialDecay) validate(opt string) error {
	switch {
	case d == nil:
		return nil
	case d.DecaySteps < 1:
		return fmt.Errorf("%w: %s learning-rate decay steps %d < 1", ErrConfig, opt, d.DecaySteps)
	case !(d.DecayRate > 0) || math.IsInf(d.DecayRate, 0):
		return fmt.Errorf("%w: %s learning-rate decay rate %g: must be finite and > 0", ErrConfig, opt, d.DecayRate)
	}
	return nil
}

// checkRate checks that v is finite and > 0.
func checkRate(opt, name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: %s %s %g: must be finite and > 0", ErrConfig, opt, name, v)
	}
	return nil
}

// checkUnit checks that v is in [0, 1).
func checkUnit(opt, name string, v float64) error {
	if !(v >= 0 && v < 1) {
		return fmt.Errorf("%w: %s %s %g: must be in [0, 1)", ErrConfig, opt, name, v)
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *ExponentialDecay) rate(lr float64, iter int64) float64 {
	if d == nil || d.DecaySteps < 1 {
		return lr
	}
	p := float64(iter) / float64(d.DecaySteps)
	if d.Staircase {
		p = math.Floor(p)
	}
	return lr * math.Pow(d.DecayRate, p)
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// Adam is Keras's Adam in its "epsilon hat" form: with t = iter+1,
//
//	m ← m + (g − m)·(1−β1)
//	v ← v + (g² − v)·(1−β2)
//	w ← w − α·m/(√v + ε),  α = lr·√(1−β2ᵗ)/(1−β1ᵗ)
//
// (PyTorch and tfjs use lr·m̂/(√v̂ + ε) instead, which differs where
// gradients are tiny). With AMSGrad, v in the denominator is replaced by
// the running maximum of v. Everything is float32, α included (see
// adamAlpha), as Keras on TensorFlow computes it.
type Adam struct {
	LR      float64 // learning rate; default 0.001
	Beta1   float64 // default 0.9
	Beta2   float64 // default 0.999
	Epsilon float64 // default 1e-7
	AMSGrad bool
	Decay   *ExponentialDecay // optional schedule
}

// Name returns "adam".
func (o *Adam) Name() string { return "adam" }

// LearningRate returns the learning rate of update iter.
func (o *Adam) LearningRate(iter int64) float64 { return o.Decay.rate(orDefault(o.LR, 1e-3), iter) }

// Validate checks the settings; see Optimizer.
func (o *Adam) Validate() error {
	return firstErr(checkRate("adam", "learning rate", orDefault(o.LR, 1e-3)),
		checkUnit("adam", "beta1", orDefault(o.Beta1, 0.9)),
		checkUnit("adam", "beta2", orDefault(o.Beta2, 0.999)),
		checkRate("adam", "epsilon", orDefault(o.Epsilon, 1e-7)),
		o.Decay.validate("adam"))
}

func (o *Adam) slots() []float32 {
	if o.AMSGrad {
		return []float32{0, 0, 0}
	}
	return []float32{0, 0}
}

func (o *Adam) consts(iter int64) stepConsts {
	b1, b2 := orDefault(o.Beta1, 0.9), orDefault(o.Beta2, 0.999)
	lr := o.LearningRate(iter)
	return stepConsts{lr: float32(lr), a: adamAlpha(float32(lr), float32(b1), float32(b2), iter),
		b: float32(1 - b1), c: float32(1 - b2), d: float32(orDefault(o.Epsilon, 1e-7))}
}

// adamAlpha is Adam's step size lr·√(1−β2ᵗ)/(1−β1ᵗ), t = iter+1, computed
// as Keras does on TensorFlow: in float32, from β1 and β2 rounded to
// float32. The rounding matters: float32(0.999) is 0.999 + 1.3e-8, which
// makes 1−β2ᵗ 1.3e-5 smaller (relative) than in exact arithmetic for small
// t, and α 6.4e-6 smaller; computing α in float64 put aekit's weights
// 6e-6 to 6e-5 (relative) away from Keras's after 20 updates.
func adamAlpha(lr, b1, b2 float32, iter int64) float32 {
	t := float64(float32(iter + 1))
	b1t := float32(math.Pow(float64(b1), t))
	b2t := float32(math.Pow(float64(b2), t))
	return lr * sqrt32(1-b2t) / (1 - b1t)
}

func (o *Adam) apply(c stepConsts, w, g []float32, s [3][]float32) {
	if o.AMSGrad {
		adamAMSGradUpdate(w, g, s[0], s[1], s[2], c.a, c.b, c.c, c.d)
	} else {
		adamUpdate(w, g, s[0], s[1], c.a, c.b, c.c, c.d)
	}
}

// adamUpdate is Keras's Adam step: c1 = 1−β1, c2 = 1−β2. With the
// vector kernels (kernel.AdamBlocks) whole blocks run vectorised, and a block
// holding a value that takes the exact path (subnormal.go) runs in the Go
// loop; both compute the same float32 operations in the same order, so
// results are bit-identical (TestAdamVector). Where the kernel stops at
// once again and again (the state of dead units is spread over whole
// layers), the Go loop takes runs twice as long each time, up to
// adamMaxRun values, so that such layers cost what the Go loop alone does.
func adamUpdate(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	g = g[:len(w)]
	m = m[:len(w)]
	v = v[:len(w)]
	mLim, vLim := tinyBits(min(float64(alpha), float64(c1))), tinyBits(float64(c2))
	run := adamBlock
	for i := 0; i < len(w); {
		k := kernel.AdamBlocks(w[i:], g[i:], m[i:], v[i:], alpha, c1, c2, eps, tinyGradBits, mLim, vLim)
		i += k
		if i == len(w) {
			break
		}
		if k > 0 {
			run = adamBlock
		} else {
			run = min(2*run, adamMaxRun)
		}
		end := min(i+run, len(w))
		adamRun(w[i:end], g[i:end], m[i:end], v[i:end], alpha, c1, c2, eps, mLim, vLim)
		i = end
	}
}

const (
	// adamBlock is the kernel's largest block: the Go loop's run where
	// the kernel stops after doing some values.
	adamBlock = 16
	// adamMaxRun is the longest run of the Go loop.
	adamMaxRun = 1024
)

// adamUpdateGo is adamUpdate without the assembly kernel.
func adamUpdateGo(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	adamRun(w, g, m, v, alpha, c1, c2, eps, tinyBits(min(float64(alpha), float64(c1))), tinyBits(float64(c2)))
}

// adamRun is adamUpdate's Go loop, with the bounds below which the first
// and second moments take the exact path (subnormal.go).
func adamRun(w, g, m, v []float32, alpha, c1, c2, eps float32, mLim, vLim uint32) {
	g = g[:len(w)]
	m = m[:len(w)]
	v = v[:len(w)]
	a64, c164, c264, e64 := float64(alpha), float64(c1), float64(c2), float64(eps)
	for i, gi := range g {
		if tinyGrad(gi) || below(m[i], mLim) || below(v[i], vLim) {
			if gi == 0 && w[i] != 0 && !below(v[i], vLim) {
				if mi, ok := deadMoment(m[i], a64, c164); ok {
					m[i] = mi
					v[i] += float32(-v[i] * c2)
					continue
				}
			}
			adamExact(&w[i], &g[i], &m[i], &v[i], a64, c164, c264, e64)
			continue
		}
		// The conversions keep every operation rounded to float32
		// (no fused multiply-add), as adamExact computes it.
		mi := m[i] + float32((gi-m[i])*c1)
		vi := v[i] + float32(float32(gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		w[i] -= float32(mi*alpha) / (sqrt32(vi) + eps)
	}
}

// adamAMSGradUpdate is Keras's Adam step with amsgrad.
func adamAMSGradUpdate(w, g, m, v, vhat []float32, alpha, c1, c2, eps float32) {
	g = g[:len(w)]
	m = m[:len(w)]
	v = v[:len(w)]
	vhat = vhat[:len(w)]
	a64, c164, c264, e64 := float64(alpha), float64(c1), float64(c2), float64(eps)
	mLim, vLim := tinyBits(min(a64, c164)), tinyBits(c264)
	for i, gi := range g {
		if tinyGrad(gi) || below(m[i], mLim) || below(v[i], vLim) || below(vhat[i], vLim) {
			if gi == 0 && w[i] != 0 && !below(v[i], vLim) {
				if mi, ok := deadMoment(m[i], a64, c164); ok {
					vi := v[i] + float32(-v[i]*c2)
					m[i], v[i], vhat[i] = mi, vi, max(vhat[i], vi)
					continue
				}
			}
			adamAMSGradExact(&w[i], &g[i], &m[i], &v[i], &vhat[i], a64, c164, c264, e64)
			continue
		}
		mi := m[i] + float32((gi-m[i])*c1)
		vi := v[i] + float32(float32(gi*gi-v[i])*c2)
		vh := max(vhat[i], vi)
		m[i], v[i], vhat[i] = mi, vi, vh
		w[i] -= float32(mi*alpha) / (sqrt32(vh) + eps)
	}
}

// SGD is Keras's stochastic gradient descent. Without momentum
// w ← w − lr·g; with momentum μ
//
//	v ← μ·v − lr·g
//	w ← w + v              (Nesterov: w ← w + μ·v − lr·g)
//
// which is not PyTorch's dampened form.
type SGD struct {
	LR       float64 // learning rate; default 0.01
	Momentum float64 // default 0
	Nesterov bool
	Decay    *ExponentialDecay // optional schedule
}

// Name returns "sgd".
func (o *SGD) Name() string { return "sgd" }

// LearningRate returns the learning rate of update iter.
func (o *SGD) LearningRate(iter int64) float64 { return o.Decay.rate(orDefault(o.LR, 0.01), iter) }

// Validate checks the settings; see Optimizer.
func (o *SGD) Validate() error {
	return firstErr(checkRate("sgd", "learning rate", orDefault(o.LR, 0.01)),
		checkUnit("sgd", "momentum", o.Momentum),
		o.Decay.validate("sgd"))
}

func (o *SGD) slots() []float32 {
	if o.Momentum == 0 {
		return nil
	}
	return []float32{0}
}

func (o *SGD) consts(iter int64) stepConsts {
	return stepConsts{lr: float32(o.LearningRate(iter)), a: float32(o.Momentum)}
}

func (o *SGD) apply(c stepConsts, w, g []float32, s [3][]float32) {
	switch {
	case o.Momentum == 0:
		sgdUpdate(w, g, c.lr)
	case o.Nesterov:
		sgdNesterovUpdate(w, g, s[0], c.lr, c.a)
	default:
		sgdMomentumUpdate(w, g, s[0], c.lr, c.a)
	}
}

// sgdUpdate is w ← w − lr·g.
func sgdUpdate(w, g []float32, lr float32) {
	g = g[:len(w)]
	for i, gi := range g {
		w[i] -= gi * lr
	}
}

// sgdMomentumUpdate is Keras's momentum step.
func sgdMomentumUpdate(w, g, v []float32, lr, mu float32) {
	g = g[:len(w)]
	v = v[:len(w)]
	for i, gi := range g {
		vi := -gi*lr + v[i]*mu
		v[i] = vi
		w[i] += vi
	}
}

// sgdNesterovUpdate is Keras's Nesterov momentum step.
func sgdNesterovUpdate(w, g, v []float32, lr, mu float32) {
	g = g[:len(w)]
	v = v[:len(w)]
	for i, gi := range g {
		vi := -gi*lr + v[i]*mu
		v[i] = vi
		w[i] += -gi*lr + vi*mu
	}
}

// RMSprop is Keras's RMSprop:
//
//	v ← ρ·v + (1−ρ)·g²
//	d = v + ε                (centered: a ← ρ·a + (1−ρ)·g, d = v − a² + ε)
//	Δ = lr·g/√d
//	w ← w − Δ                (momentum μ: u ← μ·u + Δ, w ← w − u)
type RMSprop struct {
	LR       float64 // learning rate; default 0.001
	Rho      float64 // default 0.9
	Momentum float64 // default 0
	Epsilon  float64 // default 1e-7
	Centered bool
	Decay    *ExponentialDecay // optional schedule
}

// Name returns "rmsprop".
func (o *RMSprop) Name() string { return "rmsprop" }

// LearningRate returns the learning rate of update iter.
func (o *RMSprop) LearningRate(iter int64) float64 {
	return o.Decay.rate(orDefault(o.LR, 1e-3), iter)
}

// Validate checks the settings; see Optimizer.
func (o *RMSprop) Validate() error {
	return firstErr(checkRate("rmsprop", "learning rate", orDefault(o.LR, 1e-3)),
		checkUnit("rmsprop", "rho", orDefault(o.Rho, 0.9)),
		checkUnit("rmsprop", "momentum", o.Momentum),
		checkRate("rmsprop", "epsilon", orDefault(o.Epsilon, 1e-7)),
		o.Decay.validate("rmsprop"))
}

func (o *RMSprop) slots() []float32 { return []float32{0, 0, 0} }

func (o *RMSprop) consts(iter int64) stepConsts {
	rho := orDefault(o.Rho, 0.9)
	return stepConsts{lr: float32(o.LearningRate(iter)), a: float32(rho), b: float32(1 - rho),
		c: float32(o.Momentum), d: float32(orDefault(o.Epsilon, 1e-7))}
}

func (o *RMSprop) apply(c stepConsts, w, g []float32, s [3][]float32) {
	rmspropUpdate(w, g, s[0], s[1], s[2], c.lr, c.a, c.b, c.c, c.d, o.Centered, o.Momentum != 0)
}

// rmspropUpdate is Keras's RMSprop step; v holds the mean square, a the
// mean gradient (centered), u the momentum.
func rmspropUpdate(w, g, v, a, u []float32, lr, rho, c, mu, eps float32, centered, momentum bool) {
	g = g[:len(w)]
	v = v[:len(w)]
	a = a[:len(w)]
	u = u[:len(w)]
	for i, gi := range g {
		vi := rho*v[i] + c*(gi*gi)
		v[i] = vi
		d := vi + eps
		if centered {
			ai := rho*a[i] + c*gi
			a[i] = ai
			d = vi - ai*ai + eps
		}
		inc := lr * gi / sqrt32(d)
		if momentum {
			ui := mu*u[i] + inc
			u[i] = ui
			inc = ui
		}
		w[i] -= inc
	}
}

// Adagrad is Keras 3's Adagrad: acc ← acc + g², w ← w − lr·g/√(acc + ε).
// (Keras 2 divides by √acc + ε.)
type Adagrad struct {
	LR                      float64 // learning rate; default 0.001
	InitialAccumulatorValue float64 // default 0.1
	Epsilon                 float64 // default 1e-7
	Decay                   *ExponentialDecay
}

// Name returns "adagrad".
func (o *Adagrad) Name() string { return "adagrad" }

// LearningRate returns the learning rate of update iter.
func (o *Adagrad) LearningRate(iter int64) float64 {
	return o.Decay.rate(orDefault(o.LR, 1e-3), iter)
}

// Validate checks the settings; see Optimizer.
func (o *Adagrad) Validate() error {
	var acc error
	if v := o.InitialAccumulatorValue; !(v >= 0) || math.IsInf(v, 0) {
		acc = fmt.Errorf("%w: adagrad initial accumulator value %g: must be finite and ≥ 0", ErrConfig, v)
	}
	return firstErr(checkRate("adagrad", "learning rate", orDefault(o.LR, 1e-3)), acc,
		checkRate("adagrad", "epsilon", orDefault(o.Epsilon, 1e-7)),
		o.Decay.validate("adagrad"))
}

func (o *Adagrad) slots() []float32 {
	return []float32{float32(orDefault(o.InitialAccumulatorValue, 0.1))}
}

func (o *Adagrad) consts(iter int64) stepConsts {
	return stepConsts{lr: float32(o.LearningRate(iter)), d: float32(orDefault(o.Epsilon, 1e-7))}
}

func (o *Adagrad) apply(c stepConsts, w, g []float32, s [3][]float32) {
	adagradUpdate(w, g, s[0], c.lr, c.d)
}

// adagradUpdate is Keras 3's Adagrad step.
func adagradUpdate(w, g, acc []float32, lr, eps float32) {
	g = g[:len(w)]
	acc = acc[:len(w)]
	for i, gi := range g {
		ai := acc[i] + gi*gi
		acc[i] = ai
		w[i] -= lr * gi / sqrt32(ai+eps)
	}
}

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

// OptimizerNames returns the names ParseOptimizer accepts.
func OptimizerNames() []string {
	return []string{"adagrad", "adam", "amsgrad", "nesterov", "rmsprop", "sgd"}
}

// ParseOptimizer returns the optimizer with the given Keras name and
// learning rate (0 for the default): "adam", "sgd", "rmsprop", "adagrad",
// and the shorthands "amsgrad" (Adam with AMSGrad) and "nesterov" (SGD
// with Nesterov momentum 0.9). Unknown names return an error wrapping
// ErrOptimizer that lists the valid names; a learning rate that is
// negative or not finite returns an error wrapping ErrConfig.
func ParseOptimizer(name string, lr float64) (Optimizer, error) {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("%w: learning rate %g: must be finite and > 0 (0 for the default)", ErrConfig, lr)
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "adam":
		return &Adam{LR: lr}, nil
	case "amsgrad":
		return &Adam{LR: lr, AMSGrad: true}, nil
	case "sgd":
		return &SGD{LR: lr}, nil
	case "nesterov":
		return &SGD{LR: lr, Momentum: 0.9, Nesterov: true}, nil
	case "rmsprop":
		return &RMSprop{LR: lr}, nil
	case "adagrad":
		return &Adagrad{LR: lr}, nil
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrOptimizer, name, strings.Join(OptimizerNames(), ", "))
}
