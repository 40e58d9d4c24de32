package onnx

import (
	"fmt"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// kind adds the nodes of an Other layer applied to x, whose innermost axis
// has width w, dispatching on the kind's behaviour: a Standardizer on flat
// samples becomes a BatchNormalization op, any other Affine kind Mul and
// Add by per-feature (or scalar) constants, a RowNorm kind
// LayerNormalization (opset 17 on) or its expansion.
func (b *builder) kind(x string, l *runtime.Layer, name, doc string, w int) (string, error) {
	if k, ok := l.Kind.(runtime.Standardizer); ok && b.flat {
		gamma, beta, mean, variance, eps := k.Standardize()
		w := int64(len(mean))
		in := []string{x, b.initializer(name+"/scale", []int64{w}, gamma), b.initializer(name+"/B", []int64{w}, beta),
			b.initializer(name+"/mean", []int64{w}, mean), b.initializer(name+"/var", []int64{w}, variance)}
		return b.add("BatchNormalization", name, doc, in, attrF("epsilon", eps)), nil
	}
	switch k := l.Kind.(type) {
	case runtime.Affine:
		scale, shift := k.Affine()
		return b.affine(x, scale, shift, name, doc), nil
	case runtime.RowNorm:
		return b.rowNorm(x, k.RowNorm(), name, doc, w), nil
	case nil:
		return "", fmt.Errorf("%w: layer %q has no kind", ErrExport, name)
	}
	return "", fmt.Errorf("%w: layer %q (%s) has no ONNX form", ErrExport, name, l.Kind.Class())
}

// vector returns the initializer of v: a scalar when it has one value.
func (b *builder) vector(name string, v []float32) string {
	if len(v) == 1 {
		return b.scalar(v[0])
	}
	return b.initializer(name, []int64{int64(len(v))}, v)
}

func all(v []float32, c float32) bool {
	for _, x := range v {
		if x != c {
			return false
		}
	}
	return true
}

// affine adds x·scale + shift, leaving out a multiplication by ones and an
// addition of zeros; the last node is named name.
func (b *builder) affine(x string, scale, shift []float32, name, doc string) string {
	mul, add := !all(scale, 1), !all(shift, 0)
	if mul {
		n := name
		if add {
			n = name + "/Mul"
		}
		x = b.add("Mul", n, doc, []string{x, b.vector(name+"/scale", scale)})
	}
	if add || !mul {
		x = b.add("Add", name, doc, []string{x, b.vector(name+"/shift", shift)})
	}
	return x
}

// reduce adds a reduction over the last axis keeping it, with the axes as
// an attribute before opset 18 and as an input from it.
func (b *builder) reduce(op, x, name string) string {
	if b.opset >= 18 {
		axes := b.tensorName(name + "/axes")
		b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: axes, Dims: []int64{1},
			DataType: int32(pb.TensorProto_INT64), Int64Data: []int64{-1}})
		return b.add(op, name, "", []string{x, axes}, attrI("keepdims", 1))
	}
	return b.add(op, name, "", []string{x}, &pb.AttributeProto{Name: "axes", Type: pb.AttributeProto_INTS, Ints: []int64{-1}}, attrI("keepdims", 1))
}

// rowNorm adds the normalisation s of the rows of x (width w).
func (b *builder) rowNorm(x string, s runtime.NormSpec, name, doc string, w int) string {
	if s.L2 {
		// x/√max(Σx², ε), as Keras 3 computes it, or with another ε
		// (tf-keras's 1e-12) x·(1/√max(Σx², ε)) as tf.math.l2_normalize
		// does: Read takes the first form with Keras 3's ε only.
		ss := b.reduce("ReduceSumSquare", x, name+"/ReduceSumSquare")
		m := b.add("Max", name+"/Max", "", []string{ss, b.scalar(s.Epsilon)})
		r := b.add("Sqrt", name+"/Sqrt", "", []string{m})
		if s.Epsilon != (&runtime.UnitNormalization{}).RowNorm().Epsilon {
			inv := b.add("Reciprocal", name+"/Reciprocal", "", []string{r})
			return b.add("Mul", name, doc, []string{x, inv})
		}
		return b.add("Div", name, doc, []string{x, r})
	}
	if b.opset >= 17 {
		gamma, beta := s.Gamma, s.Beta
		if gamma == nil {
			gamma = fill(w, 1)
		}
		in := []string{x, b.initializer(name+"/gamma", []int64{int64(w)}, gamma)}
		if beta != nil {
			in = append(in, b.initializer(name+"/beta", []int64{int64(w)}, beta))
		}
		return b.add("LayerNormalization", name, doc, in, attrI("axis", -1), attrF("epsilon", s.Epsilon))
	}
	mean := b.reduce("ReduceMean", x, name+"/ReduceMean")
	d := b.add("Sub", name+"/Sub", "", []string{x, mean})
	sq := b.add("Mul", name+"/Square", "", []string{d, d})
	v := b.reduce("ReduceMean", sq, name+"/Variance")
	ve := b.add("Add", name+"/AddEpsilon", "", []string{v, b.scalar(s.Epsilon)})
	sd := b.add("Sqrt", name+"/Sqrt", "", []string{ve})
	last := name
	if s.Gamma != nil || s.Beta != nil {
		last = name + "/Div"
	}
	y := b.add("Div", last, doc, []string{d, sd})
	if s.Gamma != nil {
		n := name
		if s.Beta != nil {
			n = name + "/Mul"
		}
		y = b.add("Mul", n, doc, []string{y, b.initializer(name+"/gamma", []int64{int64(w)}, s.Gamma)})
	}
	if s.Beta != nil {
		y = b.add("Add", name, doc, []string{y, b.initializer(name+"/beta", []int64{int64(w)}, s.Beta)})
	}
	return y
}

func fill(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// foldAffine returns the kernel and bias of the Dense layer d with the
// Affine layer next folded in, when b folds (ExportOptions.FoldAffine), d
// has no activation and next is Affine; ok is false otherwise.
func (b *builder) foldAffine(d, next *runtime.Layer) (kernel, bias []float32, ok bool) {
	a, isAffine := next.Kind.(runtime.Affine)
	if !b.fold || !d.Act.IsIdentity() || next.Type != runtime.Other || !isAffine {
		return d.Kernel, d.Bias, false
	}
	scale, shift := a.Affine()
	at := func(v []float32, j int) float32 {
		if len(v) == 1 {
			return v[0]
		}
		return v[j]
	}
	kernel = make([]float32, len(d.Kernel))
	for i := 0; i < d.In; i++ {
		for j := 0; j < d.Units; j++ {
			kernel[i*d.Units+j] = d.Kernel[i*d.Units+j] * at(scale, j)
		}
	}
	bias = make([]float32, d.Units)
	for j := range bias {
		var v float32
		if d.Bias != nil {
			v = d.Bias[j]
		}
		bias[j] = v*at(scale, j) + at(shift, j)
	}
	return kernel, bias, true
}
