package keras

import "testing"

// familyDir holds models with normalisation layers that real Keras 3 and
// tf-keras 2 saved, with Keras's outputs (fixtures/keras/family/gen.py).
const familyDir = fixtures + "/family"

// TestKerasFamily is TestKerasJudge for the normalisation layers
// (BatchNormalization, LayerNormalization, Normalization,
// UnitNormalization, Rescaling): every layout, both writers, within the
// judge's bounds of Keras's model.predict.
func TestKerasFamily(t *testing.T) { judgeFolder(t, familyDir) }
