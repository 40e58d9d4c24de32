//go:build linux

package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

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

// TestPoolFault: a memory fault in a worker goroutine reaches the
// caller of run as a panic it can recover, not a crash.
func TestPoolFault(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.npy")
	if err := npy.WriteFile(name, &npy.Array{Shape: []int{1 << 16}, Data: make([]float32, 1<<16)}); err != nil {
		t.Fatal(err)
	}
	mp, err := npy.Map(name)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	os.Truncate(name, 128)
	p := newPool(2)
	defer p.close()
	var sum float32
	got := func() (r any) {
		defer func() { r = recover() }()
		p.run(func(c, t int) {
			if c == 1 {
				sum += mp.Data[len(mp.Data)-1]
			}
		})
		return nil
	}()
	lo := uintptr(unsafe.Pointer(&mp.Data[0]))
	if f, ok := got.(interface{ Addr() uintptr }); !ok || f.Addr() < lo || f.Addr() >= lo+4*uintptr(len(mp.Data)) {
		t.Errorf("recovered %v", got)
	}
}
