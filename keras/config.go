package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
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

	// Other layers: the weights read from the file, in saving order.
	pvals [][]float32

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
	// describe is Options.Describe: unsupported layers are placeholders.
	describe bool
	// graph marks a functional model read by Describe: its layers are not
	// put in a chain; cfg is its config (input_layers, output_layers).
	graph bool
	cfg   map[string]any
	// weightless marks an architecture read alone by Describe.
	weightless bool
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
	describe bool // Options.Describe
	graph    bool // Describe: functional models stay graphs
	major    int
	seen     map[string]bool
	pos      int // index in its model of the layer entry being parsed
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
	b := &builder{major: majorOf(version, top), seen: map[string]bool{}, describe: opt.Describe || opt.graph, graph: opt.graph}
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
	t := &tree{name: name, model: &runtime.Model{Name: name, Class: class}, describe: b.describe, graph: b.graph && class != "Sequential"}
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
	if t.graph {
		t.cfg = c
		return t, nil
	}
	if err := t.chain(c, output); err != nil {
		// A graph aekit cannot read is not described either: report
		// the first layer it cannot run, as without Describe.
		for _, n := range nodes {
			if u := n.unsupported(); u != nil {
				return nil, fmt.Errorf("model %q: %w", t.name, unsupported(n.name, n.pos, n.class, u.Reason))
			}
		}
		return nil, err
	}
	return t, nil
}
