package onnx

import (
	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// affineLayer applies x·scale + shift per feature after the layer d (nil:
// the input) that no constant can be folded into: it extends d when d is
// such a layer this import made, else appends a Rescaling layer with one
// scale and offset per feature (the Mul and Add that tf2onnx makes of a
// Keras BatchNormalization after an activation, say).
func (im *importer) affineLayer(n *pb.NodeProto, d *runtime.Layer, scale, shift []float32) {
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
