package keras

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// vaeFixture builds a VAE as aekit train does, with biases made nonzero so
// that a swapped or misplaced bias shows.
func vaeFixture(t *testing.T, spec string, width int) *train.VAE {
	t.Helper()
	a, err := train.ParseVAE(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, err := train.BuildVAE(width, a, train.GlorotUniform, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		for _, l := range m.Layers {
			for i := range l.Bias {
				l.Bias[i] = float32(r.NormFloat64() * 0.3)
			}
		}
	}
	return v
}

func vaeInput(rows, width int) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, rows*width)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// vaeWant returns aekit's z_mean, z_log_var (rows of latent each) for x
// and its decoder's output for codes.
func vaeWant(t *testing.T, v *train.VAE, x, codes []float32) (zMean, zLogVar, dec []float32) {
	t.Helper()
	e, err := v.Encoder.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	L := v.Latent
	for i := 0; i < len(e); i += 2 * L {
		zMean = append(zMean, e[i:i+L]...)
		zLogVar = append(zLogVar, e[i+L:i+2*L]...)
	}
	dec, err = v.Decoder.Predict(nil, codes)
	if err != nil {
		t.Fatal(err)
	}
	return zMean, zLogVar, dec
}

func closeTo(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > 1e-6+1e-5*math.Abs(float64(want[i])) {
			t.Fatalf("%s[%d] = %g, want %g (|diff| %g)", what, i, got[i], want[i], d)
		}
		worst = max(worst, d)
	}
	t.Logf("%s: %d values, max |diff| %.3g", what, len(want), worst)
}

// TestWriteVAEReadBack writes a VAE and reads its encoder heads and
// decoder back with aekit's reader: bit for bit equal outputs.
func TestWriteVAEReadBack(t *testing.T) {
	for _, spec := range []string{"6:relu,5:tanh|3:vae|6:relu,8:sigmoid", "2:vae|8:sigmoid"} {
		v := vaeFixture(t, spec, 8)
		name := filepath.Join(t.TempDir(), "vae.keras")
		if err := WriteVAEFile(name, v.Encoder, v.Decoder); err != nil {
			t.Fatal(err)
		}
		x := vaeInput(4, 8)
		codes := vaeInput(3, v.Latent)
		zm, zlv, dec := vaeWant(t, v, x, codes)
		for _, c := range []struct {
			model, output string
			in, want      []float32
		}{{"encoder", "z_mean", x, zm}, {"encoder", "z_log_var", x, zlv}, {"decoder", "", codes, dec}} {
			m, _, err := ReadFile(name, &Options{Model: c.model, Output: c.output})
			if err != nil {
				t.Fatalf("%s: %s %s: %v", spec, c.model, c.output, err)
			}
			got, err := m.Predict(nil, c.in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.want {
				if got[i] != c.want[i] {
					t.Fatalf("%s: %s %s[%d] = %g, want %g", spec, c.model, c.output, i, got[i], c.want[i])
				}
			}
		}
		// The whole model: the sampling layer cannot run; the error names
		// it and the parts that load alone.
		_, _, err := ReadFile(name, &Options{Describe: true})
		if err == nil || !errors.Is(err, ErrUnsupportedLayer) || !strings.Contains(err.Error(), `layer "z" of class "Sampling"`) ||
			!strings.Contains(err.Error(), "encoder (outputs z_mean, z_log_var, z), decoder") {
			t.Errorf("%s: whole VAE: %v, want ErrUnsupportedLayer naming Sampling and the nested models", spec, err)
		}
	}
}

func TestWriteVAEBad(t *testing.T) {
	v := vaeFixture(t, "6:relu|2:vae|8:sigmoid", 8)
	other := vaeFixture(t, "6:relu|3:vae|8:sigmoid", 8)
	for _, c := range []struct {
		name     string
		enc, dec *runtime.Model
	}{{"latent mismatch", v.Encoder, other.Decoder}, {"nil", nil, v.Decoder}, {"decoder as encoder", v.Decoder, v.Decoder}} {
		if err := WriteVAE(new(discard), c.enc, c.dec); err == nil {
			t.Errorf("%s: no error", c.name)
		} else if c.name != "decoder as encoder" && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v does not wrap ErrFormat", c.name, err)
		}
	}
	if err := WriteVAEFile(filepath.Join(t.TempDir(), "vae.h5"), v.Encoder, v.Decoder); !errors.Is(err, ErrFormat) {
		t.Errorf(".h5: %v, want ErrFormat", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// vaeLoadScript loads a VAE aekit wrote, with the Sampling class passed
// as a custom object (argv[4] "custom") or registered ("register"), and
// prints z_mean, z_log_var of encoder(x), decoder(codes), vae(x)'s shape
// and the layer names.
const vaeLoadScript = `
import json, sys
import numpy as np
import keras

class Sampling(keras.layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(keras.ops.shape(z_mean))
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps

path, xf, cf, how = sys.argv[1:5]
if how == "register":
    keras.saving.register_keras_serializable(package="aekit")(Sampling)
    vae = keras.saving.load_model(path)
else:
    vae = keras.saving.load_model(path, custom_objects={"aekit>Sampling": Sampling})
enc = vae.get_layer("encoder")
dec = vae.get_layer("decoder")
x = np.load(xf); c = np.load(cf)
zm, zlv, z = enc(x)
out = {
    "z_mean": np.asarray(zm).ravel().tolist(),
    "z_log_var": np.asarray(zlv).ravel().tolist(),
    "z_shape": list(np.asarray(z).shape),
    "decoder": np.asarray(dec(c)).ravel().tolist(),
    "vae_shape": list(np.asarray(vae(x)).shape),
    "encoder_layers": [l.name for l in enc.layers],
    "sampling_class": type(enc.get_layer("z")).__name__,
}
print(json.dumps(out))
`

// TestKerasLoadsVAE: Keras 3 loads the .keras VAE aekit writes, with the
// Sampling class as a custom object or registered; encoder(x)'s z_mean
// and z_log_var and decoder(codes) equal aekit's (|diff| ≤ 1e-6 +
// 1e-5·|want|), and the encoder, decoder, z_mean, z_log_var and z layers
// are addressable by name.
func TestKerasLoadsVAE(t *testing.T) {
	py := interop.Python(t, "keras")
	dir := t.TempDir()
	script := filepath.Join(dir, "load_vae.py")
	if err := os.WriteFile(script, []byte(vaeLoadScript), 0o644); err != nil {
		t.Fatal(err)
	}
	// With hidden encoder layers, and without (z_mean on the input).
	for ci, c := range []struct {
		spec string
		hows []string
	}{{"6:relu,5:tanh|3:vae|6:relu,8:sigmoid", []string{"custom", "register"}}, {"2:vae|8:sigmoid", []string{"custom"}}} {
		v := vaeFixture(t, c.spec, 8)
		name := filepath.Join(dir, fmt.Sprintf("vae%d.keras", ci))
		if err := WriteVAEFile(name, v.Encoder, v.Decoder); err != nil {
			t.Fatal(err)
		}
		x := vaeInput(4, 8)
		codes := vaeInput(3, v.Latent)
		xf, cf := filepath.Join(dir, fmt.Sprintf("x%d.npy", ci)), filepath.Join(dir, fmt.Sprintf("c%d.npy", ci))
		if err := npy.WriteFile(xf, &npy.Array{Shape: []int{4, 8}, Data: x}); err != nil {
			t.Fatal(err)
		}
		if err := npy.WriteFile(cf, &npy.Array{Shape: []int{3, v.Latent}, Data: codes}); err != nil {
			t.Fatal(err)
		}
		zm, zlv, dec := vaeWant(t, v, x, codes)
		for _, how := range c.hows {
			var got struct {
				ZMean         []float32 `json:"z_mean"`
				ZLogVar       []float32 `json:"z_log_var"`
				Decoder       []float32 `json:"decoder"`
				ZShape        []int     `json:"z_shape"`
				VAEShape      []int     `json:"vae_shape"`
				EncoderLayers []string  `json:"encoder_layers"`
				SamplingClass string    `json:"sampling_class"`
			}
			out := interop.Run(t, py, script, name, xf, cf, how)
			if err := json.Unmarshal(lastJSON(out), &got); err != nil {
				t.Fatalf("%s: %v\n%s", how, err, out)
			}
			closeTo(t, c.spec+" "+how+" z_mean", got.ZMean, zm)
			closeTo(t, c.spec+" "+how+" z_log_var", got.ZLogVar, zlv)
			closeTo(t, c.spec+" "+how+" decoder", got.Decoder, dec)
			if len(got.ZShape) != 2 || got.ZShape[0] != 4 || got.ZShape[1] != v.Latent {
				t.Errorf("%s: z shape %v", how, got.ZShape)
			}
			if len(got.VAEShape) != 2 || got.VAEShape[0] != 4 || got.VAEShape[1] != 8 {
				t.Errorf("%s: vae(x) shape %v", how, got.VAEShape)
			}
			if got.SamplingClass != "Sampling" {
				t.Errorf("%s: layer z is a %s", how, got.SamplingClass)
			}
			names := strings.Join(got.EncoderLayers, " ")
			if !strings.Contains(names, "z_mean z_log_var z") {
				t.Errorf("%s: encoder layers %v, want z_mean, z_log_var, z last", how, got.EncoderLayers)
			}
		}
	}
}

// lastJSON returns the last line of out (the script's JSON; Keras may log
// before it).
func lastJSON(out []byte) []byte {
	lines := splitLines(out)
	for i := len(lines) - 1; i >= 0; i-- {
		if len(lines[i]) > 0 && lines[i][0] == '{' {
			return lines[i]
		}
	}
	return out
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, b[start:i])
			start = i + 1
		}
	}
	return append(out, b[start:])
}
