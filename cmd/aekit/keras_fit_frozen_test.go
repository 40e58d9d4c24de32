package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/npy"
	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// tensors returns m's weight tensors in Keras's get_weights order (Dense
// kernel and bias, a kind's parameters), and which of them belong to
// frozen layers (runtime.Model.FrozenLayers).
func frozenTensors(m *aert.Model) (ws [][]float32, frozen []bool) {
	fz := m.FrozenLayers()
	m.Walk(func(_ []string, l *aert.Layer) {
		switch l.Type {
		case aert.Dense:
			ws, frozen = append(ws, l.Kernel, l.Bias), append(frozen, fz[l], fz[l])
		case aert.Other:
			for _, p := range l.Kind.Params() {
				ws, frozen = append(ws, p.Values), append(frozen, fz[l])
			}
		}
	})
	return ws, frozen
}

// frozenLayerNames returns the sorted names of m's frozen layers that
// hold weights.
func frozenLayerNames(m *aert.Model) []string {
	var out []string
	for l := range m.FrozenLayers() {
		if l.Type == aert.Dense || l.Type == aert.Other {
			out = append(out, l.Name)
		}
	}
	sort.Strings(out)
	return out
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

// checkFrozenKept trains the frozen case c with aekit train --init-from
// init (as checkKerasFit does) and checks that the output keeps the frozen
// layers frozen with their weights bit-identical to init's, that every
// trainable tensor changed, and that Keras too left them bit-identical
// (its snapshot and final weights in kdir against initNpz, the weights it
// started from). It returns the number of frozen tensors.
func checkFrozenKept(t *testing.T, kdir, init, initNpz string, c kerasFitCase) int {
	t.Helper()
	m0, _, err := openModel(init, "", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	w0, fz := frozenTensors(m0)
	nf := 0
	for _, f := range fz {
		if f {
			nf++
		}
	}
	if nf == 0 {
		t.Fatalf("%s has no frozen layer", init)
	}
	out := filepath.Join(t.TempDir(), "out"+filepath.Ext(init))
	if code, _, stderr := runTrainCmd(c.aekitArgs(kdir, init, c.Epochs, out, false)...); code != exitOK {
		t.Fatalf("aekit train: exit %d\n%s", code, stderr)
	}
	m1, _, err := openModel(out, "", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := frozenLayerNames(m1), frozenLayerNames(m0); !slices.Equal(a, b) {
		t.Errorf("frozen layers: aekit's output %v, the file it started from %v", a, b)
	}
	w1, _ := frozenTensors(m1)
	for i := range w0 {
		if same := equalBits(w0[i], w1[i]); same != fz[i] {
			t.Errorf("aekit: tensor %d (%d values, frozen %v): unchanged %v", i, len(w0[i]), fz[i], same)
		}
	}
	for _, kn := range []string{c.Name + ".snap.npz", c.Name + ".final.npz"} {
		for i := range w0 {
			if !fz[i] {
				continue
			}
			want, err := npy.ReadFileArray(initNpz, fmt.Sprintf("w%d", i))
			if err != nil {
				t.Fatal(err)
			}
			got, err := npy.ReadFileArray(filepath.Join(kdir, kn), fmt.Sprintf("w%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if !equalBits(want.Data, got.Data) {
				t.Errorf("Keras changed frozen tensor %d in %s", i, kn)
			}
		}
	}
	return nf
}

// frozenPenalty returns the kernel and bias penalties of m's frozen
// layers (L1·Σ|w| + L2·Σw², in float64): a constant in a run where they
// stay frozen.
func frozenPenalty(m *aert.Model) float64 {
	pen := func(r aert.Regularizer, w []float32) float64 {
		var s float64
		for _, v := range w {
			s += r.L1*math.Abs(float64(v)) + r.L2*float64(v)*float64(v)
		}
		return s
	}
	var s float64
	for l := range m.FrozenLayers() {
		if l.Type == aert.Dense && l.Reg != nil {
			s += pen(l.Reg.Kernel, l.Kernel) + pen(l.Reg.Bias, l.Bias)
		}
	}
	return s
}

// TestKerasFitFrozen trains autoencoders with frozen layers
// (trainable=False) with real Keras Model.fit (Keras 3, then tf-keras 2
// from the same weights) and with aekit train --init-from the file each
// saved, without shuffling, and compares as TestKerasFit does (weights
// after 20 updates within 1e-5 of max|w| per tensor, every epoch's loss
// and val_loss within 1e-5 relative); the frozen layers' weights, and a
// frozen BatchNormalization's moving statistics, stay bit-identical to
// the start in aekit and in Keras (checkFrozenKept). The cases: on
// 784-wide Fashion-MNIST rows, a frozen first Dense layer with a kernel
// regulariser and a frozen BatchNormalization after it; a frozen middle
// (Dense, BatchNormalization, and a decoder Dense with kernel and
// activity regularisers) between trainable layers, so that gradients
// flow through frozen layers; the whole encoder frozen (Keras's
// encoder.trainable = False) with SGD and mean squared error.
//
// Keras 3 leaves the weight penalties (kernel_regularizer,
// bias_regularizer) of frozen layers out of the loss
// (Layer._get_regularization_losses sums over trainable_weights), and so
// does aekit; tf-keras 2 counts them (it adds a layer's penalties when it
// creates its weights, whatever trainable says): its loss and val_loss
// are aekit's plus that constant, which the tf-keras comparison adds to
// aekit's losses (kerasFitCase.LossOffset; measured: the weights agree as
// with Keras 3).
func TestKerasFitFrozen(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running Keras")
	}
	base := func(name, spec string, freeze []int, models []string) kerasFitCase {
		c := kerasFitCase{Name: name, Data: "fashion", Rows: 512, Optimizer: kfOpt{Name: "adam"}, Loss: "binary_crossentropy",
			BatchSize: 40, Epochs: 5, ValidationSplit: 0.25, SnapshotUpdates: 20, Seed: 17, Spec: spec}
		c = archCase(t, c, "")
		c.Spec, c.Freeze, c.FreezeModels = "", freeze, models // aekit starts from Keras's file
		return c
	}
	enc := base("frozen_encoder_sgd_mse", "64:relu:bn,32:relu|784:sigmoid", nil, []string{"encoder"})
	enc.Optimizer, enc.Loss = kfOpt{Name: "sgd", LR: 0.1, Momentum: 0.9}, "mean_squared_error"
	cases := []kerasFitCase{
		base("frozen_dense_bn", "64:relu:l2=1e-3:bn,32:relu|784:sigmoid", []int{0, 1}, nil),
		base("frozen_middle", "64:relu,32:relu:bn|64:relu:l1=1e-4:act_l1=1e-4,784:sigmoid", []int{1, 2, 3}, nil),
		enc,
	}
	dir := t.TempDir()
	for _, j := range runKerasJudges(t, dir, cases) {
		t.Run(j.name, func(t *testing.T) {
			t.Logf("judge: Keras %s on TensorFlow %s", j.res.Keras, j.res.TensorFlow)
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) {
					init := filepath.Join(j.dir, c.Name+j.ext)
					if j.name == "tf_keras" {
						m, _, err := openModel(init, "", "", "", "")
						if err != nil {
							t.Fatal(err)
						}
						c.LossOffset = frozenPenalty(m)
						t.Logf("%s: tf-keras counts the frozen layers' weight penalties, %.6g, in its loss", c.Name, c.LossOffset)
					}
					checkKerasFit(t, j.dir, init, c, j.res)
					nf := checkFrozenKept(t, j.dir, init, filepath.Join(dir, c.Name+".init.npz"), c)
					t.Logf("%s: %d frozen tensors bit-identical to the start in aekit and Keras", c.Name, nf)
				})
			}
		})
	}
}

// TestTrainFrozenInitFrom: aekit train --init-from a file with frozen
// layers (a frozen encoder and a frozen decoder Dense layer, written by
// aekit as .keras and .h5) leaves their weights bit-identical, trains
// the others, and writes the frozen layers back frozen.
func TestTrainFrozenInitFrom(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 200, 50, 4)
	for _, ext := range []string{".keras", ".h5"} {
		m, err := train.Build(50, train.MustParseArch("16:relu:bn,8:relu|16:relu,50:sigmoid"), "glorot_uniform", 3)
		if err != nil {
			t.Fatal(err)
		}
		m.Layers[0].Frozen = true               // the encoder, with its BatchNormalization
		m.Layers[1].Sub.Layers[0].Frozen = true // the decoder's first Dense
		in := filepath.Join(dir, "frozen"+ext)
		if err := keras.WriteFile(in, m); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out"+ext)
		if code, _, stderr := runTrainCmd("--init-from", in, "--data", data, "--epochs", "3", "--batch-size", "32", "--seed", "1", "-o", out); code != exitOK {
			t.Fatalf("aekit train: exit %d\n%s", code, stderr)
		}
		m0, _, err := openModel(in, "", "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		m1, _, err := openModel(out, "", "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		w0, fz := frozenTensors(m0)
		w1, _ := frozenTensors(m1)
		if len(w0) != len(w1) || len(w0) != 12 {
			t.Fatalf("%s: %d tensors in, %d out, want 12", ext, len(w0), len(w1))
		}
		nf := 0
		for i := range w0 {
			if fz[i] {
				nf++
			}
			if same := equalBits(w0[i], w1[i]); same != fz[i] {
				t.Errorf("%s: tensor %d (frozen %v): unchanged %v", ext, i, fz[i], same)
			}
		}
		if nf != 10 { // 3 Dense kernels and biases, 4 BatchNormalization vectors
			t.Errorf("%s: %d frozen tensors, want 10", ext, nf)
		}
		if a, b := frozenLayerNames(m1), frozenLayerNames(m0); !slices.Equal(a, b) || len(a) != 4 {
			t.Errorf("%s: frozen layers out %v, in %v", ext, a, b)
		}
	}
	// Everything frozen: Keras fits with a warning and changes nothing.
	m, err := train.Build(50, train.MustParseArch("8:relu|50:sigmoid"), "glorot_uniform", 3)
	if err != nil {
		t.Fatal(err)
	}
	m.Layers[0].Frozen, m.Layers[1].Frozen = true, true
	in, out := filepath.Join(dir, "all.keras"), filepath.Join(dir, "all-out.keras")
	if err := keras.WriteFile(in, m); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runTrainCmd("--init-from", in, "--data", data, "--epochs", "2", "-o", out)
	if code != exitOK || !strings.Contains(stderr, "every layer of the model is frozen") {
		t.Fatalf("every layer frozen: exit %d, stderr %q", code, stderr)
	}
	m0, _, _ := openModel(in, "", "", "", "")
	m1, _, err := openModel(out, "", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	w0, _ := frozenTensors(m0)
	w1, _ := frozenTensors(m1)
	for i := range w0 {
		if !equalBits(w0[i], w1[i]) {
			t.Errorf("every layer frozen: tensor %d changed", i)
		}
	}
}
