//go:build cgo

package h5_test

import (
	"testing"

	"github.com/aekit/aekit/internal/h5/libhdf5"
)

// eflOracle is the control of TestEFLNeverOpened: libhdf5 reading the
// same file does open the external file, and the watch sees it.
func eflOracle(t *testing.T, b []byte, opens func() int) {
	f, err := libhdf5.Open(b)
	if err != nil {
		t.Fatalf("libhdf5: %v", err)
	}
	defer f.Close()
	if _, _, err := f.ReadFloat32("/model_weights/dense_1/dense_1_W"); err != nil {
		t.Fatalf("libhdf5 read: %v", err)
	}
	if n := opens(); n == 0 {
		t.Error("libhdf5 read the external file and the watch saw no open: the test cannot see opens")
	}
}
