package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
)

// TestTrainVAE trains a small VAE from the --layers spelling: epoch lines
// with the three losses, the history and JSON summary, encoder and
// decoder files (ONNX and .keras) that aekit reads back with the right
// widths, generation from codes with predict, and the flags a VAE refuses.
func TestTrainVAE(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "x.npy")
	writeData(t, data, 300, 20, 1)
	for _, ext := range []string{".onnx", ".keras"} {
		out := filepath.Join(dir, "vae"+ext)
		hist := filepath.Join(dir, "h"+ext+".csv")
		code, stdout, stderr := runTrainCmd("--data", data, "--layers", "16:relu|2:vae|16:relu,20:sigmoid", "--epochs", "5",
			"--batch-size", "32", "--verbose", "2", "--history", hist, "-o", out)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", ext, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[4], "Epoch 5/5 - 10/10 - ") ||
			!strings.Contains(lines[4], " - loss: ") || !strings.Contains(lines[4], " - reconstruction_loss: ") || !strings.Contains(lines[4], " - kl_loss: ") {
			t.Fatalf("%s: epoch lines %q", ext, stdout)
		}
		h, err := os.ReadFile(hist)
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(string(h)), "\n")
		if len(rows) != 6 || rows[0] != "epoch,loss,reconstruction_loss,kl_loss,seconds" {
			t.Fatalf("%s: history %q", ext, h)
		}
		var v [5]float64
		f := strings.Split(rows[5], ",")
		for i := range v {
			if len(f) == 5 {
				v[i], err = strconv.ParseFloat(f[i], 64)
			}
		}
		if e, loss, rec, kl := v[0], v[1], v[2], v[3]; len(f) != 5 || err != nil || e != 5 || math.Abs(loss-(rec+kl)) > 1e-9*loss || !(kl > 0) {
			t.Errorf("%s: last history row %q (%v)", ext, rows[5], err)
		}
		// .onnx: two files, the encoder's output z_mean and z_log_var
		// concatenated; .keras: one file with nested models encoder (read
		// up to z_mean) and decoder.
		enc, dec := vaeOutputs(out)
		encOpt, decOpt, encWidth, decArgs := (*modelfile.Options)(nil), (*modelfile.Options)(nil), 4, []string(nil)
		if ext == ".keras" {
			if _, err := os.Stat(enc); err == nil {
				t.Errorf("%s: wrote %s; want one file", ext, enc)
			}
			enc, dec = out, out
			encOpt, decOpt, encWidth = &modelfile.Options{Model: "encoder", Output: "z_mean"}, &modelfile.Options{Model: "decoder"}, 2
			decArgs = []string{"--model", "decoder"}
		}
		me, _, err := modelfile.Open(enc, encOpt)
		if err != nil {
			t.Fatal(err)
		}
		if ext == ".onnx" {
			if _, info, err := onnx.ReadFile(enc); err != nil || !slices.Equal(info.SplitOutputs, []string{"z_mean", "z_log_var"}) {
				t.Errorf("%s: encoder outputs %v (%v), want z_mean, z_log_var", ext, info, err)
			}
		}
		md, _, err := modelfile.Open(dec, decOpt)
		if err != nil {
			t.Fatal(err)
		}
		if me.InputWidth() != 20 || me.OutputWidth() != encWidth || md.InputWidth() != 2 || md.OutputWidth() != 20 {
			t.Errorf("%s: encoder %d→%d, decoder %d→%d; want 20→%d and 2→20", ext, me.InputWidth(), me.OutputWidth(), md.InputWidth(), md.OutputWidth(), encWidth)
		}
		// Generate from codes.
		codes := filepath.Join(dir, "codes.npy")
		if err := npy.WriteFile(codes, &npy.Array{Shape: []int{3, 2}, Data: []float32{0, 0, 1, -1, -2, 0.5}}); err != nil {
			t.Fatal(err)
		}
		gen := filepath.Join(dir, "gen"+ext+".npy")
		runOK(t, append([]string{"predict", dec, "-i", codes, "-o", gen}, decArgs...)...)
		g, err := npy.ReadFile(gen)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Shape) != 2 || g.Shape[0] != 3 || g.Shape[1] != 20 {
			t.Errorf("%s: generated shape %v, want [3 20]", ext, g.Shape)
		}
		want, err := md.Predict(nil, []float32{0, 0, 1, -1, -2, 0.5})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range want {
			if g.Data[i] != v || !(v > 0 && v < 1) {
				t.Fatalf("%s: generated[%d] = %g, decoder %g", ext, i, g.Data[i], v)
			}
		}
		if ext == ".keras" {
			zm := filepath.Join(dir, "zmean.npy")
			runOK(t, "predict", out, "--model", "encoder", "--output", "z_mean", "-i", data, "-o", zm)
			z, err := npy.ReadFile(zm)
			if err != nil {
				t.Fatal(err)
			}
			x, err := npy.ReadFile(data)
			if err != nil {
				t.Fatal(err)
			}
			// predict runs 256 rows at a time (its --batch-size): the
			// same bits as the encoder run on the same batches (a batch
			// under runtime.PackedMinRows rows multiplies through Gemm,
			// whose bits differ from the packed kernels' on some CPUs,
			// e.g. OpenBLAS's Haswell kernels on an AMD EPYC).
			want, err := predictRows(me, x.Data, 300, 256)
			if err != nil {
				t.Fatal(err)
			}
			if len(z.Shape) != 2 || z.Shape[0] != 300 || z.Shape[1] != 2 || len(z.Data) != len(want) {
				t.Fatalf("z_mean shape %v", z.Shape)
			}
			for i, v := range want {
				if z.Data[i] != v {
					t.Fatalf("z_mean[%d] = %g, encoder %g", i, z.Data[i], v)
				}
			}
		}
	}
	// --json: the three histories and both files.
	code, stdout, stderr := runTrainCmd("--data", data, "--layers", "2:vae|20:sigmoid", "--epochs", "2", "--json", "-o", filepath.Join(dir, "j.onnx"))
	if code != exitOK {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	var s struct {
		Encoder, Decoder string
		Loss             []float64
		KL               []float64 `json:"kl_loss"`
		Reconstruction   []float64 `json:"reconstruction_loss"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || len(s.Loss) != 2 || len(s.KL) != 2 || len(s.Reconstruction) != 2 ||
		s.Encoder != filepath.Join(dir, "j.encoder.onnx") || s.Decoder != filepath.Join(dir, "j.decoder.onnx") {
		t.Errorf("--json: %q (%v)", stdout, err)
	}
	// Refused.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--validation-split", "0.1"}, "--validation-split is not supported with a VAE"},
		{[]string{"--early-stopping", "2"}, "--early-stopping is not supported with a VAE"},
		{[]string{"--target", data}, "--target is not supported with a VAE"},
	} {
		args := append([]string{"--data", data, "--layers", "2:vae|20:sigmoid", "-o", filepath.Join(dir, "r.onnx")}, c.args...)
		code, _, stderr := runTrainCmd(args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
	for _, c := range []struct{ layers, want string }{
		{"2:vae|7:sigmoid", "the decoder's last layer has 7 units, the input 20"},
		{"2:vae,3:vae|20:sigmoid", "more than one LATENT:vae item"},
		{"16:relu|2:vae", "no decoder layers"},
	} {
		code, _, stderr := runTrainCmd("--data", data, "--layers", c.layers, "-o", filepath.Join(dir, "r.onnx"))
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("--layers %s: exit %d, stderr %q; want exit 2 and %q", c.layers, code, stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r.encoder.onnx")); err == nil {
		t.Error("a refused run wrote r.encoder.onnx")
	}
}

// vaeOutputs returns the two files -o out names for a VAE written as two
// models: OUT.encoder.EXT and OUT.decoder.EXT (modelfile.VAEFiles).
func vaeOutputs(out string) (enc, dec string) {
	ext := filepath.Ext(out)
	stem := strings.TrimSuffix(out, ext)
	return stem + ".encoder" + ext, stem + ".decoder" + ext
}
