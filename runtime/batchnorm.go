package runtime

import "fmt"

// BatchNormalization is the Keras BatchNormalization layer at inference,
// over the last axis: y = (x − MovingMean)/√(MovingVariance + Epsilon)·Gamma
// + Beta, computed as TensorFlow does: inv = Gamma/√(MovingVariance +
// Epsilon), y = x·inv + (Beta − MovingMean·inv). Gamma is nil when scale is
// off, Beta when center is off. Training mode (batch statistics, moving
// averages) is its Trainer (normtrain.go).
type BatchNormalization struct {
	// Gamma, Beta, MovingMean and MovingVariance hold one value per
	// feature; Gamma and Beta are nil when Keras's scale and center are
	// off.
	Gamma, Beta, MovingMean, MovingVariance []float32
	// Epsilon is added to the variance; Keras's default is 1e-3.
	Epsilon float32
	// Momentum is the moving averages' momentum, kept for writing and
	// training (Keras's default 0.99).
	Momentum float64
	// Axis is the normalised axis as configured (-1, or the last axis
	// counted with the batch axis as 0).
	Axis int

	center, scale bool
}

// NewBatchNormalization returns a BatchNormalization with Keras's defaults
// (epsilon 1e-3, momentum 0.99) and the given parameters; gamma or beta
// nil turns scale or center off.
func NewBatchNormalization(gamma, beta, mean, variance []float32, epsilon float32) *BatchNormalization {
	return &BatchNormalization{Gamma: gamma, Beta: beta, MovingMean: mean, MovingVariance: variance,
		Epsilon: epsilon, Momentum: 0.99, Axis: -1, center: beta != nil, scale: gamma != nil}
}

func newBatchNormalization(attrs map[string]any) (Kind, error) {
	b := &BatchNormalization{}
	var err error
	if b.Axis, err = attrAxis(attrs, "axis", -1); err != nil {
		return nil, err
	}
	eps, err := attrFloat(attrs, "epsilon", 1e-3)
	if err != nil {
		return nil, err
	}
	b.Epsilon = float32(eps)
	if b.Momentum, err = attrFloat(attrs, "momentum", 0.99); err != nil {
		return nil, err
	}
	if b.center, err = attrBool(attrs, "center", true); err != nil {
		return nil, err
	}
	if b.scale, err = attrBool(attrs, "scale", true); err != nil {
		return nil, err
	}
	for _, k := range []string{"renorm", "synchronized"} {
		if on, err := attrBool(attrs, k, false); err != nil || on {
			return nil, fmt.Errorf("%w: %s is on", ErrInvalid, k)
		}
	}
	return b, nil
}

// Class returns "BatchNormalization".
func (b *BatchNormalization) Class() string { return "BatchNormalization" }

// Config returns axis, momentum, epsilon, center and scale.
func (b *BatchNormalization) Config() []Attr {
	return []Attr{{"axis", -1}, {"momentum", b.Momentum}, {"epsilon", short(b.Epsilon)},
		{"center", b.center}, {"scale", b.scale}}
}

func (b *BatchNormalization) vectors() ([]string, []*[]float32, []float32) {
	var names []string
	var dst []*[]float32
	var init []float32
	if b.scale {
		names, dst, init = append(names, "gamma"), append(dst, &b.Gamma), append(init, 1)
	}
	if b.center {
		names, dst, init = append(names, "beta"), append(dst, &b.Beta), append(init, 0)
	}
	return append(names, "moving_mean", "moving_variance"), append(dst, &b.MovingMean, &b.MovingVariance), append(init, 0, 1)
}

// Params returns gamma (when scale is on), beta (when center is on),
// moving_mean and moving_variance, Keras's order.
func (b *BatchNormalization) Params() []Param {
	names, dst, _ := b.vectors()
	out := make([]Param, len(names))
	for i, n := range names {
		out[i] = Param{Name: n, Values: *dst[i], Trainable: n == "gamma" || n == "beta"}
	}
	return out
}

// SetParams sets the weights in the order of Params.
func (b *BatchNormalization) SetParams(values [][]float32) error {
	names, dst, _ := b.vectors()
	return setParams(names, dst, values)
}

// Build sets unset weights to Keras's initial values and checks the axis.
func (b *BatchNormalization) Build(in []int) error {
	if err := checkLastAxis(b.Axis, in); err != nil {
		return err
	}
	names, dst, init := b.vectors()
	return buildVectors(names, dst, init, in[len(in)-1])
}

// Check reports weights that do not have w values.
func (b *BatchNormalization) Check(w int) error {
	names, dst, _ := b.vectors()
	return checkVectors(names, dst, w)
}

// inv returns Gamma[j]/√(MovingVariance[j] + Epsilon).
func (b *BatchNormalization) inv(j int) float32 {
	v := rsqrt(b.MovingVariance[j] + b.Epsilon)
	if b.Gamma != nil {
		v *= b.Gamma[j]
	}
	return v
}

// Affine returns the per-feature scale and shift of the inference pass.
func (b *BatchNormalization) Affine() (scale, shift []float32) {
	w := len(b.MovingMean)
	scale, shift = make([]float32, w), make([]float32, w)
	for j := range scale {
		scale[j] = b.inv(j)
		shift[j] = -b.MovingMean[j] * scale[j]
		if b.Beta != nil {
			shift[j] += b.Beta[j]
		}
	}
	return scale, shift
}

// Forward normalises x in place with the moving statistics.
func (b *BatchNormalization) Forward(x []float32, n, w int) {
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		for j, v := range row {
			inv := b.inv(j)
			off := -b.MovingMean[j] * inv
			if b.Beta != nil {
				off += b.Beta[j]
			}
			row[j] = float32(v*inv) + off
		}
	}
}

// Standardize returns gamma (ones when scale is off), beta (zeros when
// center is off), the moving mean and variance, and epsilon.
func (b *BatchNormalization) Standardize() (gamma, beta, mean, variance []float32, epsilon float32) {
	w := len(b.MovingMean)
	gamma, beta = make([]float32, w), make([]float32, w)
	for j := range gamma {
		gamma[j] = 1
		if b.Gamma != nil {
			gamma[j] = b.Gamma[j]
		}
		if b.Beta != nil {
			beta[j] = b.Beta[j]
		}
	}
	return gamma, beta, append([]float32(nil), b.MovingMean...), append([]float32(nil), b.MovingVariance...), b.Epsilon
}
