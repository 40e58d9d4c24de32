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
)

// Perm is the permission of the files Write creates (before the umask is
// not applied: the file gets exactly these bits).
const Perm fs.FileMode = 0o644

// Write calls fn with a writer for the temporary file and, if fn succeeds,
// renames it to name. Errors name name, never the temporary file.
func Write(name string, fn func(w io.Writer) error) error {
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
