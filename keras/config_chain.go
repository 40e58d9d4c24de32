package keras

import (
	"fmt"
	"sort"
)

// ref is one tensor a layer call takes: output tensor of layer's call
// number node.
type ref struct {
	layer        string
	node, tensor int
}

// refs parses a Keras 1/2 [name, node, tensor(, kwargs)] entry.
func refOf(v any) (ref, bool) {
	a, ok := v.([]any)
	if !ok || len(a) < 3 {
		return ref{}, false
	}
	name, ok := a[0].(string)
	n, ok1 := intOf(a[1])
	t, ok2 := intOf(a[2])
	return ref{name, n, t}, ok && ok1 && ok2
}

// refList parses input_layers/output_layers: [[name, node, tensor], ...]
// or a single [name, node, tensor].
func refList(v any) ([]ref, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	if r, ok := refOf(a); ok {
		if _, isStr := a[0].(string); isStr {
			return []ref{r}, true
		}
	}
	var out []ref
	for _, e := range a {
		r, ok := refOf(e)
		if !ok {
			return nil, false
		}
		out = append(out, r)
	}
	return out, true
}

// inbound returns, for each call of a layer in a functional model, the
// tensors it takes.
func inbound(entry map[string]any) ([][]ref, error) {
	raw, _ := entry["inbound_nodes"].([]any)
	var calls [][]ref
	for _, nd := range raw {
		var ins []ref
		switch v := nd.(type) {
		case []any: // Keras 1/2: [[name, node, tensor, kwargs], ...]
			for _, e := range v {
				r, ok := refOf(e)
				if !ok {
					return nil, fmt.Errorf("%w: inbound node %v", ErrFormat, e)
				}
				ins = append(ins, r)
			}
		case map[string]any: // Keras 3: {"args": [...], "kwargs": {...}}
			collectTensors(v["args"], &ins)
			collectTensors(v["kwargs"], &ins)
		default:
			return nil, fmt.Errorf("%w: inbound node %v", ErrFormat, nd)
		}
		calls = append(calls, ins)
	}
	return calls, nil
}

func collectTensors(v any, out *[]ref) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectTensors(e, out)
		}
	case map[string]any:
		if x["class_name"] == "__keras_tensor__" {
			c, _ := x["config"].(map[string]any)
			if r, ok := refOf(c["keras_history"]); ok {
				*out = append(*out, r)
			}
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collectTensors(x[k], out)
		}
	}
}

// chain orders a functional model's layers from its input to its output
// (the layer named output, if set), or explains why the graph is not a
// chain.
func (t *tree) chain(c map[string]any, output string) error {
	if c == nil {
		return fmt.Errorf("%w: functional model %q has no config", ErrFormat, t.name)
	}
	ins, ok1 := refList(c["input_layers"])
	outs, ok2 := refList(c["output_layers"])
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: functional model %q: bad input_layers/output_layers", ErrFormat, t.name)
	}
	if output != "" {
		outs = []ref{{layer: output}}
	}
	if len(ins) != 1 || len(outs) != 1 {
		return fmt.Errorf("%w: model %q has %d inputs and %d outputs; only chains with one input and one output are supported", ErrUnsupportedGraph, t.name, len(ins), len(outs))
	}
	byName := map[string]*node{}
	for _, n := range t.nodes {
		byName[n.name] = n
	}
	in, ok := byName[ins[0].layer]
	if !ok || in.class != "InputLayer" {
		return fmt.Errorf("%w: model %q input %q is not an InputLayer", ErrFormat, t.name, ins[0].layer)
	}
	t.model.Input = in.input
	t.model.InputName = in.name
	var order []*node
	cur := outs[0]
	if cur.tensor != 0 {
		return fmt.Errorf("%w: model %q outputs tensor %d of %q (a multi-output layer)", ErrUnsupportedGraph, t.name, cur.tensor, cur.layer)
	}
	for cur.layer != in.name {
		n, ok := byName[cur.layer]
		if !ok {
			return fmt.Errorf("%w: model %q refers to unknown layer %q", ErrFormat, t.name, cur.layer)
		}
		if n.class == "InputLayer" {
			return fmt.Errorf("%w: model %q has a second input %q", ErrUnsupportedGraph, t.name, n.name)
		}
		if len(order) > len(t.nodes) {
			return fmt.Errorf("%w: model %q has a cycle at %q", ErrFormat, t.name, n.name)
		}
		calls, err := inbound(n.entry)
		if err != nil {
			return fmt.Errorf("model %q %s: %w", t.name, layerLabel(n.name, n.pos), err)
		}
		if len(calls) != 1 {
			return fmt.Errorf("%w: %s in model %q is called %d times (shared layers are not supported)", ErrUnsupportedGraph, layerLabel(n.name, n.pos), t.name, len(calls))
		}
		if len(calls[0]) != 1 {
			return fmt.Errorf("%w: %s in model %q takes %d inputs (merges are not supported)", ErrUnsupportedGraph, layerLabel(n.name, n.pos), t.name, len(calls[0]))
		}
		if calls[0][0].tensor != 0 {
			return fmt.Errorf("%w: %s in model %q takes output %d of %q (multi-output layers are not supported)", ErrUnsupportedGraph, layerLabel(n.name, n.pos), t.name, calls[0][0].tensor, calls[0][0].layer)
		}
		order = append(order, n)
		cur = calls[0][0]
	}
	if len(order)+1 != len(t.nodes) {
		on := map[*node]bool{in: true}
		for _, n := range order {
			on[n] = true
		}
		for _, n := range t.nodes {
			if !on[n] && !n.stub {
				return fmt.Errorf("%w: %s in model %q is not on the path from %q to %q (branches are not supported)", ErrUnsupportedGraph, layerLabel(n.name, n.pos), t.name, in.name, outs[0].layer)
			}
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		t.model.Layers = append(t.model.Layers, order[i].layer)
	}
	return nil
}
