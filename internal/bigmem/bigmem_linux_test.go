package bigmem

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// TestFloat32sHugePages checks, where the kernel offers transparent huge
// pages on request, that an array from Float32s is backed by some once
// touched (the AnonHugePages of its mapping in /proc/self/smaps).
func TestFloat32sHugePages(t *testing.T) {
	needTHP(t)
	s := Float32s(8 * hugePage / 4)
	for i := range s {
		s[i] = float32(i)
	}
	kb, err := anonHugeKB(uintptr(unsafe.Pointer(&s[len(s)/2])))
	if err != nil {
		t.Fatal(err)
	}
	if kb == 0 {
		t.Errorf("16 MiB from Float32s: no huge pages in its mapping")
	}
	if s[len(s)-1] != float32(len(s)-1) || len(s) != 8*hugePage/4 {
		t.Error("Float32s's slice does not hold what was written")
	}
	if z := Float32s(0); len(z) != 0 {
		t.Errorf("Float32s(0) has %d values", len(z))
	}
}

// anonHugeKB returns the AnonHugePages (kB) of the mapping holding addr.
func anonHugeKB(addr uintptr) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") && !strings.HasSuffix(strings.Fields(line)[0], ":") {
			in = lo <= addr && addr < hi
			continue
		}
		var kb int
		if in {
			if n, _ := fmt.Sscanf(line, "AnonHugePages: %d kB", &kb); n == 1 {
				return kb, nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no mapping holds %#x in /proc/self/smaps", addr)
}

// TestFloat32sReusedMemory checks the case the Go heap makes common: an
// array allocated where a freed one had been touched in 4 KiB pages is
// still backed by huge pages, and reads as zeros.
func TestFloat32sReusedMemory(t *testing.T) {
	needTHP(t)
	const n = 16 * hugePage / 4
	addr := touchAndFree(n)
	s := Float32s(n)
	mid := uintptr(unsafe.Pointer(&s[n/2]))
	for i := range s {
		if s[i] != 0 {
			t.Fatalf("value %d is %v, want 0", i, s[i])
		}
		s[i] = 2
	}
	kb, err := anonHugeKB(mid)
	if err != nil {
		t.Fatal(err)
	}
	if kb == 0 {
		t.Errorf("32 MiB from Float32s (freed array at %#x, new at %#x): no huge pages in its mapping", addr, mid)
	}
}

// touchAndFree allocates n values, writes them all (in 4 KiB pages, not
// advised), frees them and collects the garbage, so that the Go heap has
// touched memory to reuse; it returns the address of the middle value.
func touchAndFree(n int) uintptr {
	old := make([]float32, n)
	for i := range old {
		old[i] = 1
	}
	addr := uintptr(unsafe.Pointer(&old[n/2]))
	old = nil
	runtime.GC()
	runtime.GC()
	return addr
}

// needTHP skips t where the kernel offers no transparent huge pages:
// there is nothing to ask for.
func needTHP(t *testing.T) {
	t.Helper()
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off or unknown here (%q, %v): nothing to ask for", strings.TrimSpace(string(mode)), err)
	}
}

// TestArenaHugePages checks that an Arena's block, made where a freed
// array had been touched in 4 KiB pages, is backed by huge pages once its
// slices are written, and reads as zeros.
func TestArenaHugePages(t *testing.T) {
	needTHP(t)
	const n = 16 * hugePage / 4
	touchAndFree(n)
	a := NewArena(n)
	var mid uintptr
	for range 8 {
		s := a.Float32s(hugePage / 4)
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("value %d is %v, want 0", i, s[i])
			}
			s[i] = 2
		}
		mid = uintptr(unsafe.Pointer(&s[len(s)/2]))
	}
	kb, err := anonHugeKB(mid)
	if err != nil {
		t.Fatal(err)
	}
	if kb < 8*hugePage/1024/2 {
		t.Errorf("16 MiB written in an arena: %d kB of its mapping in huge pages, want at least half", kb)
	}
}
