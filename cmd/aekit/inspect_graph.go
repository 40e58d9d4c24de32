package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/onnx"
)

// describable tells whether inspect describes a Keras file that did not
// load as a runnable model (err) with keras.Describe instead: a graph or
// layers aekit cannot run, or an architecture alone.
func describable(err error) bool {
	var ne *onnx.NodeError
	return errors.Is(err, keras.ErrUnsupportedLayer) || errors.Is(err, keras.ErrUnsupportedGraph) ||
		errors.Is(err, keras.ErrMissingWeights) || errors.Is(err, onnx.ErrUnsupportedOp) && errors.As(err, &ne)
}

// onnxInfo is inspect's JSON for an ONNX graph aekit does not read.
type onnxInfo struct {
	File     string         `json:"file"`
	Format   string         `json:"format"`
	Name     string         `json:"name"`
	Inputs   []onnx.Value   `json:"inputs"`
	Outputs  []onnx.Value   `json:"outputs"`
	Params   int64          `json:"params"`
	Nodes    []onnxNodeInfo `json:"nodes"`
	Runnable bool           `json:"runnable"`
}

// onnxNodeInfo is one node in inspect's JSON.
type onnxNodeInfo struct {
	Name        string   `json:"name"`
	Op          string   `json:"op"`
	Domain      string   `json:"domain,omitempty"`
	Inputs      []string `json:"inputs"`
	Outputs     []string `json:"outputs"`
	Params      int64    `json:"params"`
	Unsupported string   `json:"unsupported,omitempty"`
}

// inspectONNXDescription lists the nodes of the ONNX graph in path, the
// one aekit's reader stops at marked; ok is false when it cannot.
func inspectONNXDescription(src *modelSource, opts *modelfile.Options, asJSON bool, stdout io.Writer) (ok bool, err error) {
	d, info, derr := src.describeONNX(opts)
	if derr != nil {
		return false, nil
	}
	oi := onnxInfo{File: src.path, Format: info.String(), Name: d.Name, Inputs: d.Inputs, Outputs: d.Outputs, Params: d.Params, Nodes: []onnxNodeInfo{}}
	for _, n := range d.Nodes {
		oi.Nodes = append(oi.Nodes, onnxNodeInfo{Name: n.Name, Op: n.Op, Domain: n.Domain, Inputs: n.Inputs, Outputs: n.Outputs,
			Params: n.Params, Unsupported: n.Unsupported})
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return true, enc.Encode(oi)
	}
	values := func(vs []onnx.Value) string {
		parts := make([]string, len(vs))
		for i, v := range vs {
			shape := "?"
			if v.Shape != nil {
				shape = "(" + strings.Join(v.Shape, ", ") + ")"
			}
			parts[i] = printable(v.Name + " " + shape)
		}
		return strings.Join(parts, ", ")
	}
	// Names, ops and the producer come from the file: each is quoted or
	// passed through printable.
	fmt.Fprintf(stdout, "Model: %q (ONNX graph)\nFormat: %s\nInputs: %s\n\n", oi.Name, printable(oi.Format), values(oi.Inputs))
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Node (op)\tParam #\tInputs\tOutputs")
	why := ""
	for _, n := range oi.Nodes {
		mark := ""
		if n.Unsupported != "" {
			mark, why = " *", n.Unsupported
		}
		op := n.Op
		if n.Domain != "" {
			op = n.Domain + ":" + op
		}
		fmt.Fprintf(tw, "%s (%s)%s\t%s\t%s\t%s\n", printable(n.Name), printable(op), mark, commas(int(n.Params)),
			printable(strings.Join(n.Inputs, ", ")), printable(strings.Join(n.Outputs, ", ")))
	}
	tw.Flush()
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		fmt.Fprintln(stdout, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(stdout, "\n* aekit cannot read this node (%s): predict and convert refuse the model; later nodes are not judged.\n", printable(why))
	fmt.Fprintf(stdout, "Total params: %s\nOutputs: %s\n", commas(int(oi.Params)), values(oi.Outputs))
	return true, nil
}

// inspectDescription lists the Keras model in path as keras.Describe
// describes it; ok is false when it cannot (then the caller reports the
// error the model's loading gave).
func inspectDescription(src *modelSource, opts *modelfile.Options, asJSON bool, stdout io.Writer) (ok bool, err error) {
	o := *opts
	o.Output, o.Layer, o.ZeroWeights = "", "", false
	d, info, derr := src.describeKeras(&o)
	if derr != nil {
		return false, nil
	}
	gi := graphDescription(d)
	gi.File, gi.Format = src.path, info.String()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return true, enc.Encode(gi)
	}
	printGraph(stdout, gi)
	return true, nil
}

// tensorInfo is a model input or output in inspect's JSON.
type tensorInfo struct {
	Layer string `json:"layer"`
	Index int    `json:"index"`
	Shape []int  `json:"shape"` // null when unknown
}

// graphLayerInfo is one layer of a described model in inspect's JSON.
type graphLayerInfo struct {
	Name         string  `json:"name"`
	Class        string  `json:"class"`
	OutputShapes [][]int `json:"output_shapes"` // an entry null when unknown
	Activation   string  `json:"activation,omitempty"`
	Params       *int64  `json:"params"` // null when unknown
	// Inbound are the tensors a functional model's layer takes, "layer"
	// or "layer[i]" for output i > 0.
	Inbound     []string    `json:"inbound,omitempty"`
	Calls       int         `json:"calls,omitempty"` // set when more than 1
	Unsupported string      `json:"unsupported,omitempty"`
	Model       *graphModel `json:"model,omitempty"`
}

// graphModel is a model, whole or nested, as keras.Describe describes it.
type graphModel struct {
	Name    string           `json:"name"`
	Class   string           `json:"class"`
	Chain   bool             `json:"chain"`
	Inputs  []tensorInfo     `json:"inputs"`
	Outputs []tensorInfo     `json:"outputs"`
	Params  *int64           `json:"params"`
	Layers  []graphLayerInfo `json:"layers"`
}

// graphInfo is inspect's JSON for a model listed from its description.
type graphInfo struct {
	File   string `json:"file"`
	Format string `json:"format"`
	graphModel
	// Runnable is false: aekit cannot run the model whole.
	Runnable bool `json:"runnable"`
}

func count(n int64) *int64 {
	if n < 0 {
		return nil
	}
	return &n
}

func tensors(ts []keras.Tensor) []tensorInfo {
	out := make([]tensorInfo, len(ts))
	for i, t := range ts {
		out[i] = tensorInfo{Layer: t.Layer, Index: t.Index, Shape: t.Shape}
	}
	return out
}

func graphModelOf(d *keras.Description) *graphModel {
	g := &graphModel{Name: d.Name, Class: d.Class, Chain: d.Chain, Inputs: tensors(d.Inputs), Outputs: tensors(d.Outputs),
		Params: count(d.Params), Layers: []graphLayerInfo{}}
	for _, l := range d.Layers {
		li := graphLayerInfo{Name: l.Name, Class: l.Class, OutputShapes: l.Outputs, Activation: l.Activation,
			Params: count(l.Params), Unsupported: l.Unsupported}
		for _, t := range l.Inbound {
			li.Inbound = append(li.Inbound, t.String())
		}
		if l.Calls > 1 {
			li.Calls = l.Calls
		}
		if l.Model != nil {
			li.Model = graphModelOf(l.Model)
		}
		g.Layers = append(g.Layers, li)
	}
	return g
}

func graphDescription(d *keras.Description) *graphInfo {
	return &graphInfo{graphModel: *graphModelOf(d)}
}

func paramText(p *int64) string {
	if p == nil {
		return "?"
	}
	return commas(int(*p))
}

func shapesText(ss [][]int) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = shapeString(s)
	}
	return strings.Join(parts, ", ")
}

func tensorsText(ts []tensorInfo) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		name := t.Layer
		if t.Index > 0 {
			name = fmt.Sprintf("%s[%d]", t.Layer, t.Index)
		}
		parts[i] = printable(name) + " " + shapeString(t.Shape)
	}
	return strings.Join(parts, ", ")
}

// printGraph prints gi as a table like printSummary's, with an Inbound
// column for the layers of functional models, nested models' layers
// indented under them.
func printGraph(w io.Writer, gi *graphInfo) {
	kind := printable(gi.Class)
	if !gi.Chain {
		kind += ", a graph"
	}
	// Names, classes and the format's producer come from the file: each
	// is quoted or passed through printable.
	fmt.Fprintf(w, "Model: %q (%s)\nFormat: %s\nInputs: %s\n\n", gi.Name, kind, printable(gi.Format), tensorsText(gi.Inputs))
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	header := "Layer (type)\tOutput Shape\tActivation\tParam #"
	if hasInbound(gi.Layers) {
		header += "\tInbound"
	}
	fmt.Fprintln(tw, header)
	unsupported, unknown := 0, false
	var subs []*graphLayerInfo
	var rows func([]graphLayerInfo, string)
	rows = func(ls []graphLayerInfo, indent string) {
		for i := range ls {
			li := &ls[i]
			mark := ""
			if li.Unsupported != "" {
				mark = " *"
				unsupported++
			}
			if li.Params == nil {
				unknown = true
			}
			in := printable(strings.Join(li.Inbound, ", "))
			if li.Calls > 1 {
				in += fmt.Sprintf(" (called %d times)", li.Calls)
			}
			fmt.Fprintf(tw, "%s%s (%s)%s\t%s\t%s\t%s\t%s\n", indent, printable(li.Name), printable(li.Class), mark, shapesText(li.OutputShapes), printable(li.Activation), paramText(li.Params), in)
			if li.Model != nil {
				subs = append(subs, li)
				rows(li.Model.Layers, indent+"  ")
			}
		}
	}
	rows(gi.Layers, "")
	tw.Flush()
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " ")) // no padding after the last column
	}
	fmt.Fprintln(w)
	if unsupported > 0 {
		fmt.Fprintf(w, unsupportedNote+"\n", unsupported)
	}
	if !allChains(&gi.graphModel) {
		fmt.Fprintln(w, "Not a chain (several inputs or outputs, branches or merges): predict and convert refuse the whole model; its parts run with --model NAME and --output LAYER.")
	}
	if unknown {
		fmt.Fprintln(w, "? the file holds no weights (an architecture alone): only Dense layers and layers without weights are counted.")
	}
	fmt.Fprintf(w, "Total params: %s\nOutputs: %s\n", paramText(gi.Params), tensorsText(gi.Outputs))
	if len(subs) > 0 {
		fmt.Fprintln(w, "Sub-models:")
		for _, li := range subs {
			m := li.Model
			name := printable(li.Name)
			how := "run alone with --model " + name
			if !allChains(m) || hasUnsupported(m) {
				how = "a part runs with --model " + name + " --output LAYER"
			}
			fmt.Fprintf(w, "  %s: %s → %s (%s params; %s)\n", name, tensorsText(m.Inputs), tensorsText(m.Outputs), paramText(m.Params), how)
		}
	}
}

// allChains tells whether m and its nested models are chains.
func allChains(m *graphModel) bool {
	if !m.Chain {
		return false
	}
	for _, l := range m.Layers {
		if l.Model != nil && !allChains(l.Model) {
			return false
		}
	}
	return true
}

// hasUnsupported tells whether m or its nested models hold a layer aekit
// cannot run.
func hasUnsupported(m *graphModel) bool {
	for _, l := range m.Layers {
		if l.Unsupported != "" || l.Model != nil && hasUnsupported(l.Model) {
			return true
		}
	}
	return false
}

// hasInbound tells whether a layer of ls, or of their nested models,
// lists inbound tensors (a functional model's layer).
func hasInbound(ls []graphLayerInfo) bool {
	for _, l := range ls {
		if len(l.Inbound) > 0 || l.Model != nil && hasInbound(l.Model.Layers) {
			return true
		}
	}
	return false
}
