package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "out.bin")
	if err := WriteFile(name, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(name)
	if err != nil || st.Mode().Perm() != Perm {
		t.Fatalf("stat: %v, mode %v", err, st.Mode())
	}
	// A failing writer leaves the old content and no temporary file.
	boom := errors.New("boom")
	err = Write(name, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), name+": ") {
		t.Errorf("error %v, want boom prefixed by the name", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "new" {
		t.Errorf("content %q after a failed write", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	// A missing folder: the error names the file, not a temporary one.
	missing := filepath.Join(dir, "no", "such", "x.bin")
	err = WriteFile(missing, nil)
	if err == nil || !strings.HasPrefix(err.Error(), missing+": ") || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %v", err)
	}
}
