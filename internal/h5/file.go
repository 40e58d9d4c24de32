package h5

import (
	"bytes"
	"fmt"
	"strings"
)

// File is an HDF5 file held in memory, opened read-only by Open. Paths
// name objects from the root with '/' separators
// ("model_weights/dense_1/dense_1/kernel:0"); a leading '/' is optional.
// A File is not safe for concurrent use: it caches what it has parsed.
type File struct {
	b []byte // the image from the superblock on: addresses index it
	// userblock is the number of bytes before the superblock (a user
	// block: 0, 512, 1024, ...).
	userblock int
	so, sl    int    // sizes of offsets and lengths (§II.A)
	root      uint64 // root group object header address

	objs   map[uint64]*object
	groups map[uint64]map[string]link
	attrs  map[uint64]map[string]attr
	gheaps map[uint64]map[uint64][]byte
	fheaps map[uint64]*fheap

	// work counts parsing steps (messages, links, attributes, B-tree
	// entries, heap objects, chunks) and decoded the bytes of dataset
	// values, over the life of the File; spend refuses to go beyond
	// workLimit and decodeLimit, so shared or cyclic structures cannot
	// make work quadratic in the file size.
	work, decoded uint64

	// strict makes guard let panics through: tests set it to prove that
	// no input reaches the recover.
	strict bool
}

// guard is deferred by every exported method: it turns a panic into an
// error wrapping ErrFormat. It is defence in depth only: every parser
// bounds-checks, and the fuzz tests run with strict set so that a panic
// fails them.
func (f *File) guard(err *error) {
	if f.strict {
		return
	}
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: internal error: %v", ErrFormat, r)
	}
}

var errClosed = fmt.Errorf("%w: file is closed", ErrFormat)

// workLimit is the number of parsing steps a file of n bytes may take:
// every step consumes at least 4 bytes of a valid file, so twice the size
// is far more than a real file needs even when read several times.
func workLimit(n int) uint64 { return 2*uint64(n) + 1<<16 }

// decodeLimit is the number of bytes of dataset values a File of n bytes
// may decode, across all reads: four times the largest dataset it may
// declare, plus twice its size.
func decodeLimit(n int) uint64 { return 4*dataLimit(n) + 2*uint64(n) }

var errWork = fmt.Errorf("%w: the file takes more work to read than its size allows (shared or cyclic structures)", ErrFormat)

// spend counts steps parsing steps and bytes decoded bytes.
func (f *File) spend(steps, bytes uint64) error {
	f.work += steps
	f.decoded += bytes
	if f.work > workLimit(len(f.b)) {
		return errWork
	}
	if f.decoded > decodeLimit(len(f.b)) {
		return fmt.Errorf("%w: more than %d bytes of values decoded from a %d-byte file", ErrFormat, decodeLimit(len(f.b)), len(f.b))
	}
	return nil
}

// Limits of path resolution.
const (
	maxPathDepth = 64 // components of a path, and nesting of groups
	maxSoftLinks = 16 // soft links followed while resolving one path (as libhdf5)
)

// Open parses the HDF5 file whose bytes are image. It keeps a reference to
// image, which the caller must not change while the file is open.
//
// Open walks the whole group tree once and refuses, with an error wrapping
// ErrExternal that names the object, a file that refers outside itself:
// external links, user-defined links, soft links that do not resolve
// inside the file, datasets with external storage or a virtual layout.
// Bytes that are not HDF5, or a truncated, corrupt or cyclic file, give an
// error wrapping ErrFormat; features Keras files do not use may give
// ErrUnsupported.
func Open(image []byte) (*File, error) { return open(image, false) }

// open is Open; strict lets panics through (for tests).
func open(image []byte, strict bool) (f *File, err error) {
	defer func() {
		if f == nil || err != nil {
			f = nil
		}
	}()
	defer (&File{strict: strict}).guard(&err)
	base := -1
	for off := 0; off+len(signature) <= len(image); {
		if bytes.Equal(image[off:off+len(signature)], signature) {
			base = off
			break
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	if base < 0 {
		return nil, fmt.Errorf("%w: no HDF5 signature", ErrFormat)
	}
	f = &File{
		b:         image[base:],
		userblock: base,
		objs:      map[uint64]*object{},
		groups:    map[uint64]map[string]link{},
		attrs:     map[uint64]map[string]attr{},
		gheaps:    map[uint64]map[uint64][]byte{},
		fheaps:    map[uint64]*fheap{},
		strict:    strict,
	}
	if err := f.superblock(); err != nil {
		return nil, err
	}
	if o, err := f.object(f.root); err != nil {
		return nil, fmt.Errorf("root group: %w", err)
	} else if !o.isGroup() {
		return nil, fmt.Errorf("%w: root object is not a group", ErrFormat)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// check walks every group once and every link in it, and refuses links
// and datasets that reach outside the file.
func (f *File) check() error {
	type item struct {
		addr  uint64
		path  string
		depth int
	}
	seen := map[uint64]bool{f.root: true}
	queue := []item{{f.root, "/", 0}}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if g.depth > maxPathDepth {
			return fmt.Errorf("%w: %s: groups nest deeper than %d", ErrFormat, g.path, maxPathDepth)
		}
		ls, err := f.links(g.addr)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.path, err)
		}
		for _, name := range sortedNames(ls) {
			l := ls[name]
			p := join(g.path, name)
			switch l.typ {
			case linkHard:
			case linkSoft:
				if _, err := f.resolveFrom(g.addr, l.target, new(int), 0); err != nil {
					return fmt.Errorf("%w: soft link %s -> %q does not resolve inside the file: %w", ErrExternal, p, printable(l.target), err)
				}
				continue
			case linkExternal:
				return fmt.Errorf("%w: %s is an external link to %s", ErrExternal, p, l.target)
			default:
				return fmt.Errorf("%w: %s is a user-defined link (type %d)", ErrExternal, p, l.typ)
			}
			if seen[l.addr] {
				continue // a second hard link to an object already checked
			}
			seen[l.addr] = true
			o, err := f.object(l.addr)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			switch {
			case o.isGroup():
				queue = append(queue, item{l.addr, p, g.depth + 1})
			case o.isDataset():
				if err := f.checkDataset(o, p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// join appends name to a group path.
func join(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// clean returns path with exactly one leading '/'.
func clean(path string) string {
	return "/" + strings.TrimLeft(path, "/")
}

// resolve returns the object header address of path.
func (f *File) resolve(path string) (uint64, error) {
	a, err := f.resolveFrom(f.root, path, new(int), 0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", clean(path), err)
	}
	return a, nil
}

// resolveFrom resolves path relative to the group at start (from the root
// if path is absolute), following hard links and at most maxSoftLinks soft
// links in all (counted in *soft).
func (f *File) resolveFrom(start uint64, path string, soft *int, depth int) (uint64, error) {
	if depth > maxSoftLinks {
		return 0, fmt.Errorf("%w: soft links nest deeper than %d", ErrFormat, maxSoftLinks)
	}
	cur := start
	if strings.HasPrefix(path, "/") {
		cur = f.root
	}
	parts := strings.Split(path, "/")
	if len(parts) > maxPathDepth+2 {
		return 0, fmt.Errorf("%w: path has more than %d components", ErrFormat, maxPathDepth)
	}
	for _, name := range parts {
		if name == "" || name == "." {
			continue
		}
		o, err := f.object(cur)
		if err != nil {
			return 0, err
		}
		if !o.isGroup() {
			return 0, fmt.Errorf("%w: %q is inside a dataset", ErrNotFound, name)
		}
		ls, err := f.links(cur)
		if err != nil {
			return 0, err
		}
		l, ok := ls[name]
		if !ok {
			return 0, fmt.Errorf("%w: no %q", ErrNotFound, printable(name))
		}
		switch l.typ {
		case linkHard:
			cur = l.addr
		case linkSoft:
			if *soft++; *soft > maxSoftLinks {
				return 0, fmt.Errorf("%w: more than %d soft links (a loop?) at %q", ErrFormat, maxSoftLinks, printable(name))
			}
			if cur, err = f.resolveFrom(cur, l.target, soft, depth+1); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("%w: %q is an external or user-defined link", ErrExternal, printable(name))
		}
	}
	return cur, nil
}

// objectAt resolves path and parses its object header.
func (f *File) objectAt(path string) (*object, error) {
	a, err := f.resolve(path)
	if err != nil {
		return nil, err
	}
	o, err := f.object(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clean(path), err)
	}
	return o, nil
}

// Close releases the file's caches. Closing twice is a no-op.
func (f *File) Close() error {
	if f != nil {
		*f = File{}
	}
	return nil
}

// Kind reports what is at path: Group, Dataset, or None when there is
// nothing (or something else, or something unreadable) there.
func (f *File) Kind(path string) (k Kind) {
	if f == nil || f.b == nil {
		return None
	}
	var err error
	defer func() {
		if err != nil {
			k = None
		}
	}()
	defer f.guard(&err)
	o, err := f.objectAt(path)
	switch {
	case err != nil:
		return None
	case o.isGroup():
		return Group
	case o.isDataset():
		return Dataset
	}
	return None
}

// Children returns the names of the links in the group at path, sorted by
// name as byte strings (so "10" sorts before "2").
func (f *File) Children(path string) (_ []string, err error) {
	if f == nil || f.b == nil {
		return nil, errClosed
	}
	defer f.guard(&err)
	a, err := f.resolve(path)
	if err != nil {
		return nil, err
	}
	ls, err := f.links(a)
	if err != nil {
		return nil, fmt.Errorf("list group %s: %w", clean(path), err)
	}
	return sortedNames(ls), nil
}
