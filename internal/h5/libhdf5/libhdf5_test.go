//go:build cgo

package libhdf5

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sharedDir returns the folder of real Keras files, or skips.
func sharedDir(t testing.TB) string {
	dir := os.Getenv("AEKIT_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared")
	}
	dir = filepath.Join(dir, "keras-real")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real Keras files not found at %s (set AEKIT_SHARED): %v", dir, err)
	}
	return dir
}

// hdf5Images returns the HDF5 files among the real files, by name: .h5
// files, HDF5 files misnamed .keras, and the model.weights.h5 inside
// .keras zips.
func hdf5Images(t testing.TB) map[string][]byte {
	dir := sharedDir(t)
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case IsHDF5(b):
			out[filepath.Base(name)] = b
		case bytes.HasPrefix(b, []byte("PK\x03\x04")):
			z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, f := range z.File {
				if f.Name != "model.weights.h5" {
					continue
				}
				r, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				w, err := io.ReadAll(r)
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
				out[filepath.Base(name)+"!model.weights.h5"] = w
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d HDF5 images in %s", len(out), dir)
	}
	return out
}

// node is what the Go side reads of one object, in the shape h5tree.py
// prints.
type node struct {
	Kind   string              `json:"kind"`
	Attrs  map[string]attrNode `json:"attrs"`
	Shape  []int               `json:"shape"`
	SHA256 string              `json:"sha256"`
}

type attrNode struct {
	Class string   `json:"class"`
	VLen  bool     `json:"vlen"`
	CSet  string   `json:"cset"`
	Shape []int    `json:"shape"`
	Value []string `json:"value"`
}

// walk reads every object, attribute and numeric dataset of f.
func walk(t testing.TB, f *File) (map[string]node, error) {
	return walkStrict(t, f, true)
}

// walkStrict is walk; strict checks that children come sorted, which a
// corrupt file need not satisfy.
func walkStrict(t testing.TB, f *File, strict bool) (map[string]node, error) {
	out := map[string]node{}
	var visit func(path string, depth int) error
	visit = func(path string, depth int) error {
		if depth > 32 {
			return errors.New("groups nest deeper than 32: a cycle?")
		}
		k := f.Kind(path)
		if _, err := f.goAttrs(path); strict && errors.Is(err, errUnparsed) {
			t.Errorf("%s: attributes not parsed in Go (libhdf5 fallback): %v", path, err)
		}
		n := node{Kind: k.String(), Attrs: map[string]attrNode{}}
		names, err := f.AttrNames(path)
		if err != nil {
			return err
		}
		for _, a := range names {
			info, err := f.Attr(path, a)
			if err != nil {
				return err
			}
			an := attrNode{Class: info.Class.String(), VLen: info.VarLen, Shape: info.Shape}
			if an.Shape == nil {
				an.Shape = []int{}
			}
			if info.Class == String {
				an.CSet = "ascii"
				if info.UTF8 {
					an.CSet = "utf8"
				}
				if an.Value, err = f.AttrStrings(path, a); err != nil {
					return err
				}
			}
			n.Attrs[a] = an
		}
		switch k {
		case Group:
			kids, err := f.Children(path)
			if err != nil {
				return err
			}
			if !sort.StringsAreSorted(kids) && strict {
				t.Errorf("children of %s not sorted: %q", path, kids)
			}
			for _, c := range kids {
				p := strings.TrimSuffix(path, "/") + "/" + c
				if err := visit(p, depth+1); err != nil {
					return err
				}
			}
		case Dataset:
			cls, _, shape, err := f.Dataset(path)
			if err != nil {
				return err
			}
			n.Shape = shape
			if n.Shape == nil {
				n.Shape = []int{}
			}
			if cls == Float || cls == Integer {
				v, _, err := f.ReadFloat32(path)
				if err != nil {
					return err
				}
				b := make([]byte, 4*len(v))
				for i, x := range v {
					binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
				}
				s := sha256.Sum256(b)
				n.SHA256 = hex.EncodeToString(s[:])
			}
		}
		out[path] = n
		return nil
	}
	err := visit("/", 0)
	return out, err
}

// TestRealFiles opens every real Keras HDF5 file, walks it and reads all
// string attributes and numeric datasets; with h5py available it checks
// every value against h5py's reading.
func TestRealFiles(t *testing.T) {
	imgs := hdf5Images(t)
	var want map[string]map[string]node
	py := pythonH5py(t)
	if py != "" {
		dir := t.TempDir()
		var args []string
		for name, b := range imgs {
			p := filepath.Join(dir, strings.ReplaceAll(name, "!", "__"))
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, p)
		}
		cmd := exec.Command(py, append([]string{"../../../fixtures/keras/h5tree.py", "--values"}, args...)...)
		cmd.Stderr = os.Stderr
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("h5tree.py: %v", err)
		}
		var raw map[string]map[string]node
		if err := json.Unmarshal(outb, &raw); err != nil {
			t.Fatal(err)
		}
		want = map[string]map[string]node{}
		for p, v := range raw {
			want[strings.ReplaceAll(filepath.Base(p), "__", "!")] = v
		}
	}
	strAttrs := 0
	for name, b := range imgs {
		t.Run(name, func(t *testing.T) {
			f, err := Open(b)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := walk(t, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range got {
				for _, a := range n.Attrs {
					if a.Class == "string" {
						strAttrs++
					}
				}
			}
			if want == nil {
				return
			}
			w := want[name]
			if len(w) != len(got) {
				t.Errorf("Go sees %d objects, h5py %d", len(got), len(w))
			}
			for p, wn := range w {
				gn, ok := got[p]
				if !ok {
					t.Errorf("%s: missing in Go walk", p)
					continue
				}
				if gn.Kind != wn.Kind || !slices.Equal(gn.Shape, wn.Shape) || gn.SHA256 != wn.SHA256 {
					t.Errorf("%s: Go %s %v %.8s, h5py %s %v %.8s", p, gn.Kind, gn.Shape, gn.SHA256, wn.Kind, wn.Shape, wn.SHA256)
				}
				if len(gn.Attrs) != len(wn.Attrs) {
					t.Errorf("%s: Go sees %d attributes, h5py %d", p, len(gn.Attrs), len(wn.Attrs))
				}
				for an, wa := range wn.Attrs {
					ga := gn.Attrs[an]
					if ga.Class != wa.Class || ga.VLen != wa.VLen || ga.CSet != wa.CSet || !slices.Equal(ga.Shape, wa.Shape) || !slices.Equal(ga.Value, wa.Value) {
						t.Errorf("%s@%s: Go %+v\nh5py %+v", p, an, ga, wa)
					}
				}
			}
		})
	}
	t.Logf("%d files, %d string attributes read", len(imgs), strAttrs)
}

// pythonH5py returns /usr/bin/python3 if it can import h5py and numpy, or
// "" (or fails the test when AEKIT_INTEROP=1).
func pythonH5py(t testing.TB) string {
	const py = "/usr/bin/python3"
	err := exec.Command(py, "-c", "import h5py, numpy").Run()
	if err == nil {
		return py
	}
	if os.Getenv("AEKIT_INTEROP") == "1" {
		t.Fatalf("AEKIT_INTEROP=1 but %s cannot import h5py and numpy: %v", py, err)
	}
	t.Logf("h5py checks skipped: %s cannot import h5py and numpy: %v", py, err)
	return ""
}

// TestBadImages, which corrupted files and read them with libhdf5, moved
// to package h5: libhdf5 no longer reads files aekit is given (only what
// aekit itself wrote, and the oracle's fixtures), and it is not hardened
// against crafted input, which is why aekit reads through its own reader.
