package npy

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// mapImpls are the implementations of Map: the platform's, and the
// fallback that reads the file, so that both are tested everywhere.
var mapImpls = []struct {
	name    string
	mapFile func(path string) (*Mapped, error)
}{
	{"Map", Map},
	{"readMapped", func(path string) (*Mapped, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		h, err := mappableHeader(f, st.Size())
		if err != nil {
			return nil, err
		}
		return readMapped(f, st.Size(), h)
	}},
}

func TestMap(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "big.npy")
	a := &Array{Shape: []int{1000, 784}, Data: make([]float32, 1000*784)}
	for i := range a.Data {
		a.Data[i] = float32(i%1013) / 7
	}
	if err := WriteFile(name, a); err != nil {
		t.Fatal(err)
	}
	for _, impl := range mapImpls {
		m, err := impl.mapFile(name)
		if err != nil {
			t.Fatalf("%s: %v", impl.name, err)
		}
		if i, ok := sameBits(m.Data, a.Data); !ok {
			t.Errorf("%s: data differs at %d", impl.name, i)
		}
		if n, err := m.Batch(784); n != 1000 || err != nil {
			t.Errorf("%s: Batch(784) = %d, %v", impl.name, n, err)
		}
		if impl.name == "Map" && hasMmap {
			if m.mem == nil {
				t.Error("Map did not memory-map the file")
			}
			if !writeFaults(m.Data) {
				t.Error("writing to the mapped Data did not fault")
			}
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s: Close: %v", impl.name, err)
		}
		if m.Data != nil {
			t.Errorf("%s: Data not cleared by Close", impl.name)
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s: second Close: %v", impl.name, err)
		}
	}
}

func TestMapErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// numpy pads headers so that data is aligned; this file is not.
	misaligned := write("misaligned.npy", unpadded("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", f32le(1, 2)))
	if a, err := ReadFile(misaligned); err != nil || len(a.Data) != 2 || a.Data[1] != 2 {
		t.Fatalf("ReadFile(misaligned) = %v, %v", a, err)
	}
	for _, tc := range []struct {
		name string
		path string
		want []error
	}{
		{"float64", filepath.Join(fixtureDir, "f8_le.npy"), []error{ErrNotMappable}},
		{"big-endian", filepath.Join(fixtureDir, "f4_be.npy"), []error{ErrNotMappable}},
		{"uint8", filepath.Join(fixtureDir, "images_u1.npy"), []error{ErrNotMappable}},
		{"Fortran", filepath.Join(fixtureDir, "fortran_f4_3d.npy"), []error{ErrNotMappable}},
		{"npz", filepath.Join(fixtureDir, "savez_xy.npz"), []error{ErrNotMappable}},
		{"misaligned", misaligned, []error{ErrNotMappable}},
		{"truncated", write("trunc.npy", npyFile(1, dict("<f4", "(100, 10)"), f32le(1, 2, 3))), []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"absurd", write("absurd.npy", npyFile(1, dict("<f4", "(4611686018427387904,)"), nil)), []error{ErrTooLarge}},
		{"bad magic", write("bad.npy", []byte("not numpy at all")), []error{ErrFormat}},
		{"empty", write("empty.npy", nil), []error{ErrTruncated}},
		{"missing", filepath.Join(dir, "nope.npy"), []error{os.ErrNotExist}},
	} {
		for _, impl := range mapImpls {
			m, err := impl.mapFile(tc.path)
			if err == nil {
				m.Close()
				t.Errorf("%s(%s) succeeded", impl.name, tc.name)
				continue
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%s(%s): error %q does not wrap %q", impl.name, tc.name, err, w)
				}
			}
		}
	}
}

// writeFaults reports whether writing to data faults, as it must for a
// read-only mapping. The fault is turned into a recoverable panic.
func writeFaults(data []float32) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			faulted = true
		}
	}()
	data[0] = 1
	return false
}
