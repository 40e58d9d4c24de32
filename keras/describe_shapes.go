package keras

import "strings"

// classShapes returns the output shapes of a layer aekit cannot run, from
// its class, config and input shapes (one sample each, nil when unknown),
// for the classes common in saved models: convolutions, pooling,
// up-sampling, recurrent layers, merges, Embedding, RepeatVector, Permute,
// a Lambda with a declared output_shape. Each entry is nil where the rule
// does not apply or the config is not understood; Keras 1 spellings
// (nb_filter, border_mode, dim_ordering, ...) are read too. Results are
// checked by the caller (checkShape) before use.
func classShapes(class string, c map[string]any, ins [][]int) [][]int {
	var x []int
	if len(ins) > 0 {
		x = ins[0]
	}
	one := func(s []int) [][]int { return [][]int{s} }
	switch class {
	case "Lambda":
		if s := declaredShape(c["output_shape"]); s != nil {
			return one(s)
		}
		return one(nil)
	case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
		return one(x)
	case "Concatenate":
		ax, ok := intOf(c["axis"])
		if !ok {
			ax = -1
		}
		return one(concat(ins, ax))
	case "Merge": // Keras 1
		switch mode, _ := c["mode"].(string); mode {
		case "concat":
			ax, ok := intOf(c["concat_axis"])
			if !ok {
				ax = -1
			}
			return one(concat(ins, ax))
		case "sum", "mul", "ave", "max":
			return one(x)
		}
		return one(nil)
	}
	if x == nil {
		return one(nil)
	}
	switch {
	case strings.HasPrefix(class, "Global") && strings.Contains(class, "Pooling"):
		if kd, _ := c["keepdims"].(bool); kd {
			return one(nil)
		}
		if last := !channelsFirst(c); len(x) >= 2 {
			if last {
				return one([]int{x[len(x)-1]})
			}
			return one([]int{x[0]})
		}
	case isConv(class):
		return one(convShape(class, c, x))
	case isPool(class):
		return one(poolShape(class, c, x))
	case strings.HasPrefix(class, "UpSampling"):
		return one(upShape(class, c, x))
	case class == "LSTM" || class == "GRU" || class == "SimpleRNN":
		return rnnShapes(class, c, x)
	case class == "Embedding":
		d, ok := intOf(c["output_dim"])
		if ok && d > 0 {
			return one(append(append([]int(nil), x...), d))
		}
	case class == "RepeatVector":
		n, ok := intOf(c["n"])
		if ok && n > 0 && len(x) == 1 {
			return one([]int{n, x[0]})
		}
	case class == "Permute":
		dims, _ := c["dims"].([]any)
		if len(dims) != len(x) {
			break
		}
		out := make([]int, len(x))
		for i, v := range dims {
			d, ok := intOf(v)
			if !ok || d < 1 || d > len(x) {
				return one(nil)
			}
			out[i] = x[d-1]
		}
		return one(out)
	case class == "PReLU" || class == "Softmax" || class == "Activation" || class == "BatchNormalization" ||
		class == "LayerNormalization" || class == "SpatialDropout2D" || class == "SpatialDropout3D":
		return one(x)
	}
	return one(nil)
}

// declaredShape reads a Lambda's output_shape: a list of dimensions
// without the batch axis (Keras 2 may store a leading null).
func declaredShape(v any) []int {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return nil
	}
	if a[0] == nil {
		return shapeOf(a)
	}
	return shapeOf(append([]any{nil}, a...))
}

// concat returns the shape of shapes joined along axis (counting the
// batch axis as 0, negative from the end), nil when one is unknown or
// they do not fit.
func concat(ins [][]int, axis int) []int {
	if len(ins) == 0 || ins[0] == nil {
		return nil
	}
	r := len(ins[0])
	if axis < 0 {
		axis += r + 1
	}
	if axis < 1 || axis > r {
		return nil
	}
	out := append([]int(nil), ins[0]...)
	for _, s := range ins[1:] {
		if len(s) != r {
			return nil
		}
		for i := range s {
			if i != axis-1 && s[i] != out[i] {
				return nil
			}
		}
		if out[axis-1] > maxElems-s[axis-1] {
			return nil
		}
		out[axis-1] += s[axis-1]
	}
	return out
}

func isConv(class string) bool {
	switch class {
	case "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
		"SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
		"DepthwiseConv1D", "DepthwiseConv2D", "AtrousConvolution1D", "AtrousConvolution2D":
		return true
	}
	return false
}

func isPool(class string) bool {
	return (strings.HasPrefix(class, "MaxPooling") || strings.HasPrefix(class, "AveragePooling")) &&
		(strings.HasSuffix(class, "1D") || strings.HasSuffix(class, "2D") || strings.HasSuffix(class, "3D"))
}

// spatialRank is the number of spatial axes a class ending in 1D, 2D or
// 3D works on.
func spatialRank(class string) int {
	switch {
	case strings.HasSuffix(class, "1D"):
		return 1
	case strings.HasSuffix(class, "2D"):
		return 2
	case strings.HasSuffix(class, "3D"):
		return 3
	}
	return 0
}

// channelsFirst tells whether a layer config puts channels first:
// data_format "channels_first", or Keras 1's dim_ordering "th".
func channelsFirst(c map[string]any) bool {
	if f, _ := c["data_format"].(string); f != "" {
		return f == "channels_first"
	}
	o, _ := c["dim_ordering"].(string)
	return o == "th"
}

// ints reads a config value that is an int or a list of r ints (tuples),
// each ≥ 1; def when absent or null.
func ints(v any, r, def int) ([]int, bool) {
	out := make([]int, r)
	switch x := v.(type) {
	case nil:
		for i := range out {
			out[i] = def
		}
		return out, def > 0
	case []any:
		if len(x) != r {
			return nil, false
		}
		for i, e := range x {
			d, ok := intOf(e)
			if !ok || d < 1 {
				return nil, false
			}
			out[i] = d
		}
		return out, true
	}
	d, ok := intOf(v)
	if !ok || d < 1 {
		return nil, false
	}
	for i := range out {
		out[i] = d
	}
	return out, true
}

// firstOf returns the first present, non-null value of c among keys.
func firstOf(c map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := c[k]; ok && v != nil {
			return v
		}
	}
	return nil
}

// window applies a sliding window to the spatial axes of x (channels
// last or first) and sets the channel count to ch (≤ 0: unchanged).
func window(x []int, r int, first bool, k, s, dil []int, pad string, ch int) []int {
	if len(x) != r+1 {
		return nil
	}
	out := append([]int(nil), x...)
	off := 0
	if first {
		off = 1
	}
	for i := 0; i < r; i++ {
		n := x[off+i]
		switch pad {
		case "same":
			n = (n + s[i] - 1) / s[i]
		case "valid":
			ek := dil[i]*(k[i]-1) + 1
			if ek > n {
				return nil
			}
			n = (n-ek)/s[i] + 1
		default:
			return nil
		}
		out[off+i] = n
	}
	if ch > 0 {
		if first {
			out[0] = ch
		} else {
			out[r] = ch
		}
	}
	return out
}

// convShape is a convolution's output shape.
func convShape(class string, c map[string]any, x []int) []int {
	r := spatialRank(class)
	var k []int
	ok := false
	switch {
	case c["kernel_size"] != nil:
		k, ok = ints(c["kernel_size"], r, 0)
	case r == 2 && c["nb_row"] != nil: // Keras 1
		k, ok = ints([]any{c["nb_row"], c["nb_col"]}, 2, 0)
	case r == 1 && c["filter_length"] != nil:
		k, ok = ints(c["filter_length"], 1, 0)
	}
	if !ok {
		return nil
	}
	s, ok1 := ints(firstOf(c, "strides", "subsample", "subsample_length"), r, 1)
	dil, ok2 := ints(firstOf(c, "dilation_rate", "atrous_rate"), r, 1)
	pad, _ := firstOf(c, "padding", "border_mode").(string)
	if pad == "" {
		pad = "valid"
	}
	if !ok1 || !ok2 {
		return nil
	}
	first := channelsFirst(c)
	ch := 0
	if strings.HasPrefix(class, "Depthwise") {
		m, ok := intOf(firstOf(c, "depth_multiplier"))
		if !ok {
			m = 1
		}
		in := x[len(x)-1]
		if first {
			in = x[0]
		}
		if m < 1 || in > maxElems/m {
			return nil
		}
		ch = in * m
	} else {
		f, ok := intOf(firstOf(c, "filters", "nb_filter"))
		if !ok || f < 1 {
			return nil
		}
		ch = f
	}
	return window(x, r, first, k, s, dil, pad, ch)
}

// poolShape is a pooling layer's output shape.
func poolShape(class string, c map[string]any, x []int) []int {
	r := spatialRank(class)
	k, ok := ints(firstOf(c, "pool_size", "pool_length"), r, 2)
	if !ok {
		return nil
	}
	s, ok := ints(firstOf(c, "strides", "stride"), r, 0)
	if !ok {
		s = k
	}
	pad, _ := firstOf(c, "padding", "border_mode").(string)
	if pad == "" {
		pad = "valid"
	}
	one := []int{1, 1, 1}[:r]
	return window(x, r, channelsFirst(c), k, s, one, pad, 0)
}

// upShape is an UpSampling layer's output shape.
func upShape(class string, c map[string]any, x []int) []int {
	r := spatialRank(class)
	size, ok := ints(firstOf(c, "size", "length"), r, 2)
	if !ok || len(x) != r+1 {
		return nil
	}
	out := append([]int(nil), x...)
	off := 0
	if channelsFirst(c) {
		off = 1
	}
	for i := 0; i < r; i++ {
		if out[off+i] > maxElems/size[i] {
			return nil
		}
		out[off+i] *= size[i]
	}
	return out
}

// rnnShapes are a recurrent layer's outputs: the sequence or last output,
// then its states when return_state is set (two for LSTM).
func rnnShapes(class string, c map[string]any, x []int) [][]int {
	u, ok := intOf(firstOf(c, "units", "output_dim"))
	if !ok || u < 1 || len(x) != 2 {
		return [][]int{nil}
	}
	out := []int{u}
	if seq, _ := c["return_sequences"].(bool); seq {
		out = []int{x[0], u}
	}
	outs := [][]int{out}
	if st, _ := c["return_state"].(bool); st {
		outs = append(outs, []int{u})
		if class == "LSTM" {
			outs = append(outs, []int{u})
		}
	}
	return outs
}

// weightlessClass tells whether Keras layers of class hold no weights
// (merges, pooling, reshaping, Lambda), so that an architecture alone
// gives their parameter count: 0.
func weightlessClass(class string) bool {
	switch class {
	case "Lambda", "Merge", "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
		"RepeatVector", "Permute", "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
		"SpatialDropout2D", "SpatialDropout3D", "Softmax", "Activation":
		return true
	}
	return isPool(class) || strings.HasPrefix(class, "UpSampling") ||
		strings.HasPrefix(class, "Global") && strings.Contains(class, "Pooling")
}
