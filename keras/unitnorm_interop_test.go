package keras

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/internal/tolerance"
	"github.com/aekit/aekit/npy"
)

const unitNormScript = `
import sys, numpy as np
mod = sys.argv[1]
if mod == "tf_keras":
    import tf_keras as keras
else:
    import keras
x = np.load(sys.argv[3])
m = keras.Sequential([keras.Input((4,)), keras.layers.UnitNormalization()])
m.save(sys.argv[2])
np.save(sys.argv[4], m.predict(x, verbose=0))
`

// TestUnitNormEpsilonByVersion: UnitNormalization bounds Σx² by 1e-12 in
// tf-keras (tf.math.l2_normalize) and by 1e-24 in Keras 3; on rows whose
// Σx² lies between the two, files written by each read back with each
// one's own results (|diff| ≤ 1e-6 + 1e-5·|want|).
func TestUnitNormEpsilonByVersion(t *testing.T) {
	py := interop.Python(t, "keras", "tf_keras")
	dir := t.TempDir()
	script := filepath.Join(dir, "unit.py")
	if err := os.WriteFile(script, []byte(unitNormScript), 0o644); err != nil {
		t.Fatal(err)
	}
	x := []float32{1, -2, 3, 0.5, 3e-7, 1e-7, -2e-7, 0, 1e-9, 0, 0, 0, 0, 0, 0, 0}
	xf := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(xf, &npy.Array{Shape: []int{4, 4}, Data: x}); err != nil {
		t.Fatal(err)
	}
	outs := map[string][]float32{}
	for _, c := range []struct{ mod, ext string }{{"tf_keras", ".h5"}, {"keras", ".keras"}, {"keras", ".h5"}} {
		name := filepath.Join(dir, c.mod+c.ext)
		yf := filepath.Join(dir, c.mod+c.ext+".y.npy")
		interop.Run(t, py, script, c.mod, name, xf, yf)
		want, err := npy.ReadFile(yf)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := ReadFile(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		r := tolerance.Compare(got, want.Data, 1e-6, 1e-5)
		if !r.OK() {
			t.Errorf("%s%s: %+v\n got %v\nwant %v", c.mod, c.ext, r, got, want.Data)
		}
		outs[c.mod] = want.Data
	}
	// The rows between the bounds tell the versions apart.
	if fmt.Sprint(outs["tf_keras"][4:8]) == fmt.Sprint(outs["keras"][4:8]) {
		t.Errorf("tf-keras and Keras 3 agree on a row with Σx² = 1.4e-13: %v", outs["keras"][4:8])
	}
}
