package onnx

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/golden"
	pb "github.com/aekit/aekit/internal/onnxpb"
)

// goldenVersion pins producer_version in golden exports, which otherwise
// follows the build (internal/version).
const goldenVersion = "golden"

// TestGoldenExport dumps the graph Write produces for every conformance,
// extra and kind case (at the default opset, at opset 20 for the
// activations written differently there, and at opset 17 for the kinds:
// LayerNormalization's op) and compares the dumps with
// testdata/golden/export: a change to the exported graph shows in the
// diff. Accept an intended change with go test -run Golden -update.
func TestGoldenExport(t *testing.T) {
	opset20 := map[string]bool{"act_gelu": true, "act_gelu_tanh": true, "act_mish": true}
	opset17 := map[string]bool{}
	cases := allCases()
	for _, c := range kindCases(t) {
		cases, opset17[c.Name] = append(cases, c), true
	}
	for _, c := range cases {
		for _, opset := range []int{0, 17, 20} {
			if opset == 20 && !opset20[c.Name] || opset == 17 && !opset17[c.Name] {
				continue
			}
			name := c.Name
			if opset != 0 {
				name += fmt.Sprintf(".opset%d", opset)
			}
			t.Run(name, func(t *testing.T) {
				var got string
				b, err := Marshal(c.Model, &ExportOptions{Opset: opset, ProducerVersion: goldenVersion})
				if err != nil {
					got = "export error: " + err.Error() + "\n"
				} else if got, err = dumpModel(b); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join("testdata", "golden", "export", name+".txt"), []byte(got))
			})
		}
	}
}

// dumpModel prints an encoded ONNX model for people: the model's fields,
// the graph's inputs and outputs with their types, the initializers'
// names, types and shapes (values only for small ones), and the nodes in order with
// their inputs, outputs and attributes. Metadata is printed as keys with
// the value of MetaModel (the layer tree) and only the size of the
// self-check data, whose floats come from aekit's forward pass.
func dumpModel(b []byte) (string, error) {
	mp := &pb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return "", err
	}
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("ir_version: %d\nproducer: %s %s\n", mp.GetIrVersion(), mp.GetProducerName(), mp.GetProducerVersion())
	for _, o := range mp.GetOpsetImport() {
		p("opset: %q %d\n", o.GetDomain(), o.GetVersion())
	}
	if mp.GetDomain() != "" || mp.GetModelVersion() != 0 {
		p("domain: %q model_version: %d\n", mp.GetDomain(), mp.GetModelVersion())
	}
	p("doc: %q\n", mp.GetDocString())
	var meta []string
	for _, kv := range mp.GetMetadataProps() {
		if kv.GetKey() == MetaModel {
			meta = append(meta, fmt.Sprintf("meta %s: %s", kv.GetKey(), kv.GetValue()))
		} else {
			meta = append(meta, fmt.Sprintf("meta %s: (%d bytes)", kv.GetKey(), len(kv.GetValue())))
		}
	}
	sort.Strings(meta)
	for _, m := range meta {
		p("%s\n", m)
	}
	g := mp.GetGraph()
	p("graph %q doc %q\n", g.GetName(), g.GetDocString())
	for _, v := range g.GetInput() {
		p("  input %s: %s\n", v.GetName(), valueType(v.GetType()))
	}
	for _, v := range g.GetOutput() {
		p("  output %s: %s\n", v.GetName(), valueType(v.GetType()))
	}
	for _, v := range g.GetValueInfo() {
		p("  value_info %s: %s\n", v.GetName(), valueType(v.GetType()))
	}
	for _, in := range g.GetInitializer() {
		loc := ""
		if in.GetDataLocation() != pb.TensorProto_DEFAULT {
			loc = " " + in.GetDataLocation().String()
		}
		p("  initializer %s: %s %v%s %s\n", in.GetName(), pb.TensorProto_DataType(in.GetDataType()), in.GetDims(), loc, tensorValues(in))
	}
	for _, n := range g.GetNode() {
		dom := ""
		if n.GetDomain() != "" {
			dom = n.GetDomain() + "."
		}
		p("  node %q %s%s(%s) -> %s\n", n.GetName(), dom, n.GetOpType(), strings.Join(n.GetInput(), ", "), strings.Join(n.GetOutput(), ", "))
		for _, a := range n.GetAttribute() {
			p("    %s = %s\n", a.GetName(), attrValue(a))
		}
		if n.GetDocString() != "" {
			p("    doc %q\n", n.GetDocString())
		}
	}
	return w.String(), nil
}

// valueType prints a tensor type as "FLOAT [N, 784]".
func valueType(t *pb.TypeProto) string {
	tt := t.GetTensorType()
	if tt == nil {
		return fmt.Sprint(t)
	}
	var dims []string
	for _, d := range tt.GetShape().GetDim() {
		if d.GetDimParam() != "" {
			dims = append(dims, d.GetDimParam())
		} else {
			dims = append(dims, fmt.Sprint(d.GetDimValue()))
		}
	}
	return fmt.Sprintf("%s [%s]", pb.TensorProto_DataType(tt.GetElemType()), strings.Join(dims, ", "))
}

// attrValue prints an attribute's value by its type.
func attrValue(a *pb.AttributeProto) string {
	switch a.GetType() {
	case pb.AttributeProto_FLOAT:
		return fmt.Sprintf("%v (float)", a.GetF())
	case pb.AttributeProto_INT:
		return fmt.Sprintf("%d (int)", a.GetI())
	case pb.AttributeProto_STRING:
		return fmt.Sprintf("%q (string)", a.GetS())
	case pb.AttributeProto_FLOATS:
		return fmt.Sprintf("%v (floats)", a.GetFloats())
	case pb.AttributeProto_INTS:
		return fmt.Sprintf("%v (ints)", a.GetInts())
	case pb.AttributeProto_TENSOR:
		tp := a.GetT()
		return fmt.Sprintf("tensor %s %v %v", pb.TensorProto_DataType(tp.GetDataType()), tp.GetDims(), tensorValues(tp))
	}
	return fmt.Sprintf("(%s)", a.GetType())
}

// tensorValues prints a tensor's values when it has at most 16 (the
// constants of activations, Reshape's shape), or else their number.
func tensorValues(tp *pb.TensorProto) string {
	v, err := decodeTensor(tp)
	switch {
	case err != nil:
		return "(" + err.Error() + ")"
	case v.len() > 16:
		return fmt.Sprintf("(%d values)", v.len())
	case v.isInt:
		return fmt.Sprint(v.i)
	}
	return fmt.Sprint(v.f)
}
