package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/npy"
)

// TestTrainUnwritableModelFailsFirst: a model the output's format cannot
// hold (Keras 2's hard_sigmoid in a Keras 3 .keras file) is refused
// before training, not after it, and nothing is written; the same model
// trains into a .h5, which can hold it.
func TestTrainUnwritableModelFailsFirst(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "hs.json")
	if err := os.WriteFile(arch, []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6]}},
 {"class_name": "Dense", "config": {"name": "a", "units": 3, "activation": "hard_sigmoid"}},
 {"class_name": "Dense", "config": {"name": "b", "units": 6, "activation": "sigmoid"}}]},
 "keras_version": "2.15.0", "backend": "tensorflow"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 64*6)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	data := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(data, &npy.Array{Shape: []int{64, 6}, Data: x}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.keras")
	history := filepath.Join(dir, "h.csv")
	runFail(t, []string{"-o " + out, "hard_sigmoid", "Keras 3"},
		"train", "--data", data, "--arch", arch, "--epochs", "2", "--history", history, "-o", out)
	for _, p := range []string{out, out + ".ckpt", history} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written by a run refused before training", p)
		}
	}
	runOK(t, "train", "--data", data, "--arch", arch, "--epochs", "2", "--verbose", "0", "-o", filepath.Join(dir, "m.h5"))
}
