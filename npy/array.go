package npy

import (
	"fmt"
	"math"
)

// Array is an n-dimensional array of float32 values.
type Array struct {
	// Shape is the size of each dimension, outermost first; it is empty
	// for a 0-d (scalar) array. Dimensions are never negative.
	Shape []int

	// Data holds the product of Shape elements in C (row-major) order,
	// whatever the order of the file they were read from.
	Data []float32

	// DType is the numpy dtype descr of the data as it was stored, such
	// as "<f8", ">i4" or "|u1", before conversion to float32. Write
	// ignores it and always writes "<f4".
	DType string
}

// Batch reports how many samples of the given width a holds, laid out one
// after the other in Data, so that sample i is
// Data[i*width : (i+1)*width]:
//
//   - a 1-D array of length width is one sample;
//   - a 1-D array of length n is n samples when width is 1 (as Keras
//     expands a 1-D input to a column);
//   - an array of shape (n, d1, d2, ...) is n samples when
//     d1*d2*... == width; so (n, width) is n rows, and (n, 28, 28)
//     images are flattened for width 784.
//
// Any other shape, a 0-d array, or a width below 1 gives an error wrapping
// ErrShape that names the shape and the width.
func (a *Array) Batch(width int) (n int, err error) {
	if width < 1 {
		return 0, fmt.Errorf("%w: sample width %d is not positive", ErrShape, width)
	}
	switch {
	case len(a.Shape) == 0:
		return 0, fmt.Errorf("%w: a 0-d array holds no samples of width %d", ErrShape, width)
	case len(a.Shape) == 1 && a.Shape[0] == width:
		n = 1
	case len(a.Shape) == 1 && width == 1:
		n = a.Shape[0]
	case len(a.Shape) == 1:
		return 0, fmt.Errorf("%w: array of shape %s is not one sample of width %d", ErrShape, shapeString(a.Shape), width)
	default:
		inner := 1
		for _, d := range a.Shape[1:] {
			if d < 0 || (d != 0 && inner > math.MaxInt/d) {
				return 0, fmt.Errorf("%w: invalid shape %s", ErrShape, shapeString(a.Shape))
			}
			inner *= d
		}
		if inner != width {
			return 0, fmt.Errorf("%w: array of shape %s holds rows of %d values, want width %d (shape (n, %d))",
				ErrShape, shapeString(a.Shape), inner, width, width)
		}
		n = a.Shape[0]
	}
	if n < 0 || n > len(a.Data)/width || n*width != len(a.Data) {
		return 0, fmt.Errorf("%w: shape %s does not match %d data values", ErrShape, shapeString(a.Shape), len(a.Data))
	}
	return n, nil
}

// FirstNonFinite finds the first NaN or ±Inf in Data. For an array of two or
// more dimensions, row is the index along the first dimension and col the
// offset within that row (the trailing dimensions flattened); for 0-d and
// 1-D arrays row is 0 and col is the index in Data. ok is false when every
// value is finite.
func (a *Array) FirstNonFinite() (row, col int, ok bool) {
	for i, v := range a.Data {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 { // exponent all ones: NaN or ±Inf
			if len(a.Shape) < 2 || a.Shape[0] == 0 {
				return 0, i, true
			}
			w := len(a.Data) / a.Shape[0]
			if w == 0 {
				return 0, i, true
			}
			return i / w, i % w, true
		}
	}
	return 0, 0, false
}
