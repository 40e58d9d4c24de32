//go:build cgo

package h5_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/internal/h5/h5test"
	"github.com/aekit/aekit/internal/h5/libhdf5"
	"github.com/aekit/aekit/keras"
)

// reader is what both h5.File and libhdf5.File read.
type reader interface {
	Kind(path string) h5.Kind
	Children(path string) ([]string, error)
	AttrNames(path string) ([]string, error)
	Attr(path, name string) (h5.AttrInfo, error)
	AttrStrings(path, name string) ([]string, error)
	Dataset(path string) (h5.Class, int, []int, error)
	ReadFloat32(path string) ([]float32, []int, error)
}

// describe walks r and returns one line per object and attribute, with
// dataset values as float32 bit patterns.
func describe(r reader) (map[string]string, error) {
	out := map[string]string{}
	var visit func(p string, depth int) error
	visit = func(p string, depth int) error {
		if depth > 64 {
			return errors.New("too deep")
		}
		k := r.Kind(p)
		names, err := r.AttrNames(p)
		if err != nil {
			return fmt.Errorf("%s: AttrNames: %w", p, err)
		}
		for _, a := range names {
			info, err := r.Attr(p, a)
			if err != nil {
				return fmt.Errorf("%s@%s: %w", p, a, err)
			}
			line := fmt.Sprintf("%+v", info)
			if info.Class == h5.String || info.Len() == 0 {
				s, err := r.AttrStrings(p, a)
				if err != nil {
					return fmt.Errorf("%s@%s: %w", p, a, err)
				}
				line += fmt.Sprintf(" %q", s)
			}
			out[p+"@"+a] = line
		}
		switch k {
		case h5.Group:
			kids, err := r.Children(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			out[p] = fmt.Sprintf("group %q", kids)
			for _, c := range kids {
				if err := visit(strings.TrimSuffix(p, "/")+"/"+c, depth+1); err != nil {
					return err
				}
			}
		case h5.Dataset:
			cls, size, shape, err := r.Dataset(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			line := fmt.Sprintf("dataset %v %v", cls, shape)
			if cls == h5.Float || cls == h5.Integer {
				line = fmt.Sprintf("dataset %v/%d %v", cls, size, shape)
				v, _, err := r.ReadFloat32(p)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				var b strings.Builder
				for _, x := range v {
					fmt.Fprintf(&b, " %08x", math.Float32bits(x))
				}
				line += b.String()
			}
			out[p] = line
		default:
			out[p] = "none"
		}
		return nil
	}
	return out, visit("/", 0)
}

// images returns the HDF5 files the readers must agree on, by name.
func images(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	add := func(name string, b []byte) {
		switch {
		case h5.IsHDF5(b):
			out[name] = b
		case bytes.HasPrefix(b, []byte("PK\x03\x04")):
			out[name+"!model.weights.h5"] = h5.ZipMember(t, b, "model.weights.h5")
		}
	}
	var files []string
	err := filepath.WalkDir("../../fixtures", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "crafted" {
			return filepath.SkipDir // files that must be refused
		}
		if strings.HasSuffix(p, ".h5") || strings.HasSuffix(p, ".keras") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	td, _ := filepath.Glob("testdata/*.h5")
	files = append(files, td...)
	if dir := filepath.Join("..", "..", "..", "shared", "keras-real"); dirExists(dir) {
		real, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, real...)
	} else {
		t.Logf("%s absent: real Keras files not compared", dir)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		add(p, b)
	}
	return out
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// TestOracle checks that the pure-Go reader and libhdf5 read the same
// tree, attributes and values from every HDF5 fixture, every real Keras
// file and every crafted variant in testdata.
func TestOracle(t *testing.T) {
	imgs := images(t)
	if len(imgs) < 10 {
		t.Fatalf("only %d HDF5 images found", len(imgs))
	}
	imgs["writer"] = h5test.Sample(t)
	// Models as aekit's keras package writes them.
	for i, c := range conformance.Cases() {
		if i%4 != 0 {
			continue // a sample keeps the test quick
		}
		for _, format := range []keras.Format{keras.FormatH5, keras.FormatKeras} {
			var buf bytes.Buffer
			if err := keras.Write(&buf, c.Model, format); errors.Is(err, keras.ErrActivation) {
				continue // not expressible in this format
			} else if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			name := "aekit-" + c.Name + "." + string(format)
			if format == keras.FormatKeras {
				imgs[name] = h5.ZipMember(t, buf.Bytes(), "model.weights.h5")
			} else {
				imgs[name] = buf.Bytes()
			}
		}
	}
	names := make([]string, 0, len(imgs))
	for n := range imgs {
		names = append(names, n)
	}
	sort.Strings(names)
	objects := 0
	for _, name := range names {
		b := imgs[name]
		t.Run(filepath.Base(name), func(t *testing.T) {
			g, err := h5.Open(b)
			if err != nil {
				t.Fatalf("Go: %v", err)
			}
			defer g.Close()
			c, err := libhdf5.Open(b)
			if err != nil {
				t.Fatalf("libhdf5: %v", err)
			}
			defer c.Close()
			want, err := describe(c)
			if err != nil {
				t.Fatalf("libhdf5: %v", err)
			}
			got, err := describe(g)
			if err != nil {
				t.Fatalf("Go: %v", err)
			}
			objects += len(got)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s:\n Go      %.300s\n libhdf5 %.300s", k, got[k], w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: only Go sees it", k)
				}
			}
		})
	}
	t.Logf("%d files, %d objects and attributes agree", len(imgs), objects)
}
