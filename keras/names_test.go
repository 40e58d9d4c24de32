package keras

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/npy"
)

// TestUnnamedLayerMessages: errors about a layer without a name give its
// index in its model, never layer "".
func TestUnnamedLayerMessages(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  error
		msg   string
	}{
		{`, "registered_name": "custom>detector"`, ErrUnsupportedLayer, `unnamed layer #2 of class "detector" (custom class "custom>detector")`},
		{``, ErrFormat, `unnamed layer #2 of class "detector" has no name`},
	} {
		arch := `{"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
		{"class_name": "Dense", "config": {"units": 2, "activation": "relu", "name": "d"}},
		{"class_name": "detector", "config": {}` + c.extra + `}]}, "keras_version": "2.13.1", "backend": "tensorflow"}`
		name := filepath.Join(t.TempDir(), "a.json")
		if err := os.WriteFile(name, []byte(arch), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := ReadFile(name, &Options{ZeroWeights: true})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), `layer ""`) {
			t.Errorf("got %v, want %q", err, c.msg)
		}
	}
}

// TestTFKeras213CheckpointDeps reads a .keras file in tf.keras 2.13's
// layout, its weights under _layer_checkpoint_dependencies/ (crafted by
// fixtures/keras/tk213/gen.py; Keras 3 loads it through its fallback and
// computed the expected outputs), the way Keras 3 falls back to it,
// within 1e-5 relative.
func TestTFKeras213CheckpointDeps(t *testing.T) {
	base := filepath.Join("..", "fixtures", "keras", "tk213", "tk2_13_ckptdeps.keras")
	m, info, err := ReadFile(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.KerasVersion != "2.13.1" || info.AekitVersion != "" {
		t.Errorf("info %+v", info)
	}
	x, err := npy.ReadFile(base + ".input.npy")
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadFile(base + ".output.npy")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(nil, x.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Data) {
		t.Fatalf("%d outputs, want %d", len(got), len(want.Data))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want.Data[i])); d > 1e-5*math.Abs(float64(want.Data[i])) {
			t.Fatalf("output %d: %g, Keras 3 %g", i, got[i], want.Data[i])
		}
	}
}
