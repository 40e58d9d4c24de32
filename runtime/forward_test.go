package runtime_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/runtime"
)

// benchModel is one of the autoencoders: widths from input to
// output, ReLU inside and sigmoid at the end.
type benchModel struct {
	name   string
	widths []int
}

// benchModels are the benchmark models' shapes (internal/benchset).
var benchModels = func() []benchModel {
	var bm []benchModel
	for _, m := range benchset.All() {
		bm = append(bm, benchModel{m.Name, m.Widths()})
	}
	return bm
}()

// autoencoder builds bm with Glorot-uniform weights and small random
// biases, the encoder and decoder as sub-models as package train builds
// them.
func autoencoder(bm benchModel, seed uint64) *runtime.Model {
	r := rand.New(rand.NewPCG(seed, 7))
	narrow := 1
	for i, w := range bm.widths {
		if i > 0 && w < bm.widths[narrow] {
			narrow = i
		}
	}
	var enc, dec []*runtime.Layer
	for i := 1; i < len(bm.widths); i++ {
		in, out := bm.widths[i-1], bm.widths[i]
		l := &runtime.Layer{Name: fmt.Sprintf("dense_%d", i), Type: runtime.Dense, In: in, Units: out,
			Kernel: make([]float32, in*out), Bias: make([]float32, out), Act: runtime.Act(runtime.ReLU)}
		if i == len(bm.widths)-1 {
			l.Act = runtime.Act(runtime.Sigmoid)
		}
		lim := float32(math.Sqrt(6 / float64(in+out)))
		for j := range l.Kernel {
			l.Kernel[j] = (2*r.Float32() - 1) * lim
		}
		for j := range l.Bias {
			l.Bias[j] = 0.1 * (2*r.Float32() - 1)
		}
		if i <= narrow {
			enc = append(enc, l)
		} else {
			dec = append(dec, l)
		}
	}
	w := bm.widths
	return &runtime.Model{Name: "autoencoder", Input: []int{w[0]}, Layers: []*runtime.Layer{
		{Name: "encoder", Type: runtime.SubModel, Sub: &runtime.Model{Name: "encoder", Input: []int{w[0]}, Layers: enc}},
		{Name: "decoder", Type: runtime.SubModel, Sub: &runtime.Model{Name: "decoder", Input: []int{w[narrow]}, Layers: dec}},
	}}
}

func randRows(r *rand.Rand, n, w int) []float32 {
	x := make([]float32, n*w)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// TestPredictMatchesReference checks the forward pass of the benchmark
// models against the float64 reference within the suite's tolerances
// (1e-6 absolute + 1e-5 relative), at batch 1 and 256, through Predict and
// through Parallel.
func TestPredictMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, bm := range benchModels {
		m := autoencoder(bm, 1)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		p := runtime.NewParallel(m, 3)
		defer p.Close()
		for _, n := range []int{1, 256} {
			x := randRows(r, n, m.InputWidth())
			want := conformance.Reference(m, x, n)
			got, err := m.Predict(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			if err := conformance.Compare(got, want, 0, 0); err != nil {
				t.Errorf("%s batch %d: Predict: %v", bm.name, n, err)
			}
			got, err = p.Predict(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			if err := conformance.Compare(got, want, 0, 0); err != nil {
				t.Errorf("%s batch %d: Parallel.Predict: %v", bm.name, n, err)
			}
		}
	}
}

// TestParallelMatchesPredict checks that splitting a batch over goroutines
// gives the outputs of the single-threaded pass within 1e-6 relative
// (1e-7 absolute): OpenBLAS may round a row differently in a product with
// fewer rows. It covers batch sizes that split evenly and unevenly, and a
// Parallel after Close, which must be bitwise Predict.
func TestParallelMatchesPredict(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, bm := range benchModels {
		m := autoencoder(bm, 2)
		for _, threads := range []int{2, 3} {
			p := runtime.NewParallel(m, threads)
			for _, n := range []int{1, 17, 255, 256, 1000} {
				x := randRows(r, n, m.InputWidth())
				want, _ := m.Predict(nil, x)
				got, err := p.Predict(nil, x)
				if err != nil {
					t.Fatal(err)
				}
				if err := conformance.Compare(got, want, 1e-7, 1e-6); err != nil {
					t.Fatalf("%s threads %d batch %d: Parallel against Predict: %v", bm.name, threads, n, err)
				}
			}
			p.Close()
			p.Close()
			x := randRows(r, 64, m.InputWidth())
			want, _ := m.Predict(nil, x)
			got, _ := p.Predict(nil, x)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s after Close: value %d: %v, want %v", bm.name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestParallelSplitsColumns checks that Parallel's single samples, whose
// large Dense layers it splits into blocks of columns among its
// goroutines, give Model.Predict's outputs bit for bit: the benchmark
// models, and a model of odd widths with element-wise activations (tanh,
// sigmoid, GELU), a layer without bias and a Softmax layer (never split),
// and a sigmoid layer with inputs out of vmath's range, at 2 and 3
// goroutines.
func TestParallelSplitsColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	dense := func(name string, in, out int, act runtime.Activation, bias bool) *runtime.Layer {
		l := &runtime.Layer{Name: name, Type: runtime.Dense, In: in, Units: out, Kernel: randRows(r, in, out), Act: act}
		for i := range l.Kernel {
			l.Kernel[i] -= 0.5
		}
		if bias {
			l.Bias = randRows(r, 1, out)
		}
		return l
	}
	odd := &runtime.Model{Name: "odd", Input: []int{300}, Layers: []*runtime.Layer{
		dense("d1", 300, 333, runtime.Act(runtime.Tanh), true),
		dense("d2", 333, 517, runtime.Act(runtime.GELU), false),
		dense("d3", 517, 260, runtime.Act(runtime.Softmax), true),
		dense("d4", 260, 781, runtime.Act(runtime.Sigmoid), true),
	}}
	// Sigmoid inputs beyond ±87 in some blocks of 8: vmath computes such
	// a block in float64, so the blocks must fall alike in every split.
	big := &runtime.Model{Name: "big", Input: []int{300}, Layers: []*runtime.Layer{
		dense("b1", 300, 781, runtime.Act(runtime.Sigmoid), true),
	}}
	for i := range big.Layers[0].Kernel {
		big.Layers[0].Kernel[i] *= 30
	}
	if out, _ := big.Predict(nil, randRows(r, 1, 300)); !slices.Contains(out, 0) && !slices.Contains(out, 1) {
		t.Fatal("the big model's sigmoid inputs stay within its vector range: the case tests nothing")
	}
	models := []*runtime.Model{odd, big}
	for _, bm := range benchModels {
		models = append(models, autoencoder(bm, 8))
	}
	for _, m := range models {
		for _, threads := range []int{2, 3} {
			p := runtime.NewParallel(m, threads)
			for range 3 {
				x := randRows(r, 1, m.InputWidth())
				want, err := m.Predict(nil, x)
				if err != nil {
					t.Fatal(err)
				}
				got, err := p.Predict(nil, x)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s threads %d: output %d is %v, Predict gives %v", m.Name, threads, i, got[i], want[i])
					}
				}
			}
			p.Close()
		}
	}
}

// TestPredictOneRowMatchesPacked checks that, where package kernel has its
// assembly kernels, a single sample (kernel.GemmRow) gets the bits it gets
// inside a packed batch of 256 (kernel.GemmPacked): both sum each output as
// one chain of fused multiply-adds over the layer's inputs, then add the
// bias and apply the activation the same way.
func TestPredictOneRowMatchesPacked(t *testing.T) {
	if !kernel.PackedAsm() || !kernel.RowAsm() {
		t.Skip("no assembly kernels here: a single sample runs on Gemm (OpenBLAS or gonum)")
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, bm := range benchModels {
		m := autoencoder(bm, 4)
		x := randRows(r, 256, m.InputWidth())
		all, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		w, out := m.InputWidth(), m.OutputWidth()
		for _, i := range []int{0, 77, 255} {
			one, err := m.Predict(nil, x[i*w:(i+1)*w])
			if err != nil {
				t.Fatal(err)
			}
			for j, v := range one {
				if math.Float32bits(v) != math.Float32bits(all[i*out+j]) {
					t.Fatalf("%s row %d: output %d alone is %v, in the batch %v", bm.name, i, j, v, all[i*out+j])
				}
			}
		}
	}
}

// TestPredictNoAllocs checks that a warm Predict, and a warm
// Parallel.Predict, allocate nothing when dst has room, at batch 1 and 256.
// Predict's check is skipped under -race, where sync.Pool drops the
// workspace at random by design.
func TestPredictNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, bm := range benchModels {
		m := autoencoder(bm, 3)
		p := runtime.NewParallel(m, 2)
		defer p.Close()
		for _, n := range []int{1, 16, 32, 64, 128, 256} {
			x := randRows(r, n, m.InputWidth())
			dst := make([]float32, n*m.OutputWidth())
			if a := testing.AllocsPerRun(20, func() { _, _ = m.Predict(dst, x) }); a != 0 && !raceEnabled {
				t.Errorf("%s batch %d: Predict allocates %v times per call", bm.name, n, a)
			}
			if a := testing.AllocsPerRun(20, func() { _, _ = p.Predict(dst, x) }); a != 0 {
				t.Errorf("%s batch %d: Parallel.Predict allocates %v times per call", bm.name, n, a)
			}
		}
	}
}

// TestPredictConcurrent runs Predict, and one shared Parallel, from several
// goroutines at once, each checking its outputs bitwise against the same
// call made beforehand from one goroutine; run it with -race.
func TestPredictConcurrent(t *testing.T) {
	m := autoencoder(benchModels[1], 4)
	p := runtime.NewParallel(m, 2)
	defer p.Close()
	r := rand.New(rand.NewPCG(6, 6))
	const workers = 6
	xs := make([][]float32, workers)
	wants := make([][2][]float32, workers) // from Predict and from p
	for i := range xs {
		n := []int{1, 32, 256}[i%3]
		xs[i] = randRows(r, n, m.InputWidth())
		wants[i][0], _ = m.Predict(nil, xs[i])
		wants[i][1], _ = p.Predict(nil, xs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []float32
			for it := range 20 {
				var err error
				if it%2 == 0 {
					dst, err = m.Predict(dst, xs[i])
				} else {
					dst, err = p.Predict(dst, xs[i])
				}
				if err != nil {
					errs <- err
					return
				}
				for j, v := range wants[i][it%2] {
					if dst[j] != v {
						errs <- fmt.Errorf("goroutine %d iteration %d: value %d is %v, want %v", i, it, j, dst[j], v)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPredictShapeError checks that a ragged input is refused by both
// entry points.
func TestPredictShapeError(t *testing.T) {
	m := autoencoder(benchModels[0], 5)
	p := runtime.NewParallel(m, 2)
	defer p.Close()
	if _, err := m.Predict(nil, make([]float32, 150)); err == nil {
		t.Error("Predict accepted 150 values for width 100")
	}
	if _, err := p.Predict(nil, make([]float32, 150)); err == nil {
		t.Error("Parallel.Predict accepted 150 values for width 100")
	}
}

// BenchmarkPredict times the forward pass of the models at batch
// 1, 16, 32, 64, 128 and 256 on one goroutine (Predict) and on two
// (Parallel, which keeps batches under parallelMinMACs per goroutine on
// the caller's, and cuts a single sample's large layers into blocks of
// columns), reporting samples per second.
func BenchmarkPredict(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, bm := range benchModels {
		m := autoencoder(bm, 6)
		for _, n := range []int{1, 16, 32, 64, 128, 256} {
			x := randRows(r, n, m.InputWidth())
			dst := make([]float32, n*m.OutputWidth())
			b.Run(fmt.Sprintf("%s/batch=%d", bm.name, n), func(b *testing.B) {
				for b.Loop() {
					_, _ = m.Predict(dst, x)
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
			})
			b.Run(fmt.Sprintf("%s/batch=%d/threads=2", bm.name, n), func(b *testing.B) {
				p := runtime.NewParallel(m, 2)
				defer p.Close()
				for b.Loop() {
					_, _ = p.Predict(dst, x)
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

// TestPredictInPlace checks that Predict with dst the same slice as x (a
// model as wide out as in) gives the outputs it gives into a separate
// buffer: the last Dense layer writes into dst directly, but not when it
// reads x itself. Cases: nested sub-models, a Reshape after the last
// Dense, and a single Dense layer.
func TestPredictInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	dense := func(name string, in, out int) *runtime.Layer {
		l := &runtime.Layer{Name: name, Type: runtime.Dense, In: in, Units: out,
			Kernel: randRows(r, in, out), Bias: randRows(r, 1, out), Act: runtime.Act(runtime.Tanh)}
		return l
	}
	models := map[string]*runtime.Model{
		"seed nested": autoencoder(benchModels[0], 1),
		"reshape tail": {Name: "m", Input: []int{12}, Layers: []*runtime.Layer{
			dense("d1", 12, 5), dense("d2", 5, 12), {Name: "r", Type: runtime.Reshape, Shape: []int{3, 4}}}},
		"single dense": {Name: "m", Input: []int{12}, Layers: []*runtime.Layer{dense("d1", 12, 12)}},
	}
	for name, m := range models {
		for _, n := range []int{1, 7} {
			x := randRows(r, n, m.InputWidth())
			want, err := m.Predict(nil, x)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := m.Predict(x, x)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d: in-place output %d is %v, want %v", name, n, i, got[i], want[i])
				}
			}
		}
	}
}
