package keras

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// parseActivation maps a Keras activation (a name, null, or a serialized
// activation object) to the runtime's, with the semantics of Keras major
// version major.
func parseActivation(v any, major int) (runtime.Activation, error) {
	switch x := v.(type) {
	case nil:
		return runtime.Activation{}, nil
	case string:
		return activationByName(x, major)
	case map[string]any:
		class, _ := x["class_name"].(string)
		c, _ := x["config"].(map[string]any)
		if c == nil {
			c = map[string]any{}
		}
		switch class {
		case "function", "Function":
			if name, ok := x["config"].(string); ok {
				return activationByName(name, major)
			}
		case "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU":
			return layerActivation(class, c)
		case "Softmax":
			if ax, ok := intOf(c["axis"]); !ok && c["axis"] != nil || ok && ax != -1 {
				return runtime.Activation{}, fmt.Errorf("%w: Softmax activation over axis %v", ErrActivation, c["axis"])
			}
			return runtime.Act(runtime.Softmax), nil
		}
		return runtime.Activation{}, fmt.Errorf("%w: activation object of class %q", ErrActivation, class)
	}
	return runtime.Activation{}, fmt.Errorf("%w: activation %v", ErrActivation, v)
}

func activationByName(name string, major int) (runtime.Activation, error) {
	switch name {
	case "hard_sigmoid":
		if major >= 3 {
			return runtime.HardSigmoidKeras3, nil
		}
		return runtime.Act(runtime.HardSigmoid), nil
	case "softmax_v2": // tf.nn.softmax as serialized by tf.keras
		return runtime.Act(runtime.Softmax), nil
	case "swish", "silu":
		return runtime.Act(runtime.Swish), nil
	}
	f, err := runtime.ParseFunc(name)
	if err != nil {
		return runtime.Activation{}, fmt.Errorf("%w: %w", ErrActivation, err)
	}
	return runtime.Act(f), nil
}

// layerActivation maps an activation layer's config (ReLU, LeakyReLU,
// ELU, ThresholdedReLU) to the runtime's activation, with Keras defaults:
// LeakyReLU slope 0.3 (alpha in Keras 1/2, negative_slope in Keras 3),
// ELU alpha 1, ThresholdedReLU theta 1.
func layerActivation(class string, c map[string]any) (runtime.Activation, error) {
	switch class {
	case "ReLU":
		a := runtime.Activation{Func: runtime.ReLU}
		slope, err := num(c, 0, "negative_slope")
		if err != nil {
			return a, err
		}
		th, err := num(c, 0, "threshold")
		if err != nil {
			return a, err
		}
		a.Alpha, a.Threshold = float32(slope), float32(th)
		if mv, ok := c["max_value"]; ok && mv != nil {
			f, ok := floatOf(mv)
			if !ok {
				return a, fmt.Errorf("%w: ReLU max_value %v", ErrFormat, mv)
			}
			a.Capped, a.MaxValue = true, float32(f)
		}
		return a, nil
	case "LeakyReLU":
		alpha, err := num(c, 0.3, "negative_slope", "alpha")
		return runtime.Activation{Func: runtime.LeakyReLU, Alpha: float32(alpha)}, err
	case "ELU":
		alpha, err := num(c, 1, "alpha")
		return runtime.Activation{Func: runtime.ELU, Alpha: float32(alpha)}, err
	case "ThresholdedReLU":
		// x if x > theta else 0: ReLU with a threshold and no slope.
		th, err := num(c, 1, "theta")
		return runtime.Activation{Func: runtime.ReLU, Threshold: float32(th)}, err
	}
	return runtime.Activation{}, fmt.Errorf("%w: activation layer %q", ErrActivation, class)
}
