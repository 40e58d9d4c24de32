package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/atomicfile"
	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/internal/version"
	"github.com/aekit/aekit/runtime"
)

// Opset limits and defaults, for the default ("ai.onnx") operator set.
const (
	// DefaultOpset is the opset Write targets when ExportOptions.Opset is 0.
	DefaultOpset = 13
	// MinOpset is the oldest opset Write targets: opset 11 made Clip's
	// bounds inputs and Gemm's C optional.
	MinOpset = 11
	// MaxOpset is the newest opset Write targets and Read accepts.
	MaxOpset = 21
	// MinReadOpset is the oldest opset Read accepts.
	MinReadOpset = 7
	// MinIRVersion and MaxIRVersion bound the IR versions Read accepts.
	MinIRVersion = 3
	MaxIRVersion = 10
)

// ProducerName is the producer_name of the models this package writes.
const ProducerName = "aekit"

// Default names of the graph input and output this package writes, for
// models that name neither (see Marshal).
const (
	InputName  = "input"
	OutputName = "output"
)

// irVersions maps an opset to the IR version tf2onnx writes with it
// (tf2onnx's OPSET_TO_IR_VERSION; the same as onnx.helper's table).
var irVersions = map[int]int64{
	1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 4, 9: 4, 10: 5, 11: 6,
	12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10,
}

// IRVersion returns the IR version written with opset, as tf2onnx does:
// 7 for opsets 12 to 14, 8 for 15 to 18, 9 for 19 and 20, 10 for 21. It
// returns 0 for opsets outside 1 to MaxOpset.
func IRVersion(opset int) int64 { return irVersions[opset] }

// ExportOptions tunes Write. The zero value (or a nil pointer) selects every
// default.
//
// Write exports the whole model it is given. To export part of a model,
// pass m.Until(name) (the model up to a layer, e.g. the encoder's codes) or
// m.Submodel(name) (a nested model alone, e.g. the decoder).
type ExportOptions struct {
	// Opset is the default-domain opset, MinOpset to MaxOpset; 0 means
	// DefaultOpset (13). GELU is written as the Gelu op from opset 20 and
	// Mish as the Mish op from opset 18; below, they are written as their
	// expansions (erf or tanh for GELU, x·tanh(softplus(x)) for Mish).
	Opset int
	// BatchName is the dim_param of the symbolic batch axis; "" means "N".
	BatchName string
	// BatchSize, if positive, fixes the batch axis to that many samples
	// instead of a symbolic one, for consumers that cannot take symbolic
	// dimensions. Zero means symbolic.
	BatchSize int
	// Checks is the number of self-check samples stored in the file's
	// metadata (see SelfCheck); 0 means 3, a negative number none.
	Checks int
	// Seed seeds the self-check inputs, uniform in [0, 1); the same seed
	// gives the same inputs.
	Seed uint64
	// ProducerVersion is written as producer_version; "" means aekit's
	// own version (see internal/version: the release, or "devel+REVISION").
	ProducerVersion string
	// DocString is the model's doc_string; "" means a one-line summary.
	DocString string
	// Score, when not nil, adds anomaly outputs after the model's output
	// (see ScoreOutput): reconstruction_error and, with a threshold,
	// is_anomaly. Read still reads such a file (see Info.ScoreOutputs).
	Score *ScoreOutput
	// FoldAffine folds a per-feature affine layer (BatchNormalization,
	// Normalization, Rescaling: runtime.Affine) that directly follows a
	// Dense layer without activation into that layer's Gemm, instead of
	// writing it as Mul and Add. The folded weights are rounded once
	// more, so outputs move by a few float32 ulps (measured on the
	// BatchNormalization test model: see TestKindsFold); Read then sees
	// one Dense layer. False (the default) keeps the layer.
	FoldAffine bool
	// SplitOutputs, when it names two or more outputs, splits the model's
	// output along its last axis into that many equal parts, written as
	// graph outputs of those names by one Split node after the last
	// layer: a VAE encoder's 2·L values become outputs "z_mean" and
	// "z_log_var" of L values each. The names must differ from each other
	// and from the input's. Not with Score; no self-check data is
	// stored. Read reads such a file as the model with the parts
	// concatenated (Info.SplitOutputs names them). Empty (the default)
	// writes the one output.
	SplitOutputs []string
	// Metadata holds extra metadata_props entries, written sorted by key
	// (for example a stored anomaly threshold, see package score). The
	// keys aekit.model and aekit.check.* are reserved.
	Metadata map[string]string
}

// Write writes m to w as an ONNX model (see Marshal).
func Write(w io.Writer, m *runtime.Model, opt *ExportOptions) error {
	b, err := Marshal(m, opt)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteFile writes m to the named file as an ONNX model. It writes a
// temporary file in the same directory and renames it, so the named file
// is either the complete new model or untouched.
func WriteFile(name string, m *runtime.Model, opt *ExportOptions) error {
	b, err := Marshal(m, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return atomicfile.WriteFile(name, b)
}

// Marshal returns m encoded as an ONNX model: one float input of shape
// [batch, m.Input...] with a symbolic batch axis, named m.InputName
// ("input" if empty), one output named m.OutputName, or else after the
// last layer ("output" if it has no name), as tf2onnx names a Keras
// model's tensors; float32 initializers in raw_data, Dense layers
// as Gemm with a 1-D bias (MatMul without a bias), each activation as its
// ONNX op or a short expansion, Flatten and Reshape layers as the ops of
// the same name; Identity layers (Dropout and the like) are folded away.
// Node names are layer names. The metadata carries self-check data and
// the layer structure (nested models, layer classes) so that Read restores
// it.
func Marshal(m *runtime.Model, opt *ExportOptions) ([]byte, error) {
	mp, err := encode(m, opt)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(mp)
}

func encode(m *runtime.Model, opt *ExportOptions) (*pb.ModelProto, error) {
	var o ExportOptions
	if opt != nil {
		o = *opt
	}
	if o.Opset == 0 {
		o.Opset = DefaultOpset
	}
	if o.Opset < MinOpset || o.Opset > MaxOpset {
		return nil, fmt.Errorf("%w %d: aekit writes opsets %d to %d", ErrUnsupportedOpset, o.Opset, MinOpset, MaxOpset)
	}
	if o.BatchName == "" {
		o.BatchName = "N"
	}
	if o.BatchSize < 0 {
		return nil, fmt.Errorf("%w: batch size %d", ErrExport, o.BatchSize)
	}
	if o.Checks == 0 {
		o.Checks = 3
	}
	if o.ProducerVersion == "" {
		o.ProducerVersion = version.String()
	}
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrExport)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExport, err)
	}

	b := &builder{
		opset:   o.Opset,
		g:       &pb.GraphProto{Name: m.Name},
		nodes:   map[string]bool{},
		tensors: map[string]bool{},
		consts:  map[float32]string{},
		fold:    o.FoldAffine,
	}
	if b.g.Name == "" {
		b.g.Name = "aekit"
	}
	inName, outName := graphNames(m)
	b.tensors[inName], b.tensors[outName] = true, true
	if err := checkSplit(o.SplitOutputs, inName, m, o.Score != nil); err != nil {
		return nil, err
	}
	for _, s := range o.SplitOutputs {
		b.tensors[s] = true
	}
	gen := 0
	st := b.structure(m, &gen)
	cur, err := b.model(m, inName, st)
	if err != nil {
		return nil, err
	}
	if len(o.SplitOutputs) > 0 {
		o.Checks = -1
	} else if cur == inName {
		b.g.Node = append(b.g.Node, &pb.NodeProto{Name: b.nodeName("identity"), OpType: "Identity",
			Input: []string{inName}, Output: []string{outName}})
	} else {
		for _, n := range b.g.Node {
			for i, s := range n.Output {
				if s == cur {
					n.Output[i] = outName
				}
			}
		}
	}
	batch := &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: o.BatchName}}
	if o.BatchSize > 0 {
		batch = &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(o.BatchSize)}}
	}
	b.g.Input = []*pb.ValueInfoProto{valueInfo(inName, batch, m.Input, "one row per sample")}
	b.g.Output = []*pb.ValueInfoProto{valueInfo(outName, batch, m.OutputShape(), "")}
	if len(o.SplitOutputs) > 0 {
		b.g.Output = b.split(cur, o.SplitOutputs, m.OutputShape(), batch)
	}
	if err := b.scoreOutputs(o.Score, m, batch); err != nil {
		return nil, err
	}
	b.g.DocString = fmt.Sprintf("%s: %d layers, %d parameters", b.g.Name, len(m.LayerNames()), m.Params())

	mp := &pb.ModelProto{
		IrVersion:       IRVersion(o.Opset),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: "", Version: int64(o.Opset)}},
		ProducerName:    ProducerName,
		ProducerVersion: o.ProducerVersion,
		ModelVersion:    1,
		DocString:       o.DocString,
		Graph:           b.g,
	}
	if mp.DocString == "" {
		mp.DocString = fmt.Sprintf("%s (%s) written by aekit: input %v, output %v, %d parameters",
			b.g.Name, m.Class, m.Input, m.OutputShape(), m.Params())
	}
	sj, err := st.marshal()
	if err != nil {
		return nil, err
	}
	mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{Key: MetaModel, Value: sj})
	if o.Checks > 0 {
		props, err := checkProps(m, o.Checks, o.Seed)
		if err != nil {
			return nil, err
		}
		mp.MetadataProps = append(mp.MetadataProps, props...)
	}
	extra, err := metadataProps(o.Metadata)
	if err != nil {
		return nil, err
	}
	mp.MetadataProps = append(mp.MetadataProps, extra...)
	return mp, nil
}

// checkSplit checks ExportOptions.SplitOutputs for m.
func checkSplit(names []string, in string, m *runtime.Model, score bool) error {
	if len(names) == 0 {
		return nil
	}
	shape := m.OutputShape()
	switch {
	case len(names) == 1:
		return fmt.Errorf("%w: SplitOutputs names one output; want two or more", ErrExport)
	case score:
		return fmt.Errorf("%w: SplitOutputs with Score", ErrExport)
	case len(shape) == 0 || shape[len(shape)-1]%len(names) != 0:
		return fmt.Errorf("%w: output shape %v does not split into %d equal parts", ErrExport, shape, len(names))
	}
	seen := map[string]bool{in: true}
	for _, n := range names {
		if n == "" || seen[n] {
			return fmt.Errorf("%w: SplitOutputs %q: names must be distinct, non-empty and not the input's %q", ErrExport, names, in)
		}
		seen[n] = true
	}
	return nil
}

// split adds a Split node of x along its last axis (of shape[...]) into
// equal parts named names and returns their graph outputs. The sizes
// are an input from opset 13, an attribute before.
func (b *builder) split(x string, names []string, shape []int, batch *pb.TensorShapeProto_Dimension) []*pb.ValueInfoProto {
	part := shape[len(shape)-1] / len(names)
	sizes := make([]int64, len(names))
	for i := range sizes {
		sizes[i] = int64(part)
	}
	axis := attrI("axis", int64(len(shape)))
	n := &pb.NodeProto{Name: b.nodeName("split"), OpType: "Split", Input: []string{x}, Output: names, Attribute: []*pb.AttributeProto{axis}}
	if b.opset >= 13 {
		s := b.tensorName("split/sizes")
		b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: s, Dims: []int64{int64(len(sizes))},
			DataType: int32(pb.TensorProto_INT64), Int64Data: sizes})
		n.Input = append(n.Input, s)
	} else {
		n.Attribute = append(n.Attribute, &pb.AttributeProto{Name: "split", Type: pb.AttributeProto_INTS, Ints: sizes})
	}
	b.g.Node = append(b.g.Node, n)
	out := make([]*pb.ValueInfoProto, len(names))
	ps := append(append([]int(nil), shape[:len(shape)-1]...), part)
	for i, name := range names {
		out[i] = valueInfo(name, batch, ps, "")
	}
	return out
}

// graphNames returns the names of the graph input and output, as tf2onnx
// names them for a Keras model: the input after m.InputName (Keras's
// InputLayer, e.g. "input_layer"), the output after m.OutputName or else
// the last layer (e.g. "dense_1"); InputName and OutputName when the
// model names none. The two names always differ.
func graphNames(m *runtime.Model) (in, out string) {
	in, out = m.InputName, m.OutputName
	if in == "" {
		in = InputName
	}
	if out == "" && len(m.Layers) > 0 {
		out = m.Layers[len(m.Layers)-1].Name
	}
	if out == "" || out == in {
		out = OutputName
		if out == in {
			out = OutputName + "_1"
		}
	}
	return in, out
}

func valueInfo(name string, batch *pb.TensorShapeProto_Dimension, shape []int, doc string) *pb.ValueInfoProto {
	dims := []*pb.TensorShapeProto_Dimension{batch}
	for _, d := range shape {
		dims = append(dims, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &pb.ValueInfoProto{Name: name, DocString: doc, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
		ElemType: int32(pb.TensorProto_FLOAT), Shape: &pb.TensorShapeProto{Dim: dims}}}}}
}

// builder accumulates a graph.
type builder struct {
	opset   int
	g       *pb.GraphProto
	nodes   map[string]bool // node names in use
	tensors map[string]bool // tensor names in use
	consts  map[float32]string
	fold    bool // ExportOptions.FoldAffine
	flat    bool // the layer being written has flat samples
}

func uniqueIn(used map[string]bool, s string) string {
	name := s
	for i := 1; used[name]; i++ {
		name = fmt.Sprintf("%s_%d", s, i)
	}
	used[name] = true
	return name
}

func (b *builder) nodeName(s string) string   { return uniqueIn(b.nodes, s) }
func (b *builder) tensorName(s string) string { return uniqueIn(b.tensors, s) }

// add appends a node called name computing op on in and returns the name
// of its output.
func (b *builder) add(op, name, doc string, in []string, attrs ...*pb.AttributeProto) string {
	n := &pb.NodeProto{Name: b.nodeName(name), OpType: op, Input: in, DocString: doc, Attribute: attrs}
	out := b.tensorName(name)
	n.Output = []string{out}
	b.g.Node = append(b.g.Node, n)
	return out
}

func f32Bytes(v []float32) []byte {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return buf
}

// initializer adds a float32 tensor stored in raw_data.
func (b *builder) initializer(name string, dims []int64, v []float32) string {
	name = b.tensorName(name)
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: name, Dims: dims,
		DataType: int32(pb.TensorProto_FLOAT), RawData: f32Bytes(v)})
	return name
}

// scalar returns the name of a 0-D float32 initializer holding v, shared
// by every node that uses the same value.
func (b *builder) scalar(v float32) string {
	if s, ok := b.consts[v]; ok && math.Signbit(float64(v)) == math.Signbit(float64(b.constValue(s))) {
		return s
	}
	s := b.initializer(fmt.Sprintf("const_%g", v), nil, []float32{v})
	b.consts[v] = s
	return s
}

func (b *builder) constValue(name string) float32 {
	for _, t := range b.g.Initializer {
		if t.Name == name {
			return math.Float32frombits(binary.LittleEndian.Uint32(t.RawData))
		}
	}
	return 0
}

func attrF(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_FLOAT, F: &v}
}

func attrI(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INT, I: &v}
}

func attrS(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_STRING, S: []byte(v)}
}

// model adds m's layers applied to the tensor x and returns the output
// tensor.
func (b *builder) model(m *runtime.Model, x string, st *structModel) (string, error) {
	shape := m.Input
	folded := false
	for i, l := range m.Layers {
		name := st.Layers[i].Name
		doc := layerDoc(l)
		in := shape
		shape = l.OutputShape(shape)
		if folded { // into the Dense layer before
			folded = false
			continue
		}
		switch l.Type {
		case runtime.Dense:
			kernel, biasv := l.Kernel, l.Bias
			if i+1 < len(m.Layers) {
				if kernel, biasv, folded = b.foldAffine(l, m.Layers[i+1]); folded {
					doc += "; " + layerDoc(m.Layers[i+1]) + " folded in"
				}
			}
			w := b.initializer(name+"/kernel", []int64{int64(l.In), int64(l.Units)}, kernel)
			if biasv != nil {
				bias := b.initializer(name+"/bias", []int64{int64(l.Units)}, biasv)
				x = b.add("Gemm", name, doc, []string{x, w, bias})
			} else {
				x = b.add("MatMul", name, doc, []string{x, w})
			}
			if !l.Act.IsIdentity() {
				an := name + "/" + l.Act.Func.String()
				var err error
				if x, err = b.act(x, l.Act, an, an, "activation "+l.Act.String()+" of layer "+name); err != nil {
					return "", fmt.Errorf("layer %q: %w", name, err)
				}
			}
		case runtime.ActivationLayer:
			if l.Act.IsIdentity() {
				continue
			}
			var err error
			if x, err = b.act(x, l.Act, name, name, doc); err != nil {
				return "", fmt.Errorf("layer %q: %w", name, err)
			}
		case runtime.Identity:
			// Folded away: Identity layers compute nothing at inference.
		case runtime.Reshape:
			if l.Shape == nil {
				x = b.add("Flatten", name, doc, []string{x}, attrI("axis", 1))
			} else {
				shape := []int64{0}
				for _, d := range l.Shape {
					shape = append(shape, int64(d))
				}
				s := b.tensorName(name + "/shape")
				b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: s, Dims: []int64{int64(len(shape))},
					DataType: int32(pb.TensorProto_INT64), Int64Data: shape})
				x = b.add("Reshape", name, doc, []string{x, s})
			}
		case runtime.SubModel:
			var err error
			if x, err = b.model(l.Sub, x, st.Layers[i].Model); err != nil {
				return "", err
			}
		case runtime.Other:
			var err error
			b.flat = len(in) == 1
			if x, err = b.kind(x, l, name, doc, in[len(in)-1]); err != nil {
				return "", err
			}
		default:
			return "", fmt.Errorf("%w: layer %q has type %v", ErrExport, name, l.Type)
		}
	}
	return x, nil
}

func layerDoc(l *runtime.Layer) string {
	s := l.Type.String()
	if l.Type == runtime.Other && l.Kind != nil {
		s = l.Kind.Class()
	}
	if l.Class != "" && l.Class != s {
		s = l.Class + " (" + s + ")"
	}
	switch l.Type {
	case runtime.Dense:
		s += fmt.Sprintf(" %d→%d, %s", l.In, l.Units, l.Act)
		if l.Bias == nil {
			s += ", no bias"
		}
	case runtime.ActivationLayer:
		s += " " + l.Act.String()
	case runtime.Reshape:
		if l.Shape != nil {
			s += fmt.Sprintf(" to %v", l.Shape)
		}
	}
	return "aekit layer " + l.Name + ": " + s
}

// act adds nodes computing a on x. Helper nodes are named prefix/Op; the
// last node is named final.
func (b *builder) act(x string, a runtime.Activation, prefix, final, doc string) (string, error) {
	one := func(op string, attrs ...*pb.AttributeProto) string {
		return b.add(op, final, doc, []string{x}, attrs...)
	}
	help := func(op string, in ...string) string {
		return b.add(op, prefix+"/"+op, "", in)
	}
	switch a.Func {
	case runtime.ReLU:
		switch {
		case !a.Capped && a.Alpha == 0 && a.Threshold == 0:
			return one("Relu"), nil
		case !a.Capped && a.Threshold == 0:
			return one("LeakyRelu", attrF("alpha", a.Alpha)), nil
		case a.Capped && a.Alpha == 0 && a.Threshold == 0:
			return b.add("Clip", final, doc, []string{x, b.scalar(0), b.scalar(a.MaxValue)}), nil
		}
		// Keras's relu term by term: the positive part x·[x > t] (Relu(x)
		// when t is 0), clipped to [0, max] when capped, minus
		// α·Relu(t − x).
		var pos string
		if a.Threshold == 0 {
			pos = help("Relu", x)
		} else {
			gt := help("Greater", x, b.scalar(a.Threshold))
			pos = b.add("Where", prefix+"/Where", "", []string{gt, x, b.scalar(0)})
		}
		last := a.Alpha == 0
		if a.Capped {
			if last {
				return b.add("Clip", final, doc, []string{pos, b.scalar(0), b.scalar(a.MaxValue)}), nil
			}
			pos = help("Clip", pos, b.scalar(0), b.scalar(a.MaxValue))
		}
		if last {
			return pos, nil // unreachable: covered by the cases above
		}
		var neg string
		if a.Threshold == 0 {
			neg = help("Neg", x)
		} else {
			neg = help("Sub", b.scalar(a.Threshold), x)
		}
		neg = b.add("Relu", prefix+"/Relu_neg", "", []string{neg})
		neg = help("Mul", neg, b.scalar(a.Alpha))
		return b.add("Sub", final, doc, []string{pos, neg}), nil
	case runtime.ReLU6:
		return b.add("Clip", final, doc, []string{x, b.scalar(0), b.scalar(6)}), nil
	case runtime.LeakyReLU:
		return one("LeakyRelu", attrF("alpha", a.Alpha)), nil
	case runtime.ELU:
		return one("Elu", attrF("alpha", a.Alpha)), nil
	case runtime.SELU:
		return one("Selu", attrF("alpha", float32(runtime.SELUAlpha)), attrF("gamma", float32(runtime.SELUScale))), nil
	case runtime.Sigmoid:
		return one("Sigmoid"), nil
	case runtime.HardSigmoid:
		return one("HardSigmoid", attrF("alpha", a.Alpha), attrF("beta", a.Beta)), nil
	case runtime.Tanh:
		return one("Tanh"), nil
	case runtime.Softmax:
		return one("Softmax", attrI("axis", -1)), nil
	case runtime.LogSoftmax:
		return one("LogSoftmax", attrI("axis", -1)), nil
	case runtime.Softplus:
		return one("Softplus"), nil
	case runtime.Softsign:
		return one("Softsign"), nil
	case runtime.Exponential:
		return one("Exp"), nil
	case runtime.Swish:
		s := help("Sigmoid", x)
		return b.add("Mul", final, doc, []string{x, s}), nil
	case runtime.GELU:
		if b.opset >= 20 {
			approx := "none"
			if a.Approximate {
				approx = "tanh"
			}
			return one("Gelu", attrS("approximate", approx)), nil
		}
		var inner string
		if a.Approximate {
			// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
			x2 := b.add("Mul", prefix+"/Square", "", []string{x, x})
			x3 := b.add("Mul", prefix+"/Cube", "", []string{x2, x})
			t := help("Mul", x3, b.scalar(0.044715))
			t = help("Add", x, t)
			t = help("Mul", t, b.scalar(float32(math.Sqrt(2/math.Pi))))
			inner = help("Tanh", t)
		} else {
			// 0.5·x·(1 + erf(x/√2)), as torch.onnx.export writes it.
			d := help("Div", x, b.scalar(float32(math.Sqrt2)))
			inner = help("Erf", d)
		}
		p := help("Add", inner, b.scalar(1))
		p = help("Mul", x, p)
		return b.add("Mul", final, doc, []string{p, b.scalar(0.5)}), nil
	case runtime.Mish:
		if b.opset >= 18 {
			return one("Mish"), nil
		}
		sp := help("Softplus", x)
		t := help("Tanh", sp)
		return b.add("Mul", final, doc, []string{x, t}), nil
	}
	return "", fmt.Errorf("%w: activation %v", ErrExport, a)
}
