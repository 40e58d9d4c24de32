// Package inputfile opens the files aekit reads — models, data,
// architectures, checkpoints — refusing anything that is not a regular
// file, and reads them with a size bound.
//
// A named pipe (FIFO), a character or block device (/dev/zero) or a
// socket is refused with ErrNotRegular before a byte is read:
// reading one could block forever (a FIFO nobody writes to) or never end
// (/dev/zero). Symbolic links to regular files are followed; only the file
// they lead to is checked. On Unix the file is opened non-blocking, so
// that opening a FIFO does not wait for a writer, and checked with fstat
// on the open descriptor, so that the file checked is the file read.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/aekit/aekit/internal/limits"
)

// ErrNotRegular reports a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens name for reading and returns it with its size. It fails
// with an error wrapping ErrNotRegular, naming what the file is, when
// name is not a regular file (after following symbolic links). Errors
// name the file.
func Open(name string) (*os.File, int64, error) {
	f, err := openNonblock(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() && !st.IsDir() { // reading a folder fails by itself: "is a directory"
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, Kind(st.Mode()))
	}
	return f, st.Size(), nil
}

// ReadFile reads the whole regular file name. With a non-nil lim, the
// file must hold at most lim.Limit bytes: a larger one fails, before
// anything is read, with a copy of lim (a *limits.Error, which names the
// option that sets the bound and unwraps to the caller's sentinel error)
// whose What is name and Got the file's size. The size is taken from
// fstat; a file that grows while it is read is cut at Limit+1 bytes and
// refused the same way.
func ReadFile(name string, lim *limits.Error) ([]byte, error) {
	f, size, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := func(got int64) error {
		e := *lim
		e.What, e.Got, e.Unit = name, got, "bytes"
		return &e
	}
	r := io.Reader(f)
	if lim != nil {
		if size > lim.Limit {
			return nil, tooLarge(size)
		}
		r = io.LimitReader(f, lim.Limit+1)
	}
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	if lim != nil && int64(len(b)) > lim.Limit {
		return nil, tooLarge(int64(len(b)))
	}
	return b, nil
}

// Kind names the type of file a mode describes: "a named pipe",
// "a character device", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}
