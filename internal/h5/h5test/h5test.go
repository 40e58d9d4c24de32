// Package h5test writes, through libhdf5 (internal/h5/libhdf5), the small
// HDF5 file that both libhdf5's own write-read test and the pure-Go
// reader's oracle test (internal/h5) read: one sample, one place.
package h5test

import (
	"math"
	"testing"

	"github.com/aekit/aekit/internal/h5/libhdf5"
)

// Sample returns the image of an HDF5 file holding
//
//   - groups "a" and "a/b\c" (a backslash in a name);
//   - on "/", the variable-length UTF-8 string attribute version = "2.15.0";
//   - on "a", the fixed-length string array names = ["x", "yy", "zzz"]
//     and the empty attribute "empty";
//   - on "a/b\c", the variable-length string array vnames = ["k:0", "", "é"];
//   - the 2×3 float32 dataset "a/b\c/kernel:0" = [1 2 3; 4 5 +Inf];
//   - the scalar float32 dataset "s" = 7.
//
// It fails t if libhdf5 cannot write it (a build without cgo).
func Sample(t testing.TB) []byte {
	t.Helper()
	f, err := libhdf5.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.CreateGroup("a/b\\c"))
	must(f.SetAttrString("/", "version", "2.15.0", libhdf5.StringType{VarLen: true, UTF8: true}))
	must(f.SetAttrStrings("a", "names", []string{"x", "yy", "zzz"}, libhdf5.StringType{}))
	must(f.SetAttrStrings("a/b\\c", "vnames", []string{"k:0", "", "é"}, libhdf5.StringType{VarLen: true}))
	must(f.SetAttrEmpty("a", "empty"))
	must(f.WriteFloat32("a/b\\c/kernel:0", []float32{1, 2, 3, 4, 5, float32(math.Inf(1))}, []int{2, 3}))
	must(f.WriteFloat32("s", []float32{7}, nil))
	img, err := f.Image()
	must(err)
	return img
}
