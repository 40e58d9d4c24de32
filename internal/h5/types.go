package h5

import (
	"encoding/binary"
	"fmt"
	"math"
)

// dtype is a datatype message (§IV.A.2.d), reduced to what is read.
type dtype struct {
	class  Class
	raw    int // HDF5 type class number
	size   int // bytes per element
	be     bool
	signed bool
	varLen bool // variable-length string
	utf8   bool
	pad    int // string padding: 0 null-terminated, 1 null-padded, 2 space-padded
}

// parseDtype decodes a datatype message.
func parseDtype(d []byte) (dtype, error) {
	var t dtype
	if len(d) < 8 {
		return t, fmt.Errorf("%w: short datatype message", ErrFormat)
	}
	t.raw = int(d[0] & 0x0f)
	bf := uint32(d[1]) | uint32(d[2])<<8 | uint32(d[3])<<16
	t.size = int(binary.LittleEndian.Uint32(d[4:]))
	props := d[8:]
	switch t.raw {
	case 0: // fixed-point
		t.class, t.be, t.signed = Integer, bf&1 != 0, bf&8 != 0
		if len(props) < 4 {
			return t, fmt.Errorf("%w: short integer datatype", ErrFormat)
		}
		off, prec := binary.LittleEndian.Uint16(props), binary.LittleEndian.Uint16(props[2:])
		if off != 0 || int(prec) != 8*t.size || (t.size != 1 && t.size != 2 && t.size != 4 && t.size != 8) || bf&6 != 0 {
			t.class = Other // padded or odd-sized integers are not read
		}
	case 1: // floating-point
		t.class, t.be = Float, bf&1 != 0
		if len(props) < 12 {
			return t, fmt.Errorf("%w: short float datatype", ErrFormat)
		}
		// Only IEEE 754 half, single and double layouts are read.
		off, prec := binary.LittleEndian.Uint16(props), binary.LittleEndian.Uint16(props[2:])
		eLoc, eSize, mLoc, mSize := props[4], props[5], props[6], props[7]
		var want [4]byte
		switch t.size {
		case 2:
			want = [4]byte{10, 5, 0, 10}
		case 4:
			want = [4]byte{23, 8, 0, 23}
		case 8:
			want = [4]byte{52, 11, 0, 52}
		}
		if want[1] == 0 || bf&0x40 != 0 || off != 0 || int(prec) != 8*t.size || [4]byte{eLoc, eSize, mLoc, mSize} != want {
			t.class = Other
		}
	case 3: // string
		t.class, t.pad, t.utf8 = String, int(bf&0x0f), (bf>>4)&0x0f == 1
	case 9: // variable-length
		if bf&0x0f == 1 {
			t.class, t.varLen, t.utf8 = String, true, (bf>>8)&0x0f == 1
			t.pad = int((bf >> 4) & 0x0f)
		}
	}
	return t, nil
}

// dataspace is a dataspace message (§IV.A.2.b): the shape (nil for a
// scalar, [0] for a null dataspace) and maximum shape.
type dataspace struct {
	shape, max []uint64
	null       bool
}

// maxRank bounds the rank of a dataspace (HDF5's own limit is 32).
const maxRank = 32

func (f *File) parseDataspace(d []byte) (dataspace, error) {
	var s dataspace
	c := &cursor{b: d}
	v := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	switch v {
	case 1:
		c.skip(5)
	case 2:
		if c.u8() == 2 { // type: 0 scalar, 1 simple, 2 null
			s.null = true
			return s, nil
		}
	default:
		return s, fmt.Errorf("%w: dataspace version %d", ErrFormat, v)
	}
	if c.bad || rank > maxRank {
		return s, fmt.Errorf("%w: dataspace of rank %d", ErrFormat, rank)
	}
	if rank == 0 {
		return s, nil
	}
	s.shape = make([]uint64, rank)
	for i := range s.shape {
		s.shape[i] = f.length(c)
	}
	if flags&1 != 0 {
		s.max = make([]uint64, rank)
		for i := range s.max {
			s.max[i] = f.length(c)
		}
	}
	if c.bad {
		return s, fmt.Errorf("%w: short dataspace message", ErrFormat)
	}
	return s, nil
}

// count returns the number of elements of s, or an error if it exceeds
// limit.
func (s dataspace) count(limit uint64) (uint64, error) {
	n := uint64(1)
	if s.null {
		return 0, nil
	}
	for _, d := range s.shape {
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("%w: dataspace %v holds more than %d elements", ErrFormat, s.shape, limit)
		}
		n *= d
	}
	if n > limit {
		return 0, fmt.Errorf("%w: dataspace %v holds more than %d elements", ErrFormat, s.shape, limit)
	}
	return n, nil
}

// ints returns the shape as []int: nil for a scalar, [0] for null.
func (s dataspace) ints() []int {
	if s.null {
		return []int{0}
	}
	if s.shape == nil {
		return nil
	}
	out := make([]int, len(s.shape))
	for i, d := range s.shape {
		out[i] = int(d)
	}
	return out
}

// toFloat32 converts n elements of type t from raw to float32, as
// libhdf5's conversions do (round to nearest, overflow to ±Inf).
func toFloat32(t dtype, raw []byte, out []float32) error {
	if len(raw) < len(out)*t.size {
		return fmt.Errorf("%w: %d bytes for %d values of %d bytes", ErrFormat, len(raw), len(out), t.size)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if t.be {
		bo = binary.BigEndian
	}
	for i := range out {
		e := raw[i*t.size : (i+1)*t.size]
		switch {
		case t.class == Float && t.size == 2:
			out[i] = half(bo.Uint16(e))
		case t.class == Float && t.size == 4:
			out[i] = math.Float32frombits(bo.Uint32(e))
		case t.class == Float && t.size == 8:
			out[i] = float32(math.Float64frombits(bo.Uint64(e)))
		case t.class == Integer && t.size == 1 && t.signed:
			out[i] = float32(int8(e[0]))
		case t.class == Integer && t.size == 1:
			out[i] = float32(e[0])
		case t.class == Integer && t.size == 2 && t.signed:
			out[i] = float32(int16(bo.Uint16(e)))
		case t.class == Integer && t.size == 2:
			out[i] = float32(bo.Uint16(e))
		case t.class == Integer && t.size == 4 && t.signed:
			out[i] = float32(int32(bo.Uint32(e)))
		case t.class == Integer && t.size == 4:
			out[i] = float32(bo.Uint32(e))
		case t.class == Integer && t.size == 8 && t.signed:
			out[i] = float32(int64(bo.Uint64(e)))
		case t.class == Integer && t.size == 8:
			out[i] = float32(bo.Uint64(e))
		default:
			return fmt.Errorf("%w: %s of %d bytes is not a number type", ErrType, t.class, t.size)
		}
	}
	return nil
}

// half converts an IEEE 754 binary16 to float32 (exactly).
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		v := float32(man) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}
