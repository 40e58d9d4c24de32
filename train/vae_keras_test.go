package train

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/runtime"
)

// kerasOrder returns the values of a VAE's Dense layers in the order of
// the Keras example's encoder.weights + decoder.weights: hidden kernels and
// biases, z_mean, z_log_var (the halves of the z layer), then the
// decoder's. kb gives a layer's kernel and bias (weights or gradients).
func kerasOrder(v *VAE, kb func(l *runtime.Layer) (k, b []float32)) []float32 {
	var out []float32
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		m.Walk(func(_ []string, l *runtime.Layer) {
			if l.Type != runtime.Dense {
				return
			}
			k, b := kb(l)
			if l.Name != ZLayerName {
				out = append(append(out, k...), b...)
				return
			}
			L := v.Latent
			for h := range 2 {
				for i := range l.In {
					out = append(out, k[i*l.Units+h*L:i*l.Units+(h+1)*L]...)
				}
				out = append(out, b[h*L:(h+1)*L]...)
			}
		})
	}
	return out
}

func writeF32(t *testing.T, name string, v []float32) {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestKerasVAE runs the Dense VAE of the Keras examples
// (fixtures/train/keras_vae.py) in real Keras 3 and in FitVAE from the
// same initial weights on the first 4000 shipped Fashion-MNIST rows, rows
// in data order (Keras 3 with a global seed repeats one shuffled order
// every epoch, which aekit does not reproduce): the loss parts and every
// gradient at fixed ε agree within 1e-5 relative; with the same ε for
// every update the first epoch's losses within 1e-4 and the final (30th)
// epoch's reconstruction and KL losses within 2% (the tolerance).
// Runs with ε from each one's own generator are logged, not asserted:
// Keras's own runs differ from each other by more than 2%.
func TestKerasVAE(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a VAE in Keras (about a minute); skipped with -short")
	}
	py := interop.Python(t, "keras", "tensorflow")
	const (
		width, latent    = 784, 2
		rows, gradRows   = 4000, 64
		epochs, batch    = 30, 128
		seed             = 1
		runs             = 3
		encSpec, decSpec = "512:relu", "512:relu,784:sigmoid"
	)
	v, err := BuildVAE(width, MustParseVAE(t, encSpec+"|2:vae|"+decSpec), "", seed)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeF32(t, filepath.Join(dir, "init.bin"), kerasOrder(v, func(l *runtime.Layer) ([]float32, []float32) { return l.Kernel, l.Bias }))
	r := rand.New(rand.NewPCG(seed, 99))
	eps := make([]float32, gradRows*latent)
	for i := range eps {
		eps[i] = float32(r.NormFloat64())
	}
	writeF32(t, filepath.Join(dir, "eps.bin"), eps)
	steps := epochs * ((rows + batch - 1) / batch)
	table := make([]float32, steps*batch*latent)
	for i := range table {
		table[i] = float32(r.NormFloat64())
	}
	writeF32(t, filepath.Join(dir, "table.bin"), table)
	spec := map[string]any{
		"width": width, "encoder": [][]any{{512, "relu"}}, "latent": latent,
		"decoder": [][]any{{512, "relu"}, {784, "sigmoid"}},
		"weights": "init.bin", "rows": rows, "grad_rows": gradRows, "eps": "eps.bin",
		"epochs": epochs, "batch_size": batch, "seed": seed, "shuffle": false, "eps_table": "table.bin", "runs": runs,
	}
	sb, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(dir, "spec.json"), sb, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	interop.Run(t, py, filepath.Join("..", "fixtures", "train", "keras_vae.py"), filepath.Join(dir, "spec.json"), out)
	var res struct {
		Grad    map[string]float64
		History map[string][]float64
		Table   map[string][]float64 `json:"table_history"`
		Runs    []map[string][]float64
		Seconds float64
		Keras   string
	}
	rb, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rb, &res); err != nil {
		t.Fatal(err)
	}
	x := readF32(t, filepath.Join(out, "x.bin"))
	if len(x) != rows*width {
		t.Fatalf("x.bin: %d values, want %d", len(x), rows*width)
	}

	// The loss and gradients at fixed ε.
	cfg := DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.NoShuffle = epochs, batch, seed, true
	vr, err := newVAERun(v, cfg.withDefaults(), gradRows)
	if err != nil {
		t.Fatal(err)
	}
	vr.fixedEps = eps
	recon, kl, err := vr.step(Slice(x[:gradRows*width], width), nil, 0, gradRows, true, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"reconstruction_loss", recon, res.Grad["reconstruction_loss"]}, {"kl_loss", kl, res.Grad["kl_loss"]}} {
		if e := math.Abs(c.got-c.want) / math.Abs(c.want); e > 1e-5 {
			t.Errorf("%s at fixed ε: %g, Keras %g (relative %.2g)", c.name, c.got, c.want, e)
		} else {
			t.Logf("%s at fixed ε: %g, Keras %g (relative %.2g)", c.name, c.got, c.want, e)
		}
	}
	// Each net's gradients, per op, in the Keras order.
	grad := map[*runtime.Layer][2][]float32{}
	for _, nt := range []*net{vr.enc, vr.dec} {
		for _, o := range nt.ops {
			if o.dense {
				grad[o.layer] = [2][]float32{o.dw, o.db}
			}
		}
	}
	got := kerasOrder(v, func(l *runtime.Layer) ([]float32, []float32) { g := grad[l]; return g[0], g[1] })
	want := readF32(t, filepath.Join(out, "grads.bin"))
	vr.close()
	if len(got) != len(want) {
		t.Fatalf("%d gradients, Keras %d", len(got), len(want))
	}
	// Per tensor: max |Δ| / max |g|.
	var shapes []int
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		m.Walk(func(_ []string, l *runtime.Layer) {
			if l.Type != runtime.Dense {
				return
			}
			if l.Name == ZLayerName {
				shapes = append(shapes, l.In*latent, latent, l.In*latent, latent)
			} else {
				shapes = append(shapes, len(l.Kernel), len(l.Bias))
			}
		})
	}
	off, worst := 0, 0.0
	for i, n := range shapes {
		var d, m float64
		for j := off; j < off+n; j++ {
			d = max(d, math.Abs(float64(got[j]-want[j])))
			m = max(m, math.Abs(float64(want[j])))
		}
		if e := d / m; e > 1e-5 {
			t.Errorf("gradient tensor %d (%d values): max |Δ| %g, max |g| %g (relative %.2g)", i, n, d, m, e)
		} else {
			worst = max(worst, e)
		}
		off += n
	}
	t.Logf("gradients: worst per-tensor relative difference %.2g", worst)

	init := kerasOrder(v, func(l *runtime.Layer) ([]float32, []float32) { return l.Kernel, l.Bias })

	// Training with the same ε as Keras (rows in data order): the same
	// trajectory, up to rounding.
	vt, err := BuildVAE(width, MustParseVAE(t, encSpec+"|2:vae|"+decSpec), "", seed)
	if err != nil {
		t.Fatal(err)
	}
	if got := kerasOrder(vt, func(l *runtime.Layer) ([]float32, []float32) { return l.Kernel, l.Bias }); !equalF32(got, init) {
		t.Fatal("BuildVAE with the same seed gave other weights")
	}
	ht, err := FitVAE(context.Background(), vt, Set{X: Slice(x, width)}, VAEConfig{Config: cfg, eps: func(iter int64, e []float32) {
		copy(e, table[int(iter)*batch*latent:])
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Table["kl_loss"]) != epochs || len(res.Table["reconstruction_loss"]) != epochs {
		t.Fatalf("Keras history with the ε table %v: want %d epochs", res.Table, epochs)
	}
	var worstT [2]float64
	for e := range epochs {
		for i, c := range []struct{ got, want float64 }{{ht.Reconstruction[e], res.Table["reconstruction_loss"][e]}, {ht.KL[e], res.Table["kl_loss"][e]}} {
			d := math.Abs(c.got-c.want) / c.want
			worstT[i] = max(worstT[i], d)
			// The first epoch's 32 updates stay close (measured 5e-6);
			// rounding differences then grow, as in any chaotic
			// trajectory (measured up to 1.8% in some epoch); the final
			// epoch's losses are the test: within 2% (measured
			// 0.1% and 0.7%).
			if (e == 0 && d > 1e-4) || (e == epochs-1 && d > 0.02) {
				t.Errorf("same ε, epoch %d: %s %g, Keras %g (relative %.2g)", e+1, []string{"reconstruction", "KL"}[i], c.got, c.want, d)
			}
		}
		t.Logf("same ε, epoch %2d: reconstruction %.4f (Keras %.4f), KL %.4f (Keras %.4f)", e+1, ht.Reconstruction[e], res.Table["reconstruction_loss"][e], ht.KL[e], res.Table["kl_loss"][e])
	}
	t.Logf("same ε: per epoch, reconstruction within %.2g, KL within %.2g of Keras's (final: %.4f/%.4f, Keras %.4f/%.4f)",
		worstT[0], worstT[1], ht.Reconstruction[epochs-1], ht.KL[epochs-1], res.Table["reconstruction_loss"][epochs-1], res.Table["kl_loss"][epochs-1])

	// Training with ε from aekit's generators and Keras's: logged.
	if len(res.Runs) != runs {
		t.Fatalf("Keras ran %d fits, want %d", len(res.Runs), runs)
	}
	var mean [4]float64 // aekit reconstruction, KL; Keras reconstruction, KL
	for i := range runs {
		v, err := BuildVAE(width, MustParseVAE(t, encSpec+"|2:vae|"+decSpec), "", seed)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Seed = uint64(seed + i)
		h, err := FitVAE(context.Background(), v, Set{X: Slice(x, width)}, VAEConfig{Config: c})
		if err != nil {
			t.Fatal(err)
		}
		kr, kk := res.Runs[i]["reconstruction_loss"], res.Runs[i]["kl_loss"]
		if len(kr) != epochs || len(kk) != epochs || len(res.Runs[i]["loss"]) != epochs {
			t.Fatalf("Keras history %v: want %d epochs", res.Runs[i], epochs)
		}
		if i == 0 {
			for e := range epochs {
				t.Logf("run 1, epoch %2d: reconstruction %.3f (Keras %.3f), KL %.4f (Keras %.4f)", e+1, h.Reconstruction[e], kr[e], h.KL[e], kk[e])
			}
			var secs float64
			for _, s := range h.Seconds {
				secs += s
			}
			t.Logf("wall time of %d epochs: aekit %.2f s, Keras %s %.2f s", epochs, secs, res.Keras, res.Seconds)
		}
		t.Logf("run %d: final reconstruction %.3f (Keras %.3f), KL %.4f (Keras %.4f)", i+1, h.Reconstruction[epochs-1], kr[epochs-1], h.KL[epochs-1], kk[epochs-1])
		mean[0] += h.Reconstruction[epochs-1] / runs
		mean[1] += h.KL[epochs-1] / runs
		mean[2] += kr[epochs-1] / runs
		mean[3] += kk[epochs-1] / runs
	}
	// Not asserted: a run ends in one of two states (reconstruction ≈263.5
	// and KL ≈6.6–6.8, or ≈266.5 and ≈6.1–6.3), in Keras as in aekit, so
	// Keras's own runs from the same weights differ by up to 10% in KL
	// (measured: 6.58, 6.09, 6.20 here); the 2% test is the same-ε run
	// above.
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"reconstruction_loss", mean[0], mean[2]}, {"kl_loss", mean[1], mean[3]}} {
		t.Logf("final %s, mean of %d runs with independent ε: %g, Keras %g (relative %.3g)", c.name, runs, c.got, c.want, math.Abs(c.got-c.want)/c.want)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
