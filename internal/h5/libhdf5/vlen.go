package libhdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// This file reads variable-length string attributes straight from the
// file image, in Go. libhdf5 1.10 trusts the global-heap references of
// such attributes: a corrupt file makes it read wild memory and crash the
// process. Here every reference is checked against the heap collection it
// points into, so a corrupt file gives an error instead.

// errUnparsed reports a layout this reader does not handle (shared
// messages, dense attribute storage, ...), as opposed to a corrupt file.
var errUnparsed = errors.New("layout not handled")

type image struct {
	b      []byte
	base   int // file offset of the superblock: addresses count from it
	so, sl int // sizes of file offsets and lengths
}

func parseImage(b []byte) (*image, error) {
	for off := 0; off+len(signature) <= len(b); {
		if bytes.Equal(b[off:off+len(signature)], signature) {
			im := &image{b: b, base: off}
			if off+16 > len(b) {
				return nil, fmt.Errorf("%w: truncated superblock", ErrFormat)
			}
			switch v := b[off+8]; v {
			case 0, 1:
				im.so, im.sl = int(b[off+13]), int(b[off+14])
			case 2, 3:
				im.so, im.sl = int(b[off+9]), int(b[off+10])
			default:
				return nil, fmt.Errorf("%w: superblock version %d", errUnparsed, v)
			}
			if !validSize(im.so) || !validSize(im.sl) {
				return nil, fmt.Errorf("%w: superblock sizes %d/%d", ErrFormat, im.so, im.sl)
			}
			return im, nil
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return nil, fmt.Errorf("%w: no HDF5 signature", ErrFormat)
}

func validSize(n int) bool { return n == 2 || n == 4 || n == 8 }

// uint reads an unsigned little-endian integer of n bytes at p.
func (im *image) uint(p, n int) (uint64, bool) {
	if p < 0 || n < 0 || p+n > len(im.b) || p+n < p {
		return 0, false
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(im.b[p+i])
	}
	return v, true
}

// abs converts a file address to an offset in b.
func (im *image) abs(addr uint64) (int, bool) {
	if addr >= uint64(len(im.b)) {
		return 0, false
	}
	p := im.base + int(addr)
	return p, p >= im.base && p < len(im.b)
}

type message struct {
	typ  int
	data []byte
}

// messages returns the messages of the object header at addr, following
// continuation blocks.
func (im *image) messages(addr uint64) ([]message, error) {
	at, ok := im.abs(addr)
	if !ok {
		return nil, fmt.Errorf("%w: object header address %d outside the file", ErrFormat, addr)
	}
	type block struct{ start, end int }
	var blocks []block
	var out []message
	v2 := bytes.HasPrefix(im.b[at:], []byte("OHDR"))
	var crtOrder bool
	if v2 {
		if at+6 > len(im.b) || im.b[at+4] != 2 {
			return nil, fmt.Errorf("%w: object header at %d", ErrFormat, addr)
		}
		flags := im.b[at+5]
		crtOrder = flags&0x04 != 0
		p := at + 6
		if flags&0x20 != 0 {
			p += 16
		}
		if flags&0x10 != 0 {
			p += 4
		}
		n := 1 << (flags & 3)
		size, ok := im.uint(p, n)
		if !ok || size > uint64(len(im.b)) {
			return nil, fmt.Errorf("%w: object header at %d", ErrFormat, addr)
		}
		p += n
		blocks = append(blocks, block{p, p + int(size)})
	} else {
		if at+16 > len(im.b) || im.b[at] != 1 {
			return nil, fmt.Errorf("%w: object header at %d has version %d", ErrFormat, addr, im.b[at])
		}
		size, _ := im.uint(at+8, 4)
		blocks = append(blocks, block{at + 16, at + 16 + int(size)})
	}
	for i := 0; i < len(blocks); i++ {
		if i > 1000 {
			return nil, fmt.Errorf("%w: object header at %d has too many continuations", ErrFormat, addr)
		}
		b := blocks[i]
		if b.end > len(im.b) || b.start > b.end {
			return nil, fmt.Errorf("%w: object header block [%d,%d) outside the file", ErrFormat, b.start, b.end)
		}
		p := b.start
		for {
			var typ, size, hdr int
			if v2 {
				hdr = 4
				if crtOrder {
					hdr = 6
				}
				if p+hdr > b.end {
					break
				}
				typ = int(im.b[p])
				s, _ := im.uint(p+1, 2)
				size = int(s)
			} else {
				hdr = 8
				if p+hdr > b.end {
					break
				}
				t, _ := im.uint(p, 2)
				s, _ := im.uint(p+2, 2)
				typ, size = int(t), int(s)
			}
			d := p + hdr
			if d+size > b.end {
				return nil, fmt.Errorf("%w: message of %d bytes overruns its object header", ErrFormat, size)
			}
			data := im.b[d : d+size]
			out = append(out, message{typ, data})
			if typ == 0x10 { // continuation
				off, ok1 := im.uint(d, im.so)
				ln, ok2 := im.uint(d+im.so, im.sl)
				start, ok3 := im.abs(off)
				if !ok1 || !ok2 || !ok3 || ln > uint64(len(im.b)) {
					return nil, fmt.Errorf("%w: bad continuation message", ErrFormat)
				}
				end := start + int(ln)
				if v2 {
					if !bytes.HasPrefix(im.b[start:], []byte("OCHK")) || end-4 < start+4 {
						return nil, fmt.Errorf("%w: bad continuation block", ErrFormat)
					}
					start, end = start+4, end-4
				}
				blocks = append(blocks, block{start, end})
			}
			p = d + size
		}
		if v2 {
			// The checksum after the messages is not counted in the
			// chunk size, so nothing to skip.
			continue
		}
	}
	return out, nil
}

func pad8(n int) int { return (n + 7) &^ 7 }

// rawAttr finds the attribute called name among the messages of the
// object header at addr and returns its datatype, dataspace and data
// bytes.
func (im *image) rawAttr(addr uint64, name string) (dt, ds, data []byte, err error) {
	msgs, err := im.messages(addr)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, m := range msgs {
		if m.typ != 0x0C || len(m.data) < 8 {
			continue
		}
		d := m.data
		v := d[0]
		nameSize := int(binary.LittleEndian.Uint16(d[2:]))
		dtSize := int(binary.LittleEndian.Uint16(d[4:]))
		dsSize := int(binary.LittleEndian.Uint16(d[6:]))
		p := 8
		pad := func(n int) int { return n }
		switch v {
		case 1:
			pad = pad8
		case 2:
			if d[1]&3 != 0 {
				return nil, nil, nil, errUnparsed // shared datatype or dataspace
			}
		case 3:
			if d[1]&3 != 0 {
				return nil, nil, nil, errUnparsed
			}
			p = 9
		default:
			return nil, nil, nil, fmt.Errorf("%w: attribute message version %d", ErrFormat, v)
		}
		if p+pad(nameSize) > len(d) {
			return nil, nil, nil, fmt.Errorf("%w: attribute message overruns", ErrFormat)
		}
		n := string(bytes.TrimRight(d[p:p+nameSize], "\x00"))
		p += pad(nameSize)
		if n != name {
			continue
		}
		if p+pad(dtSize) > len(d) {
			return nil, nil, nil, fmt.Errorf("%w: attribute %q datatype overruns", ErrFormat, name)
		}
		dt = d[p : p+dtSize]
		p += pad(dtSize)
		if p+pad(dsSize) > len(d) {
			return nil, nil, nil, fmt.Errorf("%w: attribute %q dataspace overruns", ErrFormat, name)
		}
		ds = d[p : p+dsSize]
		p += pad(dsSize)
		return dt, ds, d[p:], nil
	}
	return nil, nil, nil, errUnparsed // dense attribute storage, probably
}

// count returns the number of elements a dataspace message describes.
func count(ds []byte) (int, error) {
	if len(ds) < 4 {
		return 0, fmt.Errorf("%w: short dataspace message", ErrFormat)
	}
	rank := int(ds[1])
	dims := 8
	switch ds[0] {
	case 1:
	case 2:
		dims = 4
		if ds[3] == 2 { // null dataspace
			return 0, nil
		}
	default:
		return 0, fmt.Errorf("%w: dataspace version %d", ErrFormat, ds[0])
	}
	n := 1
	for i := 0; i < rank; i++ {
		p := dims + 8*i
		if p+8 > len(ds) {
			return 0, fmt.Errorf("%w: short dataspace message", ErrFormat)
		}
		d := binary.LittleEndian.Uint64(ds[p:])
		if d > maxStrings || uint64(n)*d > maxStrings {
			return 0, fmt.Errorf("%w: attribute claims %d×%d strings", ErrFormat, n, d)
		}
		n *= int(d)
	}
	return n, nil
}

type heapObj struct{ start, size int }

// collection parses the global heap collection at addr.
func (im *image) collection(addr uint64) (map[uint64]heapObj, error) {
	at, ok := im.abs(addr)
	if !ok || !bytes.HasPrefix(im.b[at:], []byte("GCOL")) || at+8+im.sl > len(im.b) {
		return nil, fmt.Errorf("%w: no global heap collection at %d", ErrFormat, addr)
	}
	size, _ := im.uint(at+8, im.sl)
	end := at + int(size)
	if size > uint64(len(im.b)) || end > len(im.b) || end < at {
		return nil, fmt.Errorf("%w: global heap collection at %d overruns the file", ErrFormat, addr)
	}
	objs := map[uint64]heapObj{}
	p := at + 8 + im.sl
	for p+8+im.sl <= end {
		idx, _ := im.uint(p, 2)
		sz, _ := im.uint(p+8, im.sl)
		if idx == 0 {
			break // free space
		}
		d := p + 8 + im.sl
		if sz > uint64(end-d) {
			return nil, fmt.Errorf("%w: global heap object %d overruns its collection", ErrFormat, idx)
		}
		objs[idx] = heapObj{d, int(sz)}
		p = d + pad8(int(sz))
	}
	return objs, nil
}

// vlenStrings reads the variable-length string attribute name of the
// object header at addr. It returns errUnparsed for layouts it does not
// handle.
func (im *image) vlenStrings(addr uint64, name string) ([]string, error) {
	dt, ds, data, err := im.rawAttr(addr, name)
	if err != nil {
		return nil, err
	}
	if len(dt) < 8 || dt[0]&0x0f != 9 || dt[1]&0x0f != 1 {
		return nil, fmt.Errorf("%w: attribute %q is not a variable-length string", ErrFormat, name)
	}
	n, err := count(ds)
	if err != nil {
		return nil, err
	}
	elem := 4 + im.so + 4
	if n*elem > len(data) {
		return nil, fmt.Errorf("%w: attribute %q holds %d bytes for %d strings", ErrFormat, name, len(data), n)
	}
	heaps := map[uint64]map[uint64]heapObj{}
	out := make([]string, n)
	for i := range out {
		e := data[i*elem:]
		ln := uint64(binary.LittleEndian.Uint32(e))
		if ln == 0 {
			continue
		}
		var addr uint64
		for j := im.so - 1; j >= 0; j-- {
			addr = addr<<8 | uint64(e[4+j])
		}
		idx := uint64(binary.LittleEndian.Uint32(e[4+im.so:]))
		objs, ok := heaps[addr]
		if !ok {
			if objs, err = im.collection(addr); err != nil {
				return nil, err
			}
			heaps[addr] = objs
		}
		o, ok := objs[idx]
		if !ok || ln > uint64(o.size) {
			return nil, fmt.Errorf("%w: attribute %q string %d refers to a missing heap object", ErrFormat, name, i)
		}
		out[i] = string(im.b[o.start : o.start+int(ln)])
	}
	return out, nil
}

// attrMsg is an attribute message parsed from an object header.
type attrMsg struct {
	name       string
	dt, ds, db []byte
}

// attrs returns the attribute messages of the object header at addr. It
// returns errUnparsed when attributes live in dense storage, which this
// reader does not follow.
func (im *image) attrs(addr uint64) ([]attrMsg, error) {
	msgs, err := im.messages(addr)
	if err != nil {
		return nil, err
	}
	var out []attrMsg
	for _, m := range msgs {
		if m.typ == 0x15 { // attribute info: maybe dense storage
			if len(m.data) < 2 {
				return nil, fmt.Errorf("%w: short attribute info message", ErrFormat)
			}
			p := 2
			if m.data[1]&1 != 0 {
				p += 2
			}
			heap, ok := im.uintIn(m.data, p, im.so)
			if !ok {
				return nil, fmt.Errorf("%w: short attribute info message", ErrFormat)
			}
			if heap != 1<<(8*uint(im.so))-1 && !(im.so == 8 && heap == ^uint64(0)) {
				return nil, errUnparsed
			}
			continue
		}
		if m.typ != 0x0C {
			continue
		}
		a, err := parseAttrMsg(m.data)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (im *image) uintIn(b []byte, p, n int) (uint64, bool) {
	if p < 0 || p+n > len(b) {
		return 0, false
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[p+i])
	}
	return v, true
}

func parseAttrMsg(d []byte) (attrMsg, error) {
	var a attrMsg
	if len(d) < 8 {
		return a, fmt.Errorf("%w: short attribute message", ErrFormat)
	}
	nameSize := int(binary.LittleEndian.Uint16(d[2:]))
	dtSize := int(binary.LittleEndian.Uint16(d[4:]))
	dsSize := int(binary.LittleEndian.Uint16(d[6:]))
	p := 8
	pad := func(n int) int { return n }
	switch d[0] {
	case 1:
		pad = pad8
	case 2:
	case 3:
		p = 9
	default:
		return a, fmt.Errorf("%w: attribute message version %d", ErrFormat, d[0])
	}
	if d[0] > 1 && d[1]&3 != 0 {
		return a, errUnparsed // shared datatype or dataspace
	}
	if p+pad(nameSize)+pad(dtSize)+pad(dsSize) > len(d) {
		return a, fmt.Errorf("%w: attribute message overruns", ErrFormat)
	}
	a.name = string(bytes.TrimRight(d[p:p+nameSize], "\x00"))
	p += pad(nameSize)
	a.dt = d[p : p+dtSize]
	p += pad(dtSize)
	a.ds = d[p : p+dsSize]
	p += pad(dsSize)
	a.db = d[p:]
	return a, nil
}

// info describes a parsed attribute as Attr does.
func (a attrMsg) info() (AttrInfo, error) {
	var info AttrInfo
	if len(a.dt) < 8 {
		return info, fmt.Errorf("%w: attribute %q: short datatype", ErrFormat, a.name)
	}
	size := int(binary.LittleEndian.Uint32(a.dt[4:]))
	switch a.dt[0] & 0x0f {
	case 0:
		info.Class = Integer
	case 1:
		info.Class = Float
	case 3:
		info.Class = String
		info.UTF8 = (a.dt[1]>>4)&0x0f == 1
	case 9:
		if a.dt[1]&0x0f == 1 {
			info.Class, info.VarLen = String, true
			info.UTF8 = (a.dt[2])&0x0f == 1
		}
	}
	if !info.VarLen {
		info.Size = size
	}
	shape, err := dims(a.ds)
	if err != nil {
		return info, err
	}
	info.Shape = shape
	return info, nil
}

// dims returns the shape a dataspace message describes: nil for a scalar,
// [0] for a null dataspace.
func dims(ds []byte) ([]int, error) {
	if len(ds) < 4 {
		return nil, fmt.Errorf("%w: short dataspace message", ErrFormat)
	}
	rank := int(ds[1])
	p := 8
	switch ds[0] {
	case 1:
	case 2:
		p = 4
		if ds[3] == 2 {
			return []int{0}, nil
		}
	default:
		return nil, fmt.Errorf("%w: dataspace version %d", ErrFormat, ds[0])
	}
	if rank == 0 {
		return nil, nil
	}
	shape := make([]int, rank)
	n := uint64(1)
	for i := range shape {
		if p+8*i+8 > len(ds) {
			return nil, fmt.Errorf("%w: short dataspace message", ErrFormat)
		}
		d := binary.LittleEndian.Uint64(ds[p+8*i:])
		n *= max(d, 1)
		if d > maxStrings || n > maxStrings {
			return nil, fmt.Errorf("%w: attribute claims %d elements", ErrFormat, d)
		}
		shape[i] = int(d)
	}
	return shape, nil
}

// fixedStrings decodes a fixed-length string attribute's data.
func (a attrMsg) fixedStrings(info AttrInfo) ([]string, error) {
	n, size := info.Len(), info.Size
	if size <= 0 || n*size > len(a.db) {
		return nil, fmt.Errorf("%w: attribute %q holds %d bytes for %d strings of %d", ErrFormat, a.name, len(a.db), n, size)
	}
	spacePad := (a.dt[1] & 0x0f) == 2
	out := make([]string, n)
	for i := range out {
		s := a.db[i*size : (i+1)*size]
		if j := bytes.IndexByte(s, 0); j >= 0 {
			s = s[:j]
		}
		if spacePad {
			s = bytes.TrimRight(s, " ")
		}
		out[i] = string(s)
	}
	return out, nil
}
