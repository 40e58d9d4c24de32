//go:build unix

package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aekit/aekit/internal/limits"
)

func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, nil); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") || !strings.HasPrefix(err.Error(), fifo) {
			t.Errorf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
	if _, _, err := Open("/dev/zero"); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "character device") {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := ReadFile(dir, nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a folder: %v", err)
	}
}

func TestReadFileLimit(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	os.WriteFile(name, []byte("0123456789"), 0o644)
	sentinel := errors.New("too large")
	lim := func(n int64) *limits.Error { return &limits.Error{Limit: n, Option: "x.Options.MaxX", Err: sentinel} }
	if b, err := ReadFile(name, lim(10)); err != nil || string(b) != "0123456789" {
		t.Errorf("at the limit: %q %v", b, err)
	}
	_, err := ReadFile(name, lim(9))
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "x.Options.MaxX") || !strings.Contains(err.Error(), "limit of 9") {
		t.Errorf("over the limit: %v", err)
	}
	link := name + ".link"
	os.Symlink(name, link)
	if b, err := ReadFile(link, nil); err != nil || len(b) != 10 {
		t.Errorf("symlink to a regular file: %q %v", b, err)
	}
}
