package h5

import (
	"bytes"
	"fmt"
)

// attr is a parsed attribute message (§IV.A.2.m).
type attr struct {
	name string
	dt   dtype
	ds   dataspace
	data []byte
}

// maxAttrs bounds the attributes of one object.
const maxAttrs = 1 << 16

// attributes returns the attributes of o by name, cached: attribute
// messages in the header and, with an attribute info message
// (§IV.A.2.v), dense storage in a fractal heap indexed by a v2 B-tree of
// type 8.
func (f *File) attributes(o *object) (map[string]attr, error) {
	if as, ok := f.attrs[o.addr]; ok {
		return as, nil
	}
	as := map[string]attr{}
	add := func(d []byte, shared bool) error {
		if err := f.spend(1, 0); err != nil {
			return err
		}
		if len(as) >= maxAttrs {
			return fmt.Errorf("%w: more than %d attributes", ErrFormat, maxAttrs)
		}
		if shared {
			return fmt.Errorf("%w: shared attribute message", ErrUnsupported)
		}
		a, err := f.parseAttr(d)
		if err != nil {
			return err
		}
		as[a.name] = a
		return nil
	}
	for _, m := range o.msgs {
		switch m.typ {
		case msgAttribute:
			if err := add(m.data, m.flags&0x02 != 0); err != nil {
				return nil, err
			}
		case msgAttrInfo:
			c := &cursor{b: m.data}
			if c.u8() != 0 {
				return nil, fmt.Errorf("%w: attribute info message version", ErrFormat)
			}
			if c.u8()&1 != 0 {
				c.skip(2) // maximum creation index
			}
			heapAddr, nameIdx := f.addr(c), f.addr(c)
			if c.bad {
				return nil, fmt.Errorf("%w: short attribute info message", ErrFormat)
			}
			if f.undef(heapAddr) {
				continue
			}
			h, err := f.fractalHeap(heapAddr)
			if err != nil {
				return nil, err
			}
			err = f.btree2(nameIdx, 8, func(rec []byte) error {
				// Heap ID (8), message flags (1), creation order, hash.
				if len(rec) < 9 {
					return fmt.Errorf("%w: short attribute name record", ErrFormat)
				}
				d, err := h.get(rec[:8])
				if err != nil {
					return err
				}
				return add(d, rec[8]&0x02 != 0)
			})
			if err != nil {
				return nil, err
			}
		}
	}
	f.attrs[o.addr] = as
	return as, nil
}

// parseAttr decodes an attribute message, versions 1 to 3.
func (f *File) parseAttr(d []byte) (attr, error) {
	var a attr
	c := &cursor{b: d}
	v := c.u8()
	flags := c.u8()
	nameSize, dtSize, dsSize := int(c.u16()), int(c.u16()), int(c.u16())
	pad := func(n int) int { return n }
	switch v {
	case 1:
		pad = pad8
	case 2:
	case 3:
		c.skip(1) // name character set
	default:
		return a, fmt.Errorf("%w: attribute message version %d", ErrFormat, v)
	}
	if v > 1 && flags&3 != 0 {
		return a, fmt.Errorf("%w: attribute with a shared datatype or dataspace", ErrUnsupported)
	}
	name := c.bytes(pad(nameSize))
	dt := c.bytes(pad(dtSize))
	ds := c.bytes(pad(dsSize))
	if c.bad || nameSize > len(name) || dtSize > len(dt) || dsSize > len(ds) {
		return a, fmt.Errorf("%w: attribute message overruns", ErrFormat)
	}
	a.name = string(bytes.TrimRight(name[:nameSize], "\x00"))
	var err error
	if a.dt, err = parseDtype(dt[:dtSize]); err != nil {
		return a, fmt.Errorf("attribute %q: %w", a.name, err)
	}
	if a.ds, err = f.parseDataspace(ds[:dsSize]); err != nil {
		return a, fmt.Errorf("attribute %q: %w", a.name, err)
	}
	a.data = d[c.p:]
	return a, nil
}

// info describes a as Attr does.
func (a attr) info() AttrInfo {
	info := AttrInfo{Class: a.dt.class, VarLen: a.dt.varLen, Shape: a.ds.ints()}
	if info.Class == String {
		info.UTF8 = a.dt.utf8
	}
	if !a.dt.varLen {
		info.Size = a.dt.size
	}
	return info
}

// Limits on attribute values.
const maxStrings = 1 << 20 // strings in one attribute

// strings decodes a string attribute: fixed-length strings lose their NUL
// (and, if so padded, space) padding; variable-length strings come from
// the global heap (§IV.A.2.d class 9, §III.E).
func (f *File) strings(a attr) ([]string, error) {
	n, err := a.ds.count(maxStrings)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	if a.dt.varLen {
		elem := uint64(4 + f.so + 4)
		if n*elem > uint64(len(a.data)) {
			return nil, fmt.Errorf("%w: %d bytes hold fewer than %d strings", ErrFormat, len(a.data), n)
		}
		total := 0
		for i := uint64(0); i < n; i++ {
			c := &cursor{b: a.data[i*elem:]}
			ln := uint64(c.u32())
			coll := f.addr(c)
			idx := uint64(c.u32())
			if ln == 0 {
				out = append(out, "")
				continue
			}
			o, err := f.globalObject(coll, idx)
			if err != nil {
				return nil, err
			}
			if ln > uint64(len(o)) {
				return nil, fmt.Errorf("%w: string %d of %d bytes in a %d-byte heap object", ErrFormat, i, ln, len(o))
			}
			// Many strings may share one heap object: bound the total.
			if total += int(ln); total > len(f.b)+1<<20 {
				return nil, fmt.Errorf("%w: strings add up to more than the file", ErrFormat)
			}
			out = append(out, string(o[:ln]))
		}
		return out, nil
	}
	size := uint64(a.dt.size)
	if n > 0 && (size == 0 || n*size > uint64(len(a.data))) {
		return nil, fmt.Errorf("%w: %d bytes hold fewer than %d strings of %d", ErrFormat, len(a.data), n, size)
	}
	for i := uint64(0); i < n; i++ {
		s := a.data[i*size : (i+1)*size]
		if j := bytes.IndexByte(s, 0); j >= 0 {
			s = s[:j]
		}
		if a.dt.pad == 2 {
			s = bytes.TrimRight(s, " ")
		}
		out = append(out, string(s))
	}
	return out, nil
}

// attr returns attribute name of the object at path.
func (f *File) attr(path, name string) (attr, error) {
	o, err := f.objectAt(path)
	if err != nil {
		return attr{}, err
	}
	as, err := f.attributes(o)
	if err != nil {
		return attr{}, fmt.Errorf("attributes of %s: %w", clean(path), err)
	}
	a, ok := as[name]
	if !ok {
		return attr{}, fmt.Errorf("%w: attribute %q of %s", ErrNotFound, printable(name), clean(path))
	}
	return a, nil
}

// AttrNames returns the names of the attributes of the object at path,
// sorted by name.
func (f *File) AttrNames(path string) (_ []string, err error) {
	if f == nil || f.b == nil {
		return nil, errClosed
	}
	defer f.guard(&err)
	o, err := f.objectAt(path)
	if err != nil {
		return nil, err
	}
	as, err := f.attributes(o)
	if err != nil {
		return nil, fmt.Errorf("attributes of %s: %w", clean(path), err)
	}
	return sortedNames(as), nil
}

// HasAttr reports whether the object at path has an attribute called name.
func (f *File) HasAttr(path, name string) bool {
	if f == nil || f.b == nil {
		return false
	}
	var err error
	func() {
		defer f.guard(&err)
		_, err = f.attr(path, name)
	}()
	return err == nil
}

// Attr describes the attribute name of the object at path.
func (f *File) Attr(path, name string) (_ AttrInfo, err error) {
	if f == nil || f.b == nil {
		return AttrInfo{}, errClosed
	}
	defer f.guard(&err)
	a, err := f.attr(path, name)
	if err != nil {
		return AttrInfo{}, err
	}
	return a.info(), nil
}

// AttrStrings returns the strings held by attribute name of the object at
// path: one for a scalar, all of them (in row-major order) for an array.
// Fixed-length and variable-length strings in ASCII or UTF-8 are read; NUL
// padding (and space padding, if the type says so) is removed. An empty
// numeric array (as Keras stores an empty weight_names) gives an empty
// slice; any other non-string attribute gives an error wrapping ErrType.
func (f *File) AttrStrings(path, name string) (_ []string, err error) {
	if f == nil || f.b == nil {
		return nil, errClosed
	}
	defer f.guard(&err)
	a, err := f.attr(path, name)
	if err != nil {
		return nil, err
	}
	n, err := a.ds.count(maxStrings)
	if err != nil {
		return nil, fmt.Errorf("attribute %q of %s: %w", name, clean(path), err)
	}
	switch {
	case a.dt.class != String && n == 0 && a.ds.shape != nil:
		return []string{}, nil
	case a.dt.class != String && n == 0 && a.ds.null:
		return []string{}, nil
	case a.dt.class != String:
		return nil, fmt.Errorf("%w: attribute %q of %s is %s, not strings", ErrType, name, clean(path), a.dt.class)
	}
	s, err := f.strings(a)
	if err != nil {
		return nil, fmt.Errorf("attribute %q of %s: %w", name, clean(path), err)
	}
	return s, nil
}

// AttrString returns the string held by a scalar (or one-element)
// string attribute.
func (f *File) AttrString(path, name string) (string, error) {
	s, err := f.AttrStrings(path, name)
	if err != nil {
		return "", err
	}
	if len(s) != 1 {
		return "", fmt.Errorf("%w: attribute %q of %s holds %d strings, want 1", ErrType, name, clean(path), len(s))
	}
	return s[0], nil
}
