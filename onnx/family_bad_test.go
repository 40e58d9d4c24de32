package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// TestKerasLayerNormPerturbed edits the tf2onnx LayerNormalization
// expansion of the family fixture tf2onnx_k3_ln so that it no longer
// computes a layer normalisation over the last axis, and checks that
// Read refuses each edit with ErrUnsupportedOp and a message saying what
// differs.
func TestKerasLayerNormPerturbed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(familyFixtureDir, "tf2onnx_k3_ln.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	// byOutput returns the node writing the output that ends with suffix
	// in the first LayerNormalization (layer_normalization_1/).
	byOutput := func(t *testing.T, mp *pb.ModelProto, suffix string) *pb.NodeProto {
		t.Helper()
		for _, n := range mp.GetGraph().GetNode() {
			for _, o := range n.GetOutput() {
				if strings.HasSuffix(o, "layer_normalization_1/"+suffix) {
					return n
				}
			}
		}
		t.Fatalf("no node writes .../layer_normalization_1/%s", suffix)
		return nil
	}
	init := func(t *testing.T, mp *pb.ModelProto, suffix string) *pb.TensorProto {
		t.Helper()
		for _, c := range mp.GetGraph().GetInitializer() {
			if strings.HasSuffix(c.GetName(), "layer_normalization_1/"+suffix) {
				return c
			}
		}
		t.Fatalf("no initializer .../layer_normalization_1/%s", suffix)
		return nil
	}
	setAxes := func(n *pb.NodeProto, axes ...int64) {
		for _, a := range n.GetAttribute() {
			if a.GetName() == "axes" {
				a.Ints = axes
			}
		}
	}
	cases := []editCase{
		{"mean over the batch axis", func(t *testing.T, mp *pb.ModelProto) {
			setAxes(byOutput(t, mp, "moments/mean:0"), 0)
		}, []string{"mean", "not over the last axis"}},
		{"mean over all axes", func(t *testing.T, mp *pb.ModelProto) {
			setAxes(byOutput(t, mp, "moments/mean:0"), 0, 1)
		}, []string{"mean", "not over the last axis"}},
		{"variance over the batch axis", func(t *testing.T, mp *pb.ModelProto) {
			setAxes(byOutput(t, mp, "moments/variance:0"), 0)
		}, []string{"variance", "not over the last axis"}},
		{"Abs for Sqrt", func(t *testing.T, mp *pb.ModelProto) {
			byOutput(t, mp, "Rsqrt:0").OpType = "Abs"
		}, []string{"Reciprocal(Sqrt("}},
		{"ε a vector", func(t *testing.T, mp *pb.ModelProto) {
			c := init(t, mp, "add/y:0")
			c.Dims, c.FloatData, c.RawData = []int64{2}, []float32{1e-3, 1e-3}, nil
		}, []string{"ε"}},
		{"γ of shape [2 3]", func(t *testing.T, mp *pb.ModelProto) {
			init(t, mp, "Reshape:0").Dims = []int64{2, 3}
		}, []string{"γ has shape [2 3]"}},
		{"β of shape [6 1]", func(t *testing.T, mp *pb.ModelProto) {
			init(t, mp, "Reshape_1:0").Dims = []int64{6, 1}
		}, []string{"β has shape [6 1]"}},
	}
	refuseEdits(t, raw, cases)
}

// TestUnitNormPerturbed edits aekit's UnitNormalization export
// (ReduceSumSquare, Max, Sqrt, Div) and checks that Read refuses a sum
// over another axis and another ε with ErrUnsupportedOp.
func TestUnitNormPerturbed(t *testing.T) {
	var model *runtime.Model
	for _, c := range kindCases(t) {
		if c.Name == "k_unit" {
			model = c.Model
		}
	}
	if model == nil {
		t.Fatal("no kind case k_unit")
	}
	b, err := Marshal(model, &ExportOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Unmarshal(b); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	edits := map[string]func(*pb.ModelProto){
		"sum over the batch axis": func(mp *pb.ModelProto) {
			for _, n := range mp.GetGraph().GetNode() {
				if n.GetOpType() == "ReduceSumSquare" {
					for _, a := range n.GetAttribute() {
						if a.GetName() == "axes" {
							a.Ints = []int64{0}
						}
					}
				}
			}
		},
		"ε 1e-12": func(mp *pb.ModelProto) {
			for _, n := range mp.GetGraph().GetNode() {
				if n.GetOpType() != "Max" {
					continue
				}
				for _, c := range mp.GetGraph().GetInitializer() {
					if c.GetName() == n.GetInput()[1] {
						c.FloatData, c.RawData = []float32{1e-12}, nil
					}
				}
			}
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			mp := &pb.ModelProto{}
			if err := proto.Unmarshal(b, mp); err != nil {
				t.Fatal(err)
			}
			edit(mp)
			_, _, err := Unmarshal(marshal(t, mp))
			if !errors.Is(err, ErrUnsupportedOp) {
				t.Fatalf("got %v, want ErrUnsupportedOp", err)
			}
			t.Log(err)
		})
	}
}

// TestTFKerasLayerNormPerturbed edits tf2onnx's forms of tf-keras's
// LayerNormalization in the family fixture tf2onnx_tk2_ln (opset 13): the
// fused form of its first layer (fusedLayerNorm) and the
// tf.nn.batch_normalization expansion of its second (matchKerasLayerNorm),
// so that they no longer compute a layer normalisation over the last
// axis, or compute it in another way, and checks that Read refuses each
// edit with ErrUnsupportedOp and a message saying what differs.
func TestTFKerasLayerNormPerturbed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(familyFixtureDir, "tf2onnx_tk2_ln.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Unmarshal(raw); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	const r = "ln/layer_normalization/Reshape:0" // the fused form's [1, rows, 6, 1]
	// node returns the node of type op whose first input is in0, or whose
	// name is in0 when in0 starts with "name:".
	node := func(t *testing.T, mp *pb.ModelProto, op, in0 string) *pb.NodeProto {
		t.Helper()
		for _, n := range mp.GetGraph().GetNode() {
			if n.GetOpType() != op {
				continue
			}
			if name, ok := strings.CutPrefix(in0, "name:"); ok && n.GetName() == name || len(n.GetInput()) > 0 && n.GetInput()[0] == in0 {
				return n
			}
		}
		t.Fatalf("no %s node reading %q", op, in0)
		return nil
	}
	initializer := func(t *testing.T, mp *pb.ModelProto, name string) *pb.TensorProto {
		t.Helper()
		for _, c := range mp.GetGraph().GetInitializer() {
			if c.GetName() == name {
				return c
			}
		}
		t.Fatalf("no initializer %q", name)
		return nil
	}
	setAttr := func(n *pb.NodeProto, name string, ints ...int64) {
		for _, a := range n.GetAttribute() {
			if a.GetName() == name {
				a.Ints = ints
			}
		}
	}
	// addConst adds an initializer and returns its name.
	addConst := func(mp *pb.ModelProto, name string, dims []int64, f []float32, i []int64) string {
		c := &pb.TensorProto{Name: name, Dims: dims, FloatData: f, Int64Data: i, DataType: int32(pb.TensorProto_FLOAT)}
		if i != nil {
			c.DataType = int32(pb.TensorProto_INT64)
		}
		mp.Graph.Initializer = append(mp.Graph.Initializer, c)
		return name
	}
	// insert adds the node op(inputs) writing out just before the node
	// before (keeping the graph sorted) and returns out.
	insert := func(mp *pb.ModelProto, before *pb.NodeProto, op, out string, attrs []*pb.AttributeProto, inputs ...string) string {
		g := mp.GetGraph()
		for k, n := range g.Node {
			if n == before {
				nn := &pb.NodeProto{Name: out, OpType: op, Input: inputs, Output: []string{out}, Attribute: attrs}
				g.Node = append(g.Node[:k], append([]*pb.NodeProto{nn}, g.Node[k:]...)...)
				return out
			}
		}
		panic("insert: node not in the graph")
	}
	bnNode := func(t *testing.T, mp *pb.ModelProto) *pb.NodeProto { return node(t, mp, "BatchNormalization", r) }
	toInt64 := []*pb.AttributeProto{{Name: "to", Type: pb.AttributeProto_INT, I: proto.Int64(int64(pb.TensorProto_INT64))}}
	cases := []editCase{
		// The fused form (tf-keras's first LayerNormalization, ε 1e-3).
		{"mean over axes 0 1 3", func(t *testing.T, mp *pb.ModelProto) {
			setAttr(node(t, mp, "ReduceMean", r), "axes", 0, 1, 3)
		}, []string{"fused LayerNormalization", "the mean", "axes [0 2 3]"}},
		{"variance over axes 0 2", func(t *testing.T, mp *pb.ModelProto) {
			setAttr(node(t, mp, "ReduceSumSquare", node(t, mp, "Sub", r).GetOutput()[0]), "axes", 0, 2)
		}, []string{"the variance", "axes [0 2 3]"}},
		{"Squeeze of axes 0 2", func(t *testing.T, mp *pb.ModelProto) {
			sq := node(t, mp, "Squeeze", node(t, mp, "ReduceMean", r).GetOutput()[0])
			sq.Input[1] = addConst(mp, "axes_0_2", []int64{2}, nil, []int64{0, 2})
		}, []string{"Squeeze", "axes [0 2 3]"}},
		{"ε added to the variance", func(t *testing.T, mp *pb.ModelProto) {
			bn := bnNode(t, mp)
			eps := addConst(mp, "eps", nil, []float32{1e-3}, nil)
			bn.Input[4] = insert(mp, bn, "Add", "var_eps", nil, bn.Input[4], eps)
			for _, a := range bn.GetAttribute() {
				if a.GetName() == "epsilon" {
					a.F = proto.Float32(0)
				}
			}
		}, []string{"the variance is not Div(ReduceSumSquare"}},
		{"ε added to the count", func(t *testing.T, mp *pb.ModelProto) {
			div := node(t, mp, "Div", node(t, mp, "ReduceSumSquare", node(t, mp, "Sub", r).GetOutput()[0]).GetOutput()[0])
			eps := addConst(mp, "eps", nil, []float32{1e-3}, nil)
			div.Input[1] = insert(mp, div, "Add", "count_eps", nil, div.Input[1], eps)
		}, []string{"the variance's count", `"count_eps" (Add)`}},
		{"first Reshape to [1 -1 3 1]", func(t *testing.T, mp *pb.ModelProto) {
			c := initializer(t, mp, node(t, mp, "Reshape", "ln/dense/Relu:0").GetInput()[1])
			c.Int64Data, c.RawData = []int64{1, -1, 3, 1}, nil
		}, []string{"first Reshape's shape [1 -1 3 1] is not [1 -1 6 1]"}},
		{"last Reshape to Shape(r)", func(t *testing.T, mp *pb.ModelProto) {
			last := node(t, mp, "Reshape", bnNode(t, mp).GetOutput()[0])
			rs := node(t, mp, "Shape", r).GetOutput()[0]
			last.Input[1] = insert(mp, last, "Cast", "r_shape", toInt64, rs)
		}, []string{"last Reshape's shape is [1 batch 6 1], not the input's [batch 6]"}},
		{"last Reshape to a constant [-1 2 3]", func(t *testing.T, mp *pb.ModelProto) {
			last := node(t, mp, "Reshape", bnNode(t, mp).GetOutput()[0])
			last.Input[1] = addConst(mp, "shape_2_3", []int64{3}, nil, []int64{-1, 2, 3})
		}, []string{"last Reshape's shape is [-1 2 3], not the input's [batch 6]"}},
		{"row count from the Dense's MatMul", func(t *testing.T, mp *pb.ModelProto) {
			node(t, mp, "Shape", "ln/dense/Relu:0").Input[0] = "ln/dense/MatMul:0"
		}, []string{"Shape of \"ln/dense/MatMul:0\", not of the normalised input"}},
		{"rows counted over two axes", func(t *testing.T, mp *pb.ModelProto) {
			sl := node(t, mp, "Slice", "name:ln/layer_normalization/strided_slice")
			sl.Input[2] = addConst(mp, "end_2", []int64{1}, nil, []int64{2})
		}, []string{"scale is not 1 per row", "[6·batch]"}},
		{"variance divided by the row count", func(t *testing.T, mp *pb.ModelProto) {
			ga := node(t, mp, "Gather", node(t, mp, "Shape", r).GetOutput()[0])
			ga.Input[1] = addConst(mp, "axis_1", []int64{1}, nil, []int64{1})
		}, []string{"the variance's count is batch (float), want the float 6"}},
		{"scale 2", func(t *testing.T, mp *pb.ModelProto) {
			c := initializer(t, mp, "ln/layer_normalization/ones/Const:0")
			c.FloatData, c.RawData = []float32{2}, nil
		}, []string{"scale is not 1 per row"}},
		{"B 1", func(t *testing.T, mp *pb.ModelProto) {
			c := initializer(t, mp, "ln/layer_normalization/zeros/Const:0")
			c.FloatData, c.RawData = []float32{1}, nil
		}, []string{"B is not 0 per row"}},
		{"training mode", func(t *testing.T, mp *pb.ModelProto) {
			bn := bnNode(t, mp)
			bn.Attribute = append(bn.Attribute, &pb.AttributeProto{Name: "training_mode", Type: pb.AttributeProto_INT, I: proto.Int64(1)})
		}, []string{"training_mode is on"}},
		// Bounds of the shape evaluation.
		{"count through 40 Casts", func(t *testing.T, mp *pb.ModelProto) {
			div := node(t, mp, "Div", node(t, mp, "ReduceSumSquare", node(t, mp, "Sub", r).GetOutput()[0]).GetOutput()[0])
			cast := node(t, mp, "Cast", "name:"+strings.TrimSuffix(div.GetInput()[1], ":0"))
			for k := range 40 {
				cast.Input[0] = insert(mp, cast, "Cast", fmt.Sprintf("cast_%d", k), toInt64, cast.Input[0])
			}
		}, []string{"the variance's count", "nested deeper than 32 nodes"}},
		{"rows from a Concat of 17 values", func(t *testing.T, mp *pb.ModelProto) {
			ex := node(t, mp, "Expand", "ln/layer_normalization/ones/Const:0")
			in := make([]string, 17)
			for k := range in {
				in[k] = ex.Input[1]
			}
			ex.Input[1] = insert(mp, ex, "Concat", "rows_17", []*pb.AttributeProto{{Name: "axis", Type: pb.AttributeProto_INT, I: proto.Int64(0)}}, in...)
		}, []string{"scale is not 1 per row", `"rows_17" (Concat) makes more than 16 values`}},
		// tf.nn.batch_normalization (its second, ε 1e-5).
		{"tf: mean over the batch axis", func(t *testing.T, mp *pb.ModelProto) {
			setAttr(node(t, mp, "ReduceMean", "ln/dense_1/BiasAdd:0"), "axes", 0)
		}, []string{"LayerNormalization expansion", "mean", "not over the last axis"}},
		{"tf: variance over the batch axis", func(t *testing.T, mp *pb.ModelProto) {
			setAttr(node(t, mp, "ReduceMean", "name:ln/layer_normalization_1/moments/variance"), "axes", 0)
		}, []string{"variance", "not over the last axis"}},
		{"tf: Abs for Sqrt", func(t *testing.T, mp *pb.ModelProto) {
			node(t, mp, "Sqrt", "name:ln/layer_normalization_1/batchnorm/Rsqrt").OpType = "Abs"
		}, []string{"Reciprocal(Sqrt("}},
		{"tf: ε a vector", func(t *testing.T, mp *pb.ModelProto) {
			c := initializer(t, mp, "ln/layer_normalization_1/batchnorm/add/y:0")
			c.Dims, c.FloatData, c.RawData = []int64{2}, []float32{1e-5, 1e-5}, nil
		}, []string{"ε"}},
		{"tf: β of shape [2 6]", func(t *testing.T, mp *pb.ModelProto) {
			initializer(t, mp, "ln/layer_normalization_1/batchnorm/ReadVariableOp:0").Dims = []int64{2, 6}
		}, []string{"β has shape [2 6]"}},
	}
	refuseEdits(t, raw, cases)
}

// editCase is an edit of a valid model that Read must refuse with
// ErrUnsupportedOp and a message containing each of want.
type editCase struct {
	name string
	edit func(*testing.T, *pb.ModelProto)
	want []string
}

// refuseEdits applies each case's edit to the model raw and checks that
// Unmarshal refuses the result as the case says.
func refuseEdits(t *testing.T, raw []byte, cases []editCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mp := &pb.ModelProto{}
			if err := proto.Unmarshal(raw, mp); err != nil {
				t.Fatal(err)
			}
			c.edit(t, mp)
			_, _, err := Unmarshal(marshal(t, mp))
			if !errors.Is(err, ErrUnsupportedOp) {
				t.Fatalf("got %v, want ErrUnsupportedOp", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			t.Log(err)
		})
	}
}

// TestUnitNormForms checks the UnitNormalization tf2onnx writes for
// tf-keras (tf.math.l2_normalize, ε 1e-12) and Keras 3 (a 10¹² cap on the
// inverse norm) come back with their ε, and that edits of either form
// (another axis, ε not a positive scalar, another cap) are refused with
// ErrUnsupportedOp.
func TestUnitNormForms(t *testing.T) {
	for name, want := range map[string]float32{"tf2onnx_tk2_unit": 1e-12, "tf2onnx_k3_unit": 0} {
		raw, err := os.ReadFile(filepath.Join(familyFixtureDir, name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		var un *runtime.UnitNormalization
		for _, l := range m.Layers {
			if u, ok := l.Kind.(*runtime.UnitNormalization); ok {
				un = u
			}
		}
		if un == nil || un.Epsilon != want {
			t.Errorf("%s: UnitNormalization %+v, want Epsilon %g", name, un, want)
		}
		// The constant after the sum: Max's ε (tf-keras) or Min's cap
		// (Keras 3), and the sum's axes.
		edited, bad := map[string][]float32{"tf2onnx_tk2_unit": {0, -1e-12}, "tf2onnx_k3_unit": {1e10, 1e13}}, []editCase{}
		setConst := func(mp *pb.ModelProto, opType string, v float32) {
			for _, n := range mp.GetGraph().GetNode() {
				if n.GetOpType() != opType {
					continue
				}
				for _, c := range mp.GetGraph().GetInitializer() {
					if c.GetName() == n.GetInput()[1] {
						c.FloatData, c.RawData = []float32{v}, nil
					}
				}
			}
		}
		which := map[string]string{"tf2onnx_tk2_unit": "Max", "tf2onnx_k3_unit": "Min"}[name]
		for _, v := range edited[name] {
			bad = append(bad, editCase{fmt.Sprintf("%s %s %g", name, which, v), func(t *testing.T, mp *pb.ModelProto) { setConst(mp, which, v) }, nil})
		}
		bad = append(bad, editCase{name + " sum over the batch axis", func(t *testing.T, mp *pb.ModelProto) {
			for _, n := range mp.GetGraph().GetNode() {
				if n.GetOpType() == "ReduceSum" {
					for _, c := range mp.GetGraph().GetInitializer() {
						if c.GetName() == n.GetInput()[1] {
							c.Int64Data, c.RawData = []int64{0}, nil
						}
					}
				}
			}
		}, nil})
		refuseEdits(t, raw, bad)
	}
}
