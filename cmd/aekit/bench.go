package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/internal/kernel"
	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
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
of the whole case, and their fraction of threads × the best peak.`

// benchSpec is one of the models.
type benchSpec struct {
	name  string
	width int
	spec  string // train.Build layers
}

var benchSpecs = []benchSpec{
	{"seed", 100, "10:relu,10:relu|100:sigmoid,100:sigmoid"},
	{"ae784", 784, "32:relu|784:sigmoid"},
	{"deep", 784, "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid"},
}

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
		fmt.Fprintf(stderr, "aekit bench: %v\n", err)
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

// benchConfig is what a bench run does.
type benchConfig struct {
	train, infer               bool
	models                     []benchSpec
	trainThreads, inferThreads []int
	reps, rows                 int
	repTime                    time.Duration
	data                       string
	peak                       bool
}

func (f *benchFlags) resolve() (*benchConfig, error) {
	c := &benchConfig{reps: f.reps, rows: f.rows, repTime: f.repTime, data: f.data, peak: f.peak,
		trainThreads: []int{1, 2}, inferThreads: []int{1}}
	switch f.mode {
	case "all":
		c.train, c.infer = true, true
	case "train":
		c.train = true
	case "infer":
		c.infer = true
	default:
		return nil, fmt.Errorf("--mode %q: want train, infer or all", f.mode)
	}
	for _, name := range strings.Split(f.models, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(benchSpecs, func(s benchSpec) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("--model %q: want seed, ae784 or deep", name)
		}
		c.models = append(c.models, benchSpecs[i])
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
		c.trainThreads, c.inferThreads = ts, ts
	}
	if c.reps < 1 {
		return nil, fmt.Errorf("--reps %d: want at least 1", c.reps)
	}
	if c.rows < 256 {
		return nil, fmt.Errorf("--rows %d: want at least one batch of 256", c.rows)
	}
	if c.repTime <= 0 {
		return nil, fmt.Errorf("--rep-time %v: want a positive duration", c.repTime)
	}
	return c, nil
}

func runBench(c *benchConfig, stdout, stderr io.Writer) error {
	datasets := map[int][]float32{}
	rows := func(width int) ([]float32, error) {
		if x, ok := datasets[width]; ok {
			return x, nil
		}
		x, src, err := benchData(c.data, width, c.rows)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "# data: %d rows of %d values, %s\n", c.rows, width, src)
		datasets[width] = x
		return x, nil
	}
	var peak float64 // GFLOP/s of one core; 0 without --peak
	if c.peak {
		p, err := benchPeak(c, stdout)
		if err != nil {
			return err
		}
		peak = p
	}
	// flops appends the achieved rate of a case's products to its line.
	flops := func(sps, perSample float64, threads int) string {
		if !c.peak {
			return ""
		}
		g := sps * perSample / 1e9
		return fmt.Sprintf(" gflops=%.2f peak_frac=%.3f", g, g/(peak*float64(threads)))
	}
	if c.train {
		for _, s := range c.models {
			x, err := rows(s.width)
			if err != nil {
				return err
			}
			for _, t := range c.trainThreads {
				sps, err := benchTrain(s, x, c.rows, t, c.reps, c.repTime)
				if err != nil {
					return fmt.Errorf("train %s threads %d: %w", s.name, t, err)
				}
				fmt.Fprintf(stdout, "bench train model=%s threads=%d batch=256 samples_per_s=%.0f%s\n", s.name, t, sps,
					flops(sps, s.trainFLOPs(), t))
			}
		}
	}
	if c.infer {
		for _, s := range c.models {
			x, err := rows(s.width)
			if err != nil {
				return err
			}
			for _, t := range c.inferThreads {
				for _, b := range []int{1, 256} {
					sps, lat, err := benchInfer(s, x, c.rows, t, b, c.reps, c.repTime)
					if err != nil {
						return fmt.Errorf("infer %s threads %d batch %d: %w", s.name, t, b, err)
					}
					fmt.Fprintf(stdout, "bench infer model=%s threads=%d batch=%d samples_per_s=%.0f latency_us=%.2f%s\n", s.name, t, b, sps, lat,
						flops(sps, s.inferFLOPs(), t))
				}
			}
		}
	}
	return nil
}

// widths returns the spec's layer widths, input first.
func (s benchSpec) widths() []int {
	w := []int{s.width}
	for _, part := range strings.FieldsFunc(s.spec, func(r rune) bool { return r == ',' || r == '|' }) {
		n, _ := strconv.Atoi(strings.SplitN(part, ":", 2)[0])
		w = append(w, n)
	}
	return w
}

// inferFLOPs returns the FLOPs of one sample's forward products: 2 per
// multiply-add of every Dense layer.
func (s benchSpec) inferFLOPs() float64 {
	w := s.widths()
	var macs int
	for i := 1; i < len(w); i++ {
		macs += w[i-1] * w[i]
	}
	return 2 * float64(macs)
}

// trainFLOPs returns the FLOPs of one sample's products in a training
// step: the forward X·W, the weight gradients Xᵀ·δ and the input
// gradients δ·Wᵀ of every layer but the first (the trainer skips that
// one); the bias gradients are left out (one multiply-add per output).
func (s benchSpec) trainFLOPs() float64 {
	w := s.widths()
	return 3*s.inferFLOPs() - 2*float64(w[0]*w[1])
}

// benchPeak measures and prints the core's FMA peak (one line per vector
// width the CPU runs) and the sgemm rates of Gemm (and of the other
// product implementations package kernel has), and returns the best peak
// in GFLOP/s.
func benchPeak(c *benchConfig, stdout io.Writer) (float64, error) {
	p := kernel.MeasurePeak(max(time.Duration(c.reps)*c.repTime/2, 300*time.Millisecond))
	for _, w := range []struct {
		isa  string
		rate float64
		bits int
	}{{"avx512", p.AVX512, 512}, {"avx2", p.AVX2, 256}} {
		if w.rate > 0 {
			fmt.Fprintf(stdout, "bench peak isa=%s gflops=%.1f clock_ghz=%.2f fma_per_cycle=%.2f\n", w.isa, w.rate, p.ClockGHz, p.FMAPerCycle(w.bits))
		}
	}
	best := p.Best()
	if best <= 0 {
		return 0, errors.New("--peak: no FMA loop for this CPU or build (the purego tag, or not amd64 with AVX2 or AVX-512)")
	}
	for _, sh := range [][3]int{{1024, 1024, 1024}, {256, 128, 784}} {
		for _, impl := range kernel.ProductImpls() {
			g := benchProduct(impl, sh[0], sh[1], sh[2], c.reps, c.repTime/4)
			fmt.Fprintf(stdout, "bench sgemm impl=%s m=%d n=%d k=%d gflops=%.1f peak_frac=%.3f\n", impl.Name, sh[0], sh[1], sh[2], g, g/best)
		}
	}
	return best, nil
}

// benchProduct returns the median over reps of the GFLOP/s of impl on
// C(m×n) = A(m×k)·B(k×n), each repetition calling it for about repTime.
func benchProduct(impl kernel.ProductImpl, m, n, k, reps int, repTime time.Duration) float64 {
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

// benchTrain returns the median over reps of training samples per second:
// each repetition is one train.Fit call over the shuffled rows, timed from
// the end of its second batch (warm-up) to the end of the last one; the
// number of batches is sized from the warm-up repetition to take about
// repTime.
func benchTrain(s benchSpec, x []float32, n, threads, reps int, repTime time.Duration) (float64, error) {
	m, err := train.Build(s.width, train.MustParseArch(s.spec), "glorot_uniform", 1)
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
	const batch, warm = 256, 2
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
		cfg := train.Config{Optimizer: opt, Loss: loss, Epochs: 1, BatchSize: batch, Shuffle: true,
			Seed: uint64(rep + 2), Threads: threads,
			OnBatch: func(b train.BatchLog) {
				switch b.Batch + 1 {
				case warm:
					start = time.Now()
				case warm + steps:
					elapsed = time.Since(start)
					cancel()
				}
			}}
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
	}
	return median(rates), nil
}

// benchInfer returns the medians over reps of samples per second and of
// microseconds per call of Predict at the given batch size, each
// repetition calling it for about repTime after a warm-up.
func benchInfer(s benchSpec, x []float32, n, threads, batch, reps int, repTime time.Duration) (sps, latency float64, err error) {
	m, err := train.Build(s.width, train.MustParseArch(s.spec), "glorot_uniform", 1)
	if err != nil {
		return 0, 0, err
	}
	// A Parallel at every thread count, as a server holds one per model:
	// it packs the weights once and, unlike Model.Predict, does not
	// compare them with the model's on every call (see runtime.Parallel).
	p := aert.NewParallel(m, threads)
	defer p.Close()
	predict := p.Predict
	w := s.width
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

// benchData returns n rows of width values in [0, 1]: the first n
// Fashion-MNIST training images (divided by 255) when width is 784 and the
// IDX file is in dir (cycled if n exceeds 60000), else uniform random
// values from a fixed seed. It says which in src.
func benchData(dir string, width, n int) (x []float32, src string, err error) {
	x = make([]float32, n*width)
	if width == 784 && dir != "" {
		name := filepath.Join(dir, "train-images-idx3-ubyte.gz")
		img, err := readIDXImages(name)
		if err == nil {
			for i := range x {
				x[i] = float32(img[i%len(img)]) / 255
			}
			return x, "Fashion-MNIST " + name, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, "", err
		}
	}
	r := rand.New(rand.NewPCG(1, uint64(width)))
	for i := range x {
		x[i] = r.Float32()
	}
	return x, "uniform random in [0, 1)", nil
}

// readIDXImages reads a gzip'd IDX file of 28×28 uint8 images and returns
// their pixels.
func readIDXImages(name string) ([]byte, error) {
	fh, _, err := inputfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var hdr [4]uint32
	if err := binary.Read(zr, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	if hdr[0] != 0x803 || hdr[2] != 28 || hdr[3] != 28 || hdr[1] == 0 || hdr[1] > 1<<20 {
		return nil, fmt.Errorf("%s: not an IDX file of 28×28 uint8 images (header %x)", name, hdr)
	}
	img := make([]byte, int(hdr[1])*784)
	if _, err := io.ReadFull(zr, img); err != nil {
		return nil, fmt.Errorf("%s: %d images: %w", name, hdr[1], err)
	}
	return img, nil
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
