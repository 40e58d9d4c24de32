package runtime

import (
	"fmt"
	"math"
)

// Normalization is the Keras Normalization layer over the last axis, with
// its adapted (or given) mean and variance: y = (x − Mean)/d, or with
// Invert y = Mean + x·d, where d = max(√Variance, 1e-7) as Keras computes
// it.
//
// Keras stores adapted statistics as weights (mean, variance and a count)
// and given ones in the config; once set, aekit keeps them as given ones,
// so that writers put them in the config and Params is empty.
type Normalization struct {
	// Mean and Variance hold one value per feature, or one for all.
	Mean, Variance []float32
	// Invert undoes the normalisation instead.
	Invert bool
	// Axis is the normalised axis as configured (-1, or the last axis
	// counted with the batch axis as 0).
	Axis int

	adapted bool // the statistics are weights still to be set
}

// normEpsilon is Keras's backend.epsilon(), the least standard deviation
// Normalization divides by.
const normEpsilon = 1e-7

func newNormalization(attrs map[string]any) (Kind, error) {
	z := &Normalization{}
	var err error
	if z.Axis, err = attrAxis(attrs, "axis", -1); err != nil {
		return nil, err
	}
	if z.Invert, err = attrBool(attrs, "invert", false); err != nil {
		return nil, err
	}
	if z.Mean, err = attrFloats(attrs, "mean"); err != nil {
		return nil, err
	}
	if z.Variance, err = attrFloats(attrs, "variance"); err != nil {
		return nil, err
	}
	if (z.Mean == nil) != (z.Variance == nil) {
		return nil, fmt.Errorf("%w: mean and variance must be given together", ErrInvalid)
	}
	z.adapted = z.Mean == nil
	return z, nil
}

// Class returns "Normalization".
func (z *Normalization) Class() string { return "Normalization" }

// Config returns axis, invert, mean and variance.
func (z *Normalization) Config() []Attr {
	var mean, variance any
	if z.Mean != nil {
		mean, variance = floatsList(z.Mean), floatsList(z.Variance)
	}
	return []Attr{{"axis", -1}, {"invert", z.Invert}, {"mean", mean}, {"variance", variance}}
}

func floatsList(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = short(x)
	}
	return out
}

// Params returns mean, variance and count while the statistics are
// weights still to be read, and none once they are set.
func (z *Normalization) Params() []Param {
	if !z.adapted {
		return nil
	}
	return []Param{{Name: "mean"}, {Name: "variance"}, {Name: "count"}}
}

// SetParams sets the adapted mean, variance and count (ignored).
func (z *Normalization) SetParams(values [][]float32) error {
	if !z.adapted {
		return setParams(nil, nil, values)
	}
	if len(values) != 3 || len(values[0]) != len(values[1]) || len(values[2]) != 1 {
		return fmt.Errorf("%w: Normalization weights are mean, variance and count", ErrInvalid)
	}
	z.Mean, z.Variance, z.adapted = values[0], values[1], false
	return nil
}

// Build checks the statistics and the axis against in.
func (z *Normalization) Build(in []int) error {
	if err := checkLastAxis(z.Axis, in); err != nil {
		return err
	}
	if z.adapted {
		return fmt.Errorf("%w: Normalization was never adapted (no mean and variance)", ErrInvalid)
	}
	return z.Check(in[len(in)-1])
}

// Check reports statistics of neither one nor w values.
func (z *Normalization) Check(w int) error {
	if z.Mean == nil || len(z.Mean) != len(z.Variance) || len(z.Mean) != 1 && len(z.Mean) != w {
		return fmt.Errorf("%w: Normalization has %d means and %d variances for an input of width %d", ErrInvalid, len(z.Mean), len(z.Variance), w)
	}
	return nil
}

// sd returns max(√Variance[j], 1e-7).
func (z *Normalization) sd(j int) float32 {
	if len(z.Variance) == 1 {
		j = 0
	}
	return max(float32(math.Sqrt(float64(z.Variance[j]))), normEpsilon)
}

func (z *Normalization) mean(j int) float32 {
	if len(z.Mean) == 1 {
		return z.Mean[0]
	}
	return z.Mean[j]
}

// Affine returns the per-feature scale and shift.
func (z *Normalization) Affine() (scale, shift []float32) {
	w := len(z.Mean)
	scale, shift = make([]float32, w), make([]float32, w)
	for j := range scale {
		if z.Invert {
			scale[j], shift[j] = z.sd(j), z.mean(j)
		} else {
			scale[j] = 1 / z.sd(j)
			shift[j] = -z.mean(j) * scale[j]
		}
	}
	return scale, shift
}

// Forward normalises (or with Invert, restores) x in place.
func (z *Normalization) Forward(x []float32, n, w int) {
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		for j, v := range row {
			if z.Invert {
				row[j] = z.mean(j) + v*z.sd(j)
			} else {
				row[j] = (v - z.mean(j)) / z.sd(j)
			}
		}
	}
}
