package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCraftedHDF5CLI: inspect and convert refuse every crafted HDF5 file
// (fixtures/crafted/hdf5) with exit 2 and one line saying why, and write
// nothing.
func TestCraftedHDF5CLI(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/crafted/hdf5/*")
	if err != nil || len(files) < 8 {
		t.Fatalf("crafted files: %d, %v", len(files), err)
	}
	dir := t.TempDir()
	for _, p := range files {
		why := "refers outside the file"
		if strings.Contains(p, "crash") {
			why = "not a valid HDF5 file"
		}
		out := filepath.Join(dir, filepath.Base(p)+".onnx")
		for _, args := range [][]string{{"inspect", p}, {"convert", p, out}} {
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			msg := strings.TrimSpace(stderr.String())
			if code != exitUsage || stdout.Len() > 0 || strings.Contains(msg, "\n") ||
				!strings.Contains(msg, filepath.Base(p)) || !strings.Contains(msg, why) {
				t.Errorf("aekit %s: exit %d, stdout %q, stderr %q; want exit 2, no output, one line naming the file and %q",
					strings.Join(args, " "), code, stdout.String(), msg, why)
			}
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("convert %s left %s (%v)", filepath.Base(p), out, err)
		}
	}
}
