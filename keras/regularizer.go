package keras

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// denseRegularizers reads a Dense layer's regularisers from its config c:
// kernel_regularizer, bias_regularizer and activity_regularizer (Keras 2
// and 3: {"class_name": "L1" | "L2" | "L1L2", "config": {"l1": …, "l2":
// …}}), or Keras 1's W_regularizer, b_regularizer and
// activity_regularizer ({"name": "WeightRegularizer" |
// "ActivityRegularizer" | "L1L2Regularizer", "l1": …, "l2": …}). It
// returns nil when there are none, and an error for a regulariser of
// another class (a custom one, say), which the caller may ignore: only
// training reads them.
func denseRegularizers(c map[string]any) (*runtime.Regularizers, error) {
	var r runtime.Regularizers
	for _, p := range []struct {
		keys []string
		dst  *runtime.Regularizer
	}{
		{[]string{"kernel_regularizer", "W_regularizer"}, &r.Kernel},
		{[]string{"bias_regularizer", "b_regularizer"}, &r.Bias},
		{[]string{"activity_regularizer"}, &r.Activity},
	} {
		for _, k := range p.keys {
			v, ok := c[k].(map[string]any)
			if !ok {
				continue
			}
			reg, err := regularizer(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			*p.dst = reg
		}
	}
	if r.IsZero() {
		return nil, nil
	}
	return &r, nil
}

// regularizer reads one serialised L1/L2 regulariser.
func regularizer(v map[string]any) (runtime.Regularizer, error) {
	class, _ := v["class_name"].(string)
	cfg, _ := v["config"].(map[string]any)
	if class == "" { // Keras 1
		class, _ = v["name"].(string)
		cfg = v
	}
	switch class {
	case "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "WeightRegularizer", "ActivityRegularizer", "L1L2Regularizer":
	default:
		return runtime.Regularizer{}, fmt.Errorf("regulariser class %q (supported: L1, L2, L1L2)", class)
	}
	var r runtime.Regularizer
	for _, f := range []struct {
		key string
		dst *float64
	}{{"l1", &r.L1}, {"l2", &r.L2}} {
		x, ok := cfg[f.key]
		if !ok || x == nil {
			continue
		}
		n, ok := floatOf(x)
		if !ok || !(n >= 0) || n > 1e6 {
			return runtime.Regularizer{}, fmt.Errorf("%s %s = %v", class, f.key, x)
		}
		*f.dst = n
	}
	return r, nil
}
