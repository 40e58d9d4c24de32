package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/internal/kernel"
)

// TestBenchOutputFormat runs a tiny bench (one repetition of a few
// milliseconds on 1024 random rows) and checks that every line of standard
// output has exactly the form, that the requested cases all appear
// once, with positive rates, and that the kernel line goes to standard
// error.
func TestBenchOutputFormat(t *testing.T) {
	var out, errb bytes.Buffer
	code := cmdBench([]string{"--model", "seed,ae784", "--reps", "1", "--rep-time", "5ms", "--rows", "1024",
		"--threads", "1,2", "--data", ""}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	trainRe := regexp.MustCompile(`^bench train model=(seed|ae784|deep) threads=([0-9]+) batch=256 samples_per_s=([0-9]+)$`)
	inferRe := regexp.MustCompile(`^bench infer model=(seed|ae784|deep) threads=([0-9]+) batch=(1|256) samples_per_s=([0-9]+) latency_us=([0-9]+\.[0-9]+)$`)
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if m := trainRe.FindStringSubmatch(line); m != nil {
			seen["train "+m[1]+" "+m[2]]++
			if v, _ := strconv.ParseFloat(m[3], 64); v <= 0 {
				t.Errorf("non-positive rate: %q", line)
			}
			continue
		}
		if m := inferRe.FindStringSubmatch(line); m != nil {
			seen["infer "+m[1]+" "+m[2]+" "+m[3]]++
			sps, _ := strconv.ParseFloat(m[4], 64)
			lat, _ := strconv.ParseFloat(m[5], 64)
			if sps <= 0 || lat <= 0 {
				t.Errorf("non-positive rate or latency: %q", line)
			}
			continue
		}
		t.Errorf("line not in the bench format: %q", line)
	}
	var want []string
	for _, m := range []string{"seed", "ae784"} {
		for _, th := range []string{"1", "2"} {
			want = append(want, "train "+m+" "+th, "infer "+m+" "+th+" 1", "infer "+m+" "+th+" 256")
		}
	}
	for _, k := range want {
		if seen[k] != 1 {
			t.Errorf("case %q printed %d times, want once", k, seen[k])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("got cases %v, want %v", seen, want)
	}
	if !strings.HasPrefix(errb.String(), "# kernel: gemm ") {
		t.Errorf("stderr does not start with the kernel line:\n%s", errb.String())
	}
}

// TestBenchMode checks that --mode selects one kind of case and that bad
// flags are usage errors.
func TestBenchMode(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cmdBench([]string{"--mode", "infer", "--model", "seed", "--reps", "1", "--rep-time", "2ms", "--rows", "512"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got := strings.Count(out.String(), "bench infer model=seed threads=1 "); got != 2 || strings.Contains(out.String(), "bench train") {
		t.Errorf("--mode infer printed:\n%s", out.String())
	}
	for _, args := range [][]string{
		{"--mode", "fast"}, {"--model", "big"}, {"--threads", "0"}, {"--reps", "0"}, {"--rows", "10"}, {"extra"},
	} {
		out.Reset()
		errb.Reset()
		if code := cmdBench(args, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed results:\n%s", args, out.String())
		}
	}
}

// benchChildEnv, set in the environment of a test process started by
// TestBenchCoreNote, makes TestBenchChild run a tiny bench.
const benchChildEnv = "AEKIT_TEST_BENCH_CHILD"

// TestBenchChild runs a tiny bench with its standard error on the
// process's, for TestBenchCoreNote; otherwise it is skipped.
func TestBenchChild(t *testing.T) {
	if os.Getenv(benchChildEnv) == "" {
		t.Skip("run by TestBenchCoreNote")
	}
	if code := cmdBench([]string{"--mode", "infer", "--model", "seed", "--reps", "1", "--rep-time", "1ms", "--rows", "256", "--data", ""}, io.Discard, os.Stderr); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

// TestBenchCoreNote runs bench in child processes (OpenBLAS reads
// OPENBLAS_CORETYPE once, when it loads) and checks that the "# note:"
// line follows the kernel line exactly when OPENBLAS_CORETYPE names a core
// below the CPU's: Haswell on an AVX-512 CPU, in the OpenBLAS build.
func TestBenchCoreNote(t *testing.T) {
	if os.Getenv(benchChildEnv) != "" {
		t.Skip("in a child")
	}
	if testing.Short() {
		t.Skip("starts test processes; skipped with -short")
	}
	pref := kernel.PreferredCore()
	openblas := strings.HasPrefix(kernel.Variant(), "openblas")
	const haswellNote = "# note: OPENBLAS_CORETYPE=Haswell is set in the environment; this CPU runs OpenBLAS's SkylakeX kernels (unset it for faster GEMM)"
	cases := []struct {
		core, note string // core "" leaves OPENBLAS_CORETYPE unset
	}{{"", ""}}
	if pref != "" {
		note := ""
		if pref == "SkylakeX" && openblas {
			note = haswellNote
		}
		cases = append(cases, struct{ core, note string }{"Haswell", note})
	}
	if pref == "SkylakeX" {
		cases = append(cases, struct{ core, note string }{"SkylakeX", ""})
	}
	for _, c := range cases {
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") {
				env = append(env, kv)
			}
		}
		if c.core != "" {
			env = append(env, "OPENBLAS_CORETYPE="+c.core)
		}
		cmd := exec.Command(os.Args[0], "-test.run", "^TestBenchChild$", "-test.count", "1")
		cmd.Env = append(env, benchChildEnv+"=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil {
			t.Fatalf("OPENBLAS_CORETYPE=%q: %v\n%s%s", c.core, err, out, stderr.String())
		}
		lines := strings.Split(stderr.String(), "\n")
		if !strings.HasPrefix(lines[0], "# kernel: gemm ") {
			t.Fatalf("OPENBLAS_CORETYPE=%q: stderr does not start with the kernel line:\n%s", c.core, stderr.String())
		}
		var notes []string
		for _, l := range lines {
			if strings.HasPrefix(l, "# note:") {
				notes = append(notes, l)
			}
		}
		switch {
		case c.note == "" && len(notes) != 0:
			t.Errorf("OPENBLAS_CORETYPE=%q: unexpected %q", c.core, notes)
		case c.note != "" && (len(lines) < 2 || lines[1] != c.note || len(notes) != 1):
			t.Errorf("OPENBLAS_CORETYPE=%q: want the kernel line then\n%s\ngot:\n%s", c.core, c.note, stderr.String())
		}
	}
}

// TestBenchPeakFormat runs a tiny bench with --peak and checks its lines:
// a peak line per vector width, sgemm lines for both shapes and every
// product implementation, and the gflops= and peak_frac= fields on every
// case, consistent with the printed rate (gflops = samples/s × the case's
// FLOPs per sample, peak_frac = gflops / (threads × best peak)).
func TestBenchPeakFormat(t *testing.T) {
	if kernel.MeasurePeak(0).Best() == 0 {
		var out, errb bytes.Buffer
		if code := cmdBench([]string{"--peak", "--mode", "infer", "--model", "seed", "--reps", "1", "--rep-time", "1ms", "--rows", "256", "--data", ""}, &out, &errb); code == exitOK {
			t.Fatalf("--peak without FMA loops: exit 0")
		}
		return
	}
	var out, errb bytes.Buffer
	code := cmdBench([]string{"--peak", "--model", "seed", "--reps", "1", "--rep-time", "5ms", "--rows", "1024",
		"--threads", "1,2", "--data", ""}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	peakRe := regexp.MustCompile(`^bench peak isa=(avx512|avx2) gflops=([0-9.]+) clock_ghz=([0-9.]+) fma_per_cycle=([0-9.]+)$`)
	sgemmRe := regexp.MustCompile(`^bench sgemm impl=([a-z0-9-]+) m=([0-9]+) n=([0-9]+) k=([0-9]+) gflops=([0-9.]+) peak_frac=([0-9.]+)$`)
	caseRe := regexp.MustCompile(`^bench (train|infer) model=seed threads=([12]) batch=(1|256) samples_per_s=([0-9]+)(?: latency_us=[0-9.]+)? gflops=([0-9.]+) peak_frac=([0-9.]+)(.*)$`)
	stepsRe := regexp.MustCompile(`^ products_gflops=([0-9.]+) products_peak_frac=([0-9.]+) step_us=([0-9]+) data=([0-9.]+) forward=([0-9.]+) loss=([0-9.]+) backward=([0-9.]+) weights=([0-9.]+) products=([0-9.]+)$`)
	productRe := regexp.MustCompile(`^bench product model=seed threads=([12]) layer=([a-z0-9_]+) kind=(forward|backward|weights) m=([0-9]+) n=([0-9]+) k=([0-9]+) gflops=([0-9.]+) peak_frac=([0-9.]+) share=([0-9.]+)$`)
	var best float64
	sgemm := map[string]bool{}
	cases := 0
	// The last training line's products' rate and threads, and its
	// product lines' sum of rate × share (their FLOPs over their time:
	// the products' rate) and of shares.
	// roundOff bounds how far the printed numbers can put the weighted
	// sum from the printed rate: each rate is printed to 0.05 and each
	// share to 0.0005, so a product adds 0.05·share + 0.0005·rate (and
	// their product), the training line's rate 0.05. At the low rates of
	// a loaded machine (CI runs packages side by side) that is more than
	// 1% of the rate.
	var lastRate, rateSum, shareSum, roundOff float64
	var lastThreads string
	products := 0
	checkProducts := func() {
		if lastRate == 0 {
			return
		}
		if abs64(shareSum-1) > 0.01 || abs64(rateSum-lastRate) > 0.05+roundOff {
			t.Errorf("threads=%s: product lines' shares add up to %v, their rates weighted by share to %v, want 1 and %v",
				lastThreads, shareSum, rateSum, lastRate)
		}
		lastRate, rateSum, shareSum, roundOff = 0, 0, 0, 0
	}
	spec := benchset.All()[0]
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v <= 0 {
				t.Errorf("%q: bad number %q", line, s)
			}
			return v
		}
		if m := peakRe.FindStringSubmatch(line); m != nil {
			best = max(best, num(m[2]))
			num(m[3])
			num(m[4])
			continue
		}
		if m := sgemmRe.FindStringSubmatch(line); m != nil {
			sgemm[m[1]+" "+m[2]+"x"+m[3]+"x"+m[4]] = true
			if g, f := num(m[5]), num(m[6]); best == 0 || abs64(f-g/best) > 0.001+1e-3*f {
				t.Errorf("%q: peak_frac is not gflops/%v", line, best)
			}
			continue
		}
		if m := productRe.FindStringSubmatch(line); m != nil {
			products++
			if m[1] != lastThreads || lastRate == 0 {
				t.Errorf("%q: a product line not after its training line", line)
			}
			g, f, sh := num(m[7]), num(m[8]), num(m[9])
			if abs64(f-g/best) > 0.001+1e-2*f {
				t.Errorf("%q: peak_frac is not gflops/%v", line, best)
			}
			num(m[4])
			num(m[5])
			num(m[6])
			rateSum += g * sh
			shareSum += sh
			roundOff += 0.05*sh + 0.0005*g + 0.05*0.0005
			continue
		}
		checkProducts()
		if m := caseRe.FindStringSubmatch(line); m != nil {
			cases++
			th, sps, g, f := num(m[2]), num(m[4]), num(m[5]), num(m[6])
			per := spec.InferFLOPs()
			if m[1] == "train" {
				per = spec.TrainFLOPs()
			}
			if abs64(g-sps*per/1e9) > 0.01+1e-3*g || abs64(f-g/(th*best)) > 0.001+1e-2*f {
				t.Errorf("%q: gflops or peak_frac inconsistent with %v FLOPs per sample and peak %v", line, per, best)
			}
			// A training line goes on with its steps' phases: the
			// products' rate and fraction of the peak, the step's
			// phases as fractions of it (together at most all of it),
			// and the share of the threads' time in the products.
			if m[1] == "infer" {
				if m[7] != "" {
					t.Errorf("%q: an inference line with more fields", line)
				}
				continue
			}
			st := stepsRe.FindStringSubmatch(m[7])
			if st == nil {
				t.Errorf("%q: a training line without its steps' fields", line)
				continue
			}
			pg, pf := num(st[1]), num(st[2])
			num(st[3])
			var sum float64
			for _, v := range st[4:9] {
				sum += num(v)
			}
			if abs64(pf-pg/best) > 0.001+1e-2*pf || sum > 1.01 || num(st[9]) > 1.01 {
				t.Errorf("%q: products_peak_frac is not products_gflops/%v, or the phases add up to %v", line, best, sum)
			}
			lastRate, lastThreads = pg, m[2]
			continue
		}
		t.Errorf("line not in the --peak format: %q", line)
	}
	checkProducts()
	if best == 0 {
		t.Error("no peak line")
	}
	// seed has 4 Dense layers: 4 forward products, 3 backward (not the
	// first layer's), 4 weight gradients; 2 training cases.
	if products != 2*11 {
		t.Errorf("%d product lines, want %d", products, 2*11)
	}
	for _, impl := range kernel.ProductImpls() {
		for _, sh := range []string{"1024x1024x1024", "256x128x784"} {
			if !sgemm[impl.Name+" "+sh] {
				t.Errorf("no sgemm line for %s %s", impl.Name, sh)
			}
		}
	}
	if cases != 6 {
		t.Errorf("%d case lines, want 6", cases)
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
