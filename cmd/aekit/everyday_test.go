package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/train"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// stepTimes matches the time fields of an epoch line.
var stepTimes = regexp.MustCompile(`- \d+s \d+(us|ms|s)/step`)

// normalizeTimes replaces the time fields of epoch lines with a fixed text.
func normalizeTimes(s string) string {
	return stepTimes.ReplaceAllString(s, "- Ts T/step")
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
	m, err := train.Build(8, "4:relu|8:sigmoid", "glorot_uniform", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = train.Fit(t.Context(), m, d, nil, 20, train.Config{Epochs: 1, BatchSize: 4})
	var tre *train.TargetRangeError
	if !errors.Is(err, train.ErrTargetRange) || !errors.As(err, &tre) || tre.What != "data" || tre.Row != 0 || tre.Col != 1 || tre.Value != d[1] {
		t.Errorf("Fit: %v (%+v)", err, tre)
	}
	// Rows of a validation split keep their row numbers.
	scaled := append([]float32(nil), d...)
	for i := range 16 * 8 {
		scaled[i] /= 255
	}
	_, err = train.Fit(t.Context(), m, scaled, nil, 20, train.Config{Epochs: 1, BatchSize: 4, ValidationSplit: 0.2})
	if !errors.As(err, &tre) || tre.Row != 16 {
		t.Errorf("Fit with a validation split: %v", err)
	}
	if _, err := train.Fit(t.Context(), m, d, nil, 20, train.Config{Epochs: 1, BatchSize: 4, AllowUnscaledTargets: true}); err != nil {
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
		golden(t, c.golden, normalizeTimes(stdout))
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
