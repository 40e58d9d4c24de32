package onnx

import (
	"fmt"
	"math"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// affineLayer applies x·scale + shift per feature after the layer d (nil:
// the input) that no constant can be folded into: it extends d when d is
// such a layer this import made, else appends a Rescaling layer with one
// scale and offset per feature (the Mul and Add that tf2onnx makes of a
// Keras BatchNormalization after an activation, say).
func (im *importer) affineLayer(n *pb.NodeProto, d *runtime.Layer, scale, shift []float32) {
	if d != nil && d == im.norm1 {
		// γ and β after a layer normalisation read from its expansion.
		ln := d.Kind.(*runtime.LayerNormalization)
		gamma, beta := make([]float32, len(scale)), make([]float32, len(scale))
		ones, zeros := true, true
		for j := range scale {
			g, b := float32(1), float32(0)
			if ln.Gamma != nil {
				g = ln.Gamma[j]
			}
			if ln.Beta != nil {
				b = ln.Beta[j]
			}
			gamma[j], beta[j] = g*scale[j], b*scale[j]+shift[j]
			ones, zeros = ones && gamma[j] == 1, zeros && beta[j] == 0
		}
		if ones && ln.Gamma == nil {
			gamma = nil
		}
		if zeros && ln.Beta == nil {
			beta = nil
		}
		d.Kind = runtime.NewLayerNormalization(gamma, beta, ln.Epsilon)
		im.ver++
		im.head = &expr{op: "x", ver: im.ver}
		return
	}
	if d != nil && d == im.affine1 {
		r := d.Kind.(*runtime.Rescaling)
		for j := range scale {
			r.Scale[j] *= scale[j]
			r.Offset[j] = r.Offset[j]*scale[j] + shift[j]
		}
		im.ver++
		im.head = &expr{op: "x", ver: im.ver}
		return
	}
	l := &runtime.Layer{Type: runtime.Other, Class: "Rescaling", Kind: &runtime.Rescaling{Scale: scale, Offset: shift}}
	im.layer(n, l, im.shape)
	im.affine1 = l
}

// vectorIn returns input k of n, a constant of w values.
func (im *importer) vectorIn(n *pb.NodeProto, k, w int, what string) ([]float32, error) {
	v, ok := im.in(n, k)
	if !ok || v.c == nil {
		return nil, im.errNode(ErrUnsupportedOp, n, "%s is not a constant", what)
	}
	f := v.c.float()
	if len(f) != w || prod(v.c.dims) != w {
		return nil, im.errNode(ErrUnsupportedOp, n, "%s has shape %v, want [%d]", what, v.c.dims, w)
	}
	return f, nil
}

// flatFeatures checks that the chain's output is flat: [batch, features],
// where the feature axis ONNX normalises (axis 1) is the last.
func (im *importer) flatFeatures(n *pb.NodeProto) (int, error) {
	if len(im.shape) != 1 {
		return 0, im.errNode(ErrUnsupportedOp, n, "normalises axis 1 of a [batch %s] tensor; aekit normalises the last axis of flat samples", dimsString(im.shape))
	}
	return im.shape[0], nil
}

// batchNorm reads BatchNormalization in inference mode as a Keras-style
// BatchNormalization layer.
func (im *importer) batchNorm(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	if attrInt(n, "training_mode", 0) != 0 {
		return im.errNode(ErrUnsupportedOp, n, "training_mode is on; aekit runs inference")
	}
	if im.opset < 9 && attrInt(n, "spatial", 1) != 1 {
		return im.errNode(ErrUnsupportedOp, n, "spatial is 0")
	}
	w, err := im.flatFeatures(n)
	if err != nil {
		return err
	}
	var p [4][]float32
	for k, what := range []string{"scale", "B", "input_mean", "input_var"} {
		if p[k], err = im.vectorIn(n, k+1, w, what); err != nil {
			return err
		}
	}
	bn := runtime.NewBatchNormalization(p[0], p[1], p[2], p[3], attrFloat(n, "epsilon", 1e-5))
	im.layer(n, &runtime.Layer{Type: runtime.Other, Class: "BatchNormalization", Kind: bn}, im.shape)
	return nil
}

// layerNorm reads LayerNormalization over the last axis.
func (im *importer) layerNorm(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	r := int64(len(im.shape) + 1)
	axis := attrInt(n, "axis", -1)
	if axis < 0 {
		axis += r
	}
	if axis != r-1 {
		return im.errNode(ErrUnsupportedOp, n, "axis %d of a rank-%d tensor; aekit normalises the last axis", attrInt(n, "axis", -1), r)
	}
	w := im.shape[len(im.shape)-1]
	gamma, err := im.vectorIn(n, 1, w, "Scale")
	if err != nil {
		return err
	}
	var beta []float32
	if _, ok := im.in(n, 2); ok {
		if beta, err = im.vectorIn(n, 2, w, "B"); err != nil {
			return err
		}
	}
	ln := runtime.NewLayerNormalization(gamma, beta, attrFloat(n, "epsilon", 1e-5))
	im.layer(n, &runtime.Layer{Type: runtime.Other, Class: "LayerNormalization", Kind: ln}, im.shape)
	return nil
}

// matchLayerNorm recognises layer normalisation over the last axis as
// PyTorch (and aekit) write LayerNorm below opset 17: Div(d, Sqrt(Add(ReduceMean(
// Pow(d, 2)), ε))) with d = Sub(x, ReduceMean(x)), the ReduceMeans over
// the last axis keeping it. It returns x and ε. The Mul and Add by γ and
// β that follow become the layer's γ and β (affineLayer).
func (im *importer) matchLayerNorm(e *expr) (x *expr, eps float32, ok bool) {
	if e.op != "Div" || len(e.args) != 2 || e.args[0].e == nil || e.args[1].e == nil {
		return nil, 0, false
	}
	d, sq := e.args[0].e, e.args[1].e
	if d.op != "Sub" || len(d.args) != 2 || d.args[0].e == nil || d.args[1].e == nil {
		return nil, 0, false
	}
	x, m := d.args[0].e, d.args[1].e
	if !im.lastMean(m) || m.args[0].e != x {
		return nil, 0, false
	}
	if sq.op != "Sqrt" || sq.args[0].e == nil {
		return nil, 0, false
	}
	add := sq.args[0].e
	if add.op != "Add" || len(add.args) != 2 || add.args[0].e == nil || add.args[1].c == nil {
		return nil, 0, false
	}
	v := add.args[0].e
	if !im.lastMean(v) || v.args[0].e == nil {
		return nil, 0, false
	}
	p := v.args[0].e
	switch {
	case p.op == "Pow" && len(p.args) == 2 && p.args[0].e == d:
		if k, isScalar := scalarOf(p.args[1]); !isScalar || k != 2 {
			return nil, 0, false
		}
	case p.op == "Mul" && len(p.args) == 2 && p.args[0].e == d && p.args[1].e == d:
	default:
		return nil, 0, false
	}
	epsv, isScalar := scalarOf(add.args[1])
	if !isScalar || epsv < 0 {
		return nil, 0, false
	}
	return x, float32(epsv), true
}

// lastMean reports whether e is a ReduceMean over the last axis only,
// keeping it.
func (im *importer) lastMean(e *expr) bool { return im.lastReduce(e, "ReduceMean") }

// lastReduce reports whether e is a reduction op over the last axis
// only, keeping it.
func (im *importer) lastReduce(e *expr, op string) bool {
	if e == nil || e.op != op || len(e.args) != 1 || attrInt(e.node, "keepdims", 1) != 1 {
		return false
	}
	var axes []int64
	if a := attr(e.node, "axes"); a != nil {
		axes = a.GetInts()
	} else if v, ok := im.in(e.node, 1); ok && v.c != nil && v.c.isInt {
		axes = v.c.i
	}
	r := int64(len(im.shape) + 1)
	return len(axes) == 1 && (axes[0] == -1 || axes[0] == r-1)
}

// kerasLayerNorm is a layer normalisation matchKerasLayerNorm read.
type kerasLayerNorm struct {
	x    *expr
	eps  float32
	g, b *tensor // γ (nil: no scale) and β (nil: no offset)
}

// matchKerasLayerNorm recognises layer normalisation over the last axis
// as tf2onnx 1.17 writes a Keras 3 LayerNormalization (at every opset):
//
//	m = ReduceMean(x), d = Sub(x, m), v = ReduceMean(Mul(d, d)),
//	r = Reciprocal(Sqrt(Add(v, ε))), s = Mul(r, γ) (or s = r without scale),
//	y = Add(Mul(x, s), Add(Mul(Neg(m), s), β))
//
// and a tf-keras one off its fused path (epsilon below 1.001e-5:
// tf.nn.batch_normalization), the same but for the shift:
//
//	y = Add(Mul(x, s), Sub(β, Mul(m, s)))   or, without β,
//	y = Add(Mul(x, s), Mul(Neg(m), s))
//
// with both ReduceMeans over the last axis keeping it, ε a scalar
// constant and γ, β constants of one value per feature. ok is false when
// e is not of one of the outer forms (the tf forms with m a ReduceMean);
// err says what differs when it is of that form but the rest does not
// match.
func (im *importer) matchKerasLayerNorm(e *expr) (ln kerasLayerNorm, ok bool, err error) {
	if e.op != "Add" || len(e.args) != 2 {
		return ln, false, nil
	}
	xs, shift := e.args[0].e, e.args[1].e
	if !isOp(xs, "Mul", 2) || xs.args[0].e == nil || xs.args[1].e == nil {
		return ln, false, nil
	}
	x, s := xs.args[0].e, xs.args[1].e
	var m *expr
	var b value
	switch {
	case isOp(shift, "Add", 2):
		// Keras 3: Add(Mul(Neg(m), s), β).
		ms := shift.args[0].e
		if b = shift.args[1]; !isOp(ms, "Mul", 2) || b.c == nil || !isOp(ms.args[0].e, "Neg", 1) || ms.args[1].e != s {
			return ln, false, nil
		}
		m = ms.args[0].e.args[0].e
	case isOp(shift, "Sub", 2):
		// tf.nn.batch_normalization (tf-keras off its fused path):
		// Sub(β, Mul(m, s)).
		ms := shift.args[1].e
		if b = shift.args[0]; !isOp(ms, "Mul", 2) || b.c == nil || ms.args[1].e != s || !isOp(ms.args[0].e, "ReduceMean", 1) {
			return ln, false, nil
		}
		m = ms.args[0].e
	case isOp(shift, "Mul", 2):
		// tf.nn.batch_normalization without β: Mul(Neg(m), s).
		if !isOp(shift.args[0].e, "Neg", 1) || shift.args[1].e != s || !isOp(shift.args[0].e.args[0].e, "ReduceMean", 1) {
			return ln, false, nil
		}
		m = shift.args[0].e.args[0].e
	default:
		return ln, false, nil
	}
	bad := func(format string, a ...any) (kerasLayerNorm, bool, error) {
		return kerasLayerNorm{}, true, im.errNode(ErrUnsupportedOp, e.node, "reads like tf2onnx's LayerNormalization expansion, but %s", fmt.Sprintf(format, a...))
	}
	if m == nil || m.op != "ReduceMean" || m.args[0].e != x {
		return bad("the mean subtracted is not ReduceMean of the normalised input")
	}
	if !im.lastMean(m) {
		return bad("the mean (node %q) is not over the last axis only, keeping it", m.node.GetName())
	}
	// s = Mul(r, γ) or r.
	var gc *tensor
	r := s
	if isOp(s, "Mul", 2) && s.args[0].e != nil && s.args[1].c != nil {
		r, gc = s.args[0].e, s.args[1].c
	}
	if !isOp(r, "Reciprocal", 1) || !isOp(r.args[0].e, "Sqrt", 1) {
		return bad("the scale is not Reciprocal(Sqrt(variance + ε)) [times γ]")
	}
	add := r.args[0].e.args[0].e
	if !isOp(add, "Add", 2) || add.args[0].e == nil {
		return bad("the scale is not Reciprocal(Sqrt(variance + ε)) [times γ]")
	}
	epsv, isScalar := scalarOf(add.args[1])
	if !isScalar || epsv < 0 {
		return bad("ε is not a non-negative scalar constant")
	}
	v := add.args[0].e
	if v.op != "ReduceMean" || !isOp(v.args[0].e, "Mul", 2) {
		return bad("the variance is not ReduceMean(Mul(d, d))")
	}
	if !im.lastMean(v) {
		return bad("the variance (node %q) is not over the last axis only, keeping it", v.node.GetName())
	}
	sq := v.args[0].e
	d := sq.args[0].e
	if d == nil || sq.args[1].e != d || !isOp(d, "Sub", 2) || d.args[0].e != x || d.args[1].e != m {
		return bad("the variance does not square x minus its mean")
	}
	return kerasLayerNorm{x: x, eps: float32(epsv), g: gc, b: b.c}, true, nil
}

// params returns γ (nil without scale) and β (nil without offset) for features of width w,
// after ln.x is the chain's output.
func (im *importer) kerasLayerNormParams(n *pb.NodeProto, ln kerasLayerNorm, w int) (gamma, beta []float32, err error) {
	vec := func(c *tensor, what string) ([]float32, error) {
		f := c.float()
		flat := len(c.dims) == 1 || (len(c.dims) == 2 && c.dims[0] == 1)
		if !flat || c.dims[len(c.dims)-1] != w || len(f) != w {
			return nil, im.errNode(ErrUnsupportedOp, n, "reads like tf2onnx's LayerNormalization expansion, but %s has shape %v, want [%d] or [1 %d]", what, c.dims, w, w)
		}
		return f, nil
	}
	if ln.g != nil {
		if gamma, err = vec(ln.g, "γ"); err != nil {
			return nil, nil, err
		}
	}
	if ln.b != nil {
		if beta, err = vec(ln.b, "β"); err != nil {
			return nil, nil, err
		}
	}
	return gamma, beta, nil
}

// isOp reports whether e is a node of type op with k inputs.
func isOp(e *expr, op string, k int) bool {
	return e != nil && e.op == op && len(e.args) == k
}

// matchUnitNorm recognises UnitNormalization over the last axis in the
// forms aekit, tf2onnx (from tf-keras) and tf2onnx (from Keras 3) write:
//
//	Div(x, Sqrt(Max(ReduceSumSquare(x), ε)))            aekit, ε Keras 3's bound
//	Mul(x, Reciprocal(Sqrt(Max(s, ε))))                  tf.math.l2_normalize (tf-keras: ε 1e-12)
//	Mul(x, Min(Reciprocal(Sqrt(s)), 1/√ε))               Keras 3's ops.normalize (ε Keras 3's bound)
//
// where s is ReduceSumSquare(x) or ReduceSum(Mul(x, x)), over the last
// axis keeping it; ε Keras 3's bound is runtime.UnitNormalization's, 1e-24
// in float32 (the cap 1/√ε is 10¹² in float32), and the l2_normalize form
// takes any positive finite scalar ε. It returns x and the layer's
// Epsilon (0 for Keras 3's bound).
func (im *importer) matchUnitNorm(e *expr) (x *expr, eps float32, ok bool) {
	def := (&runtime.UnitNormalization{}).RowNorm().Epsilon
	switch {
	case isOp(e, "Div", 2) && e.args[0].e != nil && isOp(e.args[1].e, "Sqrt", 1):
		x, m := e.args[0].e, e.args[1].e.args[0].e
		if !isOp(m, "Max", 2) || !im.lastReduce(m.args[0].e, "ReduceSumSquare") || m.args[0].e.args[0].e != x {
			return nil, 0, false
		}
		if v, isScalar := scalarOf(m.args[1]); !isScalar || float32(v) != def {
			return nil, 0, false
		}
		return x, 0, true
	case isOp(e, "Mul", 2) && e.args[0].e != nil && e.args[1].e != nil:
		x, r := e.args[0].e, e.args[1].e
		if isOp(r, "Reciprocal", 1) && isOp(r.args[0].e, "Sqrt", 1) {
			m := r.args[0].e.args[0].e
			if !isOp(m, "Max", 2) || !im.sumSquares(m.args[0].e, x) {
				return nil, 0, false
			}
			v, isScalar := scalarOf(m.args[1])
			if !isScalar || !(v > 0) || float32(v) > math.MaxFloat32 {
				return nil, 0, false
			}
			if float32(v) == def {
				return x, 0, true
			}
			return x, float32(v), true
		}
		if isOp(r, "Min", 2) && isOp(r.args[0].e, "Reciprocal", 1) && isOp(r.args[0].e.args[0].e, "Sqrt", 1) {
			if !im.sumSquares(r.args[0].e.args[0].e.args[0].e, x) {
				return nil, 0, false
			}
			c, isScalar := scalarOf(r.args[1])
			if !isScalar || float32(c) != float32(1/math.Sqrt(float64(def))) {
				return nil, 0, false
			}
			return x, 0, true
		}
	}
	return nil, 0, false
}

// sumSquares reports whether s is the sum of the squares of x over the
// last axis, keeping it: ReduceSumSquare(x) or ReduceSum(Mul(x, x)).
func (im *importer) sumSquares(s, x *expr) bool {
	if im.lastReduce(s, "ReduceSumSquare") {
		return s.args[0].e == x
	}
	if im.lastReduce(s, "ReduceSum") {
		sq := s.args[0].e
		return isOp(sq, "Mul", 2) && sq.args[0].e == x && sq.args[1].e == x
	}
	return false
}
