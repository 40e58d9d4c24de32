package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/score"
)

const scoreHelp = `Scores each row of X.npy by its reconstruction error: the mean over the
row's features of --metric between the model's output (or the output of
--layer) and the row: mse (squared units), mae (units) or bce (binary
cross-entropy in nats, from the logits after a sigmoid output, as Keras
on TensorFlow computes its loss). The mean of the scores is what aekit
evaluate --loss METRIC prints. Scores are written as float32, shape (n,).

A row is anomalous when its score is greater than the threshold. The
threshold comes from, in order: --threshold; --calibrate NORMAL.npy, the
--quantile of the normal rows' scores (numpy.quantile's default linear
interpolation); the sidecar file MODEL.anomaly.json (written by
--save-threshold); the metadata_props of an ONNX model (aekit.anomaly.*,
written by aekit convert --score). A stored threshold for another metric
is not used.

--labels compares the scores with labels: 0 normal, 1 anomalous, or with
--normal-classes class ids of which those listed are normal. It prints
ROC AUC (ties count half), PR AUC as average precision (scikit-learn's
average_precision_score: sum over thresholds of (R_n - R_{n-1}) P_n), and
precision, recall and F1 at the threshold and at the best-F1 threshold.`

func cmdScore(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("score", "MODEL -i X.npy [-o scores.npy] [--metric mse|mae|bce] [--layer NAME] [--calibrate NORMAL.npy [--quantile 0.99] [--save-threshold]] [--labels y.npy [--normal-classes LIST]] [--plot hist.png]\n\n"+scoreHelp, stderr)
	in := fs.String("i", "", "rows to score, `X.npy` (or .npz, DATA.npz:KEY); uint8 data is divided by 255")
	out := fs.String("o", "", "write the scores to `scores.npy` (float32, shape (n,), written atomically)")
	metricName := fs.String("metric", "", "`metric`: mse, mae or bce (default: the stored threshold's, else mse)")
	layer := fs.String("layer", "", "score the output of this layer or sub-model (its width must be the input's)")
	arch := fs.String("arch", "", "architecture `JSON` for weights-only Keras files")
	batch := fs.Int("batch-size", 256, "rows per forward pass")
	calibrate := fs.String("calibrate", "", "learn the threshold from normal rows `NORMAL.npy`")
	quantile := fs.Float64("quantile", 0.99, "with --calibrate: the threshold is this `quantile` of the normal rows' scores")
	thresh := fs.Float64("threshold", math.NaN(), "use this threshold `value` (in the metric's units)")
	save := fs.Bool("save-threshold", false, "store the threshold, metric and quantile in MODEL"+score.SidecarSuffix)
	labels := fs.String("labels", "", "labels `y.npy`, one per row of X: 0 normal, 1 anomalous (see --normal-classes)")
	normal := fs.String("normal-classes", "", "with --labels: the labels are class ids and those in `LIST` (e.g. 0,2,4) are normal, the others anomalous")
	asJSON := fs.Bool("json", false, "print the report as one JSON object (rows, metric, mean/min/max, threshold, anomalous rows; with --labels ROC AUC, PR AUC and the confusion counts)")
	plotName := fs.String("plot", "", "with --labels: draw the score histograms of normal and anomalous rows and the threshold to `hist.png`")
	pos, code, done := parseCommand(fs, args, 1, 1, stdout, stderr)
	if done {
		return code
	}
	failf := func(err error) int { return fail(stderr, "score", err) }
	switch {
	case *in == "":
		fmt.Fprintln(stderr, "aekit score: -i is required")
		fs.Usage()
		return exitUsage
	case *out == "" && *calibrate == "" && *labels == "":
		fmt.Fprintln(stderr, "aekit score: nothing to do: give -o, --calibrate or --labels")
		fs.Usage()
		return exitUsage
	case *batch < 1:
		return failf(fmt.Errorf("--batch-size %d: must be at least 1", *batch))
	case flagSet(fs, "threshold") && !finite32(*thresh):
		// NaN is also the flag's "not given".
		return failf(fmt.Errorf("--threshold %g: must be a finite number (a float32)", *thresh))
	case *save && *calibrate == "" && math.IsNaN(*thresh):
		return failf(errors.New("--save-threshold needs --calibrate or --threshold"))
	case *plotName != "" && *labels == "":
		return failf(errors.New("--plot needs --labels"))
	case *normal != "" && *labels == "":
		return failf(errors.New("--normal-classes needs --labels"))
	case !(*quantile >= 0 && *quantile <= 1):
		return failf(fmt.Errorf("--quantile %g: must be in [0, 1]", *quantile))
	}
	for _, o := range []struct{ flag, name string }{{"-o", *out}, {"--plot", *plotName}} {
		if o.name == "" {
			continue
		}
		if err := atomicfile.Check(o.name); err != nil {
			return failf(fmt.Errorf("%s %w", o.flag, err))
		}
	}
	model := pos[0]
	m, info, err := openModel(model, *arch, *layer, "", "")
	if err != nil {
		return failf(err)
	}
	stored, storedFrom, err := score.Stored(model, info.Metadata())
	if err != nil {
		return failf(err)
	}
	var metric score.Metric
	switch {
	case *metricName != "":
		if metric, err = score.ParseMetric(*metricName); err != nil {
			return failf(fmt.Errorf("--metric: %w", err))
		}
	case stored != nil:
		metric = stored.Metric
	default:
		metric = score.MSE
	}
	if stored != nil && stored.Metric != metric {
		fmt.Fprintf(stderr, "aekit score: note: the threshold in %s is for %s, not %s; not used\n", storedFrom, score.MetricName(stored.Metric), score.MetricName(metric))
		stored = nil
	}
	rows := func(name string) ([]float32, error) {
		x, n, err := readRows(name, m.InputWidth())
		if err != nil {
			return nil, err
		}
		s, err := score.Rows(m, x, n, metric, *batch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	s, err := rows(*in)
	if err != nil {
		return failf(err)
	}

	// The threshold.
	th, from := stored, storedFrom
	switch {
	case !math.IsNaN(*thresh):
		th, from = &score.Threshold{Metric: metric, Value: float32(*thresh)}, "--threshold"
	case *calibrate != "":
		ns, err := rows(*calibrate)
		if err != nil {
			return failf(err)
		}
		if th, err = score.Calibrate(ns, metric, *quantile); err != nil {
			return failf(fmt.Errorf("--calibrate %s: %w", *calibrate, err))
		}
		from = fmt.Sprintf("%g quantile of %d rows of %s", *quantile, len(ns), *calibrate)
	}

	var y []bool
	if *labels != "" {
		if y, err = readLabels(*labels, *normal, len(s)); err != nil {
			return failf(err)
		}
	}
	// Every input is read and checked: write.
	if *out != "" {
		if err := npy.WriteFile(*out, &npy.Array{Shape: []int{len(s)}, Data: s}); err != nil {
			return failf(err)
		}
	}
	if *save {
		if err := score.WriteSidecar(model, th); err != nil {
			return failf(err)
		}
	}
	mean, lo, hi := summary(s)
	rep := scoreReport{Model: model, Input: *in, Output: *out, Metric: score.MetricName(metric), Rows: len(s), Mean: mean, Min: lo, Max: hi}
	if th != nil {
		rep.Threshold = &thresholdReport{Value: th.Value, From: from}
		if *save {
			rep.Threshold.SavedTo = score.SidecarPath(model)
		}
		for _, v := range s {
			if th.Anomalous(v) {
				rep.Threshold.Anomalous++
			}
		}
	}
	if y != nil {
		ev, err := score.Evaluate(s, y)
		if err != nil {
			return failf(fmt.Errorf("--labels %s: %w", *labels, err))
		}
		rep.Labels = ev
		if th != nil {
			at := score.At(s, y, th.Value)
			rep.AtThreshold = &at
		}
	}
	if *asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return failf(err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		rep.print(stdout)
	}
	if y != nil && *plotName != "" {
		var t *float32
		if th != nil {
			t = &th.Value
		}
		if err := plotScores(*plotName, s, y, t, score.MetricName(metric)); err != nil {
			return failf(err)
		}
	}
	return exitOK
}

// readLabels reads n labels: 0/1, or class ids of which those in the
// comma-separated list normal are normal.
func readLabels(name, normal string, n int) ([]bool, error) {
	a, err := readArray(name) // not readRows: class ids are not pixels
	if err != nil {
		return nil, fmt.Errorf("--labels %w", err)
	}
	ny, err := a.Batch(1)
	if err != nil {
		return nil, fmt.Errorf("--labels %s: %w", name, err)
	}
	v := a.Data[:ny]
	if ny != n {
		return nil, fmt.Errorf("--labels %s has %d rows, -i has %d", name, ny, n)
	}
	if normal == "" {
		y, err := score.Labels(v)
		if err != nil {
			return nil, fmt.Errorf("--labels %s: %w (for class ids give --normal-classes)", name, err)
		}
		return y, nil
	}
	classes, err := parseClasses("--normal-classes", normal)
	if err != nil {
		return nil, err
	}
	y := make([]bool, n)
	for i, c := range v {
		y[i] = !classes[c]
	}
	return y, nil
}

// summary returns the mean (in float64), minimum and maximum of s.
func summary(s []float32) (mean float64, lo, hi float32) {
	if len(s) == 0 {
		return 0, 0, 0
	}
	lo, hi = s[0], s[0]
	for _, v := range s {
		mean += float64(v)
		lo, hi = min(lo, v), max(hi, v)
	}
	return mean / float64(len(s)), lo, hi
}

func confusionLine(c score.Confusion) string {
	return fmt.Sprintf("%.6g: precision %.4f, recall %.4f, F1 %.4f (TP %d, FP %d, FN %d, TN %d)",
		c.Threshold, c.Precision, c.Recall, c.F1, c.TP, c.FP, c.FN, c.TN)
}

// parseClasses parses the comma-separated class ids list given to flag.
func parseClasses(flag, list string) (map[float32]bool, error) {
	classes := map[float32]bool{}
	for _, f := range strings.Split(list, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %q is not a class id", flag, list, f)
		}
		classes[float32(c)] = true
	}
	return classes, nil
}

// scoreReport is what aekit score reports, as text or JSON.
type scoreReport struct {
	Model  string  `json:"model"`
	Input  string  `json:"input"`
	Output string  `json:"output,omitempty"`
	Metric string  `json:"metric"`
	Rows   int     `json:"rows"`
	Mean   float64 `json:"mean"`
	Min    float32 `json:"min"`
	Max    float32 `json:"max"`
	// Threshold is nil when none was given, learnt or stored.
	Threshold *thresholdReport `json:"threshold,omitempty"`
	// Labels and AtThreshold come with --labels (AtThreshold with a
	// threshold too).
	Labels      *score.Report    `json:"labels,omitempty"`
	AtThreshold *score.Confusion `json:"at_threshold,omitempty"`
}

// thresholdReport is the threshold score used and the rows above it.
type thresholdReport struct {
	Value     float32 `json:"value"`
	From      string  `json:"from"`
	SavedTo   string  `json:"saved_to,omitempty"`
	Anomalous int     `json:"anomalous"`
}

// print writes r as aekit score's text report.
func (r *scoreReport) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d rows of %s, %s per row: mean %.6g, min %.6g, max %.6g", r.Model, r.Rows, r.Input, r.Metric, r.Mean, r.Min, r.Max)
	if r.Output != "" {
		fmt.Fprintf(w, " → %s", r.Output)
	}
	fmt.Fprintln(w)
	if t := r.Threshold; t != nil {
		fmt.Fprintf(w, "threshold %.6g (%s)", t.Value, t.From)
		if t.SavedTo != "" {
			fmt.Fprintf(w, ", saved to %s", t.SavedTo)
		}
		fmt.Fprintf(w, ": %d of %d rows anomalous\n", t.Anomalous, r.Rows)
	}
	if l := r.Labels; l != nil {
		fmt.Fprintf(w, "ROC AUC %.4f, PR AUC (average precision) %.4f on %d rows, %d anomalous\n", l.ROCAUC, l.AveragePrecision, l.Rows, l.Anomalies)
		if r.AtThreshold != nil {
			fmt.Fprintf(w, "at the threshold   %s\n", confusionLine(*r.AtThreshold))
		}
		fmt.Fprintf(w, "at the best-F1 one %s\n", confusionLine(l.BestF1))
	}
}

// flagSet tells whether the flag name was given on fs's command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// finite32 tells whether v is finite as a float32.
func finite32(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(float64(float32(v)), 0)
}
