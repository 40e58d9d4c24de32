package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func file(n, rows, cols uint32, pix []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [4]uint32{0x803, n, rows, cols})
	b.Write(pix)
	return b.Bytes()
}

// TestRead checks a small file, gzip'd and plain, and the scaling.
func TestRead(t *testing.T) {
	raw := file(2, 1, 3, []byte{0, 51, 255, 1, 2, 3})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"plain": raw, "x.gz": gz.Bytes()} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		im, err := ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if im.N != 2 || im.Width() != 3 || !bytes.Equal(im.Pix, raw[16:]) {
			t.Errorf("%s: %+v", name, im)
		}
		if x := im.Scaled(); x[1] != 0.2 || x[2] != 1 || len(x) != 6 {
			t.Errorf("%s: scaled %v", name, x)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

// TestReadBad checks that malformed files fail with ErrFormat.
func TestReadBad(t *testing.T) {
	for name, data := range map[string][]byte{
		"short header": {0, 0, 8, 3, 0},
		"labels":       append([]byte{0, 0, 8, 1}, file(1, 1, 1, []byte{1})[4:]...),
		"zero images":  file(0, 28, 28, nil),
		"too large":    file(1<<20, 1<<10, 1<<10, nil),
		"truncated":    file(2, 2, 2, []byte{1, 2, 3}),
		"trailing":     file(1, 1, 2, []byte{1, 2, 3}),
		// 2^31·2^31·4 = 2^64 wraps to 0 in int64 arithmetic: the
		// header of an empty file.
		"overflow to 0": file(1<<31, 1<<31, 4, nil),
		// 3·(2^32-1)·(2^32-1) wraps to a negative number.
		"overflow negative": file(3, 1<<32-1, 1<<32-1, nil),
		"rows too large":    file(1, 1<<31, 1, make([]byte, 16)),
		"one byte too many": file(1, 1<<15, 1<<15+1, nil),
	} {
		if _, err := Read(bytes.NewReader(data)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// FuzzRead checks that Read never panics and that what it accepts agrees
// with its header.
func FuzzRead(f *testing.F) {
	f.Add(file(2, 1, 3, []byte{0, 51, 255, 1, 2, 3}))
	f.Add(file(1<<20, 1<<10, 1<<10, nil))
	f.Add(file(1<<31, 1<<31, 4, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if im.N <= 0 || im.Rows <= 0 || im.Cols <= 0 || im.N > MaxPixels/im.Rows/im.Cols {
			t.Fatalf("%d×%d×%d pixels accepted (at most %d)", im.N, im.Rows, im.Cols, MaxPixels)
		}
		if len(im.Pix) != im.N*im.Rows*im.Cols {
			t.Fatalf("%d pixels for %d×%d×%d", len(im.Pix), im.N, im.Rows, im.Cols)
		}
	})
}
