package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/modelfile"
)

// TestInspectVAE: the VAE `aekit train` writes (a graph with three
// encoder outputs and an aekit>Sampling layer) is listed in full by
// inspect, table and JSON: its total equals the encoder's and decoder's
// parameters as the runtime reader counts them (--model), the Sampling
// layer is marked, the decoder takes the encoder's third output; predict
// and convert refuse the whole file in one line naming the Sampling layer,
// and its parts still run.
func TestInspectVAE(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 64, 20, 1)
	vae := filepath.Join(dir, "vae.keras")
	if code, _, stderr := runTrainCmd("--data", data, "--layers", "16:relu|2:vae|16:relu,20:sigmoid", "--epochs", "1", "-o", vae); code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	// The runtime reader's counts: the decoder, the encoder cut at z_mean,
	// and z_log_var (the last layer of the encoder cut there).
	parts := 0
	for i, o := range []modelfile.Options{{Model: "decoder"}, {Model: "encoder", Output: "z_mean"}, {Model: "encoder", Output: "z_log_var"}} {
		m, _, err := modelfile.Open(vae, &o)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			parts += m.Params()
		} else {
			parts += m.Layers[len(m.Layers)-1].Params()
		}
	}
	s := runOK(t, "inspect", vae)
	for _, want := range []string{`Model: "vae" (Functional, a graph)`, "z (Sampling) *", "encoder[2]", "Total params: " + commas(parts),
		"aekit cannot run this layer (1 in all)", "Outputs: decoder (None, 20)"} {
		if !strings.Contains(s, want) {
			t.Errorf("inspect: no %q in\n%s", want, s)
		}
	}
	var gi graphInfo
	if err := json.Unmarshal([]byte(runOK(t, "inspect", "--json", vae)), &gi); err != nil {
		t.Fatal(err)
	}
	if gi.Chain || gi.Runnable || gi.Params == nil || *gi.Params != int64(parts) || len(gi.Layers) != 3 {
		t.Fatalf("inspect --json: %+v", gi)
	}
	enc, dec := gi.Layers[1], gi.Layers[2]
	if enc.Model == nil || len(enc.Model.Outputs) != 3 || len(enc.OutputShapes) != 3 || dec.Model == nil ||
		len(dec.Inbound) != 1 || dec.Inbound[0] != "encoder[2]" {
		t.Errorf("inspect --json: encoder %+v, decoder %+v", enc, dec)
	}
	z := enc.Model.Layers[len(enc.Model.Layers)-1]
	if z.Name != "z" || z.Class != "Sampling" || z.Unsupported == "" || strings.Join(z.Inbound, ",") != "z_mean,z_log_var" {
		t.Errorf("inspect --json: z %+v", z)
	}
	for _, args := range [][]string{
		{"predict", vae, "-i", data, "-o", filepath.Join(dir, "y.npy")},
		{"convert", vae, filepath.Join(dir, "vae.onnx")},
	} {
		runFail(t, []string{`layer "z" of class "Sampling"`, "--model"}, args...)
	}
	runOK(t, "predict", vae, "--model", "encoder", "--output", "z_mean", "-i", data, "-o", filepath.Join(dir, "codes.npy"))
}

// TestInspectArchitecture: an architecture alone is listed with the
// parameter counts its Dense layers imply, without allocating them (8
// layers of 16384×16384 would take 8 GiB; train --arch refuses them, see
// TestCraftedFiles).
func TestInspectArchitecture(t *testing.T) {
	s := runOK(t, "inspect", filepath.Join(craftedDir, "arch_8x16384.json"))
	if !strings.Contains(s, "Total params: 2,147,614,720") || !strings.Contains(s, "d7 (Dense)") {
		t.Errorf("inspect:\n%s", s)
	}
}

// TestInspectRealFiles runs inspect on every file of keras-real: each is
// listed, except the files in refused, which are refused in one line for
// the reason given (weights-only files without --arch — listed with it —,
// files that are no model). The nids-vae file (an encoder whose Lambda takes two inputs) is
// listed with its Lambda marked.
func TestInspectRealFiles(t *testing.T) {
	dir := sharedDir(t)
	// Weights-only files and their architectures: refused alone, listed
	// with --arch.
	arch := map[string]string{
		"k1_cnn_weights_pplonski.h5":                   "k1_cnn_arch_pplonski.json",
		"k2_dense_3layer_functional_hls4ml_weights.h5": "k2_dense_3layer_functional_hls4ml.json",
		"k2_mlp_softmax_seq_dl4j_weights.h5":           "k2_mlp_softmax_seq_dl4j_arch.json",
		"k2_nested_vae_saveweights_brianrice2.h5":      "k2_nested_vae_saveweights_brianrice2_arch.json",
		"k3_dense_seq_saveweights_jenish.weights.h5":   "k3_dense_seq_saveweights_jenish_arch.json",
	}
	refused := map[string]string{
		"k1_cnn_weights_pplonski.h5":                        "holds weights only; give the architecture",
		"k2_dense_3layer_functional_hls4ml_weights.h5":      "holds weights only; give the architecture",
		"k2_mlp_softmax_seq_dl4j_weights.h5":                "holds weights only; give the architecture",
		"k2_nested_vae_saveweights_brianrice2.h5":           "holds weights only; give the architecture",
		"k3_dense_seq_saveweights_jenish.weights.h5":        "holds weights only; give the architecture",
		"k2_dense_relulayer_seq_dl4j_inputs_and_outputs.h5": "not a Keras file", // DL4J test data
		"k2_mlp_softmax_seq_dl4j_inputs_and_outputs.h5":     "not a Keras file",
		"k3_dense_seq_saveweights_jenish_expected.json":     "no class_name and config", // expected outputs
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, e := range entries {
		name := e.Name()
		if ext := filepath.Ext(name); ext != ".h5" && ext != ".keras" && ext != ".json" {
			continue
		}
		var stdout, stderr bytes.Buffer
		code := run([]string{"inspect", filepath.Join(dir, name)}, &stdout, &stderr)
		if why, ok := refused[name]; ok {
			if code != exitUsage || !strings.Contains(stderr.String(), why) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("inspect %s: exit %d, stderr %q; want one line with %q", name, code, stderr.String(), why)
			}
			continue
		}
		if code != exitOK || !strings.Contains(stdout.String(), "Total params: ") {
			t.Errorf("inspect %s: exit %d: %s", name, code, stderr.String())
			continue
		}
		listed++
	}
	for w, a := range arch {
		if s := runOK(t, "inspect", filepath.Join(dir, w), "--arch", filepath.Join(dir, a)); !strings.Contains(s, "Total params: ") {
			t.Errorf("inspect %s --arch %s:\n%s", w, a, s)
		}
	}
	s := runOK(t, "inspect", filepath.Join(dir, "k2_nested_functional_vae_lambda_nidsvae.h5"))
	if !strings.Contains(s, "z (Lambda) *") || !strings.Contains(s, "Total params: 22,041") || !strings.Contains(s, "z_mean, z_log_var") {
		t.Errorf("inspect nidsvae:\n%s", s)
	}
	// A chain with convolutions: their output shapes worked out from the
	// configs (Keras 1 spellings; Keras agrees, TestDescribeMatchesKeras,
	// on the Keras 2 files), so the Flatten feeding dense_1 (a 784×6
	// kernel in the file) is 784 wide.
	s = runOK(t, "inspect", filepath.Join(dir, "k1_cnn_weights_pplonski.h5"), "--arch", filepath.Join(dir, "k1_cnn_arch_pplonski.json"))
	for _, want := range []string{"convolution2d_1 (Convolution2D) *  (None, 4, 28, 28)", "(None, 4, 14, 14)", "flatten_1 (Flatten)                (None, 784)", "Total params: 4,968"} {
		if !strings.Contains(s, want) {
			t.Errorf("inspect pplonski: no %q in\n%s", want, s)
		}
	}
	t.Logf("%d real Keras files listed by inspect, %d refused for the reasons given", listed, len(refused))
}

// TestInspectFrozen: inspect counts trainable and non-trainable values as
// Keras's summary does and marks frozen layers, on a real Keras 2 GAN
// whose discriminator is frozen (Keras 3 and tf-keras: 77 of 291 values
// trainable).
func TestInspectFrozen(t *testing.T) {
	name := filepath.Join(sharedDir(t), "k2_nested_seq_gan_hrithik.h5")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"inspect", "--json", name}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var mi struct {
		Params    int `json:"params"`
		Trainable int `json:"trainable_params"`
		Layers    []struct {
			Name   string `json:"name"`
			Frozen bool   `json:"frozen"`
			Layers []struct {
				Name   string `json:"name"`
				Frozen bool   `json:"frozen"`
			} `json:"layers"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &mi); err != nil {
		t.Fatal(err)
	}
	if mi.Params != 291 || mi.Trainable != 77 {
		t.Errorf("params %d, trainable %d; want 291, 77 (Keras's count_params and trainable_weights)", mi.Params, mi.Trainable)
	}
	var frozen []string
	for _, l := range mi.Layers {
		for _, s := range l.Layers {
			if s.Frozen {
				frozen = append(frozen, s.Name)
			}
		}
	}
	if fmt.Sprint(frozen) != "[dense_4 dense_5]" {
		t.Errorf("frozen layers %v, want [dense_4 dense_5]", frozen)
	}
	stdout.Reset()
	if code := run([]string{"inspect", name}, &stdout, &stderr); code != exitOK ||
		!strings.Contains(stdout.String(), "Trainable params: 77\nNon-trainable params: 214\n") || strings.Count(stdout.String(), " frozen ") != 2 {
		t.Errorf("exit %d, table:\n%s", code, stdout.String())
	}
}
