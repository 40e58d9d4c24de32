package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/golden"
	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/internal/version"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/train"
)

// stepTimes matches the time fields of an epoch line.
var stepTimes = regexp.MustCompile(`- \d+s \d+(us|ms|s)/step`)

// lossValues matches the loss values of epoch lines: their digits depend
// on the kernels' rounding, checked against Keras elsewhere
// (TestKerasFit), not here.
var lossValues = regexp.MustCompile(`(loss: )\d+\.\d{4}`)

// normalizeTimes replaces the time fields and loss values of epoch lines
// with fixed texts, leaving the format to compare.
func normalizeTimes(s string) string {
	return lossValues.ReplaceAllString(stepTimes.ReplaceAllString(s, "- Ts T/step"), "${1}L.LLLL")
}

// TestTrainUnscaledTargets: binary cross-entropy on targets outside
// [0, 1] is refused naming the file, row, column and value with the
// remedies, exit 2 and no model; --allow-unscaled-targets trains; mse
// trains; the library returns a *TargetRangeError (ErrTargetRange).
func TestTrainUnscaledTargets(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "pixels.npy")
	d := writeData(t, data, 20, 8, 1)
	for i := range d {
		d[i] *= 255
	}
	d[0] = 0.5 // row 0 in range but for column 1
	if err := npy.WriteFile(data, &npy.Array{Shape: []int{20, 8}, Data: d}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.keras")
	code, stdout, stderr := runTrainCmd("--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", out)
	wantMsg := "aekit train: " + data + ": row 0 column 1 is " + fmt.Sprintf("%g", d[1]) +
		", but binary cross-entropy needs targets in [0, 1]: scale the data (e.g. divide by 255) or use --loss mse (--allow-unscaled-targets trains anyway)\n"
	if code != exitUsage || stderr != wantMsg || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr\n%q, want\n%q", code, stdout, stderr, wantMsg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a model was written")
	}
	// A separate target file, and validation data, are named as such.
	tgt := filepath.Join(dir, "y.npy")
	if err := npy.WriteFile(tgt, &npy.Array{Shape: []int{20, 8}, Data: d}); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(dir, "ok.npy")
	writeData(t, ok, 20, 8, 2)
	code, _, stderr = runTrainCmd("--data", ok, "--target", tgt, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", out)
	if code != exitUsage || !strings.HasPrefix(stderr, "aekit train: "+tgt+": row 0 column 1") {
		t.Errorf("--target: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runTrainCmd("--data", ok, "--validation-data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", out)
	if code != exitUsage || !strings.HasPrefix(stderr, "aekit train: "+data+": row 0 column 1") {
		t.Errorf("--validation-data: exit %d, stderr %q", code, stderr)
	}
	for _, extra := range [][]string{{"--allow-unscaled-targets"}, {"--loss", "mse"}} {
		args := append([]string{"--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", out, "--verbose", "0"}, extra...)
		if code, _, stderr := runTrainCmd(args...); code != exitOK {
			t.Errorf("%v: exit %d\n%s", extra, code, stderr)
		}
	}

	// The library.
	m, err := train.Build(8, train.MustParseArch("4:relu|8:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = train.Fit(t.Context(), m, train.XY(d, 8, nil, 0), train.Set{}, train.Config{Epochs: 1, BatchSize: 4, NoShuffle: true})
	var tre *train.TargetRangeError
	if !errors.Is(err, train.ErrTargetRange) || !errors.As(err, &tre) || tre.What != "data" || tre.Row != 0 || tre.Col != 1 || tre.Value != d[1] {
		t.Errorf("Fit: %v (%+v)", err, tre)
	}
	// Rows of a validation split keep their row numbers.
	scaled := append([]float32(nil), d...)
	for i := range 16 * 8 {
		scaled[i] /= 255
	}
	_, err = train.Fit(t.Context(), m, train.XY(scaled, 8, nil, 0), train.Set{}, train.Config{Epochs: 1, BatchSize: 4, NoShuffle: true, ValidationSplit: 0.2})
	if !errors.As(err, &tre) || tre.Row != 16 {
		t.Errorf("Fit with a validation split: %v", err)
	}
	if _, err := train.Fit(t.Context(), m, train.XY(d, 8, nil, 0), train.Set{}, train.Config{Epochs: 1, BatchSize: 4, NoShuffle: true, AllowUnscaledTargets: true}); err != nil {
		t.Errorf("AllowUnscaledTargets: %v", err)
	}
}

// TestTrainEpochLog: the epoch log of --verbose 1 (default), 2 and 0
// (and --quiet), golden with the time fields normalised; no progress bar
// off a terminal.
func TestTrainEpochLog(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 100, 8, 1)
	out := filepath.Join(dir, "o.keras")
	base := []string{"--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "2", "--batch-size", "32", "--seed", "3", "-o", out}
	for _, c := range []struct {
		golden string
		extra  []string
	}{
		{"train-verbose1.golden", nil},
		{"train-verbose1-val.golden", []string{"--validation-split", "0.2"}},
		{"train-verbose2.golden", []string{"--verbose", "2", "--validation-split", "0.2"}},
		{"", []string{"--verbose", "0"}},
		{"", []string{"--quiet"}},
	} {
		code, stdout, stderr := runTrainCmd(append(append([]string{}, base...), c.extra...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", c.extra, code, stderr)
		}
		if strings.Contains(stderr, "ETA") {
			t.Errorf("%v: a progress bar off a terminal:\n%s", c.extra, stderr)
		}
		if c.golden == "" {
			if stdout != "" {
				t.Errorf("%v: printed\n%s", c.extra, stdout)
			}
			continue
		}
		if strings.Contains(stdout, "0.0s") {
			t.Errorf("%v: 0.0s in\n%s", c.extra, stdout)
		}
		golden.Check(t, filepath.Join("testdata", c.golden), []byte(normalizeTimes(stdout)))
	}
	for _, bad := range [][]string{{"--verbose", "3"}, {"--quiet", "--verbose", "2"}} {
		if code, _, stderr := runTrainCmd(append(append([]string{}, base...), bad...)...); code != exitUsage {
			t.Errorf("%v: exit %d\n%s", bad, code, stderr)
		}
	}
}

// TestKerasTimeUnit checks the time-per-step units against what tf-keras
// 2.21 prints (99ms/step, 733us/step, 0s, 2s).
func TestKerasTimeUnit(t *testing.T) {
	for _, c := range []struct {
		sec  float64
		want string
	}{{0, "0s"}, {0.099, "99ms"}, {0.000733, "733us"}, {2.4, "2s"}, {0.0009996, "1000us"}, {0.001, "1ms"}, {1e-7, "0us"}} {
		if got := kerasTimeUnit(c.sec); got != c.want {
			t.Errorf("kerasTimeUnit(%g) = %q, want %q", c.sec, got, c.want)
		}
	}
	e := train.EpochLog{Epoch: 0, Epochs: 50, Steps: 235, Loss: 0.29544, ValLoss: 0.28711, Seconds: 0.94}
	if got, want := epochLine(e), "235/235 - 1s 4ms/step - loss: 0.2954 - val_loss: 0.2871"; got != want {
		t.Errorf("epochLine = %q, want %q", got, want)
	}
	e.Seconds, e.ValLoss = 0.012, math.NaN()
	if got, want := epochLine(e), "235/235 - 0s 51us/step - loss: 0.2954"; got != want {
		t.Errorf("epochLine = %q, want %q", got, want)
	}
}

// TestTrainCheckpointFiles: the default checkpoint OUT.ckpt is removed
// after a successful run; --checkpoint PATH keeps it; --checkpoint "" and
// --no-checkpoint write none; --checkpoint=false is refused rather than
// written to a file named false; an interrupted run keeps OUT.ckpt and
// prints a resume command that completes the run and then removes it.
func TestTrainCheckpointFiles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 64, 8, 1)
	out := filepath.Join(dir, "o.keras")
	base := []string{"--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "2", "--batch-size", "16", "-o", out, "--verbose", "0"}
	exists := func(name string) bool { _, err := os.Stat(name); return err == nil }
	for _, c := range []struct {
		extra []string
		keep  string // the checkpoint that must exist afterwards, "" for none
	}{
		{nil, ""},
		{[]string{"--checkpoint", filepath.Join(dir, "keep.ckpt")}, filepath.Join(dir, "keep.ckpt")},
		{[]string{"--checkpoint", ""}, ""},
		{[]string{"--checkpoint="}, ""},
		{[]string{"--no-checkpoint"}, ""},
	} {
		code, _, stderr := runTrainCmd(append(append([]string{}, base...), c.extra...)...)
		if code != exitOK {
			t.Fatalf("%q: exit %d\n%s", c.extra, code, stderr)
		}
		var got []string
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			got = append(got, e.Name())
		}
		want := []string{"o.keras", "x.npy"}
		if c.keep != "" {
			want = append(want, filepath.Base(c.keep))
			if !strings.Contains(stderr, "checkpoint kept in "+c.keep) {
				t.Errorf("%q: stderr %q", c.extra, stderr)
			}
			os.Remove(c.keep)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q: files %v, want %v", c.extra, got, want)
		}
		os.Remove(out)
	}
	for _, bad := range [][]string{{"--checkpoint=false"}, {"--checkpoint", "true"}, {"--no-checkpoint", "--checkpoint", "c.ckpt"}} {
		code, _, stderr := runTrainCmd(append(append([]string{}, base...), bad...)...)
		if code != exitUsage || exists(filepath.Join(dir, "false")) || exists(out) {
			t.Errorf("%q: exit %d, stderr %q", bad, code, stderr)
		}
	}

	// Interrupted (a cancelled context stops after the first batch).
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var o, e bytes.Buffer
	code := func() int {
		o.Reset()
		e.Reset()
		return cmdTrainContext(ctx, base, &o, &e)
	}()
	if code != exitMismatch || !exists(out+".ckpt") || exists(out) {
		t.Fatalf("interrupted: exit %d, stderr %s", code, e.String())
	}
	lines := strings.Split(strings.TrimSpace(e.String()), "\n")
	resume := strings.Fields(strings.TrimSpace(lines[len(lines)-1]))
	if len(resume) < 3 || resume[0] != "aekit" || resume[1] != "train" || !slices.Contains(resume, "--resume") {
		t.Fatalf("no resume command in\n%s", e.String())
	}
	code, stdout, stderr := runTrainCmd(resume[2:]...)
	if code != exitOK || !exists(out) || exists(out+".ckpt") {
		t.Errorf("resumed: exit %d, model %v, checkpoint left %v\n%s%s", code, exists(out), exists(out+".ckpt"), stdout, stderr)
	}
}

// TestInspectCheckpoint: inspect describes a checkpoint (progress, the
// settings it was made with as train flags, its model) instead of calling
// it an unknown format, as text (golden) and JSON.
func TestInspectCheckpoint(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	writeData(t, "x.npy", 100, 8, 1)
	code, _, stderr := runTrainCmd("--data", "x.npy", "--layers", "4:relu|8:sigmoid", "--epochs", "3", "--batch-size", "32",
		"--validation-split", "0.2", "--seed", "7", "--lr", "0.01", "--no-shuffle", "-o", "m.keras", "--checkpoint", "m.ckpt", "--verbose", "0")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var o, e bytes.Buffer
	if code := run([]string{"inspect", "m.ckpt"}, &o, &e); code != exitOK {
		t.Fatalf("inspect: exit %d\n%s", code, e.String())
	}
	t.Chdir(wd)
	golden.Check(t, filepath.Join("testdata", "inspect-checkpoint.golden"), []byte(normalizeTimes(o.String())))
	t.Chdir(dir)
	o.Reset()
	if code := run([]string{"inspect", "--json", "m.ckpt"}, &o, &e); code != exitOK {
		t.Fatalf("inspect --json: exit %d\n%s", code, e.String())
	}
	var ci checkpointInfo
	if err := json.Unmarshal(o.Bytes(), &ci); err != nil {
		t.Fatal(err)
	}
	if ci.EpochsDone != 3 || ci.Epochs != 3 || ci.Rows != 80 || ci.ValRows != 20 || ci.Loss == nil || ci.ValLoss == nil ||
		!slices.Contains(ci.Flags, "--no-shuffle") || ci.Model.Params != 76 {
		t.Errorf("inspect --json: %+v", ci)
	}
}

// onnxNames returns the graph input and output names of an ONNX file.
func onnxNames(t *testing.T, name string) (string, string) {
	t.Helper()
	_, info, err := onnx.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return info.InputName, info.OutputName
}

// TestONNXTensorNames: exported ONNX files name their input after the
// Keras InputLayer and their output after the last layer (as tf2onnx
// does); the names survive convert round trips (ONNX→ONNX, ONNX→.keras
// and .h5→ONNX); --input-name and --output-name rename them on train and
// convert; --layer names the output after the cut; --output-name on a
// Keras output is refused.
func TestONNXTensorNames(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 64, 8, 1)
	p := func(n string) string { return filepath.Join(dir, n) }
	if code, _, stderr := runTrainCmd("--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", p("m.onnx"), "--verbose", "0"); code != exitOK {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runTrainCmd("--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", p("named.onnx"), "--verbose", "0",
		"--input-name", "pixels", "--output-name", "recon"); code != exitOK {
		t.Fatalf("train --input-name: exit %d\n%s", code, stderr)
	}
	convert := func(args ...string) {
		t.Helper()
		var o, e bytes.Buffer
		if code := run(append([]string{"convert"}, args...), &o, &e); code != exitOK {
			t.Fatalf("convert %v: exit %d\n%s", args, code, e.String())
		}
	}
	convert(p("m.onnx"), p("m2.onnx"))
	convert(p("m.onnx"), p("m.keras"))
	convert(p("m.keras"), p("m3.onnx"))
	convert(p("m.onnx"), p("m.h5"))
	convert(p("m.h5"), p("m4.onnx"))
	convert(p("m.onnx"), p("r.onnx"), "--input-name", "pixels", "--output-name", "recon")
	convert(p("r.onnx"), p("r2.onnx"))
	convert(p("r.onnx"), p("r.keras"))
	convert(p("r.keras"), p("r3.onnx"))
	convert(p("r.onnx"), p("enc.onnx"), "--layer", "encoder")
	for _, c := range []struct{ file, in, out string }{
		{"m.onnx", "input_layer", "decoder"},
		{"m2.onnx", "input_layer", "decoder"},
		{"m3.onnx", "input_layer", "decoder"},
		{"m4.onnx", "input_layer", "decoder"},
		{"named.onnx", "pixels", "recon"},
		{"r.onnx", "pixels", "recon"},
		{"r2.onnx", "pixels", "recon"},
		{"r3.onnx", "pixels", "decoder"}, // Keras names outputs after layers
		{"enc.onnx", "pixels", "encoder"},
	} {
		if in, out := onnxNames(t, p(c.file)); in != c.in || out != c.out {
			t.Errorf("%s: input %q output %q, want %q %q", c.file, in, out, c.in, c.out)
		}
	}
	for _, bad := range [][]string{
		{p("m.onnx"), p("bad.keras"), "--output-name", "y"},
		{p("m.onnx"), p("bad.onnx"), "--input-name", "y", "--output-name", "y"},
	} {
		var o, e bytes.Buffer
		if code := run(append([]string{"convert"}, bad...), &o, &e); code != exitUsage || !strings.Contains(e.String(), "-name") {
			t.Errorf("convert %v: exit %d, stderr %q", bad, code, e.String())
		}
	}
}

// TestMessagesNoGoAPI: the command line's errors say --model and --output
// where the library's name its Options fields.
func TestMessagesNoGoAPI(t *testing.T) {
	dir := sharedDir(t)
	vae := filepath.Join(dir, "k2_nested_vae_saveweights_brianrice2.h5")
	arch := filepath.Join(dir, "k2_nested_vae_saveweights_brianrice2_arch.json")
	in := filepath.Join("..", "..", "fixtures", "keras", "real", "k2_nested_vae_saveweights_brianrice2.h5.input.npy")
	out := filepath.Join(t.TempDir(), "y.npy")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", vae, "--arch", arch, "-i", in, "-o", out}, "nested models load alone with --model NAME: encoder"},
		{[]string{"predict", vae, "--arch", arch, "--model", "encoder", "-i", in, "-o", out}, "load the layers feeding one with --output NAME: z_mean"},
	} {
		var o, e bytes.Buffer
		code := run(c.args, &o, &e)
		if code != exitUsage || !strings.Contains(e.String(), c.want) || strings.Contains(e.String(), "Options.") {
			t.Errorf("%v: exit %d, stderr %q, want %q and no Go API field", c.args[1:], code, e.String(), c.want)
		}
	}
}

// TestCheckReport: check's summary reads as a pass when it passes, naming
// the rule that passed (a large relative error on a value within atol of
// zero is not a failure), and as a failure when it fails (golden).
func TestCheckReport(t *testing.T) {
	var b strings.Builder
	want := []float32{1e-6, 1, 0.5, -2}
	pass := []float32{1.109e-6, 1.000004, 0.5, -2}
	if code := report(&b, pass, want, 2, 1e-5, 1e-5); code != exitOK {
		t.Errorf("pass: exit %d", code)
	}
	fail := []float32{1.109e-6, 1.1, 0.5, -2}
	if code := report(&b, fail, want, 2, 1e-5, 1e-5); code != exitMismatch {
		t.Errorf("fail: exit %d", code)
	}
	golden.Check(t, filepath.Join("testdata", "check-report.golden"), []byte(b.String()))
	// --json: the same comparison.
	var o bytes.Buffer
	if code := reportJSON(&o, &o, compare(fail, want, 2, 1e-5, 1e-5), "y.npy"); code != exitMismatch {
		t.Errorf("reportJSON: exit %d", code)
	}
	var r checkResult
	if err := json.Unmarshal(o.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.OK || r.OutOfTol != 1 || r.Worst == nil || r.Worst.Sample != 0 || r.Worst.Output != 1 || r.Worst.Got != "1.1" || r.Expected != "y.npy" {
		t.Errorf("check --json: %s", o.String())
	}
}

// TestInspectWriter: inspect says who wrote a file: an aekit-written Keras
// file is "written by aekit VERSION in Keras 3.10 layout" (the version is
// recorded as Keras records its own: metadata.json's aekit_version, the
// .h5 root attribute aekit_version), not a Keras 3.10 file; an ONNX file
// from tf2onnx shows its producer without Python's None.
func TestInspectWriter(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "fixtures", "onnx", "torch_relu_sigmoid.onnx")
	for _, c := range []struct{ file, want string }{
		{filepath.Join(dir, "m.keras"), "Format: Keras zip (.keras), written by aekit " + version.String() + " in Keras 3.10 layout\n"},
		{filepath.Join(dir, "m.h5"), "Format: Keras HDF5 full model (.h5), written by aekit " + version.String() + " in Keras 2.15 layout (tensorflow)\n"},
		{filepath.Join("..", "..", "fixtures", "onnx", "tf2onnx_tk2_activations.onnx"), "Format: ONNX (IR 7, opset 13), produced by tf2onnx 1.17.0\n"},
	} {
		var o, e bytes.Buffer
		if filepath.Dir(c.file) == dir {
			if code := run([]string{"convert", src, c.file}, &o, &e); code != exitOK {
				t.Fatalf("convert: %s", e.String())
			}
		}
		o.Reset()
		if code := run([]string{"inspect", c.file}, &o, &e); code != exitOK {
			t.Fatalf("inspect %s: %s", c.file, e.String())
		}
		lines := strings.SplitAfter(o.String(), "\n")
		if len(lines) < 2 || lines[1] != c.want {
			t.Errorf("%s: %q, want %q", filepath.Base(c.file), lines[1], c.want)
		}
	}
}

// TestDidYouMean: a mistyped command or flag gives a "did you mean" line
// and where to look, not the whole usage (golden).
func TestDidYouMean(t *testing.T) {
	var b strings.Builder
	for _, args := range [][]string{
		{"trian"}, {"inspct", "m.h5"}, {"frobnicate"},
		{"train", "--epoch", "3"}, {"train", "--chekpoint", "c"}, {"predict", "m.h5", "--bach-size", "3"},
		{"predict", "m.h5", "--batch-size", "x"}, {"convert", "a", "b", "--opst", "13"}, {"check", "m", "--zzz"},
	} {
		var o, e bytes.Buffer
		code := run(args, &o, &e)
		fmt.Fprintf(&b, "$ aekit %s\nexit %d\n%s%s", strings.Join(args, " "), code, o.String(), e.String())
		if code != exitUsage || strings.Contains(e.String(), "usage:") {
			t.Errorf("%v: exit %d, printed the usage", args, code)
		}
	}
	golden.Check(t, filepath.Join("testdata", "did-you-mean.golden"), []byte(b.String()))
}

// TestPredictStdio: -i - reads a .npy from standard input, -o - writes
// the .npy to standard output (the same bytes as a file), a summary line
// goes to standard error, and an output name other than .npy is refused
// before any work.
func TestPredictStdio(t *testing.T) {
	dir := t.TempDir()
	data, model := smallModel(t, dir)
	var o, e bytes.Buffer
	file := filepath.Join(dir, "y.npy")
	if code := run([]string{"predict", model, "-i", data, "-o", file}, &o, &e); code != exitOK {
		t.Fatal(e.String())
	}
	if got, want := e.String(), "aekit predict: wrote "+file+": (10, 8) float32 outputs of "+model+"\n"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	setStdin(t, data)
	o.Reset()
	e.Reset()
	if code := run([]string{"predict", model, "-i", "-", "-o", "-"}, &o, &e); code != exitOK {
		t.Fatal(e.String())
	}
	want, _ := os.ReadFile(file)
	if !bytes.Equal(o.Bytes(), want) {
		t.Errorf("standard output: %d bytes, the file %d", o.Len(), len(want))
	}
	for _, out := range []string{"y.csv", "y.txt", "y"} {
		o.Reset()
		e.Reset()
		code := run([]string{"predict", model, "-i", data, "-o", filepath.Join(dir, out)}, &o, &e)
		if code != exitUsage || !strings.Contains(e.String(), "ending in .npy") {
			t.Errorf("-o %s: exit %d, %q", out, code, e.String())
		}
		if _, err := os.Stat(filepath.Join(dir, out)); err == nil {
			t.Errorf("-o %s: written", out)
		}
	}
}

// TestCompletion: the bash script (zsh loads the same through
// bashcompinit) parses and completes commands and each command's flags in
// a real bash; the fish script lists every flag; an unknown shell fails.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on PATH")
	}
	dir := t.TempDir()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var o, e bytes.Buffer
		if code := run([]string{"completion", sh}, &o, &e); code != exitOK {
			t.Fatalf("%s: exit %d %s", sh, code, e.String())
		}
		if err := os.WriteFile(filepath.Join(dir, sh), o.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `source "$1"
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aekit; echo "${COMPREPLY[*]}"; }
complete_words aekit tra
complete_words aekit train --chec
complete_words aekit convert x --input-
complete_words aekit predict m --bat
complete_words aekit completion f`
	out, err := exec.Command(bash, "-c", script, "bash", filepath.Join(dir, "bash")).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := "train\n--checkpoint\n--input-name\n--batch-size\nfish\n"
	if string(out) != want {
		t.Errorf("bash completions:\n%s\nwant\n%s", out, want)
	}
	// zsh runs the bash function through bashcompinit; fish completes
	// command lines itself (complete -C). Both shells come with make deps.
	zsh, err := exec.LookPath("zsh")
	interop.Need(t, "zsh (Debian zsh)", err)
	zshScript := `autoload -U compinit && compinit -u
source "$1"
# as bashcompinit's _bash_complete calls a bash completion function
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aekit; echo "${COMPREPLY[*]}"; }
complete_words aekit tra
complete_words aekit train --chec
complete_words aekit convert x --input-
complete_words aekit predict m --bat
complete_words aekit completion f`
	out, err = exec.Command(zsh, "-c", zshScript, "zsh", filepath.Join(dir, "zsh")).CombinedOutput()
	// bashcompinit's compgen leaves filtering by the typed prefix to zsh,
	// so each line holds all the candidates of its position: the wanted
	// word must be among them, and another command's flags must not.
	zl := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	wl := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	notWant := []string{"--checkpoint", "--format", "--checkpoint", "--format", "--arch"}
	if err != nil || len(zl) != len(wl) {
		t.Fatalf("zsh completions (%v):\n%s", err, out)
	}
	for i := range wl {
		words := strings.Fields(zl[i])
		if !slices.Contains(words, wl[i]) || slices.Contains(words, notWant[i]) {
			t.Errorf("zsh completion %d: %q; want it to hold %q and not %q", i, zl[i], wl[i], notWant[i])
		}
	}
	fishSh, err := exec.LookPath("fish")
	interop.Need(t, "fish (Debian fish)", err)
	fishScript := `source $argv[1]
complete -C "aekit tra"
complete -C "aekit train --chec"
complete -C "aekit convert x --input-"
complete -C "aekit completion f"`
	out, err = exec.Command(fishSh, "-c", fishScript, filepath.Join(dir, "fish")).CombinedOutput()
	if err != nil {
		t.Fatalf("fish: %v\n%s", err, out)
	}
	got := string(out)
	for _, w := range []string{"train\t", "--checkpoint", "--input-name", "fish"} {
		if !strings.Contains(got, w) {
			t.Errorf("fish completions lack %q:\n%s", w, got)
		}
	}
	fish, _ := os.ReadFile(filepath.Join(dir, "fish"))
	for _, line := range []string{"-a train", "'__fish_seen_subcommand_from train' -l allow-unscaled-targets\n",
		"'__fish_seen_subcommand_from predict' -s o -r -F\n", "'__fish_seen_subcommand_from train' -l data -r -F\n"} {
		if !strings.Contains(string(fish), line) {
			t.Errorf("fish script lacks %q", line)
		}
	}
	var o, e bytes.Buffer
	if code := run([]string{"completion", "tcsh"}, &o, &e); code != exitUsage {
		t.Errorf("tcsh: exit %d", code)
	}
}

// TestJSONSummaries: convert --json and predict --json describe what they
// wrote as JSON; version --json too.
func TestJSONSummaries(t *testing.T) {
	dir := t.TempDir()
	data, model := smallModel(t, dir)
	var o, e bytes.Buffer
	if code := run([]string{"convert", model, filepath.Join(dir, "m.keras"), "--json"}, &o, &e); code != exitOK {
		t.Fatal(e.String())
	}
	var c struct {
		Input, Output string
		Layers        int
		Params        int
	}
	if err := json.Unmarshal(o.Bytes(), &c); err != nil || c.Input != model || c.Params != 76 || c.Layers != 4 {
		t.Errorf("convert --json: %v %s", err, o.String())
	}
	o.Reset()
	e.Reset()
	if code := run([]string{"predict", model, "-i", data, "-o", filepath.Join(dir, "y.npy"), "--json"}, &o, &e); code != exitOK {
		t.Fatal(e.String())
	}
	var p struct {
		Output string
		Shape  []int
	}
	defer func() {
		var o, e bytes.Buffer
		var v struct{ Version, Go string }
		if code := run([]string{"version", "--json"}, &o, &e); code != exitOK || json.Unmarshal(o.Bytes(), &v) != nil || v.Version != version.String() || v.Go == "" {
			t.Errorf("version --json: exit %d, %s%s", code, o.String(), e.String())
		}
	}()
	if err := json.Unmarshal(e.Bytes(), &p); err != nil || !slices.Equal(p.Shape, []int{10, 8}) || o.Len() != 0 {
		t.Errorf("predict --json: %v %s", err, e.String())
	}
}

// smallModel writes 10 rows of 8 values to dir/x.npy and trains a 8-4-8
// autoencoder on them for one epoch, saved as dir/m.onnx.
func smallModel(t *testing.T, dir string) (data, model string) {
	t.Helper()
	data, model = filepath.Join(dir, "x.npy"), filepath.Join(dir, "m.onnx")
	writeData(t, data, 10, 8, 1)
	if code, _, stderr := runTrainCmd("--data", data, "--layers", "4:relu|8:sigmoid", "--epochs", "1", "-o", model, "--verbose", "0"); code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	return data, model
}
