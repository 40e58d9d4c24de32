package onnx

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// value is a tensor during import: a constant, or a computed tensor
// described by an expression over the chain's current output.
type value struct {
	c *tensor
	e *expr
}

// expr is a computed tensor: the chain's output at version ver (op "x"),
// or an ONNX node applied to values.
type expr struct {
	op   string
	node *pb.NodeProto
	args []value
	ver  int
	mat  *expr // the chain output this expression was turned into
	ints bool  // an integer tensor computed from a shape (see shapeOps)
}

type importer struct {
	opset  int64
	info   *Info
	consts map[string]*tensor
	vals   map[string]value
	names  map[string]bool

	layers  []*runtime.Layer
	shape   []int // of one sample at the chain's output
	ver     int   // bumped whenever the chain's output changes
	head    *expr
	dims0   int // fixed batch size, 0 if symbolic
	fuseAll bool
	index   map[*pb.NodeProto]int // of each node in the graph, for messages
	affine1 *runtime.Layer        // the last Rescaling layer affineLayer made
	norm1   *runtime.Layer        // the last LayerNormalization matchLayerNorm made
}

func (im *importer) errNode(sentinel error, n *pb.NodeProto, format string, args ...any) error {
	ne := &NodeError{Index: -1, Err: fmt.Errorf("%w: %s (%s, opset %d): %s", sentinel, im.nodeLabel(n), n.GetOpType(), im.opset, fmt.Sprintf(format, args...))}
	if i, ok := im.index[n]; ok {
		ne.Index = i
	}
	return ne
}

// nodeLabel names a node in messages: node "name", or for a node without
// a name its index in the graph, never node "".
func (im *importer) nodeLabel(n *pb.NodeProto) string {
	if n.GetName() != "" {
		return fmt.Sprintf("node %q", n.GetName())
	}
	if i, ok := im.index[n]; ok {
		return fmt.Sprintf("unnamed node #%d", i)
	}
	return "an unnamed node"
}

// splitSource returns the input of the Split node whose outputs are the
// graph outputs outs, two or more in order, along axis -1 or 1 (the last
// axis of an aekit model's rows), or "" when there is none.
func splitSource(g *pb.GraphProto, outs []string) string {
	if len(outs) < 2 {
		return ""
	}
	for _, n := range g.GetNode() {
		if n.GetOpType() != "Split" || n.GetDomain() != "" || len(n.GetInput()) == 0 || !slices.Equal(n.GetOutput(), outs) {
			continue
		}
		axis := int64(0)
		for _, a := range n.GetAttribute() {
			if a.GetName() == "axis" {
				axis = a.GetI()
			}
		}
		if axis != -1 && axis != 1 {
			return ""
		}
		return n.GetInput()[0]
	}
	return ""
}

func (im *importer) graph(g *pb.GraphProto) (*runtime.Model, error) {
	for _, t := range g.GetInitializer() {
		if t.GetName() == "" {
			return nil, fmt.Errorf("%w: an initializer has no name", ErrFormat)
		}
		c, err := decodeTensor(t)
		if err != nil {
			return nil, err
		}
		im.consts[t.GetName()] = c
	}
	// The input: graph inputs that are not initializers.
	var in *pb.ValueInfoProto
	for _, v := range g.GetInput() {
		if _, ok := im.consts[v.GetName()]; ok {
			continue
		}
		if in != nil {
			return nil, fmt.Errorf("%w: graph has inputs %q and %q; aekit models have one", ErrGraph, in.GetName(), v.GetName())
		}
		in = v
	}
	if in == nil {
		return nil, fmt.Errorf("%w: graph has no input", ErrGraph)
	}
	// One output, besides the anomaly outputs aekit adds (left aside).
	var outs []string
	for _, o := range g.GetOutput() {
		if isScoreOutput(o.GetName()) && len(g.GetOutput()) > 1 {
			im.info.ScoreOutputs = append(im.info.ScoreOutputs, o.GetName())
			continue
		}
		outs = append(outs, o.GetName())
	}
	if src := splitSource(g, outs); src != "" {
		im.info.SplitOutputs = outs
		outs = []string{src}
	}
	if len(outs) != 1 {
		return nil, fmt.Errorf("%w: graph has %d outputs; aekit models have one", ErrGraph, len(g.GetOutput()))
	}
	out := outs[0]
	im.info.InputName, im.info.OutputName = in.GetName(), out
	input, err := im.input(in)
	if err != nil {
		return nil, err
	}
	im.shape = input
	im.head = &expr{op: "x"}
	im.vals[in.GetName()] = value{e: im.head}
	im.fuseAll = im.info.Producer != ProducerName

	order, err := im.sort(g, in.GetName(), out)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		if err := im.node(n); err != nil {
			return nil, err
		}
	}
	v, ok := im.vals[out]
	if !ok {
		return nil, fmt.Errorf("%w: graph output %q is not computed", ErrGraph, out)
	}
	if v.e == nil {
		return nil, fmt.Errorf("%w: graph output %q is a constant", ErrGraph, out)
	}
	if _, err := im.mat(v, &pb.NodeProto{Name: out, OpType: "graph output"}); err != nil {
		return nil, err
	}
	m := &runtime.Model{Input: input, Layers: im.fuse(im.layers)}
	if len(im.info.SplitOutputs) > 0 && len(m.OutputShape()) != 1 {
		return nil, fmt.Errorf("%w: outputs %q split a tensor of shape %v; aekit reads split rows only", ErrGraph, im.info.SplitOutputs, m.OutputShape())
	}
	return m, nil
}

// input checks the graph input's type and returns one sample's shape.
func (im *importer) input(v *pb.ValueInfoProto) ([]int, error) {
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return nil, fmt.Errorf("%w: input %q is not a tensor", ErrUnsupportedType, v.GetName())
	}
	if et := pb.TensorProto_DataType(tt.GetElemType()); et != pb.TensorProto_FLOAT {
		return nil, fmt.Errorf("%w: input %q has element type %v; aekit computes in float", ErrUnsupportedType, v.GetName(), et)
	}
	dims := tt.GetShape().GetDim()
	if tt.GetShape() == nil || len(dims) < 2 {
		return nil, fmt.Errorf("%w: input %q has shape %s; aekit needs a batch axis and known sample dimensions", ErrUnsupportedOp, v.GetName(), shapeString(tt.GetShape()))
	}
	switch d := dims[0].GetValue().(type) {
	case *pb.TensorShapeProto_Dimension_DimParam:
		im.info.Batch = d.DimParam
	case *pb.TensorShapeProto_Dimension_DimValue:
		if d.DimValue > 0 && d.DimValue <= maxElems {
			im.info.BatchSize = int(d.DimValue)
			im.dims0 = int(d.DimValue)
		}
	}
	shape := make([]int, 0, len(dims)-1)
	n := 1
	for _, d := range dims[1:] {
		dv := d.GetDimValue()
		if _, ok := d.GetValue().(*pb.TensorShapeProto_Dimension_DimValue); !ok || dv <= 0 || dv > 1<<28 || n*int(dv) > 1<<28 {
			return nil, fmt.Errorf("%w: input %q has shape %s; aekit needs known sample dimensions", ErrUnsupportedOp, v.GetName(), shapeString(tt.GetShape()))
		}
		n *= int(dv)
		shape = append(shape, int(dv))
	}
	return shape, nil
}

func shapeString(s *pb.TensorShapeProto) string {
	if s == nil {
		return "unknown"
	}
	parts := make([]string, len(s.GetDim()))
	for i, d := range s.GetDim() {
		switch v := d.GetValue().(type) {
		case *pb.TensorShapeProto_Dimension_DimValue:
			parts[i] = fmt.Sprint(v.DimValue)
		case *pb.TensorShapeProto_Dimension_DimParam:
			parts[i] = v.DimParam
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// sort checks that every node input is provided and returns, in
// dependency order, the nodes the output depends on.
func (im *importer) sort(g *pb.GraphProto, in, out string) ([]*pb.NodeProto, error) {
	nodes := g.GetNode()
	producer := map[string]int{}
	im.index = make(map[*pb.NodeProto]int, len(nodes))
	for i, n := range nodes {
		im.index[n] = i
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if _, ok := im.consts[o]; ok || o == in {
				return nil, im.errNode(ErrGraph, n, "output %q overwrites an initializer or the graph input", o)
			}
			if j, ok := producer[o]; ok {
				return nil, im.errNode(ErrGraph, n, "output %q is also produced by node %q", o, nodes[j].GetName())
			}
			producer[o] = i
		}
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, s := range n.GetInput() {
			if s == "" {
				continue
			}
			if j, ok := producer[s]; ok {
				indeg[i]++
				users[j] = append(users[j], i)
				continue
			}
			if _, ok := im.consts[s]; ok || s == in {
				continue
			}
			return nil, im.errNode(ErrGraph, n, "input %q is not produced by any node, initializer or graph input", s)
		}
	}
	var order []int
	for i := range nodes {
		if indeg[i] == 0 {
			order = append(order, i)
		}
	}
	for k := 0; k < len(order); k++ {
		for _, u := range users[order[k]] {
			if indeg[u]--; indeg[u] == 0 {
				order = append(order, u)
			}
		}
	}
	if len(order) < len(nodes) {
		for i, n := range nodes {
			if indeg[i] > 0 {
				return nil, im.errNode(ErrGraph, n, "is part of a cycle")
			}
		}
	}
	// Keep only what the output needs.
	need := make([]bool, len(nodes))
	stack := []string{out}
	seen := map[string]bool{}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		if j, ok := producer[s]; ok {
			need[j] = true
			stack = append(stack, nodes[j].GetInput()...)
		}
	}
	if _, ok := producer[out]; !ok && out != in {
		return nil, fmt.Errorf("%w: graph output %q is not produced by any node", ErrGraph, out)
	}
	var sorted []*pb.NodeProto
	for _, i := range order {
		if need[i] {
			sorted = append(sorted, nodes[i])
		}
	}
	return sorted, nil
}

// in returns the value of a node's k-th input; ok is false when the input
// is absent or empty (an omitted optional input).
func (im *importer) in(n *pb.NodeProto, k int) (value, bool) {
	if k >= len(n.GetInput()) || n.GetInput()[k] == "" {
		return value{}, false
	}
	s := n.GetInput()[k]
	if c, ok := im.consts[s]; ok {
		return value{c: c}, true
	}
	v, ok := im.vals[s]
	return v, ok
}

func attr(n *pb.NodeProto, name string) *pb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrFloat(n *pb.NodeProto, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func attrInt(n *pb.NodeProto, name string, def int64) int64 {
	if a := attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

// set records the value of a node's first output.
func (im *importer) set(n *pb.NodeProto, v value) {
	if len(n.GetOutput()) > 0 && n.GetOutput()[0] != "" {
		if v.c != nil {
			im.consts[n.GetOutput()[0]] = v.c
		} else {
			im.vals[n.GetOutput()[0]] = v
		}
	}
}

// restructure rebuilds the nested models recorded in an aekit file's
// MetaModel entry around the imported layers. It returns nil if the
// record does not match them.
func restructure(s string, flat *runtime.Model) *runtime.Model {
	var st structModel
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil
	}
	pos := 0
	m, ok := rebuild(&st, flat.Layers, &pos, 0)
	if !ok || pos != len(flat.Layers) || prod(m.Input) != prod(flat.Input) || len(m.Input) != len(flat.Input) {
		return nil
	}
	for i := range m.Input {
		if m.Input[i] != flat.Input[i] {
			return nil
		}
	}
	m.Name = flat.Name
	if m.Validate() != nil {
		return nil
	}
	return m
}

func rebuild(st *structModel, flat []*runtime.Layer, pos *int, depth int) (*runtime.Model, bool) {
	if st == nil || depth > 64 {
		return nil, false
	}
	m := &runtime.Model{Name: st.Name, Class: st.Class, Input: st.Input}
	for _, sl := range st.Layers {
		var l *runtime.Layer
		next := func() *runtime.Layer {
			if *pos < len(flat) && flat[*pos].Name == sl.Name && flat[*pos].Type.String() == sl.Type {
				*pos++
				return flat[*pos-1]
			}
			return nil
		}
		switch sl.Type {
		case runtime.SubModel.String():
			sub, ok := rebuild(sl.Model, flat, pos, depth+1)
			if !ok {
				return nil, false
			}
			l = &runtime.Layer{Name: sl.Name, Type: runtime.SubModel, Sub: sub}
		case runtime.Identity.String():
			l = &runtime.Layer{Name: sl.Name, Type: runtime.Identity, Rate: sl.Rate}
		case runtime.ActivationLayer.String():
			if l = next(); l == nil { // a linear activation, written as nothing
				l = &runtime.Layer{Name: sl.Name, Type: runtime.ActivationLayer}
			}
		default:
			if l = next(); l == nil {
				return nil, false
			}
		}
		l.Class = sl.Class
		m.Layers = append(m.Layers, l)
	}
	return m, true
}
