package main

import (
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/train"
)

// archCase returns a kerasFitCase that aekit builds from --layers spec
// (and --noise noise) with --keras-seed, and keras_fit.py from the same
// train.Arch.
func archCase(t *testing.T, c kerasFitCase, noise string) kerasFitCase {
	t.Helper()
	full := c.Spec
	if noise != "" {
		full = noise + "," + full
	}
	a, err := train.ParseArch(full)
	if err != nil {
		t.Fatal(err)
	}
	c.Model, c.Noise, c.Split = "arch", noise, a.Split
	for _, l := range a.Layers {
		kl := kfLayer{Kind: l.Kind.String(), Units: l.Units, Rate: l.Rate}
		if l.Kind == train.Dense {
			kl.Activation = l.Activation.String()
			kl.Kernel = [2]float64{l.Reg.Kernel.L1, l.Reg.Kernel.L2}
			kl.Bias = [2]float64{l.Reg.Bias.L1, l.Reg.Bias.L2}
			kl.Activity = [2]float64{l.Reg.Activity.L1, l.Reg.Activity.L2}
		}
		c.Arch = append(c.Arch, kl)
	}
	return c
}

// TestKerasFitFamily trains the denoising and sparse members of the
// autoencoder family (issue 11) with real Keras 3 Model.fit and with
// aekit train --layers … --keras-seed N (the same initial weights) on
// the same data, and compares as TestKerasFit does:
//   - regularisers (kernel, bias, activity; L1, L2, both), which are
//     deterministic: weights after 20 updates within 1e-5 of max|w|,
//     every epoch's loss and val_loss (both include the penalties, as
//     Keras reports them) within 1e-5 relative;
//     the same from the .keras file Keras saved (--init-from), whose
//     config carries the regularisers;
//   - noise layers (Dropout, GaussianNoise through --noise,
//     GaussianDropout, AlphaDropout), whose random numbers differ: the
//     final loss of a 50-epoch shuffled run within 1% of Keras's.
func TestKerasFitFamily(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running Keras")
	}
	reg := func(name, spec string) kerasFitCase {
		return kerasFitCase{Name: name, Data: "seed", Rows: 512, Optimizer: kfOpt{Name: "adam"}, Loss: "binary_crossentropy",
			BatchSize: 40, Epochs: 5, ValidationSplit: 0.25, SnapshotUpdates: 20, Seed: 11, Spec: spec}
	}
	noisy := func(name, spec, noise string) kerasFitCase {
		c := kerasFitCase{Name: name, Data: "fashion", Rows: 2000, Optimizer: kfOpt{Name: "adam"}, Loss: "binary_crossentropy",
			BatchSize: 128, Epochs: 50, Seed: 21, Shuffle: true, Spec: spec}
		return archCase(t, c, noise)
	}
	cases := []kerasFitCase{
		archCase(t, reg("reg_all", "10:relu:l1=1e-3:bias_l2=2e-3:act_l2=1e-3,10:relu:l2=3e-3:bias_l1=1e-3:act_l1=2e-3|100:sigmoid:l1=1e-4:l2=1e-4,100:sigmoid:bias_l1=1e-3"), ""),
		// The Keras blog's sparse autoencoder on 784-wide data.
		func() kerasFitCase {
			c := reg("sparse784", "32:relu:act_l1=1e-4|784:sigmoid")
			c.Data = "fashion"
			return archCase(t, c, "")
		}(),
		noisy("dae_gaussian", "32:relu|784:sigmoid", "gaussian=0.2"),
		noisy("dropout", "64:relu:dropout=0.2,32:relu|784:sigmoid", ""),
		noisy("gaussian_dropout", "64:relu:gaussian_dropout=0.2,32:relu|784:sigmoid", ""),
		noisy("alpha_dropout", "64:selu:alpha_dropout=0.1,32:selu|784:sigmoid", ""),
	}
	dir := t.TempDir()
	res := runKerasFit(t, dir, cases)
	t.Logf("judge: Keras %s on TensorFlow %s", res.Keras, res.TensorFlow)
	for _, c := range cases {
		init := filepath.Join(dir, c.Name+".init.keras")
		t.Run(c.Name, func(t *testing.T) { checkKerasFit(t, dir, init, c, res) })
		if !c.Shuffle {
			// The same run from the .keras file Keras saved: aekit
			// reads the regularisers from its config.
			f := c
			f.Spec, f.Noise = "", ""
			t.Run(c.Name+"/init-from", func(t *testing.T) { checkKerasFit(t, dir, init, f, res) })
		}
	}
}
