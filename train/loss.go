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
	// BinaryCrossentropyKeras2 is binary_crossentropy as Keras 2 (tf-keras
	// 2.21 included) computes it: the same as BinaryCrossentropy from the
	// logits of a sigmoid output, but on probabilities it adds ε = 1e-7
	// inside the logarithms, −(t·log(p+ε) + (1−t)·log(1−p+ε)), p clipped
	// to [ε, 1−ε]. Where an output is clipped the two forms differ by up
	// to log 2 ≈ 0.69 per value (TestKerasFit measured 3.9% on a model
	// with saturated hard_sigmoid outputs). aekit train uses it for
	// models read from files that Keras 1 or 2 wrote.
	BinaryCrossentropyKeras2
	numLosses
)

// bceEpsilon is Keras's backend epsilon, the clipping bound of
// binary_crossentropy on probabilities.
const bceEpsilon = 1e-7

var lossNames = [numLosses]string{"binary_crossentropy", "mean_squared_error", "mean_absolute_error", "binary_crossentropy (Keras 2)"}

// IsBinaryCrossentropy reports whether l is binary cross-entropy in
// either form.
func (l Loss) IsBinaryCrossentropy() bool {
	return l == BinaryCrossentropy || l == BinaryCrossentropyKeras2
}

// Keras2 returns the form of l that Keras 2 computes:
// BinaryCrossentropyKeras2 for BinaryCrossentropy, l itself otherwise
// (mse and mae are the same in Keras 2 and 3).
func (l Loss) Keras2() Loss {
	if l == BinaryCrossentropy {
		return BinaryCrossentropyKeras2
	}
	return l
}

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
// scale·loss with respect to the sample's outputs. (Binary cross-entropy
// from the logits of a sigmoid output is kernel.SigmoidBCERow.)

// bceProbRow is binary cross-entropy on probabilities p clipped to
// [ε, 1−ε], in Keras 3's form, or in Keras 2's (ε added inside the
// logarithms) when keras2 is set.
func bceProbRow(dst, p, t []float32, scale float32, keras2 bool) float64 {
	t = t[:len(p)]
	const lo, hi = bceEpsilon, 1 - bceEpsilon
	var s float64
	var e64 float64
	if keras2 {
		e64 = float64(float32(bceEpsilon))
	}
	for j, v := range p {
		c := min(max(float64(v), float64(float32(lo))), float64(float32(hi)))
		tj := float64(t[j])
		s -= tj*math.Log(c+e64) + (1-tj)*math.Log(1-c+e64)
	}
	if dst != nil {
		dst = dst[:len(p)]
		lo32, hi32, e32 := float32(lo), float32(hi), float32(e64)
		for j, v := range p {
			if v < lo32 || v > hi32 {
				dst[j] = 0
				continue
			}
			tj := t[j]
			dst[j] = (-(tj / (v + e32)) + (1-tj)/((1-v)+e32)) * scale
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
