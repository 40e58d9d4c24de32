package onnx

import (
	"fmt"
	"strings"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

func (im *importer) dense(n *pb.NodeProto, x value) error {
	if err := im.dyn(n, x); err != nil {
		return err
	}
	if len(im.shape) != 1 {
		return im.errNode(ErrUnsupportedOp, n, "applies to a %d-D sample %v; aekit's Dense layers take flat samples (Flatten first)", len(im.shape), im.shape)
	}
	in := im.shape[0]
	w, ok := im.in(n, 1)
	if !ok || w.c == nil {
		return im.errNode(ErrUnsupportedOp, n, "weights are not a constant")
	}
	if w.c.isInt {
		return im.errNode(ErrUnsupportedType, n, "weights are integers")
	}
	if len(w.c.dims) != 2 {
		return im.errNode(ErrUnsupportedOp, n, "weights have shape %v; want a matrix", w.c.dims)
	}
	alpha, beta := float32(1), float32(1)
	transB := false
	if n.GetOpType() == "Gemm" {
		alpha, beta = attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
		if attrInt(n, "transA", 0) != 0 {
			return im.errNode(ErrUnsupportedOp, n, "transA=1 transposes the batch")
		}
		transB = attrInt(n, "transB", 0) != 0
	} else if len(n.GetInput()) != 2 {
		return im.errNode(ErrGraph, n, "has %d inputs, want 2", len(n.GetInput()))
	}
	rows, units := w.c.dims[0], w.c.dims[1]
	if transB {
		rows, units = units, rows
	}
	if rows != in || units == 0 {
		return im.errNode(ErrUnsupportedOp, n, "weights have shape %v (transB=%v) but the input has width %d", w.c.dims, transB, in)
	}
	l := &runtime.Layer{Type: runtime.Dense, Class: "Dense", In: in, Units: units, Kernel: make([]float32, in*units)}
	for i := 0; i < in; i++ {
		for j := 0; j < units; j++ {
			v := w.c.f[i*units+j]
			if transB {
				v = w.c.f[j*in+i]
			}
			l.Kernel[i*units+j] = alpha * v
		}
	}
	if c, ok := im.in(n, 2); ok && n.GetOpType() == "Gemm" {
		if c.c == nil {
			return im.errNode(ErrUnsupportedOp, n, "C is not a constant")
		}
		b, err := perUnit(c.c, units)
		if err != nil {
			return im.errNode(ErrUnsupportedOp, n, "C: %v", err)
		}
		l.Bias = make([]float32, units)
		for j := range b {
			l.Bias[j] = beta * b[j]
		}
	}
	im.layer(n, l, []int{units})
	return nil
}

// perUnit broadcasts a constant to one value per unit of a [batch, units]
// tensor, without changing its shape.
func perUnit(c *tensor, units int) ([]float32, error) {
	d := c.dims
	ok := len(d) <= 2
	for k, v := range d {
		if k == len(d)-1 {
			ok = ok && (v == 1 || v == units)
		} else {
			ok = ok && v == 1
		}
	}
	if !ok {
		return nil, fmt.Errorf("constant of shape %v does not broadcast to one value per unit of %d", d, units)
	}
	f := c.float()
	out := make([]float32, units)
	for j := range out {
		if len(f) == 1 {
			out[j] = f[0]
		} else {
			out[j] = f[j]
		}
	}
	return out, nil
}

// affine folds Add, Sub, Mul or Div of a computed value and a constant
// into the Dense layer that computed the value.
func (im *importer) affine(e *expr) error {
	n := e.node
	switch e.op {
	case "Add", "Sub", "Mul", "Div":
	default:
		return im.errNode(ErrUnsupportedOp, n, "is not part of an activation aekit recognises")
	}
	a, b := e.args[0], e.args[1]
	if (a.e == nil) == (b.e == nil) {
		return im.errNode(ErrUnsupportedOp, n, "combines two computed tensors; aekit folds only constants into a Dense layer")
	}
	cLeft := a.e == nil
	c, x := b.c, a
	if cLeft {
		c, x = a.c, b
	}
	if _, err := im.mat(x, n); err != nil {
		return err
	}
	var d *runtime.Layer
	if len(im.layers) > 0 {
		d = im.layers[len(im.layers)-1]
	}
	toDense := d != nil && d.Type == runtime.Dense && d.Act.IsIdentity()
	units := im.shape[len(im.shape)-1]
	// Elsewhere a scaling (Mul, or Div by a constant) of flat samples, or
	// any of the four on the graph's flat input, starts a per-feature
	// affine layer that a following Add, Sub, Mul or Div by a constant
	// extends: the forms tf2onnx gives a Keras BatchNormalization after
	// an activation and a Normalization (Sub, Mul) on the input. A lone
	// shift after another layer stays refused.
	scaling := (e.op == "Mul" || e.op == "Div" && !cLeft || d == nil) && len(im.shape) == 1
	extends := d != nil && (d == im.affine1 || d == im.norm1)
	if toDense {
		units = d.Units
	} else if !scaling && !extends {
		prev := "the input"
		if d != nil {
			prev = fmt.Sprintf("layer %q (%s)", d.Name, d.Type)
		}
		return im.errNode(ErrUnsupportedOp, n, "applies a constant to %s; aekit folds constants only into a preceding Gemm or MatMul (or a per-feature scaling)", prev)
	}
	k, err := perUnit(c, units)
	if err != nil {
		return im.errNode(ErrUnsupportedOp, n, "%v", err)
	}
	scale := make([]float32, units)
	shift := make([]float32, units)
	for j := range scale {
		scale[j] = 1
		switch {
		case e.op == "Add":
			shift[j] = k[j]
		case e.op == "Sub" && !cLeft:
			shift[j] = -k[j]
		case e.op == "Sub":
			scale[j], shift[j] = -1, k[j]
		case e.op == "Mul":
			scale[j] = k[j]
		case e.op == "Div" && !cLeft:
			scale[j] = 1 / k[j]
		default:
			return im.errNode(ErrUnsupportedOp, n, "divides a constant by a computed tensor")
		}
	}
	if !toDense {
		im.affineLayer(n, d, scale, shift)
		return nil
	}
	if d.Bias == nil && (e.op == "Add" || e.op == "Sub") {
		d.Bias = make([]float32, d.Units)
	}
	for i := 0; i < d.In; i++ {
		row := d.Kernel[i*d.Units : (i+1)*d.Units]
		for j := range row {
			row[j] *= scale[j]
		}
	}
	for j := range d.Bias {
		d.Bias[j] = d.Bias[j]*scale[j] + shift[j]
	}
	im.ver++
	im.head = &expr{op: "x", ver: im.ver}
	return nil
}

// fuse merges each activation layer into the Dense layer before it when
// that has no activation: always for foreign files, and for aekit files
// when the activation was the Dense layer's own (named dense/...).
func (im *importer) fuse(layers []*runtime.Layer) []*runtime.Layer {
	var out []*runtime.Layer
	for _, l := range layers {
		if k := len(out) - 1; k >= 0 && l.Type == runtime.ActivationLayer {
			d := out[k]
			if d.Type == runtime.Dense && d.Act.IsIdentity() && (im.fuseAll || strings.HasPrefix(l.Name, d.Name+"/")) {
				d.Act = l.Act
				continue
			}
		}
		out = append(out, l)
	}
	return out
}
