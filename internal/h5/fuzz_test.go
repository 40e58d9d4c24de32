package h5

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzWalk reads everything reachable in f, every object once, ignoring
// errors: the point is that nothing panics, hangs or allocates without
// bound.
func fuzzWalk(f *File) {
	seen := map[uint64]bool{}
	var visit func(p string, depth int)
	visit = func(p string, depth int) {
		a, err := f.resolve(p)
		if err != nil || seen[a] || depth > maxPathDepth {
			return
		}
		seen[a] = true
		names, _ := f.AttrNames(p)
		for _, n := range names {
			f.Attr(p, n)
			f.AttrStrings(p, n)
			f.AttrString(p, n)
			f.HasAttr(p, n)
		}
		switch f.Kind(p) {
		case Group:
			kids, _ := f.Children(p)
			for _, k := range kids {
				visit(join(p, k), depth+1)
			}
		case Dataset:
			f.Dataset(p)
			f.ReadFloat32(p)
		}
	}
	visit("/", 0)
	f.Kind("/nope/x")
	f.Children("/nope")
	f.AttrStrings("/", "nope")
}

// fuzzSeeds returns every HDF5 image under fixtures/ (and the
// model.weights.h5 of .keras zips) and in testdata; with crafted, also
// those of fixtures/crafted/hdf5, which must be refused.
func fuzzSeeds(t testing.TB, crafted bool) [][]byte {
	var out [][]byte
	err := filepath.WalkDir("../../fixtures", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "crafted" && !crafted {
			return filepath.SkipDir
		}
		// The rest of fixtures/crafted is other decoders' corpus (zip
		// bombs among it): only crafted/hdf5 is this reader's.
		if err == nil && d.IsDir() && filepath.Base(filepath.Dir(p)) == "crafted" && d.Name() != "hdf5" {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "crafted" {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".keras") && strings.HasPrefix(string(b), "PK"):
			out = append(out, zipMember(t, b, "model.weights.h5"))
		case IsHDF5(b):
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	td, _ := filepath.Glob("testdata/*.h5")
	for _, p := range td {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if len(out) < 10 {
		t.Fatalf("only %d seeds", len(out))
	}
	return out
}

// FuzzOpen opens arbitrary bytes and reads everything in them. It runs
// with panics let through (open's strict mode): a panic is a bug even
// though Open would recover it.
func FuzzOpen(f *testing.F) {
	for _, b := range fuzzSeeds(f, true) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := open(b, true)
		if err != nil {
			return
		}
		fuzzWalk(h)
	})
}
