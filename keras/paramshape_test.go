package keras

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aekit/aekit/internal/h5/libhdf5"
)

// TestParamShape: a BatchNormalization weight must be a vector, one value
// per feature: gamma stored as 2×2 for 4 features is refused with
// ErrShape, before any value is read, though its count is right.
func TestParamShape(t *testing.T) {
	needWriter(t)
	arch := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}},
		{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 0.001, "center": true, "scale": true}}]}}`)
	weights := func(gamma []int) []byte {
		f, err := libhdf5.Create()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i, shape := range [][]int{gamma, {4}, {4}, {4}} {
			if err := f.WriteFloat32("layers/batch_normalization/vars/"+string(rune('0'+i)), []float32{1, 2, 3, 4}, shape); err != nil {
				t.Fatal(err)
			}
		}
		img, err := f.Image()
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	if _, _, err := Read(bytes.NewReader(weights([]int{4})), &Options{ArchJSON: arch}); err != nil {
		t.Fatalf("gamma [4]: %v", err)
	}
	for _, shape := range [][]int{{2, 2}, {1, 4}, {4, 1}} {
		_, _, err := Read(bytes.NewReader(weights(shape)), &Options{ArchJSON: arch})
		if !errors.Is(err, ErrShape) {
			t.Errorf("gamma %v for 4 features: %v, want ErrShape", shape, err)
		}
	}
}
