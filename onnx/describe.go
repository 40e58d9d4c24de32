package onnx

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/inputfile"
	pb "github.com/aekit/aekit/internal/onnxpb"
)

// Description lists an ONNX graph as the file holds it, whether or not
// aekit can read it as a model: its inputs, outputs and nodes, the node
// the reader stops at marked with the reason.
type Description struct {
	// Name is the graph's name.
	Name string
	// Inputs and Outputs are the graph's (initializers left out).
	Inputs, Outputs []Value
	// Nodes are the graph's nodes in file order.
	Nodes []NodeDescription
	// Params counts the values of all initializers.
	Params int64
}

// Value is a named tensor of the graph and its shape as recorded: one
// entry per axis, a number or a symbolic name ("N"), "?" when unnamed;
// nil when the file records no shape.
type Value struct {
	Name  string
	Shape []string
}

// NodeDescription describes one node.
type NodeDescription struct {
	Name, Op string
	// Domain is the node's operator domain ("" for ai.onnx).
	Domain          string
	Inputs, Outputs []string
	// Params counts the values of the initializers among its inputs.
	Params int64
	// Unsupported is, for the node aekit's reader stops at, why; "" for
	// the others (the reader judges nodes in order and stops at the
	// first it cannot read: later nodes are not judged).
	Unsupported string
}

// DescribeFile describes the ONNX graph in the named file without
// importing it (aekit inspect on a file Read refuses for an operator):
// the limits of opt (nil: the defaults) apply as for ReadFileOptions, and
// a file that is not a well-formed ONNX model fails as Read fails. Errors
// name the file.
func DescribeFile(name string, opt *ReadOptions) (*Description, *Info, error) {
	b, err := inputfile.ReadFile(name, nil)
	if err != nil {
		return nil, nil, err
	}
	d, info, err := describe(b, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, info, nil
}

// Describe describes the ONNX graph read from r, as DescribeFile does a
// file's: at most 2 GiB (the protobuf limit) are read, and a larger input
// fails with ErrTooLarge.
func Describe(r io.Reader, opt *ReadOptions) (*Description, *Info, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDescribe+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxDescribe {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, maxDescribe)
	}
	return describe(b, opt)
}

// maxDescribe bounds the input Describe reads: 2 GiB, the protobuf limit.
const maxDescribe = 2 << 30

// describe describes the model in b, running the reader to find the node
// it stops at.
func describe(b []byte, opt *ReadOptions) (*Description, *Info, error) {
	_, _, rerr := UnmarshalOptions(b, opt)
	var ne *NodeError
	if rerr != nil && !errors.As(rerr, &ne) {
		return nil, nil, rerr // not a graph of nodes to list: malformed, limits, opset
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	info := &Info{Producer: mp.GetProducerName(), ProducerVersion: mp.GetProducerVersion(), IRVersion: mp.GetIrVersion(),
		Domain: mp.GetDomain(), ModelVersion: mp.GetModelVersion(), DocString: mp.GetDocString(), Metadata: map[string]string{}}
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			info.Opset = o.GetVersion()
		}
	}
	for _, p := range mp.GetMetadataProps() {
		info.Metadata[p.GetKey()] = p.GetValue()
	}
	g := mp.GetGraph()
	info.GraphName = g.GetName()
	d := &Description{Name: g.GetName()}
	sizes := map[string]int64{}
	for _, t := range g.GetInitializer() {
		n := int64(1)
		for _, x := range t.GetDims() {
			if x < 0 || x > maxElems || (x != 0 && n > maxElems/x) {
				return nil, nil, fmt.Errorf("%w: initializer %q has shape %v", ErrFormat, t.GetName(), t.GetDims())
			}
			n *= x
		}
		sizes[t.GetName()] = n
		d.Params += n // at most MaxInitializerBytes values in all
	}
	for _, v := range g.GetInput() {
		if _, ok := sizes[v.GetName()]; !ok {
			d.Inputs = append(d.Inputs, valueOf(v))
		}
	}
	for _, v := range g.GetOutput() {
		d.Outputs = append(d.Outputs, valueOf(v))
	}
	for i, n := range g.GetNode() {
		nd := NodeDescription{Name: n.GetName(), Op: n.GetOpType(), Domain: n.GetDomain(), Inputs: n.GetInput(), Outputs: n.GetOutput()}
		if nd.Name == "" {
			nd.Name = "#" + strconv.Itoa(i)
		}
		seen := map[string]bool{}
		for _, in := range n.GetInput() {
			if s, ok := sizes[in]; ok && !seen[in] {
				seen[in] = true
				nd.Params += s
			}
		}
		if ne != nil && ne.Index == i {
			nd.Unsupported = ne.Err.Error()
		}
		d.Nodes = append(d.Nodes, nd)
	}
	return d, info, nil
}

// valueOf reads a graph value's name and recorded shape.
func valueOf(v *pb.ValueInfoProto) Value {
	out := Value{Name: v.GetName()}
	tt := v.GetType().GetTensorType()
	if tt == nil || tt.GetShape() == nil {
		return out
	}
	out.Shape = []string{}
	for _, dim := range tt.GetShape().GetDim() {
		switch {
		case dim.GetDimParam() != "":
			out.Shape = append(out.Shape, dim.GetDimParam())
		case dim.GetDimValue() > 0:
			out.Shape = append(out.Shape, strconv.FormatInt(dim.GetDimValue(), 10))
		default:
			out.Shape = append(out.Shape, "?")
		}
	}
	return out
}
