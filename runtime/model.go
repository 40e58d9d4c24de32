package runtime

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"
)

// Type is the kind of a layer.
type Type uint8

// Layer types.
const (
	// Dense is y = act(x·Kernel + Bias).
	Dense Type = iota
	// ActivationLayer applies Act alone (Keras Activation, ReLU, LeakyReLU,
	// ELU, Softmax layers).
	ActivationLayer
	// Identity passes its input through at inference (Keras Dropout,
	// GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D).
	Identity
	// Reshape changes the shape, not the values (Keras Flatten and Reshape).
	Reshape
	// SubModel runs a nested model (a Keras Model used as a layer).
	SubModel
	// Other does what its Kind says (Rescaling, BatchNormalization, ...;
	// see Kind).
	Other
)

var typeNames = [...]string{"Dense", "Activation", "Identity", "Reshape", "Model", "Other"}

// String returns a short name of t.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Layer is one step of a Model.
type Layer struct {
	// Name is the layer's name, unique within the whole model tree.
	Name string
	// Type says which of the fields below apply.
	Type Type
	// Class is the class name in the file the layer came from ("Dense",
	// "ReLU", "Dropout", "Flatten", "Functional", ...). Writers use it to
	// write the same class back; it may be empty for layers built in Go.
	Class string

	// In and Units are a Dense layer's input and output widths.
	In, Units int
	// Kernel holds In×Units weights, row-major: Kernel[i*Units+j].
	Kernel []float32
	// Bias holds Units values, or is nil for a Dense layer without bias.
	Bias []float32

	// Act is applied after a Dense layer's affine map, or is the whole
	// computation of an ActivationLayer.
	Act Activation

	// Reg holds a Dense layer's regularisers (training only); nil: none.
	Reg *Regularizers

	// Rate is an Identity layer's rate (Dropout) or standard deviation
	// (GaussianNoise), kept only to write the layer back.
	Rate float64

	// Shape is a Reshape layer's target shape without the batch axis;
	// nil means Flatten.
	Shape []int

	// Sub is a SubModel layer's model.
	Sub *Model

	// Kind is an Other layer's kind: its parameters and behaviour.
	Kind Kind

	// Frozen is Keras's trainable=False; the zero value is a trainable
	// layer. Training leaves a frozen layer's weights as they are (the
	// optimizer does not update them and their kernel and bias
	// regularisers add nothing to the loss; an activity regulariser still
	// does), a frozen BatchNormalization runs in inference mode (moving
	// statistics used, not updated), and gradients still flow through it
	// to the trainable layers before it. On a SubModel layer it freezes
	// every layer of the nested model, as Keras's model.trainable = False
	// does (see Model.FrozenLayers). Formats read and write it as the
	// layer config's "trainable".
	Frozen bool
}

// KindClass returns the class that describes l to people: Class, or for
// an Other layer without one its Kind's, or else its type's name.
func (l *Layer) KindClass() string {
	switch {
	case l.Class != "":
		return l.Class
	case l.Type == Other && l.Kind != nil:
		return l.Kind.Class()
	}
	return l.Type.String()
}

// Params returns the number of weights of l, counting nested models: the
// trainable ones and, for an Other layer, statistics such as a moving
// mean (Keras's "Total params").
func (l *Layer) Params() int {
	switch l.Type {
	case Dense:
		return len(l.Kernel) + len(l.Bias)
	case SubModel:
		if l.Sub != nil {
			return l.Sub.Params()
		}
	case Other:
		if u, ok := l.Kind.(*Unsupported); ok {
			return max(u.Weights, 0)
		}
		n := 0
		if l.Kind != nil {
			for _, p := range l.Kind.Params() {
				n += len(p.Values)
			}
		}
		return n
	}
	return 0
}

// Model is a feed-forward chain of layers with one input and one output.
// Layers of type SubModel nest further models, so an autoencoder is
// typically Model{Layers: [encoder, decoder]}.
//
// A Model is safe for concurrent use by multiple goroutines calling Predict,
// as long as nobody changes its weights at the same time. Do not copy a
// Model after first use.
type Model struct {
	// Name is the model's name ("autoencoder", "encoder", ...).
	Name string
	// Class is the class in the file it came from ("Sequential",
	// "Functional", "Model"); writers use it, it may be empty.
	Class string
	// Input is the shape of one sample without the batch axis, e.g. [784]
	// or [28 28].
	Input []int
	// Layers run in order.
	Layers []*Layer
	// InputName is the name of the model's input in the file it came
	// from: Keras's InputLayer name ("input_layer"), an ONNX graph
	// input's name. Writers keep it (the ONNX writer names its graph
	// input after it); "" means the writer's default.
	InputName string
	// OutputName is the name of the model's output tensor where a format
	// names it apart from the last layer (an ONNX graph output, which
	// tf2onnx names after the Keras output layer). The ONNX writer names
	// its graph output after it, or after the last layer when it is "";
	// Keras files name outputs after their layers and do not keep it.
	// Models cut from m (Until) do not inherit it.
	OutputName string

	scratch sync.Pool // of *workspace
	packs   packCache // Dense kernels packed for the forward pass (forward.go)
}

// InputWidth returns the number of values in one input sample.
func (m *Model) InputWidth() int { return prod(m.Input) }

// OutputShape returns the shape of one output sample. It assumes m is
// valid (see Validate).
func (m *Model) OutputShape() []int {
	shape := m.Input
	for _, l := range m.Layers {
		if l != nil {
			shape = l.OutputShape(shape)
		}
	}
	return shape
}

// OutputWidth returns the number of values in one output sample.
func (m *Model) OutputWidth() int { return prod(m.OutputShape()) }

// Params returns the number of values in m's layers, trainable, frozen
// and statistics alike (Keras's "Total params"; see TrainableParams).
func (m *Model) Params() int {
	n := 0
	for _, l := range m.Layers {
		if l != nil {
			n += l.Params()
		}
	}
	return n
}

// TrainableParams returns the number of values of m that training
// updates (Keras's "Trainable params"): the kernels and biases of Dense
// layers and the trainable Params of other kinds (BatchNormalization's
// gamma and beta, not its moving statistics), leaving out frozen layers
// (FrozenLayers) and layers aekit cannot run (Unsupported), whose
// weights it only counts. Params() − TrainableParams() is Keras's
// "Non-trainable params" for a model aekit runs.
func (m *Model) TrainableParams() int {
	frozen := m.FrozenLayers()
	n := 0
	m.Walk(func(_ []string, l *Layer) {
		if frozen[l] {
			return
		}
		switch l.Type {
		case Dense:
			n += len(l.Kernel) + len(l.Bias)
		case Other:
			if l.Kind == nil {
				return
			}
			if _, ok := l.Kind.(*Unsupported); ok {
				return
			}
			for _, p := range l.Kind.Params() {
				if p.Trainable {
					n += len(p.Values)
				}
			}
		}
	})
	return n
}

// OutputShape returns the shape of one output sample of l given the shape
// of one input sample.
func (l *Layer) OutputShape(in []int) []int {
	switch l.Type {
	case Dense:
		out := append([]int(nil), in...)
		if len(out) == 0 {
			return []int{l.Units}
		}
		out[len(out)-1] = l.Units
		return out
	case Reshape:
		if l.Shape == nil {
			return []int{prod(in)}
		}
		return resolveShape(l.Shape, prod(in))
	case SubModel:
		if l.Sub != nil {
			return l.Sub.OutputShape()
		}
	}
	return in
}

// KnownOutputShape is OutputShape where it is known, for describing
// models aekit may not run: in nil means the input shape is unknown (after
// a layer aekit cannot run), and then only the shapes a layer's settings
// fix are known — Dense units (on a flat input), a Reshape target without
// -1, a nested model's own output. An Unsupported layer's is its Out. nil
// when unknown.
func (l *Layer) KnownOutputShape(in []int) []int {
	if u, ok := l.Kind.(*Unsupported); ok && l.Type == Other {
		return u.Out
	}
	if in != nil {
		return l.OutputShape(in)
	}
	switch l.Type {
	case Dense:
		return []int{l.Units}
	case Reshape:
		for _, d := range l.Shape {
			if d < 0 {
				return nil
			}
		}
		return l.Shape
	case SubModel:
		if l.Sub != nil {
			return l.Sub.KnownOutputShape()
		}
	}
	return nil
}

// KnownOutputShape is OutputShape where it is known (see
// Layer.KnownOutputShape): nil when the input shape is unknown or a layer
// leaves its output unknown and no later one fixes it.
func (m *Model) KnownOutputShape() []int {
	if m.Input == nil {
		return nil
	}
	shape := m.Input
	for _, l := range m.Layers {
		if l != nil {
			shape = l.KnownOutputShape(shape)
		}
	}
	return shape
}

// resolveShape replaces one -1 in shape by what makes the product n.
func resolveShape(shape []int, n int) []int {
	out := append([]int(nil), shape...)
	known := 1
	neg := -1
	for i, d := range out {
		if d == -1 {
			neg = i
			continue
		}
		known = mul(known, d)
	}
	if neg >= 0 && known > 0 {
		out[neg] = n / known
	}
	return out
}

// prod returns the product of s: -1 when a dimension is negative or the
// product overflows an int (a shape no model has), so that every check of
// it against a positive size fails.
func prod(s []int) int {
	p := 1
	for _, d := range s {
		p = mul(p, d)
	}
	return p
}

// mul returns a·b for a, b ≥ 0, or -1 when either is negative or the
// product overflows an int.
func mul(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt {
		return -1
	}
	return int(lo)
}

// Validate checks that the layers of m fit together: positive widths,
// kernel and bias sizes, Dense layers applied to flat inputs, reshapes that
// keep the number of values, known activations, unique names. The error
// wraps ErrInvalid and names the offending layer.
func (m *Model) Validate() error {
	seen := map[string]bool{}
	_, err := m.validate(m.Input, seen)
	return err
}

func (m *Model) validate(in []int, seen map[string]bool) ([]int, error) {
	if len(m.Input) == 0 || prod(m.Input) <= 0 {
		return nil, fmt.Errorf("%w: model %q has input shape %v", ErrInvalid, m.Name, m.Input)
	}
	if prod(in) != prod(m.Input) {
		return nil, fmt.Errorf("%w: model %q expects %v values per sample, gets %v", ErrInvalid, m.Name, m.Input, in)
	}
	shape := m.Input
	for i, l := range m.Layers {
		if l == nil {
			return nil, fmt.Errorf("%w: model %q layer %d is nil", ErrInvalid, m.Name, i)
		}
		if l.Name != "" {
			if seen[l.Name] {
				return nil, fmt.Errorf("%w: layer name %q used twice", ErrInvalid, l.Name)
			}
			seen[l.Name] = true
		}
		where := fmt.Sprintf("layer %q (%s)", l.Name, l.Type)
		if l.Act.Func >= numFuncs {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, where, l.Act.Func)
		}
		switch l.Type {
		case Dense:
			last := shape[len(shape)-1]
			if len(shape) != 1 {
				return nil, fmt.Errorf("%w: %s applied to a %d-D input %v; flatten it first", ErrInvalid, where, len(shape), shape)
			}
			if l.In != last || l.In <= 0 || l.Units <= 0 {
				return nil, fmt.Errorf("%w: %s is %d→%d but its input has width %d", ErrInvalid, where, l.In, l.Units, last)
			}
			if len(l.Kernel) != mul(l.In, l.Units) {
				return nil, fmt.Errorf("%w: %s kernel has %d values, want %d×%d", ErrInvalid, where, len(l.Kernel), l.In, l.Units)
			}
			if l.Bias != nil && len(l.Bias) != l.Units {
				return nil, fmt.Errorf("%w: %s bias has %d values, want %d", ErrInvalid, where, len(l.Bias), l.Units)
			}
		case ActivationLayer, Identity:
		case Reshape:
			if l.Shape != nil {
				out := resolveShape(l.Shape, prod(shape))
				if prod(out) != prod(shape) || prod(out) <= 0 {
					return nil, fmt.Errorf("%w: %s cannot reshape %v to %v", ErrInvalid, where, shape, l.Shape)
				}
			}
		case SubModel:
			if l.Sub == nil {
				return nil, fmt.Errorf("%w: %s has no model", ErrInvalid, where)
			}
			if _, err := l.Sub.validate(shape, seen); err != nil {
				return nil, err
			}
		case Other:
			if l.Kind == nil {
				return nil, fmt.Errorf("%w: %s has no kind", ErrInvalid, where)
			}
			if err := l.Kind.Check(shape[len(shape)-1]); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, l.Kind.Class(), err)
			}
		default:
			return nil, fmt.Errorf("%w: %s has unknown type", ErrInvalid, where)
		}
		shape = l.OutputShape(shape)
	}
	return shape, nil
}

// Walk calls fn for every layer of m in execution order, descending into
// sub-models (a SubModel layer is visited before its contents). path holds
// the names of the enclosing sub-model layers.
func (m *Model) Walk(fn func(path []string, l *Layer)) {
	m.walk(nil, fn)
}

func (m *Model) walk(path []string, fn func([]string, *Layer)) {
	for _, l := range m.Layers {
		if l == nil {
			continue // Validate reports it
		}
		fn(path, l)
		if l.Type == SubModel && l.Sub != nil {
			l.Sub.walk(append(path[:len(path):len(path)], l.Name), fn)
		}
	}
}

// FrozenLayers returns the layers of m, at any depth, that training
// leaves unchanged: those marked Frozen and every layer of a frozen
// SubModel layer's model (Keras's trainable=False on a layer or a nested
// model). It returns nil when no layer is frozen.
func (m *Model) FrozenLayers() map[*Layer]bool {
	var out map[*Layer]bool
	var walk func(m *Model, frozen bool)
	walk = func(m *Model, frozen bool) {
		for _, l := range m.Layers {
			if l == nil {
				continue
			}
			f := frozen || l.Frozen
			if f {
				if out == nil {
					out = map[*Layer]bool{}
				}
				out[l] = true
			}
			if l.Type == SubModel && l.Sub != nil {
				walk(l.Sub, f)
			}
		}
	}
	walk(m, false)
	return out
}

// Layer returns the layer with the given name anywhere in m, or nil.
func (m *Model) Layer(name string) *Layer {
	var found *Layer
	m.Walk(func(_ []string, l *Layer) {
		if found == nil && l.Name == name {
			found = l
		}
	})
	return found
}

// LayerNames returns the names of all layers in execution order,
// sub-models included.
func (m *Model) LayerNames() []string {
	var names []string
	m.Walk(func(_ []string, l *Layer) { names = append(names, l.Name) })
	return names
}

// Submodel returns the nested model held by the SubModel layer called name,
// to run on its own (a decoder on codes, say). The result shares weights
// with m.
func (m *Model) Submodel(name string) (*Model, error) {
	l := m.Layer(name)
	if l == nil {
		return nil, fmt.Errorf("%w %q (have %s)", ErrNotFound, name, strings.Join(m.LayerNames(), ", "))
	}
	if l.Type != SubModel {
		return nil, fmt.Errorf("%w: %q is a %s layer, not a sub-model", ErrNotFound, name, l.Type)
	}
	return l.Sub, nil
}

// Until returns a model with m's input whose output is the output of the
// layer or sub-model called name. It shares weights with m. Until of an
// encoder gives the codes; Until of the last layer is m itself.
func (m *Model) Until(name string) (*Model, error) {
	out, ok := m.until(name)
	if !ok {
		return nil, fmt.Errorf("%w %q (have %s)", ErrNotFound, name, strings.Join(m.LayerNames(), ", "))
	}
	return out, nil
}

func (m *Model) until(name string) (*Model, bool) {
	for i, l := range m.Layers {
		if l == nil {
			continue
		}
		if l.Name == name {
			if i == len(m.Layers)-1 {
				return m, true
			}
			return &Model{Name: m.Name, Class: m.Class, Input: m.Input, InputName: m.InputName, Layers: m.Layers[:i+1]}, true
		}
		if l.Type == SubModel && l.Sub != nil {
			if sub, ok := l.Sub.until(name); ok {
				cut := *l
				cut.Sub = sub
				layers := append(append([]*Layer(nil), m.Layers[:i]...), &cut)
				return &Model{Name: m.Name, Class: m.Class, Input: m.Input, InputName: m.InputName, Layers: layers}, true
			}
		}
	}
	return nil, false
}
