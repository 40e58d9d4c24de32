// Package h5 is the small part of HDF5 that Keras files need, over the
// HDF5 C library (cgo, Debian libhdf5-dev): open a file image held in
// memory, list groups, read string attributes (scalar and array, fixed and
// variable length, ASCII and UTF-8) and numeric datasets as float32;
// create an in-memory file with groups, string attributes laid out as
// h5py writes them, and float32 datasets, and take its bytes.
//
// Files live in memory (HDF5's core driver with a file image), so callers
// read from an io.Reader and write to an io.Writer. HDF5's automatic error
// printing is switched off on every call and failures come back as Go
// errors wrapping ErrHDF5 or ErrFormat, never as text on stderr.
//
// Attributes of files opened with Open are parsed in Go from the image
// (object header attribute messages, and the global heap for variable-
// length strings), every size and heap reference checked: libhdf5 1.10
// reads wild memory on corrupt attribute messages and heap references.
// libhdf5 still opens the file, resolves paths, lists links and reads
// datasets; corruption there is caught by libhdf5's own checks, which are
// not hardened against every malicious file.
//
// gonum.org/v1/hdf5 is not used: it cannot open file images or wrap raw
// HDF5 identifiers, and its Attribute.Read crashes on the variable-length
// string arrays that Keras ≥ 2.5 writes.
//
// Built without cgo, every function returns ErrNoCgo.
package h5
