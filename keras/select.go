package keras

import (
	"errors"
	"fmt"
	"strings"
)

// selection says which part of a file's model Read loads (Options.Model)
// and where that part's weights are.
type selection struct {
	// class, cfg and name are the loaded model's class, config and name.
	class string
	cfg   any
	name  string
	// group is the top-level layer whose Keras 1/2 weight group holds
	// the nested model's weights; "" for the whole model.
	group string
	// ignore lists the layers whose weights share that group but are not
	// loaded (the group's other layers).
	ignore map[string]bool
	// v3 is the Keras 3 weight path of the nested model
	// ("layers", "functional", ...); nil for the whole model.
	v3 []string
}

// entries returns a model config's layer entries.
func entries(cfg any) []map[string]any {
	var ls []any
	switch v := cfg.(type) {
	case []any:
		ls = v
	case map[string]any:
		ls, _ = v["layers"].([]any)
	}
	out := make([]map[string]any, 0, len(ls))
	for _, e := range ls {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// entryName returns a layer entry's name ("" if it has none).
func entryName(entry map[string]any) string {
	if n, _ := configOf(entry)["name"].(string); n != "" {
		return n
	}
	n, _ := entry["name"].(string)
	return n
}

func entryClass(entry map[string]any) string {
	c, _ := entry["class_name"].(string)
	return c
}

// layerNames adds the names of the layers of a model config, at any
// depth, to set.
func layerNames(cfg any, set map[string]bool) {
	for _, e := range entries(cfg) {
		set[entryName(e)] = true
		if isModelClass(entryClass(e)) {
			layerNames(e["config"], set)
		}
	}
}

// outputNames returns the layers a functional model config outputs.
func outputNames(cfg any) []string {
	c, _ := cfg.(map[string]any)
	if c == nil {
		return nil
	}
	outs, _ := refList(c["output_layers"])
	var names []string
	for _, r := range outs {
		names = append(names, r.layer)
	}
	return names
}

// nestedModels describes the nested models of a model config, at any
// depth: "decoder", or "encoder (outputs z_mean, z_log_var, z)".
func nestedModels(cfg any) []string {
	var out []string
	for _, e := range entries(cfg) {
		if !isModelClass(entryClass(e)) {
			continue
		}
		s := entryName(e)
		if outs := outputNames(e["config"]); len(outs) > 1 {
			s += " (outputs " + strings.Join(outs, ", ") + ")"
		}
		out = append(out, s)
		out = append(out, nestedModels(e["config"])...)
	}
	return out
}

// v3Level returns the Keras 3 group names of a model config's layers, as
// v3Names does for the built model: a Sequential's InputLayer has none.
func v3Level(class string, cfg any) ([]map[string]any, []string) {
	var es []map[string]any
	var classes []string
	for _, e := range entries(cfg) {
		if class == "Sequential" && entryClass(e) == "InputLayer" {
			continue
		}
		es = append(es, e)
		classes = append(classes, entryClass(e))
	}
	return es, v3NamesOf(classes)
}

// findModel looks for the nested model called name in a model config and
// returns its entry, the top-level entry that holds it and its Keras 3
// weight path.
func findModel(class string, cfg any, name string) (entry, top map[string]any, v3 []string) {
	es, v3names := v3Level(class, cfg)
	for i, e := range es {
		c := entryClass(e)
		if !isModelClass(c) {
			continue
		}
		path := []string{"layers", v3names[i]}
		if entryName(e) == name {
			return e, e, path
		}
		if found, _, sub := findModel(c, e["config"], name); found != nil {
			return found, e, append(path, sub...)
		}
	}
	return nil, nil, nil
}

// selectModel returns the part of top that opt asks to load.
func selectModel(top *topConfig, opt *Options) (*selection, error) {
	if opt.Model == "" {
		return &selection{class: top.Class, cfg: top.Config}, nil
	}
	e, group, v3 := findModel(top.Class, top.Config, opt.Model)
	if e == nil {
		names := nestedModels(top.Config)
		if len(names) == 0 {
			return nil, fmt.Errorf("%w: no nested model %q: the model has none", ErrNotFound, opt.Model)
		}
		return nil, fmt.Errorf("%w: no nested model %q; nested models: %s", ErrNotFound, opt.Model, strings.Join(names, ", "))
	}
	s := &selection{class: entryClass(e), cfg: e["config"], name: opt.Model, group: entryName(group), v3: v3,
		ignore: map[string]bool{}}
	layerNames(group["config"], s.ignore)
	return s, nil
}

// hint suggests, after an unsupported layer or graph, the parts of the
// model that might load on their own, as a *HintError.
func hint(top *topConfig, sel *selection, opt *Options, err error) error {
	if !errors.Is(err, ErrUnsupportedLayer) && !errors.Is(err, ErrUnsupportedGraph) {
		return err
	}
	h := &HintError{Err: err}
	if opt.Model == "" {
		h.Models = nestedModels(top.Config)
	}
	if outs := outputNames(sel.cfg); opt.Output == "" && len(outs) > 1 && isModelClass(sel.class) && sel.class != "Sequential" {
		name := sel.name
		if name == "" {
			c, _ := sel.cfg.(map[string]any)
			name, _ = c["name"].(string)
		}
		h.Model, h.Outputs = name, outs
	}
	if len(h.Models) == 0 && len(h.Outputs) == 0 {
		return err
	}
	return h
}

// pathTo returns the names of the layers on the path from a model's input
// to its layer output (included), following each layer's first input, or
// an error wrapping ErrNotFound if the model has no such layer. The path
// is checked to be a chain when the model is built.
func pathTo(class string, es []map[string]any, model, output string) (map[string]bool, error) {
	var names []string
	byName := map[string]map[string]any{}
	for _, e := range es {
		names = append(names, entryName(e))
		byName[entryName(e)] = e
	}
	e, ok := byName[output]
	if !ok {
		return nil, fmt.Errorf("%w: model %q has no layer %q; its layers: %s", ErrNotFound, model, output, strings.Join(names, ", "))
	}
	if entryClass(e) == "InputLayer" {
		return nil, fmt.Errorf("%w: layer %q of model %q is an InputLayer, not an output", ErrNotFound, output, model)
	}
	keep := map[string]bool{}
	if class == "Sequential" {
		for _, n := range names {
			keep[n] = true
			if n == output {
				break
			}
		}
		return keep, nil
	}
	for cur := output; !keep[cur]; {
		keep[cur] = true
		e, ok := byName[cur]
		if !ok {
			break
		}
		calls, err := inbound(e)
		if err != nil || len(calls) == 0 || len(calls[0]) == 0 {
			break
		}
		cur = calls[0][0].layer
	}
	return keep, nil
}
