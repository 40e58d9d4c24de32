package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// walkLayers returns the layers of m in Walk order (sub-model layers
// before their contents).
func walkLayers(m *runtime.Model) []*runtime.Layer {
	var out []*runtime.Layer
	m.Walk(func(_ []string, l *runtime.Layer) { out = append(out, l) })
	return out
}

// frozenModel builds spec on inputs of width (normModel: gamma and beta
// away from 1 and 0), gives its BatchNormalization layers moving
// statistics away from 0 and 1, and freezes the layers at the given
// positions of Walk order.
func frozenModel(t testing.TB, width int, spec string, seed uint64, freeze ...int) *runtime.Model {
	t.Helper()
	tt, ok := t.(*testing.T)
	var m *runtime.Model
	if ok {
		m = normModel(tt, width, spec, seed)
	} else {
		var err error
		if m, err = buildSpec(width, spec, "glorot_uniform", seed); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(seed, 12))
	ls := walkLayers(m)
	for _, l := range ls {
		if bn, ok := l.Kind.(*runtime.BatchNormalization); ok {
			for j := range bn.MovingMean {
				bn.MovingMean[j] = float32(r.Float64()*0.4 - 0.2)
				bn.MovingVariance[j] = float32(0.5 + r.Float64())
			}
		}
	}
	for _, i := range freeze {
		ls[i].Frozen = true
	}
	return m
}

// frozenWeights returns copies of the weights of m's frozen layers and of
// its other layers.
func frozenWeights(m *runtime.Model) (frozen, other [][]float32) {
	fz := m.FrozenLayers()
	m.Walk(func(_ []string, l *runtime.Layer) {
		var ws [][]float32
		switch l.Type {
		case runtime.Dense:
			ws = [][]float32{l.Kernel, l.Bias}
		case runtime.Other:
			for _, p := range l.Kind.Params() {
				ws = append(ws, p.Values)
			}
		}
		for _, w := range ws {
			c := append([]float32(nil), w...)
			if fz[l] {
				frozen = append(frozen, c)
			} else {
				other = append(other, c)
			}
		}
	})
	return frozen, other
}

// frozenParams returns the indices of nt.params that hold weights of
// m's frozen layers (their weights alias the parameter buffer).
func frozenParams(m *runtime.Model, nt *net) map[int]bool {
	out := map[int]bool{}
	mark := func(v []float32) {
		for i := range nt.params {
			if len(v) > 0 && &nt.params[i] == &v[0] {
				for j := range v {
					out[i+j] = true
				}
				return
			}
		}
	}
	for l := range m.FrozenLayers() {
		switch l.Type {
		case runtime.Dense:
			mark(l.Kernel)
			mark(l.Bias)
		case runtime.Other:
			for _, p := range l.Kind.Params() {
				mark(p.Values)
			}
		}
	}
	return out
}

// TestGradientsFrozen checks the backward pass with frozen layers against
// central differences of the training loss: the gradients of the
// trainable weights (those before the frozen layers too: gradients flow
// through a frozen Dense, BatchNormalization in inference mode,
// LayerNormalization, and an activity regulariser of a frozen layer)
// within TestGradients's tolerance, and those of the frozen weights
// exactly 0 (never computed).
func TestGradientsFrozen(t *testing.T) {
	cases := []struct {
		name, spec string
		freeze     []int // positions in Walk order
		loss       Loss
	}{
		// Walk: encoder, dense 7, dense 6, bn, dense 4, decoder, dense 5.
		{"dense-bn-mid", "7:tanh,6:tanh:bn,4:tanh|5:sigmoid", []int{2, 3}, MeanSquaredError},
		{"bn-mid-bce", "7:relu,6:tanh:bn,4:tanh|5:sigmoid", []int{3}, BinaryCrossentropy},
		{"ln-mid", "7:tanh,6:tanh:ln,4:tanh|5:sigmoid", []int{2, 3}, MeanSquaredError},
		{"reg-mid", "7:tanh,6:tanh:l2=0.05:bias_l1=0.05:act_l1=0.05,4:tanh|5:sigmoid", []int{2}, MeanSquaredError},
		// The whole encoder (a frozen sub-model): nothing below the
		// decoder runs backward.
		{"encoder", "7:tanh:bn,4:tanh|5:sigmoid", []int{0}, MeanAbsoluteError},
		{"decoder-first", "7:tanh|6:tanh:bn,5:sigmoid", []int{4, 5}, MeanSquaredError},
	}
	const n, in = 6, 5
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := frozenModel(t, in, c.spec, uint64(ci+1), c.freeze...)
			x, y := randData(uint64(ci), n*in), randData(uint64(ci)+100, n*in)
			nt, err := newNet(m, c.loss, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer nt.close()
			fz := frozenParams(m, nt)
			if len(fz) == 0 {
				t.Fatal("no frozen parameter")
			}
			trainLoss := func() float64 {
				loss, _ := nt.batch(Slice(x, in), Slice(y, in), nil, 0, n, true)
				return loss
			}
			trainLoss()
			ana := append([]float32(nil), nt.grads...)
			const h = 1e-3
			var maxErr, maxNum float64
			for i := range nt.params {
				if fz[i] {
					if ana[i] != 0 {
						t.Fatalf("frozen weight %d has gradient %g", i, ana[i])
					}
					continue
				}
				w := nt.params[i]
				nt.params[i] = w + h
				lp := trainLoss()
				nt.params[i] = w - h
				lm := trainLoss()
				nt.params[i] = w
				num := (lp - lm) / (2 * h)
				maxNum = max(maxNum, math.Abs(num))
				maxErr = max(maxErr, math.Abs(float64(ana[i])-num))
			}
			if maxNum == 0 || maxErr > 0.03*maxNum+2e-4 {
				t.Errorf("max |analytic − numeric| %.3g, max |numeric| %.3g", maxErr, maxNum)
			}
			t.Logf("%d trainable, %d frozen weights: max |analytic − numeric| %.3g, max |numeric| %.3g", len(nt.params)-len(fz), len(fz), maxErr, maxNum)
		})
	}
}

// TestFrozenFirstParams: the backward pass starts at the first layer that
// trains; a frozen encoder costs no backward work.
func TestFrozenFirstParams(t *testing.T) {
	for _, c := range []struct {
		spec   string
		freeze []int
		first  int // index of the first op that trains
	}{
		{"7:tanh:bn,4:tanh|5:sigmoid", nil, 0},
		{"7:tanh:bn,4:tanh|5:sigmoid", []int{0}, 3},    // ops: dense, bn, dense | dense
		{"7:tanh:bn,4:tanh|5:sigmoid", []int{1, 2}, 2}, // dense 7 and bn frozen
		{"7:tanh:bn,4:tanh|5:sigmoid", []int{0, 4}, 4}, // everything: no backward pass
	} {
		m := frozenModel(t, 5, c.spec, 1, c.freeze...)
		nt, err := newNet(m, MeanSquaredError, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		if nt.firstParams != c.first {
			t.Errorf("%s frozen %v: first op trained %d, want %d", c.spec, c.freeze, nt.firstParams, c.first)
		}
		if c.first < len(nt.ops) && nt.ops[c.first].prevG != nil {
			t.Errorf("%s frozen %v: the first op trained computes its input gradient", c.spec, c.freeze)
		}
		nt.close()
	}
}

// TestFrozenFit trains a model with a frozen Dense layer (with kernel,
// bias and activity regularisers), a frozen BatchNormalization and a
// frozen Dense layer in the decoder: their weights, the moving statistics
// included, stay bit-identical, every other tensor changes; a run
// checkpointed after 2 epochs and resumed is bit-identical to a straight
// 4-epoch run and its checkpoint keeps the frozen layers frozen.
func TestFrozenFit(t *testing.T) {
	const spec = "8:relu:l2=1e-2:bias_l1=1e-2:act_l1=1e-3,6:relu:bn|8:relu,20:sigmoid"
	// Walk: encoder, dense 8, dense 6, bn, decoder, dense 8, dense 20.
	freeze := []int{1, 3, 5}
	x := randData(5, 150*20)
	ctx := context.Background()
	m := frozenModel(t, 20, spec, 3, freeze...)
	f0, o0 := frozenWeights(m)
	h, err := Fit(ctx, m, set(x, nil, 150), Set{}, baseConfig(&Adam{}))
	if err != nil {
		t.Fatal(err)
	}
	f1, o1 := frozenWeights(m)
	if len(f0) != 8 { // two kernels and biases, four BatchNormalization vectors
		t.Fatalf("%d frozen tensors, want 8", len(f0))
	}
	for i := range f0 {
		sameBits(t, "frozen weights", f0[i], f1[i])
	}
	for i := range o0 {
		same := true
		for j := range o0[i] {
			same = same && o0[i][j] == o1[i][j]
		}
		if same {
			t.Errorf("trainable tensor %d (%d values) did not change", i, len(o0[i]))
		}
	}
	for _, v := range h.Loss {
		if math.IsNaN(v) || v <= 0 {
			t.Fatalf("losses %v", h.Loss)
		}
	}

	ck := filepath.Join(t.TempDir(), "a.ckpt")
	m2 := frozenModel(t, 20, spec, 3, freeze...)
	cfg := baseConfig(&Adam{})
	cfg.Epochs, cfg.CheckpointPath = 2, ck
	if _, err := Fit(ctx, m2, set(x, nil, 150), Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpointFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Model.FrozenLayers()); got != len(freeze) {
		t.Fatalf("the checkpoint's model has %d frozen layers, want %d", got, len(freeze))
	}
	rcfg := c.Config()
	rcfg.Epochs = 4
	hr, err := Fit(ctx, c.Model, set(x, nil, 150), Set{}, rcfg)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "2+2 epochs weights", allWeights(m), allWeights(c.Model))
	sameFloats(t, "2+2 epochs loss", h.Loss, hr.Loss)
	sameFloats(t, "2+2 epochs val_loss", h.ValLoss, hr.ValLoss)
}

// TestFrozenRegularizers: a frozen layer's kernel and bias regularisers
// add nothing to the loss (Keras 3 sums them over trainable weights),
// its activity regulariser does.
func TestFrozenRegularizers(t *testing.T) {
	const n, in = 8, 6
	x := randData(1, n*in)
	loss := func(spec string) float64 {
		m := frozenModel(t, in, spec, 4, 1) // the encoder's Dense
		nt, err := newNet(m, MeanSquaredError, n, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer nt.close()
		l, err := nt.batch(Slice(x, in), Slice(x, in), nil, 0, n, true)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	plain := loss("5:tanh|6:sigmoid")
	if w := loss("5:tanh:l1=0.5:l2=0.5:bias_l2=0.5|6:sigmoid"); w != plain {
		t.Errorf("frozen layer's weight penalties change the loss: %v, without %v", w, plain)
	}
	if a := loss("5:tanh:act_l2=0.5|6:sigmoid"); !(a > plain) {
		t.Errorf("frozen layer's activity penalty left out: %v, without %v", a, plain)
	}
}

// TestFrozenAllLayers: with every layer frozen, Fit reports the loss
// and changes nothing.
func TestFrozenAllLayers(t *testing.T) {
	m := frozenModel(t, 20, "8:relu:bn|20:sigmoid", 1, 0, 3)
	before := allWeights(m)
	h, err := Fit(context.Background(), m, set(randData(2, 60*20), nil, 60), Set{}, baseConfig(&Adam{}))
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "weights", before, allWeights(m))
	for i := 1; i < len(h.Loss); i++ {
		if h.ValLoss[i] != h.ValLoss[0] {
			t.Errorf("val_loss changes: %v", h.ValLoss)
		}
	}
}

// TestFrozenStepAllocs checks that a training step with frozen layers
// (Dense, BatchNormalization in inference mode, LayerNormalization)
// allocates nothing once warm.
func TestFrozenStepAllocs(t *testing.T) {
	stepAllocs(t, func() *runtime.Model {
		return frozenModel(t, 64, "16:relu:bn,12:relu:ln|16:relu:bn,64:sigmoid", 1, 1, 2, 3, 6)
	})
}

// BenchmarkFitStepFrozen measures training steps of 784-32-784 and the
// deep model (784-128-32-128-784 as internal/benchset has it) at batch
// 256, 1 thread, with every layer trainable and with the encoder frozen
// (Keras's encoder.trainable = False): the frozen encoder's backward
// pass (its weight gradient, the largest product for 784-wide inputs) is
// not run.
func BenchmarkFitStepFrozen(b *testing.B) {
	const rows = 2048
	x := randData(1, rows*784)
	for _, c := range []struct{ name, spec string }{
		{"ae784", "32:relu|784:sigmoid"},
		{"deep", "128:relu,32:relu|128:relu,784:sigmoid"},
	} {
		for _, frozen := range []bool{false, true} {
			name := c.name + "/trainable"
			if frozen {
				name = c.name + "/frozen-encoder"
			}
			b.Run(name, func(b *testing.B) {
				m, err := buildSpec(784, c.spec, "", 1)
				if err != nil {
					b.Fatal(err)
				}
				m.Layers[0].Frozen = frozen
				benchModelSteps(b, m, 1, x, rows)
			})
		}
	}
}
