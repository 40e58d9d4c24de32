// Package libhdf5 is the small part of HDF5 that aekit writes, over the
// HDF5 C library (cgo, Debian libhdf5-dev): create an in-memory file with
// groups, string attributes laid out as h5py writes them, and float32
// datasets, and take its bytes. It can also read (open a file image, list
// groups, read attributes and datasets): that reader is the test oracle
// of the pure-Go reader in package h5, which aekit uses for reading.
//
// Do not read untrusted files with it: libhdf5 follows external storage,
// external links and virtual datasets out of the file and crashes on some
// crafted files. Attributes are parsed in Go from the image (as libhdf5
// 1.10 reads wild memory on corrupt attribute messages); datasets and
// links go through libhdf5.
//
// Files live in memory (HDF5's core driver with a file image), so callers
// read from an io.Reader and write to an io.Writer. HDF5's automatic error
// printing is switched off on every call and failures come back as Go
// errors wrapping ErrHDF5 or ErrFormat, never as text on stderr.
//
// gonum.org/v1/hdf5 is not used: it cannot open file images or wrap raw
// HDF5 identifiers, and its Attribute.Read crashes on the variable-length
// string arrays that Keras ≥ 2.5 writes.
//
// Built without cgo, every function returns ErrNoCgo: such a build reads
// Keras files (through package h5) but cannot write .h5 or .keras files.
package libhdf5
