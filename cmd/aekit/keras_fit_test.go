package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// Tolerances of TestKerasFit (issue 8): weights after SnapshotUpdates
// updates (and, where early stopping restores weights, at the end)
// within max|Δw| ≤ 1e-5·max|w_keras| per tensor; every epoch's loss and
// val_loss within 1e-5 relative.
const (
	kerasFitWeightTol = 1e-5
	kerasFitLossTol   = 1e-5
)

// kerasFitCase is one training run done by both Keras's Model.fit
// (fixtures/train/keras_fit.py) and aekit train. The JSON names are the
// script's.
type kerasFitCase struct {
	Name            string  `json:"name"`
	Model           string  `json:"model"` // "seed" (100-10-10-100-100), "ae784" or "hs" (100-16-100 hard_sigmoid)
	Data            string  `json:"data"`  // "seed" (random [0,1) rows) or "fashion" (uint8 images)
	Rows            int     `json:"rows"`
	Optimizer       kfOpt   `json:"optimizer"`
	Loss            string  `json:"loss"`
	BatchSize       int     `json:"batch_size"`
	Epochs          int     `json:"epochs"`
	ValidationSplit float64 `json:"validation_split,omitempty"`
	SnapshotUpdates int     `json:"snapshot_updates"`
	EarlyStopping   *kfES   `json:"early_stopping,omitempty"`
	Seed            int     `json:"seed"`
	// Shuffle reshuffles every epoch (Keras with its generator, aekit
	// with --seed 1): only the final loss is compared.
	Shuffle bool `json:"shuffle,omitempty"`
	// Spec, when set, makes aekit build the model itself (--layers Spec
	// --keras-seed Seed) instead of starting from Keras's file: the
	// initial weights must then be Keras's own.
	Spec string `json:"-"`
	// CompareFinal also compares the weights when training ends (after
	// early stopping restored the best ones).
	CompareFinal bool `json:"-"`
	// Noise, with Spec, is aekit's --noise; Arch and Split describe the
	// model Spec and Noise spell for keras_fit.py (Model "arch").
	Noise string    `json:"-"`
	Arch  []kfLayer `json:"arch,omitempty"`
	Split int       `json:"split,omitempty"`
	// Freeze (positions in Arch) and FreezeModels (nested models,
	// "encoder") are set trainable = False before Keras saves the model
	// aekit starts from (keras_fit_frozen_test.go).
	Freeze       []int    `json:"freeze,omitempty"`
	FreezeModels []string `json:"freeze_models,omitempty"`
	// LossOffset is added to aekit's losses before they are compared:
	// the weight penalties of frozen layers, which tf-keras counts in
	// its loss and Keras 3 and aekit do not (keras_fit_frozen_test.go).
	LossOffset float64 `json:"-"`
}

// kfLayer is one layer of a train.Arch for keras_fit.py's build_arch.
type kfLayer struct {
	Kind       string     `json:"kind"`
	Units      int        `json:"units,omitempty"`
	Activation string     `json:"activation,omitempty"`
	Kernel     [2]float64 `json:"kernel"`
	Bias       [2]float64 `json:"bias"`
	Activity   [2]float64 `json:"activity"`
	Rate       float64    `json:"rate,omitempty"`
}

type kfOpt struct {
	Name     string  `json:"name"` // aekit's --optimizer
	LR       float64 `json:"lr,omitempty"`
	Momentum float64 `json:"momentum,omitempty"`
}

type kfES struct {
	Patience int  `json:"patience"`
	Restore  bool `json:"restore"`
}

// kerasFitCases pairs every optimizer aekit offers with every loss, on the
// seed model and 784-32-784. 512 rows with validation_split 0.25 leave 384
// training rows: 10 batches of 40, the last one partial (24 rows), so 20
// updates are 2 epochs. The sgdm case has no validation (430 rows, 10
// full batches of 43).
func kerasFitCases() []kerasFitCase {
	base := func(name, model, data string, opt kfOpt, loss string) kerasFitCase {
		return kerasFitCase{Name: name, Model: model, Data: data, Rows: 512, Optimizer: opt, Loss: loss,
			BatchSize: 40, Epochs: 5, ValidationSplit: 0.25, SnapshotUpdates: 20, Seed: 1}
	}
	cs := []kerasFitCase{
		base("seed_adam_bce", "seed", "seed", kfOpt{Name: "adam"}, "binary_crossentropy"),
		base("ae784_adam_bce", "ae784", "fashion", kfOpt{Name: "adam"}, "binary_crossentropy"),
		base("seed_sgd_mse", "seed", "seed", kfOpt{Name: "sgd", LR: 0.1}, "mean_squared_error"),
		base("seed_sgdm_mae", "seed", "seed", kfOpt{Name: "sgd", LR: 0.05, Momentum: 0.9}, "mean_absolute_error"),
		base("seed_nesterov_bce", "seed", "seed", kfOpt{Name: "nesterov", LR: 0.05}, "binary_crossentropy"),
		base("ae784_rmsprop_mse", "ae784", "fashion", kfOpt{Name: "rmsprop"}, "mean_squared_error"),
		base("seed_adagrad_mae", "seed", "seed", kfOpt{Name: "adagrad", LR: 0.05}, "mean_absolute_error"),
		base("seed_amsgrad_bce", "seed", "seed", kfOpt{Name: "amsgrad", LR: 0.003}, "binary_crossentropy"),
		base("ae784_sgdm_bce", "ae784", "fashion", kfOpt{Name: "sgd", LR: 0.1, Momentum: 0.9}, "binary_crossentropy"),
	}
	cs[3].Rows, cs[3].BatchSize, cs[3].ValidationSplit = 430, 43, 0
	// Early stopping: val_loss is best after the first epoch and rises,
	// so patience 2 stops after epoch 3 and restores epoch 1's weights.
	es := base("seed_es_restore", "seed", "seed", kfOpt{Name: "adam", LR: 0.03}, "binary_crossentropy")
	es.Epochs, es.EarlyStopping, es.CompareFinal = 12, &kfES{Patience: 2, Restore: true}, true
	// The same run with a patience longer than the run: it never stops,
	// and Keras still restores the best epoch's weights when fit ends.
	nostop := es
	nostop.Name, nostop.Epochs, nostop.EarlyStopping = "seed_es_nostop_restore", 4, &kfES{Patience: 10, Restore: true}
	// Shuffled: 50 epochs of 784-32-784 (adam, BCE) on the 4000 shipped
	// Fashion-MNIST images, batch 256 (the last batch has 160 rows).
	// aekit reshuffles every epoch, as tf-keras does after
	// set_random_seed; Keras 3 then keeps one shuffled order for every
	// epoch (see keras_fit.py).
	shuf := kerasFitCase{Name: "ae784_shuffle50", Model: "ae784", Data: "fashion", Rows: 4000,
		Optimizer: kfOpt{Name: "adam"}, Loss: "binary_crossentropy", BatchSize: 256, Epochs: 50, Seed: 1, Shuffle: true}
	// Binary cross-entropy on probabilities (a hard_sigmoid output, which
	// saturates at exactly 0 and 1): Keras 3 computes
	// −(t·log p + (1−t)·log(1−p)) on p clipped to [1e-7, 1−1e-7], tf-keras
	// adds 1e-7 inside both logarithms.
	// Every other output starts saturated at 0 (the script sets those
	// biases to −4), where the two forms differ; SGD keeps them there
	// (their gradient is 0) and, unlike Adam, does not blow up rounding
	// in the near-zero gradients of the outputs that cross into
	// saturation.
	hs := base("hs_sgd_bce", "hs", "fashion", kfOpt{Name: "sgd", LR: 0.1}, "binary_crossentropy")
	// Same seed, same model: aekit builds the model with --keras-seed N
	// and Keras after keras.utils.set_random_seed(N).
	ks := base("seed_adam_bce_kerasseed", "seed", "seed", kfOpt{Name: "adam"}, "binary_crossentropy")
	ks.Seed, ks.Spec = 7, "10:relu,10:relu|100:sigmoid,100:sigmoid"
	ks784 := base("ae784_adam_bce_kerasseed", "ae784", "fashion", kfOpt{Name: "adam"}, "binary_crossentropy")
	ks784.Seed, ks784.Spec = 1234, "32:relu|784:sigmoid"
	return append(cs, es, nostop, hs, ks, ks784, shuf)
}

// aekitArgs returns the aekit train flags of c on the data in dir from the
// initial model init, for epochs epochs and without early stopping when
// noES is set.
func (c kerasFitCase) aekitArgs(dir, init string, epochs int, out string, noES bool) []string {
	a := []string{"--init-from", init}
	if c.Spec != "" {
		a = []string{"--layers", c.Spec, "--keras-seed", strconv.Itoa(c.Seed)}
		if c.Noise != "" {
			a = append(a, "--noise", c.Noise)
		}
	}
	a = append(a, "--data", filepath.Join(dir, fmt.Sprintf("%s%d.npy", c.Data, c.Rows)),
		"--optimizer", c.Optimizer.Name, "--loss", c.Loss, "--batch-size", strconv.Itoa(c.BatchSize),
		"--epochs", strconv.Itoa(epochs), "--threads", "1", "-o", out)
	if c.Shuffle {
		a = append(a, "--seed", "1")
	} else {
		a = append(a, "--no-shuffle")
	}
	if c.Optimizer.LR != 0 {
		a = append(a, "--lr", fmt.Sprint(c.Optimizer.LR))
	}
	if c.Optimizer.Momentum != 0 {
		a = append(a, "--momentum", fmt.Sprint(c.Optimizer.Momentum))
	}
	if c.ValidationSplit != 0 {
		a = append(a, "--validation-split", fmt.Sprint(c.ValidationSplit))
	}
	if es := c.EarlyStopping; es != nil && !noES {
		a = append(a, "--early-stopping", strconv.Itoa(es.Patience))
		if es.Restore {
			a = append(a, "--restore-best-weights")
		}
	}
	return a
}

// kerasResults is fixtures/train/keras_fit.py's results.json.
type kerasResults struct {
	Keras      string `json:"keras"`
	TensorFlow string `json:"tensorflow"`
	Cases      map[string]struct {
		Keys       []string             `json:"keys"`
		Epochs     []int                `json:"epochs"`
		History    map[string][]float64 `json:"history"`
		FitSeconds float64              `json:"fit_seconds"`
	} `json:"cases"`
}

// runKerasFit writes cases to dir, runs keras_fit.py there (one Python
// process for all cases) and returns its results.
// kerasJudge is one Keras that trained the cases: its name, the folder
// of its results and of the initial model it saved (extension ext, the
// file aekit starts from), and the results.
type kerasJudge struct {
	name, dir, ext string
	res            *kerasResults
}

// runKerasJudges trains cases with Keras 3 in dir and with tf-keras
// (Keras 2) in dir/tf_keras from Keras 3's initial weights.
func runKerasJudges(t *testing.T, dir string, cases []kerasFitCase) []kerasJudge {
	t.Helper()
	k3 := runKerasFit(t, dir, cases)
	k2dir := filepath.Join(dir, "tf_keras")
	k2 := runKerasFit(t, k2dir, cases, "--tf-keras", "--init-from", dir)
	return []kerasJudge{{"keras3", dir, ".init.keras", k3}, {"tf_keras", k2dir, ".init.h5", k2}}
}

func runKerasFit(t *testing.T, dir string, cases []kerasFitCase, extra ...string) *kerasResults {
	t.Helper()
	py := interop.Python(t, "keras", "tensorflow")
	b, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(cf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{filepath.Join("..", "..", "fixtures", "train", "keras_fit.py"), cf, dir}, extra...)
	interop.Run(t, py, args...)
	var r kerasResults
	rb, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// readHistoryCSV reads aekit train's --history file: the history keys
// (loss, and val_loss when it has values), the 0-based epochs and the
// values per key.
func readHistoryCSV(t *testing.T, name string) (keys []string, epochs []int, vals map[string][]float64) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "epoch,loss,val_loss,seconds" {
		t.Fatalf("%s: header %q", name, lines[0])
	}
	vals = map[string][]float64{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		e, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("%s: %q: %v", name, l, err)
		}
		epochs = append(epochs, e-1)
		for i, k := range []string{"loss", "val_loss"} {
			if f[1+i] == "" {
				continue
			}
			v, err := strconv.ParseFloat(f[1+i], 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, l, err)
			}
			vals[k] = append(vals[k], v)
		}
	}
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, epochs, vals
}

// compareWeights compares every kernel and bias of the model aekit wrote
// to out, and every weight of its other kinds (BatchNormalization's gamma,
// beta and moving statistics, ...), with the arrays w0, w1, ... of Keras's
// npz (model.get_weights() order) and returns the largest max|Δw|/max|w|
// over the tensors.
func compareWeights(t *testing.T, out, npz string) float64 {
	t.Helper()
	m, _, err := openModel(out, "", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]float32
	m.Walk(func(_ []string, l *aert.Layer) {
		switch l.Type {
		case aert.Dense:
			got = append(got, l.Kernel, l.Bias)
		case aert.Other:
			for _, p := range l.Kind.Params() {
				got = append(got, p.Values)
			}
		}
	})
	worst := 0.0
	for i, g := range got {
		want, err := npy.ReadFileArray(npz, fmt.Sprintf("w%d", i))
		if err != nil {
			t.Fatalf("%s: tensor %d: %v", npz, i, err)
		}
		if len(want.Data) != len(g) {
			t.Fatalf("tensor %d: aekit has %d values, Keras %d", i, len(g), len(want.Data))
		}
		var maxD, maxW float64
		for j, v := range want.Data {
			maxD = max(maxD, math.Abs(float64(g[j])-float64(v)))
			maxW = max(maxW, math.Abs(float64(v)))
		}
		rel := maxD / maxW
		if maxW == 0 {
			rel = maxD
		}
		if !(rel <= kerasFitWeightTol) {
			t.Errorf("%s: tensor %d: max|Δw| %.3g = %.3g of max|w| %.3g (tolerance %g)", filepath.Base(npz), i, maxD, rel, maxW, kerasFitWeightTol)
		}
		worst = max(worst, rel)
	}
	if _, err := npy.ReadFileArray(npz, fmt.Sprintf("w%d", len(got))); err == nil {
		t.Errorf("%s has more tensors than aekit's model (%d)", npz, len(got))
	}
	return worst
}

// kerasFitShuffleTol is the largest relative gap between aekit's and
// Keras's final loss allowed in a shuffled run (issue 8: 1%), where the
// two shuffle with different generators.
const kerasFitShuffleTol = 0.01

// TestKerasFit trains every case with real Keras 3 (TensorFlow backend)
// Model.fit from a freshly built Keras model saved as .keras, then with
// `aekit train --init-from` that file on the same data (written by the
// script), and compares: without shuffling, the weights after 20 updates,
// every epoch's loss and val_loss, the history's keys and epochs, and for
// early stopping the weights it restored; with shuffling (different
// generators), the final loss after 50 epochs. tf-keras 2 then trains the
// same cases from the same initial weights and judges aekit the same way.
func TestKerasFit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running Keras")
	}
	dir := t.TempDir()
	cases := kerasFitCases()
	partial := false
	for _, c := range cases {
		nTrain := int(math.Floor(float64(c.Rows) * (1 - c.ValidationSplit)))
		partial = partial || nTrain%c.BatchSize != 0
	}
	if !partial {
		t.Error("no case has a partial last batch")
	}
	// aekit starts from the file each judge saved: Keras 3's .keras, or
	// tf-keras's legacy .h5 (from which it takes Keras 2 semantics).
	for _, j := range runKerasJudges(t, dir, cases) {
		t.Run(j.name, func(t *testing.T) {
			t.Logf("judge: Keras %s on TensorFlow %s", j.res.Keras, j.res.TensorFlow)
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { checkKerasFit(t, j.dir, filepath.Join(j.dir, c.Name+j.ext), c, j.res) })
			}
		})
	}
}

// checkKerasFit trains case c with aekit train from the initial model
// init, on the data in kdir, and compares it with the Keras run whose
// outputs are in kdir.
func checkKerasFit(t *testing.T, kdir, init string, c kerasFitCase, res *kerasResults) {
	ext := filepath.Ext(init) // aekit writes what it read: .keras or .h5
	k, ok := res.Cases[c.Name]
	if !ok {
		t.Fatal("no Keras result")
	}
	nTrain := int(math.Floor(float64(c.Rows) * (1 - c.ValidationSplit)))
	perEpoch := (nTrain + c.BatchSize - 1) / c.BatchSize
	if !c.Shuffle && c.SnapshotUpdates%perEpoch != 0 {
		t.Fatalf("snapshot after %d updates is not at an epoch's end (%d batches per epoch)", c.SnapshotUpdates, perEpoch)
	}
	// The whole run, with its history.
	out := filepath.Join(t.TempDir(), "aekit"+ext)
	hist := filepath.Join(t.TempDir(), "history.csv")
	if code, _, stderr := runTrainCmd(append(c.aekitArgs(kdir, init, c.Epochs, out, false), "--history", hist)...); code != exitOK {
		t.Fatalf("aekit train: exit %d\n%s", code, stderr)
	}
	if c.EarlyStopping != nil && c.EarlyStopping.Patience < c.Epochs && len(k.Epochs) >= c.Epochs {
		t.Errorf("Keras did not stop early (%d of %d epochs): the case no longer tests stopping", len(k.Epochs), c.Epochs)
	}
	keys, epochs, vals := readHistoryCSV(t, hist)
	if !slices.Equal(keys, k.Keys) {
		t.Errorf("history keys: aekit %v, Keras %v", keys, k.Keys)
	}
	if !slices.Equal(epochs, k.Epochs) {
		t.Errorf("epochs: aekit %v, Keras %v", epochs, k.Epochs)
	}
	if c.Shuffle {
		got, want := vals["loss"][len(vals["loss"])-1], k.History["loss"][len(k.History["loss"])-1]
		rel := math.Abs(got-want) / want
		if !(rel <= kerasFitShuffleTol) {
			t.Errorf("final loss after %d shuffled epochs: aekit %.6g, Keras %.6g (rel %.2g > %g)", c.Epochs, got, want, rel, kerasFitShuffleTol)
		}
		t.Logf("%s: shuffled, %d epochs: final loss aekit %.6g, Keras %.6g (rel %.2g); Keras fit took %.1fs", c.Name, c.Epochs, got, want, rel, k.FitSeconds)
		return
	}
	worstLoss := 0.0
	for _, key := range k.Keys {
		for e, want := range k.History[key] {
			if e >= len(vals[key]) {
				break
			}
			got := vals[key][e] + c.LossOffset
			rel := math.Abs(got-want) / math.Abs(want)
			if !(rel <= kerasFitLossTol) {
				t.Errorf("%s epoch %d: aekit %.9g, Keras %.9g (rel %.2g)", key, e+1, got, want, rel)
			}
			worstLoss = max(worstLoss, rel)
		}
	}
	// The weights after SnapshotUpdates updates (early stopping would
	// restore the best ones at the end of this shorter run).
	snap := filepath.Join(t.TempDir(), "aekit-snap"+ext)
	if code, _, stderr := runTrainCmd(c.aekitArgs(kdir, init, c.SnapshotUpdates/perEpoch, snap, true)...); code != exitOK {
		t.Fatalf("aekit train (snapshot): exit %d\n%s", code, stderr)
	}
	worstW := compareWeights(t, snap, filepath.Join(kdir, c.Name+".snap.npz"))
	msg := fmt.Sprintf("%s: weights@%d max rel %.2g, loss/val_loss max rel %.2g over %d epochs", c.Name, c.SnapshotUpdates, worstW, worstLoss, len(k.Epochs))
	if c.CompareFinal {
		msg += fmt.Sprintf(", final (restored) weights max rel %.2g", compareWeights(t, out, filepath.Join(kdir, c.Name+".final.npz")))
	}
	t.Log(msg)
}

// TestKerasSeedFlag checks --keras-seed's checks and that it gives the
// model train.InitializeKeras gives (TestKerasSeed compares that with
// Keras itself).
func TestKerasSeedFlag(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 8, 20, 1)
	out := filepath.Join(dir, "m.keras")
	for _, args := range [][]string{
		{"--init-from", out, "--keras-seed", "1"},
		{"--layers", "4:relu|20:sigmoid", "--keras-seed", "-1"},
		{"--layers", "4:relu|20:sigmoid", "--keras-seed", "4294967296"},
		{"--layers", "4:relu|20:sigmoid", "--keras-seed", "1", "--init", "orthogonal"},
	} {
		if code, _, stderr := runTrainCmd(append(args, "--data", data, "-o", out, "--epochs", "1")...); code != exitUsage || !strings.Contains(stderr, "aekit train:") {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
	// One epoch of plain SGD at lr 1e-30 leaves the kernels as they
	// started (each step is far below half an ulp; the zero biases move).
	m, err := train.Build(20, train.MustParseArch("4:relu|20:sigmoid"), "zeros", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.InitializeKeras(m, "he_uniform", 99); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "c.ckpt")
	if code, _, stderr := runTrainCmd("--layers", "4:relu|20:sigmoid", "--keras-seed", "99", "--init", "he_uniform", "--data", data,
		"-o", out, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e-30", "--checkpoint", ckpt); code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	got, _, err := openModel(out, "", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var a, b []float32
	for _, p := range []struct {
		m   *aert.Model
		dst *[]float32
	}{{m, &a}, {got, &b}} {
		p.m.Walk(func(_ []string, l *aert.Layer) {
			if l.Type == aert.Dense {
				*p.dst = append(*p.dst, l.Kernel...)
			}
		})
	}
	if !slices.Equal(a, b) {
		t.Error("aekit train --keras-seed 99 --init he_uniform did not start from train.InitializeKeras(he_uniform, 99)")
	}
}
