package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/runtime"
)

func TestParseVAE(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"512:relu|2:vae|512:relu,784:sigmoid", "512:relu|2:vae|512:relu,784:sigmoid"},
		{"512:relu,2:vae,512:relu,784:sigmoid", "512:relu|2:vae|512:relu,784:sigmoid"},
		{"2:vae|784:sigmoid", "2:vae|784:sigmoid"},
		{"64:relu:dropout=0.1,8:vae|64:relu,784:sigmoid", "64:relu:dropout=0.1|8:vae|64:relu,784:sigmoid"},
	} {
		a, err := ParseVAE(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		if got := a.String(); got != tc.want {
			t.Errorf("%q: String %q, want %q", tc.spec, got, tc.want)
		}
		if !IsVAESpec(tc.spec) {
			t.Errorf("%q: IsVAESpec false", tc.spec)
		}
	}
	for _, bad := range []string{"512:relu|784:sigmoid", "2:vae", "512:relu|2:vae", "2:vae|3:vae|4", "0:vae|4", "x:vae|4", "2:vae:l1=1|4", "2:vae|4:nope"} {
		if _, err := ParseVAE(bad); !errors.Is(err, ErrSpec) && !errors.Is(err, runtime.ErrActivation) {
			t.Errorf("%q: error %v, want ErrSpec", bad, err)
		}
	}
	if IsVAESpec("32:relu|784:sigmoid") {
		t.Error("IsVAESpec of a plain spec")
	}
}

func TestBuildVAE(t *testing.T) {
	v, err := BuildVAE(784, MustParseVAE(t, "512:relu|2:vae|512:relu,784:sigmoid"), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		for _, l := range m.Layers {
			names = append(names, l.Name)
		}
	}
	if want := "dense z_mean_log_var dense_1 dense_2"; joinNames(names) != want {
		t.Errorf("names %q, want %q", joinNames(names), want)
	}
	// Each half of the z kernel is drawn as a 512×2 glorot_uniform
	// layer: limit √(6/514), not √(6/516).
	z := v.Encoder.Layers[1]
	limit := float32(math.Sqrt(6.0 / 514))
	var maxAbs float32
	for _, w := range z.Kernel {
		maxAbs = max(maxAbs, float32(math.Abs(float64(w))))
	}
	if maxAbs > limit || maxAbs < 0.9*limit {
		t.Errorf("z kernel max |w| %g, want just under %g", maxAbs, limit)
	}
	if _, err := BuildVAE(784, MustParseVAE(t, "2:vae|100:sigmoid"), "", 1); !errors.Is(err, ErrSpec) {
		t.Errorf("decoder width 100 for input 784: %v, want ErrSpec", err)
	}
}

func MustParseVAE(t *testing.T, spec string) VAEArch {
	t.Helper()
	a, err := ParseVAE(spec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func joinNames(s []string) string {
	out := ""
	for i, n := range s {
		if i > 0 {
			out += " "
		}
		out += n
	}
	return out
}

// vaeLoss returns the VAE's loss on x at fixed ε, and with grads set the
// gradients of encoder and decoder parameters.
func vaeLoss(t *testing.T, vr *vaeRun, x Data, n int, grads bool) float64 {
	t.Helper()
	r, k, err := vr.step(x, nil, 0, n, grads, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r + k
}

// TestVAEGradient checks the backward pass (decoder, sampling layer, KL
// term, encoder) against central differences of the loss.
func TestVAEGradient(t *testing.T) {
	const in, n = 6, 5
	v, err := BuildVAE(in, MustParseVAE(t, "5:tanh|3:vae|5:tanh,6:sigmoid"), "", 3)
	if err != nil {
		t.Fatal(err)
	}
	// Biases too, so that z_log_var is not near 0.
	r := rand.New(rand.NewPCG(7, 8))
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		m.Walk(func(_ []string, l *runtime.Layer) {
			for i := range l.Bias {
				l.Bias[i] = float32(r.Float64() - 0.5)
			}
		})
	}
	xs := make([]float32, n*in)
	for i := range xs {
		xs[i] = float32(r.Float64())
	}
	x := Slice(xs, in)
	cfg := DefaultConfig().withDefaults()
	cfg.Threads = 1
	vr, err := newVAERun(v, cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	defer vr.close()
	vr.fixedEps = make([]float32, n*3)
	for i := range vr.fixedEps {
		vr.fixedEps[i] = float32(r.NormFloat64())
	}
	vaeLoss(t, vr, x, n, true)
	for _, nt := range []*net{vr.enc, vr.dec} {
		g := append([]float32(nil), nt.grads...)
		var gmax float64
		for _, v := range g {
			gmax = max(gmax, math.Abs(float64(v)))
		}
		for i := range nt.params {
			w := nt.params[i]
			const h = 1e-2
			nt.params[i] = w + h
			lp := vaeLoss(t, vr, x, n, false)
			nt.params[i] = w - h
			lm := vaeLoss(t, vr, x, n, false)
			nt.params[i] = w
			fd := (lp - lm) / (2 * h)
			if d := math.Abs(fd - float64(g[i])); d > 2e-3*gmax+1e-4 {
				t.Errorf("param %d of %d: gradient %g, central difference %g", i, len(nt.params), g[i], fd)
			}
		}
	}
}

func TestVAEStepAllocs(t *testing.T) {
	for _, threads := range []int{1, 3} {
		v, err := BuildVAE(64, MustParseVAE(t, "32:relu:dropout=0.1|2:vae|32:relu,64:sigmoid"), "", 1)
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig().withDefaults()
		cfg.Threads = threads
		vr, err := newVAERun(v, cfg, 32)
		if err != nil {
			t.Fatal(err)
		}
		x := Slice(randData(1, 100*64), 64)
		idx := permutations(1, 100, 1)[0]
		it := int64(0)
		step := func() {
			vr.step(x, idx, 40, 32, true, cfg.Optimizer, it)
			vr.step(x, nil, 40, 32, true, cfg.Optimizer, it+1)
			it += 2
		}
		step()
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("threads=%d: %v allocations per step, want 0", threads, a)
		}
		vr.close()
	}
}

func TestFitVAE(t *testing.T) {
	const in, n = 16, 300
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float32, n*in)
	for i := 0; i < n; i++ {
		// Two clusters of binary-ish rows.
		c := i % 2
		for j := range in {
			p := 0.1
			if (j < in/2) == (c == 0) {
				p = 0.9
			}
			if r.Float64() < p {
				xs[i*in+j] = 1
			}
		}
	}
	fit := func(threads int) (*VAE, *VAEHistory) {
		v, err := BuildVAE(in, MustParseVAE(t, "12:relu|2:vae|12:relu,16:sigmoid"), "", 5)
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Threads = 30, 32, 9, threads
		var logs []VAEEpochLog
		h, err := FitVAE(context.Background(), v, Set{X: Slice(xs, in)}, VAEConfig{Config: cfg, OnEpoch: func(l VAEEpochLog) { logs = append(logs, l) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Loss) != 30 || len(logs) != 30 {
			t.Fatalf("%d epochs in the history, %d logged, want 30", len(h.Loss), len(logs))
		}
		for i := range h.Loss {
			if math.Abs(h.Loss[i]-(h.Reconstruction[i]+h.KL[i])) > 1e-9*h.Loss[i] || logs[i].Loss != h.Loss[i] || logs[i].KL != h.KL[i] {
				t.Fatalf("epoch %d: loss %g ≠ reconstruction %g + KL %g, or log %+v", i, h.Loss[i], h.Reconstruction[i], h.KL[i], logs[i])
			}
		}
		return v, h
	}
	v, h := fit(1)
	if !(h.Reconstruction[29] < 0.8*h.Reconstruction[0]) || !(h.KL[29] > 0) {
		t.Errorf("reconstruction %g → %g, KL %g → %g: did not learn", h.Reconstruction[0], h.Reconstruction[29], h.KL[0], h.KL[29])
	}
	// The clusters get codes apart: z_mean of the rows.
	zm, err := v.Encoder.Predict(nil, xs[:2*in])
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Hypot(float64(zm[0]-zm[4]), float64(zm[1]-zm[5])); d < 0.5 {
		t.Errorf("z_mean of the two clusters %v and %v: distance %g, want ≥ 0.5", zm[:2], zm[4:6], d)
	}
	// Bit-identical whatever the thread count.
	_, h2 := fit(2)
	for i := range h.Loss {
		if h.Loss[i] != h2.Loss[i] {
			t.Fatalf("epoch %d: loss %v with 1 thread, %v with 2", i, h.Loss[i], h2.Loss[i])
		}
	}
	// Unsupported settings and bad data.
	v, _ = BuildVAE(in, MustParseVAE(t, "2:vae|16:sigmoid"), "", 1)
	cfg := DefaultConfig()
	cfg.ValidationSplit = 0.1
	if _, err := FitVAE(context.Background(), v, Set{X: Slice(xs, in)}, VAEConfig{Config: cfg}); !errors.Is(err, ErrConfig) {
		t.Errorf("validation split: %v, want ErrConfig", err)
	}
	bad := append([]float32(nil), xs...)
	bad[5] = 3
	if _, err := FitVAE(context.Background(), v, Set{X: Slice(bad, in)}, VAEConfig{Config: DefaultConfig()}); !errors.Is(err, ErrTargetRange) {
		t.Errorf("target 3: %v, want ErrTargetRange", err)
	}
	if _, err := FitVAE(context.Background(), v, Set{X: Slice(xs[:8*in], 8)}, VAEConfig{Config: DefaultConfig()}); !errors.Is(err, ErrData) {
		t.Errorf("width 8: %v, want ErrData", err)
	}
}

// BenchmarkVAEStep times one training step of the Keras example's Dense
// VAE (784-512-2-512-784, Adam) on a batch of 128 shuffled rows.
func BenchmarkVAEStep(b *testing.B) {
	a, err := ParseVAE("512:relu|2:vae|512:relu,784:sigmoid")
	if err != nil {
		b.Fatal(err)
	}
	v, err := BuildVAE(784, a, "", 1)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig().withDefaults()
	cfg.Threads = 1
	vr, err := newVAERun(v, cfg, 128)
	if err != nil {
		b.Fatal(err)
	}
	defer vr.close()
	x := Slice(randData(1, 1024*784), 784)
	idx := permutations(1, 1024, 1)[0]
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := vr.step(x, idx, (i%8)*128, 128, true, cfg.Optimizer, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "samples/s")
}

// FuzzParseVAE checks that ParseVAE never panics, that its errors wrap
// ErrSpec (or runtime.ErrActivation), and that a spec it accepts builds
// (for small sizes) a VAE that validates.
func FuzzParseVAE(f *testing.F) {
	for _, s := range []string{"512:relu|2:vae|512:relu,784:sigmoid", "3:elu|2:vae|4:selu,5:gelu", "2:vae|7:sigmoid", "3:relu:dropout=0.1,2:vae,7", "2:vae", "|2:vae|", "2:vae:x|3", ",,2:vae,,7,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		a, err := ParseVAE(spec)
		if err != nil {
			if !errors.Is(err, ErrSpec) && !errors.Is(err, runtime.ErrActivation) {
				t.Fatalf("%q: error %v wraps neither ErrSpec nor ErrActivation", spec, err)
			}
			return
		}
		// String spells what ParseVAE reads: the round trip keeps it.
		if b, err := ParseVAE(a.String()); err != nil || b.String() != a.String() {
			t.Fatalf("%q: String %q parses to %v, %v", spec, a.String(), b, err)
		}
		size := a.Latent
		for _, l := range append(append([]Layer(nil), a.Encoder.Layers...), a.Decoder.Layers...) {
			size = max(size, l.Units)
		}
		if size > 64 {
			return
		}
		last := a.Decoder.Layers[len(a.Decoder.Layers)-1]
		width := 5
		if last.Kind == Dense {
			width = last.Units
		}
		v, err := BuildVAE(width, a, "", 1)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("%q: BuildVAE: %v", spec, err)
			}
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
	})
}
