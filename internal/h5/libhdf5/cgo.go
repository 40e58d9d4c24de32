//go:build cgo

package libhdf5

/*
#cgo linux,amd64 CFLAGS: -I/usr/include/hdf5/serial -I/usr/lib/x86_64-linux-gnu/hdf5/serial/include
#cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5
#cgo linux,arm64 CFLAGS: -I/usr/include/hdf5/serial -I/usr/lib/aarch64-linux-gnu/hdf5/serial/include
#cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial -lhdf5
#cgo darwin CFLAGS: -I/usr/local/include -I/opt/homebrew/include
#cgo darwin LDFLAGS: -L/usr/local/lib -L/opt/homebrew/lib -lhdf5
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

// ak_quiet turns off HDF5's automatic error printing for the calling
// thread's default error stack (per thread in thread-safe builds).
static void ak_quiet(void) {
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct {
	char first[256];
	char last[256];
	int n;
} ak_errmsgs;

static herr_t ak_walk(unsigned n, const H5E_error2_t *e, void *data) {
	ak_errmsgs *m = (ak_errmsgs *)data;
	const char *d = e->desc ? e->desc : "";
	if (m->n == 0) {
		strncpy(m->first, d, sizeof m->first - 1);
	}
	strncpy(m->last, d, sizeof m->last - 1);
	m->n++;
	return 0;
}

// ak_errmsg copies the innermost and outermost descriptions on the calling
// thread's error stack and clears it.
static int ak_errmsg(char *inner, char *outer, size_t size) {
	ak_errmsgs m;
	memset(&m, 0, sizeof m);
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, ak_walk, &m);
	H5Eclear2(H5E_DEFAULT);
	strncpy(inner, m.first, size - 1);
	strncpy(outer, m.last, size - 1);
	return m.n;
}

static hid_t ak_open_image(void *buf, size_t n, const char *name) {
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return -1;
	if (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 || H5Pset_file_image(fapl, buf, n) < 0) {
		H5Pclose(fapl);
		return -1;
	}
	hid_t f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	return f;
}

static hid_t ak_create_mem(const char *name) {
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return -1;
	if (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0) {
		H5Pclose(fapl);
		return -1;
	}
	hid_t f = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
	H5Pclose(fapl);
	return f;
}

typedef struct {
	char *buf;
	size_t len, cap;
	size_t n, max;
} ak_names;

static herr_t ak_link_name(hid_t g, const char *name, const void *info, void *data) {
	ak_names *a = (ak_names *)data;
	size_t l = strlen(name) + 1;
	if (a->n >= a->max) return -1;
	if (a->len + l > a->cap) {
		size_t c = a->cap ? 2 * a->cap : 4096;
		while (c < a->len + l) c *= 2;
		if (c > ((size_t)1 << 28)) return -1;
		char *nb = realloc(a->buf, c);
		if (!nb) return -1;
		a->buf = nb;
		a->cap = c;
	}
	memcpy(a->buf + a->len, name, l);
	a->len += l;
	a->n++;
	return 0;
}

// ak_link_names lists the links of group g in name order, NUL-separated,
// in one pass. The caller frees a->buf.
static herr_t ak_link_names(hid_t g, ak_names *a) {
	hsize_t idx = 0;
	return H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, (H5L_iterate_t)ak_link_name, a);
}

static herr_t ak_count_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
	(*(int *)data)++;
	return 0;
}

static int ak_num_attrs(hid_t obj) {
	int n = 0;
	hsize_t idx = 0;
	if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, ak_count_attr, &n) < 0) return -1;
	return n;
}

// ak_read_vlen_strings reads n variable-length strings of attribute attr
// into out (n pointers, each malloc'd by HDF5, NULL for a null string).
static herr_t ak_read_vlen_strings(hid_t attr, hid_t ftype, char **out) {
	hid_t mt = H5Tcopy(H5T_C_S1);
	if (mt < 0) return -1;
	herr_t err = H5Tset_size(mt, H5T_VARIABLE);
	if (err >= 0) err = H5Tset_cset(mt, H5Tget_cset(ftype));
	if (err >= 0) err = H5Aread(attr, mt, out);
	H5Tclose(mt);
	return err;
}

static herr_t ak_reclaim_vlen(hid_t attr, hid_t ftype, char **buf) {
	hid_t space = H5Aget_space(attr);
	hid_t mt = H5Tcopy(H5T_C_S1);
	herr_t err = -1;
	if (space >= 0 && mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0) {
		err = H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf);
	}
	if (mt >= 0) H5Tclose(mt);
	if (space >= 0) H5Sclose(space);
	return err;
}

static herr_t ak_read_fixed_strings(hid_t attr, hid_t ftype, void *out) {
	hid_t mt = H5Tcopy(ftype);
	if (mt < 0) return -1;
	herr_t err = H5Aread(attr, mt, out);
	H5Tclose(mt);
	return err;
}

static hid_t ak_str_type(int vlen, size_t size, int utf8) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	herr_t err;
	if (vlen) {
		err = H5Tset_size(t, H5T_VARIABLE);
		if (err >= 0) err = H5Tset_strpad(t, H5T_STR_NULLTERM);
	} else {
		err = H5Tset_size(t, size);
		if (err >= 0) err = H5Tset_strpad(t, H5T_STR_NULLPAD);
	}
	if (err >= 0) err = H5Tset_cset(t, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
	if (err < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

static hid_t ak_lcpl(void) {
	hid_t p = H5Pcreate(H5P_LINK_CREATE);
	if (p < 0) return -1;
	if (H5Pset_create_intermediate_group(p, 1) < 0) {
		H5Pclose(p);
		return -1;
	}
	return p;
}

// ak_obj_addr returns the address of the object header of obj.
static haddr_t ak_obj_addr(hid_t obj) {
#if H5_VERSION_GE(1, 12, 0)
	H5O_info1_t info;
#else
	H5O_info_t info;
#endif
	if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) return HADDR_UNDEF;
	return info.addr;
}

static hid_t ak_f32le(void) { return H5T_IEEE_F32LE; }
static hid_t ak_f64le(void) { return H5T_IEEE_F64LE; }
static hid_t ak_native_float(void) { return H5T_NATIVE_FLOAT; }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"unsafe"
)

// imageSeq makes the in-memory file names unique: HDF5 treats two open
// core-driver files with the same name as the same file.
var imageSeq atomic.Uint64

func imageName() *C.char {
	return C.CString(fmt.Sprintf("aekit-h5-image-%d", imageSeq.Add(1)))
}

// File is an HDF5 file held in memory, opened read-only from an image by
// Open or created empty by Create. Paths name objects from the root with
// '/' separators ("model_weights/dense_1/dense_1/kernel:0"); a leading '/'
// is optional. A File is not safe for concurrent use.
type File struct {
	id       C.hid_t
	writable bool
	img      *image // the bytes Open was given, for vlenStrings
}

// call runs fn with the goroutine locked to its thread, HDF5's automatic
// error printing off, and converts an HDF5 failure into an error naming
// op and the messages on HDF5's error stack.
func call(op string, fn func() bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.ak_quiet()
	if fn() {
		return nil
	}
	var inner, outer [256]C.char
	n := C.ak_errmsg(&inner[0], &outer[0], 256)
	msg := op
	if n > 0 {
		in, out := C.GoString(&inner[0]), C.GoString(&outer[0])
		msg += ": " + out
		if in != out {
			msg += ": " + in
		}
	}
	return fmt.Errorf("%w: %s", ErrHDF5, msg)
}

func clean(path string) string {
	p := strings.TrimLeft(path, "/")
	if p == "" {
		return "/"
	}
	return "/" + p
}

// Open opens the HDF5 file whose bytes are image, read-only. It keeps a
// reference to image, which the caller must not change while the file is
// open. Bytes that are not HDF5, or a truncated or corrupt file, give an
// error wrapping ErrFormat.
func Open(image []byte) (*File, error) {
	if !IsHDF5(image) {
		return nil, fmt.Errorf("%w: no HDF5 signature", ErrFormat)
	}
	img, err := parseImage(image)
	if err != nil && !errors.Is(err, errUnparsed) {
		return nil, err
	}
	name := imageName()
	defer C.free(unsafe.Pointer(name))
	// HDF5 copies the image; hand it C memory so no Go pointer is retained.
	buf := C.CBytes(image)
	defer C.free(buf)
	var id C.hid_t
	err = call("open file image", func() bool {
		id = C.ak_open_image(buf, C.size_t(len(image)), name)
		return id >= 0
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return &File{id: id, img: img}, nil
}

// Create returns a new, empty, writable file held in memory. Image returns
// its bytes.
func Create() (*File, error) {
	name := imageName()
	defer C.free(unsafe.Pointer(name))
	var id C.hid_t
	err := call("create in-memory file", func() bool {
		id = C.ak_create_mem(name)
		return id >= 0
	})
	if err != nil {
		return nil, err
	}
	return &File{id: id, writable: true}, nil
}

// Close releases the file. Closing twice is a no-op.
func (f *File) Close() error {
	if f == nil || f.id < 0 {
		return nil
	}
	id := f.id
	f.id = -1
	return call("close file", func() bool { return C.H5Fclose(id) >= 0 })
}

// Image returns the bytes of the file as it would be on disk.
func (f *File) Image() ([]byte, error) {
	var out []byte
	err := call("get file image", func() bool {
		if C.H5Fflush(f.id, C.H5F_SCOPE_GLOBAL) < 0 {
			return false
		}
		n := C.H5Fget_file_image(f.id, nil, 0)
		if n < 0 {
			return false
		}
		out = make([]byte, int(n))
		if n == 0 {
			return true
		}
		buf := C.malloc(C.size_t(n))
		defer C.free(buf)
		if C.H5Fget_file_image(f.id, buf, C.size_t(n)) < 0 {
			return false
		}
		copy(out, unsafe.Slice((*byte)(buf), int(n)))
		return true
	})
	return out, err
}

// openObj opens the object at path; the caller closes it with H5Oclose.
// It must run inside call.
func (f *File) openObj(path string) C.hid_t {
	cp := C.CString(clean(path))
	defer C.free(unsafe.Pointer(cp))
	return C.H5Oopen(f.id, cp, C.H5P_DEFAULT)
}

// Kind reports what is at path: Group, Dataset, or None when there is
// nothing (or something else) there.
func (f *File) Kind(path string) Kind {
	k := None
	call("kind", func() bool {
		cp := C.CString(clean(path))
		defer C.free(unsafe.Pointer(cp))
		if clean(path) != "/" {
			// Check every link on the way, as H5Oopen requires.
			parts := strings.Split(strings.Trim(path, "/"), "/")
			for i := range parts {
				sub := C.CString("/" + strings.Join(parts[:i+1], "/"))
				ok := C.H5Lexists(f.id, sub, C.H5P_DEFAULT)
				C.free(unsafe.Pointer(sub))
				if ok <= 0 {
					return true
				}
			}
		}
		obj := C.H5Oopen(f.id, cp, C.H5P_DEFAULT)
		if obj < 0 {
			return false
		}
		defer C.H5Oclose(obj)
		switch C.H5Iget_type(obj) {
		case C.H5I_GROUP:
			k = Group
		case C.H5I_DATASET:
			k = Dataset
		}
		return true
	})
	return k
}

// Children returns the names of the links in the group at path, sorted by
// name as byte strings (so "10" sorts before "2").
func (f *File) Children(path string) ([]string, error) {
	var names []string
	err := call("list group "+clean(path), func() bool {
		g := f.openObj(path)
		if g < 0 {
			return false
		}
		defer C.H5Oclose(g)
		if C.H5Iget_type(g) != C.H5I_GROUP {
			return false
		}
		var a C.ak_names
		a.max = maxStrings
		defer C.free(unsafe.Pointer(a.buf))
		if C.ak_link_names(g, &a) < 0 {
			return false
		}
		if a.len > 0 {
			b := C.GoBytes(unsafe.Pointer(a.buf), C.int(a.len))
			for _, n := range strings.Split(string(b[:len(b)-1]), "\x00") {
				names = append(names, n)
			}
		}
		return true
	})
	return names, err
}

// AttrNames returns the names of the attributes of the object at path,
// sorted by name.
func (f *File) AttrNames(path string) ([]string, error) {
	if as, err := f.goAttrs(path); !errors.Is(err, errUnparsed) {
		if err != nil {
			return nil, err
		}
		names := make([]string, len(as))
		for i, a := range as {
			names[i] = a.name
		}
		sort.Strings(names)
		return names, nil
	}
	var names []string
	err := call("list attributes of "+clean(path), func() bool {
		obj := f.openObj(path)
		if obj < 0 {
			return false
		}
		defer C.H5Oclose(obj)
		n := C.ak_num_attrs(obj)
		if n < 0 {
			return false
		}
		dot := C.CString(".")
		defer C.free(unsafe.Pointer(dot))
		for i := C.hsize_t(0); i < C.hsize_t(n); i++ {
			l := C.H5Aget_name_by_idx(obj, dot, C.H5_INDEX_NAME, C.H5_ITER_INC, i, nil, 0, C.H5P_DEFAULT)
			if l < 0 || l > maxStrLen {
				return false
			}
			buf := (*C.char)(C.malloc(C.size_t(l + 1)))
			l = C.H5Aget_name_by_idx(obj, dot, C.H5_INDEX_NAME, C.H5_ITER_INC, i, buf, C.size_t(l+1), C.H5P_DEFAULT)
			s := C.GoStringN(buf, C.int(max(l, 0)))
			C.free(unsafe.Pointer(buf))
			if l < 0 {
				return false
			}
			names = append(names, s)
		}
		return true
	})
	return names, err
}

// goAttrs parses the attribute messages of the object at path from the
// file image in Go, checking every size, because libhdf5 1.10 crashes on
// some corrupt attribute messages. It returns errUnparsed when the file
// was not opened from an image or uses a layout the parser does not
// handle; callers then fall back to libhdf5.
func (f *File) goAttrs(path string) ([]attrMsg, error) {
	if f.img == nil {
		return nil, errUnparsed
	}
	addr, err := f.objAddr(path)
	if err != nil {
		return nil, err
	}
	as, err := f.img.attrs(addr)
	if err != nil && !errors.Is(err, errUnparsed) {
		return nil, fmt.Errorf("attributes of %s: %w", clean(path), err)
	}
	return as, err
}

var errNoAttr = fmt.Errorf("%w: no such attribute", ErrHDF5)

func (f *File) goAttr(path, name string) (attrMsg, error) {
	as, err := f.goAttrs(path)
	if err != nil {
		return attrMsg{}, err
	}
	for _, a := range as {
		if a.name == name {
			return a, nil
		}
	}
	return attrMsg{}, fmt.Errorf("%w: %q of %s", errNoAttr, name, clean(path))
}

func (f *File) goAttrStrings(path, name string) ([]string, error) {
	a, err := f.goAttr(path, name)
	if err != nil {
		return nil, err
	}
	info, err := a.info()
	if err != nil {
		return nil, err
	}
	n := info.Len()
	switch {
	case info.Class != String && n == 0 && info.Shape != nil:
		return []string{}, nil
	case info.Class != String:
		return nil, fmt.Errorf("%w: attribute %q of %s is %s, not strings", ErrType, name, clean(path), info.Class)
	case n == 0:
		return []string{}, nil
	case info.VarLen:
		addr, err := f.objAddr(path)
		if err != nil {
			return nil, err
		}
		s, err := f.img.vlenStrings(addr, name)
		if err != nil && !errors.Is(err, errUnparsed) {
			err = fmt.Errorf("attribute %q of %s: %w", name, clean(path), err)
		}
		return s, err
	}
	return a.fixedStrings(info)
}

// objAddr returns the address of the object header at path.
func (f *File) objAddr(path string) (uint64, error) {
	var addr C.haddr_t
	err := call("locate "+clean(path), func() bool {
		obj := f.openObj(path)
		if obj < 0 {
			return false
		}
		defer C.H5Oclose(obj)
		addr = C.ak_obj_addr(obj)
		return addr != C.HADDR_UNDEF
	})
	return uint64(addr), err
}

// HasAttr reports whether the object at path has an attribute called name.
func (f *File) HasAttr(path, name string) bool {
	if _, err := f.goAttr(path, name); !errors.Is(err, errUnparsed) {
		return err == nil
	}
	ok := false
	call("attribute exists", func() bool {
		obj := f.openObj(path)
		if obj < 0 {
			return false
		}
		defer C.H5Oclose(obj)
		cn := C.CString(name)
		defer C.free(unsafe.Pointer(cn))
		ok = C.H5Aexists(obj, cn) > 0
		return true
	})
	return ok
}

// attrOp opens attribute name of the object at path and runs fn with it
// and its file type inside call.
func (f *File) attrOp(op, path, name string, fn func(attr, ftype C.hid_t) bool) error {
	return call(fmt.Sprintf("%s attribute %q of %s", op, name, clean(path)), func() bool {
		obj := f.openObj(path)
		if obj < 0 {
			return false
		}
		defer C.H5Oclose(obj)
		cn := C.CString(name)
		defer C.free(unsafe.Pointer(cn))
		attr := C.H5Aopen(obj, cn, C.H5P_DEFAULT)
		if attr < 0 {
			return false
		}
		defer C.H5Aclose(attr)
		ftype := C.H5Aget_type(attr)
		if ftype < 0 {
			return false
		}
		defer C.H5Tclose(ftype)
		return fn(attr, ftype)
	})
}

func spaceShape(space C.hid_t) ([]int, bool) {
	nd := C.H5Sget_simple_extent_ndims(space)
	if nd < 0 || nd > 32 {
		return nil, false
	}
	if nd == 0 {
		if C.H5Sget_simple_extent_type(space) == C.H5S_NULL {
			return []int{0}, true
		}
		return nil, true
	}
	dims := make([]C.hsize_t, nd)
	if C.H5Sget_simple_extent_dims(space, &dims[0], nil) < 0 {
		return nil, false
	}
	shape := make([]int, nd)
	total := uint64(1)
	for i, d := range dims {
		if uint64(d) > maxElems {
			return nil, false
		}
		total *= uint64(d)
		if total > maxElems {
			return nil, false
		}
		shape[i] = int(d)
	}
	return shape, true
}

func typeClass(t C.hid_t) Class {
	switch C.H5Tget_class(t) {
	case C.H5T_STRING:
		return String
	case C.H5T_FLOAT:
		return Float
	case C.H5T_INTEGER:
		return Integer
	}
	return Other
}

// Attr describes the attribute name of the object at path.
func (f *File) Attr(path, name string) (AttrInfo, error) {
	if a, err := f.goAttr(path, name); !errors.Is(err, errUnparsed) {
		if err != nil {
			return AttrInfo{}, err
		}
		return a.info()
	}
	var info AttrInfo
	err := f.attrOp("inspect", path, name, func(attr, ftype C.hid_t) bool {
		info.Class = typeClass(ftype)
		if info.Class == String {
			vl := C.H5Tis_variable_str(ftype)
			if vl < 0 {
				return false
			}
			info.VarLen = vl > 0
			info.UTF8 = C.H5Tget_cset(ftype) == C.H5T_CSET_UTF8
		}
		if !info.VarLen {
			info.Size = int(C.H5Tget_size(ftype))
		}
		space := C.H5Aget_space(attr)
		if space < 0 {
			return false
		}
		defer C.H5Sclose(space)
		var ok bool
		info.Shape, ok = spaceShape(space)
		return ok
	})
	return info, err
}

// AttrStrings returns the strings held by attribute name of the object at
// path: one for a scalar, all of them (in row-major order) for an array.
// Fixed-length and variable-length strings in ASCII or UTF-8 are read; NUL
// padding (and space padding, if the type says so) is removed. An empty
// numeric array (as Keras stores an empty weight_names) gives an empty
// slice; any other non-string attribute gives an error wrapping ErrType.
func (f *File) AttrStrings(path, name string) ([]string, error) {
	if s, err := f.goAttrStrings(path, name); !errors.Is(err, errUnparsed) {
		return s, err
	}
	info, err := f.Attr(path, name)
	if err != nil {
		return nil, err
	}
	n := info.Len()
	if info.Class != String {
		if n == 0 && info.Shape != nil {
			return []string{}, nil
		}
		return nil, fmt.Errorf("%w: attribute %q of %s is %s, not strings", ErrType, name, clean(path), info.Class)
	}
	if n > maxStrings {
		return nil, fmt.Errorf("%w: attribute %q of %s claims %d strings", ErrFormat, name, clean(path), n)
	}
	out := make([]string, 0, n)
	if n == 0 {
		return out, nil
	}
	err = f.attrOp("read", path, name, func(attr, ftype C.hid_t) bool {
		if info.VarLen {
			ptrs := (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
			defer C.free(unsafe.Pointer(ptrs))
			if C.ak_read_vlen_strings(attr, ftype, ptrs) < 0 {
				return false
			}
			for _, p := range unsafe.Slice(ptrs, n) {
				if p == nil {
					out = append(out, "")
				} else {
					out = append(out, C.GoString(p))
				}
			}
			return C.ak_reclaim_vlen(attr, ftype, ptrs) >= 0
		}
		size := info.Size
		if size <= 0 || size > maxStrLen || n*size > maxStrLen {
			return false
		}
		buf := C.calloc(C.size_t(n), C.size_t(size))
		defer C.free(buf)
		if C.ak_read_fixed_strings(attr, ftype, buf) < 0 {
			return false
		}
		b := unsafe.Slice((*byte)(buf), n*size)
		space := C.H5Tget_strpad(ftype) == C.H5T_STR_SPACEPAD
		for i := 0; i < n; i++ {
			s := b[i*size : (i+1)*size]
			if j := indexByte(s, 0); j >= 0 {
				s = s[:j]
			}
			str := string(s)
			if space {
				str = strings.TrimRight(str, " ")
			}
			out = append(out, str)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func indexByte(b []byte, c byte) int {
	for i, v := range b {
		if v == c {
			return i
		}
	}
	return -1
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

// Dataset describes the dataset at path: its element class and size in
// bytes, and its shape (nil for a scalar).
func (f *File) Dataset(path string) (Class, int, []int, error) {
	var cls Class
	var size int
	var shape []int
	err := call("inspect dataset "+clean(path), func() bool {
		cp := C.CString(clean(path))
		defer C.free(unsafe.Pointer(cp))
		ds := C.H5Dopen2(f.id, cp, C.H5P_DEFAULT)
		if ds < 0 {
			return false
		}
		defer C.H5Dclose(ds)
		t := C.H5Dget_type(ds)
		if t < 0 {
			return false
		}
		defer C.H5Tclose(t)
		cls = typeClass(t)
		size = int(C.H5Tget_size(t))
		space := C.H5Dget_space(ds)
		if space < 0 {
			return false
		}
		defer C.H5Sclose(space)
		var ok bool
		shape, ok = spaceShape(space)
		return ok
	})
	return cls, size, shape, err
}

// ReadFloat32 reads the numeric dataset at path, converting its values
// (float64, float16, integers of any size) to float32, and returns them in
// row-major order with the dataset's shape (nil for a scalar).
func (f *File) ReadFloat32(path string) ([]float32, []int, error) {
	cls, size, shape, err := f.Dataset(path)
	if err != nil {
		return nil, nil, err
	}
	if cls != Float && cls != Integer {
		return nil, nil, fmt.Errorf("%w: dataset %s holds %s values, not numbers", ErrType, clean(path), cls)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if f.img != nil && n*max(size, 1) > 2*len(f.img.b)+4096 {
		// Keras does not compress weights: a dataset cannot hold more
		// bytes than the file.
		return nil, nil, fmt.Errorf("%w: dataset %s claims %v values in a %d-byte file", ErrFormat, clean(path), shape, len(f.img.b))
	}
	out := make([]float32, n)
	if n == 0 {
		return out, shape, nil
	}
	err = call("read dataset "+clean(path), func() bool {
		cp := C.CString(clean(path))
		defer C.free(unsafe.Pointer(cp))
		ds := C.H5Dopen2(f.id, cp, C.H5P_DEFAULT)
		if ds < 0 {
			return false
		}
		defer C.H5Dclose(ds)
		buf := C.malloc(C.size_t(n * 4))
		defer C.free(buf)
		if C.H5Dread(ds, C.ak_native_float(), C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, buf) < 0 {
			return false
		}
		copy(out, unsafe.Slice((*float32)(buf), n))
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	return out, shape, nil
}

func (f *File) checkWritable(op string) error {
	if !f.writable {
		return fmt.Errorf("%w: %s: file is read-only", ErrHDF5, op)
	}
	return nil
}

// CreateGroup creates the group at path and any missing groups above it.
func (f *File) CreateGroup(path string) error {
	if err := f.checkWritable("create group"); err != nil {
		return err
	}
	return call("create group "+clean(path), func() bool {
		lcpl := C.ak_lcpl()
		if lcpl < 0 {
			return false
		}
		defer C.H5Pclose(lcpl)
		cp := C.CString(clean(path))
		defer C.free(unsafe.Pointer(cp))
		g := C.H5Gcreate2(f.id, cp, lcpl, C.H5P_DEFAULT, C.H5P_DEFAULT)
		if g < 0 {
			return false
		}
		return C.H5Gclose(g) >= 0
	})
}

// StringType says how SetAttrString and SetAttrStrings store strings.
type StringType struct {
	// VarLen selects variable-length strings (h5py's str and object
	// arrays); otherwise fixed-length, NUL-padded (numpy's bytes "S" type),
	// sized to the longest value.
	VarLen bool
	// UTF8 sets the UTF-8 character set; otherwise ASCII.
	UTF8 bool
}

func (f *File) setAttr(path, name string, dtype, space C.hid_t, write func(attr C.hid_t) bool) bool {
	obj := f.openObj(path)
	if obj < 0 {
		return false
	}
	defer C.H5Oclose(obj)
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if C.H5Aexists(obj, cn) > 0 {
		if C.H5Adelete(obj, cn) < 0 {
			return false
		}
	}
	attr := C.H5Acreate2(obj, cn, dtype, space, C.H5P_DEFAULT, C.H5P_DEFAULT)
	if attr < 0 {
		return false
	}
	defer C.H5Aclose(attr)
	return write(attr)
}

// SetAttrString stores a scalar string attribute on the object at path,
// replacing any attribute of that name.
func (f *File) SetAttrString(path, name, value string, t StringType) error {
	return f.setStrings(path, name, []string{value}, true, t)
}

// SetAttrStrings stores a one-dimensional string array attribute on the
// object at path, replacing any attribute of that name. Keras readers
// expect a non-empty array; use SetAttrEmpty for an empty list.
func (f *File) SetAttrStrings(path, name string, values []string, t StringType) error {
	return f.setStrings(path, name, values, false, t)
}

func (f *File) setStrings(path, name string, values []string, scalar bool, t StringType) error {
	if err := f.checkWritable("set attribute"); err != nil {
		return err
	}
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: attribute %q value contains a NUL byte", ErrType, name)
		}
	}
	return call(fmt.Sprintf("write attribute %q of %s", name, clean(path)), func() bool {
		size := 1
		for _, v := range values {
			size = max(size, len(v))
		}
		vl := C.int(0)
		if t.VarLen {
			vl = 1
		}
		u := C.int(0)
		if t.UTF8 {
			u = 1
		}
		dtype := C.ak_str_type(vl, C.size_t(size), u)
		if dtype < 0 {
			return false
		}
		defer C.H5Tclose(dtype)
		var space C.hid_t
		if scalar {
			space = C.H5Screate(C.H5S_SCALAR)
		} else {
			dims := []C.hsize_t{C.hsize_t(len(values))}
			space = C.H5Screate_simple(1, &dims[0], nil)
		}
		if space < 0 {
			return false
		}
		defer C.H5Sclose(space)
		return f.setAttr(path, name, dtype, space, func(attr C.hid_t) bool {
			if len(values) == 0 {
				return true
			}
			if t.VarLen {
				ptrs := make([]*C.char, len(values))
				for i, v := range values {
					ptrs[i] = C.CString(v)
				}
				defer func() {
					for _, p := range ptrs {
						C.free(unsafe.Pointer(p))
					}
				}()
				cptrs := (**C.char)(C.malloc(C.size_t(len(ptrs)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
				defer C.free(unsafe.Pointer(cptrs))
				copy(unsafe.Slice(cptrs, len(ptrs)), ptrs)
				return C.H5Awrite(attr, dtype, unsafe.Pointer(cptrs)) >= 0
			}
			buf := C.calloc(C.size_t(len(values)), C.size_t(size))
			defer C.free(buf)
			b := unsafe.Slice((*byte)(buf), len(values)*size)
			for i, v := range values {
				copy(b[i*size:], v)
			}
			return C.H5Awrite(attr, dtype, buf) >= 0
		})
	})
}

// SetAttrEmpty stores an empty one-dimensional float64 array attribute, as
// Keras (through h5py) stores an empty list such as the weight_names of a
// layer without weights.
func (f *File) SetAttrEmpty(path, name string) error {
	if err := f.checkWritable("set attribute"); err != nil {
		return err
	}
	return call(fmt.Sprintf("write attribute %q of %s", name, clean(path)), func() bool {
		dims := []C.hsize_t{0}
		space := C.H5Screate_simple(1, &dims[0], nil)
		if space < 0 {
			return false
		}
		defer C.H5Sclose(space)
		return f.setAttr(path, name, C.ak_f64le(), space, func(C.hid_t) bool { return true })
	})
}

// WriteFloat32 creates a contiguous little-endian float32 dataset at path
// (creating missing groups above it) with the given shape (nil or empty
// for a scalar) and values in row-major order.
func (f *File) WriteFloat32(path string, data []float32, shape []int) error {
	if err := f.checkWritable("write dataset"); err != nil {
		return err
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("%w: dataset %s: negative dimension in %v", ErrType, clean(path), shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("%w: dataset %s: %d values for shape %v", ErrType, clean(path), len(data), shape)
	}
	return call("write dataset "+clean(path), func() bool {
		var space C.hid_t
		if len(shape) == 0 {
			space = C.H5Screate(C.H5S_SCALAR)
		} else {
			dims := make([]C.hsize_t, len(shape))
			for i, d := range shape {
				dims[i] = C.hsize_t(d)
			}
			space = C.H5Screate_simple(C.int(len(dims)), &dims[0], nil)
		}
		if space < 0 {
			return false
		}
		defer C.H5Sclose(space)
		lcpl := C.ak_lcpl()
		if lcpl < 0 {
			return false
		}
		defer C.H5Pclose(lcpl)
		cp := C.CString(clean(path))
		defer C.free(unsafe.Pointer(cp))
		ds := C.H5Dcreate2(f.id, cp, C.ak_f32le(), space, lcpl, C.H5P_DEFAULT, C.H5P_DEFAULT)
		if ds < 0 {
			return false
		}
		defer C.H5Dclose(ds)
		if n == 0 {
			return true
		}
		buf := C.malloc(C.size_t(n * 4))
		defer C.free(buf)
		copy(unsafe.Slice((*float32)(buf), n), data)
		return C.H5Dwrite(ds, C.ak_native_float(), C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, buf) >= 0
	})
}
