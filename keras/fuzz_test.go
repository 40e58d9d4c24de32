package keras

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// fuzzOptions keeps the fuzzers' allocations small: models of at most
// 2²⁰ parameters and 1 MiB members.
func fuzzOptions() *Options {
	return &Options{ZeroWeights: true, MaxParams: 1 << 20, MaxMemberBytes: 1 << 20, MaxArchiveBytes: 4 << 20, MaxConfigBytes: 1 << 20}
}

// checkKerasError requires err to wrap one of the package's sentinels.
func checkKerasError(t *testing.T, err error) {
	for _, s := range []error{ErrFormat, ErrUnsupportedLayer, ErrUnsupportedGraph, ErrActivation, ErrMissingWeights, ErrNotFound, ErrShape, ErrTooLarge} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error wraps no sentinel: %v", err)
}

// FuzzReadZip checks that Read never panics on .keras zips and fails
// with the package's sentinel errors. Seeds: the .keras fixtures and
// small zips made here (a corrupt weights member stays behind the zip's
// CRC, so the fuzzer explores the zip and JSON layers).
func FuzzReadZip(f *testing.F) {
	for _, name := range []string{"k3_autoencoder.keras", "k3_vae.keras"} {
		if b, err := os.ReadFile(filepath.Join(fixtures, "gen", name)); err == nil {
			f.Add(b)
		}
	}
	for _, name := range []string{"k3_bn.keras", "k3_norm.keras", "k3_unit.keras"} { // normalisation kinds
		if b, err := os.ReadFile(filepath.Join(familyDir, name)); err == nil {
			f.Add(b)
		}
	}
	f.Add(zipOf(f, "config.json", limitArch, "metadata.json", `{"keras_version": "3.1.0"}`))
	f.Add(zipOf(f, "config.json", `{"class_name": "Sequential", "config": []}`, "model.weights.h5", "\x89HDF\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.HasPrefix(b, zipMagic) {
			fuzzRead(t, b)
		}
	})
}

// FuzzArch checks the architecture JSON parser (aekit train --arch, a
// .keras config.json, model.to_json()): no panic, sentinel errors, valid
// models.
func FuzzArch(f *testing.F) {
	f.Add([]byte(limitArch))
	for _, name := range []string{"k2_activations_arch.json", "k3_seq_config.json"} {
		if b, err := os.ReadFile(filepath.Join(fixtures, "gen", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(fuzzRead)
}

// fuzzRead describes b (fuzzDescribe), then reads it with fuzzOptions: an
// error must wrap a sentinel, a model must be valid. Read again with Options.Describe, a model may hold
// runtime.Unsupported layers and nothing else wrong.
func fuzzRead(t *testing.T, b []byte) {
	fuzzDescribe(t, b)
	m, _, err := Read(bytes.NewReader(b), fuzzOptions())
	if err != nil {
		checkKerasError(t, err)
	} else if err := m.Validate(); err != nil {
		t.Fatalf("accepted an invalid model: %v", err)
	}
	opt := fuzzOptions()
	opt.Describe = true
	m, _, err = Read(bytes.NewReader(b), opt)
	if err != nil {
		checkKerasError(t, err)
		return
	}
	if err := m.Validate(); err != nil && !errors.Is(err, runtime.ErrUnsupported) {
		t.Fatalf("Describe accepted an invalid model: %v", err)
	}
}
