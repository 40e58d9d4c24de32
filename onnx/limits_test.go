package onnx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

func TestReadLimits(t *testing.T) {
	// small() has 2 nodes; with k Identity nodes appended before the output
	// it has k+2.
	long := func(k int) []byte {
		mp := small()
		g := mp.Graph
		g.Node[1].Output[0] = "i0"
		for i := 0; i < k; i++ {
			out := fmt.Sprintf("i%d", i+1)
			if i == k-1 {
				out = "y"
			}
			g.Node = append(g.Node, &pb.NodeProto{OpType: "Identity", Input: []string{fmt.Sprintf("i%d", i)}, Output: []string{out}})
		}
		return marshal(t, mp)
	}
	if _, _, err := UnmarshalOptions(long(8), &ReadOptions{MaxNodes: 10}); err != nil {
		t.Errorf("10 nodes, limit 10: %v", err)
	}
	_, _, err := UnmarshalOptions(long(9), &ReadOptions{MaxNodes: 10})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "onnx.ReadOptions.MaxNodes") {
		t.Errorf("11 nodes, limit 10: %v", err)
	}
	if _, _, err := Unmarshal(long(DefaultMaxNodes)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("default limit: %v", err)
	}
	// If nodes nested through their branches.
	nested := func(depth int) []byte {
		mp := small()
		var inner *pb.NodeProto
		for d := 0; d < depth; d++ {
			body := &pb.GraphProto{Name: fmt.Sprint("b", d)}
			if inner != nil {
				body.Node = []*pb.NodeProto{inner}
			}
			inner = &pb.NodeProto{OpType: "If", Input: []string{"c"}, Output: []string{fmt.Sprint("o", d)},
				Attribute: []*pb.AttributeProto{{Name: "then_branch", Type: pb.AttributeProto_GRAPH, G: body}}}
		}
		mp.Graph.Node = append(mp.Graph.Node, inner)
		return marshal(t, mp)
	}
	// Depth 3: the main graph and two nested If bodies: passes the limit,
	// fails as an unsupported op.
	if _, _, err := UnmarshalOptions(nested(2), &ReadOptions{MaxGraphDepth: 3}); errors.Is(err, ErrTooLarge) || err == nil {
		t.Errorf("depth 3, limit 3: %v", err)
	}
	if _, _, err := UnmarshalOptions(nested(3), &ReadOptions{MaxGraphDepth: 3}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxGraphDepth") {
		t.Errorf("depth 4, limit 3: %v", err)
	}
}

// TestSelfCheckDataFor checks that metadata disagreeing with the model's
// widths is an error, not data a caller indexes out of range.
func TestSelfCheckDataFor(t *testing.T) {
	m := &runtime.Model{Input: []int{3}, Layers: []*runtime.Layer{{Name: "d", Type: runtime.Dense, In: 3, Units: 2,
		Kernel: make([]float32, 6), Bias: make([]float32, 2), Act: runtime.Act(runtime.Linear)}}}
	props := map[string]string{MetaCheckShape: "n=1;input=3;output=1",
		MetaCheckInput: encodeF32([]float32{1, 2, 3}), MetaCheckOutput: encodeF32([]float32{1})}
	c, err := parseCheck(props)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := SelfCheckDataFor(m, &Info{Check: c}); !errors.Is(err, ErrCheck) {
		t.Errorf("output 1 wide on a 2-wide model: %v", err)
	}
	// Shapes whose product would overflow are refused while parsed.
	props[MetaCheckShape] = "n=1;input=" + strings.Repeat("16777216x", 8) + "1;output=1"
	if _, err := parseCheck(props); !errors.Is(err, ErrFormat) {
		t.Errorf("overflowing shape: %v", err)
	}
}
