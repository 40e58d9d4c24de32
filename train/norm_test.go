package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// allWeights returns every weight of m: Dense kernels and biases and the
// kinds' parameters, moving statistics included.
func allWeights(m *runtime.Model) []float32 {
	var w []float32
	m.Walk(func(_ []string, l *runtime.Layer) {
		switch l.Type {
		case runtime.Dense:
			w = append(w, l.Kernel...)
			w = append(w, l.Bias...)
		case runtime.Other:
			for _, p := range l.Kind.Params() {
				w = append(w, p.Values...)
			}
		}
	})
	return w
}

// normModel builds spec and gives the kinds' gamma and beta values away
// from 1 and 0, so that their gradients are tested with a factor.
func normModel(t *testing.T, width int, spec string, seed uint64) *runtime.Model {
	t.Helper()
	m, err := buildSpec(width, spec, "glorot_uniform", seed)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 11))
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type != runtime.Other {
			return
		}
		for _, p := range l.Kind.Params() {
			switch p.Name {
			case "gamma":
				for i := range p.Values {
					p.Values[i] = float32(0.5 + r.Float64())
				}
			case "beta":
				for i := range p.Values {
					p.Values[i] = float32(r.Float64()*0.4 - 0.2)
				}
			}
		}
	})
	return m
}

// TestGradientsNorm compares the training-mode backward pass of
// BatchNormalization and LayerNormalization (through the runtime.Trainer
// seam) with central differences of the training-mode loss, for every
// parameter: Dense weights before and after, gamma and beta. The
// tolerance is TestGradients's: |g − g_num| ≤ 0.03·max|g_num| + 2e-4.
// Moving statistics do not enter the training-mode loss: both gradients
// are 0 there.
func TestGradientsNorm(t *testing.T) {
	cases := []struct {
		name, spec string
		loss       Loss
	}{
		{"bn", "7:tanh:bn|5:sigmoid", MeanSquaredError},
		{"bn-first", "bn,7:tanh|5:sigmoid", MeanSquaredError},
		{"bn-bce", "7:relu:bn,4:tanh|5:sigmoid", BinaryCrossentropy},
		{"ln", "7:tanh:ln|5:sigmoid", MeanSquaredError},
		{"ln-first-mae", "ln,7:tanh|5:sigmoid", MeanAbsoluteError},
		{"bn-ln", "7:elu:bn,4:tanh:ln|5:sigmoid", MeanSquaredError},
	}
	const n, in = 6, 5
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := normModel(t, in, c.spec, uint64(ci+1))
			x, y := randData(uint64(ci), n*in), randData(uint64(ci)+100, n*in)
			nt, err := newNet(m, c.loss, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer nt.close()
			trainLoss := func() float64 {
				loss, _ := nt.batch(Slice(x, in), Slice(y, in), nil, 0, n, true)
				return loss
			}
			trainLoss()
			maxErr, maxNum := gradCheck(t, nt, trainLoss)
			t.Logf("max |analytic − numeric| %.3g, max |numeric| %.3g", maxErr, maxNum)
		})
	}
}

// gradCheck compares nt.grads, as the last batch left them, with central
// differences of loss over every parameter, and fails t when
// |g − g_num| > 0.03·max|g_num| + 2e-4 (the tolerance of TestGradients)
// or every numerical gradient is zero. It returns the largest difference
// and the largest numerical gradient.
func gradCheck(t *testing.T, nt *net, loss func() float64) (maxErr, maxNum float64) {
	t.Helper()
	ana := append([]float32(nil), nt.grads...)
	const h = 1e-3
	worst := 0
	var wn float64
	for i := range nt.params {
		w := nt.params[i]
		nt.params[i] = w + h
		lp := loss()
		nt.params[i] = w - h
		lm := loss()
		nt.params[i] = w
		num := (lp - lm) / (2 * h)
		maxNum = max(maxNum, math.Abs(num))
		if d := math.Abs(float64(ana[i]) - num); d > maxErr {
			maxErr, worst, wn = d, i, num
		}
	}
	if maxNum == 0 {
		t.Fatal("all numerical gradients are zero")
	}
	if maxErr > 0.03*maxNum+2e-4 {
		t.Errorf("max |analytic − numeric| = %.3g at weight %d (%g vs %g), max |numeric| %.3g", maxErr, worst, ana[worst], wn, maxNum)
	}
	return maxErr, maxNum
}

// TestBatchNormMoving checks one training batch's effect on the moving
// statistics (Keras 3: moving·0.99 + batch·0.01 with the biased batch
// variance) and that inference then uses them.
func TestBatchNormMoving(t *testing.T) {
	const n, in = 10, 4
	m, err := buildSpec(in, "bn,3:relu|4:sigmoid", "glorot_uniform", 1)
	if err != nil {
		t.Fatal(err)
	}
	bn := m.Layers[0].Sub.Layers[0].Kind.(*runtime.BatchNormalization)
	x := randData(3, n*in)
	nt, err := newNet(m, MeanSquaredError, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.close()
	nt.batch(Slice(x, in), Slice(x, in), nil, 0, n, true)
	for j := 0; j < in; j++ {
		var s, ss float64
		for r := 0; r < n; r++ {
			s += float64(x[r*in+j])
		}
		mean := s / n
		for r := 0; r < n; r++ {
			d := float64(x[r*in+j]) - mean
			ss += d * d
		}
		wm, wv := 0.01*mean, 0.99+0.01*ss/n
		if math.Abs(float64(bn.MovingMean[j])-wm) > 1e-7 || math.Abs(float64(bn.MovingVariance[j])-wv) > 1e-6 {
			t.Errorf("feature %d: moving mean %g variance %g, want %g %g", j, bn.MovingMean[j], bn.MovingVariance[j], wm, wv)
		}
	}
	// The inference pass (validation) uses the moving statistics: its
	// BN output equals the kind's Forward.
	nt.batch(Slice(x, in), Slice(x, in), nil, 0, n, false)
	o := nt.ops[0]
	want := append([]float32(nil), x...)
	bn.Forward(want, n, in)
	sameBits(t, "inference output", want, o.a[:n*in])
}

// TestNormThreadsIdentical checks that weights (moving statistics
// included) and losses are bit-identical at 1, 2 and 3 threads.
func TestNormThreadsIdentical(t *testing.T) {
	x := randData(9, 300*20)
	var ref []float32
	var refLoss, refVal []float64
	for _, threads := range []int{1, 2, 3} {
		m := normModel(t, 20, "8:relu:bn,4:elu:ln|8:relu:bn,20:sigmoid", 2)
		cfg := baseConfig(&Adam{})
		cfg.Threads = threads
		cfg.ValidationSplit = 0.2
		h, err := Fit(context.Background(), m, set(x, nil, 300), Set{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref, refLoss, refVal = allWeights(m), h.Loss, h.ValLoss
			continue
		}
		sameBits(t, "weights", ref, allWeights(m))
		sameFloats(t, "loss", refLoss, h.Loss)
		sameFloats(t, "val_loss", refVal, h.ValLoss)
	}
}

// TestNormStepAllocs checks that a training step with BatchNormalization
// and LayerNormalization allocates nothing once warm.
func TestNormStepAllocs(t *testing.T) {
	stepAllocs(t, func() *runtime.Model { return normModel(t, 64, "16:relu:bn:dropout=0.1|16:relu:ln,64:sigmoid", 1) })
}

// stepAllocs checks that a training step of a model of width 64 that
// build returns, and a validation pass, allocate nothing once warm, at 1
// and 3 threads.
func stepAllocs(t *testing.T, build func() *runtime.Model) {
	t.Helper()
	for _, threads := range []int{1, 3} {
		m := build()
		nt, err := newNet(m, BinaryCrossentropy, 32, threads)
		if err != nil {
			t.Fatal(err)
		}
		x := Slice(randData(1, 100*64), 64)
		idx := permutations(1, 100, 1)[0]
		opt := &Adam{}
		slots := nt.newSlots(opt)
		step := func() {
			nt.arm(opt, opt.consts(nt.iter), slots)
			nt.batch(x, x, idx, 40, 32, true)
			nt.batch(x, x, nil, 0, 32, false) // validation: inference mode
			nt.iter++
		}
		step()
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("threads=%d: %v allocations per step, want 0", threads, a)
		}
		nt.close()
	}
}

// TestParseArchNorm checks the bn and ln spellings and their layers.
func TestParseArchNorm(t *testing.T) {
	a, err := ParseArch("64:relu:bn,32:relu:ln:dropout=0.1|bn,784:sigmoid")
	if err != nil {
		t.Fatal(err)
	}
	kinds := []Kind{Dense, BatchNorm, Dense, LayerNorm, Dropout, BatchNorm, Dense}
	if len(a.Layers) != len(kinds) {
		t.Fatalf("%d layers, want %d", len(a.Layers), len(kinds))
	}
	for i, k := range kinds {
		if a.Layers[i].Kind != k {
			t.Errorf("layer %d: %v, want %v", i, a.Layers[i].Kind, k)
		}
	}
	if s := a.String(); s != "64:relu:bn,32:relu:ln:dropout=0.1|bn,784:sigmoid" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []string{"bn:relu,4", "64:relu:bn=2", "lnx,4"} {
		if _, err := ParseArch(bad); err == nil {
			t.Errorf("ParseArch(%q): no error", bad)
		}
	}
	m, err := Build(784, a, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Other {
			classes = append(classes, l.Name+":"+l.Kind.Class())
			if len(l.Kind.Params()[0].Values) == 0 {
				t.Errorf("%s: not built", l.Name)
			}
		}
	})
	want := []string{"batch_normalization:BatchNormalization", "layer_normalization:LayerNormalization", "batch_normalization_1:BatchNormalization"}
	if len(classes) != len(want) {
		t.Fatalf("norm layers %v, want %v", classes, want)
	}
	for i := range want {
		if classes[i] != want[i] {
			t.Errorf("norm layer %d: %s, want %s", i, classes[i], want[i])
		}
	}
}

// TestNormResume trains 4 epochs straight, then 2 epochs, a checkpoint
// and a resume to 4, and requires bit-identical weights (gamma, beta and
// moving statistics included) and losses; early stopping's restored
// weights include the moving statistics (they live in the parameter
// buffer).
func TestNormResume(t *testing.T) {
	x := randData(5, 150*20)
	ctx := context.Background()
	const spec = "8:relu:bn,4:tanh:ln|8:relu,20:sigmoid"
	straight := normModel(t, 20, spec, 3)
	hs, err := Fit(ctx, straight, set(x, nil, 150), Set{}, baseConfig(&Adam{}))
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "a.ckpt")
	m := normModel(t, 20, spec, 3)
	cfg := baseConfig(&Adam{})
	cfg.Epochs, cfg.CheckpointPath = 2, ck
	if _, err := Fit(ctx, m, set(x, nil, 150), Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpointFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "checkpointed weights", allWeights(m), allWeights(c.Model))
	rcfg := c.Config()
	rcfg.Epochs = 4
	hr, err := Fit(ctx, c.Model, set(x, nil, 150), Set{}, rcfg)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "2+2 epochs weights", allWeights(straight), allWeights(c.Model))
	sameFloats(t, "2+2 epochs loss", hs.Loss, hr.Loss)
	sameFloats(t, "2+2 epochs val_loss", hs.ValLoss, hr.ValLoss)
}

// TestNormEvaluateMatchesPredict: after training, Evaluate (a copy of the
// model in inference mode) gives the loss of runtime Predict, which uses
// the moving statistics, and leaves the model's weights as they were.
func TestNormEvaluateMatchesPredict(t *testing.T) {
	m := normModel(t, 20, "8:relu:bn,4:tanh:ln|8:relu:bn,20:sigmoid", 1)
	x := randData(2, 60*20)
	cfg := baseConfig(&Adam{})
	cfg.ValidationSplit = 0
	if _, err := Fit(context.Background(), m, set(x, nil, 60), Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	before := allWeights(m)
	p, err := m.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, v := range p {
		d := float64(v) - float64(x[i])
		s += d * d
	}
	want := s / float64(len(p))
	got, err := Evaluate(m, x, nil, 60, MeanSquaredError, 16)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-6*want {
		t.Errorf("Evaluate %v, from Predict %v", got, want)
	}
	sameBits(t, "weights after Evaluate", before, allWeights(m))
}
