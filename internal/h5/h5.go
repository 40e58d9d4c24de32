package h5

import (
	"bytes"
	"errors"
)

// Sentinel errors, wrapped with context. Test for them with errors.Is.
var (
	// ErrFormat reports bytes that are not a readable HDF5 file: no
	// signature, truncated, corrupt, or claiming absurd sizes.
	ErrFormat = errors.New("h5: not a valid HDF5 file")
	// ErrHDF5 reports a failed HDF5 library call; the message carries
	// HDF5's own description.
	ErrHDF5 = errors.New("h5: HDF5 error")
	// ErrType reports an attribute or dataset whose type or shape is not
	// what the caller asked for.
	ErrType = errors.New("h5: unexpected type")
	// ErrNoCgo reports that the package was built without cgo, so there
	// is no HDF5 library to call.
	ErrNoCgo = errors.New("h5: HDF5 support needs cgo and libhdf5")
)

// Limits on what a file may claim, so that a corrupt header cannot make
// the reader allocate absurd amounts of memory.
const (
	maxElems   = 1 << 28 // values in one dataset (1 GiB of float32)
	maxStrings = 1 << 20 // strings in one attribute, links in one group
	maxStrLen  = 1 << 26 // bytes in one fixed-length string element
)

// Kind is the kind of object at a path.
type Kind int

// Object kinds.
const (
	None    Kind = iota // nothing there, or an object of another kind
	Group               // an HDF5 group
	Dataset             // an HDF5 dataset
)

// String returns "none", "group" or "dataset".
func (k Kind) String() string {
	switch k {
	case Group:
		return "group"
	case Dataset:
		return "dataset"
	}
	return "none"
}

// Class is the type class of an attribute or dataset element.
type Class int

// Type classes.
const (
	Other   Class = iota // compound, enum, reference, ...
	String               // fixed- or variable-length string
	Float                // IEEE floating point of any size
	Integer              // signed or unsigned integer of any size
)

// String returns "string", "float", "integer" or "other".
func (c Class) String() string {
	switch c {
	case String:
		return "string"
	case Float:
		return "float"
	case Integer:
		return "integer"
	}
	return "other"
}

// Signature is the 8-byte HDF5 format signature.
var signature = []byte("\x89HDF\r\n\x1a\n")

// IsHDF5 reports whether b starts an HDF5 file: the signature at offset 0
// or, after a user block, at 512, 1024, 2048, ... bytes.
func IsHDF5(b []byte) bool {
	for off := 0; off+len(signature) <= len(b); {
		if bytes.Equal(b[off:off+len(signature)], signature) {
			return true
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return false
}
