package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/score"
	"github.com/aekit/aekit/train"
)

// TestEvaluateScoreKeras compares aekit evaluate with Keras 3's
// model.evaluate (TensorFlow backend, run live on the .keras files aekit
// wrote) within 1e-6 relative, and aekit score's rows with Keras's
// per-sample loss functions within 1e-5 relative: a sigmoid output
// (binary cross-entropy from the logits) and a linear one (clipped
// probabilities), mse, mae and binary_crossentropy, batch sizes that leave
// a partial last batch, an explicit target, a model with Dropout, and an
// .h5 file (written as Keras 2 writes them) against tf-keras's evaluate.
func TestEvaluateScoreKeras(t *testing.T) {
	py := interop.PythonFound(t, "keras", "tensorflow", "tf_keras")
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	const n, w = 70, 12
	x := make([]float32, n*w)
	y := make([]float32, n*w)
	for i := range x {
		x[i], y[i] = r.Float32(), r.Float32()
	}
	xf, yf := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	for f, v := range map[string][]float32{xf: x, yf: y} {
		if err := npy.WriteFile(f, &npy.Array{Shape: []int{n, w}, Data: v}); err != nil {
			t.Fatal(err)
		}
	}
	models := map[string]string{}
	for name, spec := range map[string]string{"sig": "8:relu|12:sigmoid", "lin": "8:tanh|12:linear", "drop": "8:relu|12:sigmoid"} {
		m, err := train.Build(w, train.MustParseArch(spec), "glorot_uniform", 3)
		if err != nil {
			t.Fatal(err)
		}
		if name == "drop" {
			// Dropout acts only in training: evaluate passes values through.
			m.Layers = append([]*runtime.Layer{{Name: "dropout", Type: runtime.Identity, Class: "Dropout", Rate: 0.4}}, m.Layers...)
		}
		models[name] = writeModel(t, dir, name+".keras", m)
		if name == "lin" {
			// aekit writes .h5 files as Keras 2 does: evaluate then uses
			// Keras 2's binary cross-entropy (ε inside the logarithms).
			models["lin.h5"] = writeModel(t, dir, "lin.h5", m)
		}
	}
	type job struct {
		Model     string  `json:"model"`
		Input     string  `json:"input"`
		Target    *string `json:"target"`
		Loss      string  `json:"loss"`
		BatchSize int     `json:"batch_size"`
		Loader    string  `json:"loader,omitempty"`
	}
	var jobs []job
	for _, name := range []string{"sig", "lin"} {
		for _, loss := range []string{"binary_crossentropy", "mean_squared_error", "mean_absolute_error"} {
			for _, bs := range []int{32, 7} {
				jobs = append(jobs, job{models[name], xf, nil, loss, bs, ""})
			}
		}
	}
	jobs = append(jobs, job{models["sig"], xf, &yf, "binary_crossentropy", 32, ""},
		job{models["drop"], xf, nil, "binary_crossentropy", 32, ""}, job{models["drop"], xf, nil, "mean_squared_error", 7, ""},
		job{models["lin.h5"], xf, &yf, "binary_crossentropy", 7, "tf_keras"})
	jf := filepath.Join(dir, "jobs.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := interop.Command(py, interop.Script(t, "keras_evaluate.py"), jf).Output()
	if err != nil {
		t.Fatalf("keras_evaluate.py: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(jobs) {
		t.Fatalf("keras_evaluate.py printed %d lines for %d jobs:\n%s", len(lines), len(jobs), out)
	}
	var worstEv, worstRow float64
	for i, j := range jobs {
		var k struct {
			Evaluate float64   `json:"evaluate"`
			Rows     []float64 `json:"rows"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &k); err != nil {
			t.Fatal(err)
		}
		args := []string{"evaluate", j.Model, "-i", j.Input, "--loss", j.Loss, "--batch-size", strconv.Itoa(j.BatchSize), "--json"}
		if j.Target != nil {
			args = append(args, "--target", *j.Target)
		}
		var got struct {
			Loss float64 `json:"loss"`
			Rows int     `json:"rows"`
		}
		if err := json.Unmarshal([]byte(runOK(t, args...)), &got); err != nil {
			t.Fatal(err)
		}
		rel := math.Abs(got.Loss-k.Evaluate) / k.Evaluate
		worstEv = max(worstEv, rel)
		what := fmt.Sprintf("%s %s batch %d target %v", filepath.Base(j.Model), j.Loss, j.BatchSize, j.Target != nil)
		if rel > 1e-6 || got.Rows != n {
			t.Errorf("%s: aekit evaluate %.9g (%d rows), Keras %.9g (rel %.2g)", what, got.Loss, got.Rows, k.Evaluate, rel)
		}
		if j.Target != nil || j.BatchSize != 32 {
			continue
		}
		metric := map[string]string{"binary_crossentropy": "bce", "mean_squared_error": "mse", "mean_absolute_error": "mae"}[j.Loss]
		sf := filepath.Join(dir, "s.npy")
		runOK(t, "score", j.Model, "-i", j.Input, "-o", sf, "--metric", metric, "--batch-size", "16")
		s, err := npy.ReadFile(sf)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Shape) != 1 || s.Shape[0] != n || s.DType != "<f4" {
			t.Fatalf("%s: scores shape %v dtype %s, want (%d,) float32", what, s.Shape, s.DType, n)
		}
		for r, v := range s.Data {
			rel := math.Abs(float64(v)-k.Rows[r]) / k.Rows[r]
			worstRow = max(worstRow, rel)
			if rel > 1e-5 {
				t.Errorf("%s row %d: aekit score %.8g, Keras %.8g", what, r, v, k.Rows[r])
			}
		}
	}
	t.Logf("largest relative difference from Keras: evaluate %.2g, score rows %.2g", worstEv, worstRow)
}

// TestScoreCLI checks calibration (the numpy-linear quantile of the
// normal rows' scores), the sidecar round trip, the report with labels
// (class ids and 0/1) and the plot, and bad input.
func TestScoreCLI(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(21, 22))
	const n, w = 40, 10
	x := make([]float32, n*w)
	lab := make([]float32, n)
	for i := range n {
		lab[i] = float32(i % 3)
		for j := range w {
			v := r.Float32() * 0.2
			if lab[i] == 2 {
				v = r.Float32() // anomalies: noisier rows
			}
			x[i*w+j] = v
		}
	}
	xf, lf := filepath.Join(dir, "x.npy"), filepath.Join(dir, "labels.npy")
	npy.WriteFile(xf, &npy.Array{Shape: []int{n, w}, Data: x})
	npy.WriteFile(lf, &npy.Array{Shape: []int{n}, Data: lab})
	m, err := train.Build(w, train.MustParseArch("4:relu|10:sigmoid"), "glorot_uniform", 5)
	if err != nil {
		t.Fatal(err)
	}
	mf := writeModel(t, dir, "m.keras", m)
	sf := filepath.Join(dir, "s.npy")
	png := filepath.Join(dir, "h.png")
	out := runOK(t, "score", mf, "-i", xf, "-o", sf, "--metric", "mae", "--calibrate", xf, "--quantile", "0.9",
		"--save-threshold", "--labels", lf, "--normal-classes", "0,1", "--plot", png)
	s, err := npy.ReadFile(sf)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := score.Quantile(s.Data, 0.9)
	th, err := score.ReadSidecar(mf)
	if err != nil || th == nil {
		t.Fatalf("sidecar: %v %v", th, err)
	}
	if th.Value != float32(want) || th.Metric != score.MAE || th.Quantile != 0.9 || th.Rows != n {
		t.Errorf("stored %+v, want mae %g from %d rows", th, float32(want), n)
	}
	y := make([]bool, n)
	for i, v := range lab {
		y[i] = v == 2
	}
	rep, _ := score.Evaluate(s.Data, y)
	for _, s := range []string{fmt.Sprintf("ROC AUC %.4f", rep.ROCAUC), fmt.Sprintf("average precision) %.4f", rep.AveragePrecision),
		"at the threshold", "at the best-F1 one", "saved to"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("plot: %v", err)
	}
	// --layer decoder (the last sub-model) scores the whole model's output;
	// --layer encoder (width 4) cannot be a reconstruction.
	sl := filepath.Join(dir, "sl.npy")
	runOK(t, "score", mf, "-i", xf, "-o", sl, "--metric", "mae", "--layer", "decoder")
	if sd, err := npy.ReadFile(sl); err != nil || !slices.Equal(sd.Data, s.Data) {
		t.Errorf("--layer decoder: %v", err)
	}
	runFail(t, []string{"equal widths"}, "score", mf, "-i", xf, "-o", sl, "--layer", "encoder")
	// The stored threshold and its metric are used without flags.
	out = runOK(t, "score", mf, "-i", xf, "--labels", lf, "--normal-classes", "0,1")
	if !strings.Contains(out, "mae per row") || !strings.Contains(out, "threshold "+strconv.FormatFloat(float64(th.Value), 'g', 6, 32)) {
		t.Errorf("stored threshold not used:\n%s", out)
	}
	// 0/1 labels.
	l01 := filepath.Join(dir, "y01.npy")
	v01 := make([]float32, n)
	for i, b := range y {
		if b {
			v01[i] = 1
		}
	}
	npy.WriteFile(l01, &npy.Array{Shape: []int{n}, Data: v01})
	if out2 := runOK(t, "score", mf, "-i", xf, "--labels", l01); !strings.Contains(out2, fmt.Sprintf("ROC AUC %.4f", rep.ROCAUC)) {
		t.Errorf("0/1 labels:\n%s", out2)
	}
	// Bad input: one line, exit 2, no output file.
	bad := filepath.Join(dir, "bad.npy")
	runFail(t, []string{"--labels", lf, "not 0 or 1"}, "score", mf, "-i", xf, "-o", bad, "--labels", lf)
	runFail(t, []string{"--metric", "huber"}, "score", mf, "-i", xf, "-o", bad, "--metric", "huber")
	runFail(t, []string{"--quantile"}, "score", mf, "-i", xf, "-o", bad, "--calibrate", xf, "--quantile", "1.5")
	for _, v := range []string{"nan", "NaN", "inf", "-Inf", "1e39"} {
		runFail(t, []string{"--threshold", "must be a finite number"}, "score", mf, "-i", xf, "-o", bad, "--threshold", v)
	}
	short := filepath.Join(dir, "short.npy")
	npy.WriteFile(short, &npy.Array{Shape: []int{3}, Data: []float32{0, 1, 0}})
	runFail(t, []string{short, "3 rows"}, "score", mf, "-i", xf, "-o", bad, "--labels", short)
	if _, err := os.Stat(bad); err == nil {
		t.Errorf("a failed score wrote %s", bad)
	}
	runFail(t, []string{"--target", "short.npy"}, "evaluate", mf, "-i", filepath.Join(dir, "x.npy"), "--target", short)
}

// TestScoreConvertRoundTrip follows a threshold from aekit score
// --save-threshold through aekit convert --score into ONNX (metadata and
// is_anomaly; ONNX Runtime's reconstruction_error within 1e-5 of aekit
// score's) and back into a Keras file's sidecar, and checks aekit train
// -o X.onnx --score.
func TestScoreConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(41, 42))
	const n, w = 50, 16
	x := make([]float32, n*w)
	for i := range x {
		x[i] = r.Float32()
	}
	xf := filepath.Join(dir, "x.npy")
	npy.WriteFile(xf, &npy.Array{Shape: []int{n, w}, Data: x})
	m, err := train.Build(w, train.MustParseArch("5:relu|16:sigmoid"), "glorot_uniform", 8)
	if err != nil {
		t.Fatal(err)
	}
	mk := writeModel(t, dir, "m.keras", m)
	sk := filepath.Join(dir, "sk.npy")
	runOK(t, "score", mk, "-i", xf, "-o", sk, "--metric", "bce", "--calibrate", xf, "--quantile", "0.8", "--save-threshold")
	th, err := score.ReadSidecar(mk)
	if err != nil || th == nil {
		t.Fatal(th, err)
	}
	var files []string
	var jobs []interop.ORTJob
	for _, opset := range []string{"11", "18"} {
		mo := filepath.Join(dir, "m"+opset+".onnx")
		out := runOK(t, "convert", mk, mo, "--score", "bce", "--opset", opset)
		if !strings.Contains(out, "is_anomaly") {
			t.Errorf("convert: %s", out)
		}
		files = append(files, mo)
		if out := runOK(t, "inspect", mo); !strings.Contains(out, "Anomaly outputs: reconstruction_error, is_anomaly (metric bce, threshold") {
			t.Errorf("inspect does not show the anomaly outputs:\n%s", out)
		}
		jobs = append(jobs, interop.ORTJob{Model: mo, Input: xf, Output: mo + ".err.npy", Name: "reconstruction_error"},
			interop.ORTJob{Model: mo, Input: xf, Output: mo + ".flag.npy", Name: "is_anomaly"})
		// aekit score reads the ONNX file and its stored threshold.
		so := filepath.Join(dir, "so"+opset+".npy")
		out = runOK(t, "score", mo, "-i", xf, "-o", so)
		if !strings.Contains(out, "bce per row") || !strings.Contains(out, "metadata") {
			t.Errorf("score on ONNX did not use the stored metric and threshold:\n%s", out)
		}
	}
	// Keras output: the threshold goes to its sidecar.
	back := filepath.Join(dir, "back.keras")
	runOK(t, "convert", files[1], back)
	if got, err := score.ReadSidecar(back); err != nil || got == nil || *got != *th {
		t.Errorf("sidecar of the converted Keras file: %+v %v, want %+v", got, err, th)
	}
	for _, f := range interop.CheckONNX(t, files) {
		t.Error(f)
	}
	res := interop.ORT(t, dir, jobs)
	want, _ := npy.ReadFile(sk)
	for _, mo := range files {
		for _, o := range []string{".err.npy", ".flag.npy"} {
			if e, ok := res[mo+o]; !ok || e != "" {
				t.Fatalf("%s%s: ONNX Runtime: %q", mo, o, e)
			}
		}
		got, _ := npy.ReadFile(mo + ".err.npy")
		flags, _ := npy.ReadFile(mo + ".flag.npy")
		for i, v := range want.Data {
			if rel := math.Abs(float64(got.Data[i]-v)) / float64(v); rel > 1e-5 {
				t.Errorf("%s row %d: ONNX Runtime %g, aekit score %g", mo, i, got.Data[i], v)
			}
			if (flags.Data[i] == 1) != (got.Data[i] > th.Value) {
				t.Errorf("%s row %d: is_anomaly %g for %g, threshold %g", mo, i, flags.Data[i], got.Data[i], th.Value)
			}
		}
	}
	// train -o X.onnx --score.
	to := filepath.Join(dir, "t.onnx")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--data", xf, "--layers", "4:relu|16:sigmoid", "--epochs", "1", "--score", "mae", "-o", to}, &stdout, &stderr); code != exitOK {
		t.Fatalf("train --score: exit %d: %s", code, stderr.String())
	}
	_, info, err := onnx.ReadFile(to)
	if err != nil || !slices.Equal(info.ScoreOutputs, []string{"reconstruction_error"}) || info.Metadata[score.MetaMetric] != "mae" {
		t.Errorf("train --score: %v %v", info, err)
	}
	runFail(t, []string{"--score", ".onnx"}, "train", "--data", xf, "--layers", "4:relu|16:sigmoid", "--score", "mse", "-o", filepath.Join(dir, "t.keras"))
	runFail(t, []string{"--score", "huber"}, "convert", mk, filepath.Join(dir, "x.onnx"), "--score", "huber")
}

// TestSelect selects the rows of some classes of the shipped Fashion-MNIST
// test images: the count of each class, the sample shape, the /255
// scaling of uint8 pixels, and the rows' order.
func TestSelect(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join("..", "..", "fixtures", "data", "fashion-test.npy")
	lf := filepath.Join("..", "..", "fixtures", "data", "fashion-test-labels.npy")
	out := filepath.Join(dir, "sel.npy")
	runOK(t, "select", "-i", x, "--labels", lf, "--classes", "5, 8", "-o", out)
	all, err := npy.ReadFile(x)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := npy.ReadFile(lf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want []float32
	for i, c := range lab.Data {
		if c == 5 || c == 8 {
			for _, v := range all.Data[i*784 : (i+1)*784] {
				want = append(want, v/255)
			}
		}
	}
	if !slices.Equal(got.Shape, []int{len(want) / 784, 28, 28}) || !slices.Equal(got.Data, want) {
		t.Errorf("selected shape %v (%d values), want %d rows of 28×28 scaled by 1/255", got.Shape, len(got.Data), len(want)/784)
	}
	runFail(t, []string{"--classes", "x"}, "select", "-i", x, "--labels", lf, "--classes", "1,x", "-o", out)
	runFail(t, []string{"--labels", "1000 rows"}, "select", "-i", filepath.Join("..", "..", "fixtures", "data", "fashion-train.npy"), "--labels", lf, "--classes", "1", "-o", out)
}
