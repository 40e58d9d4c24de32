package keras

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// rezip copies a .keras zip, passing each member through edit (nil drops
// the member).
func rezip(t *testing.T, b []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if data = edit(f.Name, data); data == nil {
			continue
		}
		fw, err := w.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func written(t *testing.T, f Format) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, conformance.Cases()[len(conformance.Cases())-1].Model, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBadInput: truncated and corrupt files, a zip without weights, a
// kernel that disagrees with the config and an unknown activation give
// errors wrapping the right sentinel, never a panic, and HDF5 prints
// nothing on stderr.
func TestBadInput(t *testing.T) {
	needWriter(t)
	h5b := written(t, FormatH5)
	kb := written(t, FormatKeras)
	cfg := func(from, to string) func(string, []byte) []byte {
		return func(name string, data []byte) []byte {
			if name == "config.json" {
				if !bytes.Contains(data, []byte(from)) {
					t.Fatalf("config.json lacks %s", from)
				}
				return bytes.Replace(data, []byte(from), []byte(to), 1)
			}
			return data
		}
	}
	cases := []struct {
		name string
		data []byte
		opt  *Options
		want []error
	}{
		{"empty", nil, nil, []error{ErrFormat}},
		{"garbage", []byte("hello, world"), nil, []error{ErrFormat}},
		{"h5 signature only", h5b[:8], nil, []error{ErrFormat}},
		{"h5 truncated to 1/2", h5b[:len(h5b)/2], nil, []error{ErrFormat}},
		{"h5 truncated by 1 byte", h5b[:len(h5b)-1], nil, []error{ErrFormat}},
		{"keras truncated to 1/2", kb[:len(kb)/2], nil, []error{ErrFormat}},
		{"keras truncated by 1 byte", kb[:len(kb)-1], nil, []error{ErrFormat}},
		{"zip without weights", rezip(t, kb, func(n string, d []byte) []byte {
			if n == "model.weights.h5" {
				return nil
			}
			return d
		}), nil, []error{ErrMissingWeights}},
		{"zip with truncated weights", rezip(t, kb, func(n string, d []byte) []byte {
			if n == "model.weights.h5" {
				return d[:len(d)/2]
			}
			return d
		}), nil, []error{ErrFormat}},
		{"zip with broken config", rezip(t, kb, cfg(`"layers": [`, `"layers": [[`)), nil, []error{ErrFormat}},
		{"kernel disagrees with units", rezip(t, kb, cfg(`"units": 16`, `"units": 15`)), nil, []error{ErrShape}},
		{"unknown activation", rezip(t, kb, cfg(`"activation": "linear"`, `"activation": "frobnicate"`)), nil,
			[]error{ErrActivation, runtime.ErrActivation}},
		{"unknown layer", rezip(t, kb, cfg(`"class_name": "Dropout"`, `"class_name": "Lambda"`)), nil, []error{ErrUnsupportedLayer}},
		{"json architecture only", []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 3]}}]}}`), nil, []error{ErrMissingWeights}},
	}
	out := captureStderr(t, func() {
		for _, c := range cases {
			if c.want == nil {
				continue
			}
			_, _, err := Read(bytes.NewReader(c.data), c.opt)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("%s: err = %v, want %v", c.name, err, w)
				}
			}
		}
		// Random corruption of an .h5 and of the model.weights.h5 inside a
		// .keras (rezipped, so that the zip checksums hold): any error, no
		// panic or crash.
		r := rand.New(rand.NewPCG(5, 6))
		corrupt := func(b []byte) []byte {
			c := append([]byte(nil), b...)
			for j := 0; j < 4; j++ {
				c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
			}
			return c
		}
		for i := 0; i < 100; i++ {
			Read(bytes.NewReader(corrupt(h5b)), nil)
			Read(bytes.NewReader(rezip(t, kb, func(n string, d []byte) []byte {
				if n == "model.weights.h5" {
					return corrupt(d)
				}
				return d
			})), nil)
		}
	})
	if out != "" {
		t.Errorf("stderr got %q", out)
	}
}

// TestArchMismatch: weights-only files read with an architecture that
// disagrees with them.
func TestArchMismatch(t *testing.T) {
	dir := sharedDir(t)
	weights := filepath.Join(dir, "k2_mlp_softmax_seq_dl4j_weights.h5")
	arch := compactJSON(t, filepath.Join(dir, "k2_mlp_softmax_seq_dl4j_arch.json")) // so the edits below match

	for _, c := range []struct {
		name, from, to string
		want           error
	}{
		{"units", `"units":3`, `"units":4`, ErrShape},
		{"input width", `"batch_input_shape":[null,4]`, `"batch_input_shape":[null,5]`, ErrShape},
		{"activation", `"activation":"softmax"`, `"activation":"nope"`, ErrActivation},
		{"extra layer", `"layers":[`, `"layers":[{"class_name": "Dense", "config": {"name": "extra", "units": 4, "batch_input_shape": [null, 4]}}, `, ErrMissingWeights},
	} {
		if !strings.Contains(arch, c.from) {
			t.Fatalf("%s: arch lacks %s", c.name, c.from)
		}
		a := strings.Replace(arch, c.from, c.to, 1)
		_, _, err := ReadFile(weights, &Options{ArchJSON: []byte(a)})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), weights) {
			t.Errorf("%s: err = %v, want %v naming the file", c.name, err, c.want)
		}
	}
	if _, _, err := ReadFile(weights, &Options{Arch: filepath.Join(dir, "nope.json")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing arch file: %v", err)
	}
}

// TestRealTruncated cuts every real HDF5 and zip model short.
func TestRealTruncated(t *testing.T) {
	dir := sharedDir(t)
	out := captureStderr(t, func() {
		for _, c := range realDense {
			b, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			opt := &Options{}
			if c.arch != "" {
				opt.Arch = filepath.Join(dir, c.arch)
			}
			for _, n := range []int{1, 100, len(b) / 4, len(b) / 2, len(b) - 10} {
				if _, _, err := Read(bytes.NewReader(b[:n]), opt); !errors.Is(err, ErrFormat) {
					t.Errorf("%s cut at %d: err = %v, want ErrFormat", c.file, n, err)
				}
			}
		}
	})
	if out != "" {
		t.Errorf("stderr got %q", out)
	}
}

// TestSoftmaxAxis: a Softmax layer over the last axis loads; over another
// axis it is unsupported.
func TestSoftmaxAxis(t *testing.T) {
	needWriter(t)
	m := &runtime.Model{Input: []int{3}, Layers: []*runtime.Layer{
		{Name: "d", Type: runtime.Dense, In: 3, Units: 2, Kernel: make([]float32, 6)},
		{Name: "s", Type: runtime.ActivationLayer, Class: "Softmax", Act: runtime.Act(runtime.Softmax)}}}
	var b bytes.Buffer
	if err := Write(&b, m, FormatKeras); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		axis string
		want error
	}{{"-1", nil}, {"1", nil}, {"[-1]", nil}, {"0", ErrUnsupportedLayer}, {"2", ErrUnsupportedLayer}} {
		z := rezip(t, b.Bytes(), func(n string, d []byte) []byte {
			if n == "config.json" {
				return bytes.Replace(d, []byte(`"axis": -1`), []byte(`"axis": `+c.axis), 1)
			}
			return d
		})
		got, _, err := Read(bytes.NewReader(z), nil)
		if !errors.Is(err, c.want) || c.want == nil && err != nil {
			t.Errorf("axis %s: err = %v, want %v", c.axis, err, c.want)
		}
		if err == nil && got.Layers[1].Act.Func != runtime.Softmax {
			t.Errorf("axis %s: layer is %v", c.axis, got.Layers[1].Act)
		}
	}
}
