package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/train"
)

const fx = "../fixtures/npy/"

// all reads every row of d.
func all(t *testing.T, d train.Data) []float32 {
	t.Helper()
	idx := make([]int, d.Rows())
	for i := range idx {
		idx[i] = i
	}
	out := make([]float32, d.Rows()*d.Width())
	if err := d.ReadRows(out, idx); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestModes reads the same float32 file mapped and into memory: the same
// rows, a *npy.Matrix only when mapped.
func TestModes(t *testing.T) {
	var got [][]float32
	for _, mode := range []Mode{Read, Map, Auto} {
		l := NewLoader(&Options{Mode: mode})
		d, err := l.Rows(fx+"f4_le.npy", 0)
		if err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		if d.Rows() != 2 || d.Width() != 4 {
			t.Fatalf("%v: %d rows of %d, want 2 of 4", mode, d.Rows(), d.Width())
		}
		if _, mapped := d.(*npy.Matrix); mapped != (mode == Map) {
			t.Errorf("%v: mapped %v", mode, mapped)
		}
		got = append(got, all(t, d))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if len(l.mapped) != 0 {
			t.Errorf("%v: %d mappings left after Close", mode, len(l.mapped))
		}
	}
	for i := range got[0] {
		a, b := got[0][i], got[1][i]
		if a != b && !(a != a && b != b) { // NaN in the fixture
			t.Fatalf("value %d: read %v, mapped %v", i, a, b)
		}
	}
}

// TestUint8 checks that uint8 pixels are divided by 255 and (n, 28, 28)
// images are rows of 784.
func TestUint8(t *testing.T) {
	l := NewLoader(nil)
	defer l.Close()
	d, err := l.Rows(fx+"images_u1.npy", 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile(fx + "images_u1.npy")
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows() != 3 || d.Width() != 784 {
		t.Fatalf("%d rows of %d, want 3 of 784", d.Rows(), d.Width())
	}
	for i, v := range all(t, d) {
		if want := a.Data[i] / 255; v != want {
			t.Fatalf("value %d: %v, want %v", i, v, want)
		}
	}
	// Other dtypes are not scaled.
	b, err := npy.ReadFile(fx + "u2_le.npy")
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), b.Data...)
	Scale(b)
	for i := range before {
		if b.Data[i] != before[i] {
			t.Fatalf("uint16 value %d scaled: %v → %v", i, before[i], b.Data[i])
		}
	}
}

// TestWidth reads rows of an asked width and refuses shapes that do not
// hold them.
func TestWidth(t *testing.T) {
	for _, mode := range []Mode{Read, Map} {
		l := NewLoader(&Options{Mode: mode})
		defer l.Close()
		file := fx + "images_f4.npy"
		if d, err := l.Rows(file, 784); err != nil || d.Rows() != 1 {
			t.Fatalf("%v: width 784: %v", mode, err)
		}
		_, err := l.Rows(file, 100)
		if !errors.Is(err, npy.ErrShape) || !strings.Contains(err.Error(), "images_f4.npy") {
			t.Errorf("%v: width 100: %v, want ErrShape naming the file", mode, err)
		}
	}
}

// TestNoRows refuses an empty array and a 0-d one.
func TestNoRows(t *testing.T) {
	for _, c := range []struct {
		mode Mode
		file string
	}{{Read, "empty_f4.npy"}, {Map, "empty_f4.npy"}, {Read, "scalar_f8.npy"}} {
		_, err := NewLoader(&Options{Mode: c.mode}).Rows(fx+c.file, 0)
		if !errors.Is(err, ErrNoRows) || !strings.HasPrefix(err.Error(), fx+c.file+": ") {
			t.Errorf("%v %s: %v, want ErrNoRows naming the file", c.mode, c.file, err)
		}
	}
}

// TestNotMappable: Map refuses what cannot be mapped; Auto and Read read
// it.
func TestNotMappable(t *testing.T) {
	for _, name := range []string{"images_u1.npy", "fortran_f4_3d.npy", "savez_xy.npz", "savez_xy.npz:x"} {
		_, err := NewLoader(&Options{Mode: Map}).Rows(fx+name, 0)
		if !errors.Is(err, npy.ErrNotMappable) || !strings.Contains(err.Error(), fx+name) {
			t.Errorf("Map %s: %v, want ErrNotMappable naming the file", name, err)
		}
		for _, mode := range []Mode{Auto, Read} {
			if _, err := NewLoader(&Options{Mode: mode}).Rows(fx+name, 0); err != nil {
				t.Errorf("%v %s: %v", mode, name, err)
			}
		}
	}
}

// TestNpz reads arrays of an archive by key, within the limits.
func TestNpz(t *testing.T) {
	l := NewLoader(nil)
	x, err := l.Rows(fx+"savez_xy.npz:x", 0)
	if err != nil {
		t.Fatal(err)
	}
	if x.Rows() != 3 || x.Width() != 4 {
		t.Fatalf("x: %d rows of %d, want 3 of 4", x.Rows(), x.Width())
	}
	y, err := l.Targets(x, "x", fx+"savez_xy.npz:y", 1)
	if err != nil || y.Rows() != 3 {
		t.Fatalf("y: %v", err)
	}
	// The limits apply to archives named with and without a key.
	tiny := NewLoader(&Options{Limits: &npy.Options{MaxMemberBytes: 8}})
	for _, name := range []string{"savez_xy.npz:x", "savez_compressed_single.npz"} {
		if _, err := tiny.Rows(fx+name, 0); !errors.Is(err, npy.ErrTooLarge) {
			t.Errorf("%s beyond MaxMemberBytes: %v, want ErrTooLarge", name, err)
		}
	}
}

// TestTargets refuses targets with another row count, naming both files.
func TestTargets(t *testing.T) {
	l := NewLoader(nil)
	_, err := l.Set(fx+"f4_le.npy", fx+"images_u1.npy", 0, 0)
	if !errors.Is(err, train.ErrData) || !strings.Contains(err.Error(), "images_u1.npy has 3 rows, "+fx+"f4_le.npy has 2") {
		t.Errorf("Set with 2 inputs and 3 targets: %v", err)
	}
	s, err := l.Set(fx+"images_u1.npy", fx+"images_u1.npy", 784, 784)
	if err != nil || s.X.Rows() != 3 || s.Y.Rows() != 3 {
		t.Fatalf("Set: %v", err)
	}
	if s, err := l.Set(fx+"images_u1.npy", "", 784, 0); err != nil || s.Y != nil {
		t.Fatalf("Set without targets: %v, Y %v", err, s.Y)
	}
}

// TestAutoLarge: Auto maps a float32 file beyond MapThreshold (a sparse
// file: nothing of it is read).
func TestAutoLarge(t *testing.T) {
	name := filepath.Join(t.TempDir(), "big.npy")
	const rows, width = MapThreshold/4/256 + 1, 256
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strconv.Itoa(rows) + ", " + strconv.Itoa(width) + "), }"
	hdr += strings.Repeat(" ", 127-10-len(hdr)) + "\n"
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append([]byte("\x93NUMPY\x01\x00\x76\x00"), hdr...)); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(128 + rows*width*4); err != nil {
		t.Fatal(err)
	}
	f.Close()
	l := NewLoader(nil)
	defer l.Close()
	d, err := l.Rows(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*npy.Matrix); !ok || d.Rows() != rows || d.Width() != width {
		t.Fatalf("got %T with %d rows of %d, want a mapped *npy.Matrix of %d rows of %d", d, d.Rows(), d.Width(), rows, width)
	}
	if _, err := NewLoader(&Options{Mode: Read}).Rows(name+".npz:x", 0); err == nil {
		t.Fatal("a missing archive was read")
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range [][3]string{
		{"a.npy", "a.npy", ""}, {"d.npz:x", "d.npz", "x"}, {"d.npz", "d.npz", ""},
		{"dir.npz:v/d.npz:k", "dir.npz:v/d.npz", "k"}, {"d.npz:", "d.npz", ""},
	} {
		if f, k := SplitName(c[0]); f != c[1] || k != c[2] {
			t.Errorf("SplitName(%q) = %q, %q; want %q, %q", c[0], f, k, c[1], c[2])
		}
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Auto: "auto", Map: "map", Read: "read", Mode(7): "Mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}
