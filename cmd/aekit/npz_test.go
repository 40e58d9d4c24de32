package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/npy"
)

// TestNPZKey reads named arrays of a real numpy savez file with the
// DATA.npz:KEY syntax, and reports the names when the choice is ambiguous.
func TestNPZKey(t *testing.T) {
	amb := filepath.Join("..", "..", "fixtures", "npy", "savez_ambiguous.npz")
	_, err := readArray(amb)
	if err == nil || !strings.Contains(err.Error(), "savez_ambiguous.npz") {
		t.Fatalf("ambiguous .npz without a key: %v", err)
	}
	names := err.Error()
	for _, key := range []string{"a", "b"} {
		if !strings.Contains(names, key) {
			t.Fatalf("the error should list the arrays a and b: %v", err)
		}
		a, err := readArray(amb + ":" + key)
		if err != nil {
			t.Errorf("%s:%s: %v", amb, key, err)
			continue
		}
		want, err := npy.ReadFileArray(amb, key)
		if err != nil || len(a.Data) != len(want.Data) {
			t.Errorf("%s:%s: %d values, want %d (%v)", amb, key, len(a.Data), len(want.Data), err)
		}
	}
	if _, err := readArray(amb + ":nope"); err == nil {
		t.Error("unknown key: no error")
	}
	if f, k := dataset.SplitName("data.npz:x"); f != "data.npz" || k != "x" {
		t.Errorf("split data.npz:x = %q %q", f, k)
	}
	if f, k := dataset.SplitName("data.npy"); f != "data.npy" || k != "" {
		t.Errorf("split data.npy = %q %q", f, k)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"predict", "m.keras", "-i", amb + ":zzz", "-o", filepath.Join(t.TempDir(), "y.npy")}, &stdout, &stderr); code != exitUsage {
		t.Errorf("exit %d", code)
	}
}
