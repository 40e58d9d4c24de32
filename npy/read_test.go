package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// npyFile builds a .npy file of the given version from a header
// dictionary, padding it as numpy does, followed by data.
func npyFile(major byte, dict string, data []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	hdr := dict + strings.Repeat(" ", total-pre-len(dict)-1) + "\n"
	b := append([]byte(magic), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	return append(append(b, hdr...), data...)
}

// unpadded builds a version 1.0 .npy file whose header is exactly dict,
// without padding or newline, so that the data may be misaligned.
func unpadded(dict string, data []byte) []byte {
	b := append([]byte(magic), 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	return append(append(b, dict...), data...)
}

func dict(descr, shape string) string {
	return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
}

func f32le(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TestReadHeaderVariants reads headers that numpy accepts but does not
// write itself.
func TestReadHeaderVariants(t *testing.T) {
	data := f32le(1, 2, 3, 4, 5, 6)
	for _, tc := range []struct {
		name  string
		file  []byte
		shape []int
	}{
		{"numpy", npyFile(1, dict("<f4", "(2, 3)"), data), []int{2, 3}},
		{"key order", npyFile(1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", data), []int{2, 3}},
		{"double quotes", npyFile(1, `{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}`, data), []int{2, 3}},
		{"python2 longs", npyFile(1, dict("<f4", "(2L, 3L)"), data), []int{2, 3}},
		{"tight spacing", npyFile(1, "{'descr':'<f4','fortran_order':False,'shape':(6,)}", data), []int{6}},
		{"tabs", npyFile(1, "{'descr':\t'<f4',\t'fortran_order': False, 'shape': (2,3,),}", data), []int{2, 3}},
		{"native =", npyFile(1, dict("=f4", "(6,)"), data), []int{6}},
		{"native |", npyFile(1, dict("|f4", "(6,)"), data), []int{6}},
		{"no order char", npyFile(1, dict("f4", "(6,)"), data), []int{6}},
		{"no padding or newline", unpadded("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", data), []int{2, 3}},
		{"version 2", npyFile(2, dict("<f4", "(3, 2)"), data), []int{3, 2}},
		{"version 3", npyFile(3, dict("<f4", "(1, 6)"), data), []int{1, 6}},
		{"trailing bytes", npyFile(1, dict("<f4", "(2, 3)"), append(slices.Clone(data), 9, 9, 9)), []int{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Shape, tc.shape) || !slices.Equal(a.Data, []float32{1, 2, 3, 4, 5, 6}) {
				t.Errorf("got shape %v data %v", a.Shape, a.Data)
			}
		})
	}
}

// TestReadExact checks that Read consumes the header and data and no more.
func TestReadExact(t *testing.T) {
	file := npyFile(1, dict("<f4", "(2,)"), f32le(1, 2))
	r := io.MultiReader(bytes.NewReader(file), strings.NewReader("rest"))
	if _, err := Read(r); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "rest" {
		t.Errorf("after Read, the reader holds %q, want %q", rest, "rest")
	}
}

func TestFortranToC(t *testing.T) {
	// A (2, 3, 4) array whose C-order values are 0..23, laid out in
	// Fortran order: element (i, j, k) at i + 2*j + 6*k.
	shape := []int{2, 3, 4}
	f := make([]float32, 24)
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				f[i+2*j+6*k] = float32(12*i + 4*j + k)
			}
		}
	}
	got := fortranToC(f, shape)
	for i, v := range got {
		if v != float32(i) {
			t.Fatalf("C-order element %d = %v, want %d", i, v, i)
		}
	}
}

func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want uint32
	}{
		{0x0000, 0x00000000},
		{0x8000, 0x80000000},
		{0x3c00, math.Float32bits(1)},
		{0xc000, math.Float32bits(-2)},
		{0x7bff, math.Float32bits(65504)},
		{0x0001, math.Float32bits(1.0 / (1 << 24))},    // smallest subnormal
		{0x03ff, math.Float32bits(1023.0 / (1 << 24))}, // largest subnormal
		{0x0400, math.Float32bits(1.0 / (1 << 14))},    // smallest normal
		{0x7c00, 0x7f800000},
		{0xfc00, 0xff800000},
		{0x7e00, 0x7fc00000},
		{0x7c01, 0x7f802000}, // signalling NaN keeps its payload
	} {
		if got := math.Float32bits(halfToFloat32(tc.h)); got != tc.want {
			t.Errorf("halfToFloat32(%#04x) = %#08x, want %#08x", tc.h, got, tc.want)
		}
	}
}

// TestReadErrors checks that bad input gives the documented sentinel error,
// through every reading path, without panicking.
func TestReadErrors(t *testing.T) {
	ok := dict("<f4", "(2,)")
	for _, tc := range []struct {
		name string
		file []byte
		want []error
	}{
		{"empty", nil, []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"short magic", []byte("\x93NUM"), []error{ErrTruncated}},
		{"magic only", []byte(magic), []error{ErrTruncated}},
		{"bad magic", []byte("GIF89a\x01\x00\x00\x00"), []error{ErrFormat}},
		{"bad magic short", []byte("PK"), []error{ErrFormat}},
		{"text file", []byte("1,2,3\n4,5,6\n"), []error{ErrFormat}},
		{"version 4.0", append([]byte(magic), 4, 0, 10, 0), []error{ErrFormat}},
		{"version 1.1", append([]byte(magic), 1, 1, 0, 0), []error{ErrFormat}},
		{"version 0.0", append([]byte(magic), 0, 0, 0, 0), []error{ErrFormat}},
		{"header length short", append([]byte(magic), 1, 0, 0x60), []error{ErrTruncated}},
		{"header truncated", npyFile(1, ok, nil)[:40], []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"header length absurd v2", append([]byte(magic), 2, 0, 0xff, 0xff, 0xff, 0xff), []error{ErrTooLarge}},
		{"header length absurd v3", append([]byte(magic), 3, 0, 0, 0, 0, 0x10), []error{ErrTooLarge}},
		{"header claims more than present", append(append([]byte(magic), 1, 0, 0xff, 0xff), ok...), []error{ErrTruncated}},
		{"not a dict", npyFile(1, "['descr', '<f4']", nil), []error{ErrFormat}},
		{"unterminated dict", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", nil), []error{ErrFormat}},
		{"unterminated string", npyFile(1, "{'descr: '<f4'}", nil), []error{ErrFormat}},
		{"missing descr", npyFile(1, "{'fortran_order': False, 'shape': (2,), }", nil), []error{ErrFormat}},
		{"missing fortran_order", npyFile(1, "{'descr': '<f4', 'shape': (2,), }", nil), []error{ErrFormat}},
		{"missing shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False, }", nil), []error{ErrFormat}},
		{"extra key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", nil), []error{ErrFormat}},
		{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", nil), []error{ErrFormat}},
		{"text after dict", npyFile(1, ok+" junk", nil), []error{ErrFormat}},
		{"fortran_order not bool", npyFile(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", nil), []error{ErrFormat}},
		{"fortran_order Truex", npyFile(1, "{'descr': '<f4', 'fortran_order': Truex, 'shape': (2,)}", nil), []error{ErrFormat}},
		{"shape int", npyFile(1, dict("<f4", "2"), nil), []error{ErrFormat}},
		{"shape (2) is an int", npyFile(1, dict("<f4", "(2)"), nil), []error{ErrFormat}},
		{"shape list", npyFile(1, dict("<f4", "[2]"), nil), []error{ErrFormat}},
		{"shape float", npyFile(1, dict("<f4", "(2.5,)"), nil), []error{ErrFormat}},
		{"shape unclosed", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", nil), []error{ErrFormat}},
		{"negative dim", npyFile(1, dict("<f4", "(-5,)"), nil), []error{ErrFormat}},
		{"negative dim 2d", npyFile(1, dict("<f4", "(3, -1)"), nil), []error{ErrFormat}},
		{"dim beyond int64", npyFile(1, dict("<f4", "(99999999999999999999,)"), nil), []error{ErrTooLarge}},
		{"dim beyond limit", npyFile(1, dict("<f4", "(9223372036854775807,)"), nil), []error{ErrTooLarge}},
		{"product overflow", npyFile(1, dict("<f4", "(4294967296, 4294967296, 4294967296)"), nil), []error{ErrTooLarge}},
		{"too many dims", npyFile(1, dict("<f4", "("+strings.Repeat("1, ", 65)+")"), nil), []error{ErrTooLarge}},
		{"shape larger than data", npyFile(1, dict("<f4", "(100000000,)"), f32le(1, 2)), []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"data truncated", npyFile(1, dict("<f8", "(2, 3)"), make([]byte, 47)), []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"data missing", npyFile(1, dict("|u1", "(3,)"), nil), []error{ErrTruncated}},
		{"complex64", npyFile(1, dict("<c8", "(2,)"), make([]byte, 16)), []error{ErrDType}},
		{"complex128", npyFile(1, dict("<c16", "(2,)"), make([]byte, 32)), []error{ErrDType}},
		{"object", npyFile(1, dict("|O", "(2,)"), make([]byte, 16)), []error{ErrDType}},
		{"unicode", npyFile(1, dict("<U5", "(2,)"), make([]byte, 40)), []error{ErrDType}},
		{"bytes", npyFile(1, dict("|S3", "(2,)"), make([]byte, 6)), []error{ErrDType}},
		{"void", npyFile(1, dict("|V8", "(2,)"), make([]byte, 16)), []error{ErrDType}},
		{"datetime", npyFile(1, dict("<M8[ns]", "(2,)"), make([]byte, 16)), []error{ErrDType}},
		{"timedelta", npyFile(1, dict("<m8[s]", "(2,)"), make([]byte, 16)), []error{ErrDType}},
		{"structured", npyFile(1, "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }", make([]byte, 16)), []error{ErrDType}},
		{"longdouble", npyFile(1, dict("<f16", "(2,)"), make([]byte, 32)), []error{ErrDType}},
		{"odd int size", npyFile(1, dict("<i3", "(2,)"), make([]byte, 6)), []error{ErrDType}},
		{"bool size 2", npyFile(1, dict("|b2", "(2,)"), make([]byte, 4)), []error{ErrDType}},
		{"empty descr", npyFile(1, dict("", "(2,)"), make([]byte, 8)), []error{ErrDType}},
		{"order only", npyFile(1, dict("<", "(2,)"), make([]byte, 8)), []error{ErrDType}},
		{"v3 invalid utf8", npyFile(3, "{'descr': '<f4\xff', 'fortran_order': False, 'shape': (2,)}", nil), []error{ErrFormat}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"bytes.Reader", bytes.NewReader(tc.file)},
				{"plain reader", struct{ io.Reader }{bytes.NewReader(tc.file)}},
				{"OneByteReader", iotest.OneByteReader(bytes.NewReader(tc.file))},
			} {
				a, err := Read(r.r)
				if err == nil {
					t.Fatalf("%s: Read succeeded with shape %v, want an error", r.name, a.Shape)
				}
				for _, w := range tc.want {
					if !errors.Is(err, w) {
						t.Errorf("%s: error %q does not wrap %q", r.name, err, w)
					}
				}
				if !strings.HasPrefix(err.Error(), "npy: ") {
					t.Errorf("%s: error %q lacks the npy: prefix", r.name, err)
				}
			}
		})
	}
}

// TestReadAbsurdShapeMemory checks that a header claiming a huge array on a
// short stream of unknown length does not allocate what it claims.
func TestReadAbsurdShapeMemory(t *testing.T) {
	// 10^8 float64 values would be 800 MB; the stream holds 800 bytes.
	file := npyFile(1, dict("<f8", "(10000, 10000)"), make([]byte, 800))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(struct{ io.Reader }{bytes.NewReader(file)})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("error %v, want ErrTruncated", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("Read allocated %d bytes for an 800-byte input", alloc)
	}
}

// TestReadError checks that an I/O error other than EOF is passed on.
func TestReadError(t *testing.T) {
	file := npyFile(1, dict("<f4", "(4,)"), f32le(1, 2, 3, 4))
	boom := errors.New("boom")
	_, err := Read(io.MultiReader(bytes.NewReader(file[:len(file)-3]), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.Is(err, ErrTruncated) {
		t.Errorf("error %v, want one wrapping boom and not ErrTruncated", err)
	}
}

// TestReadChunks reads arrays spanning several chunks, from readers of
// known and unknown length, in both the direct float32 path and a
// converting one.
func TestReadChunks(t *testing.T) {
	const n = 3*chunkElems + 5
	want := make([]float32, n)
	f4 := make([]byte, 0, 4*n)
	u2 := make([]byte, 0, 2*n)
	for i := range n {
		v := uint16(i * 7919)
		want[i] = float32(v)
		f4 = binary.LittleEndian.AppendUint32(f4, math.Float32bits(float32(v)))
		u2 = binary.BigEndian.AppendUint16(u2, v)
	}
	for _, file := range [][]byte{
		npyFile(1, dict("<f4", "(3, 262145, 1)"), f4[:4*(n-2)]),
		npyFile(1, dict(">u2", "(786434,)"), u2[:2*(n-3)]),
	} {
		// The shapes above hold n-2 and n-3 values.
		for _, r := range []io.Reader{bytes.NewReader(file), struct{ io.Reader }{bytes.NewReader(file)}, iotest.HalfReader(bytes.NewReader(file))} {
			a, err := Read(r)
			if err != nil {
				t.Fatalf("%T: %v", r, err)
			}
			if i, ok := sameBits(a.Data, want[:len(a.Data)]); !ok || len(a.Data) < n-3 {
				t.Fatalf("%T: %d values, differ at %d", r, len(a.Data), i)
			}
		}
		// Cut short in the last chunk.
		if _, err := Read(struct{ io.Reader }{bytes.NewReader(file[:len(file)-1])}); !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated: error %v, want ErrTruncated", err)
		}
	}
}
