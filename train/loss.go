package train

import (
	"fmt"
	"math"
	"strings"
)

// Loss is a loss function. Every loss is the mean over a sample's features,
// then the mean over the batch (Keras's sum_over_batch_size reduction); an
// epoch's loss is the mean of its batch losses weighted by batch size. The
// zero value is BinaryCrossentropy.
type Loss uint8

// The losses, with Keras names.
const (
	// BinaryCrossentropy is Keras's binary_crossentropy on its TensorFlow
	// backend. When the model's last activation is a sigmoid it is computed
	// from the logits z (the sigmoid's input) as
	// max(z,0) − z·t + log(1+e^−|z|), without clipping, and its gradient
	// with respect to z is sigmoid(z) − t. Otherwise the outputs p are
	// clipped to [1e-7, 1−1e-7] and the loss is −(t·log p + (1−t)·log(1−p))
	// (the Keras 3 form; Keras 2 adds 1e-7 inside the logarithms), with a
	// zero gradient where p was clipped.
	BinaryCrossentropy Loss = iota
	// MeanSquaredError is mse: (p − t)².
	MeanSquaredError
	// MeanAbsoluteError is mae: |p − t|, with gradient sign(p − t) (0 at 0).
	MeanAbsoluteError
	numLosses
)

// bceEpsilon is Keras's backend epsilon, the clipping bound of
// binary_crossentropy on probabilities.
const bceEpsilon = 1e-7

var lossNames = [numLosses]string{"binary_crossentropy", "mean_squared_error", "mean_absolute_error"}

var lossAliases = map[string]Loss{
	"binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
	"mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
	"mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}

// String returns the Keras name of l.
func (l Loss) String() string {
	if l < numLosses {
		return lossNames[l]
	}
	return fmt.Sprintf("Loss(%d)", uint8(l))
}

// LossNames returns the names ParseLoss accepts.
func LossNames() []string {
	return []string{"binary_crossentropy", "bce", "mean_squared_error", "mse", "mean_absolute_error", "mae"}
}

// ParseLoss returns the loss with the given Keras name or alias ("bce",
// "mse", "mae"). Unknown names return an error wrapping ErrLoss that lists
// the valid names.
func ParseLoss(name string) (Loss, error) {
	if l, ok := lossAliases[strings.ToLower(strings.TrimSpace(name))]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("%w %q (valid: %s)", ErrLoss, name, strings.Join(LossNames(), ", "))
}

// The row kernels below compute one sample's loss (the sum over its
// features, in float64) and, when dst is not nil, the gradient of
// scale·loss with respect to the sample's pre-activations (bceLogitsRow) or
// outputs (the others). They are kept small and slice-shaped so they can
// move into package kernel.

// bceLogitsRow is binary cross-entropy from logits z against targets t.
// It shares one exponential between the loss and σ(z):
// with e = exp(−|z|), loss = max(z,0) − z·t + log(1+e) and σ(z) = 1/(1+e)
// or e/(1+e). log(1+e) is log1p01, within 2e-7 absolute per element.
func bceLogitsRow(dst, z, t []float32, scale float32) float64 {
	t = t[:len(z)]
	var s float64
	if dst == nil {
		for j, v := range z {
			x := float64(v)
			s += math.Max(x, 0) - x*float64(t[j]) + float64(log1p01(float32(math.Exp(-math.Abs(x)))))
		}
		return s
	}
	dst = dst[:len(z)]
	for j, v := range z {
		x := float64(v)
		e := math.Exp(-math.Abs(x))
		sig := 1 / (1 + e)
		if x < 0 {
			sig = e / (1 + e)
		}
		s += math.Max(x, 0) - x*float64(t[j]) + float64(log1p01(float32(e)))
		dst[j] = (float32(sig) - t[j]) * scale
	}
	return s
}

// bceProbRow is binary cross-entropy on probabilities p clipped to
// [ε, 1−ε].
func bceProbRow(dst, p, t []float32, scale float32) float64 {
	t = t[:len(p)]
	const lo, hi = bceEpsilon, 1 - bceEpsilon
	var s float64
	for j, v := range p {
		c := min(max(float64(v), float64(float32(lo))), float64(float32(hi)))
		tj := float64(t[j])
		s -= tj*math.Log(c) + (1-tj)*math.Log(1-c)
	}
	if dst != nil {
		dst = dst[:len(p)]
		lo32, hi32 := float32(lo), float32(hi)
		for j, v := range p {
			if v < lo32 || v > hi32 {
				dst[j] = 0
				continue
			}
			tj := t[j]
			dst[j] = (-(tj / v) + (1-tj)/(1-v)) * scale
		}
	}
	return s
}

// mseRow is the squared error of p against t.
func mseRow(dst, p, t []float32, scale float32) float64 {
	t = t[:len(p)]
	var s float64
	for j, v := range p {
		d := float64(v) - float64(t[j])
		s += d * d
	}
	if dst != nil {
		dst = dst[:len(p)]
		s2 := 2 * scale
		for j, v := range p {
			dst[j] = (v - t[j]) * s2
		}
	}
	return s
}

// maeRow is the absolute error of p against t.
func maeRow(dst, p, t []float32, scale float32) float64 {
	t = t[:len(p)]
	var s float64
	for j, v := range p {
		s += math.Abs(float64(v) - float64(t[j]))
	}
	if dst != nil {
		dst = dst[:len(p)]
		for j, v := range p {
			d := v - t[j]
			switch {
			case d > 0:
				dst[j] = scale
			case d < 0:
				dst[j] = -scale
			default:
				dst[j] = 0
			}
		}
	}
	return s
}

func sigmoid32(v float32) float32 {
	d := float64(v)
	if d >= 0 {
		return float32(1 / (1 + math.Exp(-d)))
	}
	e := math.Exp(d)
	return float32(e / (1 + e))
}

// log1p01 returns log(1+u) for 0 ≤ u ≤ 1 within 2e-7 absolute
// (TestLog1p01 measures it): Cephes's logf polynomial on v = 1+u, plus
// the correction (u−(v−1))/v for the rounding of v. It is several times
// faster than math.Log on amd64.
func log1p01(u float32) float32 {
	const sqrt2 = 1.41421356
	if u < 0x1p-24 {
		return u // log(1+u) = u in float32; also keeps subnormals off the slow path
	}
	v := 1 + u
	c := (u - (v - 1)) / v
	b := math.Float32bits(v)
	e := float32(int32(b>>23) - 127)
	f := math.Float32frombits(b&0x007fffff | 0x3f800000) // mantissa in [1, 2)
	if f > sqrt2 {
		f *= 0.5
		e++
	}
	f--
	z := f * f
	y := ((((((((7.0376836292e-2*f-1.1514610310e-1)*f+1.1676998740e-1)*f-1.2420140846e-1)*f+
		1.4249322787e-1)*f-1.6668057665e-1)*f+2.0000714765e-1)*f-2.4999993993e-1)*f + 3.3333331174e-1) * f * z
	y += -2.12194440e-4 * e
	y -= 0.5 * z
	return f + y + 0.693359375*e + c
}
