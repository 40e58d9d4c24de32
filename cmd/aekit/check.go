package main

import (
	"fmt"
	"io"
	"math"

	"github.com/aekit/aekit/onnx"
)

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "MODEL -i X.npy --expect Y.npy [--atol 1e-5] [--rtol 1e-5] [--arch A.json] [--layer NAME | --model NAME [--output LAYER]]", stderr)
	in := fs.String("i", "", "input `X.npy` (uint8 data is divided by 255 as in aekit train); omit for an aekit-exported .onnx to re-run its embedded self-check")
	expect := fs.String("expect", "", "expected outputs `Y.npy`")
	atol := fs.Float64("atol", 1e-5, "absolute tolerance")
	rtol := fs.Float64("rtol", 1e-5, "relative tolerance: pass when |got-want| ≤ atol + rtol·|want|")
	arch := fs.String("arch", "", "architecture `JSON` for weights-only Keras files")
	layer := fs.String("layer", "", "check the output of this layer or sub-model")
	sub := fs.String("model", "", "run only this sub-model on the input; read alone when the whole model cannot run")
	output := fs.String("output", "", "compute the output of this layer of the model or of its --model sub-model (a VAE: --model encoder --output z_mean); only the layers feeding it are read")
	batch := fs.Int("batch-size", 256, "samples per forward pass")
	pos, code, done := parseCommand(fs, args, 1, 1, stdout, stderr)
	if done {
		return code
	}
	if *atol < 0 || *rtol < 0 || math.IsNaN(*atol) || math.IsNaN(*rtol) {
		return fail(stderr, "check", fmt.Errorf("tolerances must be non-negative"))
	}
	if *batch < 1 {
		return fail(stderr, "check", fmt.Errorf("--batch-size %d: must be at least 1", *batch))
	}
	l, err := loadSelected(pos[0], *arch, *layer, *sub, *output)
	if err != nil {
		return fail(stderr, "check", err)
	}
	if *in == "" && *expect == "" {
		if l.onnx == nil {
			fmt.Fprintln(stderr, "aekit check: -i and --expect are required (only aekit-exported .onnx files carry their own check data)")
			return exitUsage
		}
		if *layer != "" || *sub != "" || *output != "" {
			return fail(stderr, "check", fmt.Errorf("the embedded self-check covers the whole model; drop --layer/--model/--output or pass -i and --expect"))
		}
		x, want, n, err := onnx.SelfCheckDataFor(l.model, l.onnx)
		if err != nil {
			return fail(stderr, "check", fmt.Errorf("%s: %w", pos[0], err))
		}
		got, err := predictRows(l.model, x, n, *batch)
		if err != nil {
			return fail(stderr, "check", fmt.Errorf("%s: %w", pos[0], err))
		}
		fmt.Fprintf(stdout, "%s: embedded self-check, %d samples\n", pos[0], n)
		return report(stdout, got, want, l.model.OutputWidth(), *atol, *rtol)
	}
	if *in == "" || *expect == "" {
		fmt.Fprintln(stderr, "aekit check: -i and --expect go together")
		return exitUsage
	}
	m := l.model
	y, err := predictFile(m, *in, *batch)
	if err != nil {
		return fail(stderr, "check", err)
	}
	want, err := readArray(*expect)
	if err != nil {
		return fail(stderr, "check", err)
	}
	ow := m.OutputWidth()
	n, err := want.Batch(ow)
	if err != nil {
		return fail(stderr, "check", fmt.Errorf("%s: %w", *expect, err))
	}
	if n*ow != len(y.Data) {
		return fail(stderr, "check", fmt.Errorf("%s has %d samples of width %d, but %s has %d samples", *expect, n, ow, *in, len(y.Data)/ow))
	}
	return report(stdout, y.Data, want.Data[:n*ow], ow, *atol, *rtol)
}

// report compares got with want element-wise, prints a summary and returns
// exitOK or exitMismatch. NaN matches only NaN, ±Inf only the same Inf.
func report(w io.Writer, got, want []float32, width int, atol, rtol float64) int {
	bad, worst := 0, -1
	maxAbs, maxRel, worstExcess := 0.0, 0.0, 0.0
	maxUsed := 0.0 // the largest |got − want| / (atol + rtol·|want|)
	nonFinite := 0
	for i := range got {
		g, e := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			nonFinite++
		}
		if math.IsNaN(g) || math.IsNaN(e) || math.IsInf(g, 0) || math.IsInf(e, 0) {
			same := (math.IsNaN(g) && math.IsNaN(e)) || g == e
			if !same {
				bad++
				if worst < 0 || !math.IsInf(worstExcess, 1) {
					worst, worstExcess = i, math.Inf(1)
				}
			}
			continue
		}
		d := math.Abs(g - e)
		maxAbs = math.Max(maxAbs, d)
		if math.Abs(e) > atol && e != 0 { // relative error where it means something
			maxRel = math.Max(maxRel, d/math.Abs(e))
		}
		if tol := atol + rtol*math.Abs(e); tol > 0 {
			maxUsed = math.Max(maxUsed, d/tol)
		}
		if excess := d - (atol + rtol*math.Abs(e)); excess > 0 {
			bad++
			if excess > worstExcess {
				worst, worstExcess = i, excess
			}
		}
	}
	if bad == 0 && nonFinite == 0 {
		fmt.Fprintf(w, "ok: all values within tolerance: |got − want| ≤ atol + rtol·|want| (atol %g, rtol %g) holds for all %d values (%d samples × %d); the worst uses %.0f%% of its tolerance\n",
			atol, rtol, len(got), len(got)/width, width, 100*maxUsed)
		fmt.Fprintf(w, "max abs error %.3g; max rel error %.3g where |want| > atol\n", maxAbs, maxRel)
		return exitOK
	}
	fmt.Fprintf(w, "compared %d values (%d samples × %d): max abs error %.3g, max rel error %.3g where |want| > atol (atol %g, rtol %g)\n",
		len(got), len(got)/width, width, maxAbs, maxRel, atol, rtol)
	if nonFinite > 0 {
		fmt.Fprintf(w, "warning: %d outputs are NaN or Inf\n", nonFinite)
	}
	if bad == 0 {
		fmt.Fprintln(w, "ok: all values within tolerance (|got − want| ≤ atol + rtol·|want|; NaN and Inf match the same)")
		return exitOK
	}
	fmt.Fprintf(w, "MISMATCH: %d of %d values out of tolerance; worst at sample %d, output %d: got %g, want %g\n",
		bad, len(got), worst/width, worst%width, got[worst], want[worst])
	return exitMismatch
}
