package bigmem

// Threshold is the size in bytes from which Float32s asks for huge pages:
// 4 MiB, two 2 MiB pages. Smaller arrays stay in ordinary pages.
const Threshold = 4 << 20

// Float32s returns a zeroed slice of n float32 values (n ≥ 0). When it is
// at least Threshold bytes, on Linux, it first advises the kernel
// (madvise MADV_HUGEPAGE) to back the 2 MiB-aligned part of it with
// transparent huge pages when the memory is touched, having given back
// to the kernel the pages of it the Go heap had touched before (they hold
// zeros either way). The advice may be declined (huge pages disabled,
// memory fragmented) without any other effect: the slice is the same as
// make([]float32, n) in every other way, and is garbage-collected as
// usual.
func Float32s(n int) []float32 {
	s := make([]float32, n)
	if n*4 >= Threshold {
		advise(s)
	}
	return s
}
