package onnx

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/internal/limits"
	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// Default limits of ReadOptions. A Dense autoencoder exported by aekit,
// PyTorch or tf2onnx has a few nodes per layer and no subgraphs; each node
// decodes to a handful of messages (the node, its attributes, the
// value_info of its output with the dimensions of its shape) and
// strings (its inputs and outputs).
const (
	DefaultMaxNodes      = 10000   // nodes in all graphs and functions
	DefaultMaxGraphDepth = 8       // graphs nested in node attributes (If, Loop)
	DefaultMaxMessages   = 250000  // protobuf messages decoded
	DefaultMaxValues     = 4000000 // elements of repeated string, bytes and integer fields
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
	// MaxMessages bounds the number of protobuf messages decoded: nodes,
	// attributes, tensors, value_info entries and the dimensions of their
	// shapes, metadata_props entries, ... (DefaultMaxMessages, 250,000).
	// A message takes a few hundred bytes decoded, and as little as two
	// bytes in the file.
	MaxMessages int
	// MaxValues bounds the number of elements of repeated string, bytes
	// and integer fields decoded: node inputs and outputs, dims,
	// attribute ints and strings, integer tensor data
	// (DefaultMaxValues, 4,000,000). An element takes 8 or 16 bytes
	// decoded, and as little as one byte in the file. Float tensor data
	// takes no more memory decoded than in the file and is not counted.
	MaxValues int
}

// Protobuf field numbers the limits walk that the schema of onnxpb does
// not model.
const (
	fieldModelFunctions = 25 // ModelProto.functions
	fieldFunctionNode   = 7  // FunctionProto.node
)

// checkLimits walks the encoded ModelProto b, counting nodes, graph
// depth, messages and values of repeated fields, without decoding it.
// Malformed wire data is left to proto.Unmarshal to report.
func (o *ReadOptions) checkLimits(b []byte) error {
	maxNodes, maxDepth := DefaultMaxNodes, DefaultMaxGraphDepth
	maxMessages, maxValues := DefaultMaxMessages, DefaultMaxValues
	if o != nil && o.MaxNodes > 0 {
		maxNodes = o.MaxNodes
	}
	if o != nil && o.MaxGraphDepth > 0 {
		maxDepth = o.MaxGraphDepth
	}
	if o != nil && o.MaxMessages > 0 {
		maxMessages = o.MaxMessages
	}
	if o != nil && o.MaxValues > 0 {
		maxValues = o.MaxValues
	}
	var (
		modelDesc = (*pb.ModelProto)(nil).ProtoReflect().Descriptor()
		graphDesc = (*pb.GraphProto)(nil).ProtoReflect().Descriptor()
		nodeDesc  = (*pb.NodeProto)(nil).ProtoReflect().Descriptor()
		attrDesc  = (*pb.AttributeProto)(nil).ProtoReflect().Descriptor()
	)
	nodes, messages, values := 0, 0, 0
	tooLarge := func(what string, got, lim int, unit, field string) error {
		return &limits.Error{What: what, Got: int64(got), Limit: int64(lim), Unit: unit, Field: field,
			Option: "onnx.ReadOptions." + field, Err: ErrTooLarge}
	}
	// walk visits the fields of a message of type md, or of a
	// FunctionProto (which onnxpb does not model) if md is nil.
	var walk func(b []byte, md protoreflect.MessageDescriptor, graphDepth int) error
	walk = func(b []byte, md protoreflect.MessageDescriptor, graphDepth int) error {
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
			var fd protoreflect.FieldDescriptor
			if md != nil {
				fd = md.Fields().ByNumber(num)
			}
			if typ != protowire.BytesType {
				if fd != nil && fd.Cardinality() == protoreflect.Repeated && typ == protowire.VarintType {
					if values++; values > maxValues {
						return tooLarge("the model", values, maxValues, "values in repeated fields (at least)", "MaxValues")
					}
				}
				continue
			}
			body, _ := protowire.ConsumeBytes(field)
			var sub protoreflect.MessageDescriptor
			switch {
			case md == nil && num == fieldFunctionNode:
				sub = nodeDesc
			case md == modelDesc && num == fieldModelFunctions:
				// Kept as an unknown field, but its nodes count.
				if err := walk(body, nil, 1); err != nil {
					return err
				}
				continue
			case fd == nil:
				continue // an unknown field is kept as it is on the wire
			case fd.Message() != nil:
				sub = fd.Message()
			case fd.Cardinality() != protoreflect.Repeated:
				continue
			case fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind:
				values++
			default:
				// Packed scalars: varints expand up to eightfold, fixed-size
				// values not at all.
				switch fd.Kind() {
				case protoreflect.FloatKind, protoreflect.DoubleKind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind,
					protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
				default:
					for _, c := range body {
						if c < 0x80 {
							values++
						}
					}
				}
			}
			if values > maxValues {
				return tooLarge("the model", values, maxValues, "values in repeated fields (at least)", "MaxValues")
			}
			if sub == nil {
				continue
			}
			if messages++; messages > maxMessages {
				return tooLarge("the model", messages, maxMessages, "protobuf messages (at least)", "MaxMessages")
			}
			depth := graphDepth
			switch sub {
			case nodeDesc:
				if nodes++; nodes > maxNodes {
					return tooLarge("the model", nodes, maxNodes, "nodes (at least)", "MaxNodes")
				}
			case graphDesc:
				if md == modelDesc {
					depth = 1
				} else if md == attrDesc {
					if depth++; depth > maxDepth {
						return tooLarge("the model", depth, maxDepth, "levels of nested graphs (at least)", "MaxGraphDepth")
					}
				}
			}
			if err := walk(body, sub, depth); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(b, modelDesc, 0)
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
