package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// noiseModel is in → noise → Dense(hid, tanh, regularised) → noise →
// Dense(out, sigmoid, regularised) for the given noise class and rate.
func noiseModel(t *testing.T, in, hid, out int, class string, rate float64, seed uint64) *runtime.Model {
	t.Helper()
	reg := &runtime.Regularizers{Kernel: runtime.Regularizer{L1: 1e-3, L2: 2e-3}, Bias: runtime.Regularizer{L2: 5e-3},
		Activity: runtime.Regularizer{L1: 3e-3, L2: 1e-3}}
	m := &runtime.Model{Name: "m", Input: []int{in}, Layers: []*runtime.Layer{
		{Name: "n0", Type: runtime.Identity, Class: class, Rate: rate},
		{Name: "d0", Type: runtime.Dense, In: in, Units: hid, Kernel: make([]float32, in*hid), Bias: make([]float32, hid), Act: runtime.Act(runtime.Tanh), Reg: reg},
		{Name: "n1", Type: runtime.Identity, Class: class, Rate: rate},
		{Name: "d1", Type: runtime.Dense, In: hid, Units: out, Kernel: make([]float32, hid*out), Bias: make([]float32, out), Act: runtime.Act(runtime.Sigmoid),
			Reg: &runtime.Regularizers{Kernel: runtime.Regularizer{L2: 1e-2}, Bias: runtime.Regularizer{L1: 1e-2}}},
	}}
	if err := Initialize(m, GlorotUniform, seed); err != nil {
		t.Fatal(err)
	}
	m.Walk(func(_ []string, l *runtime.Layer) {
		for i := range l.Bias {
			l.Bias[i] = float32(i%5)*0.05 - 0.1
		}
	})
	return m
}

// TestGradientsNoiseReg compares the backward pass through every noise
// layer (its random numbers fixed: they depend on the seed and update
// count only) and every regulariser with central differences of the
// total loss (data loss plus penalties), with TestGradients's tolerance.
func TestGradientsNoiseReg(t *testing.T) {
	const n, in, hid, out = 6, 5, 7, 5
	for ci, class := range []string{"Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout"} {
		t.Run(class, func(t *testing.T) {
			m := noiseModel(t, in, hid, out, class, 0.3, uint64(ci))
			x, y := randData(uint64(ci), n*in), randData(uint64(ci)+100, n*out)
			nt, err := newNet(m, BinaryCrossentropy, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer nt.close()
			nt.seed, nt.iter = 7, 3
			xd, yd := Slice(x, in), Slice(y, out)
			nt.batch(xd, yd, nil, 0, n, true)
			ana := append([]float32(nil), nt.grads...)
			lossAt := func() float64 {
				l, _ := nt.batch(xd, yd, nil, 0, n, true)
				return l
			}
			const h = 1e-3
			var maxNum, maxErr float64
			worst := 0
			for i := range nt.params {
				w := nt.params[i]
				nt.params[i] = w + h
				lp := lossAt()
				nt.params[i] = w - h
				lm := lossAt()
				nt.params[i] = w
				num := (lp - lm) / (2 * h)
				maxNum = max(maxNum, math.Abs(num))
				if d := math.Abs(float64(ana[i]) - num); d > maxErr {
					maxErr, worst = d, i
				}
			}
			if maxErr > 0.03*maxNum+2e-4 {
				t.Errorf("max |analytic − numeric| = %.3g at weight %d, max |numeric| %.3g", maxErr, worst, maxNum)
			}
			// At inference the noise layers pass values through: the
			// loss is the clean model's plus the penalties.
			clean, _ := nt.batch(xd, yd, nil, 0, n, false)
			cp, err := inferenceClone(m)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range cp.Layers {
				l.Reg = nil
			}
			ref, err := newNet(cp, BinaryCrossentropy, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.close()
			plain, _ := ref.batch(xd, yd, nil, 0, n, false)
			if !(clean > plain) {
				t.Errorf("inference loss %g not above the unregularised %g", clean, plain)
			}
		})
	}
}

// TestNoiseStatistics checks each noise layer's output on 200000 values
// against its distribution: Dropout keeps a fraction 1−rate, scaled by
// 1/(1−rate); GaussianNoise adds N(0, s²); GaussianDropout multiplies by
// N(1, rate/(1−rate)); AlphaDropout keeps a standard normal input at mean
// 0 and variance 1 (its purpose) and sets dropped values to a·α′+b. Means
// and fractions within 5 standard errors, standard deviations within 2%.
func TestNoiseStatistics(t *testing.T) {
	const rows, w = 2000, 100
	const n = rows * w
	x := make([]float32, n)
	for i := range x {
		x[i] = gauss(mix64(uint64(i) + 12345))
	}
	for _, c := range []struct {
		class string
		rate  float64
	}{{"Dropout", 0.2}, {"GaussianNoise", 0.3}, {"GaussianDropout", 0.25}, {"AlphaDropout", 0.1}} {
		o := &op{in: w, out: w, x: x, a: make([]float32, n), mask: make([]float32, n)}
		k, _ := noiseKind(&runtime.Layer{Class: c.class})
		o.setNoise(k, c.rate)
		o.noiseFwd(0, rows, 99)
		var s1, s2, kept, d1, d2 float64
		for i, v := range o.a {
			f := float64(v)
			s1 += f
			s2 += f * f
			switch k {
			case Dropout, AlphaDropout:
				if o.mask[i] != 0 {
					kept++
				}
			case GaussianNoise:
				d := f - float64(x[i])
				d1 += d
				d2 += d * d
			case GaussianDropout:
				d := float64(o.mask[i])
				d1 += d
				d2 += d * d
			}
		}
		mean, sd := s1/n, math.Sqrt(s2/n-(s1/n)*(s1/n))
		near := func(what string, got, want, tol float64) {
			if math.Abs(got-want) > tol {
				t.Errorf("%s: %s %.5f, want %.5f ± %.5f", c.class, what, got, want, tol)
			}
		}
		switch k {
		case Dropout:
			p := 1 - c.rate
			near("kept fraction", kept/n, p, 5*math.Sqrt(p*(1-p)/n))
			for i, v := range o.a {
				if v != 0 && v != x[i]*float32(1/(1-c.rate)) {
					t.Fatalf("Dropout: kept value %g of %g not scaled by 1/(1−rate)", v, x[i])
				}
			}
		case GaussianNoise:
			near("noise mean", d1/n, 0, 5*c.rate/math.Sqrt(n))
			near("noise sd", math.Sqrt(d2/n-(d1/n)*(d1/n)), c.rate, 0.02*c.rate)
		case GaussianDropout:
			s := math.Sqrt(c.rate / (1 - c.rate))
			near("multiplier mean", d1/n, 1, 5*s/math.Sqrt(n))
			near("multiplier sd", math.Sqrt(d2/n-(d1/n)*(d1/n)), s, 0.02*s)
		case AlphaDropout:
			p := 1 - c.rate
			near("kept fraction", kept/n, p, 5*math.Sqrt(p*(1-p)/n))
			near("mean", mean, 0, 5/math.Sqrt(n))
			near("sd", sd, 1, 0.02)
			a := math.Pow((1-c.rate)*(1+c.rate*alphaP*alphaP), -0.5)
			for i, v := range o.a {
				if o.mask[i] == 0 && math.Abs(float64(v)-(a*alphaP-a*alphaP*c.rate)) > 1e-6 {
					t.Fatalf("AlphaDropout: dropped value %g, want a·α′+b = %g", v, a*alphaP-a*alphaP*c.rate)
				}
			}
		}
	}
}

// TestNoiseStepAllocs: a training step through noise layers and
// regularisers allocates nothing, and its results are the same for 1 and
// 3 threads.
func TestNoiseStepAllocs(t *testing.T) {
	var ref []float32
	for _, threads := range []int{1, 3} {
		m := noiseModel(t, 64, 16, 64, "Dropout", 0.2, 1)
		x := randData(1, 300*64)
		cfg := Config{Epochs: 2, BatchSize: 32, Seed: 4, Threads: threads}
		if _, err := Fit(context.Background(), m, set(x, nil, 300), Set{}, cfg); err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = flatWeights(m)
		} else {
			sameBits(t, "weights at 3 threads", ref, flatWeights(m))
		}
		nt, err := newNet(m, BinaryCrossentropy, 32, threads)
		if err != nil {
			t.Fatal(err)
		}
		xd := Slice(x, 64)
		idx := permutations(1, 300, 1)[0]
		opt := &Adam{}
		slots := nt.newSlots(opt)
		step := func() {
			nt.arm(opt, opt.consts(nt.iter), slots)
			nt.batch(xd, xd, idx, 40, 32, true)
			nt.iter++
		}
		step()
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("threads=%d: %v allocations per step, want 0", threads, a)
		}
		nt.close()
	}
}

// A regulariser the file names but aekit cannot apply (a custom class)
// is refused by training, naming the layer, rather than left out of the
// loss; inference ignores it.
func TestUnsupportedRegularizerRefused(t *testing.T) {
	m := noiseModel(t, 4, 3, 4, "Dropout", 0, 1)
	m.Layers[3].Reg = &runtime.Regularizers{Unsupported: `kernel_regularizer: regulariser class "MyReg"`}
	x := make([]float32, 8*4)
	for i := range x {
		x[i] = float32(i%4) / 4
	}
	if _, err := m.Predict(nil, x[:4]); err != nil {
		t.Fatalf("inference: %v", err)
	}
	_, err := Fit(context.Background(), m, set(x, nil, 8), Set{}, Config{Epochs: 1, BatchSize: 4})
	if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), `"d1"`) || !strings.Contains(err.Error(), "MyReg") {
		t.Errorf("training a custom regulariser: %v, want ErrModel naming d1 and MyReg", err)
	}
}
