package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/runtime"
)

func randData(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// lossAt runs a forward pass on nt's current weights.
func lossAt(nt *net, x, y []float32, n int) float64 {
	loss, _ := nt.batch(Slice(x, nt.inW), Slice(y, nt.outW), nil, 0, n, false)
	return loss
}

// TestGradients compares the backward pass with central differences for
// every activation and loss, through Dense and stand-alone activation
// layers. Tolerance: |g − g_num| ≤ 0.03·max|g_num| + 2e-4 per tensor,
// loose because the loss is float32 arithmetic, tight enough to catch a
// wrong formula (a factor, a sign, a missing term).
func TestGradients(t *testing.T) {
	acts := []runtime.Activation{
		runtime.Act(runtime.Linear), runtime.Act(runtime.ReLU), runtime.Act(runtime.ReLU6),
		runtime.Act(runtime.LeakyReLU), runtime.Act(runtime.ELU), runtime.Act(runtime.SELU),
		runtime.Act(runtime.Sigmoid), runtime.Act(runtime.HardSigmoid), runtime.Act(runtime.Tanh),
		runtime.Act(runtime.Softmax), runtime.Act(runtime.LogSoftmax), runtime.Act(runtime.Softplus),
		runtime.Act(runtime.Softsign), runtime.Act(runtime.Exponential), runtime.Act(runtime.Swish),
		runtime.Act(runtime.GELU), {Func: runtime.GELU, Approximate: true}, runtime.Act(runtime.Mish),
		{Func: runtime.ReLU, Alpha: 0.1, Threshold: 0.05, Capped: true, MaxValue: 0.4},
	}
	type tcase struct {
		name string
		loss Loss
		last runtime.Activation
	}
	var cases []tcase
	for _, a := range acts {
		cases = append(cases, tcase{"hidden=" + a.String(), MeanSquaredError, a})
	}
	cases = append(cases,
		tcase{"bce-logits", BinaryCrossentropy, runtime.Act(runtime.Sigmoid)},
		tcase{"bce-clipped-softmax", BinaryCrossentropy, runtime.Act(runtime.Softmax)},
		tcase{"bce-keras2-clipped-softmax", BinaryCrossentropyKeras2, runtime.Act(runtime.Softmax)},
		tcase{"bce-keras2-logits", BinaryCrossentropyKeras2, runtime.Act(runtime.Sigmoid)},
		tcase{"mae", MeanAbsoluteError, runtime.Act(runtime.Sigmoid)},
	)
	const n, in, hid, out = 6, 5, 7, 5
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hidden := c.last
			outAct := runtime.Act(runtime.Sigmoid)
			if strings.HasPrefix(c.name, "bce") || c.name == "mae" {
				hidden, outAct = runtime.Act(runtime.Tanh), c.last
			}
			m := &runtime.Model{Name: "m", Input: []int{in}, Layers: []*runtime.Layer{
				{Name: "d0", Type: runtime.Dense, In: in, Units: hid, Kernel: make([]float32, in*hid), Bias: make([]float32, hid), Act: hidden},
				{Name: "a0", Type: runtime.ActivationLayer, Act: runtime.Act(runtime.Tanh)},
				{Name: "sub", Type: runtime.SubModel, Sub: &runtime.Model{Name: "sub", Input: []int{hid}, Layers: []*runtime.Layer{
					{Name: "drop", Type: runtime.Identity},
					{Name: "d1", Type: runtime.Dense, In: hid, Units: out, Kernel: make([]float32, hid*out), Bias: make([]float32, out)},
					{Name: "a1", Type: runtime.ActivationLayer, Act: outAct},
				}}},
			}}
			if err := Initialize(m, "glorot_uniform", uint64(ci)); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(ci), 3))
			m.Walk(func(_ []string, l *runtime.Layer) {
				for i := range l.Bias {
					l.Bias[i] = float32(r.Float64()*0.4 - 0.2)
				}
				for i := range l.Kernel {
					l.Kernel[i] *= 2
				}
			})
			x, y := randData(uint64(ci), n*in), randData(uint64(ci)+100, n*out)
			nt, err := newNet(m, c.loss, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer nt.close()
			nt.batch(Slice(x, in), Slice(y, out), nil, 0, n, true)
			gradCheck(t, nt, func() float64 { return lossAt(nt, x, y, n) })
		})
	}
}

// TestStepAllocs checks that a training step allocates nothing once warm.
func TestStepAllocs(t *testing.T) {
	for _, threads := range []int{1, 3} {
		m, err := buildSpec(64, "16:relu|64:sigmoid", "", 1)
		if err != nil {
			t.Fatal(err)
		}
		nt, err := newNet(m, BinaryCrossentropy, 32, threads)
		if err != nil {
			t.Fatal(err)
		}
		x := Slice(randData(1, 100*64), 64)
		idx := permutations(1, 100, 1)[0]
		opt := &Adam{}
		slots := nt.newSlots(opt)
		it := int64(0)
		step := func() {
			nt.arm(opt, opt.consts(it), slots)
			nt.batch(x, x, idx, 40, 32, true)
			nt.arm(opt, opt.consts(it), slots)
			nt.batch(x, x, nil, 40, 32, true) // rows in order, read in place
			it++
		}
		step()
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("threads=%d: %v allocations per step, want 0", threads, a)
		}
		// Timed steps (Config.Times) allocate nothing either.
		nt.timeSteps(&StepTimes{})
		step()
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("threads=%d, timed: %v allocations per step, want 0", threads, a)
		}
		nt.close()
	}
}

func fitModel(t *testing.T, seed uint64) *runtime.Model {
	t.Helper()
	m, err := buildSpec(20, "6:relu,4:elu|6:tanh,20:sigmoid", "", seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func flatWeights(m *runtime.Model) []float32 {
	var w []float32
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Dense {
			w = append(w, l.Kernel...)
			w = append(w, l.Bias...)
		}
	})
	return w
}

func sameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d values", what, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: value %d differs: %g vs %g", what, i, a[i], b[i])
		}
	}
}

func sameFloats(t *testing.T, what string, a, b []float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d values", what, len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: epoch %d differs: %v vs %v", what, i, a[i], b[i])
		}
	}
}

func baseConfig(opt Optimizer) Config {
	return Config{Optimizer: opt, Epochs: 4, BatchSize: 16, Seed: 42, ValidationSplit: 0.2}
}

// TestResume trains 4 epochs straight, then 2 epochs + resume to 4, then
// an interrupted run resumed mid-epoch, and requires bit-identical weights
// and losses, for every optimizer with state.
func TestResume(t *testing.T) {
	x := randData(5, 150*20)
	opts := []func() Optimizer{
		func() Optimizer { return &Adam{AMSGrad: true, Decay: &ExponentialDecay{DecaySteps: 5, DecayRate: 0.9}} },
		func() Optimizer { return &SGD{LR: 0.1, Momentum: 0.9, Nesterov: true} },
		func() Optimizer { return &RMSprop{Momentum: 0.5, Centered: true} },
		func() Optimizer { return &Adagrad{LR: 0.05} },
	}
	for _, newOpt := range opts {
		name := newOpt().Name()
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			straight := fitModel(t, 3)
			hs, err := Fit(ctx, straight, set(x, nil, 150), Set{}, baseConfig(newOpt()))
			if err != nil {
				t.Fatal(err)
			}

			// 2 epochs, then resume to 4 from the epoch checkpoint.
			ck := filepath.Join(dir, "a.ckpt")
			m := fitModel(t, 3)
			cfg := baseConfig(newOpt())
			cfg.Epochs, cfg.CheckpointPath = 2, ck
			if _, err := Fit(ctx, m, set(x, nil, 150), Set{}, cfg); err != nil {
				t.Fatal(err)
			}
			c, err := ReadCheckpointFile(ck)
			if err != nil {
				t.Fatal(err)
			}
			rcfg := c.Config()
			rcfg.Epochs = 4
			hr, err := Fit(ctx, c.Model, set(x, nil, 150), Set{}, rcfg)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "2+2 epochs weights", flatWeights(straight), flatWeights(c.Model))
			sameFloats(t, "2+2 epochs loss", hs.Loss, hr.Loss)
			sameFloats(t, "2+2 epochs val_loss", hs.ValLoss, hr.ValLoss)

			// Interrupted after batch 3 of epoch 2 (0-based 1), then resumed.
			ck2 := filepath.Join(dir, "b.ckpt")
			m2 := fitModel(t, 3)
			cctx, cancel := context.WithCancel(ctx)
			cfg2 := baseConfig(newOpt())
			cfg2.CheckpointPath = ck2
			cfg2.OnBatch = func(b BatchLog) {
				if b.Epoch == 1 && b.Batch == 2 {
					cancel()
				}
			}
			_, err = Fit(cctx, m2, set(x, nil, 150), Set{}, cfg2)
			cancel()
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("interrupted Fit: %v, want ErrInterrupted", err)
			}
			c2, err := ReadCheckpointFile(ck2)
			if err != nil {
				t.Fatal(err)
			}
			if c2.Epoch != 1 || c2.Batch != 3 {
				t.Fatalf("checkpoint at epoch %d batch %d, want 1, 3", c2.Epoch, c2.Batch)
			}
			hi, err := Fit(ctx, c2.Model, set(x, nil, 150), Set{}, c2.Config())
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "interrupted+resumed weights", flatWeights(straight), flatWeights(c2.Model))
			sameFloats(t, "interrupted+resumed loss", hs.Loss, hi.Loss)
		})
	}
}

// TestResumeMismatch rejects resuming with other data or settings.
func TestResumeMismatch(t *testing.T) {
	x := randData(5, 100*20)
	ck := filepath.Join(t.TempDir(), "c.ckpt")
	cfg := baseConfig(&Adam{})
	cfg.Epochs, cfg.CheckpointPath = 1, ck
	if _, err := Fit(context.Background(), fitModel(t, 1), set(x, nil, 100), Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpointFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	other := append([]float32(nil), x...)
	other[5] += 0.5
	rc := c.Config()
	rc.Epochs = 2
	if _, err := Fit(context.Background(), c.Model, set(other, nil, 100), Set{}, rc); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resume on other data: %v, want ErrCheckpoint", err)
	}
	rc.BatchSize = 8
	if _, err := Fit(context.Background(), c.Model, set(x, nil, 100), Set{}, rc); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resume with another batch size: %v, want ErrCheckpoint", err)
	}
	rc = c.Config()
	rc.Epochs = 2
	if _, err := Fit(context.Background(), fitModel(t, 1).Layers[0].Sub, set(x, nil, 100), Set{}, rc); err == nil {
		t.Error("resume into another model succeeded")
	}
}

// TestCheckpointCorrupt checks that damaged checkpoints are rejected.
func TestCheckpointCorrupt(t *testing.T) {
	x := randData(5, 50*20)
	ck := filepath.Join(t.TempDir(), "c.ckpt")
	cfg := baseConfig(&Adam{})
	cfg.Epochs, cfg.CheckpointPath = 1, ck
	if _, err := Fit(context.Background(), fitModel(t, 1), set(x, nil, 50), Set{}, cfg); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCheckpoint(bytes.NewReader(good)); err != nil {
		t.Fatalf("good checkpoint: %v", err)
	}
	flip := append([]byte(nil), good...)
	flip[len(flip)/2] ^= 0x40
	wrongVersion := append([]byte(nil), good...)
	wrongVersion[8] = 99
	huge := append([]byte(nil), good...)
	copy(huge[12:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	for name, b := range map[string][]byte{
		"empty": nil, "magic": append([]byte("NOTACKPT"), good[8:]...), "version": wrongVersion,
		"truncated": good[:len(good)-10], "no checksum": good[:len(good)-4], "flipped bit": flip, "absurd length": huge,
	} {
		if _, err := ReadCheckpoint(bytes.NewReader(b)); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
	}
}

// TestThreadsIdentical requires the same weights and history for 1, 2 and
// 3 threads (see Config.Threads).
func TestThreadsIdentical(t *testing.T) {
	x := randData(9, 300*20)
	var ref []float32
	var refLoss []float64
	for _, threads := range []int{1, 2, 3} {
		m := fitModel(t, 2)
		cfg := baseConfig(&Adam{})
		cfg.Threads = threads
		h, err := Fit(context.Background(), m, set(x, nil, 300), Set{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref, refLoss = flatWeights(m), h.Loss
			continue
		}
		sameBits(t, "weights", ref, flatWeights(m))
		sameFloats(t, "loss", refLoss, h.Loss)
	}
	// 784-32-784 at batch 100: row blocks of 33 and 34, not multiples of
	// a BLAS micro-tile.
	x = randData(10, 300*784)
	ref = nil
	for _, threads := range []int{1, 3} {
		m, err := buildSpec(784, "32:relu|784:sigmoid", "", 1)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Fit(context.Background(), m, set(x, nil, 300), Set{}, Config{Epochs: 2, BatchSize: 100, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref, refLoss = flatWeights(m), h.Loss
			continue
		}
		sameBits(t, "784-32-784 weights", ref, flatWeights(m))
		sameFloats(t, "784-32-784 loss", refLoss, h.Loss)
	}
}

// TestBadInput checks the errors of item 10 of issue 3.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	x := randData(1, 10*20)
	cfg := Config{Epochs: 1, BatchSize: 4, NoShuffle: true}
	nan := append([]float32(nil), x...)
	nan[7*20+3] = float32(math.NaN())
	inf := append([]float32(nil), x...)
	inf[2*20] = float32(math.Inf(-1))
	big := make([]float32, 10*20)
	for i := range big {
		big[i] = 3e38
	}
	for _, c := range []struct {
		name string
		run  func() error
		want error
		msg  string
	}{
		{"nan", func() error { _, err := Fit(ctx, fitModel(t, 1), set(nan, nil, 10), Set{}, cfg); return err }, ErrNonFinite, "row 7"},
		{"inf", func() error { _, err := Fit(ctx, fitModel(t, 1), set(inf, nil, 10), Set{}, cfg); return err }, ErrNonFinite, "row 2"},
		{"nan target", func() error { _, err := Fit(ctx, fitModel(t, 1), set(x, nan, 10), Set{}, cfg); return err }, ErrNonFinite, "target row 7"},
		{"rows differ", func() error { _, err := Fit(ctx, fitModel(t, 1), set(x, x[:9*20], 10), Set{}, cfg); return err }, ErrData, "9 rows"},
		{"target width", func() error {
			_, err := Fit(ctx, fitModel(t, 1), set(x, make([]float32, 10*21), 10), Set{}, cfg)
			return err
		}, ErrData, "width 20"},
		{"batch 0", func() error {
			_, err := Fit(ctx, fitModel(t, 1), set(x, nil, 10), Set{}, Config{Epochs: 1, NoShuffle: true})
			return err
		}, ErrConfig, "batch size"},
		{"epochs 0", func() error {
			_, err := Fit(ctx, fitModel(t, 1), set(x, nil, 10), Set{}, Config{BatchSize: 1, NoShuffle: true})
			return err
		}, ErrConfig, "epochs"},
		{"split", func() error {
			_, err := Fit(ctx, fitModel(t, 1), set(x, nil, 10), Set{}, Config{Epochs: 1, BatchSize: 1, NoShuffle: true, ValidationSplit: 1})
			return err
		}, ErrConfig, "validation split"},
		{"optimizer", func() error { _, err := ParseOptimizer("adamw", 0); return err }, ErrOptimizer, "adam, amsgrad"},
		{"loss", func() error { _, err := ParseLoss("hinge"); return err }, ErrLoss, "binary_crossentropy"},
		{"initializer", func() error { _, err := buildSpec(4, "2:relu", "orthogonal", 0); return err }, ErrInitializer, "glorot_uniform"},
		{"activation", func() error { _, err := buildSpec(4, "2:relux", "", 0); return err }, runtime.ErrActivation, "relu"},
		{"spec", func() error { _, err := buildSpec(4, "2:relu|3:relu|4:relu", "", 0); return err }, ErrSpec, "'|'"},
		{"units", func() error { _, err := buildSpec(4, "0:relu", "", 0); return err }, ErrSpec, "units"},
		{"dropout", func() error {
			m := fitModel(t, 1)
			m.Layers = append(m.Layers, &runtime.Layer{Name: "dropout", Type: runtime.Identity, Class: "SpatialDropout1D", Rate: 0.5})
			_, err := Fit(ctx, m, set(x, nil, 10), Set{}, cfg)
			return err
		}, ErrModel, "Dropout"},
		{"nan loss", func() error {
			m, _ := buildSpec(20, "20:linear", "ones", 0)
			_, err := Fit(ctx, m, set(big, nil, 10), Set{}, Config{Epochs: 1, BatchSize: 4, NoShuffle: true, Loss: MeanSquaredError})
			return err
		}, ErrNaNLoss, "epoch 1/1, batch 1/3"},
	} {
		err := c.run()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %q does not mention %q", c.name, err, c.msg)
		}
	}
}

// TestNaNLossKeepsWeights checks that the update of the bad batch is not
// applied.
func TestNaNLossKeepsWeights(t *testing.T) {
	m, _ := buildSpec(4, "4:linear", "ones", 0)
	x := []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 3e38, 3e38, 3e38, 3e38}
	var after1 []float32
	_, err := Fit(context.Background(), m, set(x, nil, 3), Set{}, Config{Epochs: 1, BatchSize: 2, NoShuffle: true, Loss: MeanSquaredError, Optimizer: &SGD{},
		OnBatch: func(BatchLog) { after1 = flatWeights(m) }})
	if !errors.Is(err, ErrNaNLoss) || !strings.Contains(err.Error(), "batch 2/2") {
		t.Fatalf("got %v, want ErrNaNLoss at batch 2/2", err)
	}
	sameBits(t, "weights after the bad batch", after1, flatWeights(m))
}

func TestBuild(t *testing.T) {
	for _, c := range []struct {
		spec, names string
		codeWidth   int
	}{
		{"10:relu,10:relu|100:sigmoid,100:sigmoid", "encoder dense dense_1 decoder dense_2 dense_3", 10},
		{"128:relu,64:relu,32:relu,64:relu,128:relu,784:sigmoid", "encoder dense dense_1 dense_2 decoder dense_3 dense_4 dense_5", 32},
		{"32:relu|784:sigmoid", "encoder dense decoder dense_1", 32},
		{"16:relu", "dense", 0},
	} {
		m, err := buildSpec(784, c.spec, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(m.LayerNames(), " "); got != c.names {
			t.Errorf("%s: layers %s, want %s", c.spec, got, c.names)
		}
		if c.codeWidth > 0 {
			enc, err := m.Submodel("encoder")
			if err != nil {
				t.Fatal(err)
			}
			if enc.OutputWidth() != c.codeWidth {
				t.Errorf("%s: code width %d, want %d", c.spec, enc.OutputWidth(), c.codeWidth)
			}
		}
	}
	a, _ := buildSpec(30, "8:relu|30:sigmoid", "", 7)
	b, _ := buildSpec(30, "8:relu|30:sigmoid", "", 7)
	c, _ := buildSpec(30, "8:relu|30:sigmoid", "", 8)
	sameBits(t, "same seed", flatWeights(a), flatWeights(b))
	if math.Float32bits(flatWeights(a)[0]) == math.Float32bits(flatWeights(c)[0]) {
		t.Error("seeds 7 and 8 give the same first weight")
	}
}

// TestInitializers checks bounds and moments of every initializer on a
// 400×300 kernel: uniform ones within ±limit with variance limit²/3,
// truncated normals within ±2σ·0.8796 with the scaled variance, constants
// exact. Moments within 3% (180000 draws: the standard error is ~0.4%).
func TestInitializers(t *testing.T) {
	const in, out = 400, 300
	type want struct{ limit, variance float64 }
	cases := map[string]want{
		"glorot_uniform": {math.Sqrt(6.0 / (in + out)), 2.0 / (in + out)},
		"he_uniform":     {math.Sqrt(6.0 / in), 2.0 / in},
		"lecun_uniform":  {math.Sqrt(3.0 / in), 1.0 / in},
		"glorot_normal":  {2 * math.Sqrt(2.0/(in+out)) / truncStd, 2.0 / (in + out)},
		"he_normal":      {2 * math.Sqrt(2.0/in) / truncStd, 2.0 / in},
		"lecun_normal":   {2 * math.Sqrt(1.0/in) / truncStd, 1.0 / in},
		"random_uniform": {0.05, 0.05 * 0.05 / 3},
		"random_normal":  {math.Inf(1), 0.05 * 0.05},
	}
	for name, w := range cases {
		m, err := buildSpec(in, "300:relu", Initializer(name), 3)
		if err != nil {
			t.Fatal(err)
		}
		k := m.Layers[0].Kernel
		var s, s2 float64
		for _, v := range k {
			if math.Abs(float64(v)) > w.limit*(1+1e-6) {
				t.Fatalf("%s: %g beyond the limit %g", name, v, w.limit)
			}
			s += float64(v)
			s2 += float64(v) * float64(v)
		}
		mean, variance := s/float64(len(k)), s2/float64(len(k))-(s/float64(len(k)))*(s/float64(len(k)))
		if math.Abs(mean) > 0.03*math.Sqrt(w.variance) || math.Abs(variance/w.variance-1) > 0.03 {
			t.Errorf("%s: mean %.3g variance %.4g, want 0 and %.4g", name, mean, variance, w.variance)
		}
		for _, b := range m.Layers[0].Bias {
			if b != 0 {
				t.Fatalf("%s: bias %g, want 0", name, b)
			}
		}
	}
	for name, v := range map[string]float32{"zeros": 0, "ones": 1} {
		m, _ := buildSpec(4, "3", Initializer(name), 0)
		for _, k := range m.Layers[0].Kernel {
			if k != v {
				t.Fatalf("%s: %g", name, k)
			}
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	x := randData(3, 64*20)
	// MinDelta 10: no epoch after the first counts as an improvement, so
	// with patience 2 training stops after epoch index 2, as Keras does.
	var seen []int
	h, err := Fit(context.Background(), fitModel(t, 1), set(x, nil, 64), Set{}, Config{Epochs: 20, BatchSize: 16, NoShuffle: true, ValidationSplit: 0.25,
		EarlyStopping: &EarlyStopping{Patience: 2, MinDelta: 10, RestoreBestWeights: true},
		OnEpoch:       func(e EpochLog) { seen = append(seen, e.Epoch) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Loss) != 3 || h.StoppedEpoch != 2 || h.BestEpoch != 0 || len(seen) != 3 {
		t.Errorf("ran %d epochs, stopped %d, best %d; want 3, 2, 0", len(h.Loss), h.StoppedEpoch, h.BestEpoch)
	}
	// Restored weights give the first epoch's validation loss.
	m := fitModel(t, 1)
	h, err = Fit(context.Background(), m, set(x, nil, 64), Set{}, Config{Epochs: 20, BatchSize: 16, NoShuffle: true, ValidationSplit: 0.25, Optimizer: &Adam{LR: 0.01},
		EarlyStopping: &EarlyStopping{Patience: 2, MinDelta: 10, RestoreBestWeights: true}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Evaluate(m, x[48*20:], nil, 16, BinaryCrossentropy, 16)
	if err != nil {
		t.Fatal(err)
	}
	if got != h.ValLoss[0] {
		t.Errorf("restored weights: val loss %v, want epoch 1's %v", got, h.ValLoss[0])
	}
	// Keras 3 (and tf-keras 2.21) restore the best weights when training
	// ends even if it did not stop early: patience 10 over 4 epochs.
	m = fitModel(t, 1)
	h, err = Fit(context.Background(), m, set(x, nil, 64), Set{}, Config{Epochs: 4, BatchSize: 16, NoShuffle: true, ValidationSplit: 0.25, Optimizer: &Adam{LR: 0.01},
		EarlyStopping: &EarlyStopping{Patience: 10, MinDelta: 10, RestoreBestWeights: true}})
	if err != nil {
		t.Fatal(err)
	}
	if h.StoppedEpoch != -1 || len(h.Loss) != 4 {
		t.Fatalf("stopped at %d after %d epochs; want no stop, 4 epochs", h.StoppedEpoch, len(h.Loss))
	}
	if got, err := Evaluate(m, x[48*20:], nil, 16, BinaryCrossentropy, 16); err != nil || got != h.ValLoss[0] {
		t.Errorf("restored at the end: val loss %v (%v), want epoch 1's %v (last epoch's %v)", got, err, h.ValLoss[0], h.ValLoss[3])
	}
	// Patience without improvement on a training loss that keeps falling
	// never stops.
	h, err = Fit(context.Background(), fitModel(t, 1), set(x, nil, 64), Set{}, Config{Epochs: 6, BatchSize: 16, NoShuffle: true, Optimizer: &Adam{LR: 0.01},
		EarlyStopping: &EarlyStopping{Patience: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if h.StoppedEpoch != -1 || len(h.Loss) != 6 {
		t.Errorf("improving run stopped at %d after %d epochs", h.StoppedEpoch, len(h.Loss))
	}
}

// TestValidationSplitRows checks that the last rows, taken before
// shuffling, are held out: changing them changes val_loss only.
func TestValidationSplitRows(t *testing.T) {
	x := randData(4, 50*20)
	y := append([]float32(nil), x...)
	for i := 40 * 20; i < len(y); i++ {
		y[i] = 1 - y[i]
	}
	cfg := Config{Epochs: 2, BatchSize: 8, ValidationSplit: 0.2}
	h1, err := Fit(context.Background(), fitModel(t, 1), set(x, x, 50), Set{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Fit(context.Background(), fitModel(t, 1), set(x, y, 50), Set{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameFloats(t, "training loss", h1.Loss, h2.Loss)
	if h1.ValLoss[0] == h2.ValLoss[0] {
		t.Error("changing the last 20% of the targets did not change val_loss")
	}
}

func TestLearningRateSchedule(t *testing.T) {
	o := &SGD{LR: 0.1, Decay: &ExponentialDecay{DecaySteps: 10, DecayRate: 0.5}}
	if got := o.LearningRate(5); math.Abs(got-0.1*math.Pow(0.5, 0.5)) > 1e-15 {
		t.Errorf("continuous decay at 5: %v", got)
	}
	o.Decay.Staircase = true
	for it, want := range map[int64]float64{0: 0.1, 9: 0.1, 10: 0.05, 25: 0.025} {
		if got := o.LearningRate(it); got != want {
			t.Errorf("staircase at %d: %v, want %v", it, got, want)
		}
	}
	if got := (&Adam{}).LearningRate(100); got != 1e-3 {
		t.Errorf("Adam default lr %v", got)
	}
}

// TestEvaluateMatchesPredict checks Evaluate against a loss computed from
// runtime Predict outputs.
func TestEvaluateMatchesPredict(t *testing.T) {
	m := fitModel(t, 1)
	x := randData(2, 30*20)
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
	got, err := Evaluate(m, x, nil, 30, MeanSquaredError, 30)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-7*want {
		t.Errorf("Evaluate %v, from Predict %v", got, want)
	}
}

// TestFusedUpdateMatchesOnePass checks that the update a training batch
// applies layer by layer as gradients complete (arm) leaves weights and
// optimizer state bit-identical to one pass of the optimizer over all
// weights after the batch, for every optimizer, at 1 to 3 threads, on a
// model whose weight gradients are cut both by rows (300×20) and by
// columns (20×300).
func TestFusedUpdateMatchesOnePass(t *testing.T) {
	opts := []Optimizer{
		&Adam{}, &Adam{AMSGrad: true}, &SGD{LR: 0.05}, &SGD{LR: 0.05, Momentum: 0.9, Nesterov: true},
		&RMSprop{}, &RMSprop{Momentum: 0.5, Centered: true}, &Adagrad{},
	}
	x := randData(3, 200*300)
	idx := permutations(4, 200, 1)[0]
	for _, opt := range opts {
		for _, threads := range []int{1, 2, 3} {
			name := fmt.Sprintf("%s%+v/threads=%d", opt.Name(), opt, threads)
			var nets [2]*net
			var slots [2][][]float32
			for k := range nets {
				m, err := buildSpec(300, "20:relu|300:sigmoid", "", 5)
				if err != nil {
					t.Fatal(err)
				}
				nt, err := newNet(m, BinaryCrossentropy, 64, threads)
				if err != nil {
					t.Fatal(err)
				}
				defer nt.close()
				nets[k] = nt
				slots[k] = nt.newSlots(opt)
			}
			for it := int64(0); it < 6; it++ {
				start := int(it%3) * 64
				c := opt.consts(it)
				nets[0].arm(opt, c, slots[0])
				xd := Slice(x, nets[0].inW)
				l0, _ := nets[0].batch(xd, xd, idx, start, 64, true)
				l1, _ := nets[1].batch(xd, xd, idx, start, 64, true)
				var s [3][]float32
				copy(s[:], slots[1])
				opt.apply(c, nets[1].params, nets[1].grads, s)
				if l0 != l1 {
					t.Fatalf("%s step %d: loss %v fused, %v in one pass", name, it, l0, l1)
				}
				for i := range nets[0].params {
					if math.Float32bits(nets[0].params[i]) != math.Float32bits(nets[1].params[i]) {
						t.Fatalf("%s step %d: weight %d is %v fused, %v in one pass", name, it, i, nets[0].params[i], nets[1].params[i])
					}
				}
				for j := range slots[0] {
					for i := range slots[0][j] {
						if math.Float32bits(slots[0][j][i]) != math.Float32bits(slots[1][j][i]) {
							t.Fatalf("%s step %d: state %d of weight %d differs", name, it, j, i)
						}
					}
				}
			}
		}
	}
}

// set is the Set of n in-memory rows of x and, unless nil, targets y of
// the same width.
func set(x, y []float32, n int) Set {
	w := len(x) / max(n, 1)
	s := Set{X: Slice(x, w)}
	if y != nil {
		s.Y = Slice(y, w)
	}
	return s
}

// buildSpec builds the model of a ParseArch spelling.
func buildSpec(width int, spec string, init Initializer, seed uint64) (*runtime.Model, error) {
	a, err := ParseArch(spec)
	if err != nil {
		return nil, err
	}
	return Build(width, a, init, seed)
}
