package keras

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const (
	vaeFile = "k2_nested_vae_saveweights_brianrice2.h5"
	vaeArch = "k2_nested_vae_saveweights_brianrice2_arch.json"
)

// TestRealVAEParts loads the parts of the Keras VAE example that run on
// their own — the decoder, and the encoder cut at z_mean — from a
// save_weights file whose whole model cannot run (a sampling Lambda), and
// compares them with reference.py's numpy forward pass.
func TestRealVAEParts(t *testing.T) {
	dir := sharedDir(t)
	ref := filepath.Join(fixtures, "real", vaeFile)
	arch := filepath.Join(dir, vaeArch)
	for _, c := range []struct {
		opt         Options
		in, want    string
		class       string
		layers      []string
		input, out  int
		inner, name string
	}{
		{Options{Model: "decoder"}, ".decoder.input.npy", ".decoder.npy", "Model",
			[]string{"dense_2", "dense_3"}, 2, 784, "dense_3", "decoder"},
		{Options{Model: "encoder", Output: "z_mean"}, ".input.npy", ".encoder.z_mean.npy", "Model",
			[]string{"dense_1", "z_mean"}, 784, 2, "dense_1", "encoder"},
	} {
		t.Run(c.opt.Model+"/"+c.opt.Output, func(t *testing.T) {
			c.opt.Arch = arch
			m, info, err := ReadFile(filepath.Join(dir, vaeFile), &c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(m.LayerNames(), " "); got != strings.Join(c.layers, " ") {
				t.Errorf("layers %q, want %q", got, c.layers)
			}
			if m.Name != c.name || info.Class != c.class || info.Format != FormatWeightsH5 || info.Major != 2 {
				t.Errorf("model %q, info %+v", m.Name, *info)
			}
			if m.InputWidth() != c.input || m.OutputWidth() != c.out {
				t.Errorf("%d → %d, want %d → %d", m.InputWidth(), m.OutputWidth(), c.input, c.out)
			}
			d := checkOutputs(t, m, "", ref+c.in, ref+c.want)
			t.Logf("max |Δ| = %.3g", d)
		})
	}
}

// TestRealVAEErrors: the whole VAE, or its encoder without an output,
// still fails, naming the Lambda and suggesting the parts that load; bad
// names fail with ErrNotFound listing the good ones.
func TestRealVAEErrors(t *testing.T) {
	dir := sharedDir(t)
	arch := filepath.Join(dir, vaeArch)
	for _, c := range []struct {
		opt  Options
		want error
		msg  []string
	}{
		{Options{}, ErrUnsupportedLayer, []string{`"z"`, `class "Lambda"`, "Options.Model",
			"encoder (outputs z_mean, z_log_var, z)", "decoder"}},
		{Options{Model: "encoder"}, ErrUnsupportedLayer, []string{`"z"`, `class "Lambda"`, "Options.Output",
			"3 outputs", "z_mean, z_log_var, z"}},
		{Options{Model: "encoder", Output: "z"}, ErrUnsupportedLayer, []string{`"z"`, `class "Lambda"`}},
		{Options{Model: "encoder", Output: "z_log_var"}, nil, nil},
		{Options{Model: "decodr"}, ErrNotFound, []string{`"decodr"`, "encoder (outputs z_mean, z_log_var, z), decoder"}},
		{Options{Model: "encoder", Output: "z_meen"}, ErrNotFound, []string{`"z_meen"`, "encoder_input, dense_1, z_mean, z_log_var, z"}},
		{Options{Model: "encoder", Output: "encoder_input"}, ErrNotFound, []string{"InputLayer"}},
		{Options{Model: "decoder", Output: "dense_2"}, nil, nil},
		{Options{Output: "decoder"}, ErrUnsupportedLayer, []string{`"z"`, `class "Lambda"`, "Options.Model"}},
		{Options{Output: "encoder"}, ErrUnsupportedLayer, []string{`"z"`, `class "Lambda"`, "Options.Model"}},
	} {
		c.opt.Arch = arch
		m, _, err := ReadFile(filepath.Join(dir, vaeFile), &c.opt)
		name := c.opt.Model + "/" + c.opt.Output
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if m.OutputWidth() != map[string]int{"z_log_var": 2, "dense_2": 512}[c.opt.Output] {
				t.Errorf("%s: output width %d", name, m.OutputWidth())
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
			continue
		}
		for _, s := range append(c.msg, vaeFile) {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not mention %q", name, err, s)
			}
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("%s: error %q names a command-line flag", name, err)
		}
	}
}

// TestRealNestedAlone loads the nested models of the other real files on
// their own and compares them with the reference for the whole model run
// up to them (each is the first layer, fed the model's input).
func TestRealNestedAlone(t *testing.T) {
	dir := sharedDir(t)
	ref := filepath.Join(fixtures, "real")
	for _, c := range []struct {
		file, sub string
		format    Format
	}{
		{"k3_nested_functional_goswami.keras", "functional", FormatKeras},
		{"k2_nested_seq_gan_hrithik.h5", "sequential_4", FormatH5},
		{"k3_nested_gan_legacy_shivu.h5", "sequential", FormatH5},
	} {
		t.Run(c.file, func(t *testing.T) {
			m, info, err := ReadFile(filepath.Join(dir, c.file), &Options{Model: c.sub})
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != c.sub || info.Format != c.format {
				t.Errorf("model %q format %s, want %q %s", m.Name, info.Format, c.sub, c.format)
			}
			whole, _ := readReal(t, dir, c.file, "")
			sub, err := whole.Submodel(c.sub)
			if err != nil {
				t.Fatal(err)
			}
			if m.Params() != sub.Params() || strings.Join(m.LayerNames(), " ") != strings.Join(sub.LayerNames(), " ") {
				t.Errorf("alone: %v (%d params); in the whole model: %v (%d params)", m.LayerNames(), m.Params(), sub.LayerNames(), sub.Params())
			}
			d := checkOutputs(t, m, "", filepath.Join(ref, c.file+".input.npy"), filepath.Join(ref, c.file+"."+c.sub+".npy"))
			t.Logf("%s alone: max |Δ| = %.3g", c.sub, d)
			// Cut at its last layer: the same model.
			last := sub.Layers[len(sub.Layers)-1].Name
			cut, _, err := ReadFile(filepath.Join(dir, c.file), &Options{Model: c.sub, Output: last})
			if err != nil {
				t.Fatal(err)
			}
			if cut.Params() != m.Params() {
				t.Errorf("cut at %q: %d params, want %d", last, cut.Params(), m.Params())
			}
			_, _, err = ReadFile(filepath.Join(dir, c.file), &Options{Model: "nope"})
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), c.sub) {
				t.Errorf("unknown model: err = %v, want ErrNotFound listing %q", err, c.sub)
			}
		})
	}
}

// TestVAEFixture loads the parts of gen.py's Keras 3 VAE: Options.Output
// must count the layers it leaves out, or z_mean would get z_log_var's
// weights (layers/dense_1 instead of layers/dense_2, same shape).
func TestVAEFixture(t *testing.T) {
	name := filepath.Join(fixtures, "gen", "k3_vae.keras")
	for _, c := range []struct {
		opt      Options
		in, want string
	}{
		{Options{Model: "decoder"}, ".decoder.input.npy", ".decoder.npy"},
		{Options{Model: "encoder", Output: "z_mean"}, ".input.npy", ".encoder.z_mean.npy"},
	} {
		m, info, err := ReadFile(name, &c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if info.Format != FormatKeras || info.Major != 3 {
			t.Errorf("info %+v", *info)
		}
		d := checkOutputs(t, m, "", name+c.in, name+c.want)
		t.Logf("%s/%s: max |Δ| = %.3g", c.opt.Model, c.opt.Output, d)
	}
	_, _, err := ReadFile(name, nil)
	if !errors.Is(err, ErrUnsupportedLayer) || !strings.Contains(err.Error(), "Options.Model") {
		t.Errorf("whole VAE: err = %v, want ErrUnsupportedLayer suggesting Options.Model", err)
	}
}

// TestMultiOutputHint: a Dense-only functional model with two outputs
// fails with ErrUnsupportedGraph listing them; Options.Output picks one.
func TestMultiOutputHint(t *testing.T) {
	dense := func(name, in string) string {
		return `{"class_name": "Dense", "name": "` + name + `", "config": {"name": "` + name +
			`", "units": 2, "activation": "linear"}, "inbound_nodes": [[["` + in + `", 0, 0, {}]]]}`
	}
	arch := []byte(`{"class_name": "Model", "keras_version": "2.3.1", "config": {"name": "enc", "layers": [
		{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_input_shape": [null, 4]}, "inbound_nodes": []},
		` + dense("h", "x") + `, ` + dense("mu", "h") + `, ` + dense("logvar", "h") + `],
		"input_layers": [["x", 0, 0]], "output_layers": [["mu", 0, 0], ["logvar", 0, 0]]}}`)
	_, _, err := Read(strings.NewReader(string(arch)), nil)
	if !errors.Is(err, ErrUnsupportedGraph) || !strings.Contains(err.Error(), "Options.Output: mu, logvar") {
		t.Errorf("err = %v, want ErrUnsupportedGraph listing the outputs", err)
	}
	var h *HintError
	if !errors.As(err, &h) || h.Model != "enc" || strings.Join(h.Outputs, ",") != "mu,logvar" || h.NeedArch || len(h.Models) != 0 {
		t.Errorf("err = %#v, want a *HintError for model enc, outputs mu, logvar", err)
	} else if got := strings.Join(h.Hints("A", "M", "-o"), "|"); got != `model "enc" has 2 outputs; load the layers feeding one with -o: mu, logvar` {
		t.Errorf("Hints = %q", got)
	}
	// With an output the architecture is fine; it has no weights.
	_, _, err = Read(strings.NewReader(string(arch)), &Options{Output: "logvar"})
	if !errors.Is(err, ErrMissingWeights) {
		t.Errorf("Output logvar: err = %v, want ErrMissingWeights", err)
	}
	_, _, err = Read(strings.NewReader(string(arch)), &Options{Model: "enc"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "has none") {
		t.Errorf("Model enc: err = %v, want ErrNotFound (no nested models)", err)
	}
}
