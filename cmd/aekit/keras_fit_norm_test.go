package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	aert "github.com/aekit/aekit/runtime"
)

// TestKerasFitNorm trains autoencoders with BatchNormalization and
// LayerNormalization (issue 11, item 2) with real Keras 3 Model.fit and
// with aekit train on the same data, without shuffling (nothing random),
// from the same initial weights: aekit builds the model from --layers …
// --keras-seed N, and again starts from the .keras file Keras saved
// (--init-from). As TestKerasFit: all weights after 20 updates — gamma,
// beta and the moving mean and variance included — within 1e-5 of
// max|w| per tensor, every epoch's loss (batch statistics) and val_loss
// (moving statistics) within 1e-5 relative.
func TestKerasFitNorm(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running Keras")
	}
	base := func(name, data, spec string) kerasFitCase {
		c := kerasFitCase{Name: name, Data: data, Rows: 512, Optimizer: kfOpt{Name: "adam"}, Loss: "binary_crossentropy",
			BatchSize: 40, Epochs: 5, ValidationSplit: 0.25, SnapshotUpdates: 20, Seed: 13, Spec: spec}
		return archCase(t, c, "")
	}
	mse := base("bn_ln_seed_sgd_mse", "seed", "bn,10:relu:bn,10:tanh:ln|100:sigmoid:ln,100:sigmoid")
	mse.Optimizer, mse.Loss = kfOpt{Name: "sgd", LR: 0.1, Momentum: 0.9}, "mean_squared_error"
	cases := []kerasFitCase{
		base("bn784", "fashion", "32:relu:bn|784:sigmoid"),
		base("ln784", "fashion", "32:relu:ln|784:sigmoid"),
		mse,
	}
	dir := t.TempDir()
	res := runKerasFit(t, dir, cases)
	t.Logf("judge: Keras %s on TensorFlow %s", res.Keras, res.TensorFlow)
	for _, c := range cases {
		init := filepath.Join(dir, c.Name+".init.keras")
		t.Run(c.Name, func(t *testing.T) { checkKerasFit(t, dir, init, c, res) })
		f := c
		f.Spec = ""
		t.Run(c.Name+"/init-from", func(t *testing.T) { checkKerasFit(t, dir, init, f, res) })
	}
}

// TestKerasLoadsTrainedNorm: models with BatchNormalization and
// LayerNormalization trained by aekit train --layers (bn, ln) and written
// to .keras and .h5 load in real Keras (Keras 3 for both, tf-keras for
// .h5) with the trained moving statistics, predict what aekit predicts
// (normwise 1e-6, inference mode) with the same layers and parameter
// count, and Keras can go on training them.
func TestKerasLoadsTrainedNorm(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x784.npy")
	writeData(t, data, 64, 784, 12)
	var cases []interop.KerasCase
	var wants [][]float32
	var models []string
	for i, ext := range []string{".keras", ".h5"} {
		out := filepath.Join(dir, "norm"+ext)
		if code, _, stderr := runTrainCmd("--data", data, "--layers", "32:relu:bn,16:relu:ln|bn,32:relu,784:sigmoid", "--epochs", "2",
			"--batch-size", "16", "--seed", "3", "-o", out); code != exitOK {
			t.Fatalf("aekit train -o %s: exit %d: %s", out, code, stderr)
		}
		m, _, err := openModel(out, "", "", "", "")
		if err != nil {
			t.Fatalf("aekit cannot read back %s: %v", out, err)
		}
		var moved bool
		m.Walk(func(_ []string, l *aert.Layer) {
			if bn, ok := l.Kind.(*aert.BatchNormalization); ok && bn.MovingMean[0] != 0 {
				moved = true
			}
		})
		if !moved {
			t.Fatalf("%s: moving means not trained", out)
		}
		in := filepath.Join(dir, fmt.Sprintf("in%d.npy", i))
		x := writeData(t, in, 3, 784, uint64(100+i))
		want, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		loaders := []string{interop.Keras3}
		if ext == ".h5" {
			loaders = append(loaders, interop.TFKeras)
		}
		for _, l := range loaders {
			cases = append(cases, interop.KerasCase{File: out, Loader: l, Input: in, Fit: true})
			wants, models = append(wants, want), append(models, out)
		}
	}
	res := interop.KerasLoad(t, cases)
	for i, c := range cases {
		m, _, err := openModel(models[i], "", "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if p := res[i].Problems(m, wants[i], 1e-6, true); len(p) > 0 {
			t.Errorf("%s by %s:\n\t%s", filepath.Base(c.File), c.Loader, strings.Join(p, "\n\t"))
			continue
		}
		t.Logf("%s by %s: normwise %.2g", filepath.Base(c.File), c.Loader, res[i].Normwise(wants[i]))
	}
}
