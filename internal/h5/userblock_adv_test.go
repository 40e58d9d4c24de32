package h5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// Crafted user-block files: a superblock after a user block whose base
// address lies, whose end-of-file address overflows or is short, a
// signature at 512 before garbage, a signature at 0 and at 512. Each must
// be refused with ErrFormat or ErrUnsupported (never a panic: strict), or
// opened and read whole when it is a valid file.
func TestAdvUserBlockCrafted(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v0, v3 := read("v0_userblock512.h5"), read("v3_userblock1024.h5")
	// Field offsets from the superblock's start (§II.A): v0 base address
	// 24, end of file 40, root object header 64; v3 base 12, end of file
	// 28, root 36.
	put := func(b []byte, at int, v uint64) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint64(c[at:], v)
		return c
	}
	type tc struct {
		name string
		b    []byte
		ok   bool
	}
	var cases []tc
	for _, f := range []struct {
		name          string
		b             []byte
		ub, base, eof int
		root          int
	}{{"v0", v0, 512, 24, 40, 64}, {"v3", v3, 1024, 12, 28, 36}} {
		sb := f.ub
		size := uint64(len(f.b))
		cases = append(cases,
			tc{f.name + " as written", f.b, true},
			tc{f.name + " base address 0", put(f.b, sb+f.base, 0), false},
			tc{f.name + " base address all ones (undefined)", put(f.b, sb+f.base, ^uint64(0)), false},
			tc{f.name + " base address 2^63", put(f.b, sb+f.base, 1<<63), false},
			tc{f.name + " base address the block doubled", put(f.b, sb+f.base, uint64(2*f.ub)), false},
			tc{f.name + " end of file all ones", put(f.b, sb+f.eof, ^uint64(0)), false},
			tc{f.name + " end of file one past the size", put(f.b, sb+f.eof, size+1), false},
			tc{f.name + " end of file 2^64-userblock (wraps if added)", put(f.b, sb+f.eof, -uint64(f.ub)), false},
			tc{f.name + " end of file without the block", put(f.b, sb+f.eof, size-uint64(f.ub)), true},
			tc{f.name + " root all ones", put(f.b, sb+f.root, ^uint64(0)), false},
			tc{f.name + " root in the user block (wraps)", put(f.b, sb+f.root, -uint64(f.ub)), false},
			tc{f.name + " root past the end", put(f.b, sb+f.root, size-uint64(f.ub)), false},
			tc{f.name + " truncated by one byte", f.b[:len(f.b)-1], false},
			tc{f.name + " truncated in the superblock", f.b[:sb+20], false},
			tc{f.name + " signature only", f.b[:sb+8], false},
		)
		// A garbage superblock after the signature.
		g := bytes.Clone(f.b[:sb+256])
		for i := sb + 8; i < len(g); i++ {
			g[i] = byte(i*131 + 7)
		}
		cases = append(cases, tc{f.name + " garbage superblock", g, false})
		// A (garbage) signature at 0 as well: libhdf5 takes the first.
		z := bytes.Clone(f.b)
		copy(z, signature)
		cases = append(cases, tc{f.name + " signature at 0 too", z, false})
	}
	// The block grown to 4096 bytes (base address and end of file
	// moved): a valid file.
	big := append(make([]byte, 4096-512), v0...)
	big = put(big, 4096+24, 4096)
	big = put(big, 4096+40, uint64(len(big)))
	cases = append(cases, tc{"v0 with a 4096-byte block", big, true})
	for _, c := range cases {
		f, err := open(c.b, true)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			fuzzWalk(f)
			continue
		}
		if err == nil {
			fuzzWalk(f)
			t.Errorf("%s: opened, want an error", c.name)
			continue
		}
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrFormat or ErrUnsupported", c.name, err)
		}
	}
}
