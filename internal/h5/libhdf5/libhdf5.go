package libhdf5

import (
	"errors"

	"github.com/aekit/aekit/internal/h5"
)

// The kinds, classes and attribute descriptions are those of the pure-Go
// reader, so that both readers can be compared value for value.
type (
	// Kind is h5.Kind.
	Kind = h5.Kind
	// Class is h5.Class.
	Class = h5.Class
	// AttrInfo is h5.AttrInfo.
	AttrInfo = h5.AttrInfo
)

// Object kinds and type classes, as in package h5.
const (
	None    = h5.None
	Group   = h5.Group
	Dataset = h5.Dataset

	Other   = h5.Other
	String  = h5.String
	Float   = h5.Float
	Integer = h5.Integer
)

// Sentinel errors. ErrFormat and ErrType are package h5's, so callers test
// one error whichever reader they use.
var (
	// ErrFormat is h5.ErrFormat: bytes that are not a readable HDF5 file.
	ErrFormat = h5.ErrFormat
	// ErrType is h5.ErrType: an attribute or dataset of another type or
	// shape than asked for.
	ErrType = h5.ErrType
	// ErrHDF5 reports a failed HDF5 library call; the message carries
	// HDF5's own description.
	ErrHDF5 = errors.New("libhdf5: HDF5 error")
	// ErrNoCgo reports that the package was built without cgo, so there
	// is no HDF5 library to call: files cannot be written.
	ErrNoCgo = errors.New("libhdf5: writing HDF5 needs cgo and libhdf5 (this aekit was built with CGO_ENABLED=0)")
)

// Limits on what a file may claim, so that a corrupt header cannot make
// the reader allocate absurd amounts of memory.
const (
	maxElems   = 1 << 28 // values in one dataset (1 GiB of float32)
	maxStrings = 1 << 20 // strings in one attribute, links in one group
	maxStrLen  = 1 << 26 // bytes in one fixed-length string element
)

// signature is the 8-byte HDF5 format signature.
var signature = []byte("\x89HDF\r\n\x1a\n")

// IsHDF5 is h5.IsHDF5.
func IsHDF5(b []byte) bool { return h5.IsHDF5(b) }
