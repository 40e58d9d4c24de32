package h5

import (
	"fmt"
	"math/bits"
)

// localHeap returns the data segment of the local heap at a (§III.D).
func (f *File) localHeap(a uint64) ([]byte, error) {
	c, err := f.from(a, "local heap")
	if err != nil {
		return nil, err
	}
	if !c.sig("HEAP") || c.u8() != 0 {
		return nil, fmt.Errorf("%w: no local heap at %d", ErrFormat, a)
	}
	c.skip(3)
	size := f.length(c)
	f.length(c) // free list head
	data := f.addr(c)
	if c.bad {
		return nil, fmt.Errorf("%w: truncated local heap at %d", ErrFormat, a)
	}
	return f.at(data, size, "local heap data segment")
}

// heapString returns the NUL-terminated string at off in a local heap
// data segment.
func heapString(seg []byte, off uint64) (string, error) {
	if off >= uint64(len(seg)) {
		return "", fmt.Errorf("%w: local heap offset %d outside its %d-byte segment", ErrFormat, off, len(seg))
	}
	s := seg[off:]
	for i, b := range s {
		if b == 0 {
			return string(s[:i]), nil
		}
	}
	return "", fmt.Errorf("%w: unterminated string in local heap", ErrFormat)
}

// globalObject returns global heap object idx of the collection at a
// (§III.E), with the collection's objects cached.
func (f *File) globalObject(a uint64, idx uint64) ([]byte, error) {
	objs, ok := f.gheaps[a]
	if !ok {
		var err error
		if objs, err = f.collection(a); err != nil {
			return nil, err
		}
		f.gheaps[a] = objs
	}
	o, ok := objs[idx]
	if !ok {
		return nil, fmt.Errorf("%w: global heap collection at %d has no object %d", ErrFormat, a, idx)
	}
	return o, nil
}

func (f *File) collection(a uint64) (map[uint64][]byte, error) {
	c, err := f.from(a, "global heap collection")
	if err != nil {
		return nil, err
	}
	if !c.sig("GCOL") || c.u8() != 1 {
		return nil, fmt.Errorf("%w: no global heap collection at %d", ErrFormat, a)
	}
	c.skip(3)
	size := f.length(c)
	if c.bad || size > uint64(len(c.b)) || size < uint64(c.p) {
		return nil, fmt.Errorf("%w: global heap collection at %d overruns the file", ErrFormat, a)
	}
	c.b = c.b[:size]
	objs := map[uint64][]byte{}
	for c.left() >= 8+f.sl {
		idx := uint64(c.u16())
		c.skip(6) // reference count, reserved
		n := f.length(c)
		if idx == 0 {
			break // free space
		}
		if n > uint64(c.left()) {
			return nil, fmt.Errorf("%w: global heap object %d overruns its collection at %d", ErrFormat, idx, a)
		}
		if err := f.spend(1, 0); err != nil {
			return nil, err
		}
		objs[idx] = c.bytes(int(n))
		c.skip(min(pad8(int(n))-int(n), c.left()))
	}
	return objs, nil
}

func pad8(n int) int { return (n + 7) &^ 7 }

// fheap is a fractal heap header (§III.G).
type fheap struct {
	f          *File
	addr       uint64
	idLen      int
	maxMan     uint64 // maximum size of managed objects
	width      uint64 // table width
	start      uint64 // starting block size
	maxDirect  uint64 // maximum direct block size
	rootAddr   uint64
	rootRows   uint64
	offBytes   int // bytes of a heap offset
	lenBytes   int // bytes of a managed object length in a heap ID
	checksumDB bool
	maxDRows   uint64 // rows of direct blocks in an indirect block
	hugeTree   uint64 // v2 B-tree of huge objects
	huge       map[uint64][]byte
}

// Limits of the fractal heap parser.
const maxHeapDepth = 16 // nested indirect blocks

func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

// log2 of a power of two.
func log2(v uint64) uint64 { return uint64(bits.Len64(v) - 1) }

// encSize is H5VM_limit_enc_size: bytes to encode values up to v.
func encSize(v uint64) int { return int(log2floor(v)/8) + 1 }

func log2floor(v uint64) uint64 {
	if v == 0 {
		return 0
	}
	return uint64(bits.Len64(v) - 1)
}

// fractalHeap parses the fractal heap header at a.
func (f *File) fractalHeap(a uint64) (*fheap, error) {
	if h, ok := f.fheaps[a]; ok {
		return h, nil
	}
	c, err := f.from(a, "fractal heap")
	if err != nil {
		return nil, err
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: fractal heap at %d: %s", ErrFormat, a, what)
	}
	if !c.sig("FRHP") || c.u8() != 0 {
		return nil, bad("no FRHP signature")
	}
	h := &fheap{f: f, addr: a}
	h.idLen = int(c.u16())
	filterLen := c.u16()
	flags := c.u8()
	h.checksumDB = flags&0x02 != 0
	h.maxMan = uint64(c.u32())
	f.length(c) // next huge object ID
	h.hugeTree = f.addr(c)
	f.length(c) // free space in managed blocks
	f.addr(c)   // free-space manager
	f.length(c) // managed space
	f.length(c) // allocated managed space
	f.length(c) // direct block allocation iterator
	f.length(c) // managed objects
	f.length(c) // huge objects size
	f.length(c) // huge objects
	f.length(c) // tiny objects size
	f.length(c) // tiny objects
	h.width = uint64(c.u16())
	h.start = f.length(c)
	h.maxDirect = f.length(c)
	maxHeapBits := uint64(c.u16())
	c.u16() // starting rows of the root indirect block
	h.rootAddr = f.addr(c)
	h.rootRows = uint64(c.u16())
	if c.bad {
		return nil, bad("truncated header")
	}
	if filterLen != 0 {
		return nil, fmt.Errorf("%w: fractal heap at %d has I/O filters", ErrUnsupported, a)
	}
	if !isPow2(h.width) || !isPow2(h.start) || !isPow2(h.maxDirect) || h.start > h.maxDirect ||
		h.maxDirect > 1<<32 || maxHeapBits == 0 || maxHeapBits > 64 || h.rootRows > 64 || h.start*h.width > 1<<40 {
		return nil, bad("absurd doubling table")
	}
	h.offBytes = int((maxHeapBits + 7) / 8)
	h.lenBytes = min(int((log2(h.maxDirect)+7)/8), encSize(h.maxMan))
	h.maxDRows = log2(h.maxDirect) - log2(h.start) + 2
	f.fheaps[a] = h
	return h, nil
}

// get returns the object a heap ID names (§III.G "Fractal Heap ID"):
// managed objects and tiny objects; huge objects are not supported.
func (h *fheap) get(id []byte) ([]byte, error) {
	if err := h.f.spend(1, 0); err != nil {
		return nil, err
	}
	if len(id) < 1 || len(id) > h.idLen && h.idLen > 0 {
		return nil, fmt.Errorf("%w: fractal heap ID of %d bytes", ErrFormat, len(id))
	}
	if id[0]>>6 != 0 {
		return nil, fmt.Errorf("%w: fractal heap ID version %d", ErrFormat, id[0]>>6)
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
		c := &cursor{b: id[1:]}
		off := c.uint(h.offBytes)
		n := c.uint(h.lenBytes)
		if c.bad {
			return nil, fmt.Errorf("%w: short fractal heap ID", ErrFormat)
		}
		return h.managed(off, n)
	case 2: // tiny
		if h.idLen > 18 {
			if len(id) < 2 {
				return nil, fmt.Errorf("%w: short tiny heap ID", ErrFormat)
			}
			n := int(id[0]&0x0f)<<8 | int(id[1]) + 1
			if 2+n > len(id) {
				return nil, fmt.Errorf("%w: tiny heap object overruns its ID", ErrFormat)
			}
			return id[2 : 2+n], nil
		}
		n := int(id[0]&0x0f) + 1
		if 1+n > len(id) {
			return nil, fmt.Errorf("%w: tiny heap object overruns its ID", ErrFormat)
		}
		return id[1 : 1+n], nil
	case 1:
		return h.hugeObject(id)
	}
	return nil, fmt.Errorf("%w: fractal heap ID type 3", ErrFormat)
}

// rowSize is the size of the blocks of row r of the doubling table.
func (h *fheap) rowSize(r uint64) uint64 {
	if r == 0 {
		return h.start
	}
	return h.start << (r - 1)
}

// managed returns n bytes at heap offset off.
func (h *fheap) managed(off, n uint64) ([]byte, error) {
	if h.rootRows == 0 {
		return h.direct(h.rootAddr, 0, h.start, off, n)
	}
	return h.indirect(h.rootAddr, 0, h.rootRows, off, n, 0)
}

// direct reads n bytes at heap offset off from the direct block at a,
// which starts at heap offset blockOff and has size size (§III.G "Direct
// Block"). Offsets inside the block count from its first byte.
func (h *fheap) direct(a, blockOff, size, off, n uint64) ([]byte, error) {
	b, err := h.f.at(a, size, "fractal heap direct block")
	if err != nil {
		return nil, err
	}
	hdr := uint64(5 + h.f.so + h.offBytes)
	if h.checksumDB {
		hdr += 4
	}
	if string(b[:min(4, len(b))]) != "FHDB" {
		return nil, fmt.Errorf("%w: no fractal heap direct block at %d", ErrFormat, a)
	}
	rel := off - blockOff
	if off < blockOff || rel < hdr || rel > size || n > size-rel {
		return nil, fmt.Errorf("%w: fractal heap object at offset %d (+%d) outside its direct block", ErrFormat, off, n)
	}
	return b[rel : rel+n], nil
}

// indirect descends the indirect block at a (§III.G "Indirect Block"),
// which covers heap offsets from blockOff and has rows rows.
func (h *fheap) indirect(a, blockOff, rows, off, n uint64, depth int) ([]byte, error) {
	if depth > maxHeapDepth || rows > 64 {
		return nil, fmt.Errorf("%w: fractal heap indirect blocks nest too deep", ErrFormat)
	}
	c, err := h.f.from(a, "fractal heap indirect block")
	if err != nil {
		return nil, err
	}
	if !c.sig("FHIB") || c.u8() != 0 {
		return nil, fmt.Errorf("%w: no fractal heap indirect block at %d", ErrFormat, a)
	}
	c.skip(h.f.so + h.offBytes) // heap header address, block offset
	entries := c.p
	rel := off - blockOff
	if off < blockOff {
		return nil, fmt.Errorf("%w: fractal heap offset %d before its block", ErrFormat, off)
	}
	var rowStart uint64
	for r := uint64(0); r < rows; r++ {
		bs := h.rowSize(r)
		span := bs * h.width
		if r > 48 || span > 1<<56 {
			return nil, fmt.Errorf("%w: fractal heap at %d: absurd row %d", ErrFormat, h.addr, r)
		}
		if rel >= rowStart+span {
			rowStart += span
			continue
		}
		col := (rel - rowStart) / bs
		childOff := blockOff + rowStart + col*bs
		var idx uint64
		if r < h.maxDRows {
			idx = r*h.width + col
		} else {
			idx = min(rows, h.maxDRows)*h.width + (r-h.maxDRows)*h.width + col
		}
		c.p = entries
		c.skip(int(idx) * h.f.so)
		child := h.f.addr(c)
		if c.bad || h.f.undef(child) {
			return nil, fmt.Errorf("%w: fractal heap offset %d in an unallocated block", ErrFormat, off)
		}
		if r < h.maxDRows {
			return h.direct(child, childOff, bs, off, n)
		}
		sub := log2(bs) - log2(h.start*h.width) + 1
		return h.indirect(child, childOff, sub, off, n, depth+1)
	}
	return nil, fmt.Errorf("%w: fractal heap offset %d beyond the heap", ErrFormat, off)
}

// hugeObject returns a huge object (§III.G): stored outside the heap's
// blocks, its address and length either in the heap ID itself or, when
// the ID is too short, in a v2 B-tree of type 1 keyed by the ID.
func (h *fheap) hugeObject(id []byte) ([]byte, error) {
	f := h.f
	if h.idLen-1 >= f.so+f.sl {
		c := &cursor{b: id[1:]}
		a, n := f.addr(c), f.length(c)
		if c.bad {
			return nil, fmt.Errorf("%w: short huge object heap ID", ErrFormat)
		}
		return f.at(a, n, "huge heap object")
	}
	key := leUint(id[1:min(len(id), 9)])
	if h.huge == nil {
		h.huge = map[uint64][]byte{}
		err := f.btree2(h.hugeTree, 1, func(rec []byte) error {
			c := &cursor{b: rec}
			a, n, k := f.addr(c), f.length(c), f.length(c)
			if c.bad {
				return fmt.Errorf("%w: short huge object record", ErrFormat)
			}
			b, err := f.at(a, n, "huge heap object")
			if err != nil {
				return err
			}
			h.huge[k] = b
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	b, ok := h.huge[key]
	if !ok {
		return nil, fmt.Errorf("%w: fractal heap at %d has no huge object %d", ErrFormat, h.addr, key)
	}
	return b, nil
}
