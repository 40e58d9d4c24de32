package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aekit/aekit/npy"
	aert "github.com/aekit/aekit/runtime"
)

// writeData writes n rows of width seeded uniform values to a .npy file.
func writeData(t *testing.T, name string, n, width int, seed uint64) []float32 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	d := make([]float32, n*width)
	for i := range d {
		d[i] = r.Float32()
	}
	if err := npy.WriteFile(name, &npy.Array{Shape: []int{n, width}, Data: d}); err != nil {
		t.Fatal(err)
	}
	return d
}

func runTrainCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = cmdTrain(args, &o, &e)
	return code, o.String(), e.String()
}

// TestTrainSeedModel trains the seed model end to end, saves it, reloads
// it and compares the reloaded outputs with a fresh resume-free rerun's
// weights through predict.
func TestTrainSeedModel(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	x := writeData(t, data, 200, 100, 1)
	out := filepath.Join(dir, "ae.keras")
	hist := filepath.Join(dir, "h.csv")
	code, stdout, stderr := runTrainCmd("--data", data, "--layers", "10:relu,10:relu|100:sigmoid,100:sigmoid",
		"--epochs", "3", "--batch-size", "32", "--validation-split", "0.25", "--seed", "5", "-o", out,
		"--history", hist, "--plot", filepath.Join(dir, "loss.png"), "--checkpoint", out+".ckpt")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	line := regexp.MustCompile(`^(Epoch [123]/3|5/5 - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - val_loss: \d\.\d{4})$`)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 3 epoch lines, got:\n%s", stdout)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("log line %q is not Keras-style", l)
		}
	}
	h, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Split(strings.TrimSpace(string(h)), "\n"); rows[0] != "epoch,loss,val_loss,seconds" || len(rows) != 4 || !strings.HasPrefix(rows[3], "3,") {
		t.Errorf("history:\n%s", h)
	}
	if _, err := os.Stat(filepath.Join(dir, "loss.png")); err != nil {
		t.Error(err)
	}
	m, _, err := openModel(out, "", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Submodel("encoder"); err != nil {
		t.Errorf("reloaded model lost its encoder: %v", err)
	}
	p, err := m.Predict(nil, x[:100])
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range p {
		if !(v > 0 && v < 1) || math.IsNaN(float64(v)) {
			t.Fatalf("reloaded output %g outside (0, 1)", v)
		}
	}

	// Resume from the checkpoint for 2 more epochs.
	code, stdout, stderr = runTrainCmd("--data", data, "--resume", out+".ckpt", "--epochs", "5", "-o", filepath.Join(dir, "ae2.keras"))
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "Epoch 4/5") || !strings.Contains(stdout, "Epoch 5/5") {
		t.Errorf("resume log:\n%s", stdout)
	}
}

// TestTrainBadInput checks exit code 2 and the messages of bad input.
func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 20, 16, 1)
	nan := filepath.Join(dir, "nan.npy")
	d := writeData(t, nan, 20, 16, 1)
	d[13*16+2] = float32(math.NaN())
	npy.WriteFile(nan, &npy.Array{Shape: []int{20, 16}, Data: d})
	short := filepath.Join(dir, "short.npy")
	writeData(t, short, 19, 16, 1)
	wide := filepath.Join(dir, "wide.npy")
	writeData(t, wide, 20, 17, 1)
	out := filepath.Join(dir, "o.keras")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--data", nan, "--layers", "4:relu|16:sigmoid", "-o", out}, "row 13"},
		{[]string{"--data", data, "--layers", "4:relu|16:sigmoid", "--optimizer", "adamw", "-o", out}, "valid: adagrad, adam"},
		{[]string{"--data", data, "--layers", "4:relu|16:sigmoid", "--loss", "hinge", "-o", out}, "valid: binary_crossentropy"},
		{[]string{"--data", data, "--layers", "4:relux|16:sigmoid", "-o", out}, "valid:"},
		{[]string{"--data", data, "--layers", "4:relu|16:sigmoid", "--batch-size", "0", "-o", out}, "batch-size"},
		{[]string{"--data", data, "--layers", "4:relu|16:sigmoid", "--epochs", "0", "-o", out}, "epochs"},
		{[]string{"--data", data, "--target", short, "--layers", "4:relu|16:sigmoid", "-o", out}, "19 rows"},
		{[]string{"--data", data, "--target", wide, "--layers", "4:relu|16:sigmoid", "-o", out}, "width 16"},
		{[]string{"--data", data, "-o", out}, "exactly one of"},
		{[]string{"--data", data, "--layers", "4:relu|16:sigmoid", "-o", filepath.Join(dir, "o.txt")}, "unknown model format"},
		{[]string{"--data", filepath.Join(dir, "missing.npy"), "--layers", "4:relu", "-o", out}, "missing.npy"},
		{[]string{"--data", "-", "--layers", "4:relu", "-o", out}, "--data -: train reads its data from a file, not standard input (-)"},
		{[]string{"--data", data, "--target", "-", "--layers", "4:relu", "-o", out}, "--target -: train reads its data from a file"},
		{[]string{"--data", data, "--validation-data", "-", "--layers", "4:relu", "-o", out}, "--validation-data -: train reads its data from a file"},
		{[]string{"--data", data, "--arch", "-", "-o", out}, "--arch -: train reads its architecture from a file"},
		{[]string{"--data", data, "--resume", "-", "-o", out}, "--resume -: train reads its checkpoint from a file"},
	} {
		code, _, stderr := runTrainCmd(c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, exitUsage, stderr)
		}
		if !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: stderr %q does not mention %q", c.args, stderr, c.msg)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: wrote %s", c.args, out)
		}
	}
}

// TestTrainNaNLoss checks exit code 1 and that no model is written when the
// loss overflows.
func TestTrainNaNLoss(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	d := make([]float32, 8*4)
	for i := range d {
		d[i] = 3e38
	}
	npy.WriteFile(data, &npy.Array{Shape: []int{8, 4}, Data: d})
	out := filepath.Join(dir, "o.keras")
	code, _, stderr := runTrainCmd("--data", data, "--layers", "4:linear", "--init", "ones", "--loss", "mse", "-o", out)
	if code != exitMismatch || !strings.Contains(stderr, "epoch 1/50, batch 1/1") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a model was written after a NaN loss")
	}
}

// TestTrainMmap trains with --mmap (the data memory-mapped, pages released
// as training reads them) and without, and requires the same losses and
// bit-identical weights; then checks --mmap's errors: a file that cannot
// be mapped (uint8) and NaN in mapped data, both exit 2 naming the file.
func TestTrainMmap(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 300, 20, 3)
	secs := regexp.MustCompile(` - [0-9]+s [0-9]+(us|ms|s)/step - `)
	var logs []string
	var weights [][]float32
	for _, mm := range []string{"--mmap=false", "--mmap"} {
		out := filepath.Join(dir, strings.TrimLeft(mm, "-=")+".keras")
		code, stdout, stderr := runTrainCmd("--data", data, "--layers", "6:relu|20:sigmoid", "--epochs", "3",
			"--batch-size", "16", "--validation-split", "0.2", "--seed", "9", "--threads", "2", mm, "-o", out)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s", mm, code, stderr)
		}
		logs = append(logs, secs.ReplaceAllString(stdout, " - "))
		m, _, err := openModel(out, "", "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		var w []float32
		m.Walk(func(_ []string, l *aert.Layer) {
			w = append(w, l.Kernel...)
			w = append(w, l.Bias...)
		})
		weights = append(weights, w)
	}
	if logs[0] != logs[1] || strings.Count(logs[0], "val_loss") != 3 {
		t.Errorf("logs differ:\n%s\nvs --mmap:\n%s", logs[0], logs[1])
	}
	if len(weights[0]) != 20*6+6+6*20+20 || len(weights[0]) != len(weights[1]) {
		t.Fatalf("weights: %d vs %d values", len(weights[0]), len(weights[1]))
	}
	for i := range weights[0] {
		if math.Float32bits(weights[0][i]) != math.Float32bits(weights[1][i]) {
			t.Fatalf("weight %d: %g without --mmap, %g with", i, weights[0][i], weights[1][i])
		}
	}

	u8 := filepath.Join(dir, "u8.npy")
	// A uint8 .npy: header for shape (4, 20), then 80 bytes.
	hdr := "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 20), }"
	hdr += strings.Repeat(" ", (64-(10+len(hdr)+1)%64)%64) + "\n"
	raw := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), 0)
	raw = append(append(raw, hdr...), make([]byte, 80)...)
	if err := os.WriteFile(u8, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	nan := filepath.Join(dir, "nan.npy")
	d := writeData(t, nan, 20, 16, 1)
	d[13*16+2] = float32(math.NaN())
	npy.WriteFile(nan, &npy.Array{Shape: []int{20, 16}, Data: d})
	out := filepath.Join(dir, "bad.keras")
	for _, c := range []struct {
		data string
		msg  []string
	}{
		{u8, []string{"--mmap", "u8.npy", "float32"}},
		{nan, []string{"nan.npy", "row 13 column 2"}},
	} {
		code, _, stderr := runTrainCmd("--data", c.data, "--layers", "4:relu|16:sigmoid", "--mmap", "-o", out)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", c.data, code, exitUsage, stderr)
		}
		for _, m := range c.msg {
			if !strings.Contains(stderr, m) {
				t.Errorf("%s: stderr %q does not mention %q", c.data, stderr, m)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: wrote %s", c.data, out)
		}
	}
}

// TestTrainBadSettings checks that out-of-range optimizer settings, a
// negative thread count and absurd layer sizes exit 2 with a message
// naming the problem, before training, and write nothing.
func TestTrainBadSettings(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 20, 16, 1)
	out := filepath.Join(dir, "o.keras")
	base := []string{"--data", data, "--layers", "4:relu|16:sigmoid", "--epochs", "1", "-o", out}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--lr", "-1"}, "learning rate -1"},
		{[]string{"--lr", "NaN"}, "learning rate NaN"},
		{[]string{"--lr", "Inf"}, "learning rate +Inf"},
		{[]string{"--optimizer", "sgd", "--momentum", "-5"}, "sgd momentum -5"},
		{[]string{"--optimizer", "sgd", "--momentum", "1"}, "sgd momentum 1"},
		{[]string{"--optimizer", "rmsprop", "--momentum", "-0.5"}, "rmsprop momentum -0.5"},
		{[]string{"--lr-decay", "-2"}, "decay rate -2"},
		{[]string{"--lr-decay", "NaN"}, "decay rate NaN"},
		{[]string{"--lr-decay", "0.5", "--lr-decay-steps", "0"}, "lr-decay-steps 0"},
		{[]string{"--threads", "-1"}, "--threads -1"},
		{[]string{"--layers", "100000000:relu|16:sigmoid"}, "100000000 units"},
		{[]string{"--layers", "20000000:relu|16:sigmoid"}, "more than the limit"},
	} {
		code, stdout, stderr := runTrainCmd(append(append([]string(nil), base...), c.args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, exitUsage, stderr)
		}
		if !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: stderr %q does not mention %q", c.args, stderr, c.msg)
		}
		if stdout != "" {
			t.Errorf("%v: trained:\n%s", c.args, stdout)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: wrote %s", c.args, out)
		}
	}
}
