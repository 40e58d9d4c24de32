// Package onnx reads and writes aekit models as ONNX files.
//
// # Export
//
// Write, WriteFile and Marshal turn a *runtime.Model into an ONNX model
// that ONNX Runtime, the onnx checker and other consumers load: opset 13
// by default (MinOpset to MaxOpset with ExportOptions.Opset), the IR
// version tf2onnx pairs with the opset (IRVersion), one float32 input of
// shape [N, sample...] with a symbolic batch dimension and one output,
// named as tf2onnx names a Keras model's (the input after the Keras
// InputLayer, runtime.Model.InputName, the output after the last layer;
// "input" and "output" when the model names none), initializers as little-endian float32 raw_data. Dense
// layers become Gemm with a 1-D bias (MatMul when there is no bias); each
// activation becomes its ONNX operator:
//
//	relu                 Relu; LeakyRelu with a negative slope; Clip(0, max)
//	                     when capped; Where/Greater/Less with a threshold
//	relu6                Clip(0, 6)
//	leaky_relu, elu      LeakyRelu, Elu (alpha)
//	selu                 Selu with Keras's alpha and gamma
//	hard_sigmoid         HardSigmoid (alpha, beta from the activation)
//	sigmoid, tanh, softplus, softsign, exponential
//	                     Sigmoid, Tanh, Softplus, Softsign, Exp
//	softmax, log_softmax Softmax, LogSoftmax, axis -1 (the last axis: the
//	                     same under the opset ≥ 13 semantics and the older
//	                     flatten-to-2-D semantics)
//	swish                x·Sigmoid(x)
//	gelu                 0.5·x·(1+Erf(x/√2)), or the tanh form when
//	                     approximate; the Gelu operator from opset 20
//	mish                 x·Tanh(Softplus(x)); the Mish operator from opset 18
//
// Flatten and Reshape layers become the operators of the same name;
// Identity layers (Dropout and the like) are folded away. Nodes are named
// after layers (an activation of Dense layer d is "d/relu"), carry doc
// strings, and the model records producer "aekit" and its version.
//
// Write exports the model it is given; to export an encoder or decoder
// alone, or a model up to a layer, pass m.Submodel(name) or m.Until(name).
//
// # Anomaly outputs
//
// With ExportOptions.Score, Write adds a per-row reconstruction_error
// output (float32 [batch]: Sub, Mul or Abs, or binary cross-entropy from
// the logits of a final sigmoid, then ReduceMean over axis 1, whose axes
// are an input from opset 18) and, given a threshold, is_anomaly (bool
// [batch], Greater). ExportOptions.Metadata stores the threshold with it
// (package score's aekit.anomaly.* keys). Read leaves these outputs aside
// and names them in Info.ScoreOutputs.
//
// # Self-check
//
// The files Write produces carry, in metadata_props, a few random inputs
// and the outputs aekit computed for them (keys MetaCheckShape,
// MetaCheckInput, MetaCheckOutput; ONNX Runtime ignores them), and the
// layer tree (MetaModel). SelfCheck re-runs a model read back on those
// inputs and compares, so a file can be verified with no other data.
//
// # Import
//
// Read, ReadFile and Unmarshal turn ONNX models made by aekit, PyTorch
// (torch.onnx.export), tf2onnx, keras2onnx and the like into a
// *runtime.Model, for chains of Dense-style layers: see Unmarshal for the
// operators and patterns understood. Files written by aekit come back with
// their nested sub-models, layer names and classes.
//
// # Errors
//
// Errors wrap one of the package's sentinel errors (ErrFormat, ErrGraph,
// ErrUnsupportedOp, ErrUnsupportedOpset, ErrUnsupportedIRVersion,
// ErrUnsupportedType, ErrExternalData, ErrTooLarge, ErrExport, ErrNoCheck,
// ErrCheck) — test with errors.Is — and name the node, op type and opset
// at fault. Malformed input gives an error, never a panic. Before the
// protobuf is decoded, its nodes and nested graphs are counted on the wire
// against the limits of ReadOptions (10,000 nodes and 8 levels by
// default), so an oversized graph costs no memory; ReadFile refuses a
// named pipe or a device before reading it.
//
// The ONNX protobuf types come from internal/onnxpb, generated from a
// minimal onnx.proto written from the ONNX specification.
package onnx
