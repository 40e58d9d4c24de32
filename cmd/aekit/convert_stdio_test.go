package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setStdin makes os.Stdin read the named file until t and its cleanups
// end.
func setStdin(t *testing.T, name string) {
	t.Helper()
	in, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = in
	t.Cleanup(func() {
		os.Stdin = saved
		in.Close()
	})
}

// TestConvertStdio: convert - - reads a model from standard input and
// writes it to standard output in the --format given; the bytes are what
// convert writes to a file of that format (ONNX, deterministic) or a model
// with the same outputs (Keras, whose zip records the time), and the
// summary goes to standard error. Without --format, or with --format and a
// file, convert refuses before reading.
func TestConvertStdio(t *testing.T) {
	dir := t.TempDir()
	data, model := smallModel(t, dir)
	file := filepath.Join(dir, "c.onnx")
	runOK(t, "convert", model, file)
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	setStdin(t, model)
	var o, e bytes.Buffer
	if code := run([]string{"convert", "-", "-", "--format", "onnx"}, &o, &e); code != exitOK {
		t.Fatal(e.String())
	}
	if !bytes.Equal(o.Bytes(), want) {
		t.Errorf("standard output: %d bytes; the file written from the same model: %d", o.Len(), len(want))
	}
	if !strings.Contains(e.String(), "→ -") {
		t.Errorf("no summary on standard error: %q", e.String())
	}

	o.Reset()
	e.Reset()
	if code := run([]string{"convert", file, "-", "--format", "keras"}, &o, &e); code != exitOK {
		t.Fatal(e.String())
	}
	k := filepath.Join(dir, "m.keras")
	if err := os.WriteFile(k, o.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	y1, y2 := filepath.Join(dir, "y1.npy"), filepath.Join(dir, "y2.npy")
	runOK(t, "predict", file, "-i", data, "-o", y1)
	runOK(t, "predict", k, "-i", data, "-o", y2)
	sameNpy(t, y2, y1)

	runFail(t, []string{"--format"}, "convert", file, "-")
	runFail(t, []string{"--format", "standard output"}, "convert", file, filepath.Join(dir, "x.onnx"), "--format", "onnx")
	runFail(t, []string{"--format"}, "convert", file, "-", "--format", "tflite")
	runFail(t, []string{"--score", "standard output as keras"}, "convert", file, "-", "--format", "keras", "--score", "mse")
}

// TestTrainNoStdout: train -o - is refused before reading, naming convert
// as the way to stream a model.
func TestTrainNoStdout(t *testing.T) {
	runFail(t, []string{"-o -", "aekit convert"}, "train", "--data", "x.npy", "--layers", "4:relu|8:sigmoid", "-o", "-")
}
