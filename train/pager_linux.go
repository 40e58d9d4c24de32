//go:build linux

package train

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// releasePages tells the kernel that the pages holding a, which must lie
// in a read-only file mapping (checkMapped), are not needed
// (madvise MADV_DONTNEED): they leave the process's resident set, stay in
// the page cache while memory allows, and are mapped again from it (or
// read again from the file) when next touched. Errors are ignored: the
// advice only bounds memory.
func releasePages(a []float32) {
	if len(a) == 0 {
		return
	}
	// Whole pages, rounded outwards: the mapping is made of whole pages.
	ps := uintptr(os.Getpagesize())
	p := unsafe.Pointer(&a[0])
	lo := uintptr(p)
	hi := lo + uintptr(len(a))*4
	head := lo & (ps - 1)
	size := (hi - (lo - head) + ps - 1) &^ (ps - 1)
	b := unsafe.Slice((*byte)(unsafe.Add(p, -int(head))), size)
	_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
}

// checkMapped returns an error unless a lies inside one read-only mapping
// of a file, as /proc/self/maps lists them: MADV_DONTNEED on Go memory
// (an anonymous mapping) would zero it. When the mapped file can be
// opened again and is the same file (device and inode), it also returns
// it, with the offset of a in it, for reading rows without page faults.
func checkMapped(a []float32) (*rowFile, error) {
	lo := uint64(uintptr(unsafe.Pointer(&a[0])))
	hi := lo + uint64(len(a))*4
	fields, st, en, err := findMapping(lo)
	if err != nil {
		return nil, err
	}
	switch {
	case hi > en:
		return nil, errors.New("is not inside one memory mapping")
	case fields[4] == "0":
		return nil, errors.New("is not a file mapping (it is in Go or anonymous memory)")
	case strings.Contains(fields[1], "w"):
		return nil, errors.New("is in a writable mapping")
	}
	var rf *rowFile
	if len(fields) >= 6 {
		off, err := strconv.ParseUint(fields[2], 16, 64)
		if err == nil {
			rf = openRowFile(strings.Join(fields[5:], " "), fields[3], fields[4], int64(off+lo-st))
		}
	}
	return rf, nil
}

// findMapping returns the line of /proc/self/maps (start-end perms offset
// major:minor inode [path], split in fields, at least 5) of the mapping
// holding addr, with its start and end.
func findMapping(addr uint64) (fields []string, start, end uint64, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("cannot be checked: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		st, err1 := strconv.ParseUint(lo, 16, 64)
		en, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && addr >= st && addr < en {
			return fields, st, en, nil
		}
	}
	if err := s.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("cannot be checked: %w", err)
	}
	return nil, 0, 0, errors.New("is not in any memory mapping")
}

// mappedPath returns the path of the file mapped at addr, as
// /proc/self/maps lists it, or "".
func mappedPath(addr uintptr) string {
	fields, _, _, err := findMapping(uint64(addr))
	if err != nil || len(fields) < 6 {
		return ""
	}
	return strings.Join(fields[5:], " ")
}

// openRowFile opens the file at path and returns it if it is the mapped
// one (device major:minor and inode as /proc/self/maps gives them), else
// nil.
func openRowFile(path, dev, inode string, off int64) *rowFile {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	var st syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &st) == nil {
		d := uint64(st.Dev)
		major := (d>>8)&0xfff | (d>>32)&^0xfff
		minor := d&0xff | (d>>12)&^0xff
		if fmt.Sprintf("%02x:%02x", major, minor) == dev && strconv.FormatUint(st.Ino, 10) == inode {
			return &rowFile{f: f, off: off}
		}
	}
	f.Close()
	return nil
}

// resident measures the process's resident file-backed memory: the
// "shared" pages of /proc/self/statm (file pages and shared memory),
// read through a file kept open. If it cannot be read it counts the
// bytes read since the last release instead.
type resident struct {
	f    *os.File
	read int
	buf  [128]byte
}

func (r *resident) open() {
	r.f, _ = os.Open("/proc/self/statm")
}

func (r *resident) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

func (r *resident) reset() { r.read = 0 }

// bytes notes n more bytes read and returns the resident file-backed
// memory.
func (r *resident) bytes(n int) int {
	r.read += n
	if r.f == nil {
		return r.read
	}
	k, err := r.f.ReadAt(r.buf[:], 0)
	if k == 0 && err != nil {
		return r.read
	}
	// size resident shared text lib data dt
	f := strings.Fields(string(r.buf[:k]))
	if len(f) < 3 {
		return r.read
	}
	pages, err := strconv.Atoi(f[2])
	if err != nil {
		return r.read
	}
	return pages * os.Getpagesize()
}
