package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/train"
)

// TestTrainArch trains from an architecture alone (the config.json of a
// .keras file): the model has the architecture's layers and names, fresh
// Glorot weights from --seed, and the run is reproducible.
func TestTrainArch(t *testing.T) {
	dir := t.TempDir()
	m, err := train.Build(20, train.MustParseArch("8:tanh|20:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := keras.Write(&buf, m, keras.FormatKeras); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(dir, "config.json")
	for _, f := range zr.File {
		if f.Name == "config.json" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if err := os.WriteFile(arch, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	x := make([]float32, 64*20)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	data := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(data, &npy.Array{Shape: []int{64, 20}, Data: x}); err != nil {
		t.Fatal(err)
	}
	var outs [2][]byte
	for i := range outs {
		out := filepath.Join(dir, "m"+string(rune('a'+i))+".keras")
		var stdout, stderr bytes.Buffer
		code := run([]string{"train", "--data", data, "--arch", arch, "--epochs", "2", "--batch-size", "16", "--seed", "5", "-o", out}, &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("train --arch: exit %d: %s", code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "Epoch 2/2") {
			t.Errorf("log: %q", stdout.String())
		}
		got, _, err := keras.ReadFile(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got.LayerNames(), ",") != strings.Join(m.LayerNames(), ",") {
			t.Errorf("layers %v, want %v", got.LayerNames(), m.LayerNames())
		}
		if l := got.Layer(m.LayerNames()[1]); l == nil || l.Kernel[0] == 0 {
			t.Errorf("first Dense kernel not initialised: %+v", l)
		}
		outs[i], _ = os.ReadFile(out)
	}
	a, _, _ := keras.Read(bytes.NewReader(outs[0]), nil)
	b, _, _ := keras.Read(bytes.NewReader(outs[1]), nil)
	ya, _ := a.Predict(nil, x)
	yb, _ := b.Predict(nil, x)
	for i := range ya {
		if ya[i] != yb[i] {
			t.Fatalf("two runs with the same seed differ at %d: %g vs %g", i, ya[i], yb[i])
		}
	}
	// A saved model given as --arch is refused with a pointer to --init-from.
	var stdout, stderr bytes.Buffer
	saved := filepath.Join(dir, "ma.keras")
	if code := run([]string{"train", "--data", data, "--arch", saved, "-o", filepath.Join(dir, "z.keras")}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "--init-from") {
		t.Errorf("--arch with a saved model: exit %d, %q", code, stderr.String())
	}
}
