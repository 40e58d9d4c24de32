package dataset

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/train"
)

// ErrNoRows reports a file that holds no row (an empty array, or a 0-d
// array, which holds no sample). Errors wrapping it name the file.
var ErrNoRows = errors.New("no samples")

// MapThreshold is the file size in bytes above which Auto memory-maps a
// float32 .npy file instead of reading it: 1 GiB.
const MapThreshold = 1 << 30

// Mode says whether a Loader memory-maps files or reads them into memory.
type Mode int

const (
	// Auto maps float32 C-order .npy files larger than MapThreshold and
	// reads other files into memory (a large file that cannot be mapped
	// is read, and Options.Fallback is told).
	Auto Mode = iota
	// Map maps every file; a file that cannot be mapped (another dtype,
	// Fortran order, an .npz archive) is an error wrapping
	// npy.ErrNotMappable.
	Map
	// Read reads every file into memory.
	Read
)

// String returns the mode's name: "auto", "map" or "read".
func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case Map:
		return "map"
	case Read:
		return "read"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Options configures a Loader. The zero Options (or nil) is Auto with
// npy's default limits.
type Options struct {
	// Mode says which files are memory-mapped; the zero value is Auto.
	Mode Mode
	// Limits bounds the .npz archives read into memory; nil means npy's
	// defaults (see npy.Options).
	Limits *npy.Options
	// Fallback, when not nil, is called when Auto reads a file larger
	// than MapThreshold into memory because it cannot be mapped, with
	// npy.Map's error (wrapping npy.ErrNotMappable), before the file is
	// read.
	Fallback func(err error)
}

// A Loader opens data files as rows and keeps the mappings of the files
// it maps until Close. Its methods are not safe for concurrent use; the
// Data they return may be read by several goroutines at once (as
// train.Fit reads it).
type Loader struct {
	opt    Options
	mapped []*npy.Mapped
}

// NewLoader returns a Loader with the options opt (nil: the zero
// Options).
func NewLoader(opt *Options) *Loader {
	l := &Loader{}
	if opt != nil {
		l.opt = *opt
	}
	return l
}

// Close releases the mappings of the files l mapped; the Data they gave
// must not be read afterwards. It returns the first error.
func (l *Loader) Close() error {
	var first error
	for _, m := range l.mapped {
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	l.mapped = nil
	return first
}

// Rows opens name (a file, or "archive.npz:key") as rows of width values;
// width 0 means the file's own rows (the product of its trailing
// dimensions, or a 1-D array's length). A mapped file's rows are an
// *npy.Matrix read from the file; a file read into memory gives
// train.Slice of its values, uint8 data divided by 255. A file without
// rows gives an error wrapping ErrNoRows.
func (l *Loader) Rows(name string, width int) (train.Data, error) {
	if file, key := SplitName(name); key != "" {
		if l.opt.Mode == Map {
			return nil, &notMappable{fmt.Sprintf("%s: arrays inside .npz files cannot be mapped", name)}
		}
		a, err := npy.ReadFileOptions(file, key, l.opt.Limits)
		if err != nil {
			return nil, err
		}
		return memRows(name, a, width)
	}
	mapIt := l.opt.Mode == Map
	if l.opt.Mode == Auto {
		if st, err := os.Stat(name); err == nil && st.Size() > MapThreshold {
			mapIt = true
		}
	}
	if !mapIt {
		return l.read(name, width)
	}
	m, err := npy.Map(name)
	switch {
	case err == nil:
		l.mapped = append(l.mapped, m)
		if width, err = rowWidth(name, &m.Array, width); err != nil {
			return nil, err
		}
		mx, err := m.Matrix(width)
		if err != nil {
			return nil, err
		}
		if mx.Rows() == 0 {
			return nil, fmt.Errorf("%s: %w", name, ErrNoRows)
		}
		return mx, nil
	case errors.Is(err, npy.ErrNotMappable) && l.opt.Mode == Auto:
		if l.opt.Fallback != nil {
			l.opt.Fallback(err)
		}
		return l.read(name, width)
	case errors.Is(err, npy.ErrNotMappable):
		return nil, fmt.Errorf("%w (only float32 .npy files in C order can be mapped)", err)
	}
	return nil, err
}

// read reads the file name into memory as rows.
func (l *Loader) read(name string, width int) (train.Data, error) {
	a, err := npy.ReadFileOptions(name, "", l.opt.Limits)
	if err != nil {
		return nil, err
	}
	return memRows(name, a, width)
}

// Targets opens name as the targets of the inputs x (opened from the
// file xName, which errors name): rows of width values (0: the file's
// own), as many as x has, else an error wrapping train.ErrData.
func (l *Loader) Targets(x train.Data, xName, name string, width int) (train.Data, error) {
	y, err := l.Rows(name, width)
	if err != nil {
		return nil, err
	}
	if n := y.Rows(); n != x.Rows() {
		return nil, fmt.Errorf("%w: %s has %d rows, %s has %d", train.ErrData, name, n, xName, x.Rows())
	}
	return y, nil
}

// Set opens the inputs x (rows of inWidth values, 0: the file's own) and
// the targets y (rows of outWidth values; "" for none: an autoencoder,
// whose targets are its inputs) as a train.Set.
func (l *Loader) Set(x, y string, inWidth, outWidth int) (train.Set, error) {
	xd, err := l.Rows(x, inWidth)
	if err != nil {
		return train.Set{}, err
	}
	s := train.Set{X: xd}
	if y != "" {
		if s.Y, err = l.Targets(xd, x, y, outWidth); err != nil {
			return train.Set{}, err
		}
	}
	return s, nil
}

// SplitName splits "archive.npz:key" into the file and the name of an
// array in it; other names come back whole with an empty key.
func SplitName(name string) (file, key string) {
	i := strings.LastIndex(name, ".npz:")
	if i < 0 {
		return name, ""
	}
	return name[:i+4], name[i+5:]
}

// Scale divides the values of uint8 data (raw pixels, dtype u1) by 255,
// in place, as the Keras examples scale images before fit and predict;
// other dtypes are left as they are.
func Scale(a *npy.Array) {
	if !strings.HasSuffix(a.DType, "u1") { // |u1, <u1, >u1
		return
	}
	for i, v := range a.Data {
		a.Data[i] = v / 255
	}
}

// rowWidth is the width of a's rows: width, or when it is 0 the product
// of a's trailing dimensions (a 1-D array: its length).
func rowWidth(name string, a *npy.Array, width int) (int, error) {
	if width != 0 {
		return width, nil
	}
	switch len(a.Shape) {
	case 0:
		return 0, fmt.Errorf("%s: a 0-d array holds %w", name, ErrNoRows)
	case 1:
		return a.Shape[0], nil
	}
	width = 1
	for _, d := range a.Shape[1:] {
		width *= d
	}
	return width, nil
}

// memRows returns the in-memory array a as rows of width values (0: a's
// own), uint8 data divided by 255.
func memRows(name string, a *npy.Array, width int) (train.Data, error) {
	width, err := rowWidth(name, a, width)
	if err != nil {
		return nil, err
	}
	n, err := a.Batch(width)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrNoRows)
	}
	Scale(a)
	return train.Slice(a.Data, width), nil
}

// notMappable is an error wrapping npy.ErrNotMappable with its own text.
type notMappable struct{ msg string }

func (e *notMappable) Error() string { return e.msg }
func (e *notMappable) Unwrap() error { return npy.ErrNotMappable }
