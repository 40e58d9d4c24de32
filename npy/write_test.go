package npy

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	nan := math.Float32frombits(0x7fc00001) // a NaN with a payload
	for _, a := range []*Array{
		{Shape: []int{}, Data: []float32{2.5}},
		{Shape: []int{0}, Data: []float32{}},
		{Shape: []int{5}, Data: []float32{1, -0.0, nan, float32(math.Inf(1)), float32(math.Inf(-1))}},
		{Shape: []int{2, 3}, Data: []float32{0.1, 0.2, 0.3, 1e-45, 3.4028235e38, -7}},
		{Shape: []int{2, 0, 3}, Data: []float32{}},
		{Shape: []int{1, 2, 2, 1}, Data: []float32{1, 2, 3, 4}},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write(%v): %v", a.Shape, err)
		}
		b := buf.Bytes()
		hlen := len(b) - 4*len(a.Data)
		if hlen%64 != 0 || b[hlen-1] != '\n' || b[6] != 1 || b[7] != 0 {
			t.Errorf("shape %v: header of %d bytes, version %d.%d, last byte %q; want v1.0 padded to 64 ending in newline",
				a.Shape, hlen, b[6], b[7], b[hlen-1])
		}
		got, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Read(Write(%v)): %v", a.Shape, err)
		}
		if !slices.Equal(got.Shape, a.Shape) || got.DType != "<f4" {
			t.Errorf("shape %v dtype %q, want %v <f4", got.Shape, got.DType, a.Shape)
		}
		if i, ok := sameBits(got.Data, a.Data); !ok {
			t.Errorf("shape %v: data differs at %d", a.Shape, i)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    *Array
	}{
		{"nil", nil},
		{"too few values", &Array{Shape: []int{2, 3}, Data: make([]float32, 5)}},
		{"too many values", &Array{Shape: []int{2}, Data: make([]float32, 3)}},
		{"nil shape with data", &Array{Data: make([]float32, 2)}},
		{"negative", &Array{Shape: []int{-2, -3}, Data: make([]float32, 6)}},
		{"overflow", &Array{Shape: []int{math.MaxInt / 2, 3}, Data: make([]float32, 0)}},
	} {
		var buf bytes.Buffer
		err := Write(&buf, tc.a)
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: error %v, want ErrShape", tc.name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written before the error", tc.name, buf.Len())
		}
	}
	boom := errors.New("boom")
	a := &Array{Shape: []int{2}, Data: []float32{1, 2}}
	if err := Write(failWriter{boom}, a); !errors.Is(err, boom) {
		t.Errorf("failing writer: error %v, want boom", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write(p []byte) (int, error) { return 0, w.err }

// TestWriteFile checks the atomic write: a complete file on success, and
// on failure the previous file untouched and no temporary file left.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "out.npy")
	a := &Array{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}
	if err := WriteFile(name, a); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data, a.Data) {
		t.Errorf("read back %v, want %v", got.Data, a.Data)
	}
	if st, err := os.Stat(name); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", st.Mode(), err)
	}
	before, _ := os.ReadFile(name)

	bad := &Array{Shape: []int{3}, Data: []float32{1}}
	err = WriteFile(name, bad)
	if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), name) {
		t.Errorf("error %v, want ErrShape naming %s", err, name)
	}
	after, _ := os.ReadFile(name)
	if !bytes.Equal(before, after) {
		t.Error("a failed WriteFile changed the existing file")
	}
	if err := WriteFile(filepath.Join(dir, "new.npy"), bad); err == nil {
		t.Error("WriteFile of a bad array succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "out.npy" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only out.npy", names)
	}

	if err := WriteFile(filepath.Join(dir, "missing", "x.npy"), a); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing folder: error %v, want fs.ErrNotExist", err)
	}

	// A relative name writes in the current folder.
	t.Chdir(dir)
	if err := WriteFile("rel.npy", a); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(dir, "rel.npy")); err != nil {
		t.Error(err)
	}
}
