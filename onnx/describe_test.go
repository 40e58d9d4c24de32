package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pb "github.com/aekit/aekit/internal/onnxpb"
)

// TestDescribeUnsupportedOp: a graph Read refuses for an operator (an Erf
// between the Gemm and the Relu of small()) is listed node by node with
// the initializers' values counted, the Erf marked with the reader's
// reason (the NodeError's index) and the graph's inputs and outputs with
// their recorded shapes; files Read refuses for other reasons are not
// described.
func TestDescribeUnsupportedOp(t *testing.T) {
	mp := small()
	g := mp.Graph
	g.Node = []*pb.NodeProto{g.Node[0], {OpType: "Erf", Input: []string{"h"}, Output: []string{"e"}}, g.Node[1]}
	g.Node[2].Input = []string{"e"}
	dir := t.TempDir()
	name := filepath.Join(dir, "erf.onnx")
	if err := os.WriteFile(name, marshal(t, mp), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadFile(name)
	var ne *NodeError
	if !errors.Is(err, ErrUnsupportedOp) || !errors.As(err, &ne) || ne.Index != 1 {
		t.Fatalf("ReadFile: %v (%#v), want ErrUnsupportedOp at node 1", err, ne)
	}
	d, info, err := DescribeFile(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Opset != 13 || d.Name != "small" || d.Params != 8 || len(d.Nodes) != 3 {
		t.Fatalf("description %+v, info %+v", d, info)
	}
	for i, want := range []struct {
		name, op string
		params   int64
		bad      bool
	}{{"dense", "Gemm", 8, false}, {"#1", "Erf", 0, true}, {"relu", "Relu", 0, false}} {
		n := d.Nodes[i]
		if n.Name != want.name || n.Op != want.op || n.Params != want.params || (n.Unsupported != "") != want.bad {
			t.Errorf("node %d: %+v, want %+v", i, n, want)
		}
	}
	if !strings.Contains(d.Nodes[1].Unsupported, "Erf") {
		t.Errorf("reason %q does not name the op", d.Nodes[1].Unsupported)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "x" || !slices.Equal(d.Inputs[0].Shape, []string{"N", "3"}) ||
		len(d.Outputs) != 1 || !slices.Equal(d.Outputs[0].Shape, []string{"N", "2"}) {
		t.Errorf("inputs %+v, outputs %+v", d.Inputs, d.Outputs)
	}
	// Not a node's fault: not described.
	bad := small()
	bad.OpsetImport[0].Version = 99
	if err := os.WriteFile(name, marshal(t, bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := DescribeFile(name, nil); !errors.Is(err, ErrUnsupportedOpset) {
		t.Errorf("opset 99: %v", err)
	}
	if err := os.WriteFile(name, []byte("\x08\x07\x12garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := DescribeFile(name, nil); err == nil {
		t.Error("garbage described")
	}
}
