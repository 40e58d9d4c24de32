package train

import (
	"os"
	"unsafe"
)

// releaseBudget bounds the resident memory of mapped data
// (Config.Mapped): when the process's resident file-backed pages exceed
// it after a batch or a chunk of a scan, the pages of the data are
// released.
const releaseBudget = 256 << 20

// scanChunk is how much of the data a streaming scan (the NaN check, the
// checkpoint's fingerprint) reads between two checks of the budget.
const scanChunk = 16 << 20

// pager bounds the resident pages of memory-mapped data: after every
// batch or scan chunk it checks how much file-backed memory the process
// holds (residentFile) and, past the budget, tells the operating system
// it no longer needs the pages of the data (releasePages).
//
// A page fault on a mapped file maps more than the page: the kernel maps
// the whole cached folio around it, up to 2 MiB (Linux 6.x page cache
// with large folios), so reading one random 3 KiB row can make hundreds
// of KiB resident; hence a measurement rather than a count of the bytes
// read. A nil pager does nothing.
type pager struct {
	data   [][]float32 // distinct mapped slices
	files  []*rowFile  // the file of each, or nil
	budget int         // releaseBudget
	res    resident
}

// rowFile is the file a mapping shows, opened again: shuffled rows are
// read from it with pread instead of through the mapping, where each
// page fault would map a whole large folio (up to 2 MiB) for one row
// and releasing it costs as much again. Reading copies from the page
// cache and makes nothing resident.
type rowFile struct {
	f   *os.File
	off int64 // file offset of the slice's first value
}

// readRows reads len(dst) values starting at value i of the slice.
func (r *rowFile) read(dst []float32, i int) error {
	if len(dst) == 0 {
		return nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst))
	_, err := r.f.ReadAt(b, r.off+4*int64(i))
	return err
}

// file returns the rowFile of a, which must be one of the slices the
// pager was made with, or nil.
func (p *pager) file(a []float32) *rowFile {
	if p == nil || len(a) == 0 {
		return nil
	}
	for i, d := range p.data {
		if &d[0] == &a[0] {
			return p.files[i]
		}
	}
	return nil
}

// newPager returns a pager for those of the given slices that are
// read-only file mappings (checkMapped; Go memory is left alone, since
// the advice would zero it), skipping slices inside another one, or nil
// when mapped is false or none is a mapping.
func newPager(mapped bool, data ...[]float32) *pager {
	if !mapped {
		return nil
	}
	p := &pager{budget: releaseBudget}
	for _, d := range data {
		if len(d) == 0 {
			continue
		}
		rf, err := checkMapped(d)
		if err != nil {
			continue
		}
		lo := uintptr(unsafe.Pointer(&d[0]))
		hi := lo + 4*uintptr(len(d))
		inside := false
		for i, e := range p.data {
			elo := uintptr(unsafe.Pointer(&e[0]))
			ehi := elo + 4*uintptr(len(e))
			switch {
			case elo <= lo && hi <= ehi:
				inside = true
			case lo <= elo && ehi <= hi:
				p.data[i], p.files[i], rf = d, rf, p.files[i] // d holds e
				inside = true
			}
			if inside {
				break
			}
		}
		if inside {
			if rf != nil {
				rf.f.Close()
			}
			continue
		}
		p.data = append(p.data, d)
		p.files = append(p.files, rf)
	}
	if len(p.data) == 0 {
		return nil
	}
	p.res.open()
	return p
}

// add notes that n more bytes of the data were read, and releases the
// pages once the resident file-backed memory exceeds the budget.
func (p *pager) add(n int) {
	if p == nil {
		return
	}
	if p.res.bytes(n) > p.budget {
		p.release()
	}
}

// release gives back the pages of all the data.
func (p *pager) release() {
	if p == nil {
		return
	}
	for _, d := range p.data {
		releasePages(d)
	}
	p.res.reset()
}

// close releases the pages and the pager's resources.
func (p *pager) close() {
	if p == nil {
		return
	}
	p.release()
	p.res.close()
	for _, f := range p.files {
		if f != nil {
			f.f.Close()
		}
	}
	p.files = nil
}

// scan calls fn on successive chunks of a, whole rows of width values
// each, and releases the pages read as it goes: a streaming pass over
// data larger than memory. fn returns false to stop.
func (p *pager) scan(a []float32, width int, fn func(off int, chunk []float32) bool) {
	chunk := scanChunk
	if p != nil {
		chunk = min(chunk, p.budget)
	}
	rows := max(1, (chunk/4)/max(width, 1))
	step := rows * max(width, 1)
	for off := 0; off < len(a); off += step {
		c := a[off:min(off+step, len(a))]
		if !fn(off, c) {
			return
		}
		p.add(4 * len(c))
	}
}
