// Package benchrun is `aekit bench`'s harness: it times training and
// inference of the benchmark models (internal/benchset) in-process and
// measures the core's FMA peak and matrix-product rates, handing each
// result to the caller, which prints it (cmd/aekit owns the flags and the
// output format).
package benchrun

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/internal/kernel"
	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// TrainBatch is the batch size of the training cases.
const TrainBatch = 256

// Config is what a run does.
type Config struct {
	// Train and Infer select the kinds of case.
	Train, Infer bool
	// Models are the models to time, in order.
	Models []benchset.Model
	// TrainThreads and InferThreads are the thread counts of each kind
	// of case (each at least 1).
	TrainThreads, InferThreads []int
	// Reps is the number of timed repetitions per case (the median is
	// reported), RepTime the duration of one.
	Reps    int
	RepTime time.Duration
	// Rows is the number of data rows (at least one batch of
	// TrainBatch).
	Rows int
	// Data is the Fashion-MNIST folder for the 784-wide models (see
	// benchset.Rows); "" for random rows.
	Data string
	// Peak measures the core's FMA peak and the matrix products first,
	// and adds GFLOPS and PeakFrac to every case.
	Peak bool
}

// The inference cases run at batch 1 and 256.

// Kind is the kind of a Result.
type Kind string

// The kinds of result, in the order Run reports them.
const (
	KindPeak  Kind = "peak"  // the FMA peak at one vector width
	KindSGEMM Kind = "sgemm" // a matrix product's rate
	KindTrain Kind = "train" // a training case
	KindInfer Kind = "infer" // an inference case
)

// Result is one measurement. Which fields are set depends on Kind.
type Result struct {
	Kind Kind
	// ISA ("avx512", "avx2"), the clock in GHz and FMAs per cycle
	// (KindPeak).
	ISA                   string
	ClockGHz, FMAPerCycle float64
	// Impl is the product implementation and M, N, K the shape of
	// C(M×N) = A(M×K)·B(K×N) (KindSGEMM).
	Impl    string
	M, N, K int
	// Model, Threads and Batch identify a case; SamplesPerS is its median
	// rate, LatencyUS the median microseconds per call (KindInfer).
	Model       string
	Threads     int
	Batch       int
	SamplesPerS float64
	LatencyUS   float64
	// GFLOPS is the rate of the products (KindPeak: the peak itself;
	// KindSGEMM; cases with Config.Peak: their products' FLOPs per second
	// of the whole case), PeakFrac its fraction of threads × the best
	// peak (KindSGEMM and cases with Config.Peak).
	GFLOPS, PeakFrac float64
	// Steps is where a training case's timed steps went, phase by phase,
	// and its products' own rate (KindTrain with Config.Peak; nil
	// otherwise); ProductPeakFrac is Steps.ProductGFLOPS() over one
	// core's best peak (the rate is per thread).
	Steps           *train.StepTimes
	ProductPeakFrac float64
}

// Run runs c's cases, peak first when c.Peak, then training, then
// inference, and passes each result to report as it is measured, and a
// description of each data set to note ("3000 rows of 784 values,
// Fashion-MNIST …") when it is made.
func Run(c *Config, report func(Result), note func(string)) error {
	datasets := map[int][]float32{}
	rows := func(width int) ([]float32, error) {
		if x, ok := datasets[width]; ok {
			return x, nil
		}
		x, src, err := benchset.Rows(c.Data, width, c.Rows)
		if err != nil {
			return nil, err
		}
		note(fmt.Sprintf("%d rows of %d values, %s", c.Rows, width, src))
		datasets[width] = x
		return x, nil
	}
	var peak float64 // GFLOP/s of one core; 0 without Peak
	if c.Peak {
		p, err := measurePeak(c, report)
		if err != nil {
			return err
		}
		peak = p
	}
	// withFLOPs adds the achieved rate of a case's products.
	withFLOPs := func(r Result, perSample float64) Result {
		if c.Peak {
			r.GFLOPS = r.SamplesPerS * perSample / 1e9
			r.PeakFrac = r.GFLOPS / (peak * float64(r.Threads))
		}
		return r
	}
	if c.Train {
		for _, s := range c.Models {
			x, err := rows(s.Width)
			if err != nil {
				return err
			}
			for _, t := range c.TrainThreads {
				var st *train.StepTimes
				if c.Peak {
					st = &train.StepTimes{}
				}
				sps, err := timeTrain(s, x, c.Rows, t, c.Reps, c.RepTime, st)
				if err != nil {
					return fmt.Errorf("train %s threads %d: %w", s.Name, t, err)
				}
				r := withFLOPs(Result{Kind: KindTrain, Model: s.Name, Threads: t, Batch: TrainBatch, SamplesPerS: sps}, s.TrainFLOPs())
				if st != nil {
					r.Steps, r.ProductPeakFrac = st, st.ProductGFLOPS()/peak
				}
				report(r)
			}
		}
	}
	if c.Infer {
		for _, s := range c.Models {
			x, err := rows(s.Width)
			if err != nil {
				return err
			}
			for _, t := range c.InferThreads {
				for _, b := range []int{1, 256} {
					sps, lat, err := timeInfer(s, x, c.Rows, t, b, c.Reps, c.RepTime)
					if err != nil {
						return fmt.Errorf("infer %s threads %d batch %d: %w", s.Name, t, b, err)
					}
					report(withFLOPs(Result{Kind: KindInfer, Model: s.Name, Threads: t, Batch: b, SamplesPerS: sps, LatencyUS: lat}, s.InferFLOPs()))
				}
			}
		}
	}
	return nil
}

// ErrNoPeak reports a CPU or build without FMA loops to measure the peak
// with.
var ErrNoPeak = errors.New("no FMA loop for this CPU or build (the purego tag, or not amd64 with AVX2 or AVX-512)")

// measurePeak measures and reports the core's FMA peak (one result per
// vector width the CPU runs) and the sgemm rates of Gemm (and of the other
// product implementations package kernel has), and returns the best peak
// in GFLOP/s.
func measurePeak(c *Config, report func(Result)) (float64, error) {
	p := kernel.MeasurePeak(max(time.Duration(c.Reps)*c.RepTime/2, 300*time.Millisecond))
	for _, w := range []struct {
		isa  string
		rate float64
		bits int
	}{{"avx512", p.AVX512, 512}, {"avx2", p.AVX2, 256}} {
		if w.rate > 0 {
			report(Result{Kind: KindPeak, ISA: w.isa, GFLOPS: w.rate, ClockGHz: p.ClockGHz, FMAPerCycle: p.FMAPerCycle(w.bits)})
		}
	}
	best := p.Best()
	if best <= 0 {
		return 0, ErrNoPeak
	}
	for _, sh := range [][3]int{{1024, 1024, 1024}, {256, 128, 784}} {
		for _, impl := range kernel.ProductImpls() {
			g := timeProduct(impl, sh[0], sh[1], sh[2], c.Reps, c.RepTime/4)
			report(Result{Kind: KindSGEMM, Impl: impl.Name, M: sh[0], N: sh[1], K: sh[2], GFLOPS: g, PeakFrac: g / best})
		}
	}
	return best, nil
}

// timeProduct returns the median over reps of the GFLOP/s of impl on
// C(m×n) = A(m×k)·B(k×n), each repetition calling it for about repTime.
func timeProduct(impl kernel.ProductImpl, m, n, k, reps int, repTime time.Duration) float64 {
	r := rand.New(rand.NewPCG(3, 4))
	a, b, cm := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = r.Float32()
	}
	for i := range b {
		b[i] = r.Float32() - 0.5
	}
	run := impl.Prepare(m, n, k, a, b, cm)
	run() // warm-up
	flop := 2 * float64(m) * float64(n) * float64(k)
	var rates []float64
	for range reps {
		calls, start := 0, time.Now()
		for ; calls < 2 || time.Since(start) < repTime; calls++ {
			run()
		}
		rates = append(rates, flop*float64(calls)/time.Since(start).Seconds()/1e9)
	}
	return median(rates)
}

// timeTrain returns the median over reps of training samples per second:
// each repetition is one train.Fit call over the shuffled rows, timed from
// the end of its second batch (warm-up) to the end of the last one; the
// number of batches is sized from the warm-up repetition to take about
// repTime. When times is not nil, the timed repetitions' timed batches
// are added to it phase by phase (train.Config.Times).
func timeTrain(s benchset.Model, x []float32, n, threads, reps int, repTime time.Duration, times *train.StepTimes) (float64, error) {
	m, err := build(s)
	if err != nil {
		return 0, err
	}
	opt, err := train.ParseOptimizer("adam", 0.001)
	if err != nil {
		return 0, err
	}
	loss, err := train.ParseLoss("binary_crossentropy")
	if err != nil {
		return 0, err
	}
	const batch, warm = TrainBatch, 2
	maxBatches := n / batch
	steps := min(8, maxBatches-warm) // warm-up repetition
	if steps < 1 {
		return 0, fmt.Errorf("%d rows is too few for %d warm-up batches", n, warm)
	}
	var rates []float64
	for rep := -1; rep < reps; rep++ {
		ctx, cancel := context.WithCancel(context.Background())
		var start time.Time
		var elapsed time.Duration
		var st train.StepTimes // this repetition's batches after the warm-up
		cfg := train.Config{Optimizer: opt, Loss: loss, Epochs: 1, BatchSize: batch,
			Seed: uint64(rep + 2), Threads: threads,
			OnBatch: func(b train.BatchLog) {
				switch b.Batch + 1 {
				case warm:
					st = train.StepTimes{}
					start = time.Now()
				case warm + steps:
					elapsed = time.Since(start)
					cancel()
				}
			}}
		if times != nil {
			cfg.Times = &st
		}
		_, err := train.Fit(ctx, m, train.XY(x[:n*m.InputWidth()], m.InputWidth(), nil, 0), train.Set{}, cfg)
		cancel()
		if err != nil && !errors.Is(err, train.ErrInterrupted) {
			return 0, err
		}
		if elapsed <= 0 {
			return 0, fmt.Errorf("training ended before %d timed batches", steps)
		}
		rate := float64(steps*batch) / elapsed.Seconds()
		if rep < 0 {
			// Size the timed repetitions from the warm-up one.
			steps = max(1, min(maxBatches-warm, int(rate*repTime.Seconds()/batch)))
			continue
		}
		rates = append(rates, rate)
		if times != nil {
			times.Add(&st)
		}
	}
	return median(rates), nil
}

// timeInfer returns the medians over reps of samples per second and of
// microseconds per call of Predict at the given batch size, each
// repetition calling it for about repTime after a warm-up.
func timeInfer(s benchset.Model, x []float32, n, threads, batch, reps int, repTime time.Duration) (sps, latency float64, err error) {
	m, err := build(s)
	if err != nil {
		return 0, 0, err
	}
	// A Parallel at every thread count, as a server holds one per model:
	// it packs the weights once and, unlike Model.Predict, does not
	// compare them with the model's on every call (see runtime.Parallel).
	p := aert.NewParallel(m, threads)
	defer p.Close()
	predict := p.Predict
	w := s.Width
	dst := make([]float32, batch*m.OutputWidth())
	chunks := n / batch
	call := func(i int) error {
		off := (i % chunks) * batch * w
		_, err := predict(dst, x[off:off+batch*w])
		return err
	}
	// Warm-up: fill the scratch buffers and size the repetitions.
	calls, t0 := 0, time.Now()
	for ; calls < 3 || time.Since(t0) < repTime/4; calls++ {
		if err := call(calls); err != nil {
			return 0, 0, err
		}
	}
	perRep := max(1, int(float64(calls)/time.Since(t0).Seconds()*repTime.Seconds()))
	var rates, lats []float64
	for range reps {
		start := time.Now()
		for i := range perRep {
			if err := call(i); err != nil {
				return 0, 0, err
			}
		}
		el := time.Since(start).Seconds()
		rates = append(rates, float64(perRep*batch)/el)
		lats = append(lats, el/float64(perRep)*1e6)
	}
	return median(rates), median(lats), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// build makes s's model with Keras's default initialiser, seed 1.
func build(s benchset.Model) (*aert.Model, error) {
	a, err := train.ParseArch(s.Layers)
	if err != nil {
		return nil, fmt.Errorf("benchmark model %s: %w", s.Name, err)
	}
	return train.Build(s.Width, a, train.GlorotUniform, 1)
}
