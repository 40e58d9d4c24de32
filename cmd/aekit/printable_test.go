package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/aekit/aekit/internal/onnxpb"
)

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"dense_1", "dense_1"},
		{"couche été 层 Ω", "couche été 层 Ω"},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\x1b[2J\x1b]52;c;eA==\a", `\x1b[2J\x1b]52;c;eA==\a`},
		{"\x00\x7f", `\x00\x7f`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"bad\xffutf8\xc2", `bad\xffutf8\xc2`},
		{`back\slash`, `back\slash`},
	} {
		if got := printable(c.in); got != c.want {
			t.Errorf("printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// evilName holds the controls a hostile file may put in a name: ESC
// (a colour and the clear-screen sequence), CR, LF, BEL, TAB and the C1
// CSI U+009B.
const evilName = "a\x1b[31mb\rc\nd\a\x1b[2Je\tf\u009bg"

// evilEscaped is evilName as printable shows it.
const evilEscaped = `a\x1b[31mb\rc\nd\a\x1b[2Je\tf\u009bg`

// checkNoControls fails unless out holds no control character but the
// newlines ending its lines.
func checkNoControls(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if r == utf8.RuneError || r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f) {
			t.Errorf("%s: control or invalid rune %U at byte %d:\n%s", what, r, i, out)
			return
		}
	}
}

// rewriteZip copies the .keras archive src to dst, passing each member
// through edit.
func rewriteZip(t *testing.T, src, dst string, edit func(name string, b []byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(edit(f.Name, b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInspectEscapesFileStrings checks that names, classes and the Keras
// version read from a model reach the terminal escaped: inspect's tables
// and headers, and the one-line error, hold no control character.
func TestInspectEscapesFileStrings(t *testing.T) {
	dir := t.TempDir()
	data, model := filepath.Join(dir, "x.npy"), filepath.Join(dir, "m.keras")
	writeData(t, data, 10, 2, 1)
	if code, _, stderr := runTrainCmd("--data", data, "--layers", "4:relu|2:sigmoid", "--epochs", "1", "-o", model, "--verbose", "0"); code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	// evilName as a JSON string's contents.
	jsonEvil := strings.NewReplacer("\x1b", `\u001b`, "\r", `\r`, "\n", `\n`, "\a", `\u0007`, "\t", `\t`).Replace(evilName)
	replace := func(b []byte, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q not found in the written model", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}

	// A runnable model: its first Dense layer and its Keras version
	// carry the controls.
	named := filepath.Join(dir, "named.keras")
	rewriteZip(t, model, named, func(name string, b []byte) []byte {
		switch name {
		case "config.json":
			return replace(b, `"name": "dense"`, `"name": "`+jsonEvil+`"`)
		case "metadata.json":
			b = replace(b, `"aekit_version": "devel", `, "")
			return replace(b, `"keras_version": "3.10.0"`, `"keras_version": "3.10.0`+jsonEvil+`"`)
		}
		return b
	})
	out := runOK(t, "inspect", named)
	checkNoControls(t, "inspect "+named, out)
	for _, want := range []string{"Keras 3.10.0" + evilEscaped + "\n", evilEscaped + " (Dense)"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect %s does not show %q:\n%s", named, want, out)
		}
	}
	// The name goes into an ONNX file as it is; inspect escapes it there
	// too.
	onnxFile := filepath.Join(dir, "named.onnx")
	runOK(t, "convert", named, onnxFile)
	out = runOK(t, "inspect", onnxFile)
	checkNoControls(t, "inspect "+onnxFile, out)
	if !strings.Contains(out, evilEscaped+" (Dense)") {
		t.Errorf("inspect %s does not show the escaped layer name:\n%s", onnxFile, out)
	}

	// A layer of a class aekit cannot run: inspect lists it from the
	// description, predict refuses it in one line.
	classed := filepath.Join(dir, "class.keras")
	rewriteZip(t, model, classed, func(name string, b []byte) []byte {
		if name == "config.json" {
			return replace(b, `"class_name": "Dense", "config": {"name": "dense_1"`, `"class_name": "`+jsonEvil+`", "config": {"name": "dense_1"`)
		}
		return b
	})
	out = runOK(t, "inspect", classed)
	checkNoControls(t, "inspect "+classed, out)
	if !strings.Contains(out, "dense_1 ("+evilEscaped+") *") {
		t.Errorf("inspect %s does not show the escaped class:\n%s", classed, out)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"predict", classed, "-i", data, "-o", filepath.Join(dir, "y.npy")}, &stdout, &stderr)
	msg := stderr.String()
	if code != exitUsage || strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
		t.Errorf("predict %s: exit %d, stderr %q; want exit 2 and one line", classed, code, msg)
	}
	checkNoControls(t, "predict "+classed, msg)
	if !strings.Contains(msg, `of class "`+evilEscaped+`"`) {
		t.Errorf("predict %s: stderr %q does not quote the class", classed, msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "y.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("predict %s wrote output (stat: %v)", classed, err)
	}
}

// TestFailEscapes checks that the error line escapes the control
// characters of a message: an error quoting a name with %q needs none,
// but not every error does.
func TestFailEscapes(t *testing.T) {
	var stderr bytes.Buffer
	code := fail(&stderr, "predict", fmt.Errorf("m.keras: layer %s: %w", evilName, errors.New("bad\r\nthing\u0085")))
	msg := stderr.String()
	if code != exitUsage || strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
		t.Fatalf("fail: exit %d, stderr %q; want exit 2 and one line", code, msg)
	}
	checkNoControls(t, "fail", msg)
	want := `aekit predict: m.keras: layer a\x1b[31mb\rc d\a\x1b[2Je\tf\u009bg: bad\r thing\u0085` + "\n"
	if msg != want {
		t.Errorf("fail: stderr %q, want %q", msg, want)
	}
}

// TestInspectONNXGraphEscapes checks inspect's node listing of an ONNX
// graph aekit does not read: producer, node names, ops and tensor names
// carry controls.
func TestInspectONNXGraphEscapes(t *testing.T) {
	dim := func(p string, v int64) *pb.TensorShapeProto_Dimension {
		if p != "" {
			return &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
		}
		return &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	value := func(name string) *pb.ValueInfoProto {
		return &pb.ValueInfoProto{Name: name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: int32(pb.TensorProto_FLOAT), Shape: &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{dim(evilName, 0), dim("", 3)}}}}}}
	}
	w := &pb.TensorProto{Name: "W", Dims: []int64{3, 3}, DataType: int32(pb.TensorProto_FLOAT), FloatData: make([]float32, 9)}
	mp := &pb.ModelProto{
		IrVersion: 7, ProducerName: "tool" + evilName, ProducerVersion: evilName,
		OpsetImport: []*pb.OperatorSetIdProto{{Version: 13}},
		Graph: &pb.GraphProto{
			Name: "g",
			Node: []*pb.NodeProto{
				{Name: "n" + evilName, OpType: "MatMul", Input: []string{"x" + evilName, "W"}, Output: []string{"h" + evilName}},
				{Name: "m" + evilName, OpType: "Op" + evilName, Domain: "d" + evilName, Input: []string{"h" + evilName}, Output: []string{"y" + evilName}},
			},
			Initializer: []*pb.TensorProto{w},
			Input:       []*pb.ValueInfoProto{value("x" + evilName)},
			Output:      []*pb.ValueInfoProto{value("y" + evilName)},
		},
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "g.onnx")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "inspect", file)
	checkNoControls(t, "inspect "+file, out)
	for _, want := range []string{"tool" + evilEscaped, "m" + evilEscaped + " (d" + evilEscaped + ":Op" + evilEscaped + ") *", "y" + evilEscaped} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect %s does not show %q:\n%s", file, want, out)
		}
	}
}
