package h5

import (
	"fmt"
	"math/bits"
)

// earray is an extensible array (§VII.D), the chunk index of datasets
// with one unlimited dimension under libver="latest".
type earray struct {
	f         *File
	addr      uint64
	client    byte
	esize     int    // bytes per element
	maxBits   int    // bits of the largest element index
	idxElmts  uint64 // elements stored in the index block
	dblkMin   uint64 // elements of the smallest data block
	sblkMin   uint64 // data block pointers of the smallest super block
	pageBits  uint   // elements per data block page, log2
	maxIdx    uint64 // one past the largest element index set
	iblock    uint64
	offSize   int // bytes of a block offset
	nsblks    int
	sblk      []sblkInfo
	iNsblks   int // super blocks whose data blocks the index block points to
	iNdblk    int // data block addresses in the index block
	iNsblkPtr int // super block addresses in the index block
}

type sblkInfo struct{ ndblks, dblkElmts, startIdx, startDblk uint64 }

// extensibleArray parses the header at a (§VII.D "Extensible Array
// Header") and the geometry H5EA__hdr_init derives from it.
func (f *File) extensibleArray(a uint64) (*earray, error) {
	c, err := f.from(a, "extensible array header")
	if err != nil {
		return nil, err
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: extensible array at %d: %s", ErrFormat, a, what)
	}
	if !c.sig("EAHD") || c.u8() != 0 {
		return nil, bad("no EAHD signature")
	}
	e := &earray{f: f, addr: a}
	e.client = c.u8()
	e.esize = int(c.u8())
	e.maxBits = int(c.u8())
	e.idxElmts = uint64(c.u8())
	e.dblkMin = uint64(c.u8())
	e.sblkMin = uint64(c.u8())
	e.pageBits = uint(c.u8())
	for i := 0; i < 4; i++ {
		f.length(c) // statistics
	}
	e.maxIdx = f.length(c)
	f.length(c) // elements realized
	e.iblock = f.addr(c)
	if c.bad {
		return nil, bad("truncated header")
	}
	if e.client > 1 || e.esize < f.so || e.maxBits < 1 || e.maxBits > 64 || !isPow2(e.dblkMin) || !isPow2(e.sblkMin) ||
		e.pageBits > 32 || uint64(e.maxBits) <= log2(e.dblkMin) {
		return nil, bad("absurd parameters")
	}
	e.offSize = (e.maxBits + 7) / 8
	e.nsblks = 1 + e.maxBits - int(log2(e.dblkMin))
	var start, startDblk uint64
	for u := 0; u < e.nsblks; u++ {
		s := sblkInfo{ndblks: 1 << (u / 2), dblkElmts: e.dblkMin << ((u + 1) / 2), startIdx: start, startDblk: startDblk}
		if s.dblkElmts == 0 || s.dblkElmts > 1<<62 {
			s.dblkElmts = 1 << 62 // beyond any file: lookups there fail
		}
		hi, lo := bits.Mul64(s.ndblks, s.dblkElmts)
		if hi != 0 || start+lo < start {
			start = ^uint64(0)
		} else {
			start += lo
		}
		startDblk += s.ndblks
		e.sblk = append(e.sblk, s)
	}
	e.iNsblks = 2 * int(log2(e.sblkMin))
	e.iNdblk = 2 * int(e.sblkMin-1)
	e.iNsblkPtr = e.nsblks - e.iNsblks
	if e.iNsblkPtr < 0 {
		return nil, bad("absurd parameters")
	}
	return e, nil
}

// get returns the bytes of element idx, or nil if it was never set.
func (e *earray) get(idx uint64) ([]byte, error) {
	f := e.f
	if idx >= e.maxIdx || f.undef(e.iblock) {
		return nil, nil
	}
	c, err := f.from(e.iblock, "extensible array index block")
	if err != nil {
		return nil, err
	}
	if !c.sig("EAIB") || c.u8() != 0 || c.u8() != e.client {
		return nil, fmt.Errorf("%w: no extensible array index block at %d", ErrFormat, e.iblock)
	}
	f.addr(c) // header address
	elems := c.p
	if idx < e.idxElmts {
		c.skip(int(idx) * e.esize)
		b := c.bytes(e.esize)
		if c.bad {
			return nil, fmt.Errorf("%w: extensible array index block overruns the file", ErrFormat)
		}
		return b, nil
	}
	i := idx - e.idxElmts
	s := int(log2floor(i/e.dblkMin + 1)) // super block index (H5EA__dblock_sblk_idx)
	if s >= e.nsblks {
		return nil, fmt.Errorf("%w: extensible array element %d beyond its super blocks", ErrFormat, idx)
	}
	info := e.sblk[s]
	inBlock := (i - info.startIdx) % info.dblkElmts
	var dblk uint64
	var pageInit func(page uint64) bool
	if s < e.iNsblks {
		k := info.startDblk + (i-info.startIdx)/info.dblkElmts
		if k >= uint64(e.iNdblk) {
			return nil, fmt.Errorf("%w: extensible array data block %d beyond the index block", ErrFormat, k)
		}
		c.p = elems + int(e.idxElmts)*e.esize + int(k)*f.so
		dblk = f.addr(c)
	} else {
		c.p = elems + int(e.idxElmts)*e.esize + e.iNdblk*f.so + (s-e.iNsblks)*f.so
		sb := f.addr(c)
		if c.bad {
			return nil, fmt.Errorf("%w: extensible array index block overruns the file", ErrFormat)
		}
		if f.undef(sb) {
			return nil, nil
		}
		sc, err := f.from(sb, "extensible array super block")
		if err != nil {
			return nil, err
		}
		if !sc.sig("EASB") || sc.u8() != 0 || sc.u8() != e.client {
			return nil, fmt.Errorf("%w: no extensible array super block at %d", ErrFormat, sb)
		}
		sc.skip(f.so + e.offSize)
		k := (i - info.startIdx) / info.dblkElmts
		if k >= info.ndblks {
			return nil, fmt.Errorf("%w: extensible array data block %d beyond its super block", ErrFormat, k)
		}
		var bitmap []byte
		if npages := info.dblkElmts >> e.pageBits; npages > 1 {
			if npages > uint64(len(f.b)) || info.ndblks > uint64(len(f.b)) {
				return nil, fmt.Errorf("%w: extensible array super block at %d: absurd paging", ErrFormat, sb)
			}
			bitmap = sc.bytes(int((info.ndblks*npages + 7) / 8))
			pageInit = func(p uint64) bool {
				bit := k*npages + p
				return bitmap[bit/8]&(0x80>>(bit%8)) != 0
			}
		}
		sc.skip(int(k) * f.so)
		dblk = f.addr(sc)
		if sc.bad {
			return nil, fmt.Errorf("%w: extensible array super block at %d overruns the file", ErrFormat, sb)
		}
	}
	if c.bad {
		return nil, fmt.Errorf("%w: extensible array index block overruns the file", ErrFormat)
	}
	if f.undef(dblk) {
		return nil, nil
	}
	dc, err := f.from(dblk, "extensible array data block")
	if err != nil {
		return nil, err
	}
	if !dc.sig("EADB") || dc.u8() != 0 || dc.u8() != e.client {
		return nil, fmt.Errorf("%w: no extensible array data block at %d", ErrFormat, dblk)
	}
	dc.skip(f.so + e.offSize)
	page := uint64(1) << e.pageBits
	size := uint64(len(f.b))
	if inBlock > size {
		return nil, fmt.Errorf("%w: extensible array element %d outside the file", ErrFormat, idx)
	}
	if info.dblkElmts > page { // paged: pages follow the block's prefix and checksum
		p := inBlock / page
		if pageInit != nil && !pageInit(p) {
			return nil, nil
		}
		pageSize := page*uint64(e.esize) + 4
		if pageSize > size || p > size/pageSize {
			return nil, fmt.Errorf("%w: extensible array element %d outside the file", ErrFormat, idx)
		}
		dc.skip(4)
		dc.skip(int(p*pageSize + (inBlock%page)*uint64(e.esize)))
	} else {
		dc.skip(int(inBlock) * e.esize)
	}
	b := dc.bytes(e.esize)
	if dc.bad {
		return nil, fmt.Errorf("%w: extensible array data block at %d overruns the file", ErrFormat, dblk)
	}
	return b, nil
}
