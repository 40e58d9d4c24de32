package onnx

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/interop"
)

// familyFixtureDir holds ONNX files with normalisation layers made by
// PyTorch (fixtures/onnx/family/gen_torch.py) and tf2onnx from
// Keras-written models (gen_tf2onnx.py there), with the producers'
// outputs.
var familyFixtureDir = filepath.Join(fixtureDir, "family")

// familyLayers is the layer list each family fixture must import as
// (kinds by class).
var familyLayers = map[string]string{
	"torch_bn1d":        "Dense:linear BatchNormalization Activation:relu Dense:relu BatchNormalization Dense:linear",
	"torch_layernorm17": "Dense:relu LayerNormalization Dense:linear LayerNormalization Activation:sigmoid",
	// Below opset 17 torch writes LayerNorm as its expansion, which
	// aekit reads back as one layer.
	"torch_layernorm13": "Dense:relu LayerNormalization Dense:linear",
	// tf2onnx writes a BatchNormalization after a linear Dense as Mul
	// and Add, which aekit folds into the Dense layer, which then takes
	// the activation after it.
	"tf2onnx_tk2_bn": "Dense:relu Dense:sigmoid",
	"tf2onnx_k3_bn":  "Dense:relu Dense:sigmoid",
	// Normalization on the input (Sub, Mul) and inverted at the output
	// (Mul, Add after a Dense: folded).
	"tf2onnx_tk2_norm": "Rescaling Dense:relu Dense:linear",
	// tf2onnx writes Keras 3's LayerNormalization as its expansion
	// (matchKerasLayerNorm), which aekit reads back as one layer.
	"tf2onnx_k3_ln": "Dense:relu LayerNormalization Dense:linear LayerNormalization",
	// tf2onnx writes tf-keras's LayerNormalization on its fused path as a
	// BatchNormalization between Reshapes with shapes computed in the
	// graph (fusedLayerNorm), and off it (epsilon 1e-5) as
	// tf.nn.batch_normalization's expansion (matchKerasLayerNorm); at
	// opsets 11, 13 and 18 (axes as attributes or inputs).
	"tf2onnx_tk2_ln":   "Dense:relu LayerNormalization Dense:linear LayerNormalization",
	"tf2onnx_tk2_ln11": "Dense:relu LayerNormalization Dense:linear LayerNormalization",
	"tf2onnx_tk2_ln18": "Dense:relu LayerNormalization Dense:linear LayerNormalization",
}

// TestFamilyFixtures imports the family fixtures and checks aekit's
// outputs against the producers' within 1e-6 + 1e-5·|want|.
func TestFamilyFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(familyFixtureDir, "*.onnx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (%v)", familyFixtureDir, err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			m, info, err := ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := layerSummary(m), familyLayers[name]; got != want {
				t.Errorf("layers %q, want %q", got, want)
			}
			_, x, err := readNpy(filepath.Join(familyFixtureDir, name+".input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			_, y, err := readNpy(filepath.Join(familyFixtureDir, name+".output.npy"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Predict(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			var st errStats
			if bad := st.add(name, got, y); bad > 0 {
				t.Errorf("%d of %d outputs differ from %s's beyond %g + %g·|want|", bad, len(y), info.Producer, interopATol, interopRTol)
			}
			t.Logf("%s (%s, opset %d): max |Δ| %.3g, max rel %.3g, normwise %.3g", name, info.Producer, info.Opset, st.maxAbs, st.maxRel, conformance.Normwise(got, y))
		})
	}
	var missing []string
	for name := range familyLayers {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fixtures missing from %s: %v", familyFixtureDir, missing)
	}
}

// TestFamilyFixturesORT runs every family fixture in the reference
// environment's ONNX Runtime on its input and compares with aekit's
// outputs on the same file (checkORT: element-wise within 1e-6 +
// 1e-5·|want|, normwise within 1e-6).
func TestFamilyFixturesORT(t *testing.T) {
	interop.Python(t, "onnxruntime")
	files, err := filepath.Glob(filepath.Join(familyFixtureDir, "*.onnx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (%v)", familyFixtureDir, err)
	}
	dir := t.TempDir()
	var cases []*ortCase
	var jobs []interop.ORTJob
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		m, _, err := ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(familyFixtureDir, name+".input.npy")
		dims, x, err := readNpy(in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		c := &ortCase{job: interop.ORTJob{Model: f, Input: in, Output: filepath.Join(dir, name+".out.npy")}, name: name, want: want,
			dims: append([]int{dims[0]}, m.OutputShape()...)}
		cases = append(cases, c)
		jobs = append(jobs, c.job)
	}
	checkORT(t, "onnxruntime (Python)", cases, interop.ORT(t, dir, jobs))
}
