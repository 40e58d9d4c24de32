package npy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMatrix reads rows by index from a mapped file and from Map's
// fallback (the file read into memory): the rows of the data, runs of
// consecutive indices and single rows alike; an index out of range is
// ErrShape, a width the shape does not hold ErrShape, and a file
// truncated while mapped ErrTruncated naming the file.
func TestMatrix(t *testing.T) {
	const n, w = 40, 6
	name := filepath.Join(t.TempDir(), "x.npy")
	a := &Array{Shape: []int{n, 2, 3}, Data: make([]float32, n*w)}
	for i := range a.Data {
		a.Data[i] = float32(i) / 3
	}
	if err := WriteFile(name, a); err != nil {
		t.Fatal(err)
	}
	for _, impl := range mapImpls {
		m, err := impl.mapFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m.name = name
		x, err := m.Matrix(w)
		if err != nil {
			t.Fatalf("%s: %v", impl.name, err)
		}
		if x.Rows() != n || x.Width() != w {
			t.Errorf("%s: %d rows of %d", impl.name, x.Rows(), x.Width())
		}
		idx := []int{3, 4, 5, 39, 0, 7, 8}
		dst := make([]float32, len(idx)*w)
		if err := x.ReadRows(dst, idx); err != nil {
			t.Fatalf("%s: %v", impl.name, err)
		}
		for r, i := range idx {
			if i, ok := sameBits(dst[r*w:(r+1)*w], a.Data[i*w:(i+1)*w]); !ok {
				t.Errorf("%s: row %d differs at %d", impl.name, r, i)
			}
		}
		if a := testing.AllocsPerRun(10, func() { x.ReadRows(dst, idx) }); a != 0 {
			t.Errorf("%s: %v allocations per ReadRows", impl.name, a)
		}
		if err := x.ReadRows(dst[:2*w], []int{39, 40}); !errors.Is(err, ErrShape) {
			t.Errorf("%s: row 40 of 40: %v", impl.name, err)
		}
		if _, err := m.Matrix(7); !errors.Is(err, ErrShape) {
			t.Errorf("%s: width 7: %v", impl.name, err)
		}
		m.Close()
	}
	m, err := Map(name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x, _ := m.Matrix(w)
	if m.f == nil {
		t.Skip("Map read the file: no mapping to truncate")
	}
	if err := os.Truncate(name, 200); err != nil {
		t.Fatal(err)
	}
	err = x.ReadRows(make([]float32, w), []int{30})
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated file: %v", err)
	}
}
