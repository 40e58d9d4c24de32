package keras

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/h5/libhdf5"
	"github.com/aekit/aekit/internal/limits"
)

// zipOf packs members (name, content) into a zip, deflated.
func zipOf(t testing.TB, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for i := 0; i < len(members); i += 2 {
		w, err := z.CreateHeader(&zip.FileHeader{Name: members[i], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(members[i+1]))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const limitArch = `{"class_name": "Sequential", "config": {"name": "s", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 100]}},
 {"class_name": "Dense", "config": {"name": "a", "units": 50, "activation": "relu"}},
 {"class_name": "Sequential", "config": {"name": "inner", "layers": [
  {"class_name": "Dense", "config": {"name": "b", "units": 100, "activation": "sigmoid"}}]}}]},
 "keras_version": "2.15.0"}`

// TestLimits checks each limit of Options: the default accepts the
// model, a limit below it refuses it with an error wrapping ErrTooLarge
// that names the Options field.
func TestLimits(t *testing.T) {
	arch := []byte(limitArch)
	if _, _, err := Read(bytes.NewReader(arch), &Options{ZeroWeights: true}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	// 100·50+50 + 50·100+100 = 10150 parameters in 4 layers (the InputLayer and nested ones
	// included), nested 8 deep, 300-odd bytes.
	for _, c := range []struct {
		field string
		opt   Options
		in    []byte
	}{
		{"MaxParams", Options{MaxParams: 10149}, arch},
		{"MaxLayers", Options{MaxLayers: 3}, arch},
		{"MaxConfigDepth", Options{MaxConfigDepth: 7}, arch},
		{"MaxConfigBytes", Options{MaxConfigBytes: 100}, arch},
		{"MaxConfigBytes", Options{MaxConfigBytes: 100}, zipOf(t, "config.json", limitArch)},
		{"MaxMemberBytes", Options{MaxMemberBytes: 100}, zipOf(t, "config.json", limitArch)},
		{"MaxArchiveBytes", Options{MaxArchiveBytes: 400}, zipOf(t, "metadata.json", "{}", "config.json", limitArch, "model.weights.h5", strings.Repeat("x", 200))},
		{"MaxMemberRatio", Options{}, zipOf(t, "config.json", limitArch, "model.weights.h5", strings.Repeat("\x00", 9<<20))},
	} {
		c.opt.ZeroWeights = true
		_, _, err := Read(bytes.NewReader(c.in), &c.opt)
		var le *limits.Error
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &le) || le.Field != c.field || !strings.Contains(err.Error(), "keras.Options."+c.field) {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	// At the limit passes.
	if _, _, err := Read(bytes.NewReader(arch), &Options{ZeroWeights: true, MaxParams: 10150, MaxLayers: 4, MaxConfigDepth: 8}); err != nil {
		t.Errorf("at the limits: %v", err)
	}
	// An overflow-sized model is refused by its count, not by allocating.
	big := strings.Replace(limitArch, `"units": 50`, `"units": 16384`, 1)
	big = strings.Replace(big, `[null, 100]`, `[null, 16384]`, 1)
	_, _, err := Read(strings.NewReader(big), &Options{ZeroWeights: true, MaxParams: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "268451840 parameters") {
		t.Errorf("big: %v", err)
	}
}

func TestZipRefusals(t *testing.T) {
	dup := zipOf(t, "config.json", limitArch, "config.json", "{}")
	if _, _, err := Read(bytes.NewReader(dup), nil); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "two members") {
		t.Errorf("duplicate: %v", err)
	}
	enc := zipOf(t, "config.json", limitArch)
	i := bytes.Index(enc, []byte("PK\x01\x02"))
	enc[6] |= 1
	enc[i+8] |= 1
	if _, _, err := Read(bytes.NewReader(enc), nil); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted: %v", err)
	}
}

func TestArchNotRegular(t *testing.T) {
	_, _, err := ReadFile("/dev/zero", nil)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := os.Stat("../fixtures/keras/gen/k3_seq.weights.h5"); err != nil {
		t.Fatal(err) // a committed fixture
	}
	_, _, err = ReadFile("../fixtures/keras/gen/k3_seq.weights.h5", &Options{Arch: "/dev/zero"})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("--arch /dev/zero: %v", err)
	}
}

// TestZipLyingSize: a member that inflates past the size the directory
// declares (which the limits checked) fails instead of growing.
func TestZipLyingSize(t *testing.T) {
	b := zipOf(t, "config.json", limitArch)
	cd := bytes.Index(b, []byte("PK\x01\x02"))
	b[cd+24], b[cd+25], b[cd+26], b[cd+27] = 10, 0, 0, 0 // uncompressed size 10
	_, _, err := Read(bytes.NewReader(b), &Options{ZeroWeights: true})
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "config.json: zip: not a valid zip file") {
		t.Errorf("lying size: %v", err)
	}
}

// TestModelConfigLimits checks that the model_config attribute of a full
// .h5 file goes through the same JSON size and depth limits as
// config.json and --arch files.
func TestModelConfigLimits(t *testing.T) {
	needWriter(t)
	deep := strings.Repeat("[", 150) + strings.Repeat("]", 150)
	f, err := libhdf5.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetAttrString("/", "model_config", deep, libhdf5.StringType{VarLen: true, UTF8: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.CreateGroup("/model_weights"); err != nil {
		t.Fatal(err)
	}
	img, err := f.Image()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Read(bytes.NewReader(img), nil)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxConfigDepth") || !strings.Contains(err.Error(), "model_config") {
		t.Fatalf("deep model_config: %v; want ErrTooLarge naming model_config and MaxConfigDepth", err)
	}
	_, _, err = Read(bytes.NewReader(img), &Options{MaxConfigBytes: 100})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxConfigBytes") {
		t.Fatalf("model_config over MaxConfigBytes: %v; want ErrTooLarge naming MaxConfigBytes", err)
	}
}
