package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagHints: the advice in errors from modelfile and keras names the
// command line's flags, never the libraries' option fields.
func TestFlagHints(t *testing.T) {
	const gen = "../../fixtures/keras/gen/"
	dir := t.TempDir()
	ox := filepath.Join(dir, "m.onnx")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert", gen + "k1_mlp.h5", ox}, &stdout, &stderr); code != exitOK {
		t.Fatalf("convert: %s", stderr.String())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", gen + "k3_seq.weights.h5"}, "holds weights only; give the architecture (model.to_json() or config.json) with --arch A.json"},
		{[]string{"inspect", ox, "--arch", gen + "k3_seq_config.json"}, ox + ": --arch applies to Keras weights-only files, not ONNX"},
		{[]string{"convert", ox, filepath.Join(dir, "m.keras"), "--opset", "17"}, "m.keras: --opset applies to .onnx outputs only"},
		// A VAE does not run whole: inspect lists it (TestInspectGraph), predict and convert refuse it.
		{[]string{"convert", gen + "k3_vae.keras", filepath.Join(dir, "vae.onnx")}, "nested models load alone with --model NAME: encoder (outputs z_mean, z_log_var, z), decoder"},
		{[]string{"convert", gen + "k3_vae.keras", filepath.Join(dir, "enc.onnx"), "--model", "encoder"}, "load the layers feeding one with --output NAME: z_mean, z_log_var, z"},
	} {
		stdout.Reset()
		stderr.Reset()
		code := run(c.args, &stdout, &stderr)
		msg := stderr.String()
		if code != exitUsage || !strings.Contains(msg, c.want) || strings.Contains(msg, "Options.") || strings.Count(msg, "\n") != 1 {
			t.Errorf("aekit %s: exit %d, stderr %q; want one line with %q and no Options field", strings.Join(c.args, " "), code, msg, c.want)
		}
	}
}
