//go:build cgo

package libhdf5_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/aekit/aekit/internal/h5/h5test"
	"github.com/aekit/aekit/internal/h5/libhdf5"
)

// TestWriteRead reads back, through libhdf5, the sample h5test writes
// through libhdf5.
func TestWriteRead(t *testing.T) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	img := h5test.Sample(t)
	g, err := libhdf5.Open(img)
	must(err)
	defer g.Close()
	if s, err := g.AttrString("", "version"); err != nil || s != "2.15.0" {
		t.Errorf("version = %q, %v", s, err)
	}
	if s, err := g.AttrStrings("/a", "names"); err != nil || !slices.Equal(s, []string{"x", "yy", "zzz"}) {
		t.Errorf("names = %q, %v", s, err)
	}
	if s, err := g.AttrStrings("a/b\\c", "vnames"); err != nil || !slices.Equal(s, []string{"k:0", "", "é"}) {
		t.Errorf("vnames = %q, %v", s, err)
	}
	if s, err := g.AttrStrings("a", "empty"); err != nil || s == nil || len(s) != 0 {
		t.Errorf("empty = %q, %v", s, err)
	}
	info, err := g.Attr("a", "names")
	if err != nil || info.VarLen || info.Size != 3 || info.Class != libhdf5.String {
		t.Errorf("names info = %+v, %v", info, err)
	}
	v, shape, err := g.ReadFloat32("a/b\\c/kernel:0")
	if err != nil || !slices.Equal(shape, []int{2, 3}) || v[1] != 2 || !math.IsInf(float64(v[5]), 1) {
		t.Errorf("kernel = %v %v, %v", v, shape, err)
	}
	if v, shape, err := g.ReadFloat32("s"); err != nil || shape != nil || len(v) != 1 || v[0] != 7 {
		t.Errorf("scalar = %v %v, %v", v, shape, err)
	}
	if k := g.Kind("a/b\\c"); k != libhdf5.Group {
		t.Errorf("Kind = %v", k)
	}
	if k := g.Kind("a/nope/x"); k != libhdf5.None {
		t.Errorf("Kind of missing = %v", k)
	}
	if _, err := g.AttrStrings("a", "nope"); !errors.Is(err, libhdf5.ErrHDF5) {
		t.Errorf("missing attribute: %v", err)
	}
	if _, _, err := g.ReadFloat32("a"); err == nil {
		t.Error("reading a group as a dataset succeeded")
	}
	if err := g.CreateGroup("x"); err == nil {
		t.Error("CreateGroup on a read-only file succeeded")
	}
	if _, err := libhdf5.Open([]byte("not hdf5")); !errors.Is(err, libhdf5.ErrFormat) {
		t.Errorf("Open(garbage) = %v", err)
	}
}
