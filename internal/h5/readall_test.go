package h5

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadAll reads every object, attribute and dataset of every valid
// HDF5 fixture, variant and real Keras file without an error (and, with
// cgo, TestOracle checks the values against libhdf5).
func TestReadAll(t *testing.T) {
	imgs := validImages(t)
	for i, b := range imgs {
		f, err := open(b, true)
		if err != nil {
			t.Errorf("image %d: %v", i, err)
			continue
		}
		if err := walkAll(f); err != nil {
			t.Errorf("image %d: %v", i, err)
		}
	}
	t.Logf("%d images read", len(imgs))
}

// validImages returns every valid HDF5 image the tests read: the
// fixtures' and testdata's (fuzzSeeds without the crafted corpus) and
// those of ../shared/keras-real (the model.weights.h5 of its .keras
// zips), in a fixed order.
func validImages(t *testing.T) [][]byte {
	imgs := fuzzSeeds(t, false)
	dir := filepath.Join("..", "..", "..", "shared", "keras-real")
	real, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(real) == 0 {
		t.Logf("%s absent: real Keras files not read", dir)
	}
	for _, p := range real {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case IsHDF5(b):
			imgs = append(imgs, b)
		case strings.HasPrefix(string(b), "PK"):
			imgs = append(imgs, zipMember(t, b, "model.weights.h5"))
		}
	}
	return imgs
}
