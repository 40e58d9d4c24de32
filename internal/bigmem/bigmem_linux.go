package bigmem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// advise asks for huge pages for the whole 2 MiB-aligned pages inside s,
// which make has just returned, all zero. Memory the Go heap reuses has
// been touched before, and touched 4 KiB pages stay 4 KiB pages whatever
// the advice: those are first given back to the kernel (MADV_DONTNEED,
// as the Go runtime does with free memory), which reads them back as
// zeros, what they hold, so that the next touch faults in a huge page.
// An error only means no huge pages.
func advise(s []float32) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*4)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := int((hugePage - start%hugePage) % hugePage)
	hi := lo + (len(b)-lo)/hugePage*hugePage
	if lo >= len(b) || hi <= lo {
		return
	}
	if unix.Madvise(b[lo:hi], unix.MADV_HUGEPAGE) == nil {
		_ = unix.Madvise(b[lo:hi], unix.MADV_DONTNEED)
	}
}
