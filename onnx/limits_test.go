package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

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

// TestReadLimitsDecoded checks that entries costing a few bytes in the
// file but hundreds decoded (empty attributes, value_info and
// metadata_props entries, empty node inputs) are counted before the
// model is decoded.
func TestReadLimitsDecoded(t *testing.T) {
	const n = 1000
	cases := []struct {
		name  string
		edit  func(*pb.ModelProto)
		field string
	}{
		{"attributes", func(mp *pb.ModelProto) {
			for i := 0; i < n; i++ {
				mp.Graph.Node[1].Attribute = append(mp.Graph.Node[1].Attribute, &pb.AttributeProto{})
			}
		}, "MaxMessages"},
		{"value_info", func(mp *pb.ModelProto) {
			for i := 0; i < n; i++ {
				mp.Graph.ValueInfo = append(mp.Graph.ValueInfo, &pb.ValueInfoProto{})
			}
		}, "MaxMessages"},
		{"metadata_props", func(mp *pb.ModelProto) {
			for i := 0; i < n; i++ {
				mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{})
			}
		}, "MaxMessages"},
		{"node inputs", func(mp *pb.ModelProto) {
			mp.Graph.Node[1].Input = append(mp.Graph.Node[1].Input, make([]string, n)...)
		}, "MaxValues"},
		{"packed int64_data", func(mp *pb.ModelProto) {
			mp.Graph.Initializer = append(mp.Graph.Initializer, &pb.TensorProto{Name: "i", Dims: []int64{n},
				DataType: int32(pb.TensorProto_INT64), Int64Data: make([]int64, n)})
		}, "MaxValues"},
	}
	opt := &ReadOptions{MaxMessages: n, MaxValues: n}
	if _, _, err := UnmarshalOptions(marshal(t, small()), opt); err != nil {
		t.Fatalf("small model, limits %d: %v", n, err)
	}
	for _, c := range cases {
		mp := small()
		c.edit(mp)
		_, _, err := UnmarshalOptions(marshal(t, mp), opt)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "onnx.ReadOptions."+c.field) {
			t.Errorf("%d more %s, limit %d: got %v, want ErrTooLarge naming %s", n, c.name, n, err, c.field)
		}
	}
}

// TestReadLimitsDecodedDefault checks the default limits on files of
// empty entries appended on the wire, as a hostile file has them: two
// bytes each.
func TestReadLimitsDecodedDefault(t *testing.T) {
	base := marshal(t, small())
	empty := func(tag byte, k int) []byte { return bytes.Repeat([]byte{tag, 0}, k) }
	// A second graph field (7) merges into the first; its value_info
	// (13) entries are empty.
	vi := empty(13<<3|2, DefaultMaxMessages)
	graph := protowire.AppendBytes(protowire.AppendTag(nil, 7, protowire.BytesType), vi)
	// Empty metadata_props (14) of the model.
	meta := empty(14<<3|2, DefaultMaxMessages)
	for name, extra := range map[string][]byte{"value_info": graph, "metadata_props": meta} {
		_, _, err := Unmarshal(append(slices.Clip(base), extra...))
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxMessages") {
			t.Errorf("%d empty %s: got %v, want ErrTooLarge naming MaxMessages", DefaultMaxMessages, name, err)
		}
	}
}
