package onnx

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// TestReadSplitBad: two outputs that are not one Split's parts along the
// last axis of rows are refused with ErrGraph: a Split along axis 0, and
// outputs listed in another order than the Split's.
func TestReadSplitBad(t *testing.T) {
	m := &runtime.Model{Input: []int{3}, Layers: []*runtime.Layer{{Type: runtime.Dense, Name: "d", In: 3, Units: 4,
		Kernel: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Bias: []float32{1, 2, 3, 4}, Act: runtime.Act(runtime.Linear)}}}
	b, err := Marshal(m, &ExportOptions{SplitOutputs: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, info, err := Read(bytes.NewReader(b)); err != nil || len(info.SplitOutputs) != 2 {
		t.Fatalf("the good file: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(g *pb.GraphProto)
	}{
		{"axis 0", func(g *pb.GraphProto) {
			for _, n := range g.Node {
				if n.GetOpType() == "Split" {
					for _, a := range n.Attribute {
						if a.GetName() == "axis" {
							zero := int64(0)
							a.I = &zero
						}
					}
				}
			}
		}},
		{"order", func(g *pb.GraphProto) { g.Output[0], g.Output[1] = g.Output[1], g.Output[0] }},
	} {
		mp := &pb.ModelProto{}
		if err := proto.Unmarshal(b, mp); err != nil {
			t.Fatal(err)
		}
		c.edit(mp.Graph)
		bad, err := proto.Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrGraph) {
			t.Errorf("%s: %v, want ErrGraph", c.name, err)
		}
	}
}
