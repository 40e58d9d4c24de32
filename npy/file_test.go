package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zipOf := func(files map[string][]byte, method uint16) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, b := range files {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(b)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	good := npyFile(1, dict("<f4", "(2,)"), f32le(1, 2))
	compressed, err := os.ReadFile(filepath.Join(fixtureDir, "savez_compressed_single.npz"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(compressed)
	for i := 200; i < 260; i++ { // inside the deflate stream of the only member
		corrupt[i] ^= 0x55
	}
	for _, tc := range []struct {
		name, path, key string
		want            []error
		msg             string // a part of the message
	}{
		{"missing", filepath.Join(dir, "nope.npy"), "", []error{fs.ErrNotExist}, "nope.npy"},
		{"directory", dir, "", []error{}, "is a directory"},
		{"bad magic", write("bad.npy", []byte("\x89PNG\r\n\x1a\n....")), "", []error{ErrFormat}, "bad.npy: invalid format: not a .npy file"},
		{"empty", write("empty.npy", nil), "", []error{ErrTruncated}, "empty.npy"},
		{"truncated data", write("trunc.npy", good[:len(good)-1]), "", []error{ErrTruncated, io.ErrUnexpectedEOF}, "trunc.npy: truncated input"},
		{"absurd shape", write("absurd.npy", npyFile(1, dict("<f4", "(100000000,)"), f32le(1))), "", []error{ErrTruncated}, "only 4 present"},
		{"complex", write("complex.npy", npyFile(1, dict("<c8", "(1,)"), make([]byte, 8))), "", []error{ErrDType}, `complex.npy: unsupported dtype: complex dtype "<c8"`},
		{"key for npy", write("key.npy", good), "x", []error{ErrNotFound}, "not an .npz"},
		{"key for bad npy", write("key2.npy", good[:20]), "x", []error{ErrTruncated}, "key2.npy"},
		{"npz missing key", filepath.Join(fixtureDir, "savez_xy.npz"), "z", []error{ErrNotFound}, `no array "z" in the .npz archive (it holds "x", "y")`},
		{"npz ambiguous", filepath.Join(fixtureDir, "savez_ambiguous.npz"), "", []error{ErrNotFound}, `name one of "a", "b"`},
		{"npz empty", write("empty.npz", zipOf(nil, zip.Store)), "", []error{ErrNotFound}, "empty"},
		{"npz not npy", write("text.npz", zipOf(map[string][]byte{"notes.txt": []byte("hello")}, zip.Deflate)), "", []error{ErrFormat}, "array notes.txt: invalid format"},
		{"npz truncated member", write("tm.npz", zipOf(map[string][]byte{"x.npy": good[:len(good)-2]}, zip.Store)), "", []error{ErrTruncated}, "tm.npz: array x: truncated"},
		{"npz absurd member", write("am.npz", zipOf(map[string][]byte{"x.npy": npyFile(1, dict("<f8", "(1000, 1000, 100)"), nil)}, zip.Deflate)), "", []error{ErrTruncated}, "am.npz: array x"},
		{"npz complex member", write("cm.npz", zipOf(map[string][]byte{"x.npy": npyFile(1, dict("<c16", "(1,)"), make([]byte, 16))}, zip.Deflate)), "", []error{ErrDType}, "cm.npz: array x"},
		{"npz cut in half", write("half.npz", compressed[:len(compressed)/2]), "", []error{ErrFormat}, "half.npz: invalid format: not a valid .npz"},
		{"npz corrupt", write("corrupt.npz", corrupt), "", []error{ErrFormat}, "corrupt.npz: array pixels: invalid format: corrupt .npz member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadFileArray(tc.path, tc.key)
			if err == nil {
				t.Fatalf("succeeded with shape %v", a.Shape)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "npy: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want npy: prefix and %q", err, tc.msg)
			}
			if strings.Count(err.Error(), "npy: ") != 1 && !strings.Contains(err.Error(), ".npy: ") {
				t.Errorf("error %q repeats the npy: prefix", err)
			}
		})
	}
}

// TestReadFileMagic checks that the kind of file is told by its content.
func TestReadFileMagic(t *testing.T) {
	dir := t.TempDir()
	npz, err := os.ReadFile(filepath.Join(fixtureDir, "savez_xy.npz"))
	if err != nil {
		t.Fatal(err)
	}
	npyData, err := os.ReadFile(filepath.Join(fixtureDir, "vec_f4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"npz_named.npy": npz, "npy_named.npz": npyData, "noext": npz} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		a, err := ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := 5 // vec_f4
		if bytes.Equal(b, npz) {
			want = 12 // x of savez_xy
		}
		if len(a.Data) != want {
			t.Errorf("%s: %d values, want %d", name, len(a.Data), want)
		}
	}
}
