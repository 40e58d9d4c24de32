package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Write writes a to w as a version 1.0 .npy file of little-endian float32
// in C order (dtype '<f4'), which numpy.load reads. a.DType is ignored.
// len(a.Data) must equal the product of a.Shape, else the error wraps
// ErrShape and nothing is written.
func Write(w io.Writer, a *Array) error {
	if a == nil {
		return fmt.Errorf("%w: nil array", ErrShape)
	}
	n := 1
	for _, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("%w: negative dimension in shape %v", ErrShape, a.Shape)
		}
		if d != 0 && n > math.MaxInt/d {
			n = -1
			break
		}
		n *= d
	}
	if n != len(a.Data) {
		return fmt.Errorf("%w: shape %s does not hold the %d values of Data", ErrShape, shapeString(a.Shape), len(a.Data))
	}
	if _, err := w.Write(encodeHeader(a.Shape)); err != nil {
		return fmt.Errorf("npy: writing header: %w", err)
	}
	if err := writeFloat32s(w, a.Data); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	return nil
}

// encodeHeader returns the magic, version and header dictionary of a '<f4'
// C-order array of the given shape, padded with spaces and a newline so
// that the data starts at a multiple of 64 bytes, as numpy does.
func encodeHeader(shape []int) []byte {
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeString(shape) + ", }"
	pre := 10 // magic, version 1.0 and a 2-byte length
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	if total-pre > math.MaxUint16 {
		// Version 2.0 has a 4-byte length; never needed with up to 64
		// dimensions, kept so that any shape gives a valid file.
		pre = 12
		total = (pre + len(dict) + 1 + 63) / 64 * 64
	}
	b := make([]byte, 0, total)
	b = append(b, magic...)
	hlen := total - pre
	if pre == 10 {
		b = append(b, 1, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	} else {
		b = append(b, 2, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(hlen))
	}
	b = append(b, dict...)
	for len(b) < total-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// writeFloat32s writes data as little-endian float32.
func writeFloat32s(w io.Writer, data []float32) error {
	if len(data) == 0 {
		return nil
	}
	if hostLittle {
		_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data)))
		return err
	}
	buf := make([]byte, 4*min(len(data), chunkElems))
	for len(data) > 0 {
		k := min(len(data), chunkElems)
		for i, v := range data[:k] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		data = data[k:]
	}
	return nil
}
