package runtime

import "testing"

// TestFrozenLayers checks FrozenLayers (a frozen nested model freezes
// every layer inside it, at any depth) and TrainableParams (Keras's
// "Trainable params": no frozen layer, no moving statistics).
func TestFrozenLayers(t *testing.T) {
	dense := func(name string, in, units int) *Layer {
		return &Layer{Name: name, Type: Dense, In: in, Units: units, Kernel: make([]float32, in*units), Bias: make([]float32, units)}
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	bn := &Layer{Name: "bn", Type: Other, Kind: NewBatchNormalization(ones(4), make([]float32, 4), make([]float32, 4), ones(4), 1e-3)}
	inner := &Model{Name: "inner", Input: []int{4}, Layers: []*Layer{dense("d2", 4, 3)}}
	enc := &Model{Name: "encoder", Input: []int{5}, Layers: []*Layer{dense("d1", 5, 4), bn, {Name: "inner", Type: SubModel, Sub: inner}}}
	dec := &Model{Name: "decoder", Input: []int{3}, Layers: []*Layer{dense("d3", 3, 5)}}
	m := &Model{Name: "ae", Input: []int{5}, Layers: []*Layer{{Name: "encoder", Type: SubModel, Sub: enc}, {Name: "decoder", Type: SubModel, Sub: dec}}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	all := 24 + 16 + 15 + 20 // d1, bn, d2, d3
	if m.FrozenLayers() != nil || m.Params() != all || m.TrainableParams() != all-8 {
		t.Fatalf("nothing frozen: %v, %d params, %d trainable", m.FrozenLayers(), m.Params(), m.TrainableParams())
	}
	enc.Layers[2].Frozen = true // the inner model: d2 with it
	if f := m.FrozenLayers(); len(f) != 2 || !f[enc.Layers[2]] || !f[inner.Layers[0]] {
		t.Errorf("inner frozen: %v", f)
	}
	if got := m.TrainableParams(); got != all-8-15 {
		t.Errorf("inner frozen: %d trainable, want %d", got, all-8-15)
	}
	m.Layers[0].Frozen = true // the encoder: everything but d3
	if f := m.FrozenLayers(); len(f) != 5 || f[dec.Layers[0]] || !f[bn] {
		t.Errorf("encoder frozen: %v", f)
	}
	if got := m.TrainableParams(); got != 20 || m.Params() != all {
		t.Errorf("encoder frozen: %d of %d trainable, want 20 of %d", got, m.Params(), all)
	}
	u, _ := m.Until("d2")
	if f := u.FrozenLayers(); len(f) != 5 {
		t.Errorf("Until keeps the frozen layers: %v", f)
	}
}
