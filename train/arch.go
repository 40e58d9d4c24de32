package train

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aekit/aekit/internal/limits"
	"github.com/aekit/aekit/runtime"
)

// Kind is the kind of a Layer of an Arch.
type Kind uint8

// The layer kinds Build makes. The noise kinds act only while training
// and pass values through at inference, as in Keras.
const (
	Dense           Kind = iota // a Dense layer: Units, Activation, regularisers
	Dropout                     // keras.layers.Dropout(Rate): inverted dropout
	GaussianNoise               // keras.layers.GaussianNoise(Rate): additive N(0, Rate²)
	GaussianDropout             // keras.layers.GaussianDropout(Rate): multiplicative N(1, Rate/(1−Rate))
	AlphaDropout                // keras.layers.AlphaDropout(Rate): SELU-preserving dropout
	BatchNorm                   // keras.layers.BatchNormalization() (Keras's defaults: momentum 0.99, epsilon 1e-3)
	LayerNorm                   // keras.layers.LayerNormalization() (epsilon 1e-3)
)

var kindNames = [...]string{"dense", "dropout", "gaussian", "gaussian_dropout", "alpha_dropout", "bn", "ln"}
var kindClasses = [...]string{"Dense", "Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "BatchNormalization", "LayerNormalization"}

// String returns the kind's name in the layer spelling (ParseArch):
// dense, dropout, gaussian, gaussian_dropout, alpha_dropout, bn, ln.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Layer is one layer of an Arch.
type Layer struct {
	Kind Kind
	// Units and Activation describe a Dense layer.
	Units      int
	Activation runtime.Activation
	// Reg holds a Dense layer's Keras regularisers (the zero value:
	// none).
	Reg runtime.Regularizers
	// Rate is a noise layer's rate (Dropout, GaussianDropout,
	// AlphaDropout: the fraction in [0, 1) dropped) or standard deviation
	// (GaussianNoise, ≥ 0).
	Rate float64

	text string // the spelling ParseArch read, for messages
}

// Arch is a model architecture for Build: layers after the input, in
// order, split into an encoder and a decoder.
type Arch struct {
	Layers []Layer
	// Split is the number of layers in the encoder; 0 means after the
	// narrowest Dense layer (the first one if several tie).
	Split int
}

// ParseArch reads the layer spelling of aekit train --layers:
//
//	ITEM[,ITEM…][|ITEM[,ITEM…]]
//
// with "|" between the encoder and the decoder (without it the encoder
// ends at the narrowest Dense layer). An ITEM is
//
//	UNITS[:ACTIVATION][:OPTION…]   a Dense layer; activation names as
//	                               runtime.ParseFunc, none: linear
//	dropout=R                      a Dropout(R) layer
//	gaussian=S                     a GaussianNoise(S) layer
//	gaussian_dropout=R             a GaussianDropout(R) layer
//	alpha_dropout=R                an AlphaDropout(R) layer
//	bn                             a BatchNormalization() layer
//	ln                             a LayerNormalization() layer
//
// and a Dense layer's OPTIONs are regularisers, as Keras's L1(x), L2(x)
// and L1L2(l1, l2):
//
//	l1=X, l2=X        kernel_regularizer
//	bias_l1=X, bias_l2=X  bias_regularizer
//	act_l1=X, act_l2=X    activity_regularizer
//
// or a noise or normalisation layer after it (dropout=R and the others,
// bn, ln, as items). For example
// "64:relu:l2=1e-4:dropout=0.2,32:relu:act_l1=1e-5|64:relu,784:sigmoid"
// is the Keras blog's sparse autoencoder with a dropout after the first
// layer, "gaussian=0.1,32:relu|784:sigmoid" a denoising one, and
// "64:relu:bn,32:relu:bn|64:relu:ln,784:sigmoid" has a
// BatchNormalization after each encoder layer and a LayerNormalization
// after the decoder's first (Keras's defaults: momentum 0.99, epsilon
// 1e-3, center and scale on). Errors
// wrap ErrSpec (or runtime.ErrActivation).
func ParseArch(spec string) (Arch, error) {
	var a Arch
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return a, fmt.Errorf("%w: empty", ErrSpec)
	}
	short := limits.Truncate(spec, 60)
	parts := strings.Split(spec, "|")
	if len(parts) > 2 {
		return a, fmt.Errorf("%w %q: more than one '|'", ErrSpec, short)
	}
	for pi, part := range parts {
		if pi == 1 {
			a.Split = len(a.Layers)
		}
		if strings.TrimSpace(part) == "" {
			return a, fmt.Errorf("%w %q: empty side of '|'", ErrSpec, short)
		}
		for _, item := range strings.Split(part, ",") {
			item = strings.TrimSpace(item)
			ls, err := parseItem(item)
			if err != nil {
				return Arch{}, fmt.Errorf("%w %q: layer %q: %w", ErrSpec, short, limits.Truncate(item, 40), err)
			}
			a.Layers = append(a.Layers, ls...)
		}
	}
	if a.Split > 0 && a.Split == len(a.Layers) {
		return Arch{}, fmt.Errorf("%w %q: empty side of '|'", ErrSpec, short)
	}
	return a, nil
}

// MustParseArch is ParseArch for specs known to be valid (tests,
// examples, constants); it panics on an error.
func MustParseArch(spec string) Arch {
	a, err := ParseArch(spec)
	if err != nil {
		panic(err)
	}
	return a
}

// parseItem reads one ITEM of ParseArch: a Dense layer with its options,
// and noise layers after it, or a noise layer.
func parseItem(item string) ([]Layer, error) {
	fields := strings.Split(item, ":")
	if k, ok := parseNorm(fields[0]); ok {
		if len(fields) > 1 {
			return nil, fmt.Errorf("a normalisation layer takes no options")
		}
		return []Layer{{Kind: k, text: item}}, nil
	}
	if k, rate, ok, err := parseNoise(strings.TrimSpace(fields[0])); ok || err != nil {
		if err != nil {
			return nil, err
		}
		if len(fields) > 1 {
			return nil, fmt.Errorf("a noise layer takes no options")
		}
		return []Layer{{Kind: k, Rate: rate, text: item}}, nil
	}
	units, err := strconv.Atoi(strings.TrimSpace(fields[0]))
	if err != nil || units < 1 {
		return nil, fmt.Errorf("units must be a positive integer")
	}
	if units > MaxUnits {
		return nil, fmt.Errorf("%d units, more than the limit of %d", units, MaxUnits)
	}
	d := Layer{Kind: Dense, Units: units, text: item}
	aname := ""
	if len(fields) > 1 {
		aname = strings.TrimSpace(fields[1])
	}
	f, err := runtime.ParseFunc(aname)
	if err != nil {
		return nil, err
	}
	d.Activation = runtime.Act(f)
	out := []Layer{d}
	for _, opt := range fields[min(2, len(fields)):] {
		opt = strings.TrimSpace(opt)
		if k, ok := parseNorm(opt); ok {
			out = append(out, Layer{Kind: k, text: opt})
			continue
		}
		if k, rate, ok, err := parseNoise(opt); ok || err != nil {
			if err != nil {
				return nil, err
			}
			out = append(out, Layer{Kind: k, Rate: rate, text: opt})
			continue
		}
		key, val, ok := strings.Cut(opt, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if !ok || err != nil || !(x >= 0) || x > 1e6 {
			return nil, fmt.Errorf("option %q: want NAME=VALUE with a value in [0, 1e6] (l1, l2, bias_l1, bias_l2, act_l1, act_l2, or a noise layer), bn or ln", limits.Truncate(opt, 40))
		}
		r := &out[0].Reg
		switch strings.TrimSpace(key) {
		case "l1":
			r.Kernel.L1 = x
		case "l2":
			r.Kernel.L2 = x
		case "bias_l1":
			r.Bias.L1 = x
		case "bias_l2":
			r.Bias.L2 = x
		case "act_l1":
			r.Activity.L1 = x
		case "act_l2":
			r.Activity.L2 = x
		default:
			return nil, fmt.Errorf("unknown option %q (valid: l1, l2, bias_l1, bias_l2, act_l1, act_l2, dropout, gaussian, gaussian_dropout, alpha_dropout, bn, ln)", limits.Truncate(key, 40))
		}
	}
	return out, nil
}

// parseNorm reports whether s names a normalisation layer (bn, ln).
func parseNorm(s string) (Kind, bool) {
	switch strings.TrimSpace(s) {
	case "bn":
		return BatchNorm, true
	case "ln":
		return LayerNorm, true
	}
	return 0, false
}

// parseNoise reads "KIND=VALUE" for a noise kind; ok is false when s is
// not one.
func parseNoise(s string) (k Kind, rate float64, ok bool, err error) {
	key, val, found := strings.Cut(s, "=")
	if !found {
		return 0, 0, false, nil
	}
	key = strings.TrimSpace(key)
	for i := Dropout; i <= AlphaDropout; i++ {
		if key == kindNames[i] {
			k, ok = i, true
		}
	}
	if !ok {
		return 0, 0, false, nil
	}
	rate, err = strconv.ParseFloat(strings.TrimSpace(val), 64)
	switch {
	case err != nil:
		return 0, 0, true, fmt.Errorf("%s=%s: not a number", key, val)
	case k == GaussianNoise && !(rate >= 0 && rate <= 1e6):
		return 0, 0, true, fmt.Errorf("gaussian=%g: want a standard deviation in [0, 1e6]", rate)
	case k != GaussianNoise && !(rate >= 0 && rate < 1):
		return 0, 0, true, fmt.Errorf("%s=%g: want a rate in [0, 1)", key, rate)
	}
	return k, rate, true, nil
}

// String returns a's spelling for ParseArch.
func (a Arch) String() string {
	var b strings.Builder
	for i, l := range a.Layers {
		switch {
		case i > 0 && i == a.Split:
			b.WriteByte('|')
		case i > 0 && l.Kind == Dense:
			b.WriteByte(',')
		case i > 0:
			b.WriteByte(':')
		}
		if l.Kind == BatchNorm || l.Kind == LayerNorm {
			b.WriteString(l.Kind.String())
			continue
		}
		if l.Kind != Dense {
			fmt.Fprintf(&b, "%s=%g", l.Kind, l.Rate)
			continue
		}
		act := l.Activation.String()
		if l.Activation == runtime.Act(l.Activation.Func) {
			// The default parameters: the name alone, as ParseArch reads it.
			act = l.Activation.Func.String()
		}
		fmt.Fprintf(&b, "%d:%s", l.Units, act)
		for _, o := range []struct {
			name string
			v    float64
		}{{"l1", l.Reg.Kernel.L1}, {"l2", l.Reg.Kernel.L2}, {"bias_l1", l.Reg.Bias.L1}, {"bias_l2", l.Reg.Bias.L2},
			{"act_l1", l.Reg.Activity.L1}, {"act_l2", l.Reg.Activity.L2}} {
			if o.v != 0 {
				fmt.Fprintf(&b, ":%s=%g", o.name, o.v)
			}
		}
	}
	return b.String()
}

// Build returns a freshly initialised autoencoder for inputs of
// inputWidth values with the layers of a.
//
// The result is Model{Name: "autoencoder", Class: "Functional"} holding
// two SubModel layers "encoder" and "decoder" (Class "Sequential") whose
// Dense layers are named "dense", "dense_1", ... as Keras names them
// (noise layers "dropout", "gaussian_noise", ... likewise). When one side
// would be empty (a single layer, or the narrowest layer last) the layers
// sit directly in a Sequential model named "model".
//
// Kernels use the initializer init (see Initialize; "" means
// GlorotUniform), biases start at zero. A layer may have at most MaxUnits
// units and the model at most MaxValues parameters; larger sizes are
// rejected before anything is allocated. Errors wrap ErrSpec or
// ErrInitializer.
func Build(inputWidth int, a Arch, init Initializer, seed uint64) (*runtime.Model, error) {
	if inputWidth < 1 || inputWidth > MaxUnits {
		return nil, fmt.Errorf("%w: input width %d outside [1, %d]", ErrSpec, inputWidth, MaxUnits)
	}
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("%w: no layers", ErrSpec)
	}
	if a.Split < 0 || a.Split > len(a.Layers) {
		return nil, fmt.Errorf("%w: split %d outside [0, %d]", ErrSpec, a.Split, len(a.Layers))
	}
	var layers []*runtime.Layer
	split := -1
	in := inputWidth
	params := 0 // at most MaxValues + MaxUnits·(MaxUnits+1): no overflow
	count := map[string]int{}
	name := func(base string) string {
		n := count[base]
		count[base]++
		if n == 0 {
			return base
		}
		return fmt.Sprintf("%s_%d", base, n)
	}
	for i, l := range a.Layers {
		if i == a.Split && a.Split > 0 {
			split = len(layers)
		}
		what := l.text
		if what == "" {
			what = fmt.Sprintf("%d (%s)", i, l.Kind)
		}
		switch l.Kind {
		case Dense:
			if l.Units < 1 || l.Units > MaxUnits {
				return nil, fmt.Errorf("%w: layer %q: %d units outside [1, %d]", ErrSpec, limits.Truncate(what, 40), l.Units, MaxUnits)
			}
			if params += in*l.Units + l.Units; params > MaxValues {
				return nil, fmt.Errorf("%w: layer %q (%d×%d kernel) takes the model to %d parameters, more than the limit of %d (%d GiB of float32)",
					ErrSpec, limits.Truncate(what, 40), in, l.Units, params, MaxValues, MaxValues>>28)
			}
			rl := &runtime.Layer{Name: name("dense"), Type: runtime.Dense, Class: "Dense", In: in, Units: l.Units, Act: l.Activation}
			if !l.Reg.IsZero() {
				reg := l.Reg
				rl.Reg = &reg
			}
			layers = append(layers, rl)
			in = l.Units
		case Dropout, GaussianNoise, GaussianDropout, AlphaDropout:
			if !(l.Rate >= 0) || (l.Kind != GaussianNoise && l.Rate >= 1) {
				return nil, fmt.Errorf("%w: layer %q: rate %g", ErrSpec, limits.Truncate(what, 40), l.Rate)
			}
			base := map[Kind]string{Dropout: "dropout", GaussianNoise: "gaussian_noise", GaussianDropout: "gaussian_dropout", AlphaDropout: "alpha_dropout"}[l.Kind]
			layers = append(layers, &runtime.Layer{Name: name(base), Type: runtime.Identity, Class: kindClasses[l.Kind], Rate: l.Rate})
		case BatchNorm, LayerNorm:
			base := map[Kind]string{BatchNorm: "batch_normalization", LayerNorm: "layer_normalization"}[l.Kind]
			k, err := runtime.NewKind(kindClasses[l.Kind], nil)
			if err != nil {
				return nil, fmt.Errorf("%w: layer %q: %w", ErrSpec, limits.Truncate(what, 40), err)
			}
			if params += 4 * in; params > MaxValues {
				return nil, fmt.Errorf("%w: layer %q takes the model to %d parameters, more than the limit of %d", ErrSpec, limits.Truncate(what, 40), params, MaxValues)
			}
			layers = append(layers, &runtime.Layer{Name: name(base), Type: runtime.Other, Class: kindClasses[l.Kind], Kind: k})
		default:
			return nil, fmt.Errorf("%w: layer %d: unknown kind %v", ErrSpec, i, l.Kind)
		}
	}
	if count["dense"] == 0 {
		return nil, fmt.Errorf("%w: no Dense layer", ErrSpec)
	}
	// Allocated once every size has been checked.
	w := inputWidth
	for _, l := range layers {
		switch l.Type {
		case runtime.Dense:
			l.Kernel, l.Bias = make([]float32, l.In*l.Units), make([]float32, l.Units)
			w = l.Units
		case runtime.Other:
			if err := l.Kind.Build([]int{w}); err != nil {
				return nil, fmt.Errorf("%w: layer %q: %w", ErrSpec, l.Name, err)
			}
		}
	}
	if split < 0 {
		// After the narrowest Dense layer and the noise layers that
		// follow it.
		split = 0
		narrow := -1
		for i, l := range layers {
			if l.Type == runtime.Dense && (narrow < 0 || l.Units < layers[narrow].Units) {
				narrow = i
			}
		}
		split = narrow + 1
		for split < len(layers) && layers[split].Type != runtime.Dense {
			split++
		}
	}
	var m *runtime.Model
	if split <= 0 || split >= len(layers) {
		m = &runtime.Model{Name: "model", Class: "Sequential", Input: []int{inputWidth}, Layers: layers}
	} else {
		encOut := inputWidth
		for _, l := range layers[:split] {
			if l.Type == runtime.Dense {
				encOut = l.Units
			}
		}
		enc := &runtime.Model{Name: "encoder", Class: "Sequential", Input: []int{inputWidth}, Layers: layers[:split]}
		dec := &runtime.Model{Name: "decoder", Class: "Sequential", Input: []int{encOut}, Layers: layers[split:]}
		m = &runtime.Model{Name: "autoencoder", Class: "Functional", Input: []int{inputWidth}, Layers: []*runtime.Layer{
			{Name: "encoder", Type: runtime.SubModel, Class: "Sequential", Sub: enc},
			{Name: "decoder", Type: runtime.SubModel, Class: "Sequential", Sub: dec},
		}}
	}
	m.InputName = "input_layer" // as Keras 3 names an Input
	if err := Initialize(m, init, seed); err != nil {
		return nil, err
	}
	return m, nil
}
