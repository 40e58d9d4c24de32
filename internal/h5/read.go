package h5

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// cursor reads little-endian fields from a byte slice. Reading past the
// end sets bad and returns zeros, so a parser reads a whole structure and
// checks bad once.
type cursor struct {
	b   []byte
	p   int
	bad bool
}

// bytes returns the next n bytes.
func (c *cursor) bytes(n int) []byte {
	if c.bad || n < 0 || n > len(c.b)-c.p {
		c.bad = true
		return nil
	}
	s := c.b[c.p : c.p+n]
	c.p += n
	return s
}

func (c *cursor) skip(n int) { c.bytes(n) }

func (c *cursor) u8() uint8 {
	if s := c.bytes(1); s != nil {
		return s[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if s := c.bytes(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if s := c.bytes(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// uint reads an n-byte little-endian unsigned integer, 0 < n <= 8.
func (c *cursor) uint(n int) uint64 {
	if n > 8 {
		c.bad = true
		return 0
	}
	return leUint(c.bytes(n))
}

// sig checks that the next bytes are s.
func (c *cursor) sig(s string) bool {
	b := c.bytes(len(s))
	return b != nil && string(b) == s
}

func (c *cursor) left() int { return len(c.b) - c.p }

// leUint decodes a little-endian unsigned integer of len(b) <= 8 bytes.
func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// undef is the undefined address (all bits set, §III.A "Undefined
// Address"), already decoded from so bytes.
func (f *File) undef(a uint64) bool {
	return a == ^uint64(0)>>(64-8*uint(f.so))
}

// addr and length read a file address and a length of the sizes the
// superblock declares.
func (f *File) addr(c *cursor) uint64   { return c.uint(f.so) }
func (f *File) length(c *cursor) uint64 { return c.uint(f.sl) }

// at returns the n bytes at file address a, or an error naming what.
func (f *File) at(a, n uint64, what string) ([]byte, error) {
	if f.undef(a) || a > uint64(len(f.b)) || n > uint64(len(f.b))-a {
		return nil, fmt.Errorf("%w: %s at address %d (+%d bytes) outside the %d-byte file", ErrFormat, what, a, n, len(f.b))
	}
	return f.b[a : a+n], nil
}

// from returns a cursor over the file from address a to its end.
func (f *File) from(a uint64, what string) (*cursor, error) {
	if _, err := f.at(a, 0, what); err != nil {
		return nil, err
	}
	return &cursor{b: f.b[a:]}, nil
}

// superblock parses the superblock at the start of f.b (§II.A, versions
// 0 to 3) and sets the sizes of offsets and lengths and the root object
// header address.
func (f *File) superblock() error {
	c := &cursor{b: f.b}
	c.skip(8) // signature, checked by the caller
	v := c.u8()
	switch v {
	case 0, 1:
		c.skip(3) // free-space, root symbol table entry, reserved
		c.skip(1) // shared header message format version
		f.so, f.sl = int(c.u8()), int(c.u8())
		c.skip(1)
		c.skip(4) // group leaf/internal node K
		c.skip(4) // file consistency flags
		if v == 1 {
			c.skip(4) // indexed storage internal node K, reserved
		}
	case 2, 3:
		f.so, f.sl = int(c.u8()), int(c.u8())
		c.skip(1) // file consistency flags
	default:
		return fmt.Errorf("%w: superblock version %d", ErrUnsupported, v)
	}
	if c.bad || !validSize(f.so) || !validSize(f.sl) {
		return fmt.Errorf("%w: superblock claims %d-byte offsets and %d-byte lengths", ErrFormat, f.so, f.sl)
	}
	// Base address: addresses count from it, the absolute offset of the
	// superblock (§II.A): 0, or the size of a user block before it.
	if ba := f.addr(c); !c.bad && ba != uint64(f.userblock) {
		return fmt.Errorf("%w: the superblock's base address is %d, but it is at byte %d", ErrUnsupported, ba, f.userblock)
	}
	var eof uint64
	if v < 2 {
		f.addr(c) // free-space info (reserved)
		eof = f.addr(c)
		f.addr(c) // driver information block
		// Root group symbol table entry (§III.C): link name offset,
		// object header address, cache type, reserved, scratch pad.
		f.addr(c)
		f.root = f.addr(c)
	} else {
		f.addr(c) // superblock extension
		eof = f.addr(c)
		f.root = f.addr(c)
	}
	if c.bad {
		return fmt.Errorf("%w: truncated superblock", ErrFormat)
	}
	// Like libhdf5, refuse a file shorter than its end-of-file address:
	// it was cut short. libhdf5 writes that address counting the user
	// block, unlike every other address.
	if size := uint64(f.userblock) + uint64(len(f.b)); eof > size {
		return fmt.Errorf("%w: truncated: the superblock says %d bytes, there are %d", ErrFormat, eof, size)
	}
	return nil
}

func validSize(n int) bool { return n == 2 || n == 4 || n == 8 }

// Message types of §IV.A.2.
const (
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgLink         = 0x06
	msgEFL          = 0x07
	msgLayout       = 0x08
	msgFilters      = 0x0B
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// message is one header message: its type, flags and body.
type message struct {
	typ   int
	flags byte
	data  []byte
}

// object is a parsed object header.
type object struct {
	addr uint64
	msgs []message
}

// find returns the first message of type typ, or nil.
func (o *object) find(typ int) *message {
	for i := range o.msgs {
		if o.msgs[i].typ == typ {
			return &o.msgs[i]
		}
	}
	return nil
}

// isGroup: a symbol table or link info message makes a group (§IV.A.2.c,
// §IV.A.2.r); isDataset: a data layout message makes a dataset.
func (o *object) isGroup() bool {
	return o.find(msgSymbolTable) != nil || o.find(msgLinkInfo) != nil
}

func (o *object) isDataset() bool { return o.find(msgLayout) != nil }

// Limits of the object header parser.
const (
	maxHeaderBlocks = 1 << 12 // continuation blocks in one object header
)

// object returns the parsed object header at address a, cached.
func (f *File) object(a uint64) (*object, error) {
	if o, ok := f.objs[a]; ok {
		return o, nil
	}
	o, err := f.parseObject(a)
	if err != nil {
		return nil, err
	}
	f.objs[a] = o
	return o, nil
}

// parseObject parses a version 1 (§IV.A.1.a) or version 2 (§IV.A.1.b)
// object header and its continuation blocks (§IV.A.2.q).
func (f *File) parseObject(a uint64) (*object, error) {
	c, err := f.from(a, "object header")
	if err != nil {
		return nil, err
	}
	o := &object{addr: a}
	var blocks [][]byte
	v2 := bytes.HasPrefix(c.b, []byte("OHDR"))
	crtOrder := false
	if v2 {
		c.skip(4)
		if c.u8() != 2 {
			return nil, fmt.Errorf("%w: object header at %d: bad version", ErrFormat, a)
		}
		flags := c.u8()
		crtOrder = flags&0x04 != 0
		if flags&0x20 != 0 {
			c.skip(16) // times
		}
		if flags&0x10 != 0 {
			c.skip(4) // attribute phase change values
		}
		size := c.uint(1 << (flags & 3))
		if size > uint64(c.left()) {
			return nil, fmt.Errorf("%w: object header at %d overruns the file", ErrFormat, a)
		}
		blocks = append(blocks, c.bytes(int(size)))
	} else {
		if c.u8() != 1 {
			return nil, fmt.Errorf("%w: object header at %d: bad version", ErrFormat, a)
		}
		c.skip(1 + 2 + 4) // reserved, number of messages, reference count
		size := c.u32()
		c.skip(4) // padding to 8 bytes
		if uint64(size) > uint64(c.left()) {
			return nil, fmt.Errorf("%w: object header at %d overruns the file", ErrFormat, a)
		}
		blocks = append(blocks, c.bytes(int(size)))
	}
	if c.bad {
		return nil, fmt.Errorf("%w: truncated object header at %d", ErrFormat, a)
	}
	seen := map[uint64]bool{a: true}
	for i := 0; i < len(blocks); i++ {
		m := &cursor{b: blocks[i]}
		for {
			hdr := 8
			if v2 {
				hdr = 4
				if crtOrder {
					hdr = 6
				}
			}
			if m.left() < hdr {
				break // gap (§IV.A.1.b) or end
			}
			var typ, size int
			var flags byte
			if v2 {
				typ, size, flags = int(m.u8()), int(m.u16()), m.u8()
				if crtOrder {
					m.skip(2)
				}
			} else {
				typ, size, flags = int(m.u16()), int(m.u16()), m.u8()
				m.skip(3)
			}
			data := m.bytes(size)
			if m.bad {
				return nil, fmt.Errorf("%w: object header at %d: message of %d bytes overruns its block", ErrFormat, a, size)
			}
			if err := f.spend(1, 0); err != nil {
				return nil, err
			}
			o.msgs = append(o.msgs, message{typ, flags, data})
			if typ != msgContinuation {
				continue
			}
			d := &cursor{b: data}
			ca, cl := f.addr(d), f.length(d)
			if d.bad || seen[ca] || len(blocks) >= maxHeaderBlocks {
				return nil, fmt.Errorf("%w: object header at %d: bad or repeated continuation block", ErrFormat, a)
			}
			seen[ca] = true
			cb, err := f.at(ca, cl, "object header continuation block")
			if err != nil {
				return nil, err
			}
			if v2 {
				if len(cb) < 8 || string(cb[:4]) != "OCHK" {
					return nil, fmt.Errorf("%w: object header at %d: continuation block at %d has no OCHK signature", ErrFormat, a, ca)
				}
				cb = cb[4 : len(cb)-4] // signature, checksum
			}
			blocks = append(blocks, cb)
		}
	}
	return o, nil
}
