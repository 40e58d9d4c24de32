package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
)

// sharedDir returns ../shared/keras-real (or $AEKIT_SHARED/keras-real),
// skipping the test when it is absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("AEKIT_SHARED")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared")
	}
	dir := filepath.Join(root, "keras-real")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		t.Skipf("real Keras files not found in %s (set AEKIT_SHARED): %v", dir, err)
	}
	return dir
}

// needTool skips (or, with AEKIT_INTEROP=1, fails) when an interop tool is
// missing.
func needTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if !ok {
		interop.Need(t, what, errors.New("not found"))
	}
}

// ortJob is one model run of tools/node/ort_run.mjs --jobs (and of
// tools/python/ort_run.py).
type ortJob = interop.ORTJob

// needORT returns the node binary, skipping (or failing under
// AEKIT_INTEROP=1) when node or onnxruntime-node is missing.
func needORT(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	_, ortErr := os.Stat(filepath.Join("..", "..", "tools", "node", "node_modules", "onnxruntime-node"))
	needTool(t, err == nil && ortErr == nil, "node with tools/node/node_modules/onnxruntime-node")
	return node
}

// runORT runs jobs in ONNX Runtime in one node process, writing each
// job's outputs to its Output file.
func runORT(t *testing.T, node, dir string, jobs []ortJob) {
	t.Helper()
	jf := filepath.Join(dir, "jobs.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("..", "..", "tools", "node", "ort_run.mjs"), "--jobs", jf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ort_run: %v\n%s", err, out)
	}
}

// realModels lists the real Keras files aekit must load, with the
// architecture file weights-only ones need.
var realModels = []struct{ file, arch string }{
	{"k1_dense_seq_tf_dl4j.h5", ""},
	{"k1_dense_seq_theano_dl4j.h5", ""},
	{"k2_dense_seq_dl4j.h5", ""},
	{"k2_mlp_softmax_seq_dl4j_model.h5", ""},
	{"k2_mlp_softmax_seq_dl4j_weights.h5", "k2_mlp_softmax_seq_dl4j_arch.json"},
	{"k2_dense_relulayer_seq_dl4j_model.h5", ""},
	{"k2_tfkeras_mlp_functional_dl4j.h5", ""},
	{"k2_dense_3layer_functional_hls4ml_weights.h5", "k2_dense_3layer_functional_hls4ml.json"},
	{"k2_dense_functional_encoder_jleslie.h5", ""},
	{"k2_nested_seq_gan_hrithik.h5", ""},
	{"k2_h5_misnamed_dotkeras_koustav.keras", ""},
	{"k2_15_dense_seq_windows_abhaypandy.keras", ""},
	{"k3_dense_seq_legacy_samyak.h5", ""},
	{"k3_dense_functional_legacy_alida.h5", ""},
	{"k3_nested_gan_legacy_shivu.h5", ""},
	{"k3_dense_seq_legacy_404error.h5", ""},
	{"k3_dense_seq_404error.keras", ""},
	{"k3_nested_functional_goswami.keras", ""},
	{"k3_dense_functional_vikaskheni.keras", ""},
	{"k3_dense_seq_yashladia.keras", ""},
	{"k3_dropout_seq_osato.keras", ""},
	{"k3_dense_seq_tiny_aditya.keras", ""},
	{"k3_dense_seq_saveweights_jenish.weights.h5", "k3_dense_seq_saveweights_jenish_arch.json"},
}

// realUnsupported lists the real files that must fail with an unsupported
// layer error, with the class the message must name.
var realUnsupported = map[string]string{
	"k2_nested_functional_vae_lambda_nidsvae.h5":  "Lambda",
	"k2_cnn_bn_seq_dl4j.h5":                       "Conv2D",
	"k2_nested_functional_gan_conv_bn_rsyamil.h5": "Conv2D",
	"k1_cnn_seq_tf_dl4j.h5":                       "Convolution2D",
	"k2_13_hgq_custom_functional_hls4ml.h5":       "FixedPointQuantizer",
	"k3_qdense_custom_seq_hls4ml.keras":           "QDense",
}

// TestRealKerasToONNX converts every Dense-capable real Keras file to ONNX
// with the CLI, runs the ONNX file in ONNX Runtime on random inputs and
// compares with aekit's outputs from the Keras file (1e-6 + 1e-5·|want|).
func TestRealKerasToONNX(t *testing.T) {
	dir := sharedDir(t)
	node := needORT(t)
	tmp := t.TempDir()
	var jobs []ortJob
	want := map[string][]float32{}
	widths := map[string]int{}
	r := rand.New(rand.NewPCG(7, 7))
	for _, rm := range realModels {
		in := filepath.Join(dir, rm.file)
		out := filepath.Join(tmp, strings.NewReplacer(".", "_").Replace(rm.file)+".onnx")
		args := []string{"convert", in, out}
		if rm.arch != "" {
			args = append(args, "--arch", filepath.Join(dir, rm.arch))
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Errorf("aekit %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
			continue
		}
		m, _, err := openModel(in, filepath.Join(dir, rm.arch), "", "", "")
		if rm.arch == "" {
			m, _, err = openModel(in, "", "", "", "")
		}
		if err != nil {
			t.Fatal(err)
		}
		n := 5
		x := make([]float32, n*m.InputWidth())
		for i := range x {
			x[i] = float32(2*r.Float64() - 1)
		}
		y, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		xin := out + ".in.npy"
		if err := npy.WriteFile(xin, &npy.Array{Shape: append([]int{n}, m.Input...), Data: x}); err != nil {
			t.Fatal(err)
		}
		want[out+".out.npy"] = y
		widths[out+".out.npy"] = m.OutputWidth()
		jobs = append(jobs, ortJob{Model: out, Input: xin, Output: out + ".out.npy"})
	}
	// Every converted file, at every opset aekit writes, passes the
	// reference environment's onnx checker (full_check).
	models := make([]string, 0, len(jobs)*(onnx.MaxOpset-onnx.MinOpset+1))
	for _, j := range jobs {
		models = append(models, j.Model)
		for opset := onnx.MinOpset; opset <= onnx.MaxOpset; opset++ {
			if opset == onnx.DefaultOpset {
				continue
			}
			in := j.Model + ".opset" + fmt.Sprint(opset) + ".onnx"
			var stdout, stderr bytes.Buffer
			if code := run([]string{"convert", j.Model, in, "--opset", fmt.Sprint(opset)}, &stdout, &stderr); code != exitOK {
				t.Fatalf("aekit convert %s --opset %d: exit %d: %s", j.Model, opset, code, stderr.String())
			}
			models = append(models, in)
		}
	}
	for _, f := range interop.CheckONNX(t, models) {
		t.Error(f)
	}
	// onnxruntime-node and the reference environment's onnxruntime.
	pyJobs := make([]ortJob, len(jobs))
	for i, j := range jobs {
		pyJobs[i] = ortJob{Model: j.Model, Input: j.Input, Output: j.Output + ".py.npy"}
		want[pyJobs[i].Output], widths[pyJobs[i].Output] = want[j.Output], widths[j.Output]
	}
	for out, e := range interop.ORT(t, tmp, pyJobs) {
		if e != "" {
			t.Errorf("%s: onnxruntime (Python): %s", out, e)
		}
	}
	runORT(t, node, tmp, jobs)
	t.Logf("%d converted files (opsets %d to %d) through the onnx checker", len(models), onnx.MinOpset, onnx.MaxOpset)
	for _, ort := range []struct {
		who  string
		jobs []ortJob
	}{{"onnxruntime (Python)", pyJobs}, {"onnxruntime-node", jobs}} {
		var norm float64
		for _, j := range ort.jobs {
			got, err := npy.ReadFile(j.Output)
			if err != nil {
				t.Fatal(err)
			}
			// Real models have outputs that are small sums of large terms
			// (k3_dense_functional_vikaskheni: 0.0144 from terms of order 1,
			// where aekit and ORT both differ from a float64 reference by
			// ~3e-6). Their float32 error is relative to the terms, so the
			// bound is normwise per sample: 1e-6 + 1e-5·max|output|, and
			// 1e-6 over the whole output. The element-wise 1e-5 relative
			// bound is reported alongside.
			if err := conformance.CompareRows(got.Data, want[j.Output], widths[j.Output], 1e-6, 1e-5); err != nil {
				t.Errorf("%s: %s vs aekit: %v", filepath.Base(j.Model), ort.who, err)
			}
			e := conformance.Normwise(got.Data, want[j.Output])
			if e > 1e-6 {
				t.Errorf("%s: %s vs aekit: normwise error %.3g > 1e-6", filepath.Base(j.Model), ort.who, e)
			}
			norm = max(norm, e)
			if err := conformance.Compare(got.Data, want[j.Output], 1e-6, 1e-5); err != nil {
				t.Logf("%s: %s: element-wise (not a failure): %v", filepath.Base(j.Model), ort.who, err)
			}
		}
		t.Logf("%s vs aekit: max normwise %.3g", ort.who, norm)
	}
	t.Logf("%d real Keras files converted to ONNX and run in ONNX Runtime", len(jobs))
}

// TestRealUnsupportedCLI checks the CLI's one-line error and exit 2 for
// real files with layers aekit does not support: convert refuses them
// (writing nothing), and inspect lists them with those layers marked.
func TestRealUnsupportedCLI(t *testing.T) {
	dir := sharedDir(t)
	tmp := t.TempDir()
	for file, class := range realUnsupported {
		var stdout, stderr bytes.Buffer
		out := filepath.Join(tmp, "out.onnx")
		code := run([]string{"convert", filepath.Join(dir, file), out}, &stdout, &stderr)
		msg := stderr.String()
		if code != exitUsage || !strings.Contains(msg, file) || !strings.Contains(msg, class) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
			t.Errorf("convert %s: exit %d, stderr %q; want exit 2 and one line naming the file and %s", file, code, msg, class)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("convert %s wrote %s", file, out)
		}
		_, _, err := keras.ReadFile(filepath.Join(dir, file), nil)
		if !errors.Is(err, keras.ErrUnsupportedLayer) {
			t.Errorf("%s: error %v is not keras.ErrUnsupportedLayer", file, err)
		}
		stdout.Reset()
		stderr.Reset()
		if code := run([]string{"inspect", filepath.Join(dir, file)}, &stdout, &stderr); code != exitOK {
			t.Errorf("inspect %s: exit %d: %s", file, code, stderr.String())
			continue
		}
		if !strings.Contains(stdout.String(), "("+class+") *") || !strings.Contains(stdout.String(), "aekit cannot run") {
			t.Errorf("inspect %s does not mark %s as unsupported:\n%s", file, class, stdout.String())
		}
	}
}

// writeModel saves a conformance model in the given format under dir.
func writeModel(t *testing.T, dir, name string, m *runtime.Model) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := saveModel(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

func findCase(t *testing.T, name string) conformance.Case {
	for _, c := range conformance.Cases() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no conformance case %q", name)
	return conformance.Case{}
}

// TestPredictCheckConvert drives the main commands end to end on the deep
// nested autoencoder: predict in every format, check (pass and mismatch),
// --layer encoder and --model decoder, convert chains.
func TestPredictCheckConvert(t *testing.T) {
	c := findCase(t, "deep_nested")
	dir := t.TempDir()
	x := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(x, &npy.Array{Shape: []int{c.N, 784}, Data: c.X}); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "want.npy")
	if err := npy.WriteFile(want, &npy.Array{Shape: []int{c.N, 784}, Data: c.Want}); err != nil {
		t.Fatal(err)
	}
	h5 := writeModel(t, dir, "m.h5", c.Model)
	ks := filepath.Join(dir, "m.keras")
	ox := filepath.Join(dir, "m.onnx")
	ok := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("aekit %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	ok("convert", h5, ks)
	ok("convert", ks, ox)
	for _, m := range []string{h5, ks, ox} {
		out := ok("check", m, "-i", x, "--expect", want)
		if !strings.Contains(out, "ok: all values within tolerance") {
			t.Errorf("check %s: %s", m, out)
		}
		y := filepath.Join(dir, filepath.Base(m)+".y.npy")
		ok("predict", "-o", y, m, "-i", x) // flags after and before the model
		got, err := npy.ReadFile(y)
		if err != nil {
			t.Fatal(err)
		}
		if err := conformance.Compare(got.Data, c.Want, 0, 0); err != nil {
			t.Errorf("predict %s: %v", m, err)
		}
	}
	// The embedded self-check of the ONNX file.
	if out := ok("check", ox); !strings.Contains(out, "embedded self-check") {
		t.Errorf("check %s: %s", ox, out)
	}
	// Encoder codes, then the decoder alone on them, give the full output.
	codes := filepath.Join(dir, "codes.npy")
	ok("predict", ks, "--layer", "encoder", "-i", x, "-o", codes)
	cs, err := npy.ReadFile(codes)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cs.Shape) != fmt.Sprint([]int{c.N, 32}) {
		t.Errorf("codes shape %v, want [%d 32]", cs.Shape, c.N)
	}
	dec := filepath.Join(dir, "dec.npy")
	ok("predict", ox, "--model", "decoder", "-i", codes, "-o", dec)
	ok("check", h5, "--model", "decoder", "-i", codes, "--expect", want)
	// ONNX export of the encoder alone.
	enc := filepath.Join(dir, "enc.onnx")
	ok("convert", ks, enc, "--layer", "encoder")
	ok("check", enc, "-i", x, "--expect", codes, "--atol", "0", "--rtol", "0")

	// A mismatch exits 1 and names the worst element.
	bad := append([]float32(nil), c.Want...)
	bad[784+5] += 0.01
	badf := filepath.Join(dir, "bad.npy")
	if err := npy.WriteFile(badf, &npy.Array{Shape: []int{c.N, 784}, Data: bad}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", ks, "-i", x, "--expect", badf}, &stdout, &stderr)
	if code != exitMismatch || !strings.Contains(stdout.String(), "worst at sample 1, output 5") {
		t.Errorf("check with a perturbed value: exit %d, output %q", code, stdout.String())
	}
}

// TestBadInputCLI checks that bad files give exit 2 with one line naming
// the file, and that no output file is left behind.
func TestBadInputCLI(t *testing.T) {
	c := findCase(t, "ae784")
	dir := t.TempDir()
	ks := writeModel(t, dir, "m.keras", c.Model)
	h5 := writeModel(t, dir, "m.h5", c.Model)
	good := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(good, &npy.Array{Shape: []int{c.N, 784}, Data: c.X}); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full, _ := os.ReadFile(h5)
	zip, _ := os.ReadFile(ks)
	onnxBytes, err := onnx.Marshal(c.Model, nil)
	if err != nil {
		t.Fatal(err)
	}
	goodNpy, _ := os.ReadFile(good)
	narrow := filepath.Join(dir, "narrow.npy")
	if err := npy.WriteFile(narrow, &npy.Array{Shape: []int{2, 10}, Data: make([]float32, 20)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, model, input string
	}{
		{"truncated h5", write("trunc.h5", full[:len(full)/2]), good},
		{"garbage h5", write("garbage.h5", append([]byte("\x89HDF\r\n\x1a\n"), bytes.Repeat([]byte{7}, 500)...)), good},
		{"truncated keras", write("trunc.keras", zip[:len(zip)/2]), good},
		{"truncated onnx", write("trunc.onnx", onnxBytes[:len(onnxBytes)/3]), good},
		{"garbage onnx", write("garbage.onnx", bytes.Repeat([]byte{0xff}, 64)), good},
		{"empty model", write("empty.h5", nil), good},
		{"truncated npy", ks, write("trunc.npy", goodNpy[:len(goodNpy)-100])},
		{"complex npy", ks, write("complex.npy", npyHeader("<c8", "(2, 3)", 48))},
		{"absurd npy", ks, write("absurd.npy", npyHeader("<f4", "(4000000000, 784)", 16))},
		{"wrong width", ks, narrow},
	} {
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-")+".npy")
		var stdout, stderr bytes.Buffer
		code := run([]string{"predict", tc.model, "-i", tc.input, "-o", out}, &stdout, &stderr)
		msg := strings.TrimSpace(stderr.String())
		named := strings.Contains(msg, filepath.Base(tc.model)) || strings.Contains(msg, filepath.Base(tc.input))
		if code != exitUsage || !named || strings.Contains(msg, "\n") || strings.Contains(msg, "panic") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line naming the file", tc.name, code, msg)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: output file left behind (%v)", tc.name, err)
		}
	}
	// A failed conversion leaves no output and no temporary file.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert", write("bad2.h5", full[:100]), filepath.Join(dir, "conv.onnx")}, &stdout, &stderr); code != exitUsage {
		t.Errorf("convert of a truncated file: exit %d", code)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "conv") || strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// npyHeader returns a .npy file with the given header fields and n data
// bytes.
func npyHeader(descr, shape string, n int) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	b = append(b, h...)
	return append(b, make([]byte, n)...)
}
