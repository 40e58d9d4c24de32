package onnx

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// Info describes an ONNX file that Read decoded.
type Info struct {
	// Producer and ProducerVersion are the producer_name and
	// producer_version ("aekit", "pytorch", "tf2onnx", ...).
	Producer, ProducerVersion string
	// IRVersion is the file's IR version.
	IRVersion int64
	// Opset is the version of the default ("ai.onnx") operator set.
	Opset int64
	// Domain, ModelVersion and DocString are the model's fields of the
	// same names.
	Domain       string
	ModelVersion int64
	DocString    string
	// GraphName, InputName and OutputName name the graph and its input and
	// output.
	GraphName, InputName, OutputName string
	// Batch is the dim_param of the input's batch axis ("" if it has
	// none); BatchSize is the batch axis's fixed size, or 0 if symbolic.
	// aekit models take any batch size either way.
	Batch     string
	BatchSize int
	// Metadata holds the model's metadata_props.
	Metadata map[string]string
	// Check is the self-check data of an aekit-written file, or nil.
	Check *CheckData
	// ScoreOutputs names the anomaly outputs (reconstruction_error,
	// is_anomaly; see ScoreOutput) the graph has besides its output. Read
	// leaves them aside: the model is the graph up to OutputName.
	ScoreOutputs []string

	checkErr error
}

// Read decodes an ONNX model from r (see Unmarshal).
func Read(r io.Reader) (*runtime.Model, *Info, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	return Unmarshal(b)
}

// ReadFile decodes the named ONNX file (see Unmarshal) with the default
// limits of ReadOptions. Errors name the file. A name that is not a
// regular file (a FIFO, a device) is refused before it is read, with an
// error wrapping inputfile.ErrNotRegular.
func ReadFile(name string) (*runtime.Model, *Info, error) {
	return ReadFileOptions(name, nil)
}

// Unmarshal decodes an ONNX model (IR versions MinIRVersion to
// MaxIRVersion, default-domain opsets MinReadOpset to MaxOpset) into an
// aekit model.
//
// The graph must compute a chain: one float input with a batch axis first,
// one output. Nodes may come in any order. Gemm and MatMul with constant
// weights become Dense layers; Add, Sub, Mul and Div by constants right
// after one are folded into its kernel and bias; element-wise activations
// (Relu, LeakyRelu, Elu, Selu, Sigmoid, HardSigmoid, Tanh, Softplus,
// Softsign, Exp, Gelu, Mish, Clip with a lower bound of 0) and the
// expansions x·Sigmoid(x) (swish), x·Tanh(Softplus(x)) (mish),
// x/(1+Abs(x)) (softsign) and GELU's erf and tanh forms become activations of the preceding Dense
// layer or activation layers. So do the forms tf2onnx gives Keras's
// activations: Max/Min with scalar bounds (tf.clip_by_value) as Clip,
// ThresholdedRelu and x·[x > t] (relu with a threshold, also as tf.where's
// [x > t]·x + 0·Not(x > t)), relu's negative part Relu(Neg(x) + t),
// clip(α·x + β, 0, 1) (Keras 2's hard sigmoid), k·clip(x + b, 0, 1/k)
// (Keras 3's relu6(x + 3)/6) and ELU's α applied by a where ([x > 0]·elu(x)
// + α·elu(x)·Not(x > 0)). Softmax and LogSoftmax over the last axis
// (and, below opset 13, over all axes after the batch) become activation
// layers; Flatten and Reshape with a constant shape become Reshape layers;
// Identity, Dropout and Cast to float pass values through. Constants come
// from initializers (raw_data or typed fields; float, double, int64, int32
// or bool) and Constant nodes. Layers are named after nodes. Files written
// by aekit get their nested models and layer classes back.
//
// Errors wrap ErrFormat, ErrGraph, ErrUnsupportedOp, ErrUnsupportedOpset,
// ErrUnsupportedIRVersion, ErrUnsupportedType or ErrExternalData, and name
// the node, its op type and the opset where one is at fault. A model
// beyond the default limits of ReadOptions fails with ErrTooLarge before
// it is decoded.
func Unmarshal(b []byte) (*runtime.Model, *Info, error) {
	return UnmarshalOptions(b, nil)
}

func unmarshal(b []byte) (*runtime.Model, *Info, error) {
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return decode(&mp)
}

func decode(mp *pb.ModelProto) (*runtime.Model, *Info, error) {
	info := &Info{
		Producer: mp.GetProducerName(), ProducerVersion: mp.GetProducerVersion(),
		IRVersion: mp.GetIrVersion(), Domain: mp.GetDomain(), ModelVersion: mp.GetModelVersion(),
		DocString: mp.GetDocString(), Metadata: map[string]string{},
	}
	if mp.GetGraph() == nil {
		return nil, nil, fmt.Errorf("%w: no graph (not an ONNX model?)", ErrFormat)
	}
	if v := info.IRVersion; v < MinIRVersion || v > MaxIRVersion {
		return nil, nil, fmt.Errorf("%w %d: aekit reads IR versions %d to %d", ErrUnsupportedIRVersion, v, MinIRVersion, MaxIRVersion)
	}
	found := false
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			if found && o.GetVersion() != info.Opset {
				return nil, nil, fmt.Errorf("%w: default domain imported twice (%d and %d)", ErrFormat, info.Opset, o.GetVersion())
			}
			info.Opset, found = o.GetVersion(), true
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: the model imports no default (ai.onnx) opset", ErrUnsupportedOpset)
	}
	if info.Opset < MinReadOpset || info.Opset > MaxOpset {
		return nil, nil, fmt.Errorf("%w %d: aekit reads opsets %d to %d", ErrUnsupportedOpset, info.Opset, MinReadOpset, MaxOpset)
	}
	for _, p := range mp.GetMetadataProps() {
		info.Metadata[p.GetKey()] = p.GetValue()
	}
	info.Check, info.checkErr = parseCheck(info.Metadata)

	g := mp.GetGraph()
	info.GraphName = g.GetName()
	im := &importer{opset: info.Opset, info: info, consts: map[string]*tensor{}, vals: map[string]value{},
		names: map[string]bool{}}
	m, err := im.graph(g)
	if err != nil {
		return nil, nil, err
	}
	m.Name = g.GetName()
	if info.Producer == ProducerName {
		if s, ok := info.Metadata[MetaModel]; ok {
			if r := restructure(s, m); r != nil {
				m = r
			}
		}
	}
	m.InputName, m.OutputName = info.InputName, info.OutputName
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: the imported model is invalid: %w", ErrGraph, err)
	}
	return m, info, nil
}

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
}

func (im *importer) errNode(sentinel error, n *pb.NodeProto, format string, args ...any) error {
	return fmt.Errorf("%w: %s (%s, opset %d): %s", sentinel, im.nodeLabel(n), n.GetOpType(), im.opset, fmt.Sprintf(format, args...))
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
	return &runtime.Model{Input: input, Layers: im.fuse(im.layers)}, nil
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

// element-wise ops kept as expressions until their result is needed.
var exprOps = map[string]int{ // op → number of inputs it reads
	"Relu": 1, "Sigmoid": 1, "Tanh": 1, "LeakyRelu": 1, "Elu": 1, "Selu": 1, "Softplus": 1,
	"Softsign": 1, "HardSigmoid": 1, "Exp": 1, "Erf": 1, "Abs": 1, "Gelu": 1, "Mish": 1, "Clip": 3,
	"Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2, "Greater": 2, "Less": 2, "Where": 3, "Neg": 1,
	// as tf2onnx writes tf.clip_by_value, Keras's thresholded relu, and
	// tf.where on floats (c·a + Not(c)·b)
	"Min": 2, "Max": 2, "ThresholdedRelu": 1, "Not": 1,
}

func (im *importer) node(n *pb.NodeProto) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return im.errNode(ErrUnsupportedOp, n, "domain %q is not supported", d)
	}
	op := n.GetOpType()
	if len(n.GetOutput()) == 0 {
		return im.errNode(ErrFormat, n, "has no output")
	}
	for k, o := range n.GetOutput()[1:] {
		if o == "" {
			continue
		}
		if op != "Dropout" || k != 0 {
			return im.errNode(ErrUnsupportedOp, n, "has %d outputs; aekit reads single-output nodes", len(n.GetOutput()))
		}
	}
	if op == "Constant" {
		c, err := im.constant(n)
		if err != nil {
			return err
		}
		im.set(n, value{c: c})
		return nil
	}
	x, ok := im.in(n, 0)
	if !ok {
		return im.errNode(ErrGraph, n, "has no first input")
	}
	switch op {
	case "Identity":
		im.set(n, x)
		return nil
	case "Dropout":
		if v, ok := im.in(n, 2); ok {
			if v.c == nil {
				return im.errNode(ErrUnsupportedOp, n, "training_mode is computed")
			}
			if s, _ := v.c.scalar(); s != 0 {
				return im.errNode(ErrUnsupportedOp, n, "training_mode is true; aekit runs inference")
			}
		}
		im.set(n, x)
		return nil
	case "Cast":
		to := pb.TensorProto_DataType(attrInt(n, "to", 0))
		if x.c != nil && (to == pb.TensorProto_FLOAT || to == pb.TensorProto_DOUBLE) {
			im.set(n, value{c: &tensor{dims: x.c.dims, f: x.c.float()}})
			return nil
		}
		if x.c != nil && to == pb.TensorProto_INT64 && x.c.isInt {
			im.set(n, x)
			return nil
		}
		if to != pb.TensorProto_FLOAT {
			return im.errNode(ErrUnsupportedOp, n, "casts to %v; aekit computes in float", to)
		}
		im.set(n, x)
		return nil
	}
	if k, ok := exprOps[op]; ok {
		if (op == "Min" || op == "Max") && len(n.GetInput()) != 2 {
			return im.errNode(ErrUnsupportedOp, n, "has %d inputs; aekit reads %s of a tensor and a constant", len(n.GetInput()), op)
		}
		e := &expr{op: op, node: n}
		dyn := false
		for i := 0; i < k && i < len(n.GetInput()); i++ {
			v, ok := im.in(n, i)
			if !ok && i > 0 && op == "Clip" {
				e.args = append(e.args, value{})
				continue
			}
			if !ok {
				return im.errNode(ErrGraph, n, "input %d is missing", i)
			}
			dyn = dyn || v.e != nil
			e.args = append(e.args, v)
		}
		if len(e.args) < k && op != "Clip" {
			return im.errNode(ErrGraph, n, "has %d inputs, want %d", len(e.args), k)
		}
		if !dyn {
			return im.errNode(ErrUnsupportedOp, n, "computes on constants only; aekit does not fold constant subgraphs")
		}
		im.set(n, value{e: e})
		return nil
	}
	var err error
	switch op {
	case "Gemm", "MatMul":
		err = im.dense(n, x)
	case "Flatten":
		err = im.flatten(n, x)
	case "Reshape":
		err = im.reshape(n, x)
	case "Softmax", "LogSoftmax":
		err = im.softmax(n, x)
	default:
		return im.errNode(ErrUnsupportedOp, n, "aekit has no equivalent")
	}
	if err != nil {
		return err
	}
	im.set(n, value{e: im.head})
	return nil
}

func (im *importer) constant(n *pb.NodeProto) (*tensor, error) {
	if len(n.GetAttribute()) != 1 {
		return nil, im.errNode(ErrFormat, n, "has %d attributes, want 1", len(n.GetAttribute()))
	}
	a := n.GetAttribute()[0]
	switch a.GetName() {
	case "value":
		if a.GetT() == nil {
			return nil, im.errNode(ErrFormat, n, "value is not a tensor")
		}
		t, err := decodeTensor(a.GetT())
		if err != nil {
			return nil, fmt.Errorf("%s (Constant, opset %d): %w", im.nodeLabel(n), im.opset, err)
		}
		return t, nil
	case "value_float":
		return &tensor{f: []float32{a.GetF()}}, nil
	case "value_floats":
		return &tensor{dims: []int{len(a.GetFloats())}, f: a.GetFloats()}, nil
	case "value_int":
		return &tensor{i: []int64{a.GetI()}, isInt: true}, nil
	case "value_ints":
		return &tensor{dims: []int{len(a.GetInts())}, i: a.GetInts(), isInt: true}, nil
	}
	return nil, im.errNode(ErrUnsupportedOp, n, "attribute %q is not supported", a.GetName())
}

// layer appends l to the chain and makes it the chain's output.
func (im *importer) layer(n *pb.NodeProto, l *runtime.Layer, shape []int) {
	l.Name = im.layerName(n)
	im.layers = append(im.layers, l)
	im.shape = shape
	im.ver++
	im.head = &expr{op: "x", ver: im.ver}
}

func (im *importer) layerName(n *pb.NodeProto) string {
	name := strings.TrimPrefix(n.GetName(), "/")
	if name == "" {
		name = strings.ToLower(n.GetOpType())
	}
	return uniqueIn(im.names, name)
}

// dyn materialises a node's first input, which must be computed.
func (im *importer) dyn(n *pb.NodeProto, x value) error {
	if x.e == nil {
		return im.errNode(ErrUnsupportedOp, n, "first input %q is a constant", n.GetInput()[0])
	}
	_, err := im.mat(x, n)
	return err
}

func (im *importer) dense(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	if len(im.shape) != 1 {
		return im.errNode(ErrUnsupportedOp, n, "applies to a %d-D sample %v; aekit's Dense layers take flat samples (Flatten first)", len(im.shape), im.shape)
	}
	in := im.shape[0]
	w, ok := im.in(n, 1)
	if !ok || w.c == nil {
		return im.errNode(ErrUnsupportedOp, n, "weights are not a constant")
	}
	if w.c.isInt {
		return im.errNode(ErrUnsupportedType, n, "weights are integers")
	}
	if len(w.c.dims) != 2 {
		return im.errNode(ErrUnsupportedOp, n, "weights have shape %v; want a matrix", w.c.dims)
	}
	alpha, beta := float32(1), float32(1)
	transB := false
	if n.GetOpType() == "Gemm" {
		alpha, beta = attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
		if attrInt(n, "transA", 0) != 0 {
			return im.errNode(ErrUnsupportedOp, n, "transA=1 transposes the batch")
		}
		transB = attrInt(n, "transB", 0) != 0
	} else if len(n.GetInput()) != 2 {
		return im.errNode(ErrGraph, n, "has %d inputs, want 2", len(n.GetInput()))
	}
	rows, units := w.c.dims[0], w.c.dims[1]
	if transB {
		rows, units = units, rows
	}
	if rows != in || units == 0 {
		return im.errNode(ErrUnsupportedOp, n, "weights have shape %v (transB=%v) but the input has width %d", w.c.dims, transB, in)
	}
	l := &runtime.Layer{Type: runtime.Dense, Class: "Dense", In: in, Units: units, Kernel: make([]float32, in*units)}
	for i := 0; i < in; i++ {
		for j := 0; j < units; j++ {
			v := w.c.f[i*units+j]
			if transB {
				v = w.c.f[j*in+i]
			}
			l.Kernel[i*units+j] = alpha * v
		}
	}
	if c, ok := im.in(n, 2); ok && n.GetOpType() == "Gemm" {
		if c.c == nil {
			return im.errNode(ErrUnsupportedOp, n, "C is not a constant")
		}
		b, err := perUnit(c.c, units)
		if err != nil {
			return im.errNode(ErrUnsupportedOp, n, "C: %v", err)
		}
		l.Bias = make([]float32, units)
		for j := range b {
			l.Bias[j] = beta * b[j]
		}
	}
	im.layer(n, l, []int{units})
	return nil
}

// perUnit broadcasts a constant to one value per unit of a [batch, units]
// tensor, without changing its shape.
func perUnit(c *tensor, units int) ([]float32, error) {
	d := c.dims
	ok := len(d) <= 2
	for k, v := range d {
		if k == len(d)-1 {
			ok = ok && (v == 1 || v == units)
		} else {
			ok = ok && v == 1
		}
	}
	if !ok {
		return nil, fmt.Errorf("constant of shape %v does not broadcast to one value per unit of %d", d, units)
	}
	f := c.float()
	out := make([]float32, units)
	for j := range out {
		if len(f) == 1 {
			out[j] = f[0]
		} else {
			out[j] = f[j]
		}
	}
	return out, nil
}

func (im *importer) flatten(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	r := int64(len(im.shape) + 1)
	axis := attrInt(n, "axis", 1)
	if axis < 0 {
		axis += r
	}
	if axis != 1 {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor mixes samples; aekit flattens after the batch axis (axis 1)", attrInt(n, "axis", 1), r)
	}
	im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Flatten"}, []int{prod(im.shape)})
	return nil
}

func (im *importer) reshape(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	s, ok := im.in(n, 1)
	if !ok || s.c == nil || !s.c.isInt || len(s.c.dims) != 1 {
		return im.errNode(ErrUnsupportedOp, n, "shape is not a constant 1-D integer tensor")
	}
	t := s.c.i
	allowZero := attrInt(n, "allowzero", 0) != 0
	total := prod(im.shape)
	bad := func(why string) error {
		return im.errNode(ErrUnsupportedOp, n, "shape %v of a [batch %s] tensor: %s", t, dimsString(im.shape), why)
	}
	if len(t) < 2 {
		return bad("aekit keeps the batch axis")
	}
	switch {
	case t[0] == 0 && !allowZero:
	case t[0] == -1:
		for _, d := range t[1:] {
			if d <= 0 {
				return bad("the batch axis is -1, so the others must be known")
			}
		}
	case im.dims0 > 0 && t[0] == int64(im.dims0):
	default:
		return bad("the first dimension must keep the batch (0 or -1)")
	}
	shape := make([]int, len(t)-1)
	known, neg := 1, 0
	for k, d := range t[1:] {
		switch {
		case d == 0 && !allowZero && k+1 <= len(im.shape):
			d = int64(im.shape[k])
		case d == -1:
			neg++
		case d <= 0 || d > 1<<28:
			return bad("bad dimension")
		}
		shape[k] = int(d)
		if d > 0 {
			known *= int(d)
			if known > 1<<28 {
				return bad("too large")
			}
		}
	}
	if neg > 1 || (neg == 0 && known != total) || (neg == 1 && total%known != 0) {
		return bad("the number of values changes")
	}
	out := append([]int(nil), shape...)
	for k, d := range out {
		if d == -1 {
			out[k] = total / known
		}
	}
	im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Reshape", Shape: shape}, out)
	return nil
}

func (im *importer) softmax(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	f := runtime.Softmax
	if n.GetOpType() == "LogSoftmax" {
		f = runtime.LogSoftmax
	}
	r := int64(len(im.shape) + 1)
	def := int64(-1)
	if im.opset < 13 {
		def = 1
	}
	axis := attrInt(n, "axis", def)
	if axis < 0 {
		axis += r
	}
	if axis <= 0 || axis >= r {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor; aekit normalises within samples", attrInt(n, "axis", def), r)
	}
	last := axis == r-1
	if im.opset < 13 {
		// Softmax ≤ 12 normalises over all axes from axis on.
		last = last || prod(im.shape[axis-1:len(im.shape)-1]) == 1
		if !last && axis == 1 {
			shape := im.shape
			im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Flatten"}, []int{prod(shape)})
			im.layer(n, &runtime.Layer{Type: runtime.ActivationLayer, Class: "Activation", Act: runtime.Act(f)}, im.shape)
			im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Reshape", Shape: shape}, shape)
			return nil
		}
	}
	if !last {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor; aekit's softmax normalises the last axis", attrInt(n, "axis", def), r)
	}
	im.layer(n, &runtime.Layer{Type: runtime.ActivationLayer, Class: "Activation", Act: runtime.Act(f)}, im.shape)
	return nil
}

// mat turns a computed value into the chain's output, appending the
// layers its expression stands for, and returns the chain's output. user
// is the node that needs it (for errors).
func (im *importer) mat(v value, user *pb.NodeProto) (*expr, error) {
	e := v.e
	if e == nil {
		return nil, im.errNode(ErrUnsupportedOp, user, "needs a computed input, got a constant")
	}
	if e.mat != nil {
		e = e.mat
	}
	if e.op == "x" {
		if e.ver != im.ver {
			return nil, im.errNode(ErrUnsupportedOp, user, "reads a value the graph has moved past (the graph branches; aekit models are chains)")
		}
		return e, nil
	}
	act, inner, err := im.matchAct(e)
	if err != nil {
		return nil, err
	}
	if inner != nil {
		if _, err := im.mat(value{e: inner}, e.node); err != nil {
			return nil, err
		}
		im.layer(e.node, &runtime.Layer{Type: runtime.ActivationLayer, Class: "Activation", Act: act}, im.shape)
		e.mat = im.head
		return im.head, nil
	}
	if err := im.affine(e); err != nil {
		return nil, err
	}
	e.mat = im.head
	return im.head, nil
}

// affine folds Add, Sub, Mul or Div of a computed value and a constant
// into the Dense layer that computed the value.
func (im *importer) affine(e *expr) error {
	n := e.node
	switch e.op {
	case "Add", "Sub", "Mul", "Div":
	default:
		return im.errNode(ErrUnsupportedOp, n, "is not part of an activation aekit recognises")
	}
	a, b := e.args[0], e.args[1]
	if (a.e == nil) == (b.e == nil) {
		return im.errNode(ErrUnsupportedOp, n, "combines two computed tensors; aekit folds only constants into a Dense layer")
	}
	cLeft := a.e == nil
	c, x := b.c, a
	if cLeft {
		c, x = a.c, b
	}
	if _, err := im.mat(x, n); err != nil {
		return err
	}
	var d *runtime.Layer
	if len(im.layers) > 0 {
		d = im.layers[len(im.layers)-1]
	}
	if d == nil || d.Type != runtime.Dense || !d.Act.IsIdentity() {
		prev := "the input"
		if d != nil {
			prev = fmt.Sprintf("layer %q (%s)", d.Name, d.Type)
		}
		return im.errNode(ErrUnsupportedOp, n, "applies a constant to %s; aekit folds constants only into a preceding Gemm or MatMul", prev)
	}
	k, err := perUnit(c, d.Units)
	if err != nil {
		return im.errNode(ErrUnsupportedOp, n, "%v", err)
	}
	scale := make([]float32, d.Units)
	shift := make([]float32, d.Units)
	for j := range scale {
		scale[j] = 1
		switch {
		case e.op == "Add":
			shift[j] = k[j]
		case e.op == "Sub" && !cLeft:
			shift[j] = -k[j]
		case e.op == "Sub":
			scale[j], shift[j] = -1, k[j]
		case e.op == "Mul":
			scale[j] = k[j]
		case e.op == "Div" && !cLeft:
			scale[j] = 1 / k[j]
		default:
			return im.errNode(ErrUnsupportedOp, n, "divides a constant by a computed tensor")
		}
	}
	if d.Bias == nil && (e.op == "Add" || e.op == "Sub") {
		d.Bias = make([]float32, d.Units)
	}
	for i := 0; i < d.In; i++ {
		row := d.Kernel[i*d.Units : (i+1)*d.Units]
		for j := range row {
			row[j] *= scale[j]
		}
	}
	for j := range d.Bias {
		d.Bias[j] = d.Bias[j]*scale[j] + shift[j]
	}
	im.ver++
	im.head = &expr{op: "x", ver: im.ver}
	return nil
}

// fuse merges each activation layer into the Dense layer before it when
// that has no activation: always for foreign files, and for aekit files
// when the activation was the Dense layer's own (named dense/...).
func (im *importer) fuse(layers []*runtime.Layer) []*runtime.Layer {
	var out []*runtime.Layer
	for _, l := range layers {
		if k := len(out) - 1; k >= 0 && l.Type == runtime.ActivationLayer {
			d := out[k]
			if d.Type == runtime.Dense && d.Act.IsIdentity() && (im.fuseAll || strings.HasPrefix(l.Name, d.Name+"/")) {
				d.Act = l.Act
				continue
			}
		}
		out = append(out, l)
	}
	return out
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

// matchAct recognises an element-wise activation at the top of e and
// returns it with the expression it applies to; inner is nil if e is not
// an activation.
func (im *importer) matchAct(e *expr) (act runtime.Activation, inner *expr, err error) {
	n := e.node
	arg := func(k int) *expr {
		if k < len(e.args) {
			return e.args[k].e
		}
		return nil
	}
	unary := func(a runtime.Activation) (runtime.Activation, *expr, error) {
		if arg(0) == nil {
			return a, nil, im.errNode(ErrUnsupportedOp, n, "input is a constant")
		}
		return a, arg(0), nil
	}
	switch e.op {
	case "Relu":
		return unary(runtime.Activation{Func: runtime.ReLU})
	case "Sigmoid", "Tanh", "Softplus", "Softsign", "Exp", "Mish":
		f := map[string]runtime.Func{"Sigmoid": runtime.Sigmoid, "Tanh": runtime.Tanh, "Softplus": runtime.Softplus,
			"Softsign": runtime.Softsign, "Exp": runtime.Exponential, "Mish": runtime.Mish}[e.op]
		return unary(runtime.Activation{Func: f})
	case "LeakyRelu":
		return unary(runtime.Activation{Func: runtime.LeakyReLU, Alpha: attrFloat(n, "alpha", 0.01)})
	case "Elu":
		return unary(runtime.Activation{Func: runtime.ELU, Alpha: attrFloat(n, "alpha", 1)})
	case "HardSigmoid":
		return unary(runtime.Activation{Func: runtime.HardSigmoid, Alpha: attrFloat(n, "alpha", 0.2), Beta: attrFloat(n, "beta", 0.5)})
	case "Selu":
		a, g := attrFloat(n, "alpha", float32(runtime.SELUAlpha)), attrFloat(n, "gamma", float32(runtime.SELUScale))
		if !near(float64(a), runtime.SELUAlpha) || !near(float64(g), runtime.SELUScale) {
			return act, nil, im.errNode(ErrUnsupportedOp, n, "alpha %g and gamma %g differ from SELU's constants", a, g)
		}
		return unary(runtime.Activation{Func: runtime.SELU})
	case "Gelu":
		ap := "none"
		if a := attr(n, "approximate"); a != nil {
			ap = string(a.GetS())
		}
		if ap != "none" && ap != "tanh" {
			return act, nil, im.errNode(ErrUnsupportedOp, n, "approximate=%q", ap)
		}
		return unary(runtime.Activation{Func: runtime.GELU, Approximate: ap == "tanh"})
	case "ThresholdedRelu":
		return unary(runtime.Activation{Func: runtime.ReLU, Threshold: attrFloat(n, "alpha", 1)})
	case "Clip", "Min", "Max":
		return im.matchClip(e)
	case "Mul":
		if a, x, err := im.matchProduct(e); err != nil || x != nil {
			return a, x, err
		}
		if a, x, ok := im.matchHardSigmoid(e); ok {
			return a, x, nil
		}
	case "Add":
		if a, x, ok := matchWhereELU(e); ok {
			return a, x, nil
		}
		if t, x, ok := stepOf(e); ok {
			return runtime.Activation{Func: runtime.ReLU, Threshold: float32(t)}, x, nil
		}
	case "Div":
		// softsign x/(1+|x|), as torch.onnx.export writes it.
		if x := arg(0); x != nil {
			if d := addOne(arg(1)); d != nil && d.op == "Abs" && d.args[0].e == x {
				return runtime.Activation{Func: runtime.Softsign}, x, nil
			}
		}
	case "Where":
		if a, x, ok := im.matchReLU(e); ok {
			return a, x, nil
		}
	case "Sub":
		if a, x, ok := im.matchKerasReLU(e); ok {
			return a, x, nil
		}
	}
	return act, nil, nil
}

// matchKerasReLU recognises Keras's relu with a negative slope written term
// by term, as Write does: pos − α·Relu(t − x) (Relu(Neg(x)) when t is 0),
// where pos is Relu(x) or Where(x > t, x, 0), possibly inside Clip(·, 0, m).
func (im *importer) matchKerasReLU(e *expr) (runtime.Activation, *expr, bool) {
	none := runtime.Activation{}
	if len(e.args) != 2 || e.args[0].e == nil {
		return none, nil, false
	}
	d, k, ok := factors(e.args[1])
	if !ok || len(d) != 1 || d[0].op != "Relu" || d[0].args[0].e == nil {
		return none, nil, false
	}
	a := runtime.Activation{Func: runtime.ReLU, Alpha: float32(k)}
	var x *expr
	switch in := d[0].args[0].e; in.op {
	case "Neg":
		x = in.args[0].e
	case "Sub":
		t, ok := scalarOf(in.args[0])
		if !ok {
			return none, nil, false
		}
		a.Threshold, x = float32(t), in.args[1].e
	case "Add": // Neg(x) + t, as Keras writes relu(−x + t)
		for k := 0; k < 2; k++ {
			if t, ok := scalarOf(in.args[1-k]); ok && in.args[k].e != nil && in.args[k].e.op == "Neg" {
				a.Threshold, x = float32(t), in.args[k].e.args[0].e
			}
		}
		if x == nil {
			return none, nil, false
		}
	default:
		return none, nil, false
	}
	pos := e.args[0].e
	if pos.op == "Clip" || pos.op == "Min" || pos.op == "Max" {
		c, px, err := im.matchClip(pos)
		if err != nil || px == nil {
			return none, nil, false
		}
		switch c.Func {
		case runtime.ReLU6:
			a.Capped, a.MaxValue = true, 6
		case runtime.ReLU:
			a.Capped, a.MaxValue = c.Capped, c.MaxValue
		default:
			return none, nil, false
		}
		if c.Threshold != 0 { // matchClip took Clip(Where(x > t, x, 0)) apart
			return a, x, px == x && c.Threshold == a.Threshold
		}
		pos = px
	}
	switch {
	case pos.op == "Relu" && a.Threshold == 0 && pos.args[0].e == x:
	case pos == x && a.Threshold == 0 && a.Capped: // Clip(Relu(x), 0, m), Relu taken off by matchClip
	case pos.op == "ThresholdedRelu" || pos.op == "Mul" || pos.op == "Add":
		if t, px, ok := stepOf(pos); !ok || px != x || float32(t) != a.Threshold {
			return none, nil, false
		}
	case pos.op == "Where":
		p, px, ok := im.matchReLU(pos)
		if !ok || px != x || p.Alpha != 0 || p.Capped || p.Threshold != a.Threshold {
			return none, nil, false
		}
	default:
		return none, nil, false
	}
	return a, x, x != nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }

// scalarOf returns the value of a one-element constant.
func scalarOf(v value) (float64, bool) {
	if v.c == nil {
		return 0, false
	}
	return v.c.scalar()
}

func (im *importer) matchClip(e *expr) (runtime.Activation, *expr, error) {
	n := e.node
	lo, hi := math.Inf(-1), math.Inf(1)
	if e.op == "Min" || e.op == "Max" {
		x, l, h, err := im.minMax(e)
		if err != nil {
			return runtime.Activation{}, nil, err
		}
		e = &expr{op: "Clip", node: n, args: []value{{e: x}}}
		lo, hi = l, h
	} else if im.opset < 11 {
		lo = float64(attrFloat(n, "min", -math.MaxFloat32))
		hi = float64(attrFloat(n, "max", math.MaxFloat32))
	} else {
		for k, p := range []*float64{&lo, &hi} {
			v := value{}
			if k+1 < len(e.args) {
				v = e.args[k+1]
			}
			if v.c == nil && v.e == nil {
				continue
			}
			s, ok := scalarOf(v)
			if !ok {
				return runtime.Activation{}, nil, im.errNode(ErrUnsupportedOp, n, "bounds must be constant scalars")
			}
			*p = s
		}
	}
	x := e.args[0].e
	if x == nil {
		return runtime.Activation{}, nil, im.errNode(ErrUnsupportedOp, n, "input is a constant")
	}
	if lo == 0 && hi == 1 {
		// Keras 2's hard sigmoid: clip(α·x + β, 0, 1).
		if y, a, b, ok := affineOf(x); ok && (a != 1 || b != 0) {
			return runtime.Activation{Func: runtime.HardSigmoid, Alpha: float32(a), Beta: float32(b)}, y, nil
		}
	}
	if t, y, ok := stepOf(x); ok && lo == 0 {
		// Keras's capped relu with a threshold, as tf2onnx writes it:
		// clip(ThresholdedRelu(x), 0, m) or clip(x·[x > t], 0, m).
		return runtime.Activation{Func: runtime.ReLU, Threshold: float32(t), Capped: hi < math.MaxFloat32, MaxValue: float32(hi)}, y, nil
	}
	if lo == 0 && x.op == "Relu" && x.args[0].e != nil {
		// Clip(Relu(x), 0, m) = Clip(x, 0, m): Keras's relu(x, max_value=m)
		// as TensorFlow computes it.
		x = x.args[0].e
	}
	if lo == 0 && x.op == "Where" {
		// Keras's capped relu with a threshold: Clip(Where(x > t, x, 0), 0, m).
		if a, in, ok := im.matchReLU(x); ok && a.Alpha == 0 && !a.Capped {
			a.Capped, a.MaxValue = hi < math.MaxFloat32, float32(hi)
			return a, in, nil
		}
	}
	if lo != 0 {
		return runtime.Activation{}, nil, im.errNode(ErrUnsupportedOp, n, "lower bound %g; aekit represents Clip(0, max) (relu, relu6, capped relu)", lo)
	}
	switch {
	case hi >= math.MaxFloat32:
		return runtime.Activation{Func: runtime.ReLU}, x, nil
	case hi == 6:
		return runtime.Activation{Func: runtime.ReLU6}, x, nil
	}
	return runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: float32(hi)}, x, nil
}

// factors flattens a product (Mul, and Div by a scalar constant) into its
// computed factors and the product of its scalar constants; ok is false
// if a non-scalar constant takes part.
func factors(v value) (dyn []*expr, k float64, ok bool) {
	if v.e == nil {
		s, ok := scalarOf(v)
		return nil, s, ok
	}
	e := v.e
	switch e.op {
	case "Mul":
		d1, k1, ok1 := factors(e.args[0])
		d2, k2, ok2 := factors(e.args[1])
		return append(d1, d2...), k1 * k2, ok1 && ok2
	case "Div":
		if s, ok := scalarOf(e.args[1]); ok && e.args[0].e != nil {
			d, k1, ok1 := factors(e.args[0])
			return d, k1 / s, ok1
		}
	case "Pow":
		if s, ok := scalarOf(e.args[1]); ok && e.args[0].e != nil && (s == 2 || s == 3) {
			d := []*expr{e.args[0].e, e.args[0].e, e.args[0].e}
			return d[:int(s)], 1, true
		}
	}
	return []*expr{e}, 1, true
}

// addOne returns y if e is y + 1 (either order), else nil.
func addOne(e *expr) *expr {
	if e == nil || e.op != "Add" {
		return nil
	}
	for k := 0; k < 2; k++ {
		if s, ok := scalarOf(e.args[1-k]); ok && s == 1 && e.args[k].e != nil {
			return e.args[k].e
		}
	}
	return nil
}

// matchProduct recognises swish x·σ(x), mish x·tanh(softplus(x)) and
// GELU 0.5·x·(1+erf(x/√2)) or 0.5·x·(1+tanh(√(2/π)(x+0.044715x³))).
func (im *importer) matchProduct(e *expr) (runtime.Activation, *expr, error) {
	dyn, k, ok := factors(value{e: e})
	if !ok || len(dyn) != 2 {
		return runtime.Activation{}, nil, nil
	}
	for i := 0; i < 2; i++ {
		x, f := dyn[i], dyn[1-i]
		switch {
		case near(k, 1) && f.op == "Sigmoid" && f.args[0].e == x:
			return runtime.Activation{Func: runtime.Swish}, x, nil
		case near(k, 1) && f.op == "Tanh" && f.args[0].e != nil && f.args[0].e.op == "Softplus" && f.args[0].e.args[0].e == x:
			return runtime.Activation{Func: runtime.Mish}, x, nil
		case k == 1 && f.op == "Greater" && f.args[0].e == x:
			// Keras 3's relu with a threshold: x·cast(x > t).
			if t, ok := scalarOf(f.args[1]); ok {
				return runtime.Activation{Func: runtime.ReLU, Threshold: float32(t)}, x, nil
			}
		case near(k, 0.5):
			g := addOne(f)
			if g == nil || g.args[0].e == nil {
				continue
			}
			z, kz, ok := factors(g.args[0])
			if g.op == "Erf" && ok && len(z) == 1 && z[0] == x && near(kz, 1/math.Sqrt2) {
				return runtime.Activation{Func: runtime.GELU}, x, nil
			}
			if g.op == "Tanh" && ok && len(z) == 1 && near(kz, math.Sqrt(2/math.Pi)) && cubic(z[0], x) {
				return runtime.Activation{Func: runtime.GELU, Approximate: true}, x, nil
			}
		}
	}
	return runtime.Activation{}, nil, nil
}

// cubic reports whether e is x + 0.044715·x³.
func cubic(e, x *expr) bool {
	if e.op != "Add" {
		return false
	}
	for k := 0; k < 2; k++ {
		if e.args[k].e != x {
			continue
		}
		d, c, ok := factors(e.args[1-k])
		if ok && len(d) == 3 && d[0] == x && d[1] == x && d[2] == x && near(c, 0.044715) {
			return true
		}
	}
	return false
}

// matchReLU recognises the Where forms Write uses for Keras relu with a
// threshold and a cap: Where(x > t, x, α·(x−t)) and Where(x < m, r, m).
func (im *importer) matchReLU(e *expr) (runtime.Activation, *expr, bool) {
	cond := e.args[0].e
	if cond == nil || len(cond.args) != 2 {
		return runtime.Activation{}, nil, false
	}
	x := cond.args[0].e
	c, ok := scalarOf(cond.args[1])
	if x == nil || !ok {
		return runtime.Activation{}, nil, false
	}
	switch cond.op {
	case "Less":
		m, ok := scalarOf(e.args[2])
		r := e.args[1].e
		if !ok || m != c || r == nil {
			return runtime.Activation{}, nil, false
		}
		a := runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: float32(m)}
		switch {
		case r.op == "Relu" && r.args[0].e == x:
		case r.op == "LeakyRelu" && r.args[0].e == x:
			a.Alpha = attrFloat(r.node, "alpha", 0.01)
		case r.op == "Where":
			in, y, ok := im.matchReLU(r)
			if !ok || in.Capped || y != x {
				return runtime.Activation{}, nil, false
			}
			a.Alpha, a.Threshold = in.Alpha, in.Threshold
		default:
			return runtime.Activation{}, nil, false
		}
		return a, x, true
	case "Greater":
		if e.args[1].e != x {
			return runtime.Activation{}, nil, false
		}
		a := runtime.Activation{Func: runtime.ReLU, Threshold: float32(c)}
		if s, ok := scalarOf(e.args[2]); ok && s == 0 {
			return a, x, true
		}
		d, k, ok := factors(e.args[2])
		if !ok || len(d) != 1 || d[0].op != "Sub" || d[0].args[0].e != x {
			return runtime.Activation{}, nil, false
		}
		if t, ok := scalarOf(d[0].args[1]); !ok || t != c {
			return runtime.Activation{}, nil, false
		}
		a.Alpha = float32(k)
		return a, x, true
	}
	return runtime.Activation{}, nil, false
}

// minMax returns the input and bounds of Max(Min(x, hi), lo),
// Min(Max(x, lo), hi), Max(x, lo) or Min(x, hi) with constant scalar
// bounds, as tf2onnx writes tf.clip_by_value; a missing bound is infinite.
func (im *importer) minMax(e *expr) (x *expr, lo, hi float64, err error) {
	lo, hi = math.Inf(-1), math.Inf(1)
	for depth := 0; depth < 2 && (e.op == "Min" || e.op == "Max"); depth++ {
		var y *expr
		var c value
		switch {
		case e.args[0].e != nil && e.args[1].e == nil:
			y, c = e.args[0].e, e.args[1]
		case e.args[1].e != nil && e.args[0].e == nil:
			y, c = e.args[1].e, e.args[0]
		default:
			return nil, 0, 0, im.errNode(ErrUnsupportedOp, e.node, "combines two computed tensors; aekit reads %s of a tensor and a constant", e.op)
		}
		s, ok := scalarOf(c)
		if !ok {
			return nil, 0, 0, im.errNode(ErrUnsupportedOp, e.node, "bounds must be constant scalars")
		}
		if e.op == "Max" {
			if !math.IsInf(lo, -1) {
				break
			}
			lo = s
		} else {
			if !math.IsInf(hi, 1) {
				break
			}
			hi = s
		}
		x, e = y, y
	}
	return x, lo, hi, nil
}

// affineOf returns y, a and b if e is a·y + b with scalar constants a and
// b (either may be absent: a·y, y + b).
func affineOf(e *expr) (y *expr, a, b float64, ok bool) {
	if e == nil {
		return nil, 0, 0, false
	}
	if e.op == "Add" {
		for k := 0; k < 2; k++ {
			if s, ok := scalarOf(e.args[1-k]); ok && e.args[k].e != nil {
				d, a, ok := factors(e.args[k])
				if ok && len(d) == 1 {
					return d[0], a, s, true
				}
			}
		}
		return nil, 0, 0, false
	}
	if d, a, ok := factors(value{e: e}); ok && len(d) == 1 && d[0] != e {
		return d[0], a, 0, true
	}
	return nil, 0, 0, false
}

// stepOf returns t and x if e is x·[x > t]: ThresholdedRelu(x) with
// alpha t, x·Greater(x, t) (Keras 3's relu with a threshold), or
// tf.where(x > t, x, 0) as tf2onnx converts it: [x > t]·x + 0·Not(x > t).
func stepOf(e *expr) (t float64, x *expr, ok bool) {
	switch e.op {
	case "Add":
		if len(e.args) != 2 || e.args[0].e == nil || e.args[1].e == nil {
			return 0, nil, false
		}
		for i := 0; i < 2; i++ {
			t, x, ok := stepOf(e.args[i].e)
			if !ok || e.args[i].e.op != "Mul" {
				continue
			}
			d, k, ok := factors(e.args[1-i])
			if ok && k == 0 && len(d) == 1 && d[0].op == "Not" && d[0].args[0].e != nil && d[0].args[0].e.op == "Greater" && d[0].args[0].e.args[0].e == x {
				if u, ok := scalarOf(d[0].args[0].e.args[1]); ok && u == t {
					return t, x, true
				}
			}
		}
	case "ThresholdedRelu":
		return float64(attrFloat(e.node, "alpha", 1)), e.args[0].e, e.args[0].e != nil
	case "Mul":
		d, k, ok := factors(value{e: e})
		if !ok || len(d) != 2 || k != 1 {
			return 0, nil, false
		}
		for i := 0; i < 2; i++ {
			if g := d[1-i]; g.op == "Greater" && g.args[0].e == d[i] {
				if t, ok := scalarOf(g.args[1]); ok {
					return t, d[i], true
				}
			}
		}
	}
	return 0, nil, false
}

// matchHardSigmoid recognises Keras 3's hard sigmoid relu6(x + 3)/6,
// written k·clip(a·x + b, 0, h) with k·h = 1: HardSigmoid(k·a, k·b).
func (im *importer) matchHardSigmoid(e *expr) (runtime.Activation, *expr, bool) {
	d, k, ok := factors(value{e: e})
	if !ok || len(d) != 1 || k <= 0 {
		return runtime.Activation{}, nil, false
	}
	c := d[0]
	var in *expr
	lo, hi := math.Inf(-1), math.Inf(1)
	switch c.op {
	case "Min", "Max":
		x, l, h, err := im.minMax(c)
		if err != nil {
			return runtime.Activation{}, nil, false
		}
		in, lo, hi = x, l, h
	case "Clip":
		if im.opset < 11 || len(c.args) != 3 {
			return runtime.Activation{}, nil, false
		}
		l, ok1 := scalarOf(c.args[1])
		h, ok2 := scalarOf(c.args[2])
		if !ok1 || !ok2 {
			return runtime.Activation{}, nil, false
		}
		in, lo, hi = c.args[0].e, l, h
	default:
		return runtime.Activation{}, nil, false
	}
	if lo != 0 || !near(k*hi, 1) {
		return runtime.Activation{}, nil, false
	}
	y, a, b, ok := affineOf(in)
	if !ok {
		return runtime.Activation{}, nil, false
	}
	return runtime.Activation{Func: runtime.HardSigmoid, Alpha: float32(k * a), Beta: float32(k * b)}, y, true
}

// matchWhereELU recognises an ELU with a scale α on its negative side, as
// Keras writes elu(x, α) for α ≠ 1 (tf.where(x > 0, elu(x), α·elu(x)))
// and tf2onnx converts the where on floats: [x > 0]·elu(x) +
// α·elu(x)·Not(x > 0) (the casts to float are read as no-ops).
func matchWhereELU(e *expr) (runtime.Activation, *expr, bool) {
	if len(e.args) != 2 || e.args[0].e == nil || e.args[1].e == nil {
		return runtime.Activation{}, nil, false
	}
	for i := 0; i < 2; i++ {
		p, kp, ok1 := factors(e.args[i])
		q, kq, ok2 := factors(e.args[1-i])
		if !ok1 || !ok2 || len(p) != 2 || len(q) != 2 || kp != 1 {
			continue
		}
		for j := 0; j < 2; j++ {
			g, el := p[j], p[1-j]
			if g.op != "Greater" || el.op != "Elu" || g.args[0].e == nil || g.args[0].e != el.args[0].e {
				continue
			}
			if t, ok := scalarOf(g.args[1]); !ok || t != 0 {
				continue
			}
			for l := 0; l < 2; l++ {
				if q[l] == el && q[1-l].op == "Not" && q[1-l].args[0].e == g {
					return runtime.Activation{Func: runtime.ELU, Alpha: float32(kq) * attrFloat(el.node, "alpha", 1)}, el.args[0].e, true
				}
			}
		}
	}
	return runtime.Activation{}, nil, false
}
