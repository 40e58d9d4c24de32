package bigmem

import (
	"testing"
	"unsafe"
)

// TestArena checks what an Arena hands out: zeroed slices of the length
// and capacity asked for, on 64-byte boundaries, not overlapping, from
// its block while it has room (Left shrinks by the rounded length) and
// from make after; and that a small arena is nil and a nil one allocates.
func TestArena(t *testing.T) {
	if a := NewArena(Threshold/4 - 1); a != nil {
		t.Errorf("NewArena below Threshold: %v, want nil", a)
	}
	var none *Arena
	if s := none.Float32s(5); len(s) != 5 || cap(s) != 5 || none.Left() != 0 {
		t.Errorf("nil Arena: len %d cap %d Left %d", len(s), cap(s), none.Left())
	}
	a := NewArena(Threshold / 4)
	if a == nil {
		t.Fatal("NewArena(Threshold/4) is nil")
	}
	if got := a.Left(); got != Threshold/4 {
		t.Errorf("Left = %d, want %d", got, Threshold/4)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(a.free)))
	end := base + uintptr(a.Left())*4
	var got [][]float32
	for i, n := range []int{1, 17, 0, 1000, 16, 3} {
		left := a.Left()
		s := a.Float32s(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("slice %d: len %d cap %d, want %d", i, len(s), cap(s), n)
		}
		if want := left - (n+15)/16*16; a.Left() != want {
			t.Errorf("slice %d of %d: Left %d → %d, want %d", i, n, left, a.Left(), want)
		}
		if n == 0 {
			continue
		}
		p := uintptr(unsafe.Pointer(&s[0]))
		if p%64 != 0 || p < base || p >= end {
			t.Errorf("slice %d at %#x: want a 64-byte boundary in [%#x, %#x)", i, p, base, end)
		}
		got = append(got, s)
	}
	for i, s := range got {
		for j := range s {
			if s[j] != 0 {
				t.Fatalf("slice %d value %d is %v, want 0", i, j, s[j])
			}
			s[j] = float32(i + 1)
		}
	}
	for i, s := range got {
		for j := range s {
			if s[j] != float32(i+1) {
				t.Fatalf("slice %d value %d is %v: slices overlap", i, j, s[j])
			}
		}
	}
	big := a.Float32s(a.Left() + 1)
	if p := uintptr(unsafe.Pointer(&big[0])); p >= base && p < end {
		t.Error("a slice longer than the room left came from the block")
	}
	rest := a.Float32s(a.Left())
	if a.Left() != 0 || len(rest) == 0 {
		t.Errorf("taking the room left: Left %d, len %d", a.Left(), len(rest))
	}
	if s := a.Float32s(1); len(s) != 1 {
		t.Error("a full arena returned no slice")
	}
}
