package onnx

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestUnnamedNodeMessages: errors about a node without a name give its
// index in the graph, never node "".
func TestUnnamedNodeMessages(t *testing.T) {
	for _, c := range []struct {
		name  string
		want  error
		label string
	}{
		{"unsupported op", ErrUnsupportedOp, "unnamed node #1 (Conv"},
		{"dangling input", ErrGraph, "unnamed node #1 (Relu"},
	} {
		mp := small()
		mp.Graph.Node[1].Name = ""
		if c.want == ErrUnsupportedOp {
			mp.Graph.Node[1].OpType = "Conv"
		} else {
			mp.Graph.Node[1].Input[0] = "nowhere"
		}
		_, _, err := Read(bytes.NewReader(marshal(t, mp)))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.label) || strings.Contains(err.Error(), `node ""`) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
