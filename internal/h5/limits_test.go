package h5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// offsetOf returns the offset in f.b of a slice parsed from it (parsers
// slice f.b, so capacities tell the position).
func offsetOf(f *File, b []byte) int { return cap(f.b) - cap(b) }

// patched opens testdata/v0_earliest.h5 with the dataspace of dataset
// path set to shape (same rank), as a corrupt or malicious file might
// declare it.
func patched(t *testing.T, path string, shape []uint64) *File {
	t.Helper()
	b, err := os.ReadFile("testdata/v0_earliest.h5")
	if err != nil {
		t.Fatal(err)
	}
	f, err := open(b, true)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.objectAt(path)
	if err != nil {
		t.Fatal(err)
	}
	m := o.find(msgDataspace)
	if m.data[0] != 1 || int(m.data[1]) != len(shape) {
		t.Fatalf("%s: dataspace version %d rank %d", path, m.data[0], m.data[1])
	}
	c := append([]byte(nil), b...)
	at := offsetOf(f, m.data) + 8
	for i, d := range shape {
		binary.LittleEndian.PutUint64(c[at+8*i:], d)
	}
	g, err := open(c, true)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestDeclaredSizeLimit: a dataset declaring more values than the limits
// allow is refused before anything is allocated, contiguous or chunked.
func TestDeclaredSizeLimit(t *testing.T) {
	for _, c := range []struct {
		path  string
		shape []uint64
	}{
		{"/numbers/le_f4", []uint64{1 << 31, 1 << 31}}, // 2^64 bytes: overflow
		{"/numbers/le_f4", []uint64{1 << 20, 1 << 10}}, // 4 GiB > MaxDataBytes
		{"/numbers/le_f4", []uint64{1 << 14, 1 << 10}}, // 64 MiB > 1024 × 62 kB
		{"/chunked/gzip_shuffle_fletcher", []uint64{1 << 14, 1 << 10}},
		{"/chunked/gzip_shuffle_fletcher", []uint64{^uint64(0), 7}},
	} {
		f := patched(t, c.path, c.shape)
		_, _, err := f.ReadFloat32(c.path)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "holds more than") {
			t.Errorf("%s as %v: %v", c.path, c.shape, err)
		}
	}
	// Within the ratio, a chunked dataset with missing chunks reads as
	// its fill value.
	f := patched(t, "/chunked/sparse", []uint64{256, 256})
	v, _, err := f.ReadFloat32("/chunked/sparse")
	if err != nil || len(v) != 256*256 || v[len(v)-1] != 3.5 {
		t.Errorf("sparse 256×256: %d values, %v", len(v), err)
	}
}

// TestInflateBomb: a chunk that inflates beyond its declared size is an
// error, and decompression stops at that size.
func TestInflateBomb(t *testing.T) {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(make([]byte, 64<<20))
	w.Close()
	_, err := unfilter([]filter{{id: filterDeflate}}, 0, z.Bytes(), 4096, nil)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "beyond") {
		t.Errorf("64 MiB of zeros in a 4 kB chunk: %v", err)
	}
	if _, err := unfilter([]filter{{id: filterDeflate}}, 0, z.Bytes()[:z.Len()/2], 64<<20, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated stream: %v", err)
	}
	if _, err := unfilter([]filter{{id: 32001}}, 0, z.Bytes(), 10, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown filter: %v", err)
	}
	// Masked out: the filter was not applied.
	if b, err := unfilter([]filter{{id: 32001}}, 1, []byte("abcd"), 4, nil); err != nil || string(b) != "abcd" {
		t.Errorf("masked filter: %q %v", b, err)
	}
}

// TestFletcher32: a flipped byte fails the checksum.
func TestFletcher32(t *testing.T) {
	data := []byte("fletcher checksum over an odd number of bytes")
	sum := make([]byte, 4)
	binary.LittleEndian.PutUint32(sum, fletcher32(data))
	b := append(append([]byte(nil), data...), sum...)
	p := []filter{{id: filterFletcher32}}
	if out, err := unfilter(p, 0, b, uint64(len(data)), nil); err != nil || !bytes.Equal(out, data) {
		t.Errorf("good checksum: %q %v", out, err)
	}
	b[3] ^= 1
	if _, err := unfilter(p, 0, b, uint64(len(data)), nil); !errors.Is(err, ErrFormat) {
		t.Errorf("bad checksum: %v", err)
	}
}

// TestWorkLimit: once a File has spent its parsing budget (as a file whose
// groups share one huge symbol table would), every further read fails.
func TestWorkLimit(t *testing.T) {
	b, err := os.ReadFile("testdata/v0_earliest.h5")
	if err != nil {
		t.Fatal(err)
	}
	f, err := open(b, true)
	if err != nil {
		t.Fatal(err)
	}
	if f.work == 0 || f.work > workLimit(len(b))/8 {
		t.Errorf("opening took %d steps of %d", f.work, workLimit(len(b)))
	}
	f.work = workLimit(len(b)) - 3
	f.attrs = map[uint64]map[string]attr{}
	if _, err := f.AttrNames("/"); !errors.Is(err, errWork) {
		t.Errorf("AttrNames past the budget: %v", err)
	}
	g, _ := open(b, true)
	g.decoded = decodeLimit(len(b)) - 10 // le_f4 holds 60 bytes
	if _, _, err := g.ReadFloat32("/numbers/le_f4"); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "decoded") {
		t.Errorf("ReadFloat32 past the budget: %v", err)
	}
}

// TestUnwrittenChunks: a chunked dataset none of whose chunks was written
// has no chunk index (an undefined address) and reads, as in libhdf5, as
// its fill value, whatever the index type (v1 B-tree, fixed array,
// extensible array, v2 B-tree).
func TestUnwrittenChunks(t *testing.T) {
	for _, file := range []string{"testdata/v0_unwritten.h5", "testdata/v3_unwritten.h5"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := open(b, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path string
			n    int
			fill float32
		}{
			{"zeros", 24, 0}, {"fill", 5, 2.5}, {"gzip", 24, 0}, {"unlimited", 12, 0}, {"unlimited2", 12, -3},
		} {
			v, _, err := f.ReadFloat32(c.path)
			if err != nil || len(v) != c.n {
				t.Errorf("%s %s: %d values, %v", file, c.path, len(v), err)
				continue
			}
			for i, x := range v {
				if x != c.fill {
					t.Errorf("%s %s: [%d] = %v, want %v", file, c.path, i, x, c.fill)
					break
				}
			}
		}
	}
}
