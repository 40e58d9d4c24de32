package npy

import (
	"errors"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them, with
// details, and are matched with errors.Is.
var (
	// ErrFormat reports input that is not a well-formed .npy or .npz file:
	// bad magic bytes, an unsupported format version or a malformed header.
	ErrFormat = errors.New("npy: invalid format")

	// ErrTruncated reports input that ends before the header or the data
	// it declares. Errors wrapping ErrTruncated also wrap
	// io.ErrUnexpectedEOF.
	ErrTruncated = errors.New("npy: truncated input")

	// ErrTooLarge reports a header, a number of dimensions or an array
	// size beyond what this package accepts (see the package
	// documentation) or beyond what fits in memory addressing.
	ErrTooLarge = errors.New("npy: size too large")

	// ErrDType reports a dtype that does not convert to float32: complex,
	// object, string, datetime and structured dtypes, and unknown ones.
	ErrDType = errors.New("npy: unsupported dtype")

	// ErrShape reports an array whose shape does not match its data or
	// the shape asked for.
	ErrShape = errors.New("npy: shape mismatch")

	// ErrNotFound reports an .npz file without the array asked for, or
	// with several arrays and none of the default names.
	ErrNotFound = errors.New("npy: array not found")

	// ErrNotMappable reports a file that Map cannot expose as a float32
	// view: another dtype or byte order, Fortran order, a misaligned data
	// offset or an .npz archive. ReadFile reads such files.
	ErrNotMappable = errors.New("npy: cannot memory-map")
)

// fileError adds a file name, and for .npz files the array name, to an
// error of this package.
type fileError struct {
	name string
	key  string // array name inside an .npz, or ""
	err  error
}

func (e *fileError) Error() string {
	var b strings.Builder
	b.WriteString("npy: ")
	b.WriteString(e.name)
	if e.key != "" {
		b.WriteString(": array ")
		b.WriteString(e.key)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.err.Error(), "npy: "))
	return b.String()
}

func (e *fileError) Unwrap() error { return e.err }
