package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is a layer kind defined in one self-contained piece: a layer of
// type Other does what its Kind says. Dense layers, activations, identity
// layers, reshapes and nested models keep their own types (the fast path
// and the tree); every other kind (Rescaling, BatchNormalization,
// LayerNormalization, Normalization, UnitNormalization) is a Kind, and
// adding one is one new file plus one line in the table of NewKind.
//
// Format and training code dispatch on behaviour, not on the class: the
// Keras reader and writer use Class, Config and Params; the ONNX writer
// looks for the optional behaviours Affine and RowNorm; training looks
// for Trainer. A Kind is safe for concurrent Forward calls once built; its
// parameters must not change while a pass runs.
type Kind interface {
	// Class returns the Keras class name of the kind ("Rescaling").
	Class() string
	// Config returns the attributes of the kind's Keras layer config
	// beyond name, trainable and dtype, in the order Keras writes them.
	// Values are bool, int, float64, string, []float64 or nil.
	Config() []Attr
	// Params returns the kind's weight tensors in Keras's saving order
	// (a layer's weights list: the vars/0, vars/1, ... of a .keras file,
	// weight_names of an .h5 file). Values alias the kind's storage and
	// are nil before Build or SetParams.
	Params() []Param
	// SetParams sets the weights from values in the order of Params
	// (as a file stores them). It fails, wrapping ErrInvalid, when their
	// number or sizes do not fit one another.
	SetParams(values [][]float32) error
	// Build gives parameters that were never set Keras's initial values
	// for one input sample of shape in (gamma ones, beta zeros, moving
	// variance ones, ...) and checks the set ones and the configured axis
	// against it, as Keras's build does. Readers call it once the input
	// shape is known.
	Build(in []int) error
	// Check reports, without allocating, whether the kind's parameters
	// fit an innermost axis of width w; the error wraps ErrInvalid.
	Check(w int) error
	// Forward runs the inference pass in place on n samples whose
	// innermost axis has width w (len(x) = n·size, a multiple of w). It
	// allocates nothing.
	Forward(x []float32, n, w int)
}

// Attr is one attribute of a Kind's Keras config.
type Attr struct {
	Key   string
	Value any
}

// Param is one weight tensor of a Kind.
type Param struct {
	// Name is the Keras weight name ("gamma", "moving_mean").
	Name string
	// Values holds the weights; nil until built or set.
	Values []float32
	// Trainable is false for statistics (moving mean and variance,
	// adapted mean and variance): Keras's non-trainable weights.
	Trainable bool
}

// Affine is a Kind that, at inference, maps each value of the innermost
// axis by y[j] = x[j]·scale[j] + shift[j]: BatchNormalization,
// Normalization, Rescaling. The ONNX writer turns it into Mul and Add or
// folds it into the Gemm before it.
type Affine interface {
	// Affine returns the scale and shift in new slices, each of one value
	// per feature of the innermost axis or of one value for all.
	Affine() (scale, shift []float32)
}

// Standardizer is an Affine kind defined by per-feature statistics:
// y = (x − mean)/√(variance + epsilon)·gamma + beta (BatchNormalization at
// inference). The ONNX writer writes it as a BatchNormalization op, which
// the ONNX reader turns back into a BatchNormalization kind.
type Standardizer interface {
	// Standardize returns the statistics, with gamma ones and beta zeros
	// where the kind has none, in new slices.
	Standardize() (gamma, beta, mean, variance []float32, epsilon float32)
}

// RowNorm is a Kind that normalises each row of the innermost axis:
// y = (x − mean(x))/√(var(x) + ε)·γ + β (LayerNormalization, Center), or
// y = x/√max(Σx², ε) (UnitNormalization, L2). The ONNX writer turns it
// into LayerNormalization (opset 17 on) or its expansion.
type RowNorm interface {
	// RowNorm describes the normalisation.
	RowNorm() NormSpec
}

// NormSpec describes a RowNorm.
type NormSpec struct {
	// L2 selects y = x/√max(Σx², Epsilon); otherwise the mean and
	// variance form.
	L2 bool
	// Epsilon is added to the variance (mean and variance form) or
	// bounds the sum of squares from below (L2).
	Epsilon float32
	// Gamma and Beta are the per-feature scale and offset applied after
	// normalising; nil means none (1 and 0).
	Gamma, Beta []float32
}

// Trainer is the training seam for a Kind (package train dispatches on it;
// a Kind without it is refused by train). A trainable kind computes, for a
// batch of n rows of width w:
//
//   - ForwardTrain(y, x, n, w, cache): the training-mode output y from x
//     (batch statistics for BatchNormalization, noise for noise layers),
//     keeping in cache (CacheSize(n, w) values, owned by the trainer)
//     what Backward needs; it also updates state such as moving averages.
//   - Backward(dx, dy, n, w, cache, grads): the input gradient dx from the
//     output gradient dy, and adds the parameter gradients to grads, one
//     slice per trainable Param in the order of Params.
//
// Neither may allocate. BatchNormalization and LayerNormalization
// implement it (normtrain.go).
type Trainer interface {
	CacheSize(n, w int) int
	ForwardTrain(y, x []float32, n, w int, cache []float32)
	Backward(dx, dy []float32, n, w int, cache []float32, grads [][]float32)
}

// ErrUnknownKind is returned by NewKind for a class it has no kind for.
var ErrUnknownKind = errors.New("runtime: unknown layer kind")

// kinds maps a Keras class name to the constructor of its Kind, from the
// class's Keras config attributes. It is never modified.
var kinds = map[string]func(attrs map[string]any) (Kind, error){
	"BatchNormalization": newBatchNormalization,
	"LayerNormalization": newLayerNormalization,
	"Normalization":      newNormalization,
	"Rescaling":          newRescaling,
	"UnitNormalization":  newUnitNormalization,
}

// NewKind returns a Kind of the Keras class with the given config
// attributes (as decoded from JSON: numbers float64 or json.Number), its
// parameters unset. Unknown classes give an error wrapping ErrUnknownKind;
// unusable attributes one wrapping ErrInvalid.
func NewKind(class string, attrs map[string]any) (Kind, error) {
	f, ok := kinds[class]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKind, class)
	}
	k, err := f(attrs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", class, err)
	}
	return k, nil
}

// KindClasses returns the Keras classes NewKind knows, sorted.
func KindClasses() []string {
	out := make([]string, 0, len(kinds))
	for c := range kinds {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// attrFloat returns the number attrs[key], def when absent or null.
func attrFloat(attrs map[string]any, key string, def float64) (float64, error) {
	v, ok := attrs[key]
	if !ok || v == nil {
		return def, nil
	}
	if f, ok := number(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%w: %s is %v", ErrInvalid, key, v)
}

// attrFloats returns attrs[key] as a list of numbers: a number gives a
// list of one; absent or null gives nil.
func attrFloats(attrs map[string]any, key string) ([]float32, error) {
	v, ok := attrs[key]
	if !ok || v == nil {
		return nil, nil
	}
	if f, ok := number(v); ok {
		return []float32{float32(f)}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %v", ErrInvalid, key, v)
	}
	out := make([]float32, 0, len(list))
	for _, e := range list {
		if inner, ok := e.([]any); ok && len(inner) == 1 { // [[v]]
			e = inner[0]
		}
		f, ok := number(e)
		if !ok {
			return nil, fmt.Errorf("%w: %s holds %v", ErrInvalid, key, e)
		}
		out = append(out, float32(f))
	}
	return out, nil
}

// attrBool returns the bool attrs[key], def when absent.
func attrBool(attrs map[string]any, key string, def bool) (bool, error) {
	v, ok := attrs[key]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%w: %s is %v", ErrInvalid, key, v)
	}
	return b, nil
}

// attrAxis returns the axis attrs[key] names (counting the batch axis as
// 0; -1 is the last): a number or a list of one; def when absent.
func attrAxis(attrs map[string]any, key string, def int) (int, error) {
	v, ok := attrs[key]
	if !ok || v == nil {
		return def, nil
	}
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0]
	}
	if f, ok := number(v); ok && f == math.Trunc(f) && math.Abs(f) < 64 {
		return int(f), nil
	}
	return 0, fmt.Errorf("%w: %s %v; only one axis, the last, is supported", ErrInvalid, key, v)
}

// checkLastAxis reports an axis that is not the last of a batch of
// samples of shape in.
func checkLastAxis(axis int, in []int) error {
	if axis == -1 || axis == len(in) {
		return nil
	}
	return fmt.Errorf("%w: axis %d of a %d-D input; only the last axis is supported", ErrInvalid, axis, len(in)+1)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string: // "nan" and the like are not numbers here
		return 0, false
	}
	return 0, false
}

// setParams checks values against the parameter names and stores them
// into dst, which Params lists in the same order.
func setParams(names []string, dst []*[]float32, values [][]float32) error {
	if len(values) != len(dst) {
		return fmt.Errorf("%w: %d weights, want %d (%s)", ErrInvalid, len(values), len(dst), strings.Join(names, ", "))
	}
	n := -1
	for i, v := range values {
		if n >= 0 && len(v) != n {
			return fmt.Errorf("%w: weight %s has %d values, %s %d", ErrInvalid, names[i], len(v), names[0], n)
		}
		n = len(v)
	}
	for i, v := range values {
		*dst[i] = v
	}
	return nil
}

// buildVectors gives each nil vector of dst w copies of its initial value
// and checks the others have w values.
func buildVectors(names []string, dst []*[]float32, init []float32, w int) error {
	for i, p := range dst {
		if *p == nil {
			v := make([]float32, w)
			for j := range v {
				v[j] = init[i]
			}
			*p = v
		}
	}
	return checkVectors(names, dst, w)
}

// checkVectors reports a vector of dst whose length is not w.
func checkVectors(names []string, dst []*[]float32, w int) error {
	for i, p := range dst {
		if len(*p) != w {
			return fmt.Errorf("%w: %s has %d values for an input of width %d", ErrInvalid, names[i], len(*p), w)
		}
	}
	return nil
}

// short returns the float64 whose shortest decimal is that of the float32
// v (0.001 for float32(0.001), not 0.0010000000474974513), for configs
// that Keras reads back into the same float32.
func short(v float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return f
}

// rsqrt is 1/√v in float32 as TensorFlow computes it (a float32 sqrt and
// division).
func rsqrt(v float32) float32 { return 1 / float32(math.Sqrt(float64(v))) }
