package keras

import (
	"github.com/aekit/aekit/internal/limits"

	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/aekit/aekit/runtime"
)

// topConfig is a model's architecture JSON: {"class_name", "config", ...}.
type topConfig struct {
	Class   string
	Config  any
	Version string // "keras_version" key of to_json() output
	Backend string
	raw     map[string]any
}

func parseTop(b []byte) (*topConfig, error) {
	var raw map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: model JSON: %w", ErrFormat, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: model JSON is null", ErrFormat)
	}
	t := &topConfig{raw: raw}
	t.Class, _ = raw["class_name"].(string)
	t.Config = raw["config"]
	t.Version, _ = raw["keras_version"].(string)
	t.Backend, _ = raw["backend"].(string)
	if t.Class == "" || t.Config == nil {
		return nil, fmt.Errorf("%w: model JSON has no class_name and config", ErrFormat)
	}
	return t, nil
}

// node is one entry of a model's layer list, as Keras sees it.
type node struct {
	pos   int // index in its model's layer list
	name  string
	class string         // Keras class name in the config
	entry map[string]any // the layer's JSON
	layer *runtime.Layer // nil for an InputLayer
	sub   *tree          // nested model
	input []int          // an InputLayer's shape
	// stub marks a layer that is not on the path to Options.Output: it
	// is neither parsed nor loaded, only counted (Keras 3 group names).
	stub bool

	// Dense only.
	units  int
	bias   bool
	kernel []float32
	kshape []int
	bvals  []float32
	loaded bool

	// Softmax layer axis, counting the batch axis as 0; -1 means last.
	axis int
}

// tree is a model with the Keras view of its layers.
type tree struct {
	name  string
	class string // "Sequential" or "Functional"
	model *runtime.Model
	// nodes lists the layers in the order Keras's model.layers has them:
	// a functional model includes its InputLayers, a Sequential does not.
	nodes []*node
	// pruned holds the names of the layers (at any depth) left out
	// because they do not feed Options.Output.
	pruned map[string]bool
	// zero gives Dense layers without weights zero ones (ZeroWeights),
	// taking their parameters from zeroLeft, shared by nested models.
	zero   bool
	budget *paramBudget
}

// prunedAll returns the names of the layers t and its nested models left
// out.
func (t *tree) prunedAll() map[string]bool {
	all := map[string]bool{}
	for k := range t.pruned {
		all[k] = true
	}
	for _, n := range t.nodes {
		if n.sub != nil {
			for k := range n.sub.prunedAll() {
				all[k] = true
			}
		}
	}
	return all
}

type builder struct {
	major int
	seen  map[string]bool
	pos   int // index in its model of the layer entry being parsed
}

// buildTop builds the skeleton of the model opt selects in top (the whole
// model, or the nested one named by opt.Model cut at opt.Output), deciding
// the Keras major version from version (or the configuration's style)
// into info.
func buildTop(top *topConfig, version string, info *Info, opt *Options) (*tree, *selection, error) {
	if version == "" {
		version = top.Version
	}
	if err := opt.checkLayers(top); err != nil {
		return nil, nil, err
	}
	b := &builder{major: majorOf(version, top), seen: map[string]bool{}}
	info.Major = b.major
	sel, err := selectModel(top, opt)
	if err != nil {
		return nil, nil, err
	}
	t, err := b.model(sel.class, sel.cfg, sel.name, opt.Output)
	if err != nil {
		return nil, nil, hint(top, sel, opt, err)
	}
	info.Class = t.model.Class
	return t, sel, nil
}

func majorOf(version string, top *topConfig) int {
	if len(version) > 0 && version[0] >= '1' && version[0] <= '9' && (len(version) == 1 || version[1] == '.') {
		return int(version[0] - '0')
	}
	// No version recorded: Keras 3 configs carry "module" keys, dtype
	// policies and batch_shape; Keras 1 ones output_dim and init.
	s, _ := json.Marshal(top.raw)
	switch {
	case bytes.Contains(s, []byte(`"module":`)) || bytes.Contains(s, []byte(`"batch_shape":`)) || bytes.Contains(s, []byte(`"DTypePolicy"`)):
		return 3
	case bytes.Contains(s, []byte(`"output_dim":`)) || bytes.Contains(s, []byte(`"init":`)):
		return 1
	}
	return 2
}

// supported lists the layer classes aekit runs, for error messages.
var supported = []string{
	"Activation", "ActivityRegularization", "AlphaDropout", "Dense", "Dropout", "ELU",
	"Flatten", "Functional", "GaussianDropout", "GaussianNoise", "InputLayer", "LeakyReLU",
	"Model", "ReLU", "Reshape", "Sequential", "Softmax", "SpatialDropout1D", "ThresholdedReLU",
}

// unsupported reports the layer name (or, unnamed, the layer at index
// pos of its model) of class as one aekit cannot run, and why.
func unsupported(name string, pos int, class, why string) error {
	if why != "" {
		why = " (" + why + ")"
	}
	return fmt.Errorf("%w: %s of class %s%s; supported: %s", ErrUnsupportedLayer, layerLabel(name, pos), class, why, strings.Join(supported, ", "))
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

// model builds a (possibly nested) model from its class and config. With
// output set, only the layers feeding the layer of that name are built
// and the model ends there.
func (b *builder) model(class string, cfg any, name, output string) (*tree, error) {
	if !isModelClass(class) {
		return nil, unsupported(name, b.pos, class, "not a Sequential or functional model")
	}
	var layers []any
	c, _ := cfg.(map[string]any)
	switch v := cfg.(type) {
	case []any: // Keras 1 and early Keras 2 Sequential
		layers = v
	case map[string]any:
		layers, _ = v["layers"].([]any)
		if n, ok := v["name"].(string); ok && n != "" {
			name = n
		}
	default:
		return nil, fmt.Errorf("%w: model %q config is %T", ErrFormat, name, cfg)
	}
	t := &tree{name: name, model: &runtime.Model{Name: name, Class: class}}
	if name == "" {
		t.model.Name = strings.ToLower(class)
		t.name = t.model.Name
	}
	var keep map[string]bool
	if output != "" {
		var err error
		if keep, err = pathTo(class, entries(cfg), t.name, output); err != nil {
			return nil, err
		}
		t.pruned = map[string]bool{}
	}
	// Parse every layer first so that an unsupported class is reported
	// before any graph problem.
	var nodes []*node
	for i, e := range layers {
		entry, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: model %q layer %d is %T", ErrFormat, name, i, e)
		}
		if keep != nil && !keep[entryName(entry)] {
			nodes = append(nodes, &node{name: entryName(entry), class: entryClass(entry), entry: entry, stub: true})
			t.pruned[entryName(entry)] = true
			if isModelClass(entryClass(entry)) {
				layerNames(entry["config"], t.pruned)
			}
			continue
		}
		b.pos = i
		n, err := b.layer(entry)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", t.name, err)
		}
		nodes = append(nodes, n)
	}
	if class == "Sequential" {
		t.class = "Sequential"
		for i, n := range nodes {
			if n.stub {
				t.nodes = append(t.nodes, n)
				continue
			}
			if n.class == "InputLayer" {
				if i != 0 {
					return nil, fmt.Errorf("%w: Sequential %q has an InputLayer at position %d", ErrFormat, name, i)
				}
				t.model.Input = n.input
				t.model.InputName = n.name
				continue
			}
			t.nodes = append(t.nodes, n)
			t.model.Layers = append(t.model.Layers, n.layer)
		}
		if t.model.InputName == "" && b.major <= 2 && len(t.nodes) > 0 && t.nodes[0].name != "" {
			// tf.keras names the input of a Sequential without an
			// InputLayer after its first layer (as tf2onnx shows).
			t.model.InputName = t.nodes[0].name + "_input"
		}
		if t.model.Input == nil && c != nil {
			t.model.Input = shapeOf(c["build_input_shape"])
		}
		if t.model.Input == nil && len(t.nodes) > 0 && t.nodes[0].sub == nil {
			t.model.Input = inputShape(configOf(t.nodes[0].entry))
		}
		return t, nil
	}
	t.class = "Functional"
	t.nodes = nodes
	if err := t.chain(c, output); err != nil {
		return nil, err
	}
	return t, nil
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
	if reg, _ := entry["registered_name"].(string); strings.Contains(reg, ">") {
		return nil, unsupported(name, b.pos, class, "custom class "+reg)
	}
	if dt, ok := c["dtype"].(map[string]any); ok {
		if dc, _ := dt["class_name"].(string); strings.Contains(dc, "Quantized") {
			return nil, unsupported(name, b.pos, class, "quantized dtype policy "+dc)
		}
	}
	if class == "InputLayer" {
		n.input = inputShape(c)
		if n.input == nil {
			return nil, fmt.Errorf("%w: InputLayer %s has no usable shape", ErrFormat, strings.TrimPrefix(layerLabel(name, b.pos), "layer "))
		}
		return n, nil
	}
	if name == "" {
		return nil, fmt.Errorf("%w: %s of class %s has no name", ErrFormat, layerLabel("", b.pos), class)
	}
	if b.seen[name] {
		return nil, fmt.Errorf("%w: layer name %q used twice", ErrFormat, name)
	}
	b.seen[name] = true
	l := &runtime.Layer{Name: name, Class: class}
	n.layer = l
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
		l.Reg, _ = denseRegularizers(c) // training only: an unreadable one is left out
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
		return nil, unsupported(name, b.pos, class, "")
	}
	return n, nil
}

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

// resolveShapes walks t with input shape in (nil: t's own), checks each
// Dense layer's weights against its config and its input, and fills in
// widths. It returns the output shape.
func resolveShapes(t *tree, in []int) error {
	_, err := t.shapes(in)
	return err
}

// maxZeroValues bounds the weights of one Dense layer that ZeroWeights
// allocates (1 GiB of float32), so an absurd architecture fails cleanly.
const maxZeroValues = 1 << 28

// paramBudget counts the parameters ZeroWeights allocates, against
// Options.MaxParams.
type paramBudget struct{ used, max int64 }

// take counts n more parameters for the named layer, or fails when they
// would pass the limit. n and used are below 2⁶² (n ≤ 2²⁹, used ≤ max).
func (b *paramBudget) take(layer string, n int64) error {
	if n > b.max-b.used {
		return &limits.Error{What: fmt.Sprintf("the model (counting up to Dense layer %q)", layer), Got: b.used + n, Limit: b.max,
			Unit: "parameters (at least)", Field: "MaxParams", Option: "keras.Options.MaxParams", Err: ErrTooLarge}
	}
	b.used += n
	return nil
}

// zeroWeights marks every Dense layer of t and its nested models to get
// zero weights of the shapes its config and input imply (Options.ZeroWeights).
//
// b counts the parameters they take against MaxParams.
func (t *tree) zeroWeights(b *paramBudget) {
	t.zero, t.budget = true, b
	for _, n := range t.nodes {
		if n.sub != nil {
			n.sub.zeroWeights(b)
		}
	}
}

func (t *tree) shapes(in []int) ([]int, error) {
	m := t.model
	if m.Input == nil {
		m.Input = in
	}
	if m.Input == nil {
		m.Input = t.firstKernelRows()
	}
	if m.Input == nil {
		return nil, fmt.Errorf("%w: model %q: input shape unknown (no InputLayer, input shape or leading Dense)", ErrFormat, t.name)
	}
	byLayer := map[*runtime.Layer]*node{}
	for _, n := range t.nodes {
		if n.layer != nil {
			byLayer[n.layer] = n
		}
	}
	shape := m.Input
	for _, l := range m.Layers {
		n := byLayer[l]
		switch l.Type {
		case runtime.Dense:
			if !n.loaded && t.zero && len(shape) == 1 {
				if n.units <= 0 || shape[0] > maxZeroValues/max(n.units, 1) {
					return nil, fmt.Errorf("%w: Dense %s would have %d×%d weights (more than %d)", ErrShape, layerLabel(n.name, n.pos), shape[0], n.units, maxZeroValues)
				}
				// Both factors are at most maxZeroValues = 2²⁸: no overflow.
				if err := t.budget.take(n.name, int64(shape[0]+1)*int64(n.units)); err != nil {
					return nil, err
				}
				n.kshape = []int{shape[0], n.units}
				n.kernel = make([]float32, shape[0]*n.units)
				if n.bias {
					n.bvals = make([]float32, n.units)
				}
				n.loaded = true
			}
			if !n.loaded {
				return nil, fmt.Errorf("%w: Dense %s has no weights in the file", ErrMissingWeights, layerLabel(n.name, n.pos))
			}
			if len(n.kshape) != 2 || n.kshape[1] != n.units {
				return nil, fmt.Errorf("%w: Dense %s has %d units but its kernel is %v", ErrShape, layerLabel(n.name, n.pos), n.units, n.kshape)
			}
			if len(shape) != 1 {
				return nil, fmt.Errorf("%w: Dense %s applied to a %d-D input %v; only flat inputs are supported", ErrUnsupportedLayer, layerLabel(n.name, n.pos), len(shape), shape)
			}
			if n.kshape[0] != shape[0] {
				return nil, fmt.Errorf("%w: Dense %s kernel is %v but its input has width %d", ErrShape, layerLabel(n.name, n.pos), n.kshape, shape[0])
			}
			if n.bias && n.bvals == nil {
				return nil, fmt.Errorf("%w: Dense %s uses a bias but the file has none", ErrMissingWeights, layerLabel(n.name, n.pos))
			}
			if n.bvals != nil && len(n.bvals) != n.units {
				return nil, fmt.Errorf("%w: Dense %s has %d units but %d bias values", ErrShape, layerLabel(n.name, n.pos), n.units, len(n.bvals))
			}
			l.In, l.Units, l.Kernel, l.Bias = n.kshape[0], n.units, n.kernel, n.bvals
			shape = []int{n.units}
		case runtime.SubModel:
			out, err := n.sub.shapes(shape)
			if err != nil {
				return nil, err
			}
			if prod(n.sub.model.Input) != prod(shape) {
				return nil, fmt.Errorf("%w: model %q expects input %v but gets %v", ErrShape, n.sub.name, n.sub.model.Input, shape)
			}
			shape = out
		case runtime.Reshape:
			shape = l.OutputShape(shape) // Flatten, or Reshape with one -1 resolved
		case runtime.ActivationLayer:
			if n != nil && n.class == "Softmax" && n.axis != -1 && n.axis != len(shape) {
				return nil, unsupported(n.name, n.pos, n.class, fmt.Sprintf("softmax over axis %d of a %d-D input; only the last axis is supported", n.axis, len(shape)+1))
			}
		}
	}
	return shape, nil
}

// firstKernelRows infers a model's input width from its first Dense
// kernel, when only Dense, activation and identity layers (or nested
// models) come before it.
func (t *tree) firstKernelRows() []int {
	for _, n := range t.nodes {
		if n.layer == nil {
			continue
		}
		switch n.layer.Type {
		case runtime.Dense:
			if n.loaded && len(n.kshape) == 2 {
				return []int{n.kshape[0]}
			}
			return nil
		case runtime.SubModel:
			if n.sub.model.Input != nil {
				return n.sub.model.Input
			}
			return n.sub.firstKernelRows()
		case runtime.Reshape:
			return nil
		}
	}
	return nil
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}
