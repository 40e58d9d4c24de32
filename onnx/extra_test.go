package onnx

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/conformance"
	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// extraCases covers export paths the conformance suite does not reach:
// every form of Keras relu (threshold, slope and cap together, which
// needs Where), Flatten and Reshape layers with a softmax over the last
// axis of a 2-D sample, and a model with no layers.
func extraCases() []conformance.Case {
	r := rand.New(rand.NewPCG(5, 6))
	dense := func(name string, in, units int, act runtime.Activation, bias bool) *runtime.Layer {
		l := &runtime.Layer{Name: name, Type: runtime.Dense, Class: "Dense", In: in, Units: units, Act: act, Kernel: make([]float32, in*units)}
		for i := range l.Kernel {
			l.Kernel[i] = float32(r.Float64()*1.2 - 0.6)
		}
		if bias {
			l.Bias = make([]float32, units)
			for i := range l.Bias {
				l.Bias[i] = float32(r.Float64()*0.4 - 0.2)
			}
		}
		return l
	}
	var cs []conformance.Case
	add := func(m *runtime.Model, n int) {
		x := make([]float32, n*m.InputWidth())
		for i := range x {
			x[i] = float32(r.Float64())
		}
		cs = append(cs, conformance.Case{Name: m.Name, Model: m, X: x, N: n, Want: conformance.Reference(m, x, n)})
	}
	relus := map[string]runtime.Activation{
		"relu_all":          {Func: runtime.ReLU, Alpha: 0.1, Threshold: 0.2, Capped: true, MaxValue: 0.7},
		"relu_leaky_capped": {Func: runtime.ReLU, Alpha: 0.1, Capped: true, MaxValue: 0.7},
		"relu_cap_negative": {Func: runtime.ReLU, Capped: true, MaxValue: -0.1},
		"relu_threshold":    {Func: runtime.ReLU, Threshold: 0.3},
		"relu_slope_one":    {Func: runtime.ReLU, Alpha: 1, Threshold: 0.3},
		"relu_capped_th":    {Func: runtime.ReLU, Threshold: 0.3, Capped: true, MaxValue: 0.6},
	}
	for _, name := range []string{"relu_all", "relu_leaky_capped", "relu_cap_negative", "relu_threshold", "relu_slope_one", "relu_capped_th"} {
		add(&runtime.Model{Name: "x_" + name, Input: []int{6}, Layers: []*runtime.Layer{dense("dense", 6, 5, relus[name], true)}}, 7)
	}
	add(&runtime.Model{Name: "x_reshape", Class: "Sequential", Input: []int{2, 6}, Layers: []*runtime.Layer{
		{Name: "flatten", Type: runtime.Reshape, Class: "Flatten"},
		dense("dense", 12, 6, runtime.Act(runtime.Tanh), true),
		{Name: "reshape", Type: runtime.Reshape, Class: "Reshape", Shape: []int{2, 3}}, // not {2, -1}: conformance.Reference keeps the -1 (see report)
		{Name: "softmax", Type: runtime.ActivationLayer, Class: "Softmax", Act: runtime.Act(runtime.Softmax)},
		{Name: "flatten_1", Type: runtime.Reshape, Class: "Flatten"},
		dense("dense_1", 6, 4, runtime.Activation{}, false),
	}}, 5)
	add(&runtime.Model{Name: "x_empty", Input: []int{3}}, 2)
	return cs
}

// allCases is what the interop tests export: the conformance suite and
// extraCases.
func allCases() []conformance.Case { return append(conformance.Cases(), extraCases()...) }

func TestExtraRoundTrip(t *testing.T) {
	for _, opset := range opsets {
		for _, c := range extraCases() {
			b, err := Marshal(c.Model, &ExportOptions{Opset: opset})
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			m, _, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("%s opset %d: %v", c.Name, opset, err)
			}
			if err := sameStructure(m, c.Model); err != nil {
				t.Errorf("%s opset %d: %v", c.Name, opset, err)
			}
			got, err := m.Predict(nil, c.X)
			if err != nil {
				t.Fatal(err)
			}
			if err := conformance.Compare(got, c.Want, 0, 0); err != nil {
				t.Errorf("%s opset %d: %v", c.Name, opset, err)
			}
		}
	}
}

// TestExportGraph checks the form of what Write produces.
func TestExportGraph(t *testing.T) {
	opTypes := func(mp *pb.ModelProto) string {
		var s []string
		for _, n := range mp.Graph.Node {
			s = append(s, n.OpType)
		}
		return strings.Join(s, " ")
	}
	acts := conformance.Activations()
	for _, tc := range []struct {
		act   string
		opset int
		ops   string
	}{
		{"relu", 13, "Gemm Relu"},
		{"relu6", 13, "Gemm Clip"},
		{"relu_capped", 13, "Gemm Clip"},
		{"relu_leaky_threshold", 13, "Gemm Greater Where Sub Relu Mul Sub"},
		{"leaky_relu", 13, "Gemm LeakyRelu"},
		{"selu", 13, "Gemm Selu"},
		{"hard_sigmoid_keras3", 13, "Gemm HardSigmoid"},
		{"swish", 13, "Gemm Sigmoid Mul"},
		{"gelu", 13, "Gemm Div Erf Add Mul Mul"},
		{"gelu", 19, "Gemm Div Erf Add Mul Mul"},
		{"gelu", 20, "Gemm Gelu"},
		{"gelu_tanh", 13, "Gemm Mul Mul Mul Add Mul Tanh Add Mul Mul"},
		{"gelu_tanh", 21, "Gemm Gelu"},
		{"mish", 17, "Gemm Softplus Tanh Mul"},
		{"mish", 18, "Gemm Mish"},
		{"softmax", 11, "Gemm Softmax"},
		{"linear", 13, "Gemm"},
	} {
		m := caseModel(t, "act_"+tc.act)
		mp, err := encode(m, &ExportOptions{Opset: tc.opset})
		if err != nil {
			t.Fatal(err)
		}
		if got := opTypes(mp); got != tc.ops {
			t.Errorf("%s at opset %d: ops %q, want %q", tc.act, tc.opset, got, tc.ops)
		}
		a := acts[tc.act]
		for _, n := range mp.Graph.Node {
			for _, at := range n.Attribute {
				switch {
				case n.OpType == "HardSigmoid" && at.Name == "alpha" && at.GetF() != a.Alpha,
					n.OpType == "HardSigmoid" && at.Name == "beta" && at.GetF() != a.Beta,
					n.OpType == "Selu" && at.Name == "alpha" && at.GetF() != float32(runtime.SELUAlpha),
					n.OpType == "Softmax" && at.Name == "axis" && at.GetI() != -1:
					t.Errorf("%s: %s %s = %v", tc.act, n.OpType, at.Name, at)
				}
			}
		}
	}

	mp, err := encode(caseModel(t, "deep_nested"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if mp.IrVersion != 7 || mp.OpsetImport[0].Version != 13 || mp.ProducerName != "aekit" || mp.ProducerVersion == "" || mp.DocString == "" {
		t.Errorf("model fields: ir %d opset %v producer %q %q doc %q", mp.IrVersion, mp.OpsetImport, mp.ProducerName, mp.ProducerVersion, mp.DocString)
	}
	in := mp.Graph.Input[0].Type.GetTensorType()
	if in.ElemType != int32(pb.TensorProto_FLOAT) || in.Shape.Dim[0].GetDimParam() != "N" || in.Shape.Dim[1].GetDimValue() != 784 {
		t.Errorf("input %v", in)
	}
	var names []string
	for _, n := range mp.Graph.Node {
		names = append(names, n.Name)
		if n.DocString == "" {
			t.Errorf("node %q has no doc string", n.Name)
		}
	}
	if got := strings.Join(names, " "); got != "enc_1 enc_1/relu enc_2 enc_2/relu enc_3 enc_3/relu dec_1 dec_1/relu dec_2 dec_2/relu dec_3 dec_3/sigmoid" {
		t.Errorf("node names %q", got)
	}
	for _, init := range mp.Graph.Initializer {
		if init.DataType != int32(pb.TensorProto_FLOAT) || len(init.RawData) == 0 || len(init.FloatData) != 0 {
			t.Errorf("initializer %q: type %d, %d raw bytes, %d float_data", init.Name, init.DataType, len(init.RawData), len(init.FloatData))
		}
		if strings.HasSuffix(init.Name, "/bias") && len(init.Dims) != 1 {
			t.Errorf("bias %q has dims %v", init.Name, init.Dims)
		}
	}
	mp, err = encode(caseModel(t, "seed"), &ExportOptions{BatchName: "batch", BatchSize: 0, Checks: -1})
	if err != nil {
		t.Fatal(err)
	}
	if d := mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[0].GetDimParam(); d != "batch" {
		t.Errorf("batch name %q", d)
	}
	for _, p := range mp.MetadataProps {
		if strings.HasPrefix(p.Key, "aekit.check") {
			t.Errorf("Checks: -1 wrote %s", p.Key)
		}
	}
}

// TestImportFolds checks the folding of constants into a Gemm, and that a
// foreign file keeps its layers flat and named after its nodes.
func TestImportFolds(t *testing.T) {
	mp := small()
	f := func(name string, v ...float32) *pb.TensorProto {
		return &pb.TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: int32(pb.TensorProto_FLOAT), FloatData: v}
	}
	mp.Graph.Initializer = append(mp.Graph.Initializer, f("two", 2), f("one", 1), f("scale", 1, -1))
	// h = x·W+B; relu(1 − (h/2)·[1 −1]) .
	mp.Graph.Node = []*pb.NodeProto{
		{Name: "dense", OpType: "Gemm", Input: []string{"x", "W", "B"}, Output: []string{"h"}},
		{Name: "half", OpType: "Div", Input: []string{"h", "two"}, Output: []string{"h2"}},
		{Name: "flip", OpType: "Mul", Input: []string{"scale", "h2"}, Output: []string{"h3"}},
		{Name: "from_one", OpType: "Sub", Input: []string{"one", "h3"}, Output: []string{"h4"}},
		{Name: "relu", OpType: "Relu", Input: []string{"h4"}, Output: []string{"y"}},
	}
	b, _ := proto.Marshal(mp)
	m, _, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 || m.Layers[0].Name != "dense" || m.Layers[0].Act.Func != runtime.ReLU {
		t.Fatalf("layers %q", layerSummary(m))
	}
	x := []float32{1, 0, -1, 0, 1, 0}
	got, _ := m.Predict(nil, x)
	W := []float32{1, 2, 3, 4, 5, 6}
	B := []float32{-1, 1}
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			h := B[j]
			for k := 0; k < 3; k++ {
				h += x[i*3+k] * W[k*2+j]
			}
			s := float32(1)
			if j == 1 {
				s = -1
			}
			want := float32(math.Max(0, float64(1-s*h/2)))
			if math.Abs(float64(got[i*2+j]-want)) > 1e-6 {
				t.Errorf("y[%d,%d] = %g, want %g", i, j, got[i*2+j], want)
			}
		}
	}
	// Dividing a constant by the computed tensor is not affine.
	mp.Graph.Node[1].Input = []string{"two", "h"}
	b, _ = proto.Marshal(mp)
	if _, _, err := Unmarshal(b); !errors.Is(err, ErrUnsupportedOp) || !strings.Contains(err.Error(), `"half"`) {
		t.Errorf("Div(c, x): got %v", err)
	}
}

// TestImportSubmodel checks that an exported autoencoder comes back with
// addressable encoder and decoder.
func TestImportSubmodel(t *testing.T) {
	b, err := Marshal(caseModel(t, "deep_nested"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.Submodel("encoder")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := m.Submodel("decoder")
	if err != nil {
		t.Fatal(err)
	}
	if enc.InputWidth() != 784 || enc.OutputWidth() != 32 || dec.InputWidth() != 32 || dec.OutputWidth() != 784 {
		t.Errorf("encoder %d→%d, decoder %d→%d", enc.InputWidth(), enc.OutputWidth(), dec.InputWidth(), dec.OutputWidth())
	}
	// A tampered structure record is ignored: the layers stay flat.
	mp := &pb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		t.Fatal(err)
	}
	for _, p := range mp.MetadataProps {
		if p.Key == MetaModel {
			p.Value = strings.Replace(p.Value, `"enc_2"`, `"enc_9"`, 1)
		}
	}
	b, _ = proto.Marshal(mp)
	m, _, err = Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 6 || m.Layers[1].Name != "enc_2" {
		t.Errorf("tampered record: layers %v", m.LayerNames())
	}
}
