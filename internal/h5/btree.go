package h5

import "fmt"

// Limits of the B-tree walkers.
const maxTreeDepth = 32 // levels of a v1 or v2 B-tree

// btree1 walks the version 1 B-tree at a (§III.A.1) of node type typ (0:
// group nodes, 1: raw data chunk nodes) and calls fn with each child
// address of a leaf node and the key before it. ndims is the number of
// chunk dimensions (type 1 only). Every node is visited once.
func (f *File) btree1(a uint64, typ byte, ndims int, fn func(key []byte, child uint64) error) error {
	seen := map[uint64]bool{}
	keySize := f.sl
	if typ == 1 {
		keySize = 8 + 8*ndims
	}
	var walk func(a uint64, depth int, wantLevel int) error
	walk = func(a uint64, depth int, wantLevel int) error {
		if depth > maxTreeDepth || seen[a] {
			return fmt.Errorf("%w: B-tree node at %d repeats or nests too deep", ErrFormat, a)
		}
		seen[a] = true
		c, err := f.from(a, "B-tree node")
		if err != nil {
			return err
		}
		if !c.sig("TREE") || c.u8() != typ {
			return fmt.Errorf("%w: no type-%d B-tree node at %d", ErrFormat, typ, a)
		}
		level := int(c.u8())
		if wantLevel >= 0 && level != wantLevel {
			return fmt.Errorf("%w: B-tree node at %d has level %d, want %d", ErrFormat, a, level, wantLevel)
		}
		n := int(c.u16())
		f.addr(c) // left sibling
		f.addr(c) // right sibling
		if n*(keySize+f.so) > c.left() {
			return fmt.Errorf("%w: B-tree node at %d claims %d entries", ErrFormat, a, n)
		}
		for i := 0; i < n; i++ {
			key := c.bytes(keySize)
			child := f.addr(c)
			if c.bad {
				return fmt.Errorf("%w: truncated B-tree node at %d", ErrFormat, a)
			}
			if err := f.spend(1, 0); err != nil {
				return err
			}
			if level > 0 {
				if err := walk(child, depth+1, level-1); err != nil {
					return err
				}
			} else if err := fn(key, child); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(a, 0, -1)
}

// btree2 walks the version 2 B-tree at a (§III.A.2) whose records must be
// of type typ and calls fn with each record. Every node is visited once.
func (f *File) btree2(a uint64, typ byte, fn func(rec []byte) error) error {
	c, err := f.from(a, "v2 B-tree header")
	if err != nil {
		return err
	}
	if !c.sig("BTHD") || c.u8() != 0 {
		return fmt.Errorf("%w: no v2 B-tree header at %d", ErrFormat, a)
	}
	if t := c.u8(); t != typ {
		return fmt.Errorf("%w: v2 B-tree at %d has type %d, want %d", ErrFormat, a, t, typ)
	}
	nodeSize := uint64(c.u32())
	recSize := int(c.u16())
	depth := int(c.u16())
	c.skip(2) // split, merge percentages
	root := f.addr(c)
	rootN := int(c.u16())
	if c.bad || recSize == 0 || nodeSize < 16 || nodeSize > uint64(len(f.b)) || depth > maxTreeDepth {
		return fmt.Errorf("%w: v2 B-tree at %d: absurd header", ErrFormat, a)
	}
	if f.undef(root) {
		return nil // empty tree
	}
	// Node geometry, as H5B2__hdr_init computes it: the maximum number
	// of records per level and the sizes of the child record counts.
	const prefix = 10 // signature, version, type, checksum
	type level struct{ maxN, cum uint64 }
	lv := make([]level, depth+1)
	lv[0].maxN = (nodeSize - prefix) / uint64(recSize)
	lv[0].cum = lv[0].maxN
	nrecSize := encSize(lv[0].maxN)
	cumSize := func(u int) int { // bytes of "total records in child" for children at level u
		if u == 0 {
			return 0
		}
		return encSize(lv[u].cum)
	}
	ptrSize := func(u int) int { // child pointer size in a node at level u
		return f.so + nrecSize + cumSize(u-1)
	}
	for u := 1; u <= depth; u++ {
		p := uint64(ptrSize(u))
		if nodeSize < prefix+p {
			return fmt.Errorf("%w: v2 B-tree at %d: nodes too small", ErrFormat, a)
		}
		lv[u].maxN = (nodeSize - prefix - p) / (uint64(recSize) + p)
		lv[u].cum = (lv[u].maxN+1)*lv[u-1].cum + lv[u].maxN
		if lv[u].cum > 1<<48 {
			return fmt.Errorf("%w: v2 B-tree at %d: too deep", ErrFormat, a)
		}
	}
	seen := map[uint64]bool{}
	var walk func(a uint64, u, n int) error
	walk = func(a uint64, u, n int) error {
		if seen[a] {
			return fmt.Errorf("%w: v2 B-tree node at %d visited twice", ErrFormat, a)
		}
		seen[a] = true
		if uint64(n) > lv[u].maxN {
			return fmt.Errorf("%w: v2 B-tree node at %d claims %d records", ErrFormat, a, n)
		}
		b, err := f.at(a, nodeSize, "v2 B-tree node")
		if err != nil {
			return err
		}
		c := &cursor{b: b}
		sig := "BTLF"
		if u > 0 {
			sig = "BTIN"
		}
		if !c.sig(sig) || c.u8() != 0 || c.u8() != typ {
			return fmt.Errorf("%w: no v2 B-tree node at %d", ErrFormat, a)
		}
		recs := c.bytes(n * recSize)
		if c.bad {
			return fmt.Errorf("%w: v2 B-tree node at %d overruns", ErrFormat, a)
		}
		for i := 0; i < n; i++ {
			if u > 0 {
				// Child i holds records before record i.
				child := f.addr(c)
				cn := int(c.uint(nrecSize))
				c.skip(cumSize(u - 1))
				if c.bad {
					return fmt.Errorf("%w: v2 B-tree node at %d overruns", ErrFormat, a)
				}
				if err := walk(child, u-1, cn); err != nil {
					return err
				}
			}
			if err := f.spend(1, 0); err != nil {
				return err
			}
			if err := fn(recs[i*recSize : (i+1)*recSize]); err != nil {
				return err
			}
		}
		if u > 0 {
			child := f.addr(c)
			cn := int(c.uint(nrecSize))
			if c.bad {
				return fmt.Errorf("%w: v2 B-tree node at %d overruns", ErrFormat, a)
			}
			return walk(child, u-1, cn)
		}
		return nil
	}
	return walk(root, depth, rootN)
}
