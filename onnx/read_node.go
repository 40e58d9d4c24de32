package onnx

import (
	"fmt"
	"strings"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// element-wise ops kept as expressions until their result is needed.
var exprOps = map[string]int{ // op → number of inputs it reads
	"Relu": 1, "Sigmoid": 1, "Tanh": 1, "LeakyRelu": 1, "Elu": 1, "Selu": 1, "Softplus": 1,
	"Softsign": 1, "HardSigmoid": 1, "Exp": 1, "Erf": 1, "Abs": 1, "Gelu": 1, "Mish": 1, "Clip": 3,
	"Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2, "Greater": 2, "Less": 2, "Where": 3, "Neg": 1,
	// as tf2onnx writes tf.clip_by_value, Keras's thresholded relu, and
	// tf.where on floats (c·a + Not(c)·b)
	"Min": 2, "Max": 2, "ThresholdedRelu": 1, "Not": 1,
	// as PyTorch writes LayerNorm below opset 17 (see matchLayerNorm)
	"ReduceMean": 1, "Sqrt": 1,
	// as tf2onnx writes Keras's LayerNormalization (see matchKerasLayerNorm)
	"Reciprocal": 1,
	// as aekit and tf2onnx write UnitNormalization (see matchUnitNorm)
	"ReduceSumSquare": 1, "ReduceSum": 1,
}

func (im *importer) node(n *pb.NodeProto) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return im.errNode(ErrUnsupportedOp, n, "domain %q is not supported", d)
	}
	op := n.GetOpType()
	if len(n.GetOutput()) == 0 {
		return im.errNode(ErrFormat, n, "has no output")
	}
	for k, o := range n.GetOutput()[1:] {
		if o == "" {
			continue
		}
		if op != "Dropout" || k != 0 {
			return im.errNode(ErrUnsupportedOp, n, "has %d outputs; aekit reads single-output nodes", len(n.GetOutput()))
		}
	}
	if op == "Constant" {
		c, err := im.constant(n)
		if err != nil {
			return err
		}
		im.set(n, value{c: c})
		return nil
	}
	x, ok := im.in(n, 0)
	if !ok {
		return im.errNode(ErrGraph, n, "has no first input")
	}
	switch op {
	case "Identity":
		im.set(n, x)
		return nil
	case "Dropout":
		if v, ok := im.in(n, 2); ok {
			if v.c == nil {
				return im.errNode(ErrUnsupportedOp, n, "training_mode is computed")
			}
			if s, _ := v.c.scalar(); s != 0 {
				return im.errNode(ErrUnsupportedOp, n, "training_mode is true; aekit runs inference")
			}
		}
		im.set(n, x)
		return nil
	case "Cast":
		to := pb.TensorProto_DataType(attrInt(n, "to", 0))
		if x.c != nil && (to == pb.TensorProto_FLOAT || to == pb.TensorProto_DOUBLE) {
			im.set(n, value{c: &tensor{dims: x.c.dims, f: x.c.float()}})
			return nil
		}
		if x.c != nil && to == pb.TensorProto_INT64 && x.c.isInt {
			im.set(n, x)
			return nil
		}
		if x.e != nil && x.e.ints && (to == pb.TensorProto_INT64 || to == pb.TensorProto_INT32 || to == pb.TensorProto_FLOAT) {
			// A computed shape, or a count from one (see shapeOps).
			im.set(n, value{e: &expr{op: op, node: n, args: []value{x}, ints: to != pb.TensorProto_FLOAT}})
			return nil
		}
		if to != pb.TensorProto_FLOAT {
			return im.errNode(ErrUnsupportedOp, n, "casts to %v; aekit computes in float", to)
		}
		im.set(n, x)
		return nil
	}
	if shapeOps[op] {
		return im.deferNode(n)
	}
	if k, ok := exprOps[op]; ok {
		if (op == "Min" || op == "Max") && len(n.GetInput()) != 2 {
			return im.errNode(ErrUnsupportedOp, n, "has %d inputs; aekit reads %s of a tensor and a constant", len(n.GetInput()), op)
		}
		e := &expr{op: op, node: n}
		dyn := false
		for i := 0; i < k && i < len(n.GetInput()); i++ {
			v, ok := im.in(n, i)
			if !ok && i > 0 && op == "Clip" {
				e.args = append(e.args, value{})
				continue
			}
			if !ok {
				return im.errNode(ErrGraph, n, "input %d is missing", i)
			}
			dyn = dyn || v.e != nil
			e.args = append(e.args, v)
		}
		if len(e.args) < k && op != "Clip" {
			return im.errNode(ErrGraph, n, "has %d inputs, want %d", len(e.args), k)
		}
		if !dyn {
			return im.errNode(ErrUnsupportedOp, n, "computes on constants only; aekit does not fold constant subgraphs")
		}
		im.set(n, value{e: e})
		return nil
	}
	var err error
	switch op {
	case "Gemm", "MatMul":
		err = im.dense(n, x)
	case "Flatten":
		err = im.flatten(n, x)
	case "Reshape":
		if im.deferReshape(n, x) {
			return im.deferNode(n)
		}
		err = im.reshape(n, x)
	case "Softmax", "LogSoftmax":
		err = im.softmax(n, x)
	case "BatchNormalization":
		if im.deferBatchNorm(n, x) {
			return im.deferNode(n)
		}
		err = im.batchNorm(n, x)
	case "LayerNormalization":
		err = im.layerNorm(n, x)
	default:
		return im.errNode(ErrUnsupportedOp, n, "aekit has no equivalent")
	}
	if err != nil {
		return err
	}
	im.set(n, value{e: im.head})
	return nil
}

func (im *importer) constant(n *pb.NodeProto) (*tensor, error) {
	if len(n.GetAttribute()) != 1 {
		return nil, im.errNode(ErrFormat, n, "has %d attributes, want 1", len(n.GetAttribute()))
	}
	a := n.GetAttribute()[0]
	switch a.GetName() {
	case "value":
		if a.GetT() == nil {
			return nil, im.errNode(ErrFormat, n, "value is not a tensor")
		}
		t, err := decodeTensor(a.GetT())
		if err != nil {
			return nil, fmt.Errorf("%s (Constant, opset %d): %w", im.nodeLabel(n), im.opset, err)
		}
		return t, nil
	case "value_float":
		return &tensor{f: []float32{a.GetF()}}, nil
	case "value_floats":
		return &tensor{dims: []int{len(a.GetFloats())}, f: a.GetFloats()}, nil
	case "value_int":
		return &tensor{i: []int64{a.GetI()}, isInt: true}, nil
	case "value_ints":
		return &tensor{dims: []int{len(a.GetInts())}, i: a.GetInts(), isInt: true}, nil
	}
	return nil, im.errNode(ErrUnsupportedOp, n, "attribute %q is not supported", a.GetName())
}

// layer appends l to the chain and makes it the chain's output.
func (im *importer) layer(n *pb.NodeProto, l *runtime.Layer, shape []int) {
	l.Name = im.layerName(n)
	im.layers = append(im.layers, l)
	im.shape = shape
	im.ver++
	im.head = &expr{op: "x", ver: im.ver}
}

func (im *importer) layerName(n *pb.NodeProto) string {
	name := strings.TrimPrefix(n.GetName(), "/")
	if name == "" {
		name = strings.ToLower(n.GetOpType())
	}
	return uniqueIn(im.names, name)
}

// dyn materialises a node's first input, which must be computed.
func (im *importer) dyn(n *pb.NodeProto, x value) error {
	if x.e == nil {
		return im.errNode(ErrUnsupportedOp, n, "first input %q is a constant", n.GetInput()[0])
	}
	_, err := im.mat(x, n)
	return err
}

func (im *importer) flatten(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	r := int64(len(im.shape) + 1)
	axis := attrInt(n, "axis", 1)
	if axis < 0 {
		axis += r
	}
	if axis != 1 {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor mixes samples; aekit flattens after the batch axis (axis 1)", attrInt(n, "axis", 1), r)
	}
	im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Flatten"}, []int{prod(im.shape)})
	return nil
}

func (im *importer) reshape(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	s, ok := im.in(n, 1)
	if !ok || s.c == nil || !s.c.isInt || len(s.c.dims) != 1 {
		return im.errNode(ErrUnsupportedOp, n, "shape is not a constant 1-D integer tensor")
	}
	t := s.c.i
	allowZero := attrInt(n, "allowzero", 0) != 0
	total := prod(im.shape)
	bad := func(why string) error {
		return im.errNode(ErrUnsupportedOp, n, "shape %v of a [batch %s] tensor: %s", t, dimsString(im.shape), why)
	}
	if len(t) < 2 {
		return bad("aekit keeps the batch axis")
	}
	switch {
	case t[0] == 0 && !allowZero:
	case t[0] == -1:
		for _, d := range t[1:] {
			if d <= 0 {
				return bad("the batch axis is -1, so the others must be known")
			}
		}
	case im.dims0 > 0 && t[0] == int64(im.dims0):
	default:
		return bad("the first dimension must keep the batch (0 or -1)")
	}
	shape := make([]int, len(t)-1)
	known, neg := 1, 0
	for k, d := range t[1:] {
		switch {
		case d == 0 && !allowZero && k+1 <= len(im.shape):
			d = int64(im.shape[k])
		case d == -1:
			neg++
		case d <= 0 || d > 1<<28:
			return bad("bad dimension")
		}
		shape[k] = int(d)
		if d > 0 {
			known *= int(d)
			if known > 1<<28 {
				return bad("too large")
			}
		}
	}
	if neg > 1 || (neg == 0 && known != total) || (neg == 1 && total%known != 0) {
		return bad("the number of values changes")
	}
	out := append([]int(nil), shape...)
	for k, d := range out {
		if d == -1 {
			out[k] = total / known
		}
	}
	im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Reshape", Shape: shape}, out)
	return nil
}

func (im *importer) softmax(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	f := runtime.Softmax
	if n.GetOpType() == "LogSoftmax" {
		f = runtime.LogSoftmax
	}
	r := int64(len(im.shape) + 1)
	def := int64(-1)
	if im.opset < 13 {
		def = 1
	}
	axis := attrInt(n, "axis", def)
	if axis < 0 {
		axis += r
	}
	if axis <= 0 || axis >= r {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor; aekit normalises within samples", attrInt(n, "axis", def), r)
	}
	last := axis == r-1
	if im.opset < 13 {
		// Softmax ≤ 12 normalises over all axes from axis on.
		last = last || prod(im.shape[axis-1:len(im.shape)-1]) == 1
		if !last && axis == 1 {
			shape := im.shape
			im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Flatten"}, []int{prod(shape)})
			im.layer(n, &runtime.Layer{Type: runtime.ActivationLayer, Class: "Activation", Act: runtime.Act(f)}, im.shape)
			im.layer(n, &runtime.Layer{Type: runtime.Reshape, Class: "Reshape", Shape: shape}, shape)
			return nil
		}
	}
	if !last {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor; aekit's softmax normalises the last axis", attrInt(n, "axis", def), r)
	}
	im.layer(n, &runtime.Layer{Type: runtime.ActivationLayer, Class: "Activation", Act: runtime.Act(f)}, im.shape)
	return nil
}

// mat turns a computed value into the chain's output, appending the
// layers its expression stands for, and returns the chain's output. user
// is the node that needs it (for errors).
func (im *importer) mat(v value, user *pb.NodeProto) (*expr, error) {
	e := v.e
	if e == nil {
		return nil, im.errNode(ErrUnsupportedOp, user, "needs a computed input, got a constant")
	}
	if e.mat != nil {
		e = e.mat
	}
	if e.op == "x" {
		if e.ver != im.ver {
			return nil, im.errNode(ErrUnsupportedOp, user, "reads a value the graph has moved past (the graph branches; aekit models are chains)")
		}
		return e, nil
	}
	switch {
	case e.op == "Reshape":
		// Deferred by deferReshape: tf2onnx's form of tf-keras's fused
		// LayerNormalization, else read as any Reshape is (or refused).
		if ok, err := im.fusedLayerNorm(e); err != nil {
			return nil, err
		} else if !ok {
			if err := im.reshape(e.node, e.args[0]); err != nil {
				return nil, err
			}
		}
		e.mat = im.head
		return im.head, nil
	case e.op == "BatchNormalization":
		// Deferred by deferBatchNorm and not part of a fused
		// LayerNormalization: read (or refused) as any BatchNormalization.
		if err := im.batchNorm(e.node, e.args[0]); err != nil {
			return nil, err
		}
		e.mat = im.head
		return im.head, nil
	case e.ints || e.op == "Cast":
		return nil, im.errNode(ErrUnsupportedOp, e.node, "computes a shape or count, which aekit reads only within tf2onnx's form of tf-keras's LayerNormalization")
	case shapeOps[e.op]:
		return nil, im.errNode(ErrUnsupportedOp, e.node, "aekit has no equivalent")
	}
	if x, eps, ok := im.matchLayerNorm(e); ok {
		if _, err := im.mat(value{e: x}, e.node); err != nil {
			return nil, err
		}
		w := im.shape[len(im.shape)-1]
		ln := runtime.NewLayerNormalization(nil, nil, eps)
		im.layer(e.node, &runtime.Layer{Type: runtime.Other, Class: "LayerNormalization", Kind: ln}, im.shape)
		im.norm1 = im.layers[len(im.layers)-1]
		if err := ln.Build(im.shape); err != nil || w <= 0 {
			return nil, im.errNode(ErrUnsupportedOp, e.node, "layer normalisation of a [batch %s] tensor", dimsString(im.shape))
		}
		e.mat = im.head
		return im.head, nil
	}
	if kln, ok, err := im.matchKerasLayerNorm(e); err != nil {
		return nil, err
	} else if ok {
		if _, err := im.mat(value{e: kln.x}, e.node); err != nil {
			return nil, err
		}
		w := im.shape[len(im.shape)-1]
		gamma, beta, err := im.kerasLayerNormParams(e.node, kln, w)
		if err != nil {
			return nil, err
		}
		ln := runtime.NewLayerNormalization(gamma, beta, kln.eps)
		if err := ln.Build(im.shape); err != nil || w <= 0 {
			return nil, im.errNode(ErrUnsupportedOp, e.node, "layer normalisation of a [batch %s] tensor", dimsString(im.shape))
		}
		im.layer(e.node, &runtime.Layer{Type: runtime.Other, Class: "LayerNormalization", Kind: ln}, im.shape)
		e.mat = im.head
		return im.head, nil
	}
	if x, eps, ok := im.matchUnitNorm(e); ok {
		if _, err := im.mat(value{e: x}, e.node); err != nil {
			return nil, err
		}
		un := &runtime.UnitNormalization{Axis: -1, Epsilon: eps}
		if err := un.Build(im.shape); err != nil {
			return nil, im.errNode(ErrUnsupportedOp, e.node, "unit normalisation of a [batch %s] tensor", dimsString(im.shape))
		}
		im.layer(e.node, &runtime.Layer{Type: runtime.Other, Class: "UnitNormalization", Kind: un}, im.shape)
		e.mat = im.head
		return im.head, nil
	}
	act, inner, err := im.matchAct(e)
	if err != nil {
		return nil, err
	}
	if inner != nil {
		if _, err := im.mat(value{e: inner}, e.node); err != nil {
			return nil, err
		}
		im.layer(e.node, &runtime.Layer{Type: runtime.ActivationLayer, Class: "Activation", Act: act}, im.shape)
		e.mat = im.head
		return im.head, nil
	}
	if err := im.affine(e); err != nil {
		return nil, err
	}
	e.mat = im.head
	return im.head, nil
}
