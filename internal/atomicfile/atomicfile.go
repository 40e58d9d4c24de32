// Package atomicfile writes files so that a reader, or a crash, sees either
// the old file or the complete new one, never a part: the content goes to
// a temporary file in the same folder, which is flushed to disk, given its
// permissions and renamed over the name. On error the temporary file is
// removed and the named file is left as it was.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aekit/aekit/internal/inputfile"
)

// ErrNotRegular reports an output name that exists and is not a regular
// file (see the package documentation).
var ErrNotRegular = inputfile.ErrNotRegular

// Check reports, without writing anything, whether Write could write
// name: its folder must exist and take new files, and name must not exist
// or be a regular file. It lets a program check its outputs before a
// long computation. Errors name name.
func Check(name string) error {
	if err := checkTarget(name); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("%s: %w", name, pathless(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkTarget refuses a name that exists and is not a regular file.
func checkTarget(name string) error {
	st, err := os.Lstat(name)
	if err != nil || st.Mode().IsRegular() {
		return nil // a missing name is created; other errors show on writing
	}
	return fmt.Errorf("%s: %w (%s); give the path of a regular file to replace", name, ErrNotRegular, inputfile.Kind(st.Mode()))
}

// RemoveStale removes the temporary files Write leaves for name when the
// process is killed (SIGKILL, power loss) between creating and renaming
// them: ".NAME.tmp" followed by digits, in name's folder. Call it only
// where no other process writes name at the same time. It returns the
// number of files removed.
func RemoveStale(name string) int {
	dir, prefix := filepath.Dir(name), "."+filepath.Base(name)+".tmp"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}

// Perm is the permission of the files Write creates (before the umask is
// not applied: the file gets exactly these bits).
const Perm fs.FileMode = 0o644

// Write calls fn with a writer for the temporary file and, if fn succeeds,
// renames it to name. Errors name name, never the temporary file.
func Write(name string, fn func(w io.Writer) error) error {
	if err := checkTarget(name); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("%s: %w", name, pathless(err))
	}
	tmp := f.Name()
	err = fn(f)
	if err == nil {
		err = f.Chmod(Perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = checkTarget(name) // made special while fn ran?
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", name, pathless(err))
	}
	return nil
}

// WriteFile writes data to name as Write does.
func WriteFile(name string, data []byte) error {
	return Write(name, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// pathless drops the temporary file's name from os errors, keeping the
// cause ("permission denied", "no space left on device").
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
