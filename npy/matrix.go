package npy

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// Matrix is a Mapped array seen as Rows rows of Width float32 values, read
// by row index into the caller's buffer (the row source of package train:
// train.Data). Rows are read from the file with pread(2), not through the
// mapping: reading copies from the page cache and makes no page of the
// mapping resident, so a file larger than memory can be read in any order
// with the process's resident memory bounded by the buffers. Where the
// file was read into memory instead of mapped (Map's fallback), rows are
// copied from Data.
//
// A Matrix is valid until its Mapped is closed. ReadRows may be called
// from several goroutines at once.
type Matrix struct {
	m        *Mapped
	n, width int
}

// Matrix returns m as rows of width values (see Array.Batch for the
// shapes that hold them); a shape that does not gives an error wrapping
// ErrShape.
func (m *Mapped) Matrix(width int) (*Matrix, error) {
	n, err := m.Batch(width)
	if err != nil {
		return nil, &fileError{name: m.name, err: err}
	}
	return &Matrix{m: m, n: n, width: width}, nil
}

// Rows returns the number of rows.
func (x *Matrix) Rows() int { return x.n }

// Width returns the number of values in a row.
func (x *Matrix) Width() int { return x.width }

// String returns the file's name.
func (x *Matrix) String() string { return x.m.name }

// ReadRows copies rows idx[0], idx[1], … into dst, Width values each;
// len(dst) must be len(idx)·Width. Runs of consecutive indices are read
// with one pread. An index outside [0, Rows) gives an error wrapping
// ErrShape; a file that has become shorter than its header declared (it
// was truncated while mapped) gives an error wrapping ErrTruncated that
// names the file. It allocates nothing when it succeeds.
func (x *Matrix) ReadRows(dst []float32, idx []int) error {
	w := x.width
	if len(dst) != len(idx)*w {
		return fmt.Errorf("npy: %s: ReadRows of %d rows into %d values (width %d)", x.m.name, len(idx), len(dst), w)
	}
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && idx[j] == idx[j-1]+1 {
			j++
		}
		first := idx[i]
		if first < 0 || first > x.n-(j-i) {
			return fmt.Errorf("%w: %s: rows %d to %d outside [0, %d)", ErrShape, x.m.name, first, first+j-i-1, x.n)
		}
		if err := x.read(dst[i*w:j*w], first*w); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// read copies len(dst) values from value off of the data.
func (x *Matrix) read(dst []float32, off int) error {
	if len(dst) == 0 {
		return nil
	}
	if x.m.f == nil {
		if x.m.Data == nil {
			return fmt.Errorf("npy: %s: read after Close", x.m.name)
		}
		copy(dst, x.m.Data[off:off+len(dst)])
		return nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst))
	pos := x.m.dataOff + 4*int64(off)
	k, err := x.m.f.ReadAt(b, pos)
	if k == len(b) {
		return nil
	}
	if errors.Is(err, io.EOF) || err == nil {
		return fmt.Errorf("%w: %s: reading bytes %d to %d: the file was truncated while mapped (data must not change while it is read): %w",
			ErrTruncated, x.m.name, pos+int64(k), pos+int64(len(b)), io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("npy: %s: reading rows: %w", x.m.name, err)
}

// Release tells the operating system that the mapped pages of the data
// that were touched through Data are no longer needed (Linux: madvise
// MADV_DONTNEED; they stay in the page cache while memory allows).
// ReadRows touches none, so Release only matters to callers that also
// read Data. Elsewhere than on Linux it does nothing.
func (x *Matrix) Release() {
	if x.m.mem != nil {
		release(x.m.mem)
	}
}
