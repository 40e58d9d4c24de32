package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/golden"
)

// fuzzSeeds returns the seed inputs of FuzzRead: small exported models and
// the smallest foreign fixtures.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, name := range []string{"act_relu", "act_gelu_tanh", "act_relu_leaky_threshold", "layers", "no_bias"} {
		b, err := Marshal(caseModel(t, name), &ExportOptions{Checks: 1})
		if err != nil {
			t.Fatal(err)
		}
		seeds["aekit_"+name] = b
	}
	for _, name := range []string{"torch_gelu_silu_mish", "torch_no_bias_hardsigmoid_softsign", "torch_flatten_image",
		"helper_tf2onnx_matmul_add", "helper_gemm_attributes", "helper_opset9_clip_softmax",
		"tf2onnx_k3_activations", "tf2onnx_tk2_activations",
		// tf2onnx's forms of LayerNormalization: Keras 3's expansion, and
		// tf-keras's fused form with shapes computed in the graph (axes as
		// attributes and as inputs).
		"family/tf2onnx_k3_ln", "family/tf2onnx_tk2_ln", "family/tf2onnx_tk2_ln18",
		// and of UnitNormalization (tf-keras's and Keras 3's).
		"family/tf2onnx_tk2_unit", "family/tf2onnx_k3_unit"} {
		b, err := os.ReadFile(filepath.Join(fixtureDir, filepath.FromSlash(name)+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		seeds[strings.ReplaceAll(name, "/", "_")] = b
	}
	return seeds
}

// TestFuzzCorpus checks that the committed corpus is present; with
// -update it rewrites it from fuzzSeeds.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	seeds := fuzzSeeds(t)
	if golden.Update() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range seeds {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("seed corpus: %v (go test -run TestFuzzCorpus -update)", err)
		}
	}
}

// FuzzRead feeds arbitrary bytes to Unmarshal: it must return an error or
// a model that validates, runs and exports again, and never panic.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	f.Add(marshalSmall(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := Unmarshal(b)
		if d, _, derr := describe(b, nil); (derr == nil) != (err == nil || errors.As(err, new(*NodeError))) {
			t.Fatalf("describe: %v, read: %v", derr, err)
		} else if derr == nil && len(d.Nodes) == 0 && err != nil {
			t.Fatalf("described no node for a node error: %v", err)
		}
		if err != nil {
			return
		}
		checkDecode(t, b)
		if _, err := Marshal(m, &ExportOptions{Checks: -1}); err != nil {
			t.Fatalf("re-export of a model Unmarshal accepted: %v", err)
		}
	})
}

func marshalSmall(f *testing.F) []byte {
	b, err := Marshal(caseModel(f, "act_softmax"), &ExportOptions{Checks: -1})
	if err != nil {
		f.Fatal(err)
	}
	return b
}
