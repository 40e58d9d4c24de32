package keras

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/runtime"
)

func join(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// attrList reads a string-list attribute as Keras writes it: one
// attribute, or name0, name1, ... when the list was too long for one
// HDF5 object header.
func attrList(f *h5.File, path, name string) ([]string, error) {
	if f.HasAttr(path, name) {
		s, err := f.AttrStrings(path, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		return s, nil
	}
	var out []string
	for i := 0; f.HasAttr(path, name+strconv.Itoa(i)); i++ {
		s, err := f.AttrStrings(path, name+strconv.Itoa(i))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		out = append(out, s...)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: %s has no %s attribute", ErrFormat, path, name)
	}
	return out, nil
}

// weighted returns the nodes of t that hold weights (Dense layers, other
// kinds with parameters and nested models containing some), in order.
func (t *tree) weighted() []*node {
	var out []*node
	for _, n := range t.nodes {
		if n.layer == nil {
			continue
		}
		if n.hasWeights() || n.sub != nil && len(n.sub.leaves()) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// hasWeights reports whether n is a layer (not a model) with weights in a
// file: a Dense layer, or a kind with parameters.
func (n *node) hasWeights() bool {
	if n.layer == nil || n.sub != nil {
		return false
	}
	switch n.layer.Type {
	case runtime.Dense:
		return true
	case runtime.Other:
		return len(n.layer.Kind.Params()) > 0
	}
	return false
}

// leaves returns every node of t and its nested models that holds
// weights itself.
func (t *tree) leaves() []*node {
	var out []*node
	for _, n := range t.nodes {
		switch {
		case n.sub != nil:
			out = append(out, n.sub.leaves()...)
		case n.hasWeights():
			out = append(out, n)
		}
	}
	return out
}

// setKind reads the weights of an Other layer from the given datasets of
// group, in the order listed (Keras's saving order).
func setKind(f *h5.File, group string, n *node, weights []string) error {
	want := n.layer.Kind.Params()
	if len(weights) != len(want) {
		names := make([]string, len(want))
		for i, p := range want {
			names[i] = p.Name
		}
		return fmt.Errorf("%w: %s %s has %d weights in the file (%s), want %d (%s)", ErrShape, n.class, layerLabel(n.name, n.pos),
			len(weights), strings.Join(weights, ", "), len(want), strings.Join(names, ", "))
	}
	// Every weight of these kinds is one value per feature of the last
	// axis, Normalization's count a scalar: checked from the datasets'
	// headers before any value is read.
	for i, w := range weights {
		shape, err := weightShape(f, group, w)
		if err != nil {
			return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
		}
		if rank := paramRank(want[i]); len(shape) != rank {
			return fmt.Errorf("%w: %s %s weight %s (%s) has shape %v, want %d-D", ErrShape, n.class, layerLabel(n.name, n.pos),
				w, want[i].Name, shape, rank)
		}
	}
	n.pvals = make([][]float32, len(weights))
	for i, w := range weights {
		v, _, err := readWeight(f, group, w)
		if err != nil {
			return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
		}
		n.pvals[i] = v
	}
	n.loaded = true
	return nil
}

// paramRank is the rank Keras gives a weight of a runtime kind: 0 for
// Normalization's count, 1 for the others (one value per feature).
func paramRank(p runtime.Param) int {
	if p.Name == "count" {
		return 0
	}
	return 1
}

// loadLeaf reads the weights of a Dense or Other layer.
func loadLeaf(f *h5.File, group string, weights []string, n *node) error {
	if n.layer.Type == runtime.Other {
		return setKind(f, group, n, weights)
	}
	return loadDense(f, group, weights, n)
}

// loadLegacy reads weights stored the Keras 1/2 way (also Keras 3's
// legacy .h5): root has layer_names; each layer group has weight_names,
// paths of its datasets relative to the group. Top-level layers are
// matched by name, or by position as Keras does when the names differ;
// weights of nested models are matched by inner layer name.
func loadLegacy(f *h5.File, root string, t *tree) error {
	names, err := attrList(f, root, "layer_names")
	if err != nil {
		return err
	}
	type group struct {
		name    string
		weights []string
	}
	var groups []group
	byName := map[string]group{}
	for _, ln := range names {
		p := join(root, ln)
		if f.Kind(p) != h5.Group {
			return fmt.Errorf("%w: layer_names lists %q but there is no group %s", ErrMissingWeights, ln, p)
		}
		wn, err := attrList(f, p, "weight_names")
		if err != nil {
			return err
		}
		if len(wn) == 0 || t.pruned[ln] {
			continue
		}
		g := group{ln, wn}
		groups = append(groups, g)
		byName[ln] = g
	}
	if t.describe {
		// Weights of layers aekit cannot run are counted, not read.
		kept := groups[:0]
		for _, g := range groups {
			if n := t.unsupportedNode(g.name); n != nil {
				if err := countWeights(f, join(root, g.name), g.weights, n); err != nil {
					return err
				}
				delete(byName, g.name)
				continue
			}
			kept = append(kept, g)
		}
		groups = kept
	}
	want := t.weighted()
	byNameOK := len(groups) == len(want)
	for _, n := range want {
		if _, ok := byName[n.name]; !ok {
			byNameOK = false
		}
	}
	if !byNameOK && len(groups) != len(want) {
		var a, b []string
		for _, n := range want {
			a = append(a, n.name)
		}
		for _, g := range groups {
			b = append(b, g.name)
		}
		return fmt.Errorf("%w: the architecture has %d layers with weights (%s), the file %d (%s)", ErrMissingWeights, len(want), strings.Join(a, ", "), len(groups), strings.Join(b, ", "))
	}
	for i, n := range want {
		g := groups[i]
		if byNameOK {
			g = byName[n.name]
		}
		p := join(root, g.name)
		if n.sub == nil {
			err = loadLeaf(f, p, g.weights, n)
		} else {
			err = loadNested(f, p, g.weights, n.sub, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loadLegacyNested reads, from a Keras 1/2 layout, the weights of the
// nested model sel selected: they are in the group of the top-level layer
// holding it, named by inner layer.
func loadLegacyNested(f *h5.File, root string, t *tree, sel *selection) error {
	p := join(root, sel.group)
	if f.Kind(p) != h5.Group {
		return fmt.Errorf("%w: no weight group %s for nested model %q", ErrMissingWeights, p, t.name)
	}
	wn, err := attrList(f, p, "weight_names")
	if err != nil {
		return err
	}
	return loadNested(f, p, wn, t, sel.ignore)
}

// dataset finds the dataset a weight name refers to, tolerating a missing
// or extra ":0" suffix.
func dataset(f *h5.File, group, wname string) (string, error) {
	for _, c := range []string{wname, strings.TrimSuffix(wname, ":0"), wname + ":0"} {
		p := join(group, c)
		if f.Kind(p) == h5.Dataset {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: weight %q: no dataset %s", ErrMissingWeights, wname, join(group, wname))
}

func readWeight(f *h5.File, group, wname string) ([]float32, []int, error) {
	p, err := dataset(f, group, wname)
	if err != nil {
		return nil, nil, err
	}
	v, shape, err := f.ReadFloat32(p)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return v, shape, nil
}

// errKernelUnits reports a Dense kernel of shape kshape that is not
// [in, units].
func errKernelUnits(n *node, kshape []int) error {
	return fmt.Errorf("%w: Dense %s has %d units but its kernel is %v", ErrShape, layerLabel(n.name, n.pos), n.units, kshape)
}

// errBiasUnits reports a Dense bias of nb values, not units.
func errBiasUnits(n *node, nb int) error {
	return fmt.Errorf("%w: Dense %s has %d units but %d bias values", ErrShape, layerLabel(n.name, n.pos), n.units, nb)
}

// weightShape returns the shape of the dataset a weight name refers to,
// from its header alone: no value is read.
func weightShape(f *h5.File, group, wname string) ([]int, error) {
	p, err := dataset(f, group, wname)
	if err != nil {
		return nil, err
	}
	_, _, shape, err := f.Dataset(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return shape, nil
}

// setDense stores a Dense layer's kernel and optional bias, read from the
// given datasets of group.
func setDense(f *h5.File, group string, n *node, kernel, bias string) error {
	// The shapes the config implies are checked against the datasets'
	// headers before any value is read, so a mismatch costs nothing.
	ks, err := weightShape(f, group, kernel)
	if err != nil {
		return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
	}
	if len(ks) != 2 {
		return fmt.Errorf("%w: Dense %s kernel %s has shape %v, want 2-D", ErrShape, layerLabel(n.name, n.pos), kernel, ks)
	}
	if ks[1] != n.units {
		return errKernelUnits(n, ks)
	}
	if bias != "" {
		if !n.bias {
			return fmt.Errorf("%w: Dense %s has use_bias false but the file has a bias", ErrShape, layerLabel(n.name, n.pos))
		}
		bs, err := weightShape(f, group, bias)
		if err != nil {
			return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
		}
		if len(bs) != 1 {
			return fmt.Errorf("%w: Dense %s bias %s has shape %v, want 1-D", ErrShape, layerLabel(n.name, n.pos), bias, bs)
		}
		if bs[0] != n.units {
			return errBiasUnits(n, bs[0])
		}
	}
	k, ks, err := readWeight(f, group, kernel)
	if err != nil {
		return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
	}
	n.kernel, n.kshape = k, ks
	if bias != "" {
		b, _, err := readWeight(f, group, bias)
		if err != nil {
			return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
		}
		n.bvals = b
	}
	n.loaded = true
	return nil
}

func loadDense(f *h5.File, group string, weights []string, n *node) error {
	switch len(weights) {
	case 1:
		return setDense(f, group, n, weights[0], "")
	case 2:
		return setDense(f, group, n, weights[0], weights[1])
	}
	return fmt.Errorf("%w: Dense %s has %d weights in the file (%s), want kernel and bias", ErrShape, layerLabel(n.name, n.pos), len(weights), strings.Join(weights, ", "))
}

// k1Weight matches Keras 1 weight names such as "dense_1_W" and "dense_1_b".
var k1Weight = regexp.MustCompile(`^(.+)_(W|b)$`)

// splitWeight returns the layer and variable a weight name refers to:
// "dense_4/kernel:0" → dense_4, kernel; "sequential/dense/kernel" → dense,
// kernel; "dense_1_W" → dense_1, W.
func splitWeight(w string) (layer, v string) {
	s := strings.TrimSuffix(w, ":0")
	parts := strings.Split(s, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2], parts[len(parts)-1]
	}
	if m := k1Weight.FindStringSubmatch(s); m != nil {
		return m[1], m[2]
	}
	return "", s
}

// loadNested assigns the weights listed for a nested model's group to the
// Dense layers of sub, matching by inner layer name. Weights of the layers
// in ignore (those of the group not read, when sub is loaded on its own or
// cut at an output) and of layers sub pruned are skipped; weights of any
// other layer are an error.
func loadNested(f *h5.File, group string, weights []string, sub *tree, ignore map[string]bool) error {
	per := map[string][]string{}
	vars := map[string][]string{}
	for _, w := range weights {
		l, v := splitWeight(w)
		per[l] = append(per[l], w)
		vars[l] = append(vars[l], v)
	}
	dense := map[string]bool{}
	for _, n := range sub.leaves() {
		dense[n.name] = true
		ws := per[n.name]
		if len(ws) == 0 {
			return fmt.Errorf("%w: no weights for layer %q of nested model %q in %s", ErrMissingWeights, n.name, sub.name, group)
		}
		if n.layer.Type == runtime.Other {
			if err := setKind(f, group, n, ws); err != nil {
				return err
			}
			continue
		}
		if len(ws) > 2 {
			return fmt.Errorf("%w: Dense %s of nested model %q has %d weights (%s)", ErrShape, layerLabel(n.name, n.pos), sub.name, len(ws), strings.Join(ws, ", "))
		}
		kernel, bias := ws[0], ""
		if len(ws) == 2 {
			bias = ws[1]
			if v := vars[n.name]; (v[0] == "bias" || v[0] == "b") && (v[1] == "kernel" || v[1] == "W") {
				kernel, bias = ws[1], ws[0]
			}
		}
		if err := setDense(f, group, n, kernel, bias); err != nil {
			return err
		}
	}
	skip := sub.prunedAll()
	for l, ws := range per {
		if n := sub.unsupportedNode(l); n != nil && !dense[l] {
			if err := countWeights(f, group, ws, n); err != nil {
				return err
			}
			continue
		}
		if !dense[l] && !ignore[l] && !skip[l] {
			return fmt.Errorf("%w: nested model %q in %s has weights %s for a layer %q its architecture lacks", ErrMissingWeights, sub.name, group, strings.Join(ws, ", "), l)
		}
	}
	return nil
}

// snake converts a class name to the group name Keras 3 derives from it
// (keras.src.utils.naming.to_snake_case): "Dense" → "dense",
// "LeakyReLU" → "leaky_re_lu", "InputLayer" → "input_layer".
func snake(name string) string {
	var b []rune
	r := []rune(name)
	// (.)([A-Z][a-z]+) → \1_\2
	for i := 0; i < len(r); i++ {
		if i > 0 && isUpper(r[i]) && i+1 < len(r) && isLower(r[i+1]) {
			b = append(b, '_')
		}
		b = append(b, r[i])
	}
	// ([a-z])([A-Z]) → \1_\2
	var c []rune
	for i := 0; i < len(b); i++ {
		c = append(c, b[i])
		if isLower(b[i]) && i+1 < len(b) && isUpper(b[i+1]) {
			c = append(c, '_')
		}
	}
	return strings.ToLower(string(c))
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
func isLower(r rune) bool { return r >= 'a' && r <= 'z' }

// v3Class is the class of the object Keras 3 builds for a config class:
// "Model" configs become Functional models.
func v3Class(class string) string {
	if class == "Model" {
		return "Functional"
	}
	return class
}

// v3Names returns the group name Keras 3 gives each node of t: the snake
// case of its class, numbered from the second of a class on ("dense",
// "dense_1", ...).
func v3Names(t *tree) []string {
	classes := make([]string, len(t.nodes))
	for i, n := range t.nodes {
		classes[i] = n.class
	}
	return v3NamesOf(classes)
}

// v3NamesOf returns the group names Keras 3 gives layers of the given
// classes, in order.
func v3NamesOf(classes []string) []string {
	used := map[string]int{}
	out := make([]string, len(classes))
	for i, class := range classes {
		key := snake(v3Class(class))
		name := key
		if c, ok := used[key]; ok {
			used[key] = c + 1
			name = fmt.Sprintf("%s_%d", key, c+1)
		} else {
			used[key] = 0
		}
		out[i] = name
	}
	return out
}

// varsGroup finds the vars group of the object at path (a list of group
// names), as "a/b/vars" or, in files saved on Windows, "a\b/vars". In a
// file tf.keras 2.13 saved, whose weights sit under
// _layer_checkpoint_dependencies/ instead of layers/, it falls back as
// Keras 3 does (saving_lib.H5IOStore.get, "Fix for 2.13 compatibility"):
// "layers" replaced by "_layer_checkpoint_dependencies" in the path.
func varsGroup(f *h5.File, path []string) (string, bool) {
	for _, sep := range []string{"/", `\`} {
		p := "/" + strings.Join(path, sep) + "/vars"
		if f.Kind(p) == h5.Group {
			return p, true
		}
	}
	if f.Kind("/"+checkpointDeps) == h5.Group {
		p := "/" + strings.ReplaceAll(strings.Join(path, "/"), "layers", checkpointDeps) + "/vars"
		if f.Kind(p) == h5.Group {
			return p, true
		}
	}
	return "", false
}

// checkpointDeps is the group under which tf.keras 2.13 saved a .keras
// file's layer weights.
const checkpointDeps = "_layer_checkpoint_dependencies"

// loadV3 reads weights stored the Keras 3 way (.keras zips and
// .weights.h5): layers/<class-counter name>/vars/<index>.
func loadV3(f *h5.File, t *tree, prefix []string) error {
	names := v3Names(t)
	for i, n := range t.nodes {
		path := append(append(append([]string(nil), prefix...), "layers"), names[i])
		if n.sub != nil {
			if err := loadV3(f, n.sub, path); err != nil {
				return err
			}
			continue
		}
		if u := n.unsupported(); u != nil {
			if vg, ok := varsGroup(f, path); ok {
				if err := countVars(f, strings.TrimSuffix(vg, "/vars"), n, 0); err != nil {
					return err
				}
			}
			continue
		}
		if !n.hasWeights() {
			continue
		}
		vg, ok := varsGroup(f, path)
		if !ok {
			where := ""
			if f.Kind("/"+checkpointDeps) == h5.Group {
				where = " (nor under " + checkpointDeps + "/, where tf.keras 2.13 saved weights)"
			}
			return fmt.Errorf("%w: no group %s/vars for %s %s%s", ErrMissingWeights, strings.Join(path, "/"), n.class, layerLabel(n.name, n.pos), where)
		}
		kids, err := f.Children(vg)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
		idx := make([]int, 0, len(kids))
		for _, k := range kids {
			v, err := strconv.Atoi(k)
			if err != nil {
				return fmt.Errorf("%w: %s has a member %q that is not a variable index", ErrFormat, vg, k)
			}
			idx = append(idx, v)
		}
		sort.Ints(idx) // numerically: "10" sorts after "2"
		for j, v := range idx {
			if v != j {
				return fmt.Errorf("%w: %s holds variables %v, want 0..%d", ErrFormat, vg, idx, len(idx)-1)
			}
		}
		switch {
		case n.layer.Type == runtime.Other:
			vars := make([]string, len(idx))
			for j := range idx {
				vars[j] = strconv.Itoa(j)
			}
			err = setKind(f, vg, n, vars)
		case len(idx) == 1:
			err = setDense(f, vg, n, "0", "")
		case len(idx) == 2:
			err = setDense(f, vg, n, "0", "1")
		default:
			err = fmt.Errorf("%w: Dense %s has %d variables in %s, want kernel and bias", ErrShape, layerLabel(n.name, n.pos), len(idx), vg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unsupported returns n's placeholder for a layer aekit cannot run
// (Options.Describe), or nil.
func (n *node) unsupported() *runtime.Unsupported {
	if n.layer == nil || n.layer.Type != runtime.Other {
		return nil
	}
	u, _ := n.layer.Kind.(*runtime.Unsupported)
	return u
}

// unsupportedNode returns the placeholder node called name in t or its
// nested models, or nil.
func (t *tree) unsupportedNode(name string) *node {
	for _, n := range t.nodes {
		if n.sub != nil {
			if m := n.sub.unsupportedNode(name); m != nil {
				return m
			}
		}
		if n.name == name && n.unsupported() != nil {
			return n
		}
	}
	return nil
}

// countWeights adds the number of values of the given datasets of group
// to the weight count of n's placeholder.
func countWeights(f *h5.File, group string, weights []string, n *node) error {
	u := n.unsupported()
	for _, w := range weights {
		v, _, err := readWeight(f, group, w)
		if err != nil {
			return fmt.Errorf("%s: %w", layerLabel(n.name, n.pos), err)
		}
		u.Weights = max(u.Weights, 0) + len(v)
	}
	return nil
}

// countVars counts, into n's placeholder, the values of every variable
// under the Keras 3 object group g: its vars and those of the objects it
// holds (an LSTM's cell, say), to a depth of 8.
func countVars(f *h5.File, g string, n *node, depth int) error {
	kids, err := f.Children(g)
	if err != nil || depth > 8 {
		return nil
	}
	for _, k := range kids {
		p := join(g, k)
		if f.Kind(p) != h5.Group {
			continue
		}
		if k == "vars" {
			vars, err := f.Children(p)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrFormat, err)
			}
			if err := countWeights(f, p, vars, n); err != nil {
				return err
			}
			continue
		}
		if err := countVars(f, p, n, depth+1); err != nil {
			return err
		}
	}
	return nil
}
