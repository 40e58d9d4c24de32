package onnx

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// small returns a valid two-node model proto: Gemm then Relu, 3→2.
func small() *pb.ModelProto {
	w := &pb.TensorProto{Name: "W", Dims: []int64{3, 2}, DataType: int32(pb.TensorProto_FLOAT), FloatData: []float32{1, 2, 3, 4, 5, 6}}
	b := &pb.TensorProto{Name: "B", Dims: []int64{2}, DataType: int32(pb.TensorProto_FLOAT), FloatData: []float32{-1, 1}}
	batch := &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	return &pb.ModelProto{
		IrVersion:   7,
		OpsetImport: []*pb.OperatorSetIdProto{{Version: 13}},
		Graph: &pb.GraphProto{
			Name: "small",
			Node: []*pb.NodeProto{
				{Name: "dense", OpType: "Gemm", Input: []string{"x", "W", "B"}, Output: []string{"h"}},
				{Name: "relu", OpType: "Relu", Input: []string{"h"}, Output: []string{"y"}},
			},
			Initializer: []*pb.TensorProto{w, b},
			Input:       []*pb.ValueInfoProto{valueInfo("x", batch, []int{3}, "")},
			Output:      []*pb.ValueInfoProto{valueInfo("y", batch, []int{2}, "")},
		},
	}
}

func marshal(t *testing.T, mp *pb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSmallModel(t *testing.T) {
	m, _, err := Unmarshal(marshal(t, small()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(nil, []float32{1, 0, -1, 0, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// [1 0 -1]·W + B = [1-5-1, 2-6+1] → relu → [0 0]; [0 1 0]·W + B = [2, 5].
	want := []float32{0, 0, 2, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	node := func(mp *pb.ModelProto, name string) *pb.NodeProto {
		for _, n := range mp.Graph.Node {
			if n.Name == name {
				return n
			}
		}
		t.Fatalf("no node %q", name)
		return nil
	}
	cases := []struct {
		name   string
		edit   func(*pb.ModelProto)
		err    error
		substr []string // the message must name these
	}{
		{"cycle", func(mp *pb.ModelProto) {
			node(mp, "dense").Input[0] = "y"
		}, ErrGraph, []string{`"dense"`, "Gemm", "cycle"}},
		{"missing initializer", func(mp *pb.ModelProto) {
			mp.Graph.Initializer = mp.Graph.Initializer[1:]
		}, ErrGraph, []string{`"dense"`, "Gemm", "opset 13", `"W"`}},
		{"dangling input", func(mp *pb.ModelProto) {
			node(mp, "relu").Input[0] = "nowhere"
		}, ErrGraph, []string{`"relu"`, "Relu", `"nowhere"`}},
		{"external data", func(mp *pb.ModelProto) {
			w := mp.Graph.Initializer[0]
			w.FloatData = nil
			w.DataLocation = pb.TensorProto_EXTERNAL
			w.ExternalData = []*pb.StringStringEntryProto{{Key: "location", Value: "weights.bin"}}
		}, ErrExternalData, []string{`"W"`}},
		{"unsupported op", func(mp *pb.ModelProto) {
			node(mp, "relu").OpType = "Conv"
		}, ErrUnsupportedOp, []string{`"relu"`, "Conv", "opset 13"}},
		{"unsupported domain", func(mp *pb.ModelProto) {
			node(mp, "relu").Domain = "com.microsoft"
		}, ErrUnsupportedOp, []string{`"relu"`, "com.microsoft"}},
		{"opset too new", func(mp *pb.ModelProto) { mp.OpsetImport[0].Version = 25 }, ErrUnsupportedOpset, []string{"25"}},
		{"opset too old", func(mp *pb.ModelProto) { mp.OpsetImport[0].Version = 5 }, ErrUnsupportedOpset, []string{"5"}},
		{"no opset", func(mp *pb.ModelProto) { mp.OpsetImport = nil }, ErrUnsupportedOpset, nil},
		{"IR too new", func(mp *pb.ModelProto) { mp.IrVersion = 11 }, ErrUnsupportedIRVersion, []string{"11"}},
		{"IR too old", func(mp *pb.ModelProto) { mp.IrVersion = 2 }, ErrUnsupportedIRVersion, []string{"2"}},
		{"no graph", func(mp *pb.ModelProto) { mp.Graph = nil }, ErrFormat, nil},
		{"short weights", func(mp *pb.ModelProto) {
			mp.Graph.Initializer[0].FloatData = []float32{1, 2}
		}, ErrFormat, []string{`"W"`}},
		{"bad raw data", func(mp *pb.ModelProto) {
			mp.Graph.Initializer[0].FloatData = nil
			mp.Graph.Initializer[0].RawData = []byte{1, 2, 3}
		}, ErrFormat, []string{`"W"`}},
		{"raw and typed data", func(mp *pb.ModelProto) {
			w := mp.Graph.Initializer[0]
			w.RawData = make([]byte, 4*len(w.FloatData))
		}, ErrFormat, []string{`"W"`, "raw_data"}},
		{"absurd dims", func(mp *pb.ModelProto) {
			mp.Graph.Initializer[0].Dims = []int64{1 << 40, 1 << 40}
		}, ErrFormat, []string{`"W"`}},
		{"weights of the wrong shape", func(mp *pb.ModelProto) {
			mp.Graph.Initializer[0].Dims = []int64{2, 3}
		}, ErrUnsupportedOp, []string{`"dense"`, "Gemm"}},
		{"integer input", func(mp *pb.ModelProto) {
			mp.Graph.Input[0].Type.GetTensorType().ElemType = int32(pb.TensorProto_INT64)
		}, ErrUnsupportedType, []string{`"x"`}},
		{"string weights", func(mp *pb.ModelProto) {
			mp.Graph.Initializer[0].DataType = int32(pb.TensorProto_STRING)
		}, ErrUnsupportedType, []string{`"W"`}},
		{"two outputs", func(mp *pb.ModelProto) {
			mp.Graph.Output = append(mp.Graph.Output, mp.Graph.Output[0])
		}, ErrGraph, nil},
		{"two producers", func(mp *pb.ModelProto) {
			node(mp, "relu").Output[0] = "h"
		}, ErrGraph, []string{"h"}},
		{"branch", func(mp *pb.ModelProto) {
			mp.Graph.Node = append(mp.Graph.Node, &pb.NodeProto{Name: "residual", OpType: "Add", Input: []string{"y", "h"}, Output: []string{"z"}})
			mp.Graph.Output[0].Name = "z"
		}, ErrUnsupportedOp, []string{`"residual"`, "Add"}},
		{"training dropout", func(mp *pb.ModelProto) {
			mp.Graph.Initializer = append(mp.Graph.Initializer, &pb.TensorProto{Name: "T", DataType: int32(pb.TensorProto_BOOL), RawData: []byte{1}})
			mp.Graph.Node = append(mp.Graph.Node, &pb.NodeProto{Name: "drop", OpType: "Dropout", Input: []string{"y", "", "T"}, Output: []string{"z"}})
			mp.Graph.Output[0].Name = "z"
		}, ErrUnsupportedOp, []string{`"drop"`, "Dropout", "training_mode"}},
		{"clip with a negative floor", func(mp *pb.ModelProto) {
			mp.Graph.Initializer = append(mp.Graph.Initializer, &pb.TensorProto{Name: "lo", DataType: int32(pb.TensorProto_FLOAT), FloatData: []float32{-1}})
			n := node(mp, "relu")
			n.OpType, n.Input = "Clip", []string{"h", "lo"}
		}, ErrUnsupportedOp, []string{`"relu"`, "Clip", "lower bound -1"}},
		{"add after activation", func(mp *pb.ModelProto) {
			mp.Graph.Node = append(mp.Graph.Node, &pb.NodeProto{Name: "shift", OpType: "Add", Input: []string{"y", "B"}, Output: []string{"z"}})
			mp.Graph.Output[0].Name = "z"
		}, ErrUnsupportedOp, []string{`"shift"`, "Add", "preceding Gemm"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mp := small()
			c.edit(mp)
			m, _, err := Unmarshal(marshal(t, mp))
			if !errors.Is(err, c.err) {
				t.Fatalf("got %v (model %v), want %v", err, m, c.err)
			}
			for _, s := range c.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
}

func TestGarbage(t *testing.T) {
	good, err := Marshal(caseModel(t, "seed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Unmarshal([]byte("this is not an ONNX file")); !errors.Is(err, ErrFormat) {
		t.Errorf("text: got %v, want ErrFormat", err)
	}
	if _, _, err := Unmarshal(nil); !errors.Is(err, ErrFormat) {
		t.Errorf("empty: got %v, want ErrFormat", err)
	}
	if _, _, err := Unmarshal(good[:len(good)/2]); !errors.Is(err, ErrFormat) {
		t.Errorf("half a file: got %v, want ErrFormat", err)
	}
	// Every truncation and random byte flips: an error or a valid model,
	// never a panic.
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < len(good); n += 1 + n/50 {
		checkDecode(t, good[:n])
	}
	for range 300 {
		b := bytes.Clone(good)
		for range 1 + r.IntN(8) {
			b[r.IntN(len(b))] = byte(r.Uint32())
		}
		checkDecode(t, b)
	}
}

// checkDecode asserts that Unmarshal of b either fails or returns a model
// that validates and runs.
func checkDecode(t testing.TB, b []byte) {
	m, info, err := Unmarshal(b)
	if err != nil {
		if m != nil || info != nil {
			t.Fatalf("error %v with a non-nil result", err)
		}
		return
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Unmarshal returned an invalid model: %v", err)
	}
	if m.InputWidth() <= 1<<16 {
		if _, err := m.Predict(nil, make([]float32, m.InputWidth())); err != nil {
			t.Fatalf("Predict: %v", err)
		}
	}
}

func TestReadFileNamesFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "junk.onnx")
	if err := os.WriteFile(name, []byte{0xff, 0xff, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadFile(name)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), name) {
		t.Errorf("got %v, want ErrFormat naming %s", err, name)
	}
}

func TestExportErrors(t *testing.T) {
	m := caseModel(t, "seed")
	for _, opset := range []int{1, MinOpset - 1, MaxOpset + 1} {
		if _, err := Marshal(m, &ExportOptions{Opset: opset}); !errors.Is(err, ErrUnsupportedOpset) {
			t.Errorf("opset %d: got %v, want ErrUnsupportedOpset", opset, err)
		}
	}
	bad := &runtime.Model{Name: "bad", Input: []int{3}, Layers: []*runtime.Layer{{Name: "d", Type: runtime.Dense, In: 4, Units: 2}}}
	if _, err := Marshal(bad, nil); !errors.Is(err, ErrExport) || !errors.Is(err, runtime.ErrInvalid) {
		t.Errorf("invalid model: got %v, want ErrExport and runtime.ErrInvalid", err)
	}
	// A failed WriteFile leaves neither a partial file nor a temporary one,
	// and does not touch an existing file.
	dir := t.TempDir()
	name := filepath.Join(dir, "m.onnx")
	if err := WriteFile(name, bad, nil); err == nil {
		t.Fatal("WriteFile of an invalid model succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed WriteFile left %v", ents)
	}
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(name, bad, nil); err == nil {
		t.Fatal("WriteFile of an invalid model succeeded")
	}
	if b, _ := os.ReadFile(name); string(b) != "old" {
		t.Errorf("failed WriteFile changed the file to %q", b)
	}
	if err := WriteFile(name, m, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFile(name); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("WriteFile left %d files", len(ents))
	}
}
