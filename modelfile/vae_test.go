package modelfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/train"
)

func TestVAEFiles(t *testing.T) {
	for _, c := range [][3]string{
		{"vae.keras", "vae.keras", "vae.keras"}, {"d/vae.KERAS", "d/vae.KERAS", "d/vae.KERAS"},
		{"d/vae.onnx", "d/vae.encoder.onnx", "d/vae.decoder.onnx"}, {"v.h5", "v.encoder.h5", "v.decoder.h5"},
	} {
		if e, d := modelfile.VAEFiles(c[0]); e != c[1] || d != c[2] {
			t.Errorf("VAEFiles(%s) = %s, %s; want %s, %s", c[0], e, d, c[1], c[2])
		}
	}
}

// TestSaveVAE writes a VAE in each format and opens what it wrote: the
// encoder's output is z_mean and z_log_var (2·latent values), the
// decoder maps codes back to the input width.
func TestSaveVAE(t *testing.T) {
	const width, latent = 8, 2
	a, err := train.ParseVAE("4:relu|2:vae|4:relu,8:sigmoid")
	if err != nil {
		t.Fatal(err)
	}
	v, err := train.BuildVAE(width, a, train.GlorotUniform, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, ext := range []string{".keras", ".onnx", ".h5"} {
		path := filepath.Join(dir, "vae"+ext)
		if err := modelfile.SaveVAE(path, v.Encoder, v.Decoder); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		encPath, decPath := modelfile.VAEFiles(path)
		var encOpt, decOpt *modelfile.Options
		if ext == ".keras" {
			encOpt, decOpt = &modelfile.Options{Model: "encoder", Output: "z_mean"}, &modelfile.Options{Model: "decoder"}
		}
		enc, _, err := modelfile.Open(encPath, encOpt)
		if err != nil {
			t.Fatalf("%s encoder: %v", ext, err)
		}
		wantOut := 2 * latent
		if ext == ".keras" {
			wantOut = latent // z_mean alone
		}
		if enc.InputWidth() != width || enc.OutputWidth() != wantOut {
			t.Errorf("%s encoder maps %d to %d values, want %d to %d", ext, enc.InputWidth(), enc.OutputWidth(), width, wantOut)
		}
		dec, _, err := modelfile.Open(decPath, decOpt)
		if err != nil {
			t.Fatalf("%s decoder: %v", ext, err)
		}
		if dec.InputWidth() != latent || dec.OutputWidth() != width {
			t.Errorf("%s decoder maps %d to %d values, want %d to %d", ext, dec.InputWidth(), dec.OutputWidth(), latent, width)
		}
		if ext == ".keras" {
			if _, err := os.Stat(filepath.Join(dir, "vae.encoder.keras")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf(".keras: a second file was written (%v)", err)
			}
		}
	}
	// An unknown extension writes nothing.
	bad := filepath.Join(dir, "vae.txt")
	if err := modelfile.SaveVAE(bad, v.Encoder, v.Decoder); !errors.Is(err, modelfile.ErrExtension) {
		t.Errorf("vae.txt: %v, want ErrExtension", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "vae.encoder.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("vae.txt: a file was written (%v)", err)
	}
}
