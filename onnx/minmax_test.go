package onnx

import (
	"errors"
	"strings"
	"testing"

	pb "github.com/aekit/aekit/internal/onnxpb"
)

// TestMinMaxImport checks tf.clip_by_value as tf2onnx writes it (Min and
// Max of a tensor and a scalar constant) on small()'s Gemm output, and the
// Min/Max forms aekit refuses.
func TestMinMaxImport(t *testing.T) {
	scalar := func(name string, v ...float32) *pb.TensorProto {
		tp := &pb.TensorProto{Name: name, DataType: int32(pb.TensorProto_FLOAT), FloatData: v}
		if len(v) != 1 {
			tp.Dims = []int64{int64(len(v))}
		}
		return tp
	}
	build := func(nodes ...*pb.NodeProto) []byte {
		mp := small()
		mp.Graph.Node = append(mp.Graph.Node[:1], nodes...)
		mp.Graph.Initializer = append(mp.Graph.Initializer, scalar("zero", 0), scalar("half", 0.5), scalar("six", 6), scalar("two", 1, 2))
		return marshal(t, mp)
	}
	// n is a node computing op on in; the last one of a case writes y.
	n := func(op, out string, in ...string) *pb.NodeProto {
		return &pb.NodeProto{Name: strings.ToLower(op), OpType: op, Input: in, Output: []string{out}}
	}
	for _, c := range []struct {
		name  string
		nodes []*pb.NodeProto
		want  string // layer summary, or the error's text
		err   error
	}{
		{"max min", []*pb.NodeProto{n("Min", "t", "h", "half"), n("Max", "y", "t", "zero")}, "Dense:relu(max_value=0.5)", nil},
		{"min max 6", []*pb.NodeProto{n("Max", "t", "h", "zero"), n("Min", "y", "t", "six")}, "Dense:relu6", nil},
		{"constant first", []*pb.NodeProto{n("Min", "t", "half", "h"), n("Max", "y", "zero", "t")}, "Dense:relu(max_value=0.5)", nil},
		{"max alone", []*pb.NodeProto{n("Max", "y", "h", "zero")}, "Dense:relu", nil},
		{"min alone", []*pb.NodeProto{n("Min", "y", "h", "half")}, "lower bound -Inf", ErrUnsupportedOp},
		{"three inputs", []*pb.NodeProto{n("Max", "y", "h", "zero", "half")}, "has 3 inputs", ErrUnsupportedOp},
		{"two tensors", []*pb.NodeProto{n("Max", "y", "h", "h")}, "two computed tensors", ErrUnsupportedOp},
		{"vector bound", []*pb.NodeProto{n("Max", "y", "h", "two")}, "constant scalars", ErrUnsupportedOp},
	} {
		m, _, err := Unmarshal(build(c.nodes...))
		switch {
		case c.err == nil && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == nil && layerSummary(m) != c.want:
			t.Errorf("%s: layers %q, want %q", c.name, layerSummary(m), c.want)
		case c.err != nil && (!errors.Is(err, c.err) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %v naming %q", c.name, err, c.err, c.want)
		}
	}
}
