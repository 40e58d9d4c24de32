package npy

import (
	"fmt"
	"io"
	"os"

	"github.com/aekit/aekit/internal/inputfile"
)

// Mapped is an array whose Data is a read-only view of a memory-mapped .npy
// file, made by Map. Pages are read from disk when first touched and can be
// dropped by the kernel under memory pressure, so a Mapped array may be
// larger than memory.
//
// Data must not be written to: the mapping is read-only and a write faults
// (crashes the program). Data must not be used after Close.
type Mapped struct {
	// Array holds the shape, the dtype ("<f4" on little-endian hosts)
	// and the float32 data, in C order.
	Array

	mem []byte // the mapping; nil when the file was read instead

	// The file, kept open while mapped, for reading rows with pread
	// (Matrix); nil when the file was read instead.
	f       *os.File
	name    string
	dataOff int64 // file offset of Data[0]
}

// Map memory-maps the .npy file name and returns its data as a []float32
// view without reading it. The file must hold float32 in the host's byte
// order (little-endian '<f4' on amd64 and arm64) in C order (or be 0-d or
// 1-D), with its data aligned to 4 bytes, as numpy writes it; for any other
// file, including .npz archives, the error wraps ErrNotMappable and
// ReadFile should be used instead. The header is checked as by Read, and a
// file shorter than its header declares gives ErrTruncated.
//
// On Unix systems the file is mapped with mmap(2); elsewhere Map reads the
// file into memory, with the same checks. Call Close to release the
// mapping.
func Map(name string) (*Mapped, error) {
	f, size, err := inputfile.Open(name)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	h, err := mappableHeader(f, size)
	if err != nil {
		f.Close()
		return nil, &fileError{name: name, err: err}
	}
	m, err := mapFile(f, size, h)
	if err != nil {
		f.Close()
		return nil, &fileError{name: name, err: err}
	}
	m.name = name
	if m.mem == nil {
		f.Close()
		return m, nil
	}
	m.f, m.dataOff = f, h.dataOff
	return m, nil
}

// mappableHeader reads the header of the .npy file f of the given size and
// checks that its data can be viewed as []float32 in place.
func mappableHeader(f *os.File, size int64) (*header, error) {
	var head [4]byte
	if m, _ := f.ReadAt(head[:], 0); m == 4 && (string(head[:]) == "PK\x03\x04" || string(head[:]) == "PK\x05\x06") {
		return nil, fmt.Errorf("%w: file is an .npz archive; only .npy files can be mapped", ErrNotMappable)
	}
	h, err := readHeader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return nil, err
	}
	switch {
	case h.dt.kind != 'f' || h.dt.size != 4 || !h.dt.native():
		return nil, fmt.Errorf("%w: dtype %s is not float32 in the host byte order", ErrNotMappable, h.descr)
	case h.fortran && len(h.shape) > 1:
		return nil, fmt.Errorf("%w: data of shape %s is in Fortran order", ErrNotMappable, shapeString(h.shape))
	case h.dataOff%4 != 0:
		return nil, fmt.Errorf("%w: data offset %d is not a multiple of 4", ErrNotMappable, h.dataOff)
	}
	if need := h.dataOff + 4*int64(h.n); need > size {
		return nil, fmt.Errorf("%w: shape %s of %s needs %d bytes, the file holds %d: %w",
			ErrTruncated, shapeString(h.shape), h.descr, need, size, io.ErrUnexpectedEOF)
	}
	return h, nil
}

// readMapped is the fallback of mapFile: it reads the data of f into
// memory.
func readMapped(f *os.File, size int64, h *header) (*Mapped, error) {
	sr := io.NewSectionReader(f, h.dataOff, size-h.dataOff)
	a, err := readData(sr, h, size-h.dataOff)
	if err != nil {
		return nil, err
	}
	return &Mapped{Array: *a}, nil
}

// Close releases the mapping. Data is set to nil; views of it taken
// before must not be used afterwards. Closing twice is allowed.
func (m *Mapped) Close() error {
	m.Data = nil
	if m.f != nil {
		m.f.Close()
		m.f = nil
	}
	if m.mem == nil {
		return nil
	}
	mem := m.mem
	m.mem = nil
	if err := unmap(mem); err != nil {
		return fmt.Errorf("npy: unmapping: %w", err)
	}
	return nil
}
