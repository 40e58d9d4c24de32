package train_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// Tolerances of the cross-check against the PyTorch reference
// (fixtures/train/crosscheck_torch.py), from issue 3:
//   - weights after 20 updates: for every kernel and bias,
//     max|w_go − w_ref| ≤ 1e-5 · max|w_ref|;
//   - every epoch's training and validation loss over 5 epochs:
//     |L_go − L_ref| ≤ 1e-5 · |L_ref|.
const (
	weightTol = 1e-5
	lossTol   = 1e-5
)

const crossDir = "../fixtures/train"

type crossCase struct {
	Name            string         `json:"name"`
	Model           string         `json:"model"`
	Input           int            `json:"input"`
	Spec            string         `json:"spec"`
	Optimizer       map[string]any `json:"optimizer"`
	Loss            string         `json:"loss"`
	BatchSize       int            `json:"batch_size"`
	Epochs          int            `json:"epochs"`
	ValidationSplit float64        `json:"validation_split"`
	Rows            int            `json:"rows"`
	SnapshotStep    int64          `json:"snapshot_step"`
	Data            string         `json:"data"`
	LossHistory     []float64      `json:"loss_history"`
	ValLossHistory  []float64      `json:"val_loss_history"`
}

type crossFile struct {
	Cases []crossCase `json:"cases"`
}

func readCases(t *testing.T, dir string) []crossCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f crossFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases in cases.json")
	}
	return f.Cases
}

func readNpy(t *testing.T, name string) []float32 {
	t.Helper()
	a, err := npy.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return a.Data
}

// optimizerFromJSON builds the optimizer a case describes.
func optimizerFromJSON(t *testing.T, m map[string]any) train.Optimizer {
	t.Helper()
	f := func(k string) float64 { v, _ := m[k].(float64); return v }
	b := func(k string) bool { v, _ := m[k].(bool); return v }
	switch m["name"] {
	case "adam":
		return &train.Adam{LR: f("lr"), Beta1: f("beta1"), Beta2: f("beta2"), Epsilon: f("epsilon"), AMSGrad: b("amsgrad")}
	case "sgd":
		return &train.SGD{LR: f("lr"), Momentum: f("momentum"), Nesterov: b("nesterov")}
	case "rmsprop":
		return &train.RMSprop{LR: f("lr"), Rho: f("rho"), Momentum: f("momentum"), Epsilon: f("epsilon"), Centered: b("centered")}
	case "adagrad":
		return &train.Adagrad{LR: f("lr"), InitialAccumulatorValue: f("initial_accumulator_value"), Epsilon: f("epsilon")}
	}
	t.Fatalf("unknown optimizer %v", m["name"])
	return nil
}

// denseParams returns the kernels and biases of m in layer order.
func denseParams(m *runtime.Model) (tensors [][]float32, names []string) {
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Dense {
			tensors = append(tensors, l.Kernel, l.Bias)
			names = append(names, l.Name+"/kernel", l.Name+"/bias")
		}
	})
	return tensors, names
}

func setParams(t *testing.T, m *runtime.Model, flat []float32) {
	t.Helper()
	ts, _ := denseParams(m)
	off := 0
	for _, p := range ts {
		if off+len(p) > len(flat) {
			t.Fatalf("initial weights: %d values, model needs more", len(flat))
		}
		copy(p, flat[off:off+len(p)])
		off += len(p)
	}
	if off != len(flat) {
		t.Fatalf("initial weights: %d values, model has %d", len(flat), off)
	}
}

func caseData(t *testing.T, dir string, c crossCase) []float32 {
	t.Helper()
	switch c.Data {
	case "seed":
		return readNpy(t, filepath.Join(dir, "seed.data.npy"))
	case "fashion":
		raw := readNpy(t, "../fixtures/data/fashion-train.npy")[:c.Rows*784]
		x := make([]float32, len(raw))
		for i, v := range raw {
			x[i] = v / 255
		}
		return x
	}
	t.Fatalf("unknown data %q", c.Data)
	return nil
}

// crossResult is what Go measured for a case.
type crossResult struct {
	maxWeightRel, maxLossRel, maxValRel float64
}

// runCross trains c in Go from the initial weights and data in dir and
// compares it with the reference run recorded there.
func runCross(t *testing.T, dir string, c crossCase, threads int) crossResult {
	t.Helper()
	return compareRuns(t, c, goRun(t, dir, c, threads), refRun(t, dir, c), weightTol, lossTol)
}

// TestCrossCheckTorch trains every case of the committed PyTorch reference
// from the same initial weights and batches (no shuffle) and compares
// weights after 20 updates and 5 epochs of losses.
func TestCrossCheckTorch(t *testing.T) {
	for _, c := range readCases(t, crossDir) {
		t.Run(c.Name, func(t *testing.T) {
			r := runCross(t, crossDir, c, 1)
			t.Logf("max rel: weights@%d %.2g, loss %.2g, val_loss %.2g", c.SnapshotStep, r.maxWeightRel, r.maxLossRel, r.maxValRel)
		})
	}
}

// TestCrossCheckTorchRerun reruns the PyTorch reference script into a
// temporary folder, checks that it reproduces the committed fixtures, and
// compares Go with the fresh output. It needs /usr/bin/python3 with torch;
// without it the test skips, unless AEKIT_INTEROP=1 makes that a failure.
func TestCrossCheckTorchRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not rerunning the PyTorch reference")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		if os.Getenv("AEKIT_INTEROP") == "1" {
			t.Fatalf("AEKIT_INTEROP=1 but %s cannot import torch and numpy: %v", py, err)
		}
		t.Skipf("skipping: %s cannot import torch and numpy (%v); install python3-torch python3-numpy", py, err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, filepath.Join(crossDir, "crosscheck_torch.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("crosscheck_torch.py: %v\n%s", err, out)
	}
	fresh, committed := readCases(t, dir), readCases(t, crossDir)
	if len(fresh) != len(committed) {
		t.Fatalf("rerun has %d cases, committed %d", len(fresh), len(committed))
	}
	for i, c := range fresh {
		k := committed[i]
		for e := range c.LossHistory {
			if rel := math.Abs(c.LossHistory[e]-k.LossHistory[e]) / k.LossHistory[e]; !(rel <= 1e-6) {
				t.Errorf("%s: rerun loss epoch %d = %.9g, committed %.9g", c.Name, e+1, c.LossHistory[e], k.LossHistory[e])
			}
		}
		a, b := readNpy(t, filepath.Join(dir, c.Name+".w20.npy")), readNpy(t, filepath.Join(crossDir, c.Name+".w20.npy"))
		for j := range a {
			if d := math.Abs(float64(a[j]) - float64(b[j])); d > 1e-6*max(1, math.Abs(float64(b[j]))) {
				t.Errorf("%s: rerun weight %d = %g, committed %g", c.Name, j, a[j], b[j])
				break
			}
		}
		t.Run(c.Name, func(t *testing.T) { runCross(t, dir, c, 1) })
	}
}

// trainedRun is a run's weights after the snapshot step and its losses.
type trainedRun struct {
	w20           []float32
	loss, valLoss []float64
}

// refRun reads the run of case c that the reference in dir recorded.
func refRun(t *testing.T, dir string, c crossCase) trainedRun {
	t.Helper()
	return trainedRun{readNpy(t, filepath.Join(dir, c.Name+".w20.npy")), c.LossHistory, c.ValLossHistory}
}

// goRun trains case c in Go from the initial weights and data in dir.
func goRun(t *testing.T, dir string, c crossCase, threads int) trainedRun {
	t.Helper()
	m, err := train.Build(c.Input, train.MustParseArch(c.Spec), "zeros", 0)
	if err != nil {
		t.Fatal(err)
	}
	setParams(t, m, readNpy(t, filepath.Join(dir, c.Model+".init.npy")))
	loss, err := train.ParseLoss(c.Loss)
	if err != nil {
		t.Fatal(err)
	}
	var snap []float32
	h, err := train.Fit(context.Background(), m, train.XY(caseData(t, dir, c), m.InputWidth(), nil, 0), train.Set{}, train.Config{
		Optimizer: optimizerFromJSON(t, c.Optimizer), Loss: loss,
		Epochs: c.Epochs, BatchSize: c.BatchSize, NoShuffle: true, ValidationSplit: c.ValidationSplit, Threads: threads,
		OnBatch: func(b train.BatchLog) {
			if b.Iterations == c.SnapshotStep {
				ts, _ := denseParams(m)
				for _, p := range ts {
					snap = append(snap, p...)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return trainedRun{snap, h.Loss, h.ValLoss}
}

// compareRuns checks got against ref for case c: per kernel and bias tensor
// max|w_got − w_ref| ≤ wTol·max|w_ref|, and per epoch |L_got − L_ref| ≤
// lTol·|L_ref| for the training and validation losses. It returns the largest
// relative errors.
func compareRuns(t *testing.T, c crossCase, got, ref trainedRun, wTol, lTol float64) crossResult {
	t.Helper()
	m, err := train.Build(c.Input, train.MustParseArch(c.Spec), "zeros", 0)
	if err != nil {
		t.Fatal(err)
	}
	ts, names := denseParams(m)
	n := 0
	for _, p := range ts {
		n += len(p)
	}
	if len(got.w20) != n || len(ref.w20) != n {
		t.Fatalf("weights after %d updates: %d and %d values, model has %d", c.SnapshotStep, len(got.w20), len(ref.w20), n)
	}
	var r crossResult
	off := 0
	for i, p := range ts {
		g, w := got.w20[off:off+len(p)], ref.w20[off:off+len(p)]
		off += len(p)
		var maxd, maxw float64
		for j := range g {
			maxd = max(maxd, math.Abs(float64(g[j])-float64(w[j])))
			maxw = max(maxw, math.Abs(float64(w[j])))
		}
		rel := maxd / maxw
		r.maxWeightRel = max(r.maxWeightRel, rel)
		if !(rel <= wTol) {
			t.Errorf("%s: weights after %d updates: max|Δ|/max|w| = %.3g > %g", names[i], c.SnapshotStep, rel, wTol)
		}
	}
	cmp := func(what string, got, want []float64) float64 {
		if len(got) != len(want) || len(want) != c.Epochs {
			t.Fatalf("%s: %d epochs, reference %d, case %d", what, len(got), len(want), c.Epochs)
		}
		worst := 0.0
		for e := range got {
			rel := math.Abs(got[e]-want[e]) / math.Abs(want[e])
			worst = max(worst, rel)
			if !(rel <= lTol) {
				t.Errorf("%s epoch %d: %.9g, reference %.9g (rel %.3g > %g)", what, e+1, got[e], want[e], rel, lTol)
			}
		}
		return worst
	}
	r.maxLossRel = cmp("loss", got.loss, ref.loss)
	r.maxValRel = cmp("val_loss", got.valLoss, ref.valLoss)
	return r
}
