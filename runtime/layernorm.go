package runtime

import (
	"fmt"
	"math"
)

// LayerNormalization is the Keras LayerNormalization layer over the last
// axis: each sample's values are shifted to mean 0 and scaled to variance
// 1 (y = (x − mean)/√(var + Epsilon)), then multiplied by Gamma and
// shifted by Beta; Gamma is nil when Keras's scale is off, Beta when
// center is off. Mean and variance are summed in float64.
type LayerNormalization struct {
	// Gamma and Beta hold one value per feature, or are nil.
	Gamma, Beta []float32
	// Epsilon is added to the variance; Keras's default is 1e-3.
	Epsilon float32
	// Axis is the normalised axis as configured (-1, or the last axis
	// counted with the batch axis as 0).
	Axis int

	center, scale bool
}

// NewLayerNormalization returns a LayerNormalization over the last axis;
// gamma or beta nil turns scale or center off.
func NewLayerNormalization(gamma, beta []float32, epsilon float32) *LayerNormalization {
	return &LayerNormalization{Gamma: gamma, Beta: beta, Epsilon: epsilon, Axis: -1, center: beta != nil, scale: gamma != nil}
}

func newLayerNormalization(attrs map[string]any) (Kind, error) {
	l := &LayerNormalization{}
	var err error
	if l.Axis, err = attrAxis(attrs, "axis", -1); err != nil {
		return nil, err
	}
	eps, err := attrFloat(attrs, "epsilon", 1e-3)
	if err != nil {
		return nil, err
	}
	l.Epsilon = float32(eps)
	if l.center, err = attrBool(attrs, "center", true); err != nil {
		return nil, err
	}
	if l.scale, err = attrBool(attrs, "scale", true); err != nil {
		return nil, err
	}
	if rms, err := attrBool(attrs, "rms_scaling", false); err != nil || rms {
		return nil, fmt.Errorf("%w: rms_scaling is on", ErrInvalid)
	}
	return l, nil
}

// Class returns "LayerNormalization".
func (l *LayerNormalization) Class() string { return "LayerNormalization" }

// Config returns axis, epsilon, center and scale.
func (l *LayerNormalization) Config() []Attr {
	return []Attr{{"axis", -1}, {"epsilon", short(l.Epsilon)}, {"center", l.center}, {"scale", l.scale}}
}

func (l *LayerNormalization) vectors() ([]string, []*[]float32, []float32) {
	var names []string
	var dst []*[]float32
	var init []float32
	if l.scale {
		names, dst, init = append(names, "gamma"), append(dst, &l.Gamma), append(init, 1)
	}
	if l.center {
		names, dst, init = append(names, "beta"), append(dst, &l.Beta), append(init, 0)
	}
	return names, dst, init
}

// Params returns gamma (when scale is on) and beta (when center is on).
func (l *LayerNormalization) Params() []Param {
	names, dst, _ := l.vectors()
	out := make([]Param, len(names))
	for i, n := range names {
		out[i] = Param{Name: n, Values: *dst[i], Trainable: true}
	}
	return out
}

// SetParams sets the weights in the order of Params.
func (l *LayerNormalization) SetParams(values [][]float32) error {
	names, dst, _ := l.vectors()
	return setParams(names, dst, values)
}

// Build sets unset weights to Keras's initial values and checks the axis.
func (l *LayerNormalization) Build(in []int) error {
	if err := checkLastAxis(l.Axis, in); err != nil {
		return err
	}
	names, dst, init := l.vectors()
	return buildVectors(names, dst, init, in[len(in)-1])
}

// Check reports weights that do not have w values.
func (l *LayerNormalization) Check(w int) error {
	names, dst, _ := l.vectors()
	return checkVectors(names, dst, w)
}

// RowNorm describes the normalisation.
func (l *LayerNormalization) RowNorm() NormSpec {
	return NormSpec{Epsilon: l.Epsilon, Gamma: l.Gamma, Beta: l.Beta}
}

// Forward normalises each row of x in place.
func (l *LayerNormalization) Forward(x []float32, n, w int) {
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		mean, inv := l.stats(row)
		for j, v := range row {
			y := (float64(v) - mean) * inv
			if l.Gamma != nil {
				y *= float64(l.Gamma[j])
			}
			if l.Beta != nil {
				y += float64(l.Beta[j])
			}
			row[j] = float32(y)
		}
	}
}

// stats returns the mean of row and 1/√(var + Epsilon) of its biased
// variance, summed in float64 in order.
func (l *LayerNormalization) stats(row []float32) (mean, inv float64) {
	var s float64
	for _, v := range row {
		s += float64(v)
	}
	mean = s / float64(len(row))
	var ss float64
	for _, v := range row {
		d := float64(v) - mean
		ss += d * d
	}
	return mean, 1 / math.Sqrt(ss/float64(len(row))+float64(l.Epsilon))
}
