package runtime

import (
	"errors"
	"testing"
)

func TestRescaling(t *testing.T) {
	k, err := NewKind("Rescaling", map[string]any{"scale": 0.5, "offset": []any{1.0, -1.0}})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Input: []int{2}, Layers: []*Layer{{Name: "r", Type: Other, Kind: k}}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(nil, []float32{2, 4, -2, 0})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{2, 1, 0, -1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	bad := &Model{Input: []int{3}, Layers: m.Layers}
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("offset of 2 values on width 3: %v, want ErrInvalid", err)
	}
	if _, err := bad.Predict(nil, make([]float32, 3)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Predict: %v, want ErrInvalid", err)
	}
	if _, err := NewKind("Rescaling", map[string]any{"scale": "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("scale \"x\": %v, want ErrInvalid", err)
	}
	if _, err := NewKind("Conv2D", nil); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("Conv2D: %v, want ErrUnknownKind", err)
	}
}
