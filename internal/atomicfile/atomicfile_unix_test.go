//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	names := []string{link, fifo, dir}
	// A device node of the test's own (a copy of /dev/null; needs root):
	// a regression must not replace the system's /dev/null.
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		names = append(names, dev)
	} else {
		t.Logf("no device node tested: %v", err)
	}
	for _, name := range names {
		for _, err := range []error{WriteFile(name, []byte("new")), Check(name)} {
			if !errors.Is(err, ErrNotRegular) || !strings.HasPrefix(err.Error(), name+": ") {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "old" {
		t.Errorf("written through the link: %q", b)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", err)
	}
	if err := Check(filepath.Join(dir, "no", "x")); err == nil {
		t.Error("Check passed a missing folder")
	}
	if err := Check(target); err != nil {
		t.Errorf("Check on a regular file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(names) { // target, link, fifo (and null)
		t.Errorf("left behind: %v", entries)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "m.ckpt")
	for _, f := range []string{".m.ckpt.tmp123", ".m.ckpt.tmp9", ".m.ckpt.tmpx1", ".other.tmp12", "m.ckpt"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	if n := RemoveStale(name); n != 2 {
		t.Errorf("removed %d, want 2", n)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != ".m.ckpt.tmpx1 .other.tmp12 m.ckpt" {
		t.Errorf("left %v", left)
	}
}
