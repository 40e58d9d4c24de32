package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/aekit/aekit/internal/tolerance"
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
	asJSON := fs.Bool("json", false, "print the comparison as JSON (ok, rule, tolerances, counts, largest errors, worst value)")
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
	m, info, err := openModel(pos[0], *arch, *layer, *sub, *output)
	if err != nil {
		return fail(stderr, "check", err)
	}
	if *in == "" && *expect == "" {
		if info.ONNX == nil {
			fmt.Fprintln(stderr, "aekit check: -i and --expect are required (only aekit-exported .onnx files carry their own check data)")
			return exitUsage
		}
		if *layer != "" || *sub != "" || *output != "" {
			return fail(stderr, "check", fmt.Errorf("the embedded self-check covers the whole model; drop --layer/--model/--output or pass -i and --expect"))
		}
		x, want, n, err := onnx.SelfCheckDataFor(m, info.ONNX)
		if err != nil {
			return fail(stderr, "check", fmt.Errorf("%s: %w", pos[0], err))
		}
		got, err := predictRows(m, x, n, *batch)
		if err != nil {
			return fail(stderr, "check", fmt.Errorf("%s: %w", pos[0], err))
		}
		if *asJSON {
			return reportJSON(stdout, stderr, compare(got, want, m.OutputWidth(), *atol, *rtol), "embedded self-check")
		}
		fmt.Fprintf(stdout, "%s: embedded self-check, %d samples\n", pos[0], n)
		return report(stdout, got, want, m.OutputWidth(), *atol, *rtol)
	}
	if *in == "" || *expect == "" {
		fmt.Fprintln(stderr, "aekit check: -i and --expect go together")
		return exitUsage
	}
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
	if *asJSON {
		return reportJSON(stdout, stderr, compare(y.Data, want.Data[:n*ow], ow, *atol, *rtol), *expect)
	}
	return report(stdout, y.Data, want.Data[:n*ow], ow, *atol, *rtol)
}

// checkResult is check's comparison, as --json prints it.
type checkResult struct {
	OK   bool   `json:"ok"`
	Rule string `json:"rule"`
	// Expected names what the outputs were compared with.
	Expected   string  `json:"expected"`
	Atol       float64 `json:"atol"`
	Rtol       float64 `json:"rtol"`
	Values     int     `json:"values"`
	Samples    int     `json:"samples"`
	Width      int     `json:"width"`
	OutOfTol   int     `json:"out_of_tolerance"`
	NonFinite  int     `json:"non_finite_outputs"`
	MaxAbs     float64 `json:"max_abs_error"`
	MaxRel     float64 `json:"max_rel_error"` // where |want| > atol
	MaxTolUsed float64 `json:"max_tolerance_used"`
	// Worst is the value furthest out of tolerance (got and want as
	// text: they may be NaN or Inf).
	Worst *checkWorst `json:"worst,omitempty"`
}

// checkWorst locates the value furthest out of tolerance.
type checkWorst struct {
	Sample int    `json:"sample"`
	Output int    `json:"output"`
	Got    string `json:"got"`
	Want   string `json:"want"`
}

// compare compares got with want by internal/tolerance's rule, width
// values per sample: NaN matches only NaN, ±Inf only the same Inf.
func compare(got, want []float32, width int, atol, rtol float64) checkResult {
	c := tolerance.Compare(got, want, atol, rtol)
	r := checkResult{Rule: "|got - want| <= atol + rtol*|want| for every value; NaN matches NaN, Inf the same Inf",
		Atol: atol, Rtol: rtol, Values: len(got), Samples: len(got) / width, Width: width,
		OK: c.OK(), OutOfTol: c.Bad, NonFinite: c.NonFinite, MaxAbs: c.MaxAbs, MaxRel: c.MaxRel, MaxTolUsed: c.MaxTolUsed}
	if c.Worst >= 0 {
		r.Worst = &checkWorst{Sample: c.Worst / width, Output: c.Worst % width,
			Got: tolerance.Format(got[c.Worst]), Want: tolerance.Format(want[c.Worst])}
	}
	return r
}

// reportJSON prints r as JSON and returns exitOK or exitMismatch.
func reportJSON(stdout, stderr io.Writer, r checkResult, expected string) int {
	r.Expected = expected
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fail(stderr, "check", err)
	}
	if !r.OK {
		return exitMismatch
	}
	return exitOK
}

// report compares got with want (see compare), prints a summary and
// returns exitOK or exitMismatch.
func report(w io.Writer, got, want []float32, width int, atol, rtol float64) int {
	r := compare(got, want, width, atol, rtol)
	if r.OK && r.NonFinite == 0 {
		fmt.Fprintf(w, "ok: all values within tolerance: |got − want| ≤ atol + rtol·|want| (atol %g, rtol %g) holds for all %d values (%d samples × %d); the worst uses %.0f%% of its tolerance\n",
			atol, rtol, r.Values, r.Samples, width, 100*r.MaxTolUsed)
		fmt.Fprintf(w, "max abs error %.3g; max rel error %.3g where |want| > atol\n", r.MaxAbs, r.MaxRel)
		return exitOK
	}
	fmt.Fprintf(w, "compared %d values (%d samples × %d): max abs error %.3g, max rel error %.3g where |want| > atol (atol %g, rtol %g)\n",
		r.Values, r.Samples, width, r.MaxAbs, r.MaxRel, atol, rtol)
	if r.NonFinite > 0 {
		fmt.Fprintf(w, "warning: %d outputs are NaN or Inf\n", r.NonFinite)
	}
	if r.OK {
		fmt.Fprintln(w, "ok: all values within tolerance (|got − want| ≤ atol + rtol·|want|; NaN and Inf match the same)")
		return exitOK
	}
	fmt.Fprintf(w, "MISMATCH: %d of %d values out of tolerance; worst at sample %d, output %d: got %s, want %s\n",
		r.OutOfTol, r.Values, r.Worst.Sample, r.Worst.Output, r.Worst.Got, r.Worst.Want)
	return exitMismatch
}
