package npy

import "syscall"

// release drops the resident pages of the read-only mapping mem (errors
// are ignored: the advice only bounds memory).
func release(mem []byte) { _ = syscall.Madvise(mem, syscall.MADV_DONTNEED) }
