package runtime

import "testing"

// TestPackedMaxWeights checks that models with more Dense kernel values
// than PackedMaxWeights are not packed (they would keep another copy),
// and that denseWeights counts nested layers.
func TestPackedMaxWeights(t *testing.T) {
	big := &Layer{Name: "big", Type: Dense, In: 1, Units: PackedMaxWeights + 1, Kernel: make([]float32, PackedMaxWeights+1)}
	small := &Layer{Name: "small", Type: Dense, In: 2, Units: 3, Kernel: make([]float32, 6)}
	m := &Model{Input: []int{1}, Layers: []*Layer{{Name: "sub", Type: SubModel, Sub: &Model{Input: []int{1}, Layers: []*Layer{big}}}}}
	if got := m.denseWeights(); got != PackedMaxWeights+1 {
		t.Fatalf("denseWeights = %d, want %d", got, PackedMaxWeights+1)
	}
	if p := m.packedFor(256); p != nil {
		t.Fatal("a model over PackedMaxWeights was packed")
	}
	s := &Model{Input: []int{2}, Layers: []*Layer{small}}
	if got := s.denseWeights(); got != 6 {
		t.Fatalf("denseWeights = %d, want 6", got)
	}
	if p := s.packedFor(PackedMinRows - 1); p != nil {
		t.Fatal("a batch under PackedMinRows was packed")
	}
}
