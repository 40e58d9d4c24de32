package modelfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
)

const gen = "../fixtures/keras/gen/"

func TestDetect(t *testing.T) {
	onnxBytes, err := os.ReadFile(writeONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		head []byte
		want Format
	}{
		{"hdf5", []byte("\x89HDF\r\n\x1a\n\x00"), Keras},
		{"zip", []byte("PK\x03\x04rest"), Keras},
		{"json", []byte("  \n{\"class_name\""), Keras},
		{"aekit onnx", onnxBytes[:sniffLen], ONNX},
		{"onnx starting with producer_name", []byte("\x12\x07pytorch"), ONNX},
		{"empty", nil, ""},
		{"text", []byte("hello world"), ""},
		{"npy", []byte("\x93NUMPY\x01\x00"), ""},
		{"ir_version 0", []byte("\x08\x00"), ""},
		{"one byte", []byte("\x08"), ""},
	} {
		if got := Detect(c.head); got != c.want {
			t.Errorf("%s: Detect = %q, want %q", c.name, got, c.want)
		}
	}
	// Each Keras fixture is Keras by content, whatever its name.
	for _, f := range []string{"k1_mlp.h5", "k3_autoencoder.keras", "k3_seq.weights.h5", "k3_seq_config.json"} {
		b, err := os.ReadFile(gen + f)
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(b[:sniffLen]); got != Keras {
			t.Errorf("%s: Detect = %q", f, got)
		}
	}
}

// writeONNX writes the Keras 2 nested autoencoder as ONNX and returns its name.
func writeONNX(t *testing.T) string {
	t.Helper()
	m, _, err := keras.ReadFile(gen+"k2_nested_autoencoder.h5", nil)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ae.onnx")
	if err := onnx.WriteFile(out, m, &onnx.ExportOptions{ProducerVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenReadSave(t *testing.T) {
	ox := writeONNX(t)
	// A copy with a name that says nothing: the content decides.
	b, err := os.ReadFile(ox)
	if err != nil {
		t.Fatal(err)
	}
	anon := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(anon, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ox, anon} {
		m, info, err := Open(name, &Options{Model: "decoder"})
		if err != nil {
			t.Fatal(err)
		}
		if info.Format != ONNX || info.ONNX == nil || info.Keras != nil || info.Producer() != "aekit test" {
			t.Errorf("%s: info %+v, producer %q", name, info, info.Producer())
		}
		if m.InputWidth() != 4 || m.OutputWidth() != 20 {
			t.Errorf("%s: decoder maps %d to %d", name, m.InputWidth(), m.OutputWidth())
		}
	}
	m, info, err := Read(bytes.NewReader(b), &Options{Layer: "encoder"})
	if err != nil || info.Format != ONNX || m.OutputWidth() != 4 {
		t.Errorf("Read ONNX: %v, %+v", err, info)
	}
	kb, err := os.ReadFile(gen + "k2_nested_autoencoder.h5")
	if err != nil {
		t.Fatal(err)
	}
	m, info, err = Read(bytes.NewReader(kb), nil)
	if err != nil || info.Format != Keras || info.Keras.Format != keras.FormatH5 || m.OutputWidth() != 20 {
		t.Errorf("Read Keras: %v, %+v", err, info)
	}
	if got := info.String(); got != "Keras HDF5 full model (.h5), written by Keras 2.10.0 (tensorflow)" {
		t.Errorf("String = %q", got)
	}
	// The whole VAE cannot run; its decoder is read alone.
	if _, _, err := Open(gen+"k3_vae.keras", nil); !errors.Is(err, keras.ErrUnsupportedLayer) {
		t.Errorf("whole VAE: %v", err)
	}
	var h *keras.HintError
	if _, _, err := Open(gen+"k3_vae.keras", nil); !errors.As(err, &h) || len(h.Models) != 2 {
		t.Errorf("whole VAE: %v, want a *keras.HintError naming 2 nested models", err)
	}
	enc, _, err := Open(gen+"k3_vae.keras", &Options{Model: "encoder", Output: "z_mean"})
	if err != nil || enc.OutputWidth() != 2 {
		t.Errorf("VAE encoder/z_mean: %v", err)
	}
	// Save by extension and read back.
	dir := t.TempDir()
	for _, ext := range []string{".keras", ".h5", ".onnx"} {
		out := filepath.Join(dir, "m"+ext)
		if err := Save(out, m, nil); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		back, _, err := Open(out, nil)
		if err != nil || back.Params() != m.Params() {
			t.Errorf("%s: %v", ext, err)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ox := writeONNX(t)
	m, _, err := Open(ox, nil)
	if err != nil {
		t.Fatal(err)
	}
	var oe *OptionError
	for _, c := range []struct {
		name string
		err  error
		want error
		msg  string
	}{
		{"junk", second(Open(write("x.bin", "hello world"), nil)), ErrFormat, "x.bin: unknown model format"},
		{"empty", second(Open(write("e.h5", ""), nil)), ErrFormat, "e.h5: unknown model format: empty file"},
		{"empty reader", second(Read(strings.NewReader(""), nil)), ErrFormat, "empty input"},
		{"arch with onnx", second(Open(ox, &Options{Arch: "a.json"})), ErrOption, "Options.Arch applies to Keras weights-only files, not ONNX"},
		{"layer and model", second(Open(ox, &Options{Layer: "x", Model: "y"})), ErrOption, "Options.Layer excludes Model and Output"},
		{"no such layer", second(Open(ox, &Options{Layer: "nope"})), runtime.ErrNotFound, "ae.onnx: "},
		{"folder", second(Open(dir, nil)), nil, "is a directory"},
		{"save .txt", Save(filepath.Join(dir, "m.txt"), m, nil), ErrExtension, `unknown output format ".txt"`},
		{"save .weights.h5", Save(filepath.Join(dir, "m.weights.h5"), m, nil), ErrExtension, "aekit writes full models"},
		{"check .txt", CheckSave(filepath.Join(dir, "m.txt")), ErrExtension, "m.txt"},
		{"opset with .keras", Save(filepath.Join(dir, "m.keras"), m, &SaveOptions{Opset: 17}), ErrOption, "SaveOptions.Opset applies to .onnx outputs only"},
	} {
		if c.err == nil || (c.want != nil && !errors.Is(c.err, c.want)) || !strings.Contains(c.err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v mentioning %q", c.name, c.err, c.want, c.msg)
		}
		if errors.Is(c.err, ErrOption) && !errors.As(c.err, &oe) {
			t.Errorf("%s: ErrOption without an *OptionError", c.name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.keras")); !os.IsNotExist(err) {
		t.Errorf("a refused save left m.keras behind: %v", err)
	}
}

func second[A, B any](_ A, _ B, err error) error { return err }

// TestUserBlock: an HDF5 Keras file with a 512-byte user block before its
// superblock (h5py's userblock_size; tf-keras loads it) is told by content
// and read as the same model as the file without one, by Open and Read.
func TestUserBlock(t *testing.T) {
	const ub = "../internal/h5/testdata/keras_userblock512.h5"
	want, _, err := Open(gen+"k2_nested_autoencoder.h5", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ub)
	if err != nil {
		t.Fatal(err)
	}
	if Detect(b[:16]) != "" || Detect(b[:520]) != Keras {
		t.Errorf("Detect: %q on 16 bytes, %q on 520", Detect(b[:16]), Detect(b[:520]))
	}
	x := make([]float32, 3*want.InputWidth())
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	wy, err := want.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"Open", "Read"} {
		var m *runtime.Model
		var info *Info
		if how == "Open" {
			m, info, err = Open(ub, nil)
		} else {
			m, info, err = Read(bytes.NewReader(b), nil)
		}
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if info.Format != Keras {
			t.Errorf("%s: format %q", how, info.Format)
		}
		y, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y, wy) {
			t.Errorf("%s: outputs differ from the file without a user block", how)
		}
	}
}
