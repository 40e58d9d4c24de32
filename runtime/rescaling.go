package runtime

import "fmt"

// Rescaling is the Keras Rescaling layer: y = x·Scale + Offset, with one
// scale and offset for every value or one per feature of the innermost
// axis. It has no weights.
type Rescaling struct {
	// Scale and Offset hold one value, or one per feature.
	Scale, Offset []float32
}

func newRescaling(attrs map[string]any) (Kind, error) {
	s, err := attrFloats(attrs, "scale")
	if err != nil {
		return nil, err
	}
	o, err := attrFloats(attrs, "offset")
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: no scale", ErrInvalid)
	}
	if o == nil {
		o = []float32{0}
	}
	return &Rescaling{Scale: s, Offset: o}, nil
}

// Class returns "Rescaling".
func (r *Rescaling) Class() string { return "Rescaling" }

// Config returns scale and offset, as numbers or lists.
func (r *Rescaling) Config() []Attr {
	return []Attr{{"scale", floatsAttr(r.Scale)}, {"offset", floatsAttr(r.Offset)}}
}

// floatsAttr returns v as a config value: a number for one value, a list
// otherwise.
func floatsAttr(v []float32) any {
	if len(v) == 1 {
		return short(v[0])
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = short(x)
	}
	return out
}

// Params returns none: Rescaling has no weights.
func (r *Rescaling) Params() []Param { return nil }

// SetParams accepts no weights.
func (r *Rescaling) SetParams(values [][]float32) error { return setParams(nil, nil, values) }

// Build checks the scale and offset against the innermost axis of in.
func (r *Rescaling) Build(in []int) error { return r.Check(in[len(in)-1]) }

// Check reports a per-feature scale or offset whose length is not w.
func (r *Rescaling) Check(w int) error {
	for _, v := range [][]float32{r.Scale, r.Offset} {
		if len(v) != 1 && len(v) != w {
			return fmt.Errorf("%w: Rescaling has %d values for an input of width %d", ErrInvalid, len(v), w)
		}
	}
	return nil
}

// Affine returns copies of Scale and Offset.
func (r *Rescaling) Affine() (scale, shift []float32) {
	return append([]float32(nil), r.Scale...), append([]float32(nil), r.Offset...)
}

// Forward computes x·Scale + Offset in place.
func (r *Rescaling) Forward(x []float32, n, w int) {
	affine(x, w, r.Scale, r.Offset)
}

// affine computes x·scale + shift in place over rows of width w; scale
// and shift hold one value or w.
func affine(x []float32, w int, scale, shift []float32) {
	if len(scale) == 1 && len(shift) == 1 {
		s, o := scale[0], shift[0]
		for i, v := range x {
			x[i] = float32(v*s) + o
		}
		return
	}
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		for j, v := range row {
			s, o := scale[0], shift[0]
			if len(scale) > 1 {
				s = scale[j]
			}
			if len(shift) > 1 {
				o = shift[j]
			}
			row[j] = float32(v*s) + o
		}
	}
}
