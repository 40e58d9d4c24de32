package runtime

import "math"

// UnitNormalization is the Keras UnitNormalization layer over the last
// axis: y = x/‖x‖₂, computed as Keras 3 does, x·min(1/√Σx², 10¹²) (so a
// zero row stays zero). It has no weights.
type UnitNormalization struct {
	// Axis is the normalised axis as configured (-1, or the last axis
	// counted with the batch axis as 0).
	Axis int
	// Epsilon bounds Σx² from below: y = x/√max(Σx², Epsilon). 0 means
	// Keras 3's bound, 1e-24 (its 10¹² cap on the inverse norm); tf-keras
	// (tf.math.l2_normalize) bounds Σx² by 1e-12. Keras configs do not
	// carry it: files aekit writes keep only the axis.
	Epsilon float32
}

// unitEpsilon bounds Σx² from below: Keras 3's 1/ε cap on the inverse
// norm with ε = 1e-12.
const unitEpsilon = 1e-24

func newUnitNormalization(attrs map[string]any) (Kind, error) {
	a, err := attrAxis(attrs, "axis", -1)
	if err != nil {
		return nil, err
	}
	return &UnitNormalization{Axis: a}, nil
}

// Class returns "UnitNormalization".
func (u *UnitNormalization) Class() string { return "UnitNormalization" }

// Config returns axis.
func (u *UnitNormalization) Config() []Attr { return []Attr{{"axis", -1}} }

// Params returns none.
func (u *UnitNormalization) Params() []Param { return nil }

// SetParams accepts no weights.
func (u *UnitNormalization) SetParams(values [][]float32) error { return setParams(nil, nil, values) }

// Build checks the axis.
func (u *UnitNormalization) Build(in []int) error { return checkLastAxis(u.Axis, in) }

// Check accepts any width.
func (u *UnitNormalization) Check(w int) error { return nil }

// RowNorm describes the normalisation.
func (u *UnitNormalization) RowNorm() NormSpec {
	return NormSpec{L2: true, Epsilon: float32(u.epsilon())}
}

// epsilon returns the bound on Σx² (Epsilon, or Keras 3's by default).
func (u *UnitNormalization) epsilon() float64 {
	if u.Epsilon > 0 {
		return float64(u.Epsilon)
	}
	return unitEpsilon
}

// Forward normalises each row of x in place.
func (u *UnitNormalization) Forward(x []float32, n, w int) {
	eps := u.epsilon()
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		inv := float32(1 / math.Sqrt(math.Max(ss, eps)))
		for j, v := range row {
			row[j] = v * inv
		}
	}
}
