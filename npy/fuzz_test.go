package npy

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// FuzzRead checks that Read never panics, that it fails with one of the
// package's sentinel errors, and that what it accepts is consistent and
// survives a Write/Read round trip bit for bit. The seed corpus is in
// testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add(npyFile(1, dict("<f4", "(2, 3)"), f32le(1, 2, 3, 4, 5, 6)))
	f.Add(npyFile(3, "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }", []byte{0, 1, 0, 2, 0, 3, 0, 4}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		// The same input through a reader of unknown length.
		a2, err2 := Read(struct{ io.Reader }{bytes.NewReader(b)})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("bytes.Reader: %v; plain reader: %v", err, err2)
		}
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if !slices.Equal(a.Shape, a2.Shape) || a.DType != a2.DType {
			t.Fatalf("readers disagree: %v %s vs %v %s", a.Shape, a.DType, a2.Shape, a2.DType)
		}
		if i, ok := sameBits(a.Data, a2.Data); !ok {
			t.Fatalf("readers disagree at %d", i)
		}
		n := 1
		for _, d := range a.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", a.Shape)
			}
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v holds %d values, Data has %d", a.Shape, n, len(a.Data))
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write of an array Read accepted: %v", err)
		}
		back, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read(Write(a)): %v", err)
		}
		if !slices.Equal(back.Shape, a.Shape) {
			t.Fatalf("round trip shape %v, want %v", back.Shape, a.Shape)
		}
		if i, ok := sameBits(back.Data, a.Data); !ok {
			t.Fatalf("round trip differs at %d", i)
		}
		a.FirstNonFinite()
	})
}

// FuzzReadFile fuzzes the file-level reader, which also parses .npz (zip)
// archives. The seed corpus is in testdata/fuzz/FuzzReadFile.
func FuzzReadFile(f *testing.F) {
	f.Add(npyFile(1, dict("|u1", "(3,)"), []byte{1, 2, 3}), "")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		a, _, err := decodeFile(bytes.NewReader(b), int64(len(b)), key)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v holds %d values, Data has %d", a.Shape, n, len(a.Data))
		}
	})
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{ErrFormat, ErrTruncated, ErrTooLarge, ErrDType, ErrNotFound} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel error", err)
}
