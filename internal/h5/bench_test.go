//go:build cgo

package h5_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/internal/h5/libhdf5"
)

// BenchmarkRead opens a real Keras file and reads every attribute and
// dataset, with the pure-Go reader and with libhdf5 (the file must be in
// ../shared/keras-real):
//
//	go test -run '^$' -bench Read -benchmem ./internal/h5/
func BenchmarkRead(b *testing.B) {
	p := filepath.Join("..", "..", "..", "shared", "keras-real", "k3_nested_gan_legacy_shivu.h5")
	img, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("%s: %v", p, err)
	}
	b.Run("go", func(b *testing.B) {
		b.SetBytes(int64(len(img)))
		for b.Loop() {
			f, err := h5.Open(img)
			if err != nil {
				b.Fatal(err)
			}
			if err := readAll(f, "/"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("libhdf5", func(b *testing.B) {
		b.SetBytes(int64(len(img)))
		for b.Loop() {
			f, err := libhdf5.Open(img)
			if err != nil {
				b.Fatal(err)
			}
			if err := readAll(f, "/"); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}

// readAll reads the string attributes and numeric datasets under p.
func readAll(r reader, p string) error {
	names, err := r.AttrNames(p)
	if err != nil {
		return err
	}
	for _, a := range names {
		if info, err := r.Attr(p, a); err != nil {
			return err
		} else if info.Class == h5.String {
			if _, err := r.AttrStrings(p, a); err != nil {
				return err
			}
		}
	}
	switch r.Kind(p) {
	case h5.Group:
		kids, err := r.Children(p)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if err := readAll(r, filepath.Join(p, k)); err != nil {
				return err
			}
		}
	case h5.Dataset:
		if _, _, err := r.ReadFloat32(p); err != nil {
			return err
		}
	}
	return nil
}
