package score

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// model returns a 6-4-6 autoencoder with a sigmoid output and a Dropout
// layer (which Rows must pass through).
func model(t *testing.T) *runtime.Model {
	t.Helper()
	m, err := train.Build(6, train.MustParseArch("4:relu|6:sigmoid"), "glorot_uniform", 7)
	if err != nil {
		t.Fatal(err)
	}
	m.Layers = append([]*runtime.Layer{{Name: "drop", Type: runtime.Identity, Class: "Dropout", Rate: 0.5}}, m.Layers...)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRows checks each row's score against the formulas in float64 on
// the model's own outputs (runtime Predict), for batch sizes that leave a
// partial last batch.
func TestRows(t *testing.T) {
	m := model(t)
	const n, w = 11, 6
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*w)
	for i := range x {
		x[i] = r.Float32()
	}
	p, err := m.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	for _, metric := range []Metric{MSE, MAE, BCE} {
		for _, bs := range []int{1, 4, n, 100} {
			got, err := Rows(m, x, n, metric, bs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				var s float64
				for j := range w {
					pv, tv := float64(p[i*w+j]), float64(x[i*w+j])
					switch metric {
					case MSE:
						s += (pv - tv) * (pv - tv)
					case MAE:
						s += math.Abs(pv - tv)
					default:
						s -= tv*math.Log(pv) + (1-tv)*math.Log(1-pv)
					}
				}
				want := s / w
				if math.Abs(float64(got[i])-want) > 1e-5*want {
					t.Errorf("%s batch %d row %d: %.8g, want %.8g", MetricName(metric), bs, i, got[i], want)
				}
			}
			// The mean of the rows is Keras's evaluate loss.
			ev, err := train.Evaluate(m, x, nil, n, metric, bs)
			if err != nil {
				// Evaluate refuses Dropout with a rate; check on the
				// model without it.
				ev, err = train.Evaluate(&runtime.Model{Input: m.Input, Layers: m.Layers[1:]}, x, nil, n, metric, bs)
				if err != nil {
					t.Fatal(err)
				}
			}
			var mean float64
			for _, v := range got {
				mean += float64(v)
			}
			mean /= n
			if math.Abs(mean-ev) > 1e-6*ev {
				t.Errorf("%s batch %d: mean score %.9g, evaluate %.9g", MetricName(metric), bs, mean, ev)
			}
		}
	}
	// A Scorer reused call after call gives the same scores and allocates
	// nothing per call.
	sc, err := NewScorer(m, BCE, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	want, _ := Rows(m, x, n, BCE, 4)
	got := make([]float32, n)
	if allocs := testing.AllocsPerRun(5, func() {
		if err := sc.Score(got, x, n); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Scorer.Score: %g allocations per call", allocs)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scorer %v, Rows %v", got, want)
	}
	if _, err := Rows(&runtime.Model{Input: []int{6}, Layers: m.Layers[:2]}, x, n, MSE, 4); !errors.Is(err, ErrInput) {
		t.Errorf("6→4 model: err %v, want ErrInput", err)
	}
}

// TestQuantile checks Quantile against numpy.quantile (the reference
// environment's numpy, run live) on data with ties, at several q.
func TestQuantile(t *testing.T) {
	py := interop.Python(t, "numpy")
	r := rand.New(rand.NewPCG(3, 4))
	s := make([]float32, 37)
	for i := range s {
		s[i] = float32(r.IntN(9)) * 0.37 // ties
	}
	s[5] = 1e-3
	qs := []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1}
	var vals, qstr []string
	for _, v := range s {
		vals = append(vals, strconv.FormatFloat(float64(v), 'g', -1, 32))
	}
	for _, q := range qs {
		qstr = append(qstr, strconv.FormatFloat(q, 'g', -1, 64))
	}
	script := "import numpy as np, sys\ns = np.array([" + strings.Join(vals, ",") + "], dtype=np.float32)\n" +
		"for q in [" + strings.Join(qstr, ",") + "]: print(repr(float(np.quantile(s.astype(np.float64), q))))\n"
	cmd := exec.Command(py, "-c", script)
	cmd.Env = interop.Env()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out.String())
	if len(lines) != len(qs) {
		t.Fatalf("numpy printed %q", out.String())
	}
	for i, q := range qs {
		want, _ := strconv.ParseFloat(lines[i], 64)
		got, err := Quantile(s, q)
		if err != nil {
			t.Fatal(err)
		}
		if got != want && math.Abs(got-want) > 1e-15*math.Abs(want) {
			t.Errorf("q=%g: %.17g, numpy %.17g", q, got, want)
		}
	}
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		if _, err := Quantile(s, q); !errors.Is(err, ErrInput) {
			t.Errorf("q=%g: err %v", q, err)
		}
	}
	if _, err := Quantile(nil, 0.5); !errors.Is(err, ErrInput) {
		t.Errorf("no scores: err %v", err)
	}
}

// bruteAUC is the ROC AUC by its definition: the probability that an
// anomalous row scores above a normal one, ties counting half (O(n²)).
func bruteAUC(s []float32, y []bool) float64 {
	var sum float64
	var pairs int
	for i := range s {
		for j := range s {
			if !y[i] || y[j] {
				continue
			}
			pairs++
			switch {
			case s[i] > s[j]:
				sum++
			case s[i] == s[j]:
				sum += 0.5
			}
		}
	}
	return sum / float64(pairs)
}

// bruteAP is average precision as scikit-learn defines it, written per
// anomalous row: the mean over anomalous rows i of the precision among
// the rows scoring at least s[i] (O(n²)).
func bruteAP(s []float32, y []bool) float64 {
	var sum float64
	var pos int
	for i := range s {
		if !y[i] {
			continue
		}
		pos++
		var tp, all int
		for j := range s {
			if s[j] >= s[i] {
				all++
				if y[j] {
					tp++
				}
			}
		}
		sum += float64(tp) / float64(all)
	}
	return sum / float64(pos)
}

// TestEvaluate checks ROC AUC and average precision against the O(n²)
// definitions above, with many ties, and the best-F1 threshold against
// every candidate threshold.
func TestEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 50 {
		n := 2 + r.IntN(60)
		s := make([]float32, n)
		y := make([]bool, n)
		levels := 1 + r.IntN(12)
		for i := range s {
			y[i] = r.IntN(3) == 0
			v := float32(r.IntN(levels))
			if y[i] {
				v += float32(r.IntN(3))
			}
			s[i] = v * 0.125
		}
		y[0], y[1] = true, false
		rep, err := Evaluate(s, y)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := rep.ROCAUC, bruteAUC(s, y); math.Abs(a-b) > 1e-12 {
			t.Errorf("trial %d: ROC AUC %.15g, definition %.15g", trial, a, b)
		}
		if a, b := rep.AveragePrecision, bruteAP(s, y); math.Abs(a-b) > 1e-12 {
			t.Errorf("trial %d: AP %.15g, definition %.15g", trial, a, b)
		}
		best := -1.0
		for _, v := range s {
			best = max(best, At(s, y, v).F1)
		}
		best = max(best, At(s, y, -1).F1)
		if got := At(s, y, rep.BestF1.Threshold); got != rep.BestF1 || math.Abs(got.F1-best) > 1e-12 {
			t.Errorf("trial %d: best F1 %+v, recomputed %+v, best of all thresholds %g", trial, rep.BestF1, got, best)
		}
	}
	// Perfect and reversed separation.
	s := []float32{1, 2, 3, 4}
	y := []bool{false, false, true, true}
	if rep, _ := Evaluate(s, y); rep.ROCAUC != 1 || rep.AveragePrecision != 1 || rep.BestF1.F1 != 1 || rep.BestF1.Threshold != 2 {
		t.Errorf("separable: %+v", rep)
	}
	if rep, _ := Evaluate(s, []bool{true, true, false, false}); rep.ROCAUC != 0 {
		t.Errorf("reversed: AUC %g", rep.ROCAUC)
	}
	if _, err := Evaluate(s, []bool{true, true, true, true}); !errors.Is(err, ErrInput) {
		t.Errorf("one class: err %v", err)
	}
	if _, err := Labels([]float32{0, 1, 2}); !errors.Is(err, ErrInput) {
		t.Errorf("label 2: err %v", err)
	}
}

// TestThresholdStorage round-trips a threshold through metadata and the
// sidecar file and rejects malformed entries.
func TestThresholdStorage(t *testing.T) {
	th, err := Calibrate([]float32{0.1, 0.2, 0.3, 0.4, 0.5}, MAE, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if th.Value != float32(0.46) || th.Rows != 5 {
		t.Fatalf("calibrated %+v, want 0.46 from 5 rows", th)
	}
	back, err := FromMetadata(th.Metadata())
	if err != nil || *back != *th {
		t.Fatalf("metadata round trip: %+v %v, want %+v", back, err, th)
	}
	model := t.TempDir() + "/m.keras"
	if got, err := ReadSidecar(model); got != nil || err != nil {
		t.Fatalf("no sidecar: %v %v", got, err)
	}
	if err := WriteSidecar(model, th); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadSidecar(model); err != nil || *got != *th {
		t.Fatalf("sidecar round trip: %+v %v", got, err)
	}
	for _, md := range []map[string]string{
		{MetaThreshold: "0.5", MetaMetric: "huber"},
		{MetaThreshold: "NaN", MetaMetric: "mse"},
		{MetaThreshold: "1e40", MetaMetric: "mse"},
		{MetaThreshold: "0.5", MetaMetric: "mse", MetaQuantile: "2"},
		// Go's syntax but not a decimal number as written by
		// FormatFloat or JSON.
		{MetaThreshold: "0x1p3", MetaMetric: "mse"},
		{MetaThreshold: "1_0", MetaMetric: "mse"},
		{MetaThreshold: "Inf", MetaMetric: "mse"},
		{MetaThreshold: "0.5", MetaMetric: "mse", MetaQuantile: "0x1p-1"},
		{MetaThreshold: "0.5", MetaMetric: "mse", MetaQuantile: "0_5"},
		{MetaThreshold: "", MetaMetric: "mse"},
		{MetaThreshold: ".", MetaMetric: "mse"},
		{MetaThreshold: "1e", MetaMetric: "mse"},
		{MetaThreshold: " 1", MetaMetric: "mse"},
	} {
		if _, err := FromMetadata(md); !errors.Is(err, ErrThreshold) {
			t.Errorf("%v: err %v, want ErrThreshold", md, err)
		}
	}
	for _, v := range []string{"0.5", "-3", "+2", "1e-05", "1.2345678e+07", "2E3", ".5", "5.", "0"} {
		md := map[string]string{MetaThreshold: v, MetaMetric: "mse", MetaQuantile: "0.5"}
		if _, err := FromMetadata(md); err != nil {
			t.Errorf("%v: %v", md, err)
		}
	}
	if _, err := Read(strings.NewReader(`{"x": "1"}`)); !errors.Is(err, ErrThreshold) {
		t.Errorf("no threshold: err %v", err)
	}
}

// TestEvaluateNumpy checks ROC AUC and average precision against
// tools/python/auc_ref.py (numpy, textbook definitions: Mann–Whitney with
// average ranks; scikit-learn's average precision), on scores with ties.
func TestEvaluateNumpy(t *testing.T) {
	py := interop.Python(t, "numpy")
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(8, 9))
	const n = 500
	s := make([]float32, n)
	lab := make([]float32, n)
	y := make([]bool, n)
	for i := range s {
		y[i] = r.IntN(4) == 0
		v := r.NormFloat64()
		if y[i] {
			v += 1.2
			lab[i] = 1
		}
		s[i] = float32(math.Round(v*20) / 20) // ties
	}
	sf, lf := dir+"/s.npy", dir+"/y.npy"
	if err := npy.WriteFile(sf, &npy.Array{Shape: []int{n}, Data: s}); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteFile(lf, &npy.Array{Shape: []int{n}, Data: lab}); err != nil {
		t.Fatal(err)
	}
	out, err := interop.Command(py, interop.Script(t, "auc_ref.py"), sf, lf).Output()
	if err != nil {
		t.Fatalf("auc_ref.py: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("auc_ref.py printed %q", out)
	}
	auc, _ := strconv.ParseFloat(f[0], 64)
	ap, _ := strconv.ParseFloat(f[1], 64)
	rep, err := Evaluate(s, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rep.ROCAUC-auc) > 1e-12 || math.Abs(rep.AveragePrecision-ap) > 1e-12 {
		t.Errorf("ROC AUC %.15g, AP %.15g; numpy %.15g, %.15g", rep.ROCAUC, rep.AveragePrecision, auc, ap)
	}
	t.Logf("ROC AUC %.6f, AP %.6f (numpy %.6f, %.6f)", rep.ROCAUC, rep.AveragePrecision, auc, ap)
}
