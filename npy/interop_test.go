package npy

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	npyio "codeberg.org/sbinet/npyio/npy"
)

// python is the interpreter with numpy used for interoperability tests.
const python = "/usr/bin/python3"

// requireNumpy skips the test when python3 or numpy is missing, unless
// AEKIT_INTEROP=1 demands the interop tests run, in which case it fails.
func requireNumpy(t *testing.T) {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("AEKIT_INTEROP") == "1" {
		fail = t.Fatalf
	}
	if _, err := os.Stat(python); err != nil {
		fail("numpy interop: %s not found (install Debian python3-numpy): %v", python, err)
		return
	}
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		fail("numpy interop: %s cannot import numpy (install Debian python3-numpy): %v: %s", python, err, out)
	}
}

// TestNumpyLoadsWrite writes files with WriteFile and checks that numpy.load
// reads the same shape, dtype and bits.
func TestNumpyLoadsWrite(t *testing.T) {
	requireNumpy(t)
	dir := t.TempDir()
	nan := math.Float32frombits(0x7fc00123)
	arrays := map[string]*Array{
		"scalar.npy": {Shape: []int{}, Data: []float32{-1.5}},
		"empty.npy":  {Shape: []int{0, 784}, Data: []float32{}},
		"vec.npy":    {Shape: []int{6}, Data: []float32{0.1, -0.0, nan, float32(math.Inf(-1)), 1e-45, 3.4028235e38}},
		"images.npy": {Shape: []int{3, 28, 28}, Data: make([]float32, 3*28*28)},
		"rows.npy":   {Shape: []int{7, 5}, Data: make([]float32, 35)},
	}
	for i := range arrays["images.npy"].Data {
		arrays["images.npy"].Data[i] = float32(i%256) / 255
	}
	for i := range arrays["rows.npy"].Data {
		arrays["rows.npy"].Data[i] = float32(i*i) - 100.25
	}
	var names []string
	for name, a := range arrays {
		if err := WriteFile(filepath.Join(dir, name), a); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	const script = `
import json, os, sys
import numpy as np
out = {}
for name in sys.argv[2:]:
    a = np.load(os.path.join(sys.argv[1], name), allow_pickle=False)
    out[name] = {"descr": a.dtype.str, "shape": list(a.shape), "fortran": bool(np.isfortran(a)) and a.ndim > 1,
                 "bits": [int(b) for b in np.ascontiguousarray(a).view("<u4").ravel()]}
print(json.dumps(out))
`
	cmd := exec.Command(python, append([]string{"-c", script, dir}, names...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("numpy.load failed: %v\n%s", err, stderr.Bytes())
	}
	var got map[string]struct {
		Descr   string   `json:"descr"`
		Shape   []int    `json:"shape"`
		Fortran bool     `json:"fortran"`
		Bits    []uint32 `json:"bits"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding numpy output: %v\n%s", err, out)
	}
	for name, a := range arrays {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not loaded by numpy", name)
			continue
		}
		if g.Descr != "<f4" || g.Fortran || !slices.Equal(g.Shape, a.Shape) {
			t.Errorf("%s: numpy sees %s shape %v fortran %v, want <f4 %v C order", name, g.Descr, g.Shape, g.Fortran, a.Shape)
		}
		bits := make([]float32, len(g.Bits))
		for i, b := range g.Bits {
			bits[i] = math.Float32frombits(b)
		}
		if i, ok := sameBits(bits, a.Data); !ok {
			t.Errorf("%s: numpy data differs at %d", name, i)
		}
	}
}

// TestNpyio cross-checks this package against codeberg.org/sbinet/npyio, an
// independent Go implementation: each reads what the other writes.
func TestNpyio(t *testing.T) {
	a := &Array{Shape: []int{3, 4}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, float32(math.Inf(1))}}
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	r, err := npyio.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("npyio cannot read our header: %v", err)
	}
	// npyio keeps the quotes of the descr.
	if strings.Trim(r.Header.Descr.Type, "'") != "<f4" || r.Header.Descr.Fortran || !slices.Equal(r.Header.Descr.Shape, a.Shape) {
		t.Errorf("npyio reads header %v", r.Header)
	}
	var data []float32
	if err := r.Read(&data); err != nil {
		t.Fatalf("npyio cannot read our data: %v", err)
	}
	if i, ok := sameBits(data, a.Data); !ok {
		t.Errorf("npyio data differs at %d", i)
	}

	// npyio writes version 2.0 headers (with its own padding).
	for _, v := range []any{
		[]float64{0.5, -1, math.NaN()},
		[]int16{-3, 0, 32767},
		[]uint64{0, 1 << 60, math.MaxUint64},
		[]bool{true, false},
	} {
		buf.Reset()
		if err := npyio.Write(&buf, v); err != nil {
			t.Fatal(err)
		}
		got, err := Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Errorf("reading npyio's %T: %v", v, err)
			continue
		}
		var want []float32
		switch v := v.(type) {
		case []float64:
			for _, x := range v {
				want = append(want, float32(x))
			}
		case []int16:
			for _, x := range v {
				want = append(want, float32(x))
			}
		case []uint64:
			for _, x := range v {
				want = append(want, float32(x))
			}
		case []bool:
			want = []float32{1, 0}
		}
		if i, ok := sameBits(got.Data, want); !ok || !slices.Equal(got.Shape, []int{len(want)}) {
			t.Errorf("npyio's %T: shape %v, data differs at %d: %v, want %v", v, got.Shape, i, got.Data, want)
		}
	}
}
