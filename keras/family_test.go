package keras

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/npy"
)

// familyDir holds models with normalisation layers that real Keras 3 and
// tf-keras 2 saved, with Keras's outputs (fixtures/keras/family/gen.py).
const familyDir = fixtures + "/family"

// TestKerasFamily is TestKerasJudge for the normalisation layers
// (BatchNormalization, LayerNormalization, Normalization,
// UnitNormalization, Rescaling): every layout, both writers, within the
// judge's bounds of Keras's model.predict.
func TestKerasFamily(t *testing.T) { judgeFolder(t, familyDir) }

// TestRealBatchNormalization loads a real Keras 2.4 file with two
// BatchNormalization layers (axis [1], trained moving statistics) and has
// tf-keras and Keras 3 load the same file live: their predict must match
// aekit's (normwise 1e-6) and their layer lists aekit's.
func TestRealBatchNormalization(t *testing.T) {
	dir := sharedDir(t)
	file := filepath.Join(dir, "k2_bn_leakyrelu_functional_caxenie.h5")
	m, _, err := ReadFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 5))
	const n = 6
	x := make([]float32, n*m.InputWidth())
	for i := range x {
		x[i] = float32(4*r.Float64() - 2)
	}
	want, err := m.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "x.npy")
	if err := npy.WriteFile(in, &npy.Array{Shape: []int{n, m.InputWidth()}, Data: x}); err != nil {
		t.Fatal(err)
	}
	cases := []interop.KerasCase{{File: file, Loader: interop.TFKeras, Input: in}, {File: file, Loader: interop.Keras3, Input: in}}
	for i, res := range interop.KerasLoad(t, cases) {
		if p := res.Problems(m, want, judgeNormwise, false); len(p) > 0 {
			t.Errorf("%s: %s", cases[i].Loader, strings.Join(p, "; "))
			continue
		}
		t.Logf("%s: normwise %.3g", cases[i].Loader, res.Normwise(want))
	}
}
