package onnx_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/score"
	"github.com/aekit/aekit/train"
)

// scoreModels returns autoencoders of width 20: a sigmoid output (bce from
// the logits), a linear one (bce on clipped outputs) and a sigmoid
// followed by a Reshape to 4×5 (the logits found through the Reshape).
func scoreModels(t *testing.T) map[string]*runtime.Model {
	t.Helper()
	ms := map[string]*runtime.Model{}
	for name, spec := range map[string]string{"sigmoid": "8:relu|20:sigmoid", "linear": "8:tanh|20:linear", "reshaped": "6:relu|20:sigmoid"} {
		m, err := train.Build(20, train.MustParseArch(spec), "glorot_uniform", 9)
		if err != nil {
			t.Fatal(err)
		}
		ms[name] = m
	}
	r := ms["reshaped"]
	r.Layers = append(r.Layers, &runtime.Layer{Name: "to_image", Type: runtime.Reshape, Shape: []int{4, 5}})
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestScoreOutputORT writes models with reconstruction_error and
// is_anomaly outputs at opsets 11, 13, 17, 18 and 21 for mse, mae and bce,
// checks them with the onnx checker (full_check), runs them in ONNX
// Runtime and compares with score.Rows (1e-5 relative), reads them back
// with Read, and checks is_anomaly against the threshold.
func TestScoreOutputORT(t *testing.T) {
	dir := t.TempDir()
	const n, w = 64, 20
	rng := rand.New(rand.NewPCG(31, 32))
	x := make([]float32, n*w)
	for i := range x {
		x[i] = rng.Float32()
		if i/w%4 == 0 {
			x[i] = min(1, x[i]*x[i]*3) // rows further from the others
		}
	}
	xf := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(xf, &npy.Array{Shape: []int{n, w}, Data: x}); err != nil {
		t.Fatal(err)
	}
	type key struct {
		model, metric string
		opset         int
	}
	want := map[key][]float32{}
	thr := map[key]float32{}
	var jobs []interop.ORTJob
	var files []string
	for name, m := range scoreModels(t) {
		for _, metric := range score.MetricNames() {
			mt, _ := score.ParseMetric(metric)
			s, err := score.Rows(m, x, n, mt, 16)
			if err != nil {
				t.Fatal(err)
			}
			med, _ := score.Quantile(s, 0.5)
			th := float32(med)
			for _, opset := range []int{11, 13, 17, 18, 21} {
				k := key{name, metric, opset}
				want[k], thr[k] = s, th
				f := filepath.Join(dir, fmt.Sprintf("%s_%s_%d.onnx", name, metric, opset))
				opt := &onnx.ExportOptions{Opset: opset, Score: &onnx.ScoreOutput{Metric: metric, Threshold: &th},
					Metadata: (&score.Threshold{Metric: mt, Value: th, Quantile: 0.5, Rows: n}).Metadata()}
				if err := onnx.WriteFile(f, m, opt); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
				jobs = append(jobs,
					interop.ORTJob{Model: f, Input: xf, Output: f + ".err.npy", Name: onnx.ReconstructionErrorName},
					interop.ORTJob{Model: f, Input: xf, Output: f + ".flag.npy", Name: onnx.IsAnomalyName},
					interop.ORTJob{Model: f, Input: xf, Output: f + ".out.npy"})
				// aekit reads the file back: the same model, the extra
				// outputs named, the threshold in the metadata.
				back, info, err := onnx.ReadFile(f)
				if err != nil {
					t.Fatalf("%v: Read: %v", k, err)
				}
				if !slices.Equal(info.ScoreOutputs, []string{onnx.ReconstructionErrorName, onnx.IsAnomalyName}) || info.OutputName != m.Layers[len(m.Layers)-1].Name {
					t.Errorf("%v: outputs %q + %v", k, info.OutputName, info.ScoreOutputs)
				}
				if got, err := score.FromMetadata(info.Metadata); err != nil || got == nil || got.Value != th || got.Metric != mt {
					t.Errorf("%v: stored threshold %+v %v", k, got, err)
				}
				y0, _ := m.Predict(nil, x)
				y1, err := back.Predict(nil, x)
				if err != nil || !slices.Equal(y0, y1) {
					t.Errorf("%v: the model read back predicts differently (%v)", k, err)
				}
			}
		}
	}
	for _, f := range interop.CheckONNX(t, files) {
		t.Error(f)
	}
	res := interop.ORT(t, dir, jobs)
	worst := 0.0
	for k, s := range want {
		f := filepath.Join(dir, fmt.Sprintf("%s_%s_%d.onnx", k.model, k.metric, k.opset))
		for _, o := range []string{".err.npy", ".flag.npy", ".out.npy"} {
			if e, ok := res[f+o]; !ok || e != "" {
				t.Fatalf("%v: ONNX Runtime %s: %q (ran: %v)", k, o, e, ok)
			}
		}
		got, err := npy.ReadFile(f + ".err.npy")
		if err != nil {
			t.Fatal(err)
		}
		flags, err := npy.ReadFile(f + ".flag.npy")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Data) != n || len(flags.Data) != n || len(got.Shape) != 1 {
			t.Fatalf("%v: shapes %v %v", k, got.Shape, flags.Shape)
		}
		for i, v := range got.Data {
			rel := math.Abs(float64(v)-float64(s[i])) / math.Abs(float64(s[i]))
			worst = max(worst, rel)
			if rel > 1e-5 {
				t.Errorf("%v row %d: ONNX Runtime %.8g, aekit score %.8g (rel %.2g)", k, i, v, s[i], rel)
			}
			// is_anomaly is ONNX Runtime's own error > threshold; it
			// agrees with aekit's except within 1e-5 of the threshold.
			if (flags.Data[i] == 1) != (v > thr[k]) {
				t.Errorf("%v row %d: is_anomaly %v for error %g, threshold %g", k, i, flags.Data[i], v, thr[k])
			}
			if (v > thr[k]) != (s[i] > thr[k]) && math.Abs(float64(s[i]-thr[k])) > 1e-5*float64(thr[k]) {
				t.Errorf("%v row %d: flagged differently from aekit (%g vs %g, threshold %g)", k, i, v, s[i], thr[k])
			}
		}
	}
	t.Logf("%d files; largest relative difference ONNX Runtime vs aekit score: %.2g", len(files), worst)
}

// TestScoreOutputErrors checks the refusals of ExportOptions.Score and
// Metadata.
func TestScoreOutputErrors(t *testing.T) {
	m, err := train.Build(6, train.MustParseArch("3:relu|4:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Marshal(m, &onnx.ExportOptions{Score: &onnx.ScoreOutput{Metric: "mse"}}); err == nil {
		t.Error("6→4 model: want an error for a reconstruction error")
	}
	m, _ = train.Build(6, train.MustParseArch("3:relu|6:sigmoid"), "glorot_uniform", 1)
	if _, err := onnx.Marshal(m, &onnx.ExportOptions{Score: &onnx.ScoreOutput{Metric: "huber"}}); err == nil {
		t.Error("metric huber: want an error")
	}
	if _, err := onnx.Marshal(m, &onnx.ExportOptions{Metadata: map[string]string{onnx.MetaModel: "x"}}); err == nil {
		t.Error("reserved metadata key: want an error")
	}
}
