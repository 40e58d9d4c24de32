package onnx

import (
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// Info describes an ONNX file that Read decoded.
type Info struct {
	// Producer and ProducerVersion are the producer_name and
	// producer_version ("aekit", "pytorch", "tf2onnx", ...).
	Producer, ProducerVersion string
	// IRVersion is the file's IR version.
	IRVersion int64
	// Opset is the version of the default ("ai.onnx") operator set.
	Opset int64
	// Domain, ModelVersion and DocString are the model's fields of the
	// same names.
	Domain       string
	ModelVersion int64
	DocString    string
	// GraphName, InputName and OutputName name the graph and its input and
	// output.
	GraphName, InputName, OutputName string
	// Batch is the dim_param of the input's batch axis ("" if it has
	// none); BatchSize is the batch axis's fixed size, or 0 if symbolic.
	// aekit models take any batch size either way.
	Batch     string
	BatchSize int
	// Metadata holds the model's metadata_props.
	Metadata map[string]string
	// Check is the self-check data of an aekit-written file, or nil.
	Check *CheckData
	// ScoreOutputs names the anomaly outputs (reconstruction_error,
	// is_anomaly; see ScoreOutput) the graph has besides its output. Read
	// leaves them aside: the model is the graph up to OutputName.
	ScoreOutputs []string
	// SplitOutputs names the graph outputs when they are the parts of one
	// Split node along the last axis (ExportOptions.SplitOutputs: a VAE
	// encoder's z_mean and z_log_var). Read then reads the graph up to
	// the Split's input, OutputName: the model's output is the parts
	// concatenated in order.
	SplitOutputs []string

	checkErr error
}

// Read decodes an ONNX model from r (see Unmarshal).
func Read(r io.Reader) (*runtime.Model, *Info, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	return Unmarshal(b)
}

// ReadFile decodes the named ONNX file (see Unmarshal) with the default
// limits of ReadOptions. Errors name the file. A name that is not a
// regular file (a FIFO, a device) is refused before it is read, with an
// error wrapping inputfile.ErrNotRegular.
func ReadFile(name string) (*runtime.Model, *Info, error) {
	return ReadFileOptions(name, nil)
}

// Unmarshal decodes an ONNX model (IR versions MinIRVersion to
// MaxIRVersion, default-domain opsets MinReadOpset to MaxOpset) into an
// aekit model.
//
// The graph must compute a chain: one float input with a batch axis first,
// one output. Nodes may come in any order. Gemm and MatMul with constant
// weights become Dense layers; Add, Sub, Mul and Div by constants right
// after one are folded into its kernel and bias; element-wise activations
// (Relu, LeakyRelu, Elu, Selu, Sigmoid, HardSigmoid, Tanh, Softplus,
// Softsign, Exp, Gelu, Mish, Clip with a lower bound of 0) and the
// expansions x·Sigmoid(x) (swish), x·Tanh(Softplus(x)) (mish),
// x/(1+Abs(x)) (softsign) and GELU's erf and tanh forms become activations of the preceding Dense
// layer or activation layers. So do the forms tf2onnx gives Keras's
// activations: Max/Min with scalar bounds (tf.clip_by_value) as Clip,
// ThresholdedRelu and x·[x > t] (relu with a threshold, also as tf.where's
// [x > t]·x + 0·Not(x > t)), relu's negative part Relu(Neg(x) + t),
// clip(α·x + β, 0, 1) (Keras 2's hard sigmoid), k·clip(x + b, 0, 1/k)
// (Keras 3's relu6(x + 3)/6) and ELU's α applied by a where ([x > 0]·elu(x)
// + α·elu(x)·Not(x > 0)). Softmax and LogSoftmax over the last axis
// (and, below opset 13, over all axes after the batch) become activation
// layers; Flatten and Reshape with a constant shape become Reshape layers;
// BatchNormalization and LayerNormalization become those layers, and so do
// layer normalisation's expansions: PyTorch's below opset 17, tf2onnx's of
// Keras 3's and of tf-keras's LayerNormalization, including tf-keras's
// fused form (a BatchNormalization between Reshapes whose shapes and
// counts are computed in the graph from Shape: evaluated on the input's
// known width, within bounds, and checked against what that form computes),
// and UnitNormalization as aekit, tf-keras (tf.math.l2_normalize, ε
// 1e-12) and Keras 3 write it through tf2onnx becomes that layer;
// Identity, Dropout and Cast to float pass values through. Constants come
// from initializers (raw_data or typed fields; float, double, int64, int32
// or bool) and Constant nodes. Layers are named after nodes. Files written
// by aekit get their nested models and layer classes back.
//
// Errors wrap ErrFormat, ErrGraph, ErrUnsupportedOp, ErrUnsupportedOpset,
// ErrUnsupportedIRVersion, ErrUnsupportedType or ErrExternalData, and name
// the node, its op type and the opset where one is at fault. A model
// beyond the default limits of ReadOptions fails with ErrTooLarge before
// it is decoded.
func Unmarshal(b []byte) (*runtime.Model, *Info, error) {
	return UnmarshalOptions(b, nil)
}

func unmarshal(b []byte) (*runtime.Model, *Info, error) {
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return decode(&mp)
}

func decode(mp *pb.ModelProto) (*runtime.Model, *Info, error) {
	info := &Info{
		Producer: mp.GetProducerName(), ProducerVersion: mp.GetProducerVersion(),
		IRVersion: mp.GetIrVersion(), Domain: mp.GetDomain(), ModelVersion: mp.GetModelVersion(),
		DocString: mp.GetDocString(), Metadata: map[string]string{},
	}
	if mp.GetGraph() == nil {
		return nil, nil, fmt.Errorf("%w: no graph (not an ONNX model?)", ErrFormat)
	}
	if v := info.IRVersion; v < MinIRVersion || v > MaxIRVersion {
		return nil, nil, fmt.Errorf("%w %d: aekit reads IR versions %d to %d", ErrUnsupportedIRVersion, v, MinIRVersion, MaxIRVersion)
	}
	found := false
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			if found && o.GetVersion() != info.Opset {
				return nil, nil, fmt.Errorf("%w: default domain imported twice (%d and %d)", ErrFormat, info.Opset, o.GetVersion())
			}
			info.Opset, found = o.GetVersion(), true
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: the model imports no default (ai.onnx) opset", ErrUnsupportedOpset)
	}
	if info.Opset < MinReadOpset || info.Opset > MaxOpset {
		return nil, nil, fmt.Errorf("%w %d: aekit reads opsets %d to %d", ErrUnsupportedOpset, info.Opset, MinReadOpset, MaxOpset)
	}
	for _, p := range mp.GetMetadataProps() {
		info.Metadata[p.GetKey()] = p.GetValue()
	}
	info.Check, info.checkErr = parseCheck(info.Metadata)

	g := mp.GetGraph()
	info.GraphName = g.GetName()
	im := &importer{opset: info.Opset, info: info, consts: map[string]*tensor{}, vals: map[string]value{},
		names: map[string]bool{}}
	m, err := im.graph(g)
	if err != nil {
		return nil, nil, err
	}
	m.Name = g.GetName()
	if info.Producer == ProducerName {
		if s, ok := info.Metadata[MetaModel]; ok {
			if r := restructure(s, m); r != nil {
				m = r
			}
		}
	}
	m.InputName, m.OutputName = info.InputName, info.OutputName
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: the imported model is invalid: %w", ErrGraph, err)
	}
	return m, info, nil
}
