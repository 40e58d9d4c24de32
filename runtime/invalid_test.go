package runtime_test

import (
	"errors"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// TestPredictInvalid checks that models broken in code give ErrInvalid
// from Predict and Parallel.Predict, never a panic.
func TestPredictInvalid(t *testing.T) {
	dense := func() *runtime.Layer {
		return &runtime.Layer{Name: "d", Type: runtime.Dense, In: 3, Units: 2, Kernel: make([]float32, 6), Bias: make([]float32, 2)}
	}
	for name, edit := range map[string]func(l *runtime.Layer) *runtime.Layer{
		"short kernel": func(l *runtime.Layer) *runtime.Layer { l.Kernel = l.Kernel[:5]; return l },
		"wrong In":     func(l *runtime.Layer) *runtime.Layer { l.In = 4; return l },
		"short bias":   func(l *runtime.Layer) *runtime.Layer { l.Bias = l.Bias[:1]; return l },
		"bad act":      func(l *runtime.Layer) *runtime.Layer { l.Act.Func = 200; return l },
		"zero units":   func(l *runtime.Layer) *runtime.Layer { l.Units = 0; l.Kernel = nil; return l },
		"nil layer":    func(*runtime.Layer) *runtime.Layer { return nil },
		"nil sub":      func(*runtime.Layer) *runtime.Layer { return &runtime.Layer{Name: "s", Type: runtime.SubModel} },
		"bad reshape": func(*runtime.Layer) *runtime.Layer {
			return &runtime.Layer{Name: "r", Type: runtime.Reshape, Shape: []int{2, 2}}
		},
		"bad type": func(*runtime.Layer) *runtime.Layer { return &runtime.Layer{Name: "t", Type: 99} },
	} {
		m := &runtime.Model{Name: name, Input: []int{3}, Layers: []*runtime.Layer{edit(dense())}}
		x := make([]float32, 6)
		if _, err := m.Predict(nil, x); !errors.Is(err, runtime.ErrInvalid) {
			t.Errorf("%s: Predict error %v, want ErrInvalid", name, err)
		}
		p := runtime.NewParallel(m, 2)
		if _, err := p.Predict(nil, make([]float32, 3*4096)); !errors.Is(err, runtime.ErrInvalid) {
			t.Errorf("%s: Parallel.Predict error %v, want ErrInvalid", name, err)
		}
		p.Close()
	}
}

// TestValidateOverflow checks models whose sizes overflow an int: Validate
// refuses them (a kernel of In×Units values with In = Units = 2³² is not
// an empty one, a shape's product that wraps to the data's width is not
// that width).
func TestValidateOverflow(t *testing.T) {
	const big = 1 << 32
	models := map[string]*runtime.Model{
		"dense 2³²×2³²": {Name: "d", Input: []int{big}, Layers: []*runtime.Layer{
			{Name: "d", Type: runtime.Dense, In: big, Units: big}}},
		"input wraps to 2": {Name: "w", Input: []int{3, 6148914691236517206}, Layers: []*runtime.Layer{
			{Name: "f", Type: runtime.Reshape},
			{Name: "d", Type: runtime.Dense, In: 2, Units: 1, Kernel: make([]float32, 2)}}},
		"reshape wraps": {Name: "r", Input: []int{2}, Layers: []*runtime.Layer{
			{Name: "r", Type: runtime.Reshape, Shape: []int{-1, 3, 6148914691236517206}}}},
	}
	for name, m := range models {
		if err := m.Validate(); !errors.Is(err, runtime.ErrInvalid) {
			t.Errorf("%s: Validate error %v, want ErrInvalid", name, err)
		}
		if w := m.InputWidth(); w > 0 && name == "input wraps to 2" {
			t.Errorf("%s: InputWidth %d, want no positive width", name, w)
		}
	}
}
