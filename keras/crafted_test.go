package keras

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/h5"
)

// TestCraftedHDF5: every file of fixtures/crafted/hdf5 (weights read from
// outside the file, dangling and looping soft links, the libhdf5 H5Dread
// crash) is refused with one line naming the file, wrapping ErrFormat and
// the HDF5 reader's reason.
func TestCraftedHDF5(t *testing.T) {
	files, err := filepath.Glob("../fixtures/crafted/hdf5/*")
	if err != nil || len(files) < 8 {
		t.Fatalf("crafted files: %d, %v", len(files), err)
	}
	for _, p := range files {
		_, _, err := ReadFile(p, nil)
		want := h5.ErrExternal
		if strings.Contains(p, "crash") {
			want = h5.ErrFormat
		}
		if !errors.Is(err, ErrFormat) || !errors.Is(err, want) {
			t.Errorf("%s: %v, want ErrFormat and %v", filepath.Base(p), err, want)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, filepath.Base(p)) || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q: want one line naming the file", filepath.Base(p), msg)
		}
	}
}
