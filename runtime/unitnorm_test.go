package runtime

import "testing"

// TestUnitNormalizationEpsilon checks the bound on Σx²: Keras 3's 1e-24
// by default (a row of norm 1e-7 comes out of norm 1) and tf-keras's
// 1e-12 when Epsilon says so (the same row comes out scaled by 10⁶: norm
// 0.1); rows of ordinary norm come out of norm 1 either way, and a zero
// row stays zero.
func TestUnitNormalizationEpsilon(t *testing.T) {
	cases := []struct {
		eps     float32
		in      []float32
		want    []float32
		specEps float32
	}{
		{0, []float32{1e-7, 0, 0, 0}, []float32{1, 0, 0, 0}, 1e-24},
		{1e-12, []float32{1e-7, 0, 0, 0}, []float32{0.1, 0, 0, 0}, 1e-12},
		{0, []float32{3, 0, 4, 0}, []float32{0.6, 0, 0.8, 0}, 1e-24},
		{1e-12, []float32{3, 0, 4, 0}, []float32{0.6, 0, 0.8, 0}, 1e-12},
		{1e-12, []float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}, 1e-12},
	}
	for _, c := range cases {
		u := &UnitNormalization{Axis: -1, Epsilon: c.eps}
		if got := u.RowNorm().Epsilon; got != c.specEps {
			t.Errorf("ε %g: RowNorm().Epsilon %g, want %g", c.eps, got, c.specEps)
		}
		x := append([]float32(nil), c.in...)
		u.Forward(x, 1, len(x))
		for j := range x {
			if d := x[j] - c.want[j]; d > 1e-6 || d < -1e-6 {
				t.Errorf("ε %g: %v → %v, want %v", c.eps, c.in, x, c.want)
				break
			}
		}
	}
}
