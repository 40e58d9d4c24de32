package keras

import (
	"fmt"
	"io"

	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/internal/limits"
	"github.com/aekit/aekit/runtime"
)

// Description describes a Keras model as its file holds it, whether or
// not aekit can run it: every layer with its class, output shapes and
// parameter count, the connections of a functional graph, nested models
// with their own layers. It is made from the architecture and the shapes
// of the weights alone; nothing is run.
type Description struct {
	// Name and Class are the model's ("Sequential", "Functional",
	// "Model").
	Name, Class string
	// Chain is true when each layer takes the output of the one before
	// (a Sequential model, or a functional one with one input and one
	// output and no branches); false for a graph, whose layers then list
	// their Inbound tensors.
	Chain bool
	// Inputs are the model's input tensors (the InputLayers, or for a
	// Sequential model its input), Outputs the tensors it returns.
	Inputs, Outputs []Tensor
	// Layers lists the layers in Keras's model.layers order: a
	// functional model's InputLayers included, a Sequential's not.
	Layers []*LayerDescription
	// Params is the number of weight values of all layers, trainable or
	// not, as Keras's model.count_params() counts them; -1 when a layer's
	// count is unknown (an architecture read without weights).
	Params int64
}

// Tensor is one tensor of a model: output Index of the layer named Layer.
type Tensor struct {
	Layer string
	Index int
	// Call is, for a layer a functional model calls several times (a
	// shared layer), which call's output it is, from 0.
	Call int
	// Shape is the shape of one sample (no batch axis); nil when unknown.
	Shape []int
}

// String returns "layer", "layer[i]" for output i > 0, followed by
// " (call k)" for call k > 1 of a shared layer.
func (t Tensor) String() string {
	s := t.Layer
	if t.Index > 0 {
		s = fmt.Sprintf("%s[%d]", t.Layer, t.Index)
	}
	if t.Call > 0 {
		s += fmt.Sprintf(" (call %d)", t.Call+1)
	}
	return s
}

// LayerDescription describes one layer of a Description.
type LayerDescription struct {
	Name, Class string
	// Activation is a Dense or activation layer's activation; "" for
	// other layers.
	Activation string
	// Outputs holds the shape of each output of one sample (no batch
	// axis); an entry is nil when its shape is unknown (after a layer
	// whose output shape neither its config nor the file records).
	Outputs [][]int
	// Params is the number of weight values the layer holds, trainable or
	// not (as Keras's count_params); -1 when unknown (an architecture
	// without weights, for a layer other than Dense).
	Params int64
	// Inbound lists the tensors the layer takes, in a functional model
	// (for a layer called several times, those of its first call); nil
	// for InputLayers and in a Sequential model.
	Inbound []Tensor
	// Calls counts the times a functional model calls the layer (more
	// than 1 for a shared layer).
	Calls int
	// Unsupported says why aekit cannot run the layer ("unsupported
	// class" for a class it does not know); "" for a layer it runs.
	Unsupported string
	// Model describes a nested model; nil for other layers.
	Model *Description
}

// Describe reads the Keras model in r, any of the layouts Read reads, and
// describes it without running it (aekit inspect). Unlike Read it accepts
// any functional graph (several inputs and outputs, merges, shared
// layers), any layer class, and an architecture JSON without weights
// (then only Dense layers have parameter counts). Options.Model selects
// a nested model; Output, Describe and ZeroWeights are ignored. The
// architecture is checked as Read checks it (limits, unknown layer
// references, cycles) and weights are read but not kept. Errors wrap the
// package's sentinels.
func Describe(r io.Reader, opt *Options) (*Description, *Info, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxFile {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, int64(maxFile))
	}
	return describeBytes(b, opt)
}

// DescribeFile describes the Keras model in the named file; see Describe.
// Errors name the file.
func DescribeFile(name string, opt *Options) (*Description, *Info, error) {
	b, err := inputfile.ReadFile(name, &limits.Error{Limit: maxFile, Field: "", Option: "the 4 GiB bound of keras files", Err: ErrTooLarge})
	if err != nil {
		return nil, nil, err
	}
	d, info, err := describeBytes(b, opt)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", name, err)
	}
	return d, info, nil
}

func describeBytes(b []byte, opt *Options) (*Description, *Info, error) {
	o := Options{}
	if opt != nil {
		o = *opt
	}
	o.graph, o.Describe, o.Output, o.ZeroWeights = true, true, "", false
	t, info, err := decodeTree(b, &o)
	if err != nil {
		return nil, info, err
	}
	d, err := t.description(nil)
	return d, info, err
}

// setWeightless marks t and its nested models as read without weights.
func (t *tree) setWeightless() {
	t.weightless = true
	for _, n := range t.nodes {
		if n.sub != nil {
			n.sub.setWeightless()
		}
	}
}

// Bounds on the shapes Describe computes from untrusted configs.
const (
	maxRank    = 32      // axes of one sample
	maxElems   = 1 << 50 // values of one sample
	maxOutputs = 1024    // outputs of one layer, by the tensor indices referring to it
)

// checkShape reports a shape beyond the bounds above.
func checkShape(layer string, s []int) error {
	if len(s) > maxRank {
		return fmt.Errorf("%w: layer %q: output of %d axes (more than %d)", ErrShape, layer, len(s), maxRank)
	}
	p := 1
	for _, d := range s {
		if d <= 0 || d > maxElems || p > maxElems/d {
			return fmt.Errorf("%w: layer %q: output shape %v is out of range (a dimension ≤ 0 or more than %d values)", ErrShape, layer, s, int64(maxElems))
		}
		p *= d
	}
	return nil
}

// description describes t given the shape of its input (nil: its own).
func (t *tree) description(in []int) (*Description, error) {
	d := &Description{Name: t.name, Class: t.model.Class}
	if t.graph {
		if err := t.describeGraph(d); err != nil {
			return nil, err
		}
	} else if err := t.describeSequential(d, in); err != nil {
		return nil, err
	}
	for _, l := range d.Layers {
		if l.Params < 0 || d.Params < 0 {
			d.Params = -1
			continue
		}
		d.Params += l.Params
	}
	return d, nil
}

// describeSequential describes a Sequential model: each layer takes the
// previous one's output.
func (t *tree) describeSequential(d *Description, in []int) error {
	d.Chain = true
	shape := t.model.Input
	if shape == nil {
		shape = in
	}
	if shape == nil {
		shape = t.firstKernelRows()
	}
	if err := checkShape(t.name, shape); err != nil {
		return err
	}
	name := t.model.InputName
	if name == "" {
		name = "input"
	}
	d.Inputs = []Tensor{{Layer: name, Shape: shape}}
	var last *LayerDescription
	for i, n := range t.nodes {
		if n.stub || n.layer == nil {
			continue
		}
		var recorded [][]int
		if i+1 < len(t.nodes) { // Keras 3 records the next layer's input shape
			if s := shapeOf(buildInput(t.nodes[i+1].entry)); s != nil {
				recorded = [][]int{s}
			}
		}
		ld, err := t.describeNode(n, [][]int{shape}, recorded)
		if err != nil {
			return err
		}
		d.Layers = append(d.Layers, ld)
		shape, last = ld.Outputs[0], ld
	}
	if last != nil {
		d.Outputs = []Tensor{{Layer: last.Name, Shape: shape}}
	} else {
		d.Outputs = d.Inputs
	}
	return nil
}

// buildInput returns a Keras 3 layer entry's build_config input_shape.
func buildInput(entry map[string]any) any {
	bc, _ := entry["build_config"].(map[string]any)
	return bc["input_shape"]
}

// describeGraph describes a functional model: its layers are ordered so
// that each comes after the layers it takes, and their shapes follow.
func (t *tree) describeGraph(d *Description) error {
	c := t.cfg
	if c == nil {
		return fmt.Errorf("%w: functional model %q has no config", ErrFormat, t.name)
	}
	ins, ok1 := refList(c["input_layers"])
	outs, ok2 := refList(c["output_layers"])
	if !ok1 || !ok2 || len(ins) == 0 || len(outs) == 0 {
		return fmt.Errorf("%w: functional model %q: bad input_layers/output_layers", ErrFormat, t.name)
	}
	byName := map[string]*node{}
	for _, n := range t.nodes {
		if n.stub {
			continue
		}
		if byName[n.name] != nil {
			return fmt.Errorf("%w: model %q has two layers named %q", ErrFormat, t.name, n.name)
		}
		byName[n.name] = n
	}
	// Calls of each layer, checked, and the tensor shapes Keras 3
	// recorded where layers take them.
	calls := map[*node][][]ref{}
	recorded := map[ref][]int{}
	nouts := map[string]int{}
	// firstNode is the lowest node index referring to each layer: Keras
	// numbers a layer's calls from there (nested models of Keras 2 from 1).
	firstNode := map[string]int{}
	use := func(r ref, by string) error {
		if byName[r.layer] == nil {
			return fmt.Errorf("%w: %s in model %q refers to unknown layer %q", ErrFormat, by, t.name, r.layer)
		}
		if r.tensor < 0 || r.tensor >= maxOutputs || r.node < 0 {
			return fmt.Errorf("%w: %s in model %q refers to output %d of call %d of %q", ErrFormat, by, t.name, r.tensor, r.node, r.layer)
		}
		nouts[r.layer] = max(nouts[r.layer], r.tensor+1)
		if m, ok := firstNode[r.layer]; !ok || r.node < m {
			firstNode[r.layer] = r.node
		}
		return nil
	}
	for _, n := range t.nodes {
		if n.stub || n.class == "InputLayer" {
			continue
		}
		cs, err := inbound(n.entry)
		if err != nil {
			return fmt.Errorf("model %q %s: %w", t.name, layerLabel(n.name, n.pos), err)
		}
		if len(cs) == 0 {
			return fmt.Errorf("%w: %s in model %q is never called (no inbound nodes)", ErrFormat, layerLabel(n.name, n.pos), t.name)
		}
		for _, call := range cs {
			for _, r := range call {
				if err := use(r, layerLabel(n.name, n.pos)); err != nil {
					return err
				}
			}
		}
		calls[n] = cs
		for _, s := range recordedShapes(n.entry) {
			recorded[ref{layer: s.layer, tensor: s.tensor}] = s.shape
		}
	}
	for _, r := range ins {
		if err := use(r, "input_layers"); err != nil {
			return err
		}
		if byName[r.layer].class != "InputLayer" {
			return fmt.Errorf("%w: model %q input %q is not an InputLayer", ErrFormat, t.name, r.layer)
		}
	}
	for _, r := range outs {
		if err := use(r, "output_layers"); err != nil {
			return err
		}
	}
	// Kahn's algorithm over every call's inputs: a layer comes after all
	// the layers it takes; what is left over lies on a cycle.
	deps := map[*node]int{}
	users := map[*node][]*node{}
	for _, n := range t.nodes {
		seen := map[*node]bool{}
		for _, call := range calls[n] {
			for _, r := range call {
				p := byName[r.layer]
				if !seen[p] {
					seen[p] = true
					deps[n]++
					users[p] = append(users[p], n)
				}
			}
		}
	}
	var order, ready []*node
	for _, n := range t.nodes {
		if !n.stub && deps[n] == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		n := ready[0]
		ready = ready[1:]
		order = append(order, n)
		for _, u := range users[n] {
			if deps[u]--; deps[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	for _, n := range t.nodes {
		if !n.stub && deps[n] > 0 {
			return fmt.Errorf("%w: model %q has a cycle through %s", ErrFormat, t.name, layerLabel(n.name, n.pos))
		}
	}
	// Shapes in that order.
	descs := map[*node]*LayerDescription{}
	outShape := func(r ref) []int {
		ld := descs[byName[r.layer]]
		if ld == nil || r.tensor >= len(ld.Outputs) {
			return nil
		}
		return ld.Outputs[r.tensor]
	}
	for _, n := range order {
		var inShapes [][]int
		var inbound []Tensor
		if cs := calls[n]; len(cs) > 0 {
			for _, r := range cs[0] {
				s := outShape(r)
				inShapes = append(inShapes, s)
				tn := Tensor{Layer: r.layer, Index: r.tensor, Shape: s}
				if len(calls[byName[r.layer]]) > 1 {
					tn.Call = r.node - firstNode[r.layer]
				}
				inbound = append(inbound, tn)
			}
		}
		var rec [][]int
		for i := 0; i < nouts[n.name]; i++ {
			rec = append(rec, recorded[ref{layer: n.name, tensor: i}])
		}
		ld, err := t.describeNode(n, inShapes, rec)
		if err != nil {
			return err
		}
		if len(ld.Outputs) < nouts[n.name] && n.unsupported() == nil {
			return fmt.Errorf("%w: model %q refers to output %d of %s, which has %d", ErrFormat, t.name, nouts[n.name]-1, layerLabel(n.name, n.pos), len(ld.Outputs))
		}
		for len(ld.Outputs) < nouts[n.name] { // a class whose outputs are not known
			ld.Outputs = append(ld.Outputs, rec[len(ld.Outputs)])
		}
		ld.Inbound, ld.Calls = inbound, len(calls[n])
		descs[n] = ld
	}
	for _, n := range t.nodes {
		if !n.stub {
			d.Layers = append(d.Layers, descs[n])
		}
	}
	for _, r := range ins {
		d.Inputs = append(d.Inputs, Tensor{Layer: r.layer, Index: r.tensor, Shape: outShape(r)})
	}
	for _, r := range outs {
		d.Outputs = append(d.Outputs, Tensor{Layer: r.layer, Index: r.tensor, Shape: outShape(r)})
	}
	d.Chain = isChain(order, calls, ins, outs)
	return nil
}

// isChain tells whether a functional model's layers, in order, form a
// chain from its one input to its one output.
func isChain(order []*node, calls map[*node][][]ref, ins, outs []ref) bool {
	if len(ins) != 1 || len(outs) != 1 || outs[0].tensor != 0 || len(order) == 0 || order[0].name != ins[0].layer ||
		order[len(order)-1].name != outs[0].layer {
		return false
	}
	for i, n := range order[1:] {
		cs := calls[n]
		if len(cs) != 1 || len(cs[0]) != 1 || cs[0][0].layer != order[i].name || cs[0][0].tensor != 0 {
			return false
		}
	}
	return true
}

// shapeRecord is a tensor shape Keras 3 recorded in an inbound node.
type shapeRecord struct {
	layer  string
	tensor int
	shape  []int
}

// recordedShapes returns the shapes of the tensors a Keras 3 layer entry
// takes, as its inbound nodes record them (shape and keras_history of
// each __keras_tensor__).
func recordedShapes(entry map[string]any) []shapeRecord {
	var out []shapeRecord
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > DefaultMaxConfigDepth {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			if x["class_name"] == "__keras_tensor__" {
				c, _ := x["config"].(map[string]any)
				r, ok := refOf(c["keras_history"])
				s := shapeOf(c["shape"])
				if ok && s != nil {
					out = append(out, shapeRecord{r.layer, r.tensor, s})
				}
				return
			}
			for _, e := range x {
				walk(e, depth+1)
			}
		}
	}
	nodes, _ := entry["inbound_nodes"].([]any)
	walk(nodes, 0)
	return out
}

// describeNode describes the layer of node n taking tensors of the given
// shapes (an entry nil when unknown). recorded holds its output shapes
// as the file records them elsewhere (nil entries unknown), used where
// no rule gives them.
func (t *tree) describeNode(n *node, ins [][]int, recorded [][]int) (*LayerDescription, error) {
	ld := &LayerDescription{Name: n.name, Class: n.class, Calls: 1}
	var x []int
	if len(ins) > 0 {
		x = ins[0]
	}
	switch {
	case n.class == "InputLayer":
		ld.Outputs = [][]int{n.input}
		return ld, checkShape(n.name, n.input)
	}
	l := n.layer
	if n.sub != nil {
		sd, err := n.sub.description(x)
		if err != nil {
			return nil, err
		}
		ld.Model, ld.Params = sd, sd.Params
		for _, o := range sd.Outputs {
			ld.Outputs = append(ld.Outputs, o.Shape)
		}
	} else if u := n.unsupported(); u != nil {
		ld.Unsupported = u.Reason
		if ld.Unsupported == "" {
			ld.Unsupported = "unsupported class"
		}
		ld.Params = int64(max(u.Weights, 0))
		if t.weightless && !weightlessClass(n.class) {
			ld.Params = -1
		}
		ld.Outputs = classShapes(n.class, configOf(n.entry), ins)
	} else {
		switch l.Type {
		case runtime.Dense, runtime.ActivationLayer:
			ld.Activation = l.Act.String()
		}
		if err := denseFits(n, x); err != nil {
			return nil, err
		}
		ld.Params = t.nodeParams(n, x)
		if x != nil {
			if l.Type == runtime.Reshape {
				if err := checkShape(n.name, x); err != nil {
					return nil, err
				}
				if l.Shape != nil && !reshapeFits(l.Shape, x) {
					return nil, fmt.Errorf("%w: Reshape %s cannot reshape %v to %v", ErrShape, layerLabel(n.name, n.pos), x, l.Shape)
				}
			}
			if l.Type == runtime.Dense {
				l.Units = n.units
			}
			ld.Outputs = [][]int{l.OutputShape(x)}
		} else {
			l.Units = n.units
			ld.Outputs = [][]int{l.KnownOutputShape(nil)}
		}
	}
	if len(ld.Outputs) == 0 {
		ld.Outputs = [][]int{nil}
	}
	for i, s := range ld.Outputs {
		if s == nil && i < len(recorded) {
			ld.Outputs[i] = recorded[i]
		}
		if err := checkShape(n.name, ld.Outputs[i]); ld.Outputs[i] != nil && err != nil {
			return nil, err
		}
	}
	if ld.Model != nil {
		ld.Model.fillOutputs(ld.Outputs)
	}
	return ld, nil
}

// fillOutputs gives d's outputs of unknown shape, and the layers
// producing them, the shapes the enclosing model records for them.
func (d *Description) fillOutputs(shapes [][]int) {
	for i := range d.Outputs {
		o := &d.Outputs[i]
		if o.Shape != nil || i >= len(shapes) || shapes[i] == nil {
			continue
		}
		o.Shape = shapes[i]
		for _, l := range d.Layers {
			if l.Name == o.Layer && o.Index < len(l.Outputs) && l.Outputs[o.Index] == nil {
				l.Outputs[o.Index] = shapes[i]
			}
		}
	}
}

// reshapeFits tells whether a Reshape target (one -1 at most) holds the
// values of shape in.
func reshapeFits(target, in []int) bool {
	n, known, free := 1, 1, 0
	for _, d := range in {
		n *= d // checkShape bounded the product
	}
	for _, d := range target {
		if d == -1 {
			free++
			continue
		}
		if d <= 0 || d > n || known > n/d {
			return false
		}
		known *= d
	}
	if free == 0 {
		return known == n
	}
	return free == 1 && n%known == 0
}

// denseFits checks a Dense layer's weights, when loaded, against its
// units and its input width (when known).
func denseFits(n *node, x []int) error {
	if n.layer.Type != runtime.Dense || !n.loaded {
		return nil
	}
	if len(n.kshape) != 2 || n.kshape[1] != n.units {
		return errKernelUnits(n, n.kshape)
	}
	if len(x) > 0 && n.kshape[0] != x[len(x)-1] {
		return fmt.Errorf("%w: Dense %s kernel is %v but its input has width %d", ErrShape, layerLabel(n.name, n.pos), n.kshape, x[len(x)-1])
	}
	if n.bias && n.bvals == nil {
		return fmt.Errorf("%w: Dense %s uses a bias but the file has none", ErrMissingWeights, layerLabel(n.name, n.pos))
	}
	if n.bvals != nil && len(n.bvals) != n.units {
		return errBiasUnits(n, len(n.bvals))
	}
	return nil
}

// nodeParams counts the weight values of a layer aekit runs: those read
// from the file, or for an architecture alone a Dense layer's from its
// input width (-1 when unknown).
func (t *tree) nodeParams(n *node, in []int) int64 {
	l := n.layer
	if !t.weightless {
		switch l.Type {
		case runtime.Dense:
			return int64(len(n.kernel) + len(n.bvals))
		case runtime.Other:
			var p int64
			for _, v := range n.pvals {
				p += int64(len(v))
			}
			return p
		}
		return 0
	}
	switch l.Type {
	case runtime.Dense:
		if len(in) == 0 {
			return -1
		}
		w := int64(in[len(in)-1]) // ≤ 2⁵⁰, units ≤ 2⁴⁰: bound the product
		if w > maxElems/int64(n.units+1) {
			return -1
		}
		p := w * int64(n.units)
		if n.bias {
			p += int64(n.units)
		}
		return p
	case runtime.Other:
		if len(l.Kind.Params()) > 0 {
			return -1
		}
	}
	return 0
}

// Unsupported returns the first layer of d, in its nested models too,
// that aekit cannot run, with the names of the models holding it; nil if
// there is none.
func (d *Description) Unsupported() (*LayerDescription, []string) {
	for _, l := range d.Layers {
		if l.Unsupported != "" {
			return l, nil
		}
		if l.Model != nil {
			if u, path := l.Model.Unsupported(); u != nil {
				return u, append([]string{l.Name}, path...)
			}
		}
	}
	return nil, nil
}
