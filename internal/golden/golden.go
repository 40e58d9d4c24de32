// Package golden compares test output with golden files under a
// package's testdata folder, as go/printer's tests do, and rewrites them
// when the tests run with -update, in the packages that have golden files:
//
//	go test ./cmd/aekit ./keras ./onnx ./internal/kernel/vmath -run Golden -update
//
// Importing the package registers the -update flag in that package's test
// binary (a package without golden files does not know the flag, so name
// the packages rather than ./...).
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata (and other committed test outputs, see Update) with the output of the tests")

// Update reports whether the tests run with -update, for tests that
// rewrite other committed files (a fuzz seed corpus) with it.
func Update() bool { return *update }

// Check compares got with the golden file name (a path under the test's
// package folder, e.g. "testdata/golden/x.txt"). It fails the test on any
// difference, naming the first line that differs and how to accept the
// change; with -update it writes got to name instead.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	line := func(ls []string) string {
		if i < len(ls) {
			return ls[i]
		}
		return "(end of output)"
	}
	t.Errorf("%s differs at line %d:\n got: %s\nwant: %s\n(if the change is intended, run go test -run Golden -update and review the diff)", name, i+1, line(gl), line(wl))
}
