package h5

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crafted returns the files of fixtures/crafted/hdf5 as HDF5 images
// (the model.weights.h5 of a .keras zip), by name.
func crafted(t testing.TB) map[string][]byte {
	names, err := filepath.Glob("../../fixtures/crafted/hdf5/*")
	if err != nil || len(names) == 0 {
		t.Fatalf("no crafted HDF5 files: %v", err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".keras") {
			b = zipMember(t, b, "model.weights.h5")
		}
		out[filepath.Base(n)] = b
	}
	return out
}

func zipMember(t testing.TB, b []byte, name string) []byte {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// walkAll reads everything in f as keras might, returning the first error.
func walkAll(f *File) error {
	var visit func(p string, depth int) error
	visit = func(p string, depth int) error {
		if depth > maxPathDepth {
			return nil
		}
		names, err := f.AttrNames(p)
		if err != nil {
			return err
		}
		for _, a := range names {
			if _, err := f.Attr(p, a); err != nil {
				return err
			}
			if _, err := f.AttrStrings(p, a); err != nil && !errors.Is(err, ErrType) {
				return err
			}
			f.HasAttr(p, a)
			f.AttrString(p, a)
		}
		switch f.Kind(p) {
		case Group:
			kids, err := f.Children(p)
			if err != nil {
				return err
			}
			for _, k := range kids {
				if err := visit(join(p, k), depth+1); err != nil {
					return err
				}
			}
		case Dataset:
			if _, _, _, err := f.Dataset(p); err != nil {
				return err
			}
			if _, _, err := f.ReadFloat32(p); err != nil && !errors.Is(err, ErrType) {
				return err
			}
		}
		return nil
	}
	return visit("/", 0)
}

// TestRefused: every crafted file is refused with an error wrapping the
// right sentinel and naming the object.
func TestRefused(t *testing.T) {
	want := map[string]struct {
		err   error
		names []string
	}{
		"efl_relative.h5":    {ErrExternal, []string{"/model_weights/dense_1/dense_1_W", "external file", `"../../../../etc/passwd"`}},
		"efl_watched.h5":     {ErrExternal, []string{"/model_weights/dense_1/dense_1_W", `"aekit-efl-target.bin"`}},
		"efl_weights.keras":  {ErrExternal, []string{"/layers/", `"/etc/passwd"`}},
		"external_link.h5":   {ErrExternal, []string{"/model_weights/dense_1/dense_1_W", "external link", `"/tmp/aekit-crafted-other.h5"`}},
		"virtual_dataset.h5": {ErrExternal, []string{"/model_weights/dense_1/dense_1_W", "virtual"}},
		"soft_dangling.h5":   {ErrExternal, []string{"/model_weights/dense_1/dense_1_W", "soft link", `"/nope/kernel"`}},
		"soft_loop.h5":       {ErrExternal, []string{"/model_weights/dense_1/dense_1_W", "soft link", "loop"}},
		"h5dread_crash.h5":   {ErrFormat, []string{"/model_weights/encoder/enc_2/kernel:0"}},
	}
	files := crafted(t)
	if len(files) != len(want) {
		t.Errorf("%d crafted files, %d expected", len(files), len(want))
	}
	for name, b := range files {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		f, err := open(b, true)
		if err == nil {
			err = walkAll(f) // the crash case opens; reading fails
		}
		if !errors.Is(err, w.err) {
			t.Errorf("%s: %v, want %v", name, err, w.err)
			continue
		}
		for _, s := range w.names {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %s", name, err, s)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error of several lines: %q", name, err)
		}
	}
}

// TestH5DreadCrash: the 2-byte corruption of issue 9, which made libhdf5
// crash in H5Dread, gives a clean error on exactly the corrupt dataset.
func TestH5DreadCrash(t *testing.T) {
	orig, err := os.ReadFile("../../fixtures/keras/gen/k2_nested_autoencoder.h5")
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), orig...)
	b[13328], b[13330] = 0x01, 0x00
	f, err := open(b, true)
	if err != nil {
		t.Fatal(err) // only the dataset's layout message is hit
	}
	_, _, err = f.ReadFloat32("/model_weights/encoder/enc_2/kernel:0")
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "enc_2/kernel:0") {
		t.Errorf("ReadFloat32 = %v", err)
	}
	g, err := open(orig, true)
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := g.ReadFloat32("/model_weights/encoder/enc_2/kernel:0"); err != nil || len(v) != 48 {
		t.Errorf("original: %d values, %v", len(v), err)
	}
}

// TestUserDefinedLink: a link of a user-defined type (made by patching
// the type of the soft link /links/alias in a compact group) is refused,
// naming it.
func TestUserDefinedLink(t *testing.T) {
	b, err := os.ReadFile("testdata/v3_latest.h5")
	if err != nil {
		t.Fatal(err)
	}
	f, err := open(b, true)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.objectAt("/links")
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for _, m := range o.msgs {
		if name, l, err := f.parseLink(m.data); m.typ == msgLink && err == nil && name == "alias" && l.typ == linkSoft {
			if m.data[1]&0x08 == 0 {
				t.Fatal("soft link without a type field")
			}
			at = offsetOf(f, m.data) + 2
		}
	}
	if at < 0 {
		t.Fatal("no compact soft link /links/alias")
	}
	for _, typ := range []byte{65, 255} {
		c := append([]byte(nil), b...)
		c[at] = typ
		_, err := open(c, true)
		if !errors.Is(err, ErrExternal) || !strings.Contains(err.Error(), "/links/alias") || !strings.Contains(err.Error(), "user-defined") {
			t.Errorf("link type %d: %v", typ, err)
		}
	}
}
