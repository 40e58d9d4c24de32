package h5

import (
	"bytes"
	"errors"
)

// Sentinel errors, wrapped with context naming the object. Test for them
// with errors.Is.
var (
	// ErrFormat reports bytes that are not a readable HDF5 file: no
	// signature, truncated, corrupt, cyclic, or claiming absurd sizes.
	ErrFormat = errors.New("h5: not a valid HDF5 file")
	// ErrType reports an attribute or dataset whose type or shape is not
	// what the caller asked for.
	ErrType = errors.New("h5: unexpected type")
	// ErrNotFound reports a path or attribute that does not exist.
	ErrNotFound = errors.New("h5: not found")
	// ErrExternal reports an object that refers outside the file: external
	// data storage (EFL), an external or user-defined link, a virtual
	// dataset, or a soft link that does not resolve inside the file. The
	// reader never opens another file.
	ErrExternal = errors.New("h5: refers outside the file")
	// ErrUnsupported reports a valid HDF5 feature this reader does not
	// implement (a filter, chunk index or message Keras files do not use).
	ErrUnsupported = errors.New("h5: unsupported HDF5 feature")
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

// AttrInfo describes an attribute's type and shape.
type AttrInfo struct {
	// Class is the attribute's type class.
	Class Class
	// VarLen reports a variable-length string.
	VarLen bool
	// UTF8 reports a string whose character set is UTF-8 (else ASCII).
	UTF8 bool
	// Size is the size in bytes of one element (fixed-length strings,
	// numbers); 0 for variable-length strings.
	Size int
	// Shape is the dataspace shape; nil for a scalar, [0] for an empty
	// (null) dataspace.
	Shape []int
}

// Len returns the number of elements of an attribute of shape Shape.
func (a AttrInfo) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}
