package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/npy"
)

// runOK runs the CLI and fails the test unless it exits 0.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("aekit %s: exit %d, stderr %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// runFail runs the CLI, expects exit 2 with one line on stderr holding
// every string of want, and returns that line.
func runFail(t *testing.T, want []string, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	msg := strings.TrimSpace(stderr.String())
	if code != exitUsage || strings.Contains(msg, "\n") {
		t.Errorf("aekit %s: exit %d, stderr %q; want exit 2 and one line", strings.Join(args, " "), code, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("aekit %s: stderr %q does not mention %q", strings.Join(args, " "), msg, w)
		}
	}
}

// sameNpy compares two .npy files within 1e-6 + 1e-5·|want|.
func sameNpy(t *testing.T, got, want string) {
	t.Helper()
	g, err := npy.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := npy.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Data) != len(w.Data) {
		t.Fatalf("%s has %d values, %s %d", got, len(g.Data), want, len(w.Data))
	}
	if err := conformance.Compare(g.Data, w.Data, 1e-6, 1e-5); err != nil {
		t.Errorf("%s vs %s: %v", filepath.Base(got), filepath.Base(want), err)
	}
}

// TestVAEPartsCLI: the Keras VAE example (weights only, a sampling Lambda
// in its encoder) runs in parts with --model and --output, matching
// fixtures/keras/reference.py's numpy forward pass.
func TestVAEPartsCLI(t *testing.T) {
	dir := sharedDir(t)
	vae := filepath.Join(dir, "k2_nested_vae_saveweights_brianrice2.h5")
	arch := filepath.Join(dir, "k2_nested_vae_saveweights_brianrice2_arch.json")
	ref := filepath.Join("..", "..", "fixtures", "keras", "real", "k2_nested_vae_saveweights_brianrice2.h5")
	tmp := t.TempDir()

	// Generate from latent codes with the decoder alone.
	out := filepath.Join(tmp, "gen.npy")
	runOK(t, "predict", vae, "--arch", arch, "--model", "decoder", "-i", ref+".decoder.input.npy", "-o", out)
	sameNpy(t, out, ref+".decoder.npy")
	// The deterministic codes: the encoder cut at z_mean.
	codes := filepath.Join(tmp, "codes.npy")
	runOK(t, "predict", vae, "--arch", arch, "--model", "encoder", "--output", "z_mean", "-i", ref+".input.npy", "-o", codes)
	sameNpy(t, codes, ref+".encoder.z_mean.npy")
	if s := runOK(t, "check", vae, "--arch", arch, "--model", "encoder", "--output", "z_mean",
		"-i", ref+".input.npy", "--expect", ref+".encoder.z_mean.npy"); !strings.Contains(s, "ok: all values within tolerance") {
		t.Errorf("check: %s", s)
	}
	// Inspect lists only the chain feeding z_mean.
	s := runOK(t, "inspect", vae, "--arch", arch, "--model", "encoder", "--output", "z_mean")
	if !strings.Contains(s, "z_mean (Dense)") || strings.Contains(s, "z_log_var") || !strings.Contains(s, "Total params: 402,946") {
		t.Errorf("inspect encoder/z_mean:\n%s", s)
	}
	// The decoder converted to a full .keras model runs without --arch.
	dec := filepath.Join(tmp, "decoder.keras")
	runOK(t, "convert", vae, dec, "--arch", arch, "--model", "decoder")
	out2 := filepath.Join(tmp, "gen2.npy")
	runOK(t, "predict", dec, "-i", ref+".decoder.input.npy", "-o", out2)
	sameNpy(t, out2, ref+".decoder.npy")

	// The whole model still fails, suggesting the parts; bad names fail.
	noOut := filepath.Join(tmp, "none.npy")
	runFail(t, []string{"Lambda", "--model", "encoder (outputs z_mean, z_log_var, z), decoder"},
		"predict", vae, "--arch", arch, "-i", ref+".input.npy", "-o", noOut)
	runFail(t, []string{"Lambda", "--output", "z_mean, z_log_var, z"},
		"predict", vae, "--arch", arch, "--model", "encoder", "-i", ref+".input.npy", "-o", noOut)
	runFail(t, []string{`"decodr"`, "decoder"},
		"predict", vae, "--arch", arch, "--model", "decodr", "-i", ref+".decoder.input.npy", "-o", noOut)
	runFail(t, []string{`"zmean"`, "z_mean"},
		"inspect", vae, "--arch", arch, "--model", "encoder", "--output", "zmean")
	runFail(t, []string{"--layer excludes"},
		"predict", vae, "--arch", arch, "--model", "encoder", "--layer", "z_mean", "-i", ref+".input.npy", "-o", noOut)
	if _, err := os.Stat(noOut); !os.IsNotExist(err) {
		t.Errorf("%s left behind after failures", noOut)
	}
}

// TestSubModelOutputCLI: on models that load whole, --model and --output
// select from the loaded model (gen.py fixtures, no shared files needed);
// on gen.py's Keras 3 VAE they read the parts alone.
func TestSubModelOutputCLI(t *testing.T) {
	gen := filepath.Join("..", "..", "fixtures", "keras", "gen")
	ae := filepath.Join(gen, "k2_nested_autoencoder.h5")
	runOK(t, "check", ae, "--model", "encoder", "--output", "enc_2", "-i", ae+".input.npy", "--expect", ae+".encoder.npy", "--atol", "1e-6")
	runOK(t, "check", ae, "--output", "encoder", "-i", ae+".input.npy", "--expect", ae+".encoder.npy", "--atol", "1e-6")
	runFail(t, []string{`"enc_9"`}, "inspect", ae, "--model", "encoder", "--output", "enc_9")

	vae := filepath.Join(gen, "k3_vae.keras")
	runOK(t, "check", vae, "--model", "decoder", "-i", vae+".decoder.input.npy", "--expect", vae+".decoder.npy", "--atol", "1e-6")
	runOK(t, "check", vae, "--model", "encoder", "--output", "z_mean", "-i", vae+".input.npy", "--expect", vae+".encoder.z_mean.npy", "--atol", "1e-6")
	runFail(t, []string{"Lambda", "--model"}, "convert", vae, filepath.Join(t.TempDir(), "vae.onnx"))
}

// TestVAEPartsONNX converts the VAE's parts (the whole model does not run,
// so TestRealKerasToONNX leaves it out) to ONNX and runs them in ONNX
// Runtime against reference.py's numpy outputs (1e-6 + 1e-5·|want|).
func TestVAEPartsONNX(t *testing.T) {
	dir := sharedDir(t)
	node := needORT(t)
	vae := filepath.Join(dir, "k2_nested_vae_saveweights_brianrice2.h5")
	arch := filepath.Join(dir, "k2_nested_vae_saveweights_brianrice2_arch.json")
	ref := filepath.Join("..", "..", "fixtures", "keras", "real", "k2_nested_vae_saveweights_brianrice2.h5")
	tmp := t.TempDir()
	jobs := []ortJob{
		{Model: filepath.Join(tmp, "decoder.onnx"), Input: ref + ".decoder.input.npy", Output: filepath.Join(tmp, "decoder.out.npy")},
		{Model: filepath.Join(tmp, "z_mean.onnx"), Input: ref + ".input.npy", Output: filepath.Join(tmp, "z_mean.out.npy")},
	}
	runOK(t, "convert", vae, jobs[0].Model, "--arch", arch, "--model", "decoder")
	runOK(t, "convert", vae, jobs[1].Model, "--arch", arch, "--model", "encoder", "--output", "z_mean")
	runORT(t, node, tmp, jobs)
	sameNpy(t, jobs[0].Output, ref+".decoder.npy")
	sameNpy(t, jobs[1].Output, ref+".encoder.z_mean.npy")
}
