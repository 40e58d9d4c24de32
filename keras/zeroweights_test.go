package keras

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestZeroWeights loads bare architectures (a real to_json() file and a
// hand-written Keras 3 config) with ZeroWeights: the layer structure and
// shapes must be those of the full model, every weight zero; without the
// option the same files fail with ErrMissingWeights.
func TestZeroWeights(t *testing.T) {
	dir := sharedDir(t)
	for _, tc := range []struct{ arch, weights string }{
		{"k2_dense_3layer_functional_hls4ml.json", "k2_dense_3layer_functional_hls4ml_weights.h5"},
		{"k3_dense_seq_saveweights_jenish_arch.json", "k3_dense_seq_saveweights_jenish.weights.h5"},
		{"k2_nested_vae_saveweights_brianrice2_arch.json", ""},
	} {
		arch := filepath.Join(dir, tc.arch)
		opt := &Options{}
		if tc.weights == "" {
			opt.Model = "decoder" // the whole VAE holds a Lambda
		}
		if _, _, err := ReadFile(arch, opt); !errors.Is(err, ErrMissingWeights) {
			t.Errorf("%s without ZeroWeights: %v, want ErrMissingWeights", tc.arch, err)
		}
		opt.ZeroWeights = true
		m, info, err := ReadFile(arch, opt)
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		if info.Format != FormatJSON {
			t.Errorf("%s: format %q", tc.arch, info.Format)
		}
		for _, name := range m.LayerNames() {
			l := m.Layer(name)
			for _, v := range append(append([]float32(nil), l.Kernel...), l.Bias...) {
				if v != 0 {
					t.Fatalf("%s: layer %s has a nonzero weight", tc.arch, name)
				}
			}
		}
		if tc.weights == "" {
			continue
		}
		full, _, err := ReadFile(filepath.Join(dir, tc.weights), &Options{Arch: arch})
		if err != nil {
			t.Fatal(err)
		}
		a, b := m.LayerNames(), full.LayerNames()
		if len(a) != len(b) || m.InputWidth() != full.InputWidth() || m.OutputWidth() != full.OutputWidth() || m.Params() != full.Params() {
			t.Errorf("%s: zero-weight model %v (in %d, out %d, %d params) differs from the loaded one %v (%d, %d, %d)",
				tc.arch, a, m.InputWidth(), m.OutputWidth(), m.Params(), b, full.InputWidth(), full.OutputWidth(), full.Params())
		}
	}
}

// TestZeroWeightsAbsurd checks that an architecture asking for absurdly
// many weights fails with ErrShape instead of exhausting memory.
func TestZeroWeightsAbsurd(t *testing.T) {
	arch := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 784]}},
		{"class_name": "Dense", "config": {"name": "huge", "units": 200000000, "activation": "relu"}}]}}`)
	_, _, err := Read(bytes.NewReader(arch), &Options{ZeroWeights: true})
	if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "huge") {
		t.Errorf("error %v, want ErrShape naming the layer", err)
	}
}
