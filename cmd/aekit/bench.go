package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/aekit/aekit/internal/benchrun"
	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/internal/kernel"
)

const benchSynopsis = `[--mode train|infer|all] [--model seed,ae784,deep] [--threads N[,N...]] [--reps R] [--peak] [flags]

Measures training and inference speed in-process: each case runs a warm-up,
then --reps timed repetitions, and prints the median, one line per case:

  bench train model=<seed|ae784|deep> threads=<n> batch=256 samples_per_s=<x>
  bench infer model=<seed|ae784|deep> threads=<n> batch=<1|256> samples_per_s=<x> latency_us=<x>

Models: seed 100-10-10-100-100, ae784 784-32-784, deep 784-128-64-32-64-128-784
(ReLU, sigmoid output, Glorot-uniform init). Training: Adam (Keras defaults),
binary cross-entropy, batch 256, shuffled, over --rows rows (Fashion-MNIST
from --data for the 784-wide models when present, else uniform random rows in
[0, 1]); a repetition times --rep-time worth of steps after two warm-up steps.
Inference: a runtime.Parallel (on --threads goroutines, one of them the
caller's) at batch 1 and 256.
By default training runs at 1 and 2 threads and inference at 1; --threads
sets both. The GEMM and element-wise kernels in use are printed on standard
error as a "# kernel:" line, followed by a "# note:" line when
OPENBLAS_CORETYPE holds OpenBLAS to kernels below what the CPU runs.

With --peak, bench first measures the limits of one core (for at least
0.3 s) and prints

  bench peak isa=<avx512|avx2> gflops=<x> clock_ghz=<x> fma_per_cycle=<x>
  bench sgemm impl=<name> m=<m> n=<n> k=<k> gflops=<x> peak_frac=<x>

(an FMA-bound loop at each vector width the CPU runs, the clock from a
chain of dependent additions, and the matrix products on a 1024² square and
on 256×784·784×128, median of --reps of --rep-time/4), and every case line ends with
gflops=<x> peak_frac=<x>: the FLOPs of the case's matrix products (2 per
multiply-add; a training step's forward, δ·Wᵀ and Xᵀ·δ products) per second
of the whole case, and their fraction of threads × the best peak. A
training case line then goes on with where its timed steps went:

  products_gflops=<x> products_peak_frac=<x> step_us=<x> data=<f> forward=<f> loss=<f> backward=<f> weights=<f> products=<f>

the products' own rate (their FLOPs per second spent inside them, per
thread) and its fraction of the best peak; the mean step in µs; the
fraction of the step's wall-clock time in reading the rows and re-packing
the weights, the forward pass, the loss, the backward pass (activations'
δ, δ·Wᵀ) and the weight gradients with the update; and the fraction of
the threads' time spent inside the products (train.StepTimes). It is
followed by a line per matrix product of the step, in the step's order:

  bench product model=<name> threads=<n> layer=<name> kind=<forward|backward|weights> m=<m> n=<n> k=<k> gflops=<x> peak_frac=<x> share=<f>

its Dense layer and kind (x·W, δ·Wᵀ or xᵀ·δ), its shape (an m×n result over
k), its rate per thread and fraction of the best peak, and its share of the
time spent in all the products.`

// benchFlags are the parsed flags of aekit bench.
type benchFlags struct {
	mode, models, threads, data, cpuprofile string
	reps, rows                              int
	repTime                                 time.Duration
	peak, asJSON                            bool
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", benchSynopsis, stderr)
	var f benchFlags
	fs.StringVar(&f.mode, "mode", "all", "`train`, infer or all")
	fs.StringVar(&f.models, "model", "seed,ae784,deep", "comma-separated `models` to run")
	fs.StringVar(&f.threads, "threads", "", "comma-separated thread `counts` (default: train 1,2; infer 1)")
	fs.IntVar(&f.reps, "reps", 5, "timed `repetitions` per case; the median is printed")
	fs.IntVar(&f.rows, "rows", 60000, "training `rows` (as Fashion-MNIST's training set)")
	fs.DurationVar(&f.repTime, "rep-time", 400*time.Millisecond, "`duration` of one repetition")
	fs.StringVar(&f.data, "data", "/usr/share/datasets/fashion-mnist", "Fashion-MNIST `folder` (IDX files); random rows when absent")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to `file` (go tool pprof)")
	fs.BoolVar(&f.asJSON, "json", false, "print each result line as a JSON object ({\"bench\": \"train\", \"model\": \"ae784\", ...}, numbers as numbers), one per line")
	fs.BoolVar(&f.peak, "peak", false, "measure the core's FMA peak and sgemm rates first, and add gflops= and peak_frac= to every case")
	if _, code, done := parseCommand(fs, args, 0, 0, stdout, stderr); done {
		return code
	}
	cfg, err := f.resolve()
	if err != nil {
		return fail(stderr, "bench", err)
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return fail(stderr, "bench", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fail(stderr, "bench", err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stderr, "# kernel: gemm %s; element-wise %s; packed %s\n", kernel.Variant(), kernel.VectorMath(), kernel.PackedVariant())
	if note := coreNote(); note != "" {
		fmt.Fprintln(stderr, note)
	}
	if f.asJSON {
		jw := &jsonLines{w: stdout}
		defer jw.Flush()
		stdout = jw
	}
	if err := runBench(cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "aekit bench: %s\n", errorLine(err))
		return exitMismatch
	}
	return exitOK
}

// coreNote returns the "# note:" line bench prints when OPENBLAS_CORETYPE,
// set in the environment (aekit honours it), has OpenBLAS run kernels below
// what this CPU supports, or "" otherwise.
func coreNote() string {
	v, ok := os.LookupEnv("OPENBLAS_CORETYPE")
	if !ok || !kernel.CoreBelowCPU() {
		return ""
	}
	return fmt.Sprintf("# note: OPENBLAS_CORETYPE=%s is set in the environment; this CPU runs OpenBLAS's %s kernels (unset it for faster GEMM)",
		v, kernel.PreferredCore())
}

// resolve checks f and returns the run it asks for.
func (f *benchFlags) resolve() (*benchrun.Config, error) {
	c := &benchrun.Config{Reps: f.reps, Rows: f.rows, RepTime: f.repTime, Data: f.data, Peak: f.peak,
		TrainThreads: []int{1, 2}, InferThreads: []int{1}}
	switch f.mode {
	case "all":
		c.Train, c.Infer = true, true
	case "train":
		c.Train = true
	case "infer":
		c.Infer = true
	default:
		return nil, fmt.Errorf("--mode %q: want train, infer or all", f.mode)
	}
	for _, name := range strings.Split(f.models, ",") {
		name = strings.TrimSpace(name)
		m, ok := benchset.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("--model %q: want %s", name, strings.Join(benchset.Names(), ", "))
		}
		c.Models = append(c.Models, m)
	}
	if f.threads != "" {
		var ts []int
		for _, s := range strings.Split(f.threads, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("--threads %q: want positive integers separated by commas", f.threads)
			}
			if err := checkThreads(n); err != nil {
				return nil, err
			}
			ts = append(ts, n)
		}
		c.TrainThreads, c.InferThreads = ts, ts
	}
	if c.Reps < 1 {
		return nil, fmt.Errorf("--reps %d: want at least 1", c.Reps)
	}
	if c.Rows < benchrun.TrainBatch {
		return nil, fmt.Errorf("--rows %d: want at least one batch of %d", c.Rows, benchrun.TrainBatch)
	}
	if c.RepTime <= 0 {
		return nil, fmt.Errorf("--rep-time %v: want a positive duration", c.RepTime)
	}
	return c, nil
}

// runBench runs c, printing each result as a line on stdout (see
// benchSynopsis) and each data set as a "# data:" line on stderr.
func runBench(c *benchrun.Config, stdout, stderr io.Writer) error {
	var werr error
	report := func(r benchrun.Result) {
		for _, line := range append([]string{benchLine(r, c.Peak)}, productLines(r)...) {
			if _, err := fmt.Fprintln(stdout, line); err != nil && werr == nil {
				werr = err
			}
		}
	}
	note := func(s string) { fmt.Fprintf(stderr, "# data: %s\n", s) }
	if err := benchrun.Run(c, report, note); err != nil {
		if errors.Is(err, benchrun.ErrNoPeak) {
			return fmt.Errorf("--peak: %w", err)
		}
		return err
	}
	return werr
}

// benchLine formats r as bench's output line; withFLOPs adds gflops= and
// peak_frac= to the case lines.
func benchLine(r benchrun.Result, withFLOPs bool) string {
	var s string
	switch r.Kind {
	case benchrun.KindPeak:
		return fmt.Sprintf("bench peak isa=%s gflops=%.1f clock_ghz=%.2f fma_per_cycle=%.2f", r.ISA, r.GFLOPS, r.ClockGHz, r.FMAPerCycle)
	case benchrun.KindSGEMM:
		return fmt.Sprintf("bench sgemm impl=%s m=%d n=%d k=%d gflops=%.1f peak_frac=%.3f", r.Impl, r.M, r.N, r.K, r.GFLOPS, r.PeakFrac)
	case benchrun.KindTrain:
		s = fmt.Sprintf("bench train model=%s threads=%d batch=%d samples_per_s=%.0f", r.Model, r.Threads, r.Batch, r.SamplesPerS)
	default:
		s = fmt.Sprintf("bench infer model=%s threads=%d batch=%d samples_per_s=%.0f latency_us=%.2f", r.Model, r.Threads, r.Batch, r.SamplesPerS, r.LatencyUS)
	}
	if withFLOPs {
		s += fmt.Sprintf(" gflops=%.2f peak_frac=%.3f", r.GFLOPS, r.PeakFrac)
	}
	if st := r.Steps; st != nil && st.Steps > 0 && st.Total > 0 {
		tot := st.Total.Seconds()
		s += fmt.Sprintf(" products_gflops=%.1f products_peak_frac=%.3f step_us=%.0f data=%.3f forward=%.3f loss=%.3f backward=%.3f weights=%.3f products=%.3f",
			st.ProductGFLOPS(), r.ProductPeakFrac, tot/float64(st.Steps)*1e6, st.Data.Seconds()/tot, st.Forward.Seconds()/tot,
			st.Loss.Seconds()/tot, st.Backward.Seconds()/tot, st.Weights.Seconds()/tot, st.Products.Seconds()/(tot*float64(r.Threads)))
	}
	return s
}

// productLines formats the products of a training case with step times
// (--peak) as bench's product lines, one per product in the order of the
// step: its layer, kind and shape, its rate per thread, its fraction of
// one core's best peak, and its share of the time in all the products.
func productLines(r benchrun.Result) []string {
	st := r.Steps
	if st == nil || st.Products <= 0 || r.ProductPeakFrac <= 0 {
		return nil
	}
	peak := st.ProductGFLOPS() / r.ProductPeakFrac
	var lines []string
	for i := range st.ByProduct {
		p := &st.ByProduct[i]
		lines = append(lines, fmt.Sprintf("bench product model=%s threads=%d layer=%s kind=%s m=%d n=%d k=%d gflops=%.1f peak_frac=%.3f share=%.3f",
			r.Model, r.Threads, p.Layer, p.Kind, p.M, p.N, p.K, p.GFLOPS(), p.GFLOPS()/peak, p.Time.Seconds()/st.Products.Seconds()))
	}
	return lines
}

// jsonLines turns the result lines of bench ("bench KIND key=value ...")
// into JSON objects, one per line: {"bench": KIND, "key": value, ...},
// values that parse as numbers written as numbers. It is the one place
// --json changes bench's output, so both forms always carry the same
// fields.
type jsonLines struct {
	w   io.Writer
	buf []byte
}

func (j *jsonLines) Write(p []byte) (int, error) {
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(j.buf[:i])
		j.buf = j.buf[i+1:]
		if err := j.line(line); err != nil {
			return len(p), err
		}
	}
}

// Flush writes a last line that has no newline.
func (j *jsonLines) Flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	line := string(j.buf)
	j.buf = nil
	return j.line(line)
}

func (j *jsonLines) line(line string) error {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "bench" {
		_, err := fmt.Fprintln(j.w, line)
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{%q:%q", "bench", f[1])
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			fmt.Fprintf(&b, ",%q:%s", k, strconv.FormatFloat(x, 'g', -1, 64))
		} else {
			fmt.Fprintf(&b, ",%q:%q", k, v)
		}
	}
	b.WriteString("}\n")
	_, err := j.w.Write(b.Bytes())
	return err
}
