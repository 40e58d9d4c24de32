package keras

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/runtime"
)

// patchDims returns a copy of the HDF5 image b in which every simple
// dataspace message (versions 1 and 2) of shape from declares shape to
// instead, of the same rank, and how many it changed.
func patchDims(b []byte, from, to []uint64) ([]byte, int) {
	c := append([]byte(nil), b...)
	dims := make([]byte, 8*len(from))
	for i, d := range from {
		binary.LittleEndian.PutUint64(dims[8*i:], d)
	}
	n := 0
	for i := 8; i+len(dims) <= len(c); i++ {
		if !bytes.Equal(c[i:i+len(dims)], dims) {
			continue
		}
		v1 := c[i-8] == 1 && int(c[i-7]) == len(from) && c[i-6] <= 1
		v2 := c[i-4] == 2 && int(c[i-3]) == len(from) && c[i-2] <= 1 && c[i-1] == 1
		if !v1 && !v2 {
			continue
		}
		for j, d := range to {
			binary.LittleEndian.PutUint64(c[i+8*j:], d)
			if c[i-6] == 1 && v1 || c[i-2] == 1 && v2 { // maximum dimensions follow
				binary.LittleEndian.PutUint64(c[i+len(dims)+8*j:], d)
			}
		}
		n++
	}
	return c, n
}

// TestShapeBeforeRead: a Dense kernel whose dataset header disagrees
// with the config's units is refused with ErrShape before any of its
// values is read, even when the header declares far more values than the
// file could hold (an HDF5 reader error if they were read).
func TestShapeBeforeRead(t *testing.T) {
	needWriter(t)
	b := written(t, FormatH5)
	m, _, err := Read(bytes.NewReader(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	var dense *runtime.Layer
	for _, l := range m.Layers {
		if l.Type == runtime.Dense && l.Units != 1<<15 {
			dense = l
			break
		}
	}
	if dense == nil {
		t.Fatal("no Dense layer")
	}
	c, n := patchDims(b, []uint64{uint64(dense.In), uint64(dense.Units)}, []uint64{1 << 15, 1 << 15})
	if n == 0 {
		t.Fatalf("no dataspace %d×%d found", dense.In, dense.Units)
	}
	_, _, err = Read(bytes.NewReader(c), nil)
	if !errors.Is(err, ErrShape) || errors.Is(err, h5.ErrFormat) {
		t.Errorf("kernel declared 2^15×2^15 for %d units: %v, want ErrShape before reading", dense.Units, err)
	}
}
