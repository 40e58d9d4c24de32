package keras

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// TestRegularizers reads the regularisers of real Keras files: the
// Keras 3.5 credit-card autoencoder's activity_regularizer L1(1e-4) (the
// Keras blog's sparse autoencoder), Keras 2's L1L2(0, 0) (none), Keras 1's
// WeightRegularizer; and every spelling from a config.
func TestRegularizers(t *testing.T) {
	dir := sharedDir(t)
	m, _, err := ReadFile(filepath.Join(dir, "k3_dense_functional_vikaskheni.keras"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var regs []*runtime.Regularizers
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Dense {
			regs = append(regs, l.Reg)
		}
	})
	if len(regs) != 4 || regs[0] == nil || regs[0].Activity != (runtime.Regularizer{L1: 9.999999747378752e-05}) ||
		!regs[0].Kernel.IsZero() || regs[1] != nil || regs[2] != nil || regs[3] != nil {
		t.Errorf("regularisers %+v", regs)
	}
	for _, c := range []struct {
		cfg  map[string]any
		want *runtime.Regularizers
	}{
		{map[string]any{"kernel_regularizer": map[string]any{"class_name": "L1L2", "config": map[string]any{"l1": 0.0, "l2": 0.0}}}, nil},
		{map[string]any{"kernel_regularizer": map[string]any{"class_name": "L2", "config": map[string]any{"l2": 0.01}},
			"bias_regularizer": map[string]any{"class_name": "L1L2", "config": map[string]any{"l1": 0.5, "l2": 0.25}}},
			&runtime.Regularizers{Kernel: runtime.Regularizer{L2: 0.01}, Bias: runtime.Regularizer{L1: 0.5, L2: 0.25}}},
		{map[string]any{"W_regularizer": map[string]any{"name": "WeightRegularizer", "l1": 0.0, "l2": 0.1}, "b_regularizer": nil,
			"activity_regularizer": map[string]any{"name": "ActivityRegularizer", "l1": 0.2, "l2": 0.0}},
			&runtime.Regularizers{Kernel: runtime.Regularizer{L2: 0.1}, Activity: runtime.Regularizer{L1: 0.2}}},
	} {
		got, err := denseRegularizers(c.cfg)
		if err != nil || (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%v: got %+v, %v; want %+v", c.cfg, got, err, c.want)
		}
	}
	if _, err := denseRegularizers(map[string]any{"kernel_regularizer": map[string]any{"class_name": "OrthogonalRegularizer", "config": map[string]any{}}}); err == nil {
		t.Error("an orthogonal regulariser was accepted")
	}
}

// A Dense layer with a custom regulariser is read (inference ignores
// regularisers) with the regulariser named as unsupported, for training
// to refuse.
func TestRegularizerUnsupported(t *testing.T) {
	dir := sharedDir(t)
	arch := compactJSON(t, filepath.Join(dir, "k2_mlp_softmax_seq_dl4j_arch.json"))
	const from = `"units":3`
	if !strings.Contains(arch, from) {
		t.Fatalf("arch lacks %s", from)
	}
	a := strings.Replace(arch, from, from+`,"kernel_regularizer":{"class_name":"MyReg","config":{"k":1}}`, 1)
	m, _, err := ReadFile(filepath.Join(dir, "k2_mlp_softmax_seq_dl4j_weights.h5"), &Options{ArchJSON: []byte(a)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Reg != nil && strings.Contains(l.Reg.Unsupported, `"MyReg"`) && !l.Reg.IsZero() {
			n++
		}
	})
	if n != 1 {
		t.Errorf("%d layers name MyReg as unsupported, want 1", n)
	}
}
