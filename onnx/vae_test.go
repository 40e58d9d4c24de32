package onnx_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// TestSplitOutputsORT writes a VAE's encoder (as train.BuildVAE makes it,
// biases made nonzero) with SplitOutputs z_mean and z_log_var at opsets
// 11, 13 and 18, and its decoder; the onnx checker accepts them and ONNX
// Runtime's z_mean, z_log_var and decoder outputs equal aekit's
// (|diff| ≤ 1e-6 + 1e-5·|want|); Read reads the encoder back whole.
func TestSplitOutputsORT(t *testing.T) {
	a, err := train.ParseVAE("6:relu,5:tanh|3:vae|6:relu,8:sigmoid")
	if err != nil {
		t.Fatal(err)
	}
	v, err := train.BuildVAE(8, a, train.GlorotUniform, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, m := range []*runtime.Model{v.Encoder, v.Decoder} {
		for _, l := range m.Layers {
			for i := range l.Bias {
				l.Bias[i] = float32(rng.NormFloat64() * 0.3)
			}
		}
	}
	dir := t.TempDir()
	const n = 16
	x := make([]float32, n*8)
	for i := range x {
		x[i] = rng.Float32()
	}
	codes := make([]float32, n*v.Latent)
	for i := range codes {
		codes[i] = float32(rng.NormFloat64())
	}
	xf, cf := filepath.Join(dir, "x.npy"), filepath.Join(dir, "c.npy")
	if err := npy.WriteFile(xf, &npy.Array{Shape: []int{n, 8}, Data: x}); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteFile(cf, &npy.Array{Shape: []int{n, v.Latent}, Data: codes}); err != nil {
		t.Fatal(err)
	}
	e, err := v.Encoder.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	L := v.Latent
	var zm, zlv []float32
	for i := 0; i < len(e); i += 2 * L {
		zm, zlv = append(zm, e[i:i+L]...), append(zlv, e[i+L:i+2*L]...)
	}
	dec, err := v.Decoder.Predict(nil, codes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{}
	var jobs []interop.ORTJob
	var files []string
	for _, opset := range []int{11, 13, 18} {
		ef := filepath.Join(dir, fmt.Sprintf("vae%d.encoder.onnx", opset))
		df := filepath.Join(dir, fmt.Sprintf("vae%d.decoder.onnx", opset))
		if err := onnx.WriteFile(ef, v.Encoder, &onnx.ExportOptions{Opset: opset, SplitOutputs: []string{"z_mean", "z_log_var"}}); err != nil {
			t.Fatal(err)
		}
		if err := onnx.WriteFile(df, v.Decoder, &onnx.ExportOptions{Opset: opset}); err != nil {
			t.Fatal(err)
		}
		files = append(files, ef, df)
		jobs = append(jobs,
			interop.ORTJob{Model: ef, Input: xf, Output: ef + ".zm.npy", Name: "z_mean"},
			interop.ORTJob{Model: ef, Input: xf, Output: ef + ".zlv.npy", Name: "z_log_var"},
			interop.ORTJob{Model: df, Input: cf, Output: df + ".out.npy"})
		want[ef+".zm.npy"], want[ef+".zlv.npy"], want[df+".out.npy"] = zm, zlv, dec
		// aekit reads it back as the encoder, the parts concatenated.
		back, info, err := onnx.ReadFile(ef)
		if err != nil {
			t.Fatalf("opset %d: Read: %v", opset, err)
		}
		if !slices.Equal(info.SplitOutputs, []string{"z_mean", "z_log_var"}) {
			t.Errorf("opset %d: SplitOutputs %q", opset, info.SplitOutputs)
		}
		if y, err := back.Predict(nil, x); err != nil || !slices.Equal(y, e) {
			t.Errorf("opset %d: the encoder read back predicts differently (%v)", opset, err)
		}
	}
	if fails := interop.CheckONNX(t, files); len(fails) > 0 {
		t.Fatalf("onnx checker: %v", fails)
	}
	res := interop.ORT(t, dir, jobs)
	for _, j := range jobs {
		if msg, ok := res[j.Output]; !ok || msg != "" {
			t.Fatalf("%s: ORT: %q (ran: %v)", j.Output, msg, ok)
		}
		got, err := npy.ReadFile(j.Output)
		if err != nil {
			t.Fatal(err)
		}
		w := want[j.Output]
		if len(got.Data) != len(w) {
			t.Fatalf("%s: %d values, want %d", j.Output, len(got.Data), len(w))
		}
		worst := 0.0
		for i := range w {
			d := math.Abs(float64(got.Data[i]) - float64(w[i]))
			if d > 1e-6+1e-5*math.Abs(float64(w[i])) {
				t.Fatalf("%s[%d] = %g, want %g", j.Output, i, got.Data[i], w[i])
			}
			worst = max(worst, d)
		}
		t.Logf("%s: %d values, max |diff| %.3g", filepath.Base(j.Output), len(w), worst)
	}
}

func TestSplitOutputsBad(t *testing.T) {
	m := &runtime.Model{Input: []int{4}, Layers: []*runtime.Layer{{Type: runtime.Dense, Name: "d", In: 4, Units: 6,
		Kernel: make([]float32, 24), Bias: make([]float32, 6), Act: runtime.Act(runtime.Linear)}}}
	for _, c := range []struct {
		name  string
		split []string
		score bool
	}{{"one", []string{"a"}, false}, {"uneven", []string{"a", "b", "c", "d"}, false}, {"same", []string{"a", "a"}, false},
		{"input", []string{"input", "b"}, false}, {"empty", []string{"", "b"}, false}, {"score", []string{"a", "b"}, true}} {
		opt := &onnx.ExportOptions{SplitOutputs: c.split}
		if c.score {
			opt.Score = &onnx.ScoreOutput{Metric: "mse"}
		}
		if _, err := onnx.Marshal(m, opt); !errors.Is(err, onnx.ErrExport) {
			t.Errorf("%s: %v, want ErrExport", c.name, err)
		}
	}
}
