package train

import (
	"encoding/json"
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// ckKind is an Other layer's kind in a checkpoint: its Keras class, its
// config attributes as JSON (as a Keras config holds them) and its
// weights in the order of Params.
type ckKind struct {
	Class  string
	Config string
	Params [][]float32
}

// kindToCk returns the checkpoint form of k (nil for nil). Its config
// is JSON: a value JSON cannot hold (NaN, an infinity) is an error, not a
// setting dropped.
func kindToCk(k runtime.Kind) (*ckKind, error) {
	if k == nil {
		return nil, nil
	}
	cfg, err := json.Marshal(kindAttrs(k))
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", k.Class(), err)
	}
	c := &ckKind{Class: k.Class(), Config: string(cfg)}
	for _, p := range k.Params() {
		c.Params = append(c.Params, p.Values)
	}
	return c, nil
}

// kindAttrs returns k's config attributes by key.
func kindAttrs(k runtime.Kind) map[string]any {
	attrs := map[string]any{}
	for _, a := range k.Config() {
		attrs[a.Key] = a.Value
	}
	return attrs
}

// cloneKind returns a copy of k with copies of its weights (nil for nil).
func cloneKind(k runtime.Kind) (runtime.Kind, error) {
	if k == nil {
		return nil, nil
	}
	var params [][]float32
	for _, p := range k.Params() {
		params = append(params, p.Values)
	}
	return newKind(k.Class(), kindAttrs(k), params)
}

// kindFromCk rebuilds a kind with copies of its weights.
func kindFromCk(c *ckKind) (runtime.Kind, error) {
	var attrs map[string]any
	if err := json.Unmarshal([]byte(c.Config), &attrs); err != nil {
		return nil, fmt.Errorf("kind %s: config: %w", c.Class, err)
	}
	return newKind(c.Class, attrs, c.Params)
}

// newKind returns the kind class with config attrs and copies of params.
func newKind(class string, attrs map[string]any, params [][]float32) (runtime.Kind, error) {
	k, err := runtime.NewKind(class, attrs)
	if err != nil {
		return nil, err
	}
	vals := make([][]float32, len(params))
	for i, p := range params {
		vals[i] = append([]float32{}, p...)
	}
	if err := k.SetParams(vals); err != nil {
		return nil, err
	}
	return k, nil
}

// restoreKinds copies the weights of ck's kinds into the norm ops of nt,
// in order; it reports a mismatch.
func restoreKinds(ck *runtime.Model, nt *net) error {
	var src []runtime.Kind
	ck.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Other {
			src = append(src, l.Kind)
		}
	})
	i := 0
	for _, o := range nt.ops {
		if o.norm == nil {
			continue
		}
		if i >= len(src) || src[i] == nil || src[i].Class() != o.norm.kind.Class() {
			return fmt.Errorf("its model's layers differ from the model being trained (at layer %q)", o.layer.Name)
		}
		from, to := src[i].Params(), o.norm.kind.Params()
		if len(from) != len(to) {
			return fmt.Errorf("layer %q has %d weights, want %d", o.layer.Name, len(from), len(to))
		}
		for j := range from {
			if len(from[j].Values) != len(to[j].Values) {
				return fmt.Errorf("layer %q: weight %s has %d values, want %d", o.layer.Name, to[j].Name, len(from[j].Values), len(to[j].Values))
			}
			copy(to[j].Values, from[j].Values)
		}
		i++
	}
	if i != len(src) {
		return fmt.Errorf("its model has %d normalisation layers, the model being trained %d", len(src), i)
	}
	return nil
}
