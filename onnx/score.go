package onnx

import (
	"fmt"
	"slices"
	"strings"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// Names of the anomaly outputs Write adds with ExportOptions.Score.
const (
	// ReconstructionErrorName is the per-row reconstruction error output:
	// float32, shape [batch].
	ReconstructionErrorName = "reconstruction_error"
	// IsAnomalyName is the per-row anomaly flag output: bool, shape
	// [batch], reconstruction_error > threshold.
	IsAnomalyName = "is_anomaly"
)

// ScoreOutput asks Write to add anomaly outputs after the model's output.
type ScoreOutput struct {
	// Metric is the reconstruction error of a row, the mean over its
	// features of: "mse", (output − input)²; "mae", |output − input|;
	// "bce", binary cross-entropy of the output against the input as
	// Keras computes it on TensorFlow: from the logits z when the model
	// ends in a sigmoid (possibly followed by Reshape or Flatten), as
	// Relu(z) − z·input + Softplus(−|z|), else on the output clipped to
	// [1e-7, 1 − 1e-7] (Keras 3's form). These are the formulas of
	// package train's losses and of package score.
	Metric string
	// Threshold, when not nil, adds the output IsAnomalyName:
	// reconstruction_error > *Threshold.
	Threshold *float32
}

// scoreOutputs adds the outputs s asks for, computed from the graph input
// and output, to b's graph; batch is the batch dimension.
func (b *builder) scoreOutputs(s *ScoreOutput, m *runtime.Model, batch *pb.TensorShapeProto_Dimension) error {
	if s == nil {
		return nil
	}
	if m.InputWidth() != m.OutputWidth() {
		return fmt.Errorf("%w: a reconstruction error needs the output width (%d) to equal the input width (%d)", ErrExport, m.OutputWidth(), m.InputWidth())
	}
	b.tensors[ReconstructionErrorName], b.tensors[IsAnomalyName] = true, true
	in, out := graphNames(m)
	flat := func(x string, shape []int) string {
		if len(shape) == 1 {
			return x
		}
		return b.add("Flatten", "score/Flatten", "", []string{x}, attrI("axis", 1))
	}
	t := flat(in, m.Input)
	var e string // element-wise error, [batch, width]
	switch strings.ToLower(s.Metric) {
	case "mse":
		d := b.add("Sub", "score/Sub", "", []string{flat(out, m.OutputShape()), t})
		e = b.add("Mul", "score/Square", "", []string{d, d})
	case "mae":
		d := b.add("Sub", "score/Sub", "", []string{flat(out, m.OutputShape()), t})
		e = b.add("Abs", "score/Abs", "", []string{d})
	case "bce":
		if z, ok := b.logits(out); ok {
			z = flat(z, m.OutputShape())
			pos := b.add("Relu", "score/Relu", "", []string{z})
			zt := b.add("Mul", "score/Mul", "", []string{z, t})
			abs := b.add("Abs", "score/Abs", "", []string{z})
			neg := b.add("Neg", "score/Neg", "", []string{abs})
			sp := b.add("Softplus", "score/Softplus", "", []string{neg})
			d := b.add("Sub", "score/Sub", "", []string{pos, zt})
			e = b.add("Add", "score/Add", "", []string{d, sp})
		} else {
			const eps = 1e-7
			p := b.add("Clip", "score/Clip", "", []string{flat(out, m.OutputShape()), b.scalar(eps), b.scalar(1 - eps)})
			one := b.scalar(1)
			lp := b.add("Log", "score/Log", "", []string{p})
			q := b.add("Sub", "score/Sub_p", "", []string{one, p})
			lq := b.add("Log", "score/Log_1p", "", []string{q})
			u := b.add("Sub", "score/Sub_t", "", []string{one, t})
			a := b.add("Mul", "score/Mul_t", "", []string{t, lp})
			c := b.add("Mul", "score/Mul_1t", "", []string{u, lq})
			sum := b.add("Add", "score/Add", "", []string{a, c})
			e = b.add("Neg", "score/Neg", "", []string{sum})
		}
	default:
		return fmt.Errorf("%w: score metric %q (valid: mse, mae, bce)", ErrExport, s.Metric)
	}
	doc := "reconstruction error: mean over the row's features of " + strings.ToLower(s.Metric)
	mean := &pb.NodeProto{Name: b.nodeName("score/ReduceMean"), OpType: "ReduceMean", DocString: doc,
		Input: []string{e}, Output: []string{ReconstructionErrorName}, Attribute: []*pb.AttributeProto{attrI("keepdims", 0)}}
	if b.opset >= 18 {
		// Opset 18 moved ReduceMean's axes from an attribute to an input.
		axes := b.tensorName("score/axes")
		b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: axes, Dims: []int64{1},
			DataType: int32(pb.TensorProto_INT64), Int64Data: []int64{1}})
		mean.Input = append(mean.Input, axes)
	} else {
		mean.Attribute = append(mean.Attribute, &pb.AttributeProto{Name: "axes", Type: pb.AttributeProto_INTS, Ints: []int64{1}})
	}
	b.g.Node = append(b.g.Node, mean)
	b.g.Output = append(b.g.Output, rowInfo(ReconstructionErrorName, batch, pb.TensorProto_FLOAT, doc))
	if s.Threshold != nil {
		th := b.initializer("score/threshold", nil, []float32{*s.Threshold})
		b.g.Node = append(b.g.Node, &pb.NodeProto{Name: b.nodeName("score/Greater"), OpType: "Greater",
			Input: []string{ReconstructionErrorName, th}, Output: []string{IsAnomalyName}})
		b.g.Output = append(b.g.Output, rowInfo(IsAnomalyName, batch, pb.TensorProto_BOOL,
			fmt.Sprintf("reconstruction_error > %g", *s.Threshold)))
	}
	return nil
}

// logits returns the input of the sigmoid that computes the graph output out,
// looking through Reshape, Flatten and Identity nodes, and whether there is
// one.
func (b *builder) logits(out string) (string, bool) {
	producer := map[string]*pb.NodeProto{}
	for _, n := range b.g.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	x := out
	for {
		n, ok := producer[x]
		if !ok {
			return "", false
		}
		switch n.OpType {
		case "Sigmoid":
			return n.Input[0], true
		case "Reshape", "Flatten", "Identity":
			x = n.Input[0]
		default:
			return "", false
		}
	}
}

// rowInfo describes a graph output of one value per row.
func rowInfo(name string, batch *pb.TensorShapeProto_Dimension, ty pb.TensorProto_DataType, doc string) *pb.ValueInfoProto {
	return &pb.ValueInfoProto{Name: name, DocString: doc, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
		ElemType: int32(ty), Shape: &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{batch}}}}}}
}

// metadataProps returns md as metadata_props sorted by key; keys of this
// package's own metadata (aekit.model, aekit.check.*) are refused.
func metadataProps(md map[string]string) ([]*pb.StringStringEntryProto, error) {
	keys := make([]string, 0, len(md))
	for k := range md {
		if k == MetaModel || strings.HasPrefix(k, "aekit.check.") || k == "" {
			return nil, fmt.Errorf("%w: metadata key %q is reserved", ErrExport, k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	props := make([]*pb.StringStringEntryProto, len(keys))
	for i, k := range keys {
		props[i] = &pb.StringStringEntryProto{Key: k, Value: md[k]}
	}
	return props, nil
}

// isScoreOutput reports whether name is one of the anomaly outputs Write
// adds, which Read recognises and leaves aside.
func isScoreOutput(name string) bool {
	return name == ReconstructionErrorName || name == IsAnomalyName
}
