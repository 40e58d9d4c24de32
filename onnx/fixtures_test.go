package onnx

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// fixtureDir holds ONNX files made by other producers, with inputs and the
// producer's outputs, written by fixtures/onnx/gen_torch.py and
// fixtures/onnx/gen_tf2onnx.py.
var fixtureDir = filepath.Join("..", "fixtures", "onnx")

// fixtureLayers is the layer list each fixture must import as, one
// "Type:activation" or "Type" per layer.
var fixtureLayers = map[string]string{
	"torch_relu_sigmoid":                 "Dense:relu Dense:sigmoid",
	"torch_tanh_fixed_batch":             "Dense:tanh Dense:linear",
	"torch_leaky_elu_selu_softplus":      "Dense:leaky_relu(alpha=0.1) Dense:elu(alpha=0.7) Dense:selu Dense:softplus",
	"torch_no_bias_hardsigmoid_softsign": "Dense:hard_sigmoid(alpha=0.1667, beta=0.5) Dense:softsign",
	"torch_gelu_silu_mish":               "Dense:gelu Dense:swish Dense:mish Dense:linear",
	"torch_relu6_softmax":                "Dense:relu6 Dense:softmax",
	"torch_dropout_logsoftmax":           "Dense:tanh Dense:log_softmax",
	"torch_flatten_image":                "Reshape Dense:relu Dense:sigmoid Reshape",
	"torch_zero_biases_shared":           "Dense:relu Dense:relu Dense:linear",
	"helper_tf2onnx_matmul_add":          "Dense:relu Dense:sigmoid",
	"helper_gemm_attributes":             "Dense:relu6 Dense:softmax",
	"helper_opset9_clip_softmax":         "Dense:relu(max_value=0.5) Reshape Reshape Activation:softmax Reshape Reshape",
	// tf2onnx 1.17 from Keras 3 and tf_keras (fixtures/onnx/gen_tf2onnx.py)
	"tf2onnx_k3_activations": "Dense:hard_sigmoid(alpha=0.1667, beta=0.5) Dense:relu(negative_slope=0.1, threshold=0.2, max_value=0.8) " +
		"Dense:relu(threshold=0.3) Dense:elu(alpha=0.7) Dense:relu(threshold=0.1, max_value=0.5) Dense:relu(max_value=1.5) Dense:relu",
	"tf2onnx_tk2_activations": "Dense:hard_sigmoid(alpha=0.2, beta=0.5) Dense:relu(negative_slope=0.1, threshold=0.2, max_value=0.8) " +
		"Dense:relu(threshold=0.3) Dense:elu(alpha=0.7) Dense:relu(threshold=0.1, max_value=0.5) Activation:relu(threshold=0.3) " +
		"Dense:linear Dense:relu(max_value=1.5) Dense:relu",
}

func layerSummary(m *runtime.Model) string {
	var s []string
	m.Walk(func(_ []string, l *runtime.Layer) {
		switch l.Type {
		case runtime.Dense, runtime.ActivationLayer:
			s = append(s, l.Type.String()+":"+l.Act.String())
		case runtime.Other:
			s = append(s, l.Kind.Class())
		default:
			s = append(s, l.Type.String())
		}
	})
	return strings.Join(s, " ")
}

// TestFixtures imports the models PyTorch and onnx.helper wrote and checks
// aekit's outputs against theirs within 1e-6 + 1e-5·|want|.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.onnx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (%v); run fixtures/onnx/gen_torch.py", fixtureDir, err)
	}
	seen := map[string]bool{}
	var st errStats
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			m, info, err := ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := fixtureLayers[name]
			if !ok {
				t.Fatalf("fixture %s has no entry in fixtureLayers", name)
			}
			if got := layerSummary(m); got != want {
				t.Errorf("layers %q, want %q", got, want)
			}
			xd, x, err := readNpy(filepath.Join(fixtureDir, name+".input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			yd, y, err := readNpy(filepath.Join(fixtureDir, name+".output.npy"))
			if err != nil {
				t.Fatal(err)
			}
			if prod(xd[1:]) != m.InputWidth() || prod(yd[1:]) != m.OutputWidth() {
				t.Fatalf("model is %d→%d, fixture arrays %v→%v", m.InputWidth(), m.OutputWidth(), xd, yd)
			}
			got, err := m.Predict(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			if bad := st.add(name, got, y); bad > 0 {
				t.Errorf("%d of %d outputs differ from %s's beyond %g + %g·|want|", bad, len(y), info.Producer, interopATol, interopRTol)
			}
			if strings.HasPrefix(name, "torch_") && (info.Producer != "pytorch" || info.Opset != 13) {
				t.Errorf("info %+v", info)
			}
		})
	}
	var missing []string
	for name := range fixtureLayers {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fixtures missing from %s: %v", fixtureDir, missing)
	}
	t.Logf("%d fixtures; aekit vs producer: max |Δ| %.3g (%s), max rel %.3g (%s)", len(files), st.maxAbs, st.where, st.maxRel, st.whereRel)
}

func TestFixtureInfo(t *testing.T) {
	_, info, err := ReadFile(filepath.Join(fixtureDir, "torch_tanh_fixed_batch.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if info.BatchSize != 4 || info.Batch != "" || info.IRVersion != 7 {
		t.Errorf("fixed batch: %+v", info)
	}
	_, info, err = ReadFile(filepath.Join(fixtureDir, "torch_relu_sigmoid.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Batch != "batch" || info.BatchSize != 0 || info.InputName != "input" || info.OutputName != "output" {
		t.Errorf("dynamic batch: %+v", info)
	}
	if _, err := SelfCheck(nil, info); err == nil {
		t.Error("SelfCheck of a torch file: no error")
	}
	if _, err := os.Stat(filepath.Join(fixtureDir, "gen_torch.py")); err != nil {
		t.Error(err)
	}
}
