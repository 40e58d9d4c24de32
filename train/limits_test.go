package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// TestSizeLimits checks that absurd sizes are errors naming the layer,
// returned before the buffers are allocated (an allocation of the sizes
// tried here would need tens of GiB and crash the test).
func TestSizeLimits(t *testing.T) {
	ctx := context.Background()
	// A model built here: 1 → 2¹⁶ → 1, small, whose per-batch buffers
	// at 2¹² rows (3·2¹⁶·2¹² values for the wide layer) pass MaxValues.
	wide := func() *runtime.Model {
		return &runtime.Model{Name: "wide", Class: "Sequential", Input: []int{1}, Layers: []*runtime.Layer{
			{Name: "hidden", Type: runtime.Dense, Class: "Dense", In: 1, Units: 1 << 16,
				Kernel: make([]float32, 1<<16), Bias: make([]float32, 1<<16), Act: runtime.Act(runtime.ReLU)},
			{Name: "out", Type: runtime.Dense, Class: "Dense", In: 1 << 16, Units: 1,
				Kernel: make([]float32, 1<<16), Bias: make([]float32, 1), Act: runtime.Act(runtime.Sigmoid)},
		}}
	}
	const n = 1 << 12
	x := randData(3, n)
	for _, c := range []struct {
		name string
		run  func() error
		want error
		msg  []string
	}{
		{"units", func() error { _, err := buildSpec(100, "100000000:relu|100:sigmoid", "", 0); return err },
			ErrSpec, []string{`layer "100000000:relu"`, "100000000 units", "16777216"}},
		{"units decoder", func() error { _, err := buildSpec(100, "10:relu|16777217:sigmoid", "", 0); return err },
			ErrSpec, []string{`layer "16777217:sigmoid"`}},
		{"input width", func() error { _, err := buildSpec(MaxUnits+1, "10:relu", "", 0); return err },
			ErrSpec, []string{"input width 16777217"}},
		{"parameters", func() error { _, err := buildSpec(100, "3000000:relu|100:sigmoid", "", 0); return err },
			ErrSpec, []string{`layer "3000000:relu"`, "100×3000000", "268435456"}},
		{"parameters total", func() error { _, err := buildSpec(16384, "8192:relu,8192:relu|16384:sigmoid", "", 0); return err },
			ErrSpec, []string{`layer "16384:sigmoid"`}},
		{"fit batch", func() error {
			_, err := Fit(ctx, wide(), set(x, nil, n), Set{}, Config{Epochs: 1, BatchSize: n, NoShuffle: true})
			return err
		}, ErrConfig, []string{`layer "hidden" (65536 units)`, "batch size 4096", "smaller batch"}},
		{"evaluate batch", func() error { _, err := Evaluate(wide(), x, nil, n, MeanSquaredError, n); return err },
			ErrConfig, []string{`layer "hidden"`}},
	} {
		err := c.run()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		for _, msg := range c.msg {
			if !strings.Contains(err.Error(), msg) {
				t.Errorf("%s: %q does not mention %q", c.name, err, msg)
			}
		}
	}
	// Just under the limit is accepted: the same model trains at a batch
	// whose buffers fit.
	if _, err := Fit(ctx, wide(), set(x[:64], nil, 64), Set{}, Config{Epochs: 1, BatchSize: 64, NoShuffle: true}); err != nil {
		t.Errorf("batch 64: %v", err)
	}
}

// TestAddSize checks the overflow-safe size sum at its edges.
func TestAddSize(t *testing.T) {
	for _, c := range []struct {
		total, n, k, want int
		ok                bool
	}{
		{0, MaxValues, 1, MaxValues, true},
		{1, MaxValues, 1, 1, false},
		{0, 1 << 14, 1 << 14, 1 << 28, true},
		{0, 1 << 14, 1<<14 + 1, 0, false},
		{0, math.MaxInt, math.MaxInt, 0, false},
		{0, -1, 1, 0, false},
		{5, 0, math.MaxInt, 5, true},
	} {
		got, ok := addSize(c.total, c.n, c.k)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("addSize(%d, %d, %d) = %d, %v; want %d, %v", c.total, c.n, c.k, got, ok, c.want, c.ok)
		}
	}
}

// TestOptimizerValidate checks every optimizer setting's range: defaults
// and ordinary values are accepted, values out of range are errors
// wrapping ErrConfig that name the setting, and Fit refuses them before
// the first batch.
func TestOptimizerValidate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	decay := func(steps int, rate float64) *ExponentialDecay {
		return &ExponentialDecay{DecaySteps: steps, DecayRate: rate}
	}
	good := []Optimizer{
		&Adam{}, &Adam{LR: 0.01, Beta1: 0.5, Beta2: 0.99, Epsilon: 1e-8, AMSGrad: true, Decay: decay(1, 0.5)},
		&SGD{}, &SGD{LR: 0.1, Momentum: 0.9, Nesterov: true, Decay: decay(100, 1.5)},
		&RMSprop{}, &RMSprop{LR: 0.1, Rho: 0.5, Momentum: 0.5, Epsilon: 1e-3, Centered: true},
		&Adagrad{}, &Adagrad{LR: 0.1, InitialAccumulatorValue: 1, Epsilon: 1e-3},
	}
	for _, o := range good {
		if err := o.Validate(); err != nil {
			t.Errorf("%#v: %v", o, err)
		}
	}
	for _, c := range []struct {
		opt Optimizer
		msg string
	}{
		{&Adam{LR: -1}, "adam learning rate -1"},
		{&Adam{LR: nan}, "adam learning rate NaN"},
		{&Adam{LR: inf}, "adam learning rate +Inf"},
		{&Adam{Beta1: 1}, "adam beta1 1"},
		{&Adam{Beta1: -0.1}, "adam beta1 -0.1"},
		{&Adam{Beta2: 1.5}, "adam beta2 1.5"},
		{&Adam{Beta2: nan}, "adam beta2 NaN"},
		{&Adam{Epsilon: -1e-7}, "adam epsilon -1e-07"},
		{&Adam{Epsilon: inf}, "adam epsilon +Inf"},
		{&Adam{Decay: decay(0, 0.9)}, "adam learning-rate decay steps 0"},
		{&Adam{Decay: decay(10, -2)}, "adam learning-rate decay rate -2"},
		{&Adam{Decay: decay(10, 0)}, "adam learning-rate decay rate 0"},
		{&Adam{Decay: decay(10, nan)}, "adam learning-rate decay rate NaN"},
		{&Adam{Decay: decay(10, inf)}, "adam learning-rate decay rate +Inf"},
		{&SGD{LR: -0.01}, "sgd learning rate -0.01"},
		{&SGD{Momentum: -5}, "sgd momentum -5"},
		{&SGD{Momentum: 1}, "sgd momentum 1"},
		{&SGD{Momentum: nan}, "sgd momentum NaN"},
		{&SGD{Decay: decay(-3, 0.5)}, "sgd learning-rate decay steps -3"},
		{&RMSprop{LR: nan}, "rmsprop learning rate NaN"},
		{&RMSprop{Rho: 1}, "rmsprop rho 1"},
		{&RMSprop{Momentum: -0.5}, "rmsprop momentum -0.5"},
		{&RMSprop{Epsilon: -1}, "rmsprop epsilon -1"},
		{&RMSprop{Decay: decay(1, -1)}, "rmsprop learning-rate decay rate -1"},
		{&Adagrad{LR: -1}, "adagrad learning rate -1"},
		{&Adagrad{InitialAccumulatorValue: -0.1}, "adagrad initial accumulator value -0.1"},
		{&Adagrad{InitialAccumulatorValue: inf}, "adagrad initial accumulator value +Inf"},
		{&Adagrad{Epsilon: nan}, "adagrad epsilon NaN"},
		{&Adagrad{Decay: decay(0, 1)}, "adagrad learning-rate decay steps 0"},
	} {
		err := c.opt.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%#v: Validate = %v, want ErrConfig mentioning %q", c.opt, err, c.msg)
			continue
		}
		batches := 0
		x := randData(1, 10*20)
		_, err = Fit(context.Background(), fitModel(t, 1), set(x, nil, 10), Set{}, Config{Optimizer: c.opt, Epochs: 1, BatchSize: 4, NoShuffle: true,
			OnBatch: func(BatchLog) { batches++ }})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.msg) || batches != 0 {
			t.Errorf("%#v: Fit = %v after %d batches, want ErrConfig mentioning %q before training", c.opt, err, batches, c.msg)
		}
	}
	for _, lr := range []float64{-1, nan, inf, math.Inf(-1)} {
		if _, err := ParseOptimizer("sgd", lr); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseOptimizer(sgd, %g) = %v, want ErrConfig", lr, err)
		}
	}
	if o, err := ParseOptimizer("adam", 0); err != nil || o.Validate() != nil {
		t.Errorf("ParseOptimizer(adam, 0): %v", err)
	}
}
