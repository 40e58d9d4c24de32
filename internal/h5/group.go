package h5

import (
	"fmt"
	"sort"
	"strings"
)

// Link types (§IV.A.2.g).
const (
	linkHard     = 0
	linkSoft     = 1
	linkExternal = 64
)

// link is one entry of a group.
type link struct {
	typ    int
	addr   uint64 // hard links
	target string // soft links: a path; others: a description
}

// maxLinks bounds the links of one group.
const maxLinks = 1 << 20

// links returns the links of the group whose object header is at a, by
// name, cached. It does not follow them.
func (f *File) links(a uint64) (map[string]link, error) {
	if ls, ok := f.groups[a]; ok {
		return ls, nil
	}
	o, err := f.object(a)
	if err != nil {
		return nil, err
	}
	if !o.isGroup() {
		return nil, fmt.Errorf("%w: not a group", ErrType)
	}
	ls := map[string]link{}
	add := func(name string, l link) error {
		if err := f.spend(1, 0); err != nil {
			return err
		}
		if len(ls) >= maxLinks {
			return fmt.Errorf("%w: group at %d has more than %d links", ErrFormat, a, maxLinks)
		}
		ls[name] = l
		return nil
	}
	if m := o.find(msgSymbolTable); m != nil {
		if err := f.symbolTable(m, add); err != nil {
			return nil, err
		}
	}
	for _, m := range o.msgs {
		if m.typ != msgLink {
			continue
		}
		name, l, err := f.parseLink(m.data)
		if err != nil {
			return nil, err
		}
		if err := add(name, l); err != nil {
			return nil, err
		}
	}
	if m := o.find(msgLinkInfo); m != nil {
		if err := f.denseLinks(m, add); err != nil {
			return nil, err
		}
	}
	f.groups[a] = ls
	return ls, nil
}

// symbolTable reads an old-style group (§IV.A.2.r symbol table message):
// a v1 B-tree of symbol table nodes (§III.B) naming links in a local heap.
func (f *File) symbolTable(m *message, add func(string, link) error) error {
	c := &cursor{b: m.data}
	bt, hp := f.addr(c), f.addr(c)
	if c.bad {
		return fmt.Errorf("%w: short symbol table message", ErrFormat)
	}
	heap, err := f.localHeap(hp)
	if err != nil {
		return err
	}
	seen := map[uint64]bool{}
	return f.btree1(bt, 0, 0, func(_ []byte, snod uint64) error {
		if seen[snod] {
			return fmt.Errorf("%w: symbol table node at %d listed twice", ErrFormat, snod)
		}
		seen[snod] = true
		c, err := f.from(snod, "symbol table node")
		if err != nil {
			return err
		}
		if !c.sig("SNOD") || c.u8() != 1 {
			return fmt.Errorf("%w: no symbol table node at %d", ErrFormat, snod)
		}
		c.skip(1)
		n := int(c.u16())
		if n*(2*f.so+24) > c.left() {
			return fmt.Errorf("%w: symbol table node at %d claims %d entries", ErrFormat, snod, n)
		}
		for i := 0; i < n; i++ {
			// Symbol table entry (§III.C).
			nameOff, obj := f.addr(c), f.addr(c)
			cache := c.u32()
			c.skip(4)
			scratch := c.bytes(16)
			if c.bad {
				return fmt.Errorf("%w: truncated symbol table node at %d", ErrFormat, snod)
			}
			name, err := heapString(heap, nameOff)
			if err != nil {
				return err
			}
			l := link{typ: linkHard, addr: obj}
			if cache == 2 { // soft link: scratch holds the value's heap offset
				l.typ = linkSoft
				if l.target, err = heapString(heap, uint64(leUint(scratch[:4]))); err != nil {
					return err
				}
			}
			if err := add(name, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// parseLink decodes a link message (§IV.A.2.g).
func (f *File) parseLink(d []byte) (string, link, error) {
	c := &cursor{b: d}
	var l link
	if c.u8() != 1 {
		return "", l, fmt.Errorf("%w: link message version", ErrFormat)
	}
	flags := c.u8()
	if flags&0x08 != 0 {
		l.typ = int(c.u8())
	}
	if flags&0x04 != 0 {
		c.skip(8) // creation order
	}
	if flags&0x10 != 0 {
		c.skip(1) // character set
	}
	n := c.uint(1 << (flags & 3))
	if n > uint64(c.left()) || n == 0 {
		return "", l, fmt.Errorf("%w: link name of %d bytes overruns its message", ErrFormat, n)
	}
	name := string(c.bytes(int(n)))
	switch l.typ {
	case linkHard:
		l.addr = f.addr(c)
	default:
		v := c.bytes(int(c.u16()))
		l.target = string(v)
		if l.typ == linkExternal && len(v) > 1 {
			// Flags byte, file name, NUL, object path, NUL.
			parts := strings.SplitN(string(v[1:]), "\x00", 3)
			l.target = fmt.Sprintf("%q", printable(parts[0]))
			if len(parts) > 1 {
				l.target += fmt.Sprintf(" (object %q)", printable(parts[1]))
			}
		}
	}
	if c.bad {
		return "", l, fmt.Errorf("%w: link %q: truncated message", ErrFormat, name)
	}
	return name, l, nil
}

// printable shortens s for an error message (which quotes it with %q).
func printable(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// denseLinks reads links in dense storage (§IV.A.2.c link info message):
// link messages in a fractal heap indexed by a v2 B-tree of type 5.
func (f *File) denseLinks(m *message, add func(string, link) error) error {
	c := &cursor{b: m.data}
	if c.u8() != 0 {
		return fmt.Errorf("%w: link info message version", ErrFormat)
	}
	if c.u8()&1 != 0 {
		c.skip(8) // maximum creation index
	}
	heapAddr, nameIdx := f.addr(c), f.addr(c)
	if c.bad {
		return fmt.Errorf("%w: short link info message", ErrFormat)
	}
	if f.undef(heapAddr) {
		return nil // compact storage: link messages in the header
	}
	h, err := f.fractalHeap(heapAddr)
	if err != nil {
		return err
	}
	return f.btree2(nameIdx, 5, func(rec []byte) error {
		if len(rec) < 5 {
			return fmt.Errorf("%w: short link name record", ErrFormat)
		}
		d, err := h.get(rec[4:]) // hash, heap ID
		if err != nil {
			return err
		}
		name, l, err := f.parseLink(d)
		if err != nil {
			return err
		}
		return add(name, l)
	})
}

// sortedNames returns the keys of m sorted as byte strings.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
