//go:build linux

package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/npy"
)

// TestMappedTruncated truncates a mapped data file before Fit reads it:
// the short reads that follow are an error naming the file,
// with any number of threads, and the checkpoint of a previous run is
// left as it was.
func TestMappedTruncated(t *testing.T) {
	for _, threads := range []int{1, 2} {
		dir := t.TempDir()
		name := filepath.Join(dir, "x.npy")
		const n, w = 2000, 20
		if err := npy.WriteFile(name, &npy.Array{Shape: []int{n, w}, Data: randData(5, n*w)}); err != nil {
			t.Fatal(err)
		}
		mp, err := npy.Map(name)
		if err != nil {
			t.Fatal(err)
		}
		defer mp.Close()
		ckpt := filepath.Join(dir, "m.ckpt")
		os.WriteFile(ckpt, []byte("previous"), 0o644)
		if err := os.Truncate(name, 128); err != nil {
			t.Fatal(err)
		}
		mx, err := mp.Matrix(w)
		if err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig(&Adam{})
		cfg.Threads, cfg.CheckpointPath = threads, ckpt
		_, err = Fit(context.Background(), fitModel(t, 1), Set{X: mx}, Set{}, cfg)
		if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("threads %d: %v", threads, err)
		}
		if b, _ := os.ReadFile(ckpt); string(b) != "previous" {
			t.Errorf("threads %d: checkpoint changed", threads)
		}
	}
}
