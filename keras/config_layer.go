package keras

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/aekit/aekit/runtime"
)

// unsupported reports the layer name (or, unnamed, the layer at index
// pos of its model) of class as one aekit cannot run, and why, in one
// short line that points to where the supported layers are listed.
func unsupported(name string, pos int, class, why string) error {
	if why != "" {
		why = " (" + why + ")"
	}
	return fmt.Errorf("%w: %s of class %q%s (the README lists the supported layers)", ErrUnsupportedLayer, layerLabel(name, pos), class, why)
}

// layerLabel names a layer in messages: layer "name", or for a layer
// without a name its index in its model, never layer "".
func layerLabel(name string, pos int) string {
	if name == "" {
		return fmt.Sprintf("unnamed layer #%d", pos)
	}
	return fmt.Sprintf("layer %q", name)
}

func isModelClass(c string) bool {
	return c == "Sequential" || c == "Functional" || c == "Model"
}

func configOf(entry map[string]any) map[string]any {
	c, _ := entry["config"].(map[string]any)
	if c == nil {
		c = map[string]any{}
	}
	return c
}

// inputShape reads the input shape a layer config declares, without the
// batch axis, or nil.
func inputShape(c map[string]any) []int {
	for _, k := range []string{"batch_input_shape", "batch_shape"} {
		if s := shapeOf(c[k]); s != nil {
			return s
		}
	}
	if v, ok := c["input_shape"].([]any); ok {
		if s := shapeOf(append([]any{nil}, v...)); s != nil {
			return s
		}
	}
	if d, ok := intOf(c["input_dim"]); ok && d > 0 {
		return []int{d}
	}
	return nil
}

// shapeOf converts [null, d1, d2, ...] to [d1, d2, ...]; nil if any
// dimension is unknown.
func shapeOf(v any) []int {
	a, ok := v.([]any)
	if !ok || len(a) < 2 {
		return nil
	}
	s := make([]int, 0, len(a)-1)
	for _, d := range a[1:] {
		n, ok := intOf(d)
		if !ok || n <= 0 {
			return nil
		}
		s = append(s, n)
	}
	return s
}

func intOf(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<40 {
			return 0, false
		}
		return int(f), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<40 {
			return 0, false
		}
		return int(x), true
	}
	return 0, false
}

func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// num returns config key k as a float, def when absent or null.
func num(c map[string]any, def float64, keys ...string) (float64, error) {
	for _, k := range keys {
		v, ok := c[k]
		if !ok || v == nil {
			continue
		}
		f, ok := floatOf(v)
		if !ok {
			return 0, fmt.Errorf("%w: %s is %v, not a number", ErrFormat, k, v)
		}
		return f, nil
	}
	return def, nil
}

// layer parses one layer entry of a model config.
func (b *builder) layer(entry map[string]any) (*node, error) {
	class, _ := entry["class_name"].(string)
	c := configOf(entry)
	name, _ := c["name"].(string)
	if name == "" {
		name, _ = entry["name"].(string)
	}
	n := &node{pos: b.pos, name: name, class: class, entry: entry}
	reject := ""
	if reg, _ := entry["registered_name"].(string); strings.Contains(reg, ">") {
		reject = fmt.Sprintf("custom class %q", reg)
	}
	if dt, ok := c["dtype"].(map[string]any); ok {
		if dc, _ := dt["class_name"].(string); strings.Contains(dc, "Quantized") {
			reject = fmt.Sprintf("quantized dtype policy %q", dc)
		}
	}
	if reject != "" && !b.describe {
		return nil, unsupported(name, b.pos, class, reject)
	}
	if class == "InputLayer" {
		n.input = inputShape(c)
		if n.input == nil {
			return nil, fmt.Errorf("%w: InputLayer %s has no usable shape", ErrFormat, strings.TrimPrefix(layerLabel(name, b.pos), "layer "))
		}
		return n, nil
	}
	if name == "" {
		return nil, fmt.Errorf("%w: %s of class %q has no name", ErrFormat, layerLabel("", b.pos), class)
	}
	if b.seen[name] {
		return nil, fmt.Errorf("%w: layer name %q used twice", ErrFormat, name)
	}
	b.seen[name] = true
	l := &runtime.Layer{Name: name, Class: class}
	// Keras's trainable=False, on a layer or a nested model (whose
	// layers it freezes: runtime.Model.FrozenLayers).
	l.Frozen = c["trainable"] == false
	n.layer = l
	if reject != "" {
		return b.placeholder(n, reject)
	}
	var err error
	switch class {
	case "Sequential", "Functional", "Model":
		n.sub, err = b.model(class, entry["config"], name, "")
		if err != nil {
			return nil, err
		}
		l.Type, l.Sub = runtime.SubModel, n.sub.model
	case "Dense":
		l.Type = runtime.Dense
		u, ok := intOf(c["units"])
		if !ok {
			u, ok = intOf(c["output_dim"]) // Keras 1
		}
		if !ok || u <= 0 {
			return nil, fmt.Errorf("%w: Dense %q has units %v", ErrFormat, name, c["units"])
		}
		n.units = u
		n.bias = true
		for _, k := range []string{"use_bias", "bias"} {
			if v, ok := c[k].(bool); ok {
				n.bias = v
			}
		}
		if l.Act, err = parseActivation(c["activation"], b.major); err != nil {
			return nil, fmt.Errorf("%s: %w", layerLabel(name, b.pos), err)
		}
		if l.Reg, err = denseRegularizers(c); err != nil {
			// Only training reads them: it refuses the layer.
			l.Reg, err = &runtime.Regularizers{Unsupported: err.Error()}, nil
		}
	case "Activation":
		l.Type = runtime.ActivationLayer
		if l.Act, err = parseActivation(c["activation"], b.major); err != nil {
			return nil, fmt.Errorf("%s: %w", layerLabel(name, b.pos), err)
		}
	case "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU":
		l.Type = runtime.ActivationLayer
		if l.Act, err = layerActivation(class, c); err != nil {
			return nil, fmt.Errorf("%s: %w", layerLabel(name, b.pos), err)
		}
	case "Softmax":
		l.Type = runtime.ActivationLayer
		l.Act = runtime.Act(runtime.Softmax)
		n.axis = -1
		ax := c["axis"]
		if a, ok := ax.([]any); ok && len(a) == 1 {
			ax = a[0]
		}
		if ax != nil {
			v, ok := intOf(ax)
			if !ok {
				return nil, unsupported(name, b.pos, class, fmt.Sprintf("axis %v", c["axis"]))
			}
			n.axis = v
		}
	case "Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "ActivityRegularization":
		l.Type = runtime.Identity
		if l.Rate, err = num(c, 0, "rate", "stddev", "p"); err != nil {
			return nil, fmt.Errorf("%s: %w", layerLabel(name, b.pos), err)
		}
	case "Flatten":
		l.Type = runtime.Reshape
	case "Reshape":
		l.Type = runtime.Reshape
		ts, ok := c["target_shape"].([]any)
		if !ok || len(ts) == 0 {
			return nil, fmt.Errorf("%w: Reshape %q has target_shape %v", ErrFormat, name, c["target_shape"])
		}
		for _, d := range ts {
			v, ok := intOf(d)
			if !ok || (v <= 0 && v != -1) {
				return nil, fmt.Errorf("%w: Reshape %q has target_shape %v", ErrFormat, name, c["target_shape"])
			}
			l.Shape = append(l.Shape, v)
		}
	default:
		k, err := runtime.NewKind(class, c)
		if errors.Is(err, runtime.ErrUnknownKind) {
			return b.placeholder(n, "")
		}
		if err != nil {
			return b.placeholder(n, err.Error())
		}
		if u, ok := k.(*runtime.UnitNormalization); ok && b.major == 2 {
			// tf-keras computes it as tf.math.l2_normalize: Σx² ≥ 1e-12,
			// where Keras 3 caps the inverse norm at 1e12.
			u.Epsilon = 1e-12
		}
		l.Type, l.Kind = runtime.Other, k
	}
	return n, nil
}

// placeholder makes n a runtime.Unsupported layer when b describes
// (Options.Describe), and otherwise returns the unsupported-layer error.
func (b *builder) placeholder(n *node, why string) (*node, error) {
	if !b.describe {
		return nil, unsupported(n.name, n.pos, n.class, why)
	}
	n.layer.Type, n.layer.Kind = runtime.Other, &runtime.Unsupported{ClassName: n.class, Reason: why, Weights: -1}
	n.layer.Sub, n.sub = nil, nil
	return n, nil
}
