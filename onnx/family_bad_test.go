package onnx

import (
	"errors"
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
	cases := []struct {
		name string
		edit func(*testing.T, *pb.ModelProto)
		want []string
	}{
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
