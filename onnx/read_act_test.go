package onnx

import (
	"errors"
	"fmt"
	"testing"

	pb "github.com/aekit/aekit/internal/onnxpb"
)

// TestSharedOperandChain checks that a chain m = op(m', m') before the
// Gemm, whose expression tree doubles with each link, is refused as an
// unsupported op after work linear in its length (the activation matchers
// once walked the tree: 2^64 steps here).
func TestSharedOperandChain(t *testing.T) {
	for _, ops := range [][]string{{"Mul"}, {"Add"}, {"Add", "Mul"}, {"Mul", "Div"}} {
		mp := small()
		g := mp.Graph
		prev := "x"
		var chain []*pb.NodeProto
		for i := 0; i < 64; i++ {
			out := fmt.Sprint("m", i)
			chain = append(chain, &pb.NodeProto{Name: out, OpType: ops[i%len(ops)], Input: []string{prev, prev}, Output: []string{out}})
			prev = out
		}
		g.Node[0].Input[0] = prev
		g.Node = append(chain, g.Node...)
		if _, _, err := Unmarshal(marshal(t, mp)); !errors.Is(err, ErrUnsupportedOp) {
			t.Errorf("%v chain: got %v, want ErrUnsupportedOp", ops, err)
		}
	}
}

// TestFactorsBounded checks that factors gives up on a product with
// shared operands beyond maxFactors factors instead of expanding it.
func TestFactorsBounded(t *testing.T) {
	x := &expr{op: "Relu"}
	e := x
	for i := 0; i < 64; i++ {
		e = &expr{op: "Mul", args: []value{{e: e}, {e: e}}}
	}
	if d, _, ok := factors(value{e: e}); ok {
		t.Errorf("x^(2^64): ok with %d factors", len(d))
	}
	// x·x·x·0.5/2 is within the bounds.
	half := value{c: &tensor{f: []float32{0.5}}}
	two := value{c: &tensor{f: []float32{2}}}
	cube := &expr{op: "Mul", args: []value{{e: &expr{op: "Mul", args: []value{{e: x}, {e: x}}}}, {e: x}}}
	p := &expr{op: "Div", args: []value{{e: &expr{op: "Mul", args: []value{{e: cube}, half}}}, two}}
	d, k, ok := factors(value{e: p})
	if !ok || len(d) != 3 || d[0] != x || d[1] != x || d[2] != x || k != 0.25 {
		t.Errorf("x·x·x·0.5/2: %v %g %v, want [x x x] 0.25 true", d, k, ok)
	}
}
