package keras

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/runtime"
)

// Versions written into files, naming the layout each writer follows.
const (
	// H5KerasVersion is the keras_version attribute of written .h5 files,
	// whose layout is that of tf.keras 2.x full-model HDF5 files.
	H5KerasVersion = "2.15.0"
	// KerasVersion3 is the keras_version in metadata.json of written
	// .keras files, whose layout is that of Keras 3.10.
	KerasVersion3 = "3.10.0"
)

// WriteFile writes m to the named file in the format its extension names:
// ".keras" for FormatKeras, ".h5" or ".hdf5" for FormatH5. It writes a
// temporary file in the same folder and renames it, so that a failure
// never leaves a partial file behind.
func WriteFile(name string, m *runtime.Model) error {
	var f Format
	switch strings.ToLower(filepath.Ext(name)) {
	case ".keras":
		f = FormatKeras
	case ".h5", ".hdf5":
		f = FormatH5
	default:
		return fmt.Errorf("%s: %w: extension must be .keras or .h5", name, ErrFormat)
	}
	var buf bytes.Buffer
	if err := Write(&buf, m, f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return atomicfile.WriteFile(name, buf.Bytes())
}

// Write writes m to w as a Keras file of format f: FormatKeras (a Keras 3
// .keras zip) or FormatH5 (a tf.keras 2-layout full-model HDF5 file that
// Keras 2 and Keras 3 load). The model is validated first. Layers keep
// their names and classes (unnamed layers get Keras-style names), except
// that a ThresholdedReLU is written as the equal ReLU(threshold=theta),
// since Keras 3 has no ThresholdedReLU; nested models are written as
// nested models. In a .h5, a model holding nested models, and every
// nested model, is written as a Sequential of the same layers: Keras 3
// and tf-keras 2 disagree on how a functional model in that layout refers
// to a nested model, and neither loads the other's form. Keras 3.15 and
// tf-keras 2.21 load every file Write produces (tf-keras reads only .h5:
// a Keras 3 .keras zip is beyond it), except that Keras 3 reads the
// hard_sigmoid of any .h5 as its own. Activations a format cannot
// express (Keras 2's hard_sigmoid in a Keras 3 file and the reverse, the
// tanh-approximate gelu, a ReLU with a negative threshold, which Keras's
// ReLU layer refuses) give an error wrapping ErrActivation.
func Write(w io.Writer, m *runtime.Model, f Format) error {
	if m == nil {
		return fmt.Errorf("%w: nil model", ErrFormat)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	v3 := false
	switch f {
	case FormatKeras:
		v3 = true
	case FormatH5:
	default:
		return fmt.Errorf("%w: cannot write format %q (want %q or %q)", ErrFormat, f, FormatH5, FormatKeras)
	}
	wr := &writer{v3: v3, used: map[string]bool{}, frozen: m.FrozenLayers()}
	wr.reserve(m)
	top, err := wr.model(m, m.Name, m.Input, true)
	if err != nil {
		return err
	}
	var b []byte
	if v3 {
		b, err = wr.keras(top)
	} else {
		b, err = wr.h5(top)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

type writer struct {
	v3   bool
	used map[string]bool
	// frozen holds the layers written with trainable false
	// (runtime.Model.FrozenLayers).
	frozen map[*runtime.Layer]bool
}

// wmodel is a model as it will be written.
type wmodel struct {
	name   string
	class  string // "Sequential" or "Functional"
	input  []int
	output []int
	inName string    // the InputLayer's name
	layers []*wlayer // in execution order, no InputLayer
	frozen bool      // a nested model written with trainable false
}

type wlayer struct {
	name  string
	class string
	l     *runtime.Layer
	in    []int // input shape without the batch axis
	out   []int
	cfg   obj // the layer's config
	sub   *wmodel
}

func (wr *writer) reserve(m *runtime.Model) {
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Name != "" && !strings.Contains(l.Name, "/") {
			wr.used[l.Name] = true
		}
	})
}

// kerasName returns name, or when Keras 3 would refuse it (a "/", as in
// the ONNX node names "encoder/encoder.0/Gemm" of a PyTorch export:
// "Argument `name` must be a string and cannot contain character `/`"),
// an unused name with "_" for each "/".
func (wr *writer) kerasName(name string) string {
	if !strings.Contains(name, "/") {
		return name
	}
	return wr.fresh(strings.ReplaceAll(name, "/", "_"))
}

// fresh returns an unused name based on base: base, base_1, base_2, ...
func (wr *writer) fresh(base string) string {
	name := base
	for i := 1; wr.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	wr.used[name] = true
	return name
}

func dims(shape []int) arr {
	a := arr{nil}
	for _, d := range shape {
		a = append(a, d)
	}
	return a
}

func (wr *writer) model(m *runtime.Model, name string, in []int, root bool) (*wmodel, error) {
	wm := &wmodel{name: wr.kerasName(name), input: in}
	nested := false
	for _, l := range m.Layers {
		if l.Type == runtime.SubModel {
			nested = true
		}
	}
	switch m.Class {
	case "Sequential":
		wm.class = "Sequential"
	case "Functional", "Model":
		wm.class = "Functional"
	default:
		wm.class = "Sequential"
		if nested {
			wm.class = "Functional"
		}
	}
	if !wr.v3 && (nested || !root) {
		// In a Keras 2-layout .h5, a functional model refers to a nested
		// model's call by node index, and the two Keras versions that read
		// such files disagree on it: tf-keras 2.21 needs 1 (and loops
		// forever on 0), Keras 3.15 needs 0 ("The graph of the Functional
		// model either has loops or disconnected nodes" on 1, also for
		// files tf-keras wrote). A Sequential, which names no nodes, is
		// the same chain and loads in both. Nested functional models are
		// written as Sequential too: Keras 3 fails on a tf-keras-style
		// functional model inside a Sequential ("Cannot convert
		// '((None, 3), 2)' to a shape").
		wm.class = "Sequential"
	}
	if wm.name == "" {
		wm.name = wr.fresh(strings.ToLower(wm.class))
	} else if root {
		wr.used[wm.name] = true
	}
	if root && m.InputName != "" {
		// Named before the nested models take names, so that it is kept.
		wm.inName = wr.fresh(inputLayerName(m.InputName))
	}
	shape := in
	for _, l := range m.Layers {
		wl, err := wr.layer(l, shape)
		if err != nil {
			return nil, err
		}
		wm.layers = append(wm.layers, wl)
		shape = wl.out
	}
	wm.output = shape
	switch {
	case wm.inName != "": // the root's, named before its layers
	case m.InputName != "":
		wm.inName = wr.fresh(inputLayerName(m.InputName))
	case wr.v3:
		wm.inName = wr.fresh("input_layer")
	case wm.class == "Sequential" && len(wm.layers) > 0:
		wm.inName = wr.fresh(wm.layers[0].name + "_input")
	default:
		wm.inName = wr.fresh("input")
	}
	return wm, nil
}

// inputLayerName returns an input name (an ONNX graph input's, say) as
// Keras accepts it for an InputLayer: without "/" or ":".
func inputLayerName(name string) string {
	return strings.NewReplacer("/", "_", ":", "_").Replace(name)
}

func outShape(l *runtime.Layer, in []int) []int {
	m := &runtime.Model{Input: in, Layers: []*runtime.Layer{l}}
	return m.OutputShape()
}

func (wr *writer) dtype() any {
	if wr.v3 {
		return obj{}.set("module", "keras").set("class_name", "DTypePolicy").
			set("config", obj{}.set("name", "float32")).set("registered_name", nil)
	}
	return "float32"
}

// base returns the config keys every layer has: name, trainable (false
// for a layer frozen by itself or by its enclosing model, Keras's
// trainable=False; l may be nil) and dtype.
func (wr *writer) base(name string, l *runtime.Layer) obj {
	return obj{}.set("name", name).set("trainable", !wr.frozen[l]).set("dtype", wr.dtype())
}

func (wr *writer) initializer(class string, cfg obj) obj {
	o := obj{}
	if wr.v3 {
		o = o.set("module", "keras.initializers")
	}
	o = o.set("class_name", class).set("config", cfg)
	if wr.v3 {
		o = o.set("registered_name", nil)
	}
	return o
}

// regularizer serialises r as Keras's L1L2 regulariser (both Keras 2
// and 3 read it), or nil for the zero one.
func (wr *writer) regularizer(r runtime.Regularizer) any {
	if r.IsZero() {
		return nil
	}
	o := obj{}
	if wr.v3 {
		o = o.set("module", "keras.regularizers")
	}
	o = o.set("class_name", "L1L2").set("config", obj{}.set("l1", r.L1).set("l2", r.L2))
	if wr.v3 {
		o = o.set("registered_name", nil)
	}
	return o
}

func (wr *writer) layer(l *runtime.Layer, in []int) (*wlayer, error) {
	wl := &wlayer{l: l, in: in, out: outShape(l, in)}
	wl.name = wr.kerasName(l.Name)
	var err error
	switch l.Type {
	case runtime.Dense:
		wl.class = "Dense"
		if wl.name == "" {
			wl.name = wr.fresh("dense")
		}
		act, err := wr.activation(l.Act, wl.name)
		if err != nil {
			return nil, err
		}
		c := wr.base(wl.name, wl.l).set("units", l.Units).set("activation", act).set("use_bias", l.Bias != nil).
			set("kernel_initializer", wr.initializer("GlorotUniform", obj{}.set("seed", nil))).
			set("bias_initializer", wr.initializer("Zeros", obj{}))
		var reg runtime.Regularizers
		if l.Reg != nil {
			reg = *l.Reg
		}
		c = c.set("kernel_regularizer", wr.regularizer(reg.Kernel)).set("bias_regularizer", wr.regularizer(reg.Bias))
		// Keras 3 writes activity_regularizer only when there is one
		// (Layer.get_config); Keras 2 always.
		if !wr.v3 || !reg.Activity.IsZero() {
			c = c.set("activity_regularizer", wr.regularizer(reg.Activity))
		}
		wl.cfg = c.set("kernel_constraint", nil).set("bias_constraint", nil)
	case runtime.ActivationLayer:
		err = wr.activationLayer(wl)
	case runtime.Identity:
		wl.class = l.Class
		key := "rate"
		switch l.Class {
		case "Dropout", "GaussianDropout", "AlphaDropout", "SpatialDropout1D":
		case "GaussianNoise":
			key = "stddev"
		case "ActivityRegularization":
			key = ""
		default:
			wl.class = "Dropout"
		}
		if wl.name == "" {
			wl.name = wr.fresh(snake(wl.class))
		}
		c := wr.base(wl.name, wl.l)
		switch {
		case wl.class == "SpatialDropout1D":
			// As Keras 3 writes it, for both layouts: its
			// SpatialDropout1D takes neither trainable nor noise_shape
			// ("got an unexpected keyword argument 'trainable'", even
			// for a file tf-keras wrote), and tf-keras's accepts this.
			c = obj{}.set("rate", pyFloat(l.Rate)).set("seed", nil).set("name", wl.name).set("dtype", "float32")
		case key == "":
			c = c.set("l1", pyFloat(0)).set("l2", pyFloat(0))
		case wl.class == "Dropout" || wl.class == "SpatialDropout1D" || wl.class == "AlphaDropout":
			c = c.set(key, pyFloat(l.Rate)).set("seed", nil).set("noise_shape", nil)
		default:
			c = c.set(key, pyFloat(l.Rate))
			if wr.v3 {
				c = c.set("seed", nil)
			}
		}
		wl.cfg = c
	case runtime.Reshape:
		if l.Shape == nil {
			wl.class = "Flatten"
			if wl.name == "" {
				wl.name = wr.fresh("flatten")
			}
			wl.cfg = wr.base(wl.name, wl.l).set("data_format", "channels_last")
		} else {
			wl.class = "Reshape"
			if wl.name == "" {
				wl.name = wr.fresh("reshape")
			}
			ts := arr{}
			for _, d := range l.Shape {
				ts = append(ts, d)
			}
			wl.cfg = wr.base(wl.name, wl.l).set("target_shape", ts)
		}
	case runtime.SubModel:
		if wl.name == "" {
			wl.name = wr.fresh(strings.ToLower(l.Sub.Class))
		}
		wl.sub, err = wr.model(l.Sub, wl.name, in, false)
		if err != nil {
			return nil, err
		}
		wl.sub.frozen = wr.frozen[l]
		wl.class = wl.sub.class
	case runtime.Other:
		if l.Kind == nil {
			return nil, fmt.Errorf("%w: layer %q has no kind", ErrUnsupportedLayer, l.Name)
		}
		if u, ok := l.Kind.(*runtime.Unsupported); ok {
			return nil, fmt.Errorf("%w: layer %q of class %q was read only to describe it", ErrUnsupportedLayer, l.Name, u.ClassName)
		}
		wl.class = l.Kind.Class()
		if wl.name == "" {
			wl.name = wr.fresh(snake(wl.class))
		}
		c := wr.base(wl.name, wl.l)
		for _, a := range l.Kind.Config() {
			c = c.set(a.Key, configValue(a.Value))
		}
		wl.cfg = c
	default:
		return nil, fmt.Errorf("%w: layer %q has type %v", ErrUnsupportedLayer, l.Name, l.Type)
	}
	return wl, err
}

// configValue converts a Kind's config attribute to what the JSON writer
// writes as Python would: floats with a decimal point.
func configValue(v any) any {
	switch x := v.(type) {
	case float64:
		return pyFloat(x)
	case []float64:
		a := make(arr, len(x))
		for i, f := range x {
			a[i] = pyFloat(f)
		}
		return a
	}
	return v
}

// activation returns the config value of a Dense or Activation layer's
// activation: a name, or an activation layer object for parameters a name
// cannot carry.
func (wr *writer) activation(a runtime.Activation, layer string) (any, error) {
	cannot := func(why string) error {
		format := "a Keras 2 .h5 file"
		if wr.v3 {
			format = "a Keras 3 .keras file"
		}
		return fmt.Errorf("%w: layer %q: %v cannot be written to %s (%s)", ErrActivation, layer, a, format, why)
	}
	layerObj := func(class string, cfg obj) obj {
		// With its module in both layouts, as tf-keras 2.21 writes it too:
		// Keras 3 cannot locate a bare {"class_name": "ReLU"} in a .h5
		// ("Could not locate class 'ReLU'").
		return obj{}.set("module", "keras.layers").set("class_name", class).set("config", cfg).set("registered_name", nil)
	}
	switch a.Func {
	case runtime.Linear:
		return "linear", nil
	case runtime.ReLU:
		if a.Alpha == 0 && a.Threshold == 0 && !a.Capped {
			return "relu", nil
		}
		if a.Threshold < 0 {
			return nil, cannot(negativeThreshold)
		}
		return layerObj("ReLU", wr.reluConfig(obj{}, a)), nil
	case runtime.ReLU6:
		if wr.v3 {
			return "relu6", nil
		}
		return layerObj("ReLU", wr.reluConfig(obj{}, runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: 6})), nil
	case runtime.LeakyReLU:
		if wr.v3 && a.Alpha == 0.2 {
			return "leaky_relu", nil
		}
		return layerObj("LeakyReLU", obj{}.set(wr.slopeKey(), pyFloat(a.Alpha))), nil
	case runtime.ELU:
		if a.Alpha == 1 {
			return "elu", nil
		}
		return layerObj("ELU", obj{}.set("alpha", pyFloat(a.Alpha))), nil
	case runtime.HardSigmoid:
		k2 := runtime.Act(runtime.HardSigmoid)
		k3 := runtime.HardSigmoidKeras3
		switch {
		case !wr.v3 && a.Alpha == k2.Alpha && a.Beta == k2.Beta, wr.v3 && a.Alpha == k3.Alpha && a.Beta == k3.Beta:
			return "hard_sigmoid", nil
		}
		return nil, cannot("its hard_sigmoid has another slope")
	case runtime.GELU:
		if a.Approximate {
			return nil, cannot("Keras serializes gelu by name, which means the exact form")
		}
		return "gelu", nil
	case runtime.SELU, runtime.Sigmoid, runtime.Tanh, runtime.Softmax, runtime.LogSoftmax,
		runtime.Softplus, runtime.Softsign, runtime.Exponential, runtime.Swish, runtime.Mish:
		return a.Func.String(), nil
	}
	return nil, cannot("unknown function")
}

// negativeThreshold says why a ReLU with a negative threshold cannot be
// written: Keras 3 and tf-keras 2 both refuse to build it.
const negativeThreshold = "the ReLU layer of Keras 3 and tf-keras 2 refuses a negative threshold"

func (wr *writer) slopeKey() string {
	if wr.v3 {
		return "negative_slope"
	}
	return "alpha"
}

func (wr *writer) reluConfig(c obj, a runtime.Activation) obj {
	var mv any
	if a.Capped {
		mv = pyFloat(a.MaxValue)
	}
	return c.set("max_value", mv).set("negative_slope", pyFloat(a.Alpha)).set("threshold", pyFloat(a.Threshold))
}

// activationLayer picks the Keras class for an activation layer: its own
// class when it can carry the activation, else Activation.
func (wr *writer) activationLayer(wl *wlayer) error {
	a := wl.l.Act
	class := "Activation"
	switch {
	case wl.l.Class == "ReLU" && (a.Func == runtime.ReLU || a.Func == runtime.ReLU6):
		class = "ReLU"
	case wl.l.Class == "ThresholdedReLU" && a.Func == runtime.ReLU && a.Alpha == 0 && !a.Capped:
		// Keras 3 has no ThresholdedReLU ("Unknown layer:
		// 'ThresholdedReLU'", from a .h5 too); ReLU with a threshold is
		// the same function (x if x > theta else 0) in Keras 3 and
		// tf-keras 2 alike.
		class = "ReLU"
	case wl.l.Class == "LeakyReLU" && a.Func == runtime.LeakyReLU:
		class = "LeakyReLU"
	case wl.l.Class == "ELU" && a.Func == runtime.ELU:
		class = "ELU"
	case wl.l.Class == "Softmax" && a.Func == runtime.Softmax:
		class = "Softmax"
	}
	wl.class = class
	if wl.name == "" {
		wl.name = wr.fresh(snake(class))
	}
	c := wr.base(wl.name, wl.l)
	switch class {
	case "ReLU":
		if a.Func == runtime.ReLU6 {
			a = runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: 6}
		}
		if a.Threshold < 0 {
			return fmt.Errorf("%w: layer %q: %v cannot be written (%s)", ErrActivation, wl.name, a, negativeThreshold)
		}
		c = wr.reluConfig(c, a)
	case "LeakyReLU":
		c = c.set(wr.slopeKey(), pyFloat(a.Alpha))
	case "ELU":
		c = c.set("alpha", pyFloat(a.Alpha))
	case "Softmax":
		c = c.set("axis", -1)
	default:
		act, err := wr.activation(a, wl.name)
		if err != nil {
			return err
		}
		c = c.set("activation", act)
	}
	wl.cfg = c
	return nil
}

// config returns the JSON of a model: {"class_name": ..., "config": ...}.
func (wr *writer) config(wm *wmodel, top bool) obj {
	layers := arr{wr.inputLayer(wm)}
	prev, prevNode := wm.inName, 0
	for _, wl := range wm.layers {
		e := wr.entry(wl, wm.class == "Functional", prev, prevNode)
		layers = append(layers, e)
		prev, prevNode = wl.name, 0
		if !wr.v3 {
			// tf.keras 2 refers to a nested model's call as node 1; Keras 3
			// renumbers inbound references from 0.
			prevNode = wr.outNode(wl)
		}
	}
	c := obj{}.set("name", wm.name)
	if wr.v3 {
		// tf-keras 2 writes no trainable key for a model: its frozen
		// layers say it themselves, as they do here in both layouts.
		c = c.set("trainable", !wm.frozen)
		if wm.class == "Sequential" {
			c = c.set("dtype", wr.dtype())
		}
	}
	c = c.set("layers", layers)
	if wm.class == "Functional" {
		last, node := wm.inName, 0
		if n := len(wm.layers); n > 0 {
			last = wm.layers[n-1].name
			node = wr.outNode(wm.layers[n-1])
		}
		c = c.set("input_layers", arr{arr{wm.inName, 0, 0}}).set("output_layers", arr{arr{last, node, 0}})
	} else if wr.v3 {
		c = c.set("build_input_shape", dims(wm.input))
	}
	o := obj{}
	if wr.v3 {
		if wm.class == "Functional" {
			o = o.set("module", "keras.src.models.functional")
		} else {
			o = o.set("module", "keras")
		}
	}
	o = o.set("class_name", wm.class).set("config", c)
	if wr.v3 {
		if wm.class == "Functional" {
			o = o.set("registered_name", "Functional").set("build_config", obj{}.set("input_shape", nil))
		} else {
			o = o.set("registered_name", nil).set("build_config", obj{}.set("input_shape", dims(wm.input)))
		}
	}
	return o
}

// outNode is the node index by which a functional model refers to the
// output of layer wl: nested models count the node that links their own
// input to their output (tf.keras 2 for any nested model with an input,
// Keras 3 for Functional ones).
func (wr *writer) outNode(wl *wlayer) int {
	if wl.sub == nil {
		return 0
	}
	if !wr.v3 || wl.sub.class == "Functional" {
		return 1
	}
	return 0
}

func (wr *writer) inputLayer(wm *wmodel) obj {
	o := obj{}
	if wr.v3 {
		o = o.set("module", "keras.layers")
	}
	c := obj{}
	if wr.v3 {
		c = c.set("batch_shape", dims(wm.input)).set("dtype", "float32").set("sparse", false).set("ragged", false).set("name", wm.inName)
	} else {
		c = c.set("batch_input_shape", dims(wm.input)).set("dtype", "float32").set("sparse", false).set("ragged", false).set("name", wm.inName)
	}
	o = o.set("class_name", "InputLayer").set("config", c)
	if wr.v3 {
		o = o.set("registered_name", nil)
	}
	if wm.class == "Functional" {
		o = o.set("name", wm.inName).set("inbound_nodes", arr{})
	}
	return o
}

// entry returns a layer's entry in its model's layer list.
func (wr *writer) entry(wl *wlayer, functional bool, prev string, node int) obj {
	var o obj
	if wl.sub != nil {
		o = wr.config(wl.sub, false)
	} else {
		if wr.v3 {
			o = o.set("module", "keras.layers")
		}
		o = o.set("class_name", wl.class).set("config", wl.cfg)
		if wr.v3 {
			o = o.set("registered_name", nil).set("build_config", obj{}.set("input_shape", dims(wl.in)))
		}
	}
	if !functional {
		return o
	}
	o = o.set("name", wl.name)
	if wr.v3 {
		kw := obj{}
		if wl.sub != nil {
			kw = kw.set("mask", nil)
		}
		t := obj{}.set("class_name", "__keras_tensor__").set("config",
			obj{}.set("shape", dims(wl.in)).set("dtype", "float32").set("keras_history", arr{prev, node, 0}))
		return o.set("inbound_nodes", arr{obj{}.set("args", arr{t}).set("kwargs", kw)})
	}
	return o.set("inbound_nodes", arr{arr{arr{prev, node, 0, obj{}}}})
}
