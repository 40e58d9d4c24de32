package h5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on dataset reads. A dataset's declared size is checked before
// anything is allocated: at most MaxDataBytes, and at most MaxRatio times
// the file (deflate cannot compress better than about 1032:1).
const (
	MaxDataBytes = 1 << 30 // bytes of one dataset's values as stored
	MaxRatio     = 1024    // declared dataset bytes per byte of file
	maxFilters   = 32      // filters in a pipeline (HDF5's own limit)
)

// dataLimit is the largest dataset, in bytes, a file of n bytes may
// declare.
func dataLimit(n int) uint64 { return min(MaxDataBytes, MaxRatio*uint64(n)+4096) }

// layout is a data layout message (§IV.A.2.i).
type layout struct {
	class   int // 0 compact, 1 contiguous, 2 chunked, 3 virtual
	version int
	addr    uint64
	size    uint64 // contiguous: bytes
	compact []byte
	chunk   []uint64 // chunk shape, without the element-size dimension
	index   int      // chunked, version 4: 1 single chunk, 2 implicit, 3 fixed array, 4 extensible array, 5 v2 B-tree; 0 is the v1 B-tree
	// Single chunk index with filters: the chunk's stored size and
	// filter mask.
	singleSize uint64
	singleMask uint32
	filtered   bool
}

func (f *File) parseLayout(d []byte) (layout, error) {
	var l layout
	c := &cursor{b: d}
	l.version = int(c.u8())
	bad := func() (layout, error) { return l, fmt.Errorf("%w: data layout message", ErrFormat) }
	switch l.version {
	case 1, 2:
		nd := int(c.u8())
		l.class = int(c.u8())
		c.skip(5)
		if l.class != 0 {
			l.addr = f.addr(c)
		}
		if nd < 1 || nd > maxRank+1 {
			return bad()
		}
		dims := make([]uint64, nd)
		for i := range dims {
			dims[i] = uint64(c.u32())
		}
		switch l.class {
		case 0:
			l.compact = c.bytes(int(c.u32()))
		case 1:
			l.size = ^uint64(0) // unknown: the dataspace decides
		case 2:
			c.u32() // element size
			l.chunk = dims
		}
	case 3, 4:
		l.class = int(c.u8())
		switch l.class {
		case 0:
			l.compact = c.bytes(int(c.u16()))
		case 1:
			l.addr, l.size = f.addr(c), f.length(c)
		case 2:
			flags := byte(0)
			if l.version == 4 {
				flags = c.u8()
			}
			nd := int(c.u8())
			if nd < 2 || nd > maxRank+1 {
				return bad()
			}
			enc := 4
			if l.version == 4 {
				enc = int(c.u8())
				if enc < 1 || enc > 8 {
					return bad()
				}
			} else {
				l.addr = f.addr(c)
			}
			l.chunk = make([]uint64, nd-1)
			for i := range l.chunk {
				l.chunk[i] = c.uint(enc)
			}
			c.uint(enc) // element size
			if l.version == 4 {
				l.index = int(c.u8())
				switch l.index {
				case 1:
					if flags&0x02 != 0 {
						l.filtered = true
						l.singleSize = f.length(c)
						l.singleMask = c.u32()
					}
				case 2:
				case 3:
					c.skip(1) // page bits
				case 4:
					c.skip(5)
				case 5:
					c.skip(6)
				default:
					return bad()
				}
				l.addr = f.addr(c)
			}
		case 3:
			return l, nil // virtual: refused by the caller
		default:
			return bad()
		}
	default:
		return l, fmt.Errorf("%w: data layout version %d", ErrUnsupported, l.version)
	}
	if c.bad {
		return bad()
	}
	return l, nil
}

// checkDataset refuses datasets that read outside the file: external
// storage (§IV.A.2.h) and virtual layouts (§IV.A.2.i class 3).
func (f *File) checkDataset(o *object, path string) error {
	if m := o.find(msgEFL); m != nil {
		return fmt.Errorf("%w: dataset %s stores its data in external file %s", ErrExternal, path, f.eflName(m))
	}
	if m := o.find(msgLayout); m != nil && len(m.data) >= 2 && m.data[0] >= 3 && m.data[1] == 3 {
		return fmt.Errorf("%w: dataset %s is virtual (maps data from other files)", ErrExternal, path)
	}
	return nil
}

// eflName returns the first file name of an external data files message,
// quoted, or a placeholder if it cannot be read.
func (f *File) eflName(m *message) string {
	c := &cursor{b: m.data}
	c.skip(4) // version, reserved
	c.skip(2) // allocated slots
	used := c.u16()
	heap := f.addr(c)
	nameOff := f.length(c)
	if c.bad || used == 0 {
		return "(unreadable name)"
	}
	seg, err := f.localHeap(heap)
	if err != nil {
		return "(unreadable name)"
	}
	s, err := heapString(seg, nameOff)
	if err != nil {
		return "(unreadable name)"
	}
	return fmt.Sprintf("%q", printable(s))
}

// dset is a dataset's type, shape and object header.
type dset struct {
	path string
	o    *object
	dt   dtype
	ds   dataspace
}

func (f *File) dataset(path string) (*dset, error) {
	o, err := f.objectAt(path)
	if err != nil {
		return nil, err
	}
	if !o.isDataset() {
		return nil, fmt.Errorf("%w: %s is not a dataset", ErrType, clean(path))
	}
	d := &dset{path: clean(path), o: o}
	if err := f.checkDataset(o, d.path); err != nil {
		return nil, err
	}
	mt, ms := o.find(msgDatatype), o.find(msgDataspace)
	if mt == nil || ms == nil {
		return nil, fmt.Errorf("%w: dataset %s has no datatype or dataspace", ErrFormat, d.path)
	}
	if mt.flags&0x02 != 0 || ms.flags&0x02 != 0 {
		return nil, fmt.Errorf("%w: dataset %s has a shared (committed) datatype", ErrUnsupported, d.path)
	}
	if d.dt, err = parseDtype(mt.data); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.path, err)
	}
	if d.ds, err = f.parseDataspace(ms.data); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.path, err)
	}
	return d, nil
}

// Dataset describes the dataset at path: its element class and size in
// bytes, and its shape (nil for a scalar).
func (f *File) Dataset(path string) (_ Class, _ int, _ []int, err error) {
	if f == nil || f.b == nil {
		return Other, 0, nil, errClosed
	}
	defer f.guard(&err)
	d, err := f.dataset(path)
	if err != nil {
		return Other, 0, nil, err
	}
	return d.dt.class, d.dt.size, d.ds.ints(), nil
}

// ReadFloat32 reads the numeric dataset at path, converting its values
// (float16, float64, integers of any size and either byte order) to
// float32, and returns them in row-major order with the dataset's shape
// (nil for a scalar). Compact, contiguous and chunked layouts are read,
// with the deflate, shuffle and fletcher32 filters.
//
// Both the values as stored and the float32 values returned must fit in
// min(MaxDataBytes, MaxRatio × the file size + 4 KiB) bytes, checked
// before anything is allocated. Chunks are decoded one at a time into the
// result, so reading takes about its size plus one chunk.
func (f *File) ReadFloat32(path string) (_ []float32, _ []int, err error) {
	if f == nil || f.b == nil {
		return nil, nil, errClosed
	}
	defer f.guard(&err)
	d, err := f.dataset(path)
	if err != nil {
		return nil, nil, err
	}
	if d.dt.class != Float && d.dt.class != Integer || d.dt.size <= 0 {
		return nil, nil, fmt.Errorf("%w: dataset %s holds %s values of %d bytes, not numbers", ErrType, d.path, d.dt.class, d.dt.size)
	}
	// Each value takes its stored size in the file and 4 bytes in the
	// result: the larger bounds the count.
	width := uint64(max(d.dt.size, 4))
	n, err := d.ds.count(dataLimit(len(f.b)) / width)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w of %d bytes (stored or as float32): over the limit of min(h5.MaxDataBytes = %d, h5.MaxRatio = %d × the %d-byte file)",
			d.path, err, width, MaxDataBytes, MaxRatio, len(f.b))
	}
	if err := f.spend(1, n*uint64(d.dt.size)); err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w", d.path, err)
	}
	out := make([]float32, n)
	if err := f.readValues(d, out); err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w", d.path, err)
	}
	return out, d.ds.ints(), nil
}

// readValues reads d's values, converted to float32, into out, which
// holds one value per element of d.
func (f *File) readValues(d *dset, out []float32) error {
	nbytes := uint64(len(out)) * uint64(d.dt.size)
	m := d.o.find(msgLayout)
	l, err := f.parseLayout(m.data)
	if err != nil {
		return err
	}
	switch l.class {
	case 0:
		if uint64(len(l.compact)) < nbytes {
			return fmt.Errorf("%w: compact data of %d bytes, want %d", ErrFormat, len(l.compact), nbytes)
		}
		return toFloat32(d.dt, l.compact[:nbytes], out)
	case 1:
		if f.undef(l.addr) {
			f.fill(d, out) // never written
			return nil
		}
		if l.size != ^uint64(0) && l.size < nbytes {
			return fmt.Errorf("%w: contiguous data of %d bytes, want %d", ErrFormat, l.size, nbytes)
		}
		raw, err := f.at(l.addr, nbytes, "contiguous data")
		if err != nil {
			return err
		}
		return toFloat32(d.dt, raw, out)
	case 2:
		return f.readChunked(d, l, out)
	}
	return fmt.Errorf("%w: data layout class %d", ErrUnsupported, l.class)
}

// chunkRef is one stored chunk: its position (in elements), address,
// stored size and filter mask.
type chunkRef struct {
	off  []uint64
	addr uint64
	size uint64
	mask uint32
}

// readChunked decodes a chunked dataset (§IV.A.2.i, §III.A.1 type 1
// nodes, and the version 4 chunk indexes of §VII) into out, one chunk at
// a time.
func (f *File) readChunked(d *dset, l layout, out []float32) error {
	rank := len(d.ds.shape)
	if rank == 0 || len(l.chunk) != rank {
		return fmt.Errorf("%w: chunks of rank %d for a dataset of rank %d", ErrFormat, len(l.chunk), rank)
	}
	esize := uint64(d.dt.size)
	nbytes := uint64(len(out)) * esize
	limit := dataLimit(len(f.b))
	chunkBytes := esize
	for _, c := range l.chunk {
		if c == 0 || chunkBytes > limit/c {
			return fmt.Errorf("%w: chunk shape %v", ErrFormat, l.chunk)
		}
		chunkBytes *= c
	}
	var pipeline []filter
	if m := d.o.find(msgFilters); m != nil {
		var err error
		if pipeline, err = parseFilters(m.data); err != nil {
			return err
		}
	}
	f.fill(d, out) // chunks never written hold the fill value
	if nbytes == 0 || f.undef(l.addr) {
		return nil // no chunk written: the index was never created
	}
	// Each chunk position is filled once; the total work is bounded by
	// budget, so a crafted index cannot make us inflate the same chunk
	// a million times.
	filled := map[string]bool{}
	budget := 8*nbytes + chunkBytes
	var s scratch // reused by every chunk
	put := func(ch chunkRef) error {
		for i, o := range ch.off {
			if o%l.chunk[i] != 0 {
				return fmt.Errorf("%w: chunk at %v not aligned to %v", ErrFormat, ch.off, l.chunk)
			}
			if o >= d.ds.shape[i] {
				return nil // outside the current extent
			}
		}
		key := fmt.Sprint(ch.off)
		if filled[key] {
			return fmt.Errorf("%w: chunk at %v stored twice", ErrFormat, ch.off)
		}
		filled[key] = true
		if budget < chunkBytes {
			return fmt.Errorf("%w: chunks add up to more than the dataset", ErrFormat)
		}
		budget -= chunkBytes
		if err := f.spend(1, chunkBytes); err != nil {
			return err
		}
		if f.undef(ch.addr) {
			return nil
		}
		stored, err := f.at(ch.addr, ch.size, "chunk")
		if err != nil {
			return err
		}
		data, err := unfilter(pipeline, ch.mask, stored, chunkBytes, &s)
		if err != nil {
			return fmt.Errorf("chunk at %v: %w", ch.off, err)
		}
		if err := decodeChunk(out, data, d.ds.shape, l.chunk, ch.off, d.dt); err != nil {
			return fmt.Errorf("chunk at %v: %w", ch.off, err)
		}
		return nil
	}
	switch {
	case l.version < 4 || l.index == 0:
		return f.btree1(l.addr, 1, rank+1, func(key []byte, child uint64) error {
			c := &cursor{b: key}
			ch := chunkRef{addr: child, size: uint64(c.u32()), mask: c.u32(), off: make([]uint64, rank)}
			for i := range ch.off {
				ch.off[i] = c.uint(8)
			}
			return put(ch)
		})
	case l.index == 1: // single chunk (§VII.A)
		size := chunkBytes
		if l.filtered {
			size = l.singleSize
		}
		return put(chunkRef{off: make([]uint64, rank), addr: l.addr, size: size, mask: l.singleMask})
	case l.index == 2: // implicit (§VII.B): every chunk, in order, unfiltered
		if len(pipeline) > 0 {
			return fmt.Errorf("%w: implicit chunk index with filters", ErrFormat)
		}
		return forChunks(d.ds, l.chunk, f.spend, func(i uint64, off []uint64) error {
			return put(chunkRef{off: off, addr: l.addr + i*chunkBytes, size: chunkBytes})
		})
	case l.index == 3: // fixed array (§VII.C)
		refs, err := f.fixedArray(l.addr, len(pipeline) > 0, chunkBytes)
		if err != nil {
			return err
		}
		return forChunks(d.ds, l.chunk, f.spend, func(i uint64, off []uint64) error {
			if i >= uint64(len(refs)) {
				return errStop // linear indexes only grow
			}
			r := refs[i]
			r.off = off
			return put(r)
		})
	case l.index == 4: // extensible array (§VII.D)
		return f.earrayChunks(d, l, len(pipeline) > 0, chunkBytes, put)
	case l.index == 5: // v2 B-tree of type 10 or 11 (§VII.E, §III.A.2)
		typ := byte(10)
		if len(pipeline) > 0 {
			typ = 11
		}
		return f.btree2(l.addr, typ, func(rec []byte) error {
			c := &cursor{b: rec}
			ch := chunkRef{addr: f.addr(c), size: chunkBytes, off: make([]uint64, rank)}
			if typ == 11 {
				ch.size = c.uint(chunkSizeLen(chunkBytes))
				ch.mask = c.u32()
			}
			for i := range ch.off {
				ch.off[i] = c.uint(8) * l.chunk[i] // scaled offsets
			}
			if c.bad {
				return fmt.Errorf("%w: short chunk record", ErrFormat)
			}
			return put(ch)
		})
	}
	return fmt.Errorf("%w: chunk index type %d", ErrUnsupported, l.index)
}

// errStop ends forChunks early without an error.
var errStop = errors.New("stop")

// forChunks calls fn with the linear index and position of every chunk of
// the grid over ds's maximum shape (its shape if unlimited), row-major.
func forChunks(ds dataspace, chunk []uint64, spend func(steps, bytes uint64) error, fn func(i uint64, off []uint64) error) error {
	rank := len(chunk)
	grid := make([]uint64, rank)
	for i := range grid {
		dim := ds.shape[i]
		if ds.max != nil && ds.max[i] != ^uint64(0) && ds.max[i] > dim {
			dim = ds.max[i]
		}
		grid[i] = (dim + chunk[i] - 1) / chunk[i]
		if dim > 0 && grid[i] == 0 {
			grid[i] = ^uint64(0) // overflow: stop below
		}
	}
	// Only chunks inside the current shape matter; their linear index
	// counts over the whole grid.
	idx := make([]uint64, rank)
	var total uint64 = 1
	for i := range grid {
		inside := (ds.shape[i] + chunk[i] - 1) / chunk[i]
		if inside == 0 {
			return nil
		}
		if total > (1<<40)/inside {
			return fmt.Errorf("%w: more than 2^40 chunks", ErrFormat)
		}
		total *= inside
	}
	for {
		if err := spend(1, 0); err != nil {
			return err
		}
		var lin uint64
		off := make([]uint64, rank)
		for i := range idx {
			lin = lin*grid[i] + idx[i]
			off[i] = idx[i] * chunk[i]
		}
		if err := fn(lin, off); errors.Is(err, errStop) {
			return nil
		} else if err != nil {
			return err
		}
		i := rank - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i]*chunk[i] < ds.shape[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

// fixedArray reads the chunk addresses of a fixed array index (§VII.C):
// header FAHD, data block FADB, paged when it holds more than 2^page bits
// entries.
func (f *File) fixedArray(a uint64, filtered bool, chunkBytes uint64) ([]chunkRef, error) {
	c, err := f.from(a, "fixed array header")
	if err != nil {
		return nil, err
	}
	if !c.sig("FAHD") || c.u8() != 0 {
		return nil, fmt.Errorf("%w: no fixed array header at %d", ErrFormat, a)
	}
	client := c.u8()
	esize := int(c.u8())
	pageBits := c.u8()
	n := f.length(c)
	db := f.addr(c)
	if c.bad || client > 1 || (client == 1) != filtered || pageBits > 32 || esize < f.so || (filtered && esize < f.so+5) {
		return nil, fmt.Errorf("%w: fixed array header at %d", ErrFormat, a)
	}
	if n > uint64(len(f.b))/uint64(esize) {
		return nil, fmt.Errorf("%w: fixed array at %d claims %d entries", ErrFormat, a, n)
	}
	refs := make([]chunkRef, n)
	for i := range refs {
		refs[i].addr = ^uint64(0)
	}
	if f.undef(db) {
		return refs, nil
	}
	c, err = f.from(db, "fixed array data block")
	if err != nil {
		return nil, err
	}
	if !c.sig("FADB") || c.u8() != 0 || c.u8() != client {
		return nil, fmt.Errorf("%w: no fixed array data block at %d", ErrFormat, db)
	}
	f.addr(c)
	entry := func(c *cursor, i uint64) {
		e := &cursor{b: c.bytes(esize)}
		refs[i].addr = f.addr(e)
		refs[i].size = chunkBytes
		if filtered {
			refs[i].size = e.uint(esize - f.so - 4)
			refs[i].mask = e.u32()
		}
	}
	page := uint64(1) << pageBits
	if n <= page {
		for i := uint64(0); i < n; i++ {
			entry(c, i)
		}
	} else {
		npages := (n + page - 1) / page
		bitmap := c.bytes(int((npages + 7) / 8))
		c.skip(4) // checksum
		for p := uint64(0); p < npages && !c.bad; p++ {
			cnt := min(page, n-p*page)
			if bitmap[p/8]&(0x80>>(p%8)) == 0 {
				c.skip(int(cnt)*esize + 4)
				continue
			}
			for i := uint64(0); i < cnt; i++ {
				entry(c, p*page+i)
			}
			c.skip(4) // page checksum
		}
	}
	if c.bad {
		return nil, fmt.Errorf("%w: fixed array data block at %d overruns the file", ErrFormat, db)
	}
	return refs, nil
}

// decodeChunk converts a decoded chunk at position off into the dataset's
// values out, clipping at the dataset's shape.
func decodeChunk(out []float32, chunk []byte, shape, cdims, off []uint64, t dtype) error {
	rank := len(shape)
	esize := uint64(t.size)
	// Rows along the last dimension.
	last := rank - 1
	rowLen := min(cdims[last], shape[last]-off[last])
	idx := make([]uint64, rank) // position inside the chunk
	for {
		var src, dst uint64
		for i := 0; i < rank; i++ {
			src = src*cdims[i] + idx[i]
			dst = dst*shape[i] + off[i] + idx[i]
		}
		if err := toFloat32(t, chunk[src*esize:(src+rowLen)*esize], out[dst:dst+rowLen]); err != nil {
			return err
		}
		i := last - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < cdims[i] && off[i]+idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

// filter is one entry of a filter pipeline message (§IV.A.2.l).
type filter struct {
	id       uint16
	optional bool
	client   []uint32
}

// Filter identifiers (§IV.A.2.l).
const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
)

func parseFilters(d []byte) ([]filter, error) {
	c := &cursor{b: d}
	v := c.u8()
	n := int(c.u8())
	if v == 1 {
		c.skip(6)
	} else if v != 2 {
		return nil, fmt.Errorf("%w: filter pipeline version %d", ErrFormat, v)
	}
	if n > maxFilters {
		return nil, fmt.Errorf("%w: %d filters", ErrFormat, n)
	}
	fs := make([]filter, n)
	for i := range fs {
		fs[i].id = c.u16()
		nameLen := 0
		if v == 1 || fs[i].id >= 256 {
			nameLen = int(c.u16())
		}
		fs[i].optional = c.u16()&1 != 0
		ncd := int(c.u16())
		if v == 1 {
			nameLen = pad8(nameLen)
		}
		c.skip(nameLen)
		if ncd > c.left()/4 {
			return nil, fmt.Errorf("%w: filter with %d parameters", ErrFormat, ncd)
		}
		fs[i].client = make([]uint32, ncd)
		for j := range fs[i].client {
			fs[i].client[j] = c.u32()
		}
		if v == 1 && ncd%2 == 1 {
			c.skip(4)
		}
	}
	if c.bad {
		return nil, fmt.Errorf("%w: truncated filter pipeline", ErrFormat)
	}
	return fs, nil
}

// maxInflate bounds what deflate can make of n compressed bytes: at most
// 258 bytes per 2 bits, about 1032:1, plus some slack for the zlib
// header and checksum.
func maxInflate(n int) uint64 { return 1032*uint64(n) + 1024 }

// scratch holds two buffers that the filters of a pipeline write into in
// turn, reused from chunk to chunk. A filter never writes into its input,
// which may be the file image.
type scratch struct {
	buf [2][]byte
	cur int // index of the buffer holding the current data, -1 for none
}

// next returns a buffer of n bytes other than the current one and makes
// it the current one.
func (s *scratch) next(n uint64) []byte {
	k := 0
	if s.cur == 0 {
		k = 1
	}
	s.cur = k
	if uint64(cap(s.buf[k])) < n {
		s.buf[k] = make([]byte, n)
	}
	return s.buf[k][:n]
}

// unfilter undoes the filters of pipeline not masked out, last first, and
// returns the first want bytes. Output is never allowed to grow beyond
// want (plus checksum bytes): a chunk inflating to more is an error.
// Filters write into the buffers of s (nil for fresh ones); the result
// may alias them, or b.
func unfilter(pipeline []filter, mask uint32, b []byte, want uint64, s *scratch) ([]byte, error) {
	if s == nil {
		s = new(scratch)
	}
	s.cur = -1
	for i := len(pipeline) - 1; i >= 0; i-- {
		if mask&(1<<uint(i)) != 0 {
			continue
		}
		switch p := pipeline[i]; p.id {
		case filterDeflate:
			limit := want + 4*uint64(len(pipeline))
			out, err := inflate(b, s.next(min(limit, maxInflate(len(b)))))
			if err != nil {
				return nil, err
			}
			b = out
		case filterShuffle:
			size := 1
			if len(p.client) > 0 {
				size = int(p.client[0])
			}
			if size < 1 || size > 1<<16 {
				return nil, fmt.Errorf("%w: shuffle of %d-byte elements", ErrFormat, size)
			}
			if n := len(b) / size; size > 1 && n > 1 {
				b = unshuffle(s.next(uint64(len(b))), b, size)
			}
		case filterFletcher32:
			if len(b) < 4 {
				return nil, fmt.Errorf("%w: fletcher32: chunk of %d bytes", ErrFormat, len(b))
			}
			data, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
			got := fletcher32(data)
			// libhdf5 also accepts the checksum of early versions,
			// with the bytes of each half swapped.
			swapped := (got&0x00ff00ff)<<8 | (got&0xff00ff00)>>8
			if sum != got && sum != swapped {
				return nil, fmt.Errorf("%w: fletcher32 checksum mismatch", ErrFormat)
			}
			b = data
		default:
			return nil, fmt.Errorf("%w: filter %d", ErrUnsupported, p.id)
		}
	}
	if uint64(len(b)) < want {
		return nil, fmt.Errorf("%w: chunk of %d bytes, want %d", ErrFormat, len(b), want)
	}
	return b[:want], nil
}

// inflate decompresses the zlib stream b into dst and returns the bytes
// written. A stream that holds more than dst, is truncated or fails its
// checksum is an error.
func inflate(b, dst []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: deflate: %w", ErrFormat, err)
	}
	bad := func(err error) error {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: deflate: truncated stream", ErrFormat)
		}
		return fmt.Errorf("%w: deflate: %w", ErrFormat, err)
	}
	n := 0
	for n < len(dst) {
		m, err := r.Read(dst[n:])
		n += m
		if err == io.EOF {
			return dst[:n], nil
		} else if err != nil {
			return nil, bad(err)
		}
	}
	// dst is full: the stream must end here (and its checksum match).
	var one [1]byte
	for {
		m, err := r.Read(one[:])
		if m > 0 {
			return nil, fmt.Errorf("%w: chunk inflates beyond its %d bytes", ErrFormat, len(dst))
		}
		if err == io.EOF {
			return dst, nil
		} else if err != nil {
			return nil, bad(err)
		}
	}
}

// unshuffle undoes the shuffle filter into dst (of len(b) bytes): byte j
// of element i was stored at j*n+i; trailing bytes that do not fill an
// element are left as they are.
func unshuffle(dst, b []byte, size int) []byte {
	n := len(b) / size
	for j := 0; j < size; j++ {
		for i := 0; i < n; i++ {
			dst[i*size+j] = b[j*n+i]
		}
	}
	copy(dst[n*size:], b[n*size:])
	return dst
}

// fletcher32 is H5_checksum_fletcher32: Fletcher's checksum over 16-bit
// big-endian words, a trailing odd byte as the high byte of a word.
func fletcher32(b []byte) uint32 {
	var s1, s2 uint32
	words := len(b) / 2
	for words > 0 {
		t := min(words, 360)
		words -= t
		for ; t > 0; t-- {
			s1 += uint32(b[0])<<8 | uint32(b[1])
			s2 += s1
			b = b[2:]
		}
		s1 = (s1 & 0xffff) + (s1 >> 16)
		s2 = (s2 & 0xffff) + (s2 >> 16)
	}
	if len(b) == 1 {
		s1 += uint32(b[0]) << 8
		s2 += s1
		s1 = (s1 & 0xffff) + (s1 >> 16)
		s2 = (s2 & 0xffff) + (s2 >> 16)
	}
	s1 = (s1 & 0xffff) + (s1 >> 16)
	s2 = (s2 & 0xffff) + (s2 >> 16)
	return s2<<16 | s1
}

// Fill value messages (§IV.A.2.e old, §IV.A.2.f).
const (
	msgFillOld = 0x04
	msgFill    = 0x05
)

// fill sets every value of out to d's fill value: the value of a fill
// value message if it defines one of the element's size, else zero.
func (f *File) fill(d *dset, out []float32) {
	var val []byte
	if m := d.o.find(msgFill); m != nil {
		c := &cursor{b: m.data}
		switch v := c.u8(); v {
		case 1, 2:
			c.skip(2) // allocation and write times
			if defined := c.u8(); v == 1 || defined != 0 {
				val = c.bytes(int(c.u32()))
			}
		case 3:
			if c.u8()&0x20 != 0 {
				val = c.bytes(int(c.u32()))
			}
		}
	} else if m := d.o.find(msgFillOld); m != nil {
		c := &cursor{b: m.data}
		val = c.bytes(int(c.u32()))
	}
	var v [1]float32
	if len(val) == 0 || len(val) != d.dt.size || toFloat32(d.dt, val, v[:]) != nil {
		v[0] = 0
	}
	for i := range out {
		out[i] = v[0]
	}
}

// chunkSizeLen is the size of the stored size of a filtered chunk in
// chunk index records: 1 + (log2(chunk bytes) + 8) / 8, at most 8, as
// libhdf5 computes it.
func chunkSizeLen(chunkBytes uint64) int {
	return min(8, 1+int((log2floor(chunkBytes)+8)/8))
}

// earrayChunks reads the chunks of an extensible array index. The array
// counts chunks row-major with the unlimited dimension first ("swizzled")
// over the grid of the maximum shape.
func (f *File) earrayChunks(d *dset, l layout, filtered bool, chunkBytes uint64, put func(chunkRef) error) error {
	e, err := f.extensibleArray(l.addr)
	if err != nil {
		return err
	}
	if (e.client == 1) != filtered || (filtered && e.esize < f.so+5) {
		return fmt.Errorf("%w: extensible array at %d does not match the filters", ErrFormat, l.addr)
	}
	rank := len(l.chunk)
	unlim := -1
	for i := 0; i < rank && d.ds.max != nil; i++ {
		if d.ds.max[i] == ^uint64(0) {
			unlim = i
		}
	}
	if unlim < 0 {
		return fmt.Errorf("%w: extensible array index without an unlimited dimension", ErrFormat)
	}
	order := []int{unlim}
	for i := 0; i < rank; i++ {
		if i != unlim {
			order = append(order, i)
		}
	}
	return forChunks(d.ds, l.chunk, f.spend, func(_ uint64, off []uint64) error {
		var idx uint64
		for _, i := range order {
			n := uint64(1)
			if i != unlim {
				dim := max(d.ds.shape[i], d.ds.max[i])
				n = (dim + l.chunk[i] - 1) / l.chunk[i]
			}
			idx = idx*n + off[i]/l.chunk[i]
		}
		b, err := e.get(idx)
		if err != nil || b == nil {
			return err
		}
		c := &cursor{b: b}
		ch := chunkRef{off: off, addr: f.addr(c), size: chunkBytes}
		if filtered {
			ch.size = c.uint(e.esize - f.so - 4)
			ch.mask = c.u32()
		}
		if c.bad {
			return fmt.Errorf("%w: short extensible array element", ErrFormat)
		}
		return put(ch)
	})
}
