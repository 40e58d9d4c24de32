package onnx

import "errors"

// Sentinel errors returned (wrapped with context) by this package. Test for
// them with errors.Is.
var (
	// ErrFormat reports bytes that are not an ONNX model: not protobuf,
	// truncated, no graph, tensors whose data disagrees with their shape.
	ErrFormat = errors.New("onnx: malformed model")

	// ErrGraph reports a graph that is not a valid computation: a cycle, an
	// input no node, initializer or graph input provides (a missing
	// initializer, a dangling input), a value produced twice, no output.
	ErrGraph = errors.New("onnx: invalid graph")

	// ErrUnsupportedOp reports an operator, attribute or combination of
	// operators that an aekit model cannot represent. The message names
	// the node, its op type and the opset.
	ErrUnsupportedOp = errors.New("onnx: unsupported op")

	// ErrUnsupportedOpset reports an opset version outside the range this
	// package reads or writes (MinOpset to MaxOpset for the default ONNX
	// domain).
	ErrUnsupportedOpset = errors.New("onnx: unsupported opset")

	// ErrUnsupportedIRVersion reports an IR version outside MinIRVersion to
	// MaxIRVersion.
	ErrUnsupportedIRVersion = errors.New("onnx: unsupported IR version")

	// ErrUnsupportedType reports a tensor element type aekit cannot use
	// (aekit computes in float32; initializers may be float or double,
	// shapes int64 or int32).
	ErrUnsupportedType = errors.New("onnx: unsupported data type")

	// ErrExternalData reports a tensor stored outside the .onnx file, which
	// this package does not read.
	ErrExternalData = errors.New("onnx: external data not supported")

	// ErrTooLarge reports a model beyond a limit of ReadOptions (MaxNodes,
	// MaxGraphDepth, MaxMessages, MaxValues); the message names the field
	// that raises it.
	ErrTooLarge = errors.New("onnx: resource limit exceeded")

	// ErrExport reports a model that cannot be written as ONNX.
	ErrExport = errors.New("onnx: cannot export")

	// ErrNoCheck reports a model file that carries no self-check data.
	ErrNoCheck = errors.New("onnx: no self-check data")

	// ErrCheck reports a self-check whose outputs differ from the recorded
	// ones by more than the tolerance.
	ErrCheck = errors.New("onnx: self-check failed")
)

// NodeError is an error of the reader about one node of the graph: Index
// is the node's position in the graph's node list (-1 when not known).
// It unwraps to Err, which wraps the sentinel (ErrUnsupportedOp, ...).
type NodeError struct {
	Index int
	Err   error
}

// Error returns Err's message.
func (e *NodeError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *NodeError) Unwrap() error { return e.Err }
