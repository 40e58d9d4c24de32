package keras

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aekit/aekit/internal/interop"
)

// kerasDescription is describe_ref.py's JSON: Keras's own view of a model.
type kerasDescription struct {
	Name   string `json:"name"`
	Params int64  `json:"params"`
	Layers []struct {
		Name    string            `json:"name"`
		Class   string            `json:"class"`
		Params  int64             `json:"params"`
		Outputs [][]int           `json:"outputs"`
		StandIn bool              `json:"standin"`
		Model   *kerasDescription `json:"model"`
	} `json:"layers"`
}

// compareDescription requires d to agree with Keras's ref: the same
// layers by name, each layer's parameter count equal to Keras's
// count_params(), the model's too, and every output shape Keras knows
// (except a stand-in's, see describe_ref.py) known and equal. It returns
// the number of layers and shapes compared.
func compareDescription(t *testing.T, where string, d *Description, ref *kerasDescription) (layers, shapes int) {
	t.Helper()
	if d.Params != ref.Params {
		t.Errorf("%s: params %d, Keras count_params() %d", where, d.Params, ref.Params)
	}
	byName := map[string]*LayerDescription{}
	for _, l := range d.Layers {
		byName[l.Name] = l
	}
	if len(d.Layers) != len(ref.Layers) {
		var names []string
		for _, l := range d.Layers {
			names = append(names, l.Name)
		}
		t.Errorf("%s: %d layers %v, Keras has %d", where, len(d.Layers), names, len(ref.Layers))
	}
	for _, rl := range ref.Layers {
		l := byName[rl.Name]
		lw := where + "/" + rl.Name
		if l == nil {
			t.Errorf("%s: missing (a %s in Keras)", lw, rl.Class)
			continue
		}
		layers++
		if l.Params != rl.Params {
			t.Errorf("%s (%s): params %d, Keras count_params() %d", lw, l.Class, l.Params, rl.Params)
		}
		if !rl.StandIn && l.Class != rl.Class && !(l.Class == "Model" && rl.Class == "Functional") {
			t.Errorf("%s: class %s, Keras %s", lw, l.Class, rl.Class)
		}
		if !rl.StandIn && rl.Outputs != nil {
			if len(l.Outputs) != len(rl.Outputs) {
				t.Errorf("%s (%s): %d outputs %v, Keras %d %v", lw, l.Class, len(l.Outputs), l.Outputs, len(rl.Outputs), rl.Outputs)
			} else {
				for i, s := range rl.Outputs {
					if s == nil {
						continue
					}
					shapes++
					if !slices.Equal(l.Outputs[i], s) {
						t.Errorf("%s (%s): output %d shape %v, Keras %v", lw, l.Class, i, l.Outputs[i], s)
					}
				}
			}
		}
		if (l.Model == nil) != (rl.Model == nil) {
			t.Errorf("%s: nested model %v, Keras %v", lw, l.Model != nil, rl.Model != nil)
		} else if l.Model != nil {
			nl, ns := compareDescription(t, lw, l.Model, rl.Model)
			layers, shapes = layers+nl, shapes+ns
		}
	}
	return layers, shapes
}

// TestDescribeMatchesKeras: keras.Describe, made from the architecture
// and the weights' shapes alone, agrees with Keras itself on every layer's
// parameter count (count_params(), non-trainable weights included), the
// model's total, the layer list at every depth and the output shapes Keras
// knows. Keras builds each model from the file's architecture
// (fixtures/keras/describe_ref.py): Keras 3 for Keras 3 files, tf-keras
// for Keras 2 files. Models: graphs with two inputs, three outputs, a
// shared layer, Conv1D, LSTM with states, GRU, Conv2D, BatchNormalization,
// pooling, UpSampling2D, Embedding, Permute, Concatenate, Add and
// RepeatVector saved live by Keras 3 (.keras) and tf-keras (.h5); the
// keras.io Dense VAE example saved whole by Keras 3 (a custom Sampling
// layer; fixtures/keras/gen's k3_vae.keras is hand-made and Keras cannot
// rebuild its graph); the VAE aekit writes (an aekit>Sampling layer); and the real files of keras-real that
// Keras can rebuild: the nids-vae (an encoder whose Lambda takes two
// inputs), the Keras VAE example's weights with its architecture, a
// Conv2D/BatchNormalization/UpSampling GAN of two nested models, a
// Conv2D/BatchNormalization Sequential, nested Sequentials and
// Functionals, a BatchNormalization/LeakyReLU encoder.
func TestDescribeMatchesKeras(t *testing.T) {
	py := interop.Python(t, "keras", "tf_keras", "h5py")
	dir := t.TempDir()
	script := filepath.Join(fixtures, "describe_ref.py")
	interop.Run(t, py, script, "make", dir)
	v := vaeFixture(t, "6:relu,5:tanh|3:vae|6:relu,8:sigmoid", 8)
	aekitVAE := filepath.Join(dir, "aekit_vae.keras")
	if err := WriteVAEFile(aekitVAE, v.Encoder, v.Decoder); err != nil {
		t.Fatal(err)
	}
	type file struct{ path, kind, arch string }
	files := []file{
		{filepath.Join(dir, "k3_graph.keras"), "3", ""},
		{filepath.Join(dir, "tfk_graph.h5"), "2", ""},
		{filepath.Join(dir, "k3_example_vae.keras"), "3", ""},
		{aekitVAE, "3", ""},
	}
	real := sharedDirOrEmpty()
	if real == "" && interop.Required() {
		t.Fatal("real Keras files not found (set AEKIT_SHARED to the folder holding keras-real)")
	}
	if real != "" {
		for _, f := range []file{
			{"k2_nested_functional_vae_lambda_nidsvae.h5", "2", ""},
			{"k2_nested_vae_saveweights_brianrice2.h5", "2", "k2_nested_vae_saveweights_brianrice2_arch.json"},
			{"k2_nested_functional_gan_conv_bn_rsyamil.h5", "2", ""},
			{"k2_cnn_bn_seq_dl4j.h5", "2", ""},
			{"k2_bn_leakyrelu_functional_caxenie.h5", "2", ""},
			{"k2_nested_seq_gan_hrithik.h5", "2", ""},
			{"k3_nested_functional_goswami.keras", "3", ""},
			{"k3_nested_gan_legacy_shivu.h5", "3", ""},
		} {
			f.path = filepath.Join(real, f.path)
			if f.arch != "" {
				f.arch = filepath.Join(real, f.arch)
			}
			files = append(files, f)
		}
	}
	args := []string{script, "batch"}
	spec := func(f file) string {
		s := f.kind + "," + f.path
		if f.arch != "" {
			s += "," + f.arch
		}
		return s
	}
	for _, f := range files {
		args = append(args, spec(f))
	}
	out := interop.Run(t, py, args...)
	refs := map[string]*kerasDescription{}
	if err := json.Unmarshal(lastJSON(out), &refs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	totalLayers, totalShapes := 0, 0
	for _, f := range files {
		t.Run(filepath.Base(f.path), func(t *testing.T) {
			d, _, err := DescribeFile(f.path, &Options{Arch: f.arch})
			if err != nil {
				t.Fatal(err)
			}
			ref := refs[spec(f)]
			if ref == nil {
				t.Fatalf("describe_ref.py gave no description of %s", spec(f))
			}
			n, s := compareDescription(t, d.Name, d, ref)
			totalLayers, totalShapes = totalLayers+n, totalShapes+s
			t.Logf("%s: %d layers and %d output shapes agree with Keras; %s params", filepath.Base(f.path), n, s, fmt.Sprint(d.Params))
		})
	}
	t.Logf("%d files, %d layers, %d output shapes compared with Keras", len(files), totalLayers, totalShapes)
}
