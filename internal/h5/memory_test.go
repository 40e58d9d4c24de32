package h5

import (
	"bytes"
	"compress/zlib"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestFloat32Limit: the limit on a dataset's size counts the float32
// values returned, not only the bytes stored: 32 Mi int8 values (32 MiB
// stored, 128 MiB as float32) are over the ratio limit of a 62 kB file.
func TestFloat32Limit(t *testing.T) {
	f := patched(t, "/numbers/le_i1", []uint64{1 << 13, 1 << 12})
	if 1<<25 > dataLimit(len(f.b)) || 4<<25 <= dataLimit(len(f.b)) {
		t.Fatalf("limit %d: the test needs another shape", dataLimit(len(f.b)))
	}
	_, _, err := f.ReadFloat32("/numbers/le_i1")
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "holds more than") {
		t.Errorf("int8 [8192 4096]: %v", err)
	}
}

// TestReadAllocates: a chunked dataset is decoded straight into the
// float32 result: reading it allocates little more than the result.
func TestReadAllocates(t *testing.T) {
	f := patched(t, "/chunked/sparse", []uint64{1024, 1024}) // one 3×3 chunk written
	var v []float32
	var err error
	n := allocated(func() { v, _, err = f.ReadFloat32("/chunked/sparse") })
	if err != nil || len(v) != 1024*1024 || v[0] != 1.25 || v[len(v)-1] != 3.5 {
		t.Fatalf("sparse 1024×1024: %d values, %v", len(v), err)
	}
	if want := uint64(4<<20) + 512<<10; n > want {
		t.Errorf("reading 4 MiB of float32 allocated %d bytes, want at most %d", n, want)
	}
}

// TestInflateAllocates: a chunk inflates into a buffer of its size, not
// one grown by doubling, and the buffers are reused from chunk to chunk.
func TestInflateAllocates(t *testing.T) {
	const size = 3 << 20
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(bytes.Repeat([]byte{1, 2, 3}, size/3))
	w.Close()
	p := []filter{{id: filterShuffle, client: []uint32{4}}, {id: filterDeflate}}
	var s scratch
	var out []byte
	var err error
	n := allocated(func() { out, err = unfilter(p, 0, z.Bytes(), size, &s) })
	if err != nil || len(out) != size {
		t.Fatalf("unfilter: %d bytes, %v", len(out), err)
	}
	if want := uint64(2*size) + 256<<10; n > want {
		t.Errorf("inflating and unshuffling %d bytes allocated %d bytes, want at most %d", size, n, want)
	}
	if n = allocated(func() { out, err = unfilter(p, 0, z.Bytes(), size, &s) }); err != nil || n > 256<<10 {
		t.Errorf("again with the same buffers: %d bytes allocated, %v", n, err)
	}
}
