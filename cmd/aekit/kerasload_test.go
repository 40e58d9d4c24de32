package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
)

// TestKerasLoadsCLIOutput: every .keras and .h5 file the CLI writes loads
// in real Keras (keras.saving.load_model for both, tf_keras.models.
// load_model for .h5), predicts what aekit predicts from it (normwise
// 1e-6) with the same layers, activations, nested models and parameter
// count, and Keras can go on training it. The files come from
// `aekit convert` of every ONNX fixture (PyTorch- and tf2onnx-style
// exports) and of an ONNX file aekit exported from the seed model, from
// `aekit convert` of Keras-written files, and from `aekit train -o` of the
// seed model and 784-32-784.
func TestKerasLoadsCLIOutput(t *testing.T) {
	dir := t.TempDir()
	var outs []string
	convert := func(in, base string) {
		for _, ext := range []string{".keras", ".h5"} {
			out := filepath.Join(dir, base+ext)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"convert", in, out}, &stdout, &stderr); code != exitOK {
				msg := stderr.String()
				if code == exitUsage && strings.Contains(msg, "unsupported activation") {
					// A function the layout has no name for (e.g.
					// PyTorch's hardsigmoid, 1/6 slope, in a .h5).
					t.Logf("%s: %s", filepath.Base(out), strings.TrimSpace(msg))
					continue
				}
				t.Fatalf("aekit convert %s %s: exit %d: %s", in, out, code, msg)
			}
			outs = append(outs, out)
		}
	}
	onnxFiles, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "onnx", "*.onnx"))
	if err != nil || len(onnxFiles) == 0 {
		t.Fatalf("no ONNX fixtures: %v", err)
	}
	for _, f := range onnxFiles {
		convert(f, "onnx_"+strings.TrimSuffix(filepath.Base(f), ".onnx"))
	}
	judge := filepath.Join("..", "..", "fixtures", "keras", "judge")
	for _, f := range []string{"k3_seed.keras", "tk2_seed.h5", "k3_nest.keras", "tk2_misc.h5"} {
		convert(filepath.Join(judge, f), "keras_"+strings.NewReplacer(".", "_").Replace(f))
	}
	seedONNX := filepath.Join(dir, "seed.onnx")
	runOK(t, "convert", filepath.Join(judge, "k3_seed.keras"), seedONNX)
	convert(seedONNX, "seed_onnx")

	data := filepath.Join(dir, "x100.npy")
	writeData(t, data, 64, 100, 11)
	data784 := filepath.Join(dir, "x784.npy")
	writeData(t, data784, 64, 784, 12)
	for _, c := range []struct{ data, layers, base string }{
		{data, "10:relu,10:relu|100:sigmoid,100:sigmoid", "train_seed"},
		{data784, "32:relu|784:sigmoid", "train_ae784"},
	} {
		for _, ext := range []string{".keras", ".h5"} {
			out := filepath.Join(dir, c.base+ext)
			if code, _, stderr := runTrainCmd("--data", c.data, "--layers", c.layers, "--epochs", "1",
				"--batch-size", "16", "--seed", "3", "-o", out); code != exitOK {
				t.Fatalf("aekit train -o %s: exit %d: %s", out, code, stderr)
			}
			outs = append(outs, out)
		}
	}

	type job struct {
		out  string
		want []float32
	}
	var jobs []job
	var cases []interop.KerasCase
	for i, out := range outs {
		m, _, err := openModel(out, "", "", "", "")
		if err != nil {
			t.Fatalf("aekit cannot read back %s: %v", out, err)
		}
		in := filepath.Join(dir, fmt.Sprintf("in%d.npy", i))
		x := writeData(t, in, 3, m.InputWidth(), uint64(100+i))
		if err := npy.WriteFile(in, &npy.Array{Shape: append([]int{3}, m.Input...), Data: x}); err != nil {
			t.Fatal(err)
		}
		want, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		loaders := []string{interop.Keras3}
		if strings.HasSuffix(out, ".h5") {
			loaders = append(loaders, interop.TFKeras)
		}
		for _, l := range loaders {
			jobs = append(jobs, job{out, want})
			cases = append(cases, interop.KerasCase{File: out, Loader: l, Input: in, Fit: true})
		}
	}
	res := interop.KerasLoad(t, cases)
	tally := interop.Tally{}
	for i, j := range jobs {
		m, _, _ := openModel(j.out, "", "", "", "")
		want := j.want
		if cases[i].Loader == interop.Keras3 && strings.HasSuffix(j.out, ".h5") && interop.AsKeras3ReadsH5(m) {
			x, err := npy.ReadFile(cases[i].Input)
			if err != nil {
				t.Fatal(err)
			}
			if want, err = m.Predict(nil, x.Data); err != nil {
				t.Fatal(err)
			}
		}
		if p := res[i].Problems(m, want, 1e-6, true); len(p) > 0 {
			t.Errorf("%s by %s:\n\t%s", filepath.Base(j.out), cases[i].Loader, strings.Join(p, "\n\t"))
			continue
		}
		tally.Add(cases[i].Loader+" "+filepath.Ext(j.out), res[i].Normwise(want))
	}
	tally.Log(t, "files written by the CLI")
}
