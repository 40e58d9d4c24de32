package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"unsafe"

	"github.com/aekit/aekit/internal/bigmem"
)

// chunkElems is the number of elements decoded per read: 1 MiB of float32.
const chunkElems = 1 << 18

// Read reads a .npy file from r and converts its elements to float32 in C
// order. It reads exactly the header and the data it declares, and no more.
//
// When r has a Len method reporting the bytes left (bytes.Reader,
// strings.Reader, bytes.Buffer), a header claiming more data than that
// fails before the data is read; otherwise memory grows only with the data
// actually read.
func Read(r io.Reader) (*Array, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	avail := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		avail = int64(l.Len())
	}
	return readData(r, h, avail)
}

// readData reads the data declared by h from r. avail is the number of
// bytes known to be left in r, or -1 when unknown.
func readData(r io.Reader, h *header, avail int64) (*Array, error) {
	n, es := h.n, h.dt.size
	need := int64(n) * int64(es)
	if avail >= 0 && need > avail {
		return nil, fmt.Errorf("%w: shape %s of %s needs %d data bytes, only %d present: %w",
			ErrTruncated, shapeString(h.shape), h.descr, need, avail, io.ErrUnexpectedEOF)
	}
	var out []float32
	if avail >= 0 {
		// In huge pages where Linux offers them: training gathers a
		// data set's rows at random (package bigmem).
		out = bigmem.Float32s(n)[:0]
	} else {
		out = make([]float32, 0, min(n, chunkElems))
	}
	direct := h.dt.kind == 'f' && es == 4 && h.dt.native()
	var buf []byte
	if !direct {
		buf = make([]byte, min(n, chunkElems)*es)
	}
	for len(out) < n {
		k := min(n-len(out), chunkElems)
		out = slices.Grow(out, k)
		dst := out[len(out) : len(out)+k]
		var src []byte
		if direct {
			src = unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*k)
		} else {
			src = buf[:k*es]
		}
		if m, err := io.ReadFull(r, src); err != nil {
			return nil, readError(err, "data of shape "+shapeString(h.shape)+" and dtype "+h.descr,
				h.dataOff+int64(len(out))*int64(es)+int64(m), h.dataOff+need)
		}
		if !direct {
			convert(dst, src, h.dt)
		}
		out = out[:len(out)+k]
	}
	if h.fortran && len(h.shape) > 1 {
		out = fortranToC(out, h.shape)
	}
	return &Array{Shape: h.shape, Data: out, DType: h.descr}, nil
}

// convert decodes len(dst) elements of type dt from src into dst.
func convert(dst []float32, src []byte, dt dtype) {
	var bo binary.ByteOrder = binary.LittleEndian
	if dt.big {
		bo = binary.BigEndian
	}
	switch {
	case dt.kind == 'b':
		for i, b := range src[:len(dst)] {
			if b != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	case dt.kind == 'u' && dt.size == 1:
		for i, b := range src[:len(dst)] {
			dst[i] = float32(b)
		}
	case dt.kind == 'i' && dt.size == 1:
		for i, b := range src[:len(dst)] {
			dst[i] = float32(int8(b))
		}
	case dt.kind == 'u' && dt.size == 2:
		for i := range dst {
			dst[i] = float32(bo.Uint16(src[2*i:]))
		}
	case dt.kind == 'i' && dt.size == 2:
		for i := range dst {
			dst[i] = float32(int16(bo.Uint16(src[2*i:])))
		}
	case dt.kind == 'f' && dt.size == 2:
		for i := range dst {
			dst[i] = halfToFloat32(bo.Uint16(src[2*i:]))
		}
	case dt.kind == 'u' && dt.size == 4:
		for i := range dst {
			dst[i] = float32(bo.Uint32(src[4*i:]))
		}
	case dt.kind == 'i' && dt.size == 4:
		for i := range dst {
			dst[i] = float32(int32(bo.Uint32(src[4*i:])))
		}
	case dt.kind == 'f' && dt.size == 4:
		for i := range dst {
			dst[i] = math.Float32frombits(bo.Uint32(src[4*i:]))
		}
	case dt.kind == 'u' && dt.size == 8:
		for i := range dst {
			dst[i] = float32(bo.Uint64(src[8*i:]))
		}
	case dt.kind == 'i' && dt.size == 8:
		for i := range dst {
			dst[i] = float32(int64(bo.Uint64(src[8*i:])))
		}
	case dt.kind == 'f' && dt.size == 8:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(bo.Uint64(src[8*i:])))
		}
	}
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 exactly,
// keeping NaN payloads like numpy's npy_halfbits_to_floatbits.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// fortranToC reorders src, the elements of an array of the given shape in
// Fortran (column-major) order, into C (row-major) order.
func fortranToC(src []float32, shape []int) []float32 {
	dst := bigmem.Float32s(len(src))
	nd := len(shape)
	stride := make([]int, nd) // C-order strides
	s := 1
	for j := nd - 1; j >= 0; j-- {
		stride[j] = s
		s *= shape[j]
	}
	idx := make([]int, nd)
	off := 0
	for _, v := range src {
		dst[off] = v
		// Advance the index in Fortran order: the first axis fastest.
		for j := 0; j < nd; j++ {
			idx[j]++
			off += stride[j]
			if idx[j] < shape[j] {
				break
			}
			off -= stride[j] * shape[j]
			idx[j] = 0
		}
	}
	return dst
}
