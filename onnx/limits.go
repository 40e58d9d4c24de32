package onnx

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/internal/limits"
	"github.com/aekit/aekit/runtime"
)

// Default limits of ReadOptions. A Dense autoencoder exported by aekit,
// PyTorch or tf2onnx has a few nodes per layer and no subgraphs.
const (
	DefaultMaxNodes      = 10000 // nodes in all graphs and functions
	DefaultMaxGraphDepth = 8     // graphs nested in node attributes (If, Loop)
)

// ReadOptions sets the resource limits of UnmarshalOptions and
// ReadFileOptions. A zero field (or a nil *ReadOptions) selects the
// default. The limits are checked on the encoded protobuf before it is
// decoded, so a model beyond one costs no memory; the error wraps
// ErrTooLarge and names the field.
type ReadOptions struct {
	// MaxNodes bounds the number of nodes, counted over the graph, its
	// subgraphs and the model's functions (DefaultMaxNodes, 10,000).
	MaxNodes int
	// MaxGraphDepth bounds the nesting of graphs inside node attributes
	// (DefaultMaxGraphDepth, 8; the main graph is depth 1).
	MaxGraphDepth int
}

// Protobuf field numbers of onnx.proto3 that the limits walk.
const (
	fieldModelGraph     = 7  // ModelProto.graph
	fieldModelFunctions = 25 // ModelProto.functions
	fieldGraphNode      = 1  // GraphProto.node
	fieldFunctionNode   = 7  // FunctionProto.node
	fieldNodeAttribute  = 5  // NodeProto.attribute
	fieldAttrGraph      = 6  // AttributeProto.g
	fieldAttrGraphs     = 11 // AttributeProto.graphs
)

// checkLimits walks the encoded ModelProto b, counting nodes and graph
// depth, without decoding it. Malformed wire data is left to
// proto.Unmarshal to report.
func (o *ReadOptions) checkLimits(b []byte) error {
	maxNodes, maxDepth := DefaultMaxNodes, DefaultMaxGraphDepth
	if o != nil && o.MaxNodes > 0 {
		maxNodes = o.MaxNodes
	}
	if o != nil && o.MaxGraphDepth > 0 {
		maxDepth = o.MaxGraphDepth
	}
	nodes := 0
	tooLarge := func(what string, got, lim int, unit, field string) error {
		return &limits.Error{What: what, Got: int64(got), Limit: int64(lim), Unit: unit, Field: field,
			Option: "onnx.ReadOptions." + field, Err: ErrTooLarge}
	}
	// walk visits the fields of a message of the given kind.
	var walk func(b []byte, kind string, graphDepth int) error
	walk = func(b []byte, kind string, graphDepth int) error {
		for len(b) > 0 {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				return nil
			}
			b = b[n:]
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return nil
			}
			field := b[:m]
			b = b[m:]
			if typ != protowire.BytesType {
				continue
			}
			body, _ := protowire.ConsumeBytes(field)
			var err error
			switch {
			case kind == "model" && num == fieldModelGraph:
				err = walk(body, "graph", 1)
			case kind == "model" && num == fieldModelFunctions:
				err = walk(body, "function", 1)
			case (kind == "graph" && num == fieldGraphNode) || (kind == "function" && num == fieldFunctionNode):
				if nodes++; nodes > maxNodes {
					return tooLarge("the model", nodes, maxNodes, "nodes (at least)", "MaxNodes")
				}
				err = walk(body, "node", graphDepth)
			case kind == "node" && num == fieldNodeAttribute:
				err = walk(body, "attribute", graphDepth)
			case kind == "attribute" && (num == fieldAttrGraph || num == fieldAttrGraphs):
				if graphDepth+1 > maxDepth {
					return tooLarge("the model", graphDepth+1, maxDepth, "levels of nested graphs (at least)", "MaxGraphDepth")
				}
				err = walk(body, "graph", graphDepth+1)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(b, "model", 0)
}

// UnmarshalOptions is Unmarshal with the limits of opt (nil: the
// defaults).
func UnmarshalOptions(b []byte, opt *ReadOptions) (*runtime.Model, *Info, error) {
	if err := opt.checkLimits(b); err != nil {
		return nil, nil, err
	}
	return unmarshal(b)
}

// ReadFileOptions is ReadFile with the limits of opt (nil: the defaults).
func ReadFileOptions(name string, opt *ReadOptions) (*runtime.Model, *Info, error) {
	b, err := inputfile.ReadFile(name, nil)
	if err != nil {
		return nil, nil, err
	}
	m, info, err := UnmarshalOptions(b, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, info, nil
}
