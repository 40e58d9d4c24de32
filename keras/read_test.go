package keras

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// Tolerances of every output comparison: |got-want| ≤ atol + rtol·|want|.
const (
	atol = 1e-6
	rtol = 1e-5
)

// checkOutputs runs m (or its part up to layer sub) on the input npy and
// compares with the expected npy.
func checkOutputs(t *testing.T, m *runtime.Model, sub, inFile, wantFile string) float64 {
	t.Helper()
	x, _ := readNpy(t, inFile)
	want, _ := readNpy(t, wantFile)
	if sub != "" {
		var err error
		if m, err = m.Until(sub); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := conformance.Compare(got, want, atol, rtol); err != nil {
		t.Errorf("%s vs %s: %v", filepath.Base(inFile), filepath.Base(wantFile), err)
	}
	return maxAbs(got, want)
}

// TestFixtures loads every model gen.py wrote and checks its outputs (and
// its encoder's, for nested ones) against gen.py's numpy forward pass.
func TestFixtures(t *testing.T) {
	dir := filepath.Join(fixtures, "gen")
	cases := []struct {
		file, arch, sub string
		format          Format
		major           int
	}{
		{"k2_nested_autoencoder.h5", "", "encoder", FormatH5, 2},
		{"k2_activations_weights.h5", "k2_activations_arch.json", "", FormatWeightsH5, 2},
		{"k1_mlp.h5", "", "", FormatH5, 1},
		{"k3_autoencoder.keras", "", "encoder", FormatKeras, 3},
		{"k3_seq.weights.h5", "k3_seq_config.json", "", FormatV3WeightsH5, 3},
		{"k3_legacy_seq.h5", "", "", FormatH5, 3},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			opt := &Options{}
			if c.arch != "" {
				opt.Arch = filepath.Join(dir, c.arch)
			}
			m, info, err := ReadFile(filepath.Join(dir, c.file), opt)
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != c.format || info.Major != c.major {
				t.Errorf("info = %+v, want format %s, Keras %d", *info, c.format, c.major)
			}
			d := checkOutputs(t, m, "", filepath.Join(dir, c.file+".input.npy"), filepath.Join(dir, c.file+".output.npy"))
			t.Logf("max |Δ| = %.3g", d)
			if c.sub != "" {
				d := checkOutputs(t, m, c.sub, filepath.Join(dir, c.file+".input.npy"), filepath.Join(dir, c.file+"."+c.sub+".npy"))
				t.Logf("%s: max |Δ| = %.3g", c.sub, d)
				if _, err := m.Submodel(c.sub); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// realDense lists the Dense-capable real files, with the architecture
// file weights-only ones need and the nested model to check on its own.
var realDense = []struct {
	file, arch, sub string
	format          Format
}{
	{"k1_dense_seq_tf_dl4j.h5", "", "", FormatH5},
	{"k1_dense_seq_theano_dl4j.h5", "", "", FormatH5},
	{"k2_dense_seq_dl4j.h5", "", "", FormatH5},
	{"k2_mlp_softmax_seq_dl4j_model.h5", "", "", FormatH5},
	{"k2_mlp_softmax_seq_dl4j_weights.h5", "k2_mlp_softmax_seq_dl4j_arch.json", "", FormatWeightsH5},
	{"k2_dense_relulayer_seq_dl4j_model.h5", "", "", FormatH5},
	{"k2_tfkeras_mlp_functional_dl4j.h5", "", "", FormatH5},
	{"k2_dense_3layer_functional_hls4ml_weights.h5", "k2_dense_3layer_functional_hls4ml.json", "", FormatWeightsH5},
	{"k2_dense_functional_encoder_jleslie.h5", "", "", FormatH5},
	{"k2_h5_misnamed_dotkeras_koustav.keras", "", "", FormatH5},
	{"k2_15_dense_seq_windows_abhaypandy.keras", "", "", FormatKeras},
	{"k2_nested_seq_gan_hrithik.h5", "", "sequential_4", FormatH5},
	{"k3_dense_seq_legacy_samyak.h5", "", "", FormatH5},
	{"k3_dense_functional_legacy_alida.h5", "", "", FormatH5},
	{"k3_nested_gan_legacy_shivu.h5", "", "sequential", FormatH5},
	{"k3_dense_seq_legacy_404error.h5", "", "", FormatH5},
	{"k3_dense_seq_404error.keras", "", "", FormatKeras},
	{"k3_nested_functional_goswami.keras", "", "functional", FormatKeras},
	{"k3_dense_functional_vikaskheni.keras", "", "", FormatKeras},
	{"k3_dense_seq_yashladia.keras", "", "", FormatKeras},
	{"k3_dropout_seq_osato.keras", "", "", FormatKeras},
	{"k3_dense_seq_tiny_aditya.keras", "", "", FormatKeras},
	{"k3_dense_seq_saveweights_jenish.weights.h5", "k3_dense_seq_saveweights_jenish_arch.json", "", FormatV3WeightsH5},
}

func readReal(t *testing.T, dir, file, arch string) (*runtime.Model, *Info) {
	t.Helper()
	opt := &Options{}
	if arch != "" {
		opt.Arch = filepath.Join(dir, arch)
	}
	m, info, err := ReadFile(filepath.Join(dir, file), opt)
	if err != nil {
		t.Fatal(err)
	}
	return m, info
}

// TestRealFiles loads every Dense-capable real Keras file and compares its
// outputs with reference.py's independent numpy forward pass (committed in
// fixtures/keras/real), and the nested ones' encoder alone.
func TestRealFiles(t *testing.T) {
	dir := sharedDir(t)
	ref := filepath.Join(fixtures, "real")
	for _, c := range realDense {
		t.Run(c.file, func(t *testing.T) {
			m, info := readReal(t, dir, c.file, c.arch)
			if info.Format != c.format {
				t.Errorf("format %s, want %s", info.Format, c.format)
			}
			in := filepath.Join(ref, c.file+".input.npy")
			d := checkOutputs(t, m, "", in, filepath.Join(ref, c.file+".output.npy"))
			t.Logf("%s Keras %s: max |Δ| = %.3g", info.Format, info.KerasVersion, d)
			if c.sub != "" {
				d := checkOutputs(t, m, c.sub, in, filepath.Join(ref, c.file+"."+c.sub+".npy"))
				t.Logf("%s alone: max |Δ| = %.3g", c.sub, d)
			}
		})
	}
}

// TestRealShipped checks the real files that ship outputs computed by
// Keras itself (DL4J test resources, a notebook's printed prediction).
func TestRealShipped(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range []struct{ file, arch, io string }{
		{"k2_mlp_softmax_seq_dl4j_model.h5", "", "k2_mlp_softmax_seq_dl4j"},
		{"k2_mlp_softmax_seq_dl4j_weights.h5", "k2_mlp_softmax_seq_dl4j_arch.json", "k2_mlp_softmax_seq_dl4j"},
		{"k2_dense_relulayer_seq_dl4j_model.h5", "", "k2_dense_relulayer_seq_dl4j"},
	} {
		t.Run(c.file, func(t *testing.T) {
			m, _ := readReal(t, dir, c.file, c.arch)
			d := checkOutputs(t, m, "", filepath.Join(dir, c.io+"_input.npy"), filepath.Join(dir, c.io+"_output.npy"))
			t.Logf("vs Keras outputs: max |Δ| = %.3g", d)
		})
	}
	t.Run("jenish", func(t *testing.T) {
		m, _ := readReal(t, dir, "k3_dense_seq_saveweights_jenish.weights.h5", "k3_dense_seq_saveweights_jenish_arch.json")
		b, err := os.ReadFile(filepath.Join(dir, "k3_dense_seq_saveweights_jenish_expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Input  [][]float64 `json:"input"`
			Output [][]float64 `json:"expected_output"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		var x, want []float32
		for _, r := range e.Input {
			for _, v := range r {
				x = append(x, float32(v))
			}
		}
		for _, r := range e.Output {
			for _, v := range r {
				want = append(want, float32(v))
			}
		}
		got, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		// The notebook prints input and output to 8 decimals: 1e-5 absolute.
		if err := conformance.Compare(got, want, 1e-5, 1e-5); err != nil {
			t.Error(err)
		}
		t.Logf("got %v, notebook %v: |Δ| = %.3g", got, want, maxAbs(got, want))
	})
}

// TestSameWeightsTwoFormats: the same Keras 3 model saved as legacy .h5 and
// as .keras gives bit-identical outputs.
func TestSameWeightsTwoFormats(t *testing.T) {
	dir := sharedDir(t)
	a, _ := readReal(t, dir, "k3_dense_seq_legacy_404error.h5", "")
	b, _ := readReal(t, dir, "k3_dense_seq_404error.keras", "")
	x, _ := readNpy(t, filepath.Join(fixtures, "real", "k3_dense_seq_404error.keras.input.npy"))
	ya, err := a.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	yb, err := b.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ya {
		if math.Float32bits(ya[i]) != math.Float32bits(yb[i]) {
			t.Fatalf("output %d: %v (.h5) != %v (.keras)", i, ya[i], yb[i])
		}
	}
	for i, l := range a.Layers {
		if len(l.Kernel) == 0 || !equalBits(l.Kernel, b.Layers[i].Kernel) || !equalBits(l.Bias, b.Layers[i].Bias) {
			t.Errorf("layer %q weights differ between the two files", l.Name)
		}
	}
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestRealUnsupported: files with layers aekit cannot run fail with
// ErrUnsupportedLayer naming the first such layer and its class.
func TestRealUnsupported(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range []struct{ file, arch, layer, class string }{
		{"k1_cnn_seq_tf_dl4j.h5", "", "convolution2d_1", "Convolution2D"},
		{"k1_cnn_weights_pplonski.h5", "k1_cnn_arch_pplonski.json", "convolution2d_1", "Convolution2D"},
		{"k1_mlp_functional_merge_config_dl4j.json", "", "merge_1", "Merge"},
		{"k2_cnn_bn_seq_dl4j.h5", "", "conv2d_1", "Conv2D"},
		{"k2_nested_functional_gan_conv_bn_rsyamil.h5", "", "conv2d_1", "Conv2D"},
		{"k2_nested_functional_vae_lambda_nidsvae.h5", "", "z", "Lambda"},
		{"k2_nested_vae_saveweights_brianrice2.h5", "k2_nested_vae_saveweights_brianrice2_arch.json", "z", "Lambda"},
		{"k2_13_hgq_custom_functional_hls4ml.h5", "", "inp_q_quantizer", "FixedPointQuantizer"},
		{"k3_qdense_custom_seq_hls4ml.keras", "", "fc1", "QDense"},
	} {
		t.Run(c.file, func(t *testing.T) {
			opt := &Options{}
			if c.arch != "" {
				opt.Arch = filepath.Join(dir, c.arch)
			}
			_, _, err := ReadFile(filepath.Join(dir, c.file), opt)
			if !errors.Is(err, ErrUnsupportedLayer) {
				t.Fatalf("err = %v, want ErrUnsupportedLayer", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "ThresholdedReLU") {
				t.Errorf("error %q lists the supported classes; it should stay short", msg)
			}
			for _, want := range []string{c.file, `"` + c.layer + `"`, `class "` + c.class + `"`, "README"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

// TestRealDescribe reads the same files with Options.Describe: they load,
// the first unsupported layer is a runtime.Unsupported of its class with
// its weights counted, and the model refuses to run naming it.
func TestRealDescribe(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range []struct {
		file, arch, layer, class string
		weights                  int
	}{
		{"k1_cnn_seq_tf_dl4j.h5", "", "convolution2d_1", "Convolution2D", 38},
		{"k2_cnn_bn_seq_dl4j.h5", "", "conv2d_1", "Conv2D", 28},
		{"k3_qdense_custom_seq_hls4ml.keras", "", "fc1", "QDense", 1088},
		{"k2_13_hgq_custom_functional_hls4ml.h5", "", "inp_q_quantizer", "FixedPointQuantizer", 48},
	} {
		t.Run(c.file, func(t *testing.T) {
			opt := &Options{Describe: true}
			if c.arch != "" {
				opt.Arch = filepath.Join(dir, c.arch)
			}
			m, _, err := ReadFile(filepath.Join(dir, c.file), opt)
			if err != nil {
				t.Fatal(err)
			}
			l := m.Layer(c.layer)
			if l == nil {
				t.Fatalf("no layer %q", c.layer)
			}
			u, ok := l.Kind.(*runtime.Unsupported)
			if !ok || u.ClassName != c.class || u.Weights != c.weights || l.Params() != c.weights {
				t.Errorf("layer %q: kind %#v, want Unsupported %s with %d weights", c.layer, l.Kind, c.class, c.weights)
			}
			_, err = m.Predict(nil, make([]float32, m.InputWidth()))
			if !errors.Is(err, runtime.ErrUnsupported) || !strings.Contains(err.Error(), c.class) {
				t.Errorf("Predict: %v, want ErrUnsupported naming %s", err, c.class)
			}
		})
	}
}

// TestRealNotModels: the DL4J input/output files are HDF5 but not Keras
// models; architecture-only JSON has no weights.
func TestRealNotModels(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range []struct {
		file string
		want error
	}{
		{"k2_mlp_softmax_seq_dl4j_inputs_and_outputs.h5", ErrFormat},
		{"k2_dense_relulayer_seq_dl4j_inputs_and_outputs.h5", ErrFormat},
		{"k1_mnist_mlp_seq_config_dl4j.json", ErrMissingWeights},
		{"k2_dense_3layer_functional_hls4ml.json", ErrMissingWeights},
		{"k2_mlp_softmax_seq_dl4j_weights.h5", ErrMissingWeights}, // no Options.Arch
		{"k3_dense_seq_saveweights_jenish.weights.h5", ErrMissingWeights},
	} {
		_, _, err := ReadFile(filepath.Join(dir, c.file), nil)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: err = %v, want %v naming the file", c.file, err, c.want)
		}
	}
}

// TestConcurrentRead reads files from several goroutines at once (HDF5
// in-memory files must not collide).
func TestConcurrentRead(t *testing.T) {
	dir := filepath.Join(fixtures, "gen")
	files := []string{"k2_nested_autoencoder.h5", "k3_autoencoder.keras", "k1_mlp.h5", "k3_legacy_seq.h5"}
	want := map[string]int{}
	for _, f := range files {
		m, _, err := ReadFile(filepath.Join(dir, f), nil)
		if err != nil {
			t.Fatal(err)
		}
		want[f] = m.Params()
	}
	errc := make(chan error, 32)
	for g := 0; g < 32; g++ {
		go func(f string) {
			m, _, err := ReadFile(filepath.Join(dir, f), nil)
			if err == nil && m.Params() != want[f] {
				err = errors.New(f + ": wrong model")
			}
			errc <- err
		}(files[g%len(files)])
	}
	for g := 0; g < 32; g++ {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}
