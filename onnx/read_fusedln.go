package onnx

import (
	"fmt"
	"math"

	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/runtime"
)

// shapeOps are the ops of a shape or count computed in the graph (and
// Expand, which broadcasts a constant to a computed shape, and Squeeze,
// which drops the unit axes of a computed mean), kept as expressions
// until a matcher evaluates them (evalShape). Anywhere else they are
// refused when their value is needed.
var shapeOps = map[string]bool{
	"Shape": true, "Slice": true, "Gather": true, "Concat": true, "Unsqueeze": true,
	"Squeeze": true, "ReduceProd": true, "Expand": true,
}

// Bounds of a shape computed in the graph: values in one vector, nesting
// depth, and nodes visited by one evaluation (shared sub-expressions are
// visited once per use).
const (
	maxShapeLen   = 16
	maxShapeDepth = 32
	maxShapeSteps = 1024
)

// deferNode records a node as an expression over its inputs, absent
// optional inputs as empty values. One input at least must be computed.
func (im *importer) deferNode(n *pb.NodeProto) error {
	e := &expr{op: n.GetOpType(), node: n}
	dyn := false
	for k, s := range n.GetInput() {
		v, ok := im.in(n, k)
		if !ok && s != "" {
			return im.errNode(ErrGraph, n, "input %d is missing", k)
		}
		dyn = dyn || v.e != nil
		e.args = append(e.args, v)
	}
	if !dyn {
		return im.errNode(ErrUnsupportedOp, n, "computes on constants only; aekit does not fold constant subgraphs")
	}
	switch e.op {
	case "Shape":
		e.ints = true
	case "Slice", "Gather", "Concat", "Unsqueeze", "Squeeze", "ReduceProd":
		if a := e.args[0]; (a.c != nil && a.c.isInt) || (a.e != nil && a.e.ints) {
			e.ints = true
		}
	}
	im.set(n, value{e: e})
	return nil
}

// deferReshape reports whether the Reshape n of the computed x is kept as
// an expression for fusedLayerNorm: its shape is computed, or is the
// constant [1, k, w, 1] of tf-keras's fused LayerNormalization, or it
// reshapes a BatchNormalization kept as an expression. mat reads it as
// any Reshape when it is not part of that form.
func (im *importer) deferReshape(n *pb.NodeProto, x value) bool {
	s, ok := im.in(n, 1)
	if x.e == nil || !ok {
		return false
	}
	if s.e != nil || x.e.op == "BatchNormalization" {
		return true
	}
	t := s.c
	return t.isInt && len(t.dims) == 1 && len(t.i) == 4 && t.i[0] == 1 && t.i[3] == 1
}

// deferBatchNorm reports whether the BatchNormalization n of x is kept as
// an expression for fusedLayerNorm: its statistics are computed, or its
// input is a Reshape kept so. mat reads it as any BatchNormalization (or
// refuses it) when it is not part of that form.
func (im *importer) deferBatchNorm(n *pb.NodeProto, x value) bool {
	if x.e == nil {
		return false
	}
	if x.e.op == "Reshape" {
		return true
	}
	for k := 1; k <= 4; k++ {
		if v, ok := im.in(n, k); ok && v.e != nil {
			return true
		}
	}
	return false
}

// fusedLayerNorm recognises layer normalisation over the last axis as
// tf2onnx 1.17 writes tf-keras's LayerNormalization on its fused path
// (epsilon ≥ 1.001e-5; the same ops at opsets 11 to 18):
//
//	r = Reshape(x, [1, -1, w, 1])                  one channel per row
//	m = ReduceMean(r, axes [0 2 3], keepdims 1)
//	v = Div(ReduceSumSquare(Sub(r, m), axes [0 2 3], keepdims 0), k)
//	b = BatchNormalization(r, Expand(1, n), Expand(0, n), Squeeze(m, [0 2 3]), v; ε)
//	y = Reshape(b, s)
//
// where w is the input's last dimension and the shapes and counts are
// computed in the graph from Shape(x) and Shape(r) (evalShape): n must
// come to [rows], k (a float) to w, s to x's shape. When e is of the form
// Reshape(BatchNormalization(Reshape(x, constant), …), …) it appends the
// layer (γ and β, the Mul and Add that follow, join it as for the other
// expansions: affineLayer) and returns true, or an error saying what
// differs; otherwise it returns false and nothing changes.
func (im *importer) fusedLayerNorm(e *expr) (bool, error) {
	if !isOp(e, "Reshape", 2) {
		return false, nil
	}
	bn := e.args[0].e
	if !isOp(bn, "BatchNormalization", 5) {
		return false, nil
	}
	r := bn.args[0].e
	if !isOp(r, "Reshape", 2) || r.args[0].e == nil || r.args[1].c == nil {
		return false, nil
	}
	x := r.args[0].e
	bad := func(format string, a ...any) (bool, error) {
		return true, im.errNode(ErrUnsupportedOp, bn.node, "reads like tf2onnx's form of tf-keras's fused LayerNormalization, but %s", fmt.Sprintf(format, a...))
	}
	if attrInt(bn.node, "training_mode", 0) != 0 {
		return bad("training_mode is on")
	}
	if im.opset < 9 && attrInt(bn.node, "spatial", 1) != 1 {
		return bad("spatial is 0")
	}
	eps := attrFloat(bn.node, "epsilon", 1e-5)
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		return bad("epsilon is %g", eps)
	}
	// The mean: Squeeze(m, [0 2 3]) with m = ReduceMean(r) over [0 2 3].
	sq := bn.args[3].e
	if sq == nil || sq.op != "Squeeze" || len(sq.args) < 1 || sq.args[0].e == nil {
		return bad("the mean is not Squeeze(ReduceMean(r))")
	}
	m := sq.args[0].e
	if m.op != "ReduceMean" || len(m.args) != 1 || m.args[0].e != r || attrInt(m.node, "keepdims", 1) != 1 {
		return bad("the mean is not Squeeze(ReduceMean(r)) of the reshaped input, keeping axes")
	}
	if !im.rowAxes(m) {
		return bad("the mean (node %q) is not over axes [0 2 3] (each row)", m.node.GetName())
	}
	if !im.rowAxes(sq) {
		return bad("the mean's Squeeze (node %q) does not drop axes [0 2 3]", sq.node.GetName())
	}
	// The variance: Div(ReduceSumSquare(Sub(r, m)), k).
	div := bn.args[4].e
	if !isOp(div, "Div", 2) || div.args[0].e == nil {
		return bad("the variance is not Div(ReduceSumSquare(r − mean), count)")
	}
	rss := div.args[0].e
	if rss.op != "ReduceSumSquare" || len(rss.args) < 1 || attrInt(rss.node, "keepdims", 1) != 0 {
		return bad("the variance is not Div(ReduceSumSquare(r − mean), count) dropping axes")
	}
	if !im.rowAxes(rss) {
		return bad("the variance (node %q) is not over axes [0 2 3] (each row)", rss.node.GetName())
	}
	if d := rss.args[0].e; !isOp(d, "Sub", 2) || d.args[0].e != r || d.args[1].e != m {
		return bad("the variance does not square r minus its mean")
	}
	// Now x's shape is known.
	if _, err := im.mat(value{e: x}, e.node); err != nil {
		return true, err
	}
	shape := im.shape
	if len(shape) == 0 {
		return bad("the input has no feature axis")
	}
	w := shape[len(shape)-1]
	rows := sdim{c: int64(prod(shape[:len(shape)-1])), p: 1}
	if t := r.args[1].c; !t.isInt || len(t.dims) != 1 || len(t.i) != 4 || t.i[0] != 1 || t.i[2] != int64(w) || t.i[3] != 1 ||
		(t.i[1] != -1 && !im.sameDims([]sdim{{c: t.i[1]}}, []sdim{rows})) {
		return bad("the first Reshape's shape %v is not [1 -1 %d 1] for a [batch %s] input", r.args[1].c.i, w, dimsString(shape))
	}
	env := &shapeEnv{x: x, r: r}
	env.xs = append([]sdim{{c: 1, p: 1}}, make([]sdim, len(shape))...)
	for k, d := range shape {
		env.xs[k+1] = sdim{c: int64(d)}
	}
	env.rs = []sdim{{c: 1}, rows, {c: int64(w)}, {c: 1}}
	for k, want := range []float32{1, 0} {
		what := [2]string{"scale", "B"}[k]
		if err := im.broadcastConst(bn.args[1+k], want, rows, env); err != nil {
			return bad("its %s is not %g per row: %v", what, want, err)
		}
	}
	kv, err := im.evalShape(div.args[1], env, 0)
	if err != nil {
		return bad("the variance's count: %v", err)
	}
	if kv.ints || len(kv.d) != 1 || !im.sameDims(kv.d, []sdim{{c: int64(w)}}) {
		return bad("the variance's count is %s, want the float %d", kv, w)
	}
	sv, err := im.evalShape(e.args[1], env, 0)
	if err != nil {
		return bad("the last Reshape's shape: %v", err)
	}
	if !sv.ints || sv.scalar || !im.sameDims(sv.d, env.xs) {
		return bad("the last Reshape's shape is %s, not the input's %s", sv, shapeVal{d: env.xs, ints: true})
	}
	ln := runtime.NewLayerNormalization(nil, nil, eps)
	if err := ln.Build(shape); err != nil || w <= 0 {
		return bad("it normalises a [batch %s] tensor", dimsString(shape))
	}
	im.layer(bn.node, &runtime.Layer{Type: runtime.Other, Class: "LayerNormalization", Kind: ln}, shape)
	im.norm1 = im.layers[len(im.layers)-1]
	return true, nil
}

// rowAxes reports whether the reduction or Squeeze e of a rank-4 tensor
// is over axes 0, 2 and 3 exactly (in any order, negative or not), given
// as an attribute or a constant second input.
func (im *importer) rowAxes(e *expr) bool {
	var axes []int64
	if a := attr(e.node, "axes"); a != nil {
		axes = a.GetInts()
	} else if v, ok := im.in(e.node, 1); ok && v.c != nil && v.c.isInt && len(v.c.dims) == 1 {
		axes = v.c.i
	} else {
		return false
	}
	if len(axes) != 3 || len(e.node.GetInput()) > 2 {
		return false
	}
	var seen [4]bool
	for _, a := range axes {
		if a < 0 {
			a += 4
		}
		if a < 0 || a > 3 || a == 1 || seen[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

// broadcastConst checks that v is want broadcast to one value per row:
// Expand(want, n) with n computing [rows], or, for a fixed batch size, a
// constant vector of rows values, each want.
func (im *importer) broadcastConst(v value, want float32, rows sdim, env *shapeEnv) error {
	if v.c != nil {
		if len(v.c.dims) != 1 || !im.sameDims([]sdim{{c: int64(v.c.dims[0])}}, []sdim{rows}) {
			return fmt.Errorf("a constant of shape %v", v.c.dims)
		}
		for _, f := range v.c.float() {
			if f != want {
				return fmt.Errorf("a constant holding %g", f)
			}
		}
		return nil
	}
	if !isOp(v.e, "Expand", 2) || v.e.args[0].c == nil {
		return fmt.Errorf("not Expand(%g, rows)", want)
	}
	c := v.e.args[0].c
	if c.isInt || len(c.dims) > 1 || len(c.f) != 1 || c.f[0] != want {
		return fmt.Errorf("Expand (node %q) broadcasts %v of shape %v", v.e.node.GetName(), c.float(), c.dims)
	}
	n, err := im.evalShape(v.e.args[1], env, 0)
	if err != nil {
		return err
	}
	if !n.ints || n.scalar || !im.sameDims(n.d, []sdim{rows}) {
		return fmt.Errorf("Expand (node %q) to shape %s, want [%s]", v.e.node.GetName(), n, rows)
	}
	return nil
}

// sdim is a dimension c·Bᵖ of a shape computed in the graph, B the batch
// size.
type sdim struct {
	c int64
	p int
}

func (d sdim) String() string {
	switch {
	case d.p == 0:
		return fmt.Sprint(d.c)
	case d.c == 1 && d.p == 1:
		return "batch"
	case d.p == 1:
		return fmt.Sprintf("%d·batch", d.c)
	}
	return fmt.Sprintf("%d·batch^%d", d.c, d.p)
}

// sameDims reports whether a and b are the same dimensions: equal as
// c·Bᵖ, or equal numbers when the batch size is fixed.
func (im *importer) sameDims(a, b []sdim) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] == b[k] {
			continue
		}
		if im.dims0 <= 0 {
			return false
		}
		va, oka := a[k].value(im.dims0)
		vb, okb := b[k].value(im.dims0)
		if !oka || !okb || va != vb {
			return false
		}
	}
	return true
}

// value returns c·batchᵖ, false when it exceeds maxElems.
func (d sdim) value(batch int) (int64, bool) {
	v := d.c
	for range d.p {
		if v != 0 && (int64(batch) > maxElems/abs64(v)) {
			return 0, false
		}
		v *= int64(batch)
	}
	return v, true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// shapeVal is a shape or count computed in the graph: a vector (or a
// scalar) of dimensions, integer or float.
type shapeVal struct {
	d      []sdim
	scalar bool
	ints   bool
}

func (v shapeVal) String() string {
	s := fmt.Sprint(v.d)
	if v.scalar && len(v.d) == 1 {
		s = v.d[0].String()
	}
	if !v.ints {
		s += " (float)"
	}
	return s
}

// shapeEnv is what evalShape knows: the shapes of the normalised input x
// and of its reshape r, and the number of nodes visited so far.
type shapeEnv struct {
	x, r   *expr
	xs, rs []sdim
	steps  int
}

// evalShape evaluates a shape or count computed in the graph from
// constants and the shapes in env, with Shape, Cast, Slice, Gather,
// Unsqueeze, Squeeze, ReduceProd and Concat on vectors of at most
// maxShapeLen values (a longer constant, Shape or Concat is an error, so
// every vector it makes is that short); anything else is an error.
// Nothing it allocates depends on a value read from the file, and
// env.steps bounds its work.
func (im *importer) evalShape(v value, env *shapeEnv, depth int) (shapeVal, error) {
	if env.steps++; env.steps > maxShapeSteps {
		return shapeVal{}, fmt.Errorf("more than %d nodes", maxShapeSteps)
	}
	if depth > maxShapeDepth {
		return shapeVal{}, fmt.Errorf("nested deeper than %d nodes", maxShapeDepth)
	}
	if v.c != nil {
		return constShape(v.c)
	}
	e := v.e
	if e == nil {
		return shapeVal{}, fmt.Errorf("an input is missing")
	}
	arg := func(k int) (shapeVal, error) {
		if k >= len(e.args) {
			return shapeVal{}, fmt.Errorf("node %q (%s) has no input %d", e.node.GetName(), e.op, k)
		}
		return im.evalShape(e.args[k], env, depth+1)
	}
	// consts returns the constant integers of input k, or of attribute
	// name when the node has it (older opsets); ok is false when neither
	// is given.
	consts := func(k int, name string) (c []int64, ok bool, err error) {
		if a := attr(e.node, name); a != nil {
			return a.GetInts(), true, nil
		}
		if k >= len(e.args) || (e.args[k].c == nil && e.args[k].e == nil) {
			return nil, false, nil
		}
		s, err := arg(k)
		if err != nil {
			return nil, false, err
		}
		out := make([]int64, len(s.d))
		for j, d := range s.d {
			if d.p != 0 || !s.ints {
				return nil, false, fmt.Errorf("input %d of node %q (%s) is %s, not constant integers", k, e.node.GetName(), e.op, s)
			}
			out[j] = d.c
		}
		return out, true, nil
	}
	vector := func(s shapeVal) error {
		if s.scalar {
			return fmt.Errorf("node %q (%s) reads a scalar, aekit evaluates it on vectors", e.node.GetName(), e.op)
		}
		return nil
	}
	// axis0 checks that axes (of a vector) is [0] or [-1], or absent
	// when absentOK.
	axis0 := func(axes []int64, given, absentOK bool) error {
		if !given && absentOK {
			return nil
		}
		if len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
			return fmt.Errorf("node %q (%s) has axes %v, aekit evaluates it on axis 0 of vectors", e.node.GetName(), e.op, axes)
		}
		return nil
	}
	switch e.op {
	case "Shape":
		if attr(e.node, "start") != nil || attr(e.node, "end") != nil {
			return shapeVal{}, fmt.Errorf("node %q (Shape) has start or end", e.node.GetName())
		}
		var d []sdim
		switch a := e.args[0].e; {
		case a == env.x:
			d = env.xs
		case a == env.r:
			d = env.rs
		default:
			return shapeVal{}, fmt.Errorf("node %q takes the Shape of %q, not of the normalised input or its reshape", e.node.GetName(), e.node.GetInput()[0])
		}
		if len(d) > maxShapeLen {
			return shapeVal{}, fmt.Errorf("node %q takes the Shape of a rank-%d tensor, aekit evaluates up to rank %d", e.node.GetName(), len(d), maxShapeLen)
		}
		return shapeVal{d: d, ints: true}, nil
	case "Cast":
		s, err := arg(0)
		if err != nil {
			return s, err
		}
		s.ints = e.ints
		return s, nil
	case "Slice":
		s, err := arg(0)
		if err != nil {
			return s, err
		}
		if err := vector(s); err != nil {
			return s, err
		}
		starts, ok1, err := consts(1, "starts")
		if err != nil {
			return s, err
		}
		ends, ok2, err := consts(2, "ends")
		if err != nil {
			return s, err
		}
		axes, ok3, err := consts(3, "axes")
		if err != nil {
			return s, err
		}
		steps, ok4, err := consts(4, "steps")
		if err != nil {
			return s, err
		}
		if !ok1 || !ok2 || len(starts) != 1 || len(ends) != 1 {
			return s, fmt.Errorf("node %q (Slice) has starts %v and ends %v, want one of each", e.node.GetName(), starts, ends)
		}
		if err := axis0(axes, ok3, true); err != nil {
			return s, err
		}
		if ok4 && (len(steps) != 1 || steps[0] != 1) {
			return s, fmt.Errorf("node %q (Slice) has steps %v, aekit evaluates step 1", e.node.GetName(), steps)
		}
		n := int64(len(s.d))
		clamp := func(i int64) int64 {
			if i < 0 {
				i += n
			}
			return min(max(i, 0), n)
		}
		lo, hi := clamp(starts[0]), clamp(ends[0])
		if hi < lo {
			hi = lo
		}
		s.d = s.d[lo:hi]
		return s, nil
	case "Gather":
		s, err := arg(0)
		if err != nil {
			return s, err
		}
		if err := vector(s); err != nil {
			return s, err
		}
		if a := attrInt(e.node, "axis", 0); a != 0 && a != -1 {
			return s, fmt.Errorf("node %q (Gather) has axis %d, aekit evaluates it on vectors", e.node.GetName(), a)
		}
		idx, err := arg(1)
		if err != nil {
			return s, err
		}
		out := shapeVal{d: make([]sdim, len(idx.d)), scalar: idx.scalar, ints: s.ints}
		n := int64(len(s.d))
		for j, d := range idx.d {
			i := d.c
			if i < 0 {
				i += n
			}
			if !idx.ints || d.p != 0 || i < 0 || i >= n {
				return s, fmt.Errorf("node %q (Gather) takes index %s of %d values", e.node.GetName(), d, n)
			}
			out.d[j] = s.d[i]
		}
		return out, nil
	case "Unsqueeze", "Squeeze":
		s, err := arg(0)
		if err != nil {
			return s, err
		}
		axes, ok, err := consts(1, "axes")
		if err != nil {
			return s, err
		}
		if e.op == "Unsqueeze" {
			if !s.scalar {
				return s, fmt.Errorf("node %q (Unsqueeze) of a vector, aekit evaluates it on scalars", e.node.GetName())
			}
			if err := axis0(axes, ok, false); err != nil {
				return s, err
			}
			s.scalar = false
			return s, nil
		}
		if s.scalar || len(s.d) != 1 {
			return s, fmt.Errorf("node %q (Squeeze) of %s, aekit evaluates it on one value", e.node.GetName(), s)
		}
		if err := axis0(axes, ok, true); err != nil {
			return s, err
		}
		s.scalar = true
		return s, nil
	case "ReduceProd":
		s, err := arg(0)
		if err != nil {
			return s, err
		}
		if err := vector(s); err != nil {
			return s, err
		}
		axes, ok, err := consts(1, "axes")
		if err != nil {
			return s, err
		}
		if ok && len(axes) == 0 && attrInt(e.node, "noop_with_empty_axes", 0) != 0 {
			return s, fmt.Errorf("node %q (ReduceProd) reduces nothing", e.node.GetName())
		}
		if err := axis0(axes, ok && len(axes) > 0, true); err != nil {
			return s, err
		}
		p := sdim{c: 1}
		for _, d := range s.d {
			if d.c != 0 && abs64(p.c) > maxElems/abs64(d.c) || p.p+d.p > 8 {
				return s, fmt.Errorf("node %q (ReduceProd) overflows", e.node.GetName())
			}
			p.c, p.p = p.c*d.c, p.p+d.p
		}
		return shapeVal{d: []sdim{p}, scalar: attrInt(e.node, "keepdims", 1) == 0, ints: s.ints}, nil
	case "Concat":
		if a := attrInt(e.node, "axis", 0); a != 0 && a != -1 {
			return shapeVal{}, fmt.Errorf("node %q (Concat) has axis %d, aekit evaluates it on vectors", e.node.GetName(), a)
		}
		out := shapeVal{ints: true}
		for k := range e.args {
			s, err := arg(k)
			if err != nil {
				return s, err
			}
			if err := vector(s); err != nil {
				return s, err
			}
			if k == 0 {
				out.ints = s.ints
			} else if s.ints != out.ints {
				return s, fmt.Errorf("node %q (Concat) mixes integers and floats", e.node.GetName())
			}
			if len(out.d)+len(s.d) > maxShapeLen {
				return s, fmt.Errorf("node %q (Concat) makes more than %d values", e.node.GetName(), maxShapeLen)
			}
			out.d = append(out.d, s.d...)
		}
		return out, nil
	}
	return shapeVal{}, fmt.Errorf("it is computed with node %q (%s); aekit evaluates Shape, Cast, Slice, Gather, Unsqueeze, Squeeze, ReduceProd and Concat", e.node.GetName(), e.op)
}

// constShape reads a constant scalar or vector of at most maxShapeLen
// integers, or floats that are whole numbers, each within ±maxElems, as
// dimensions.
func constShape(c *tensor) (shapeVal, error) {
	if len(c.dims) > 1 || c.len() > maxShapeLen {
		return shapeVal{}, fmt.Errorf("a constant of shape %v, aekit evaluates scalars and vectors of up to %d values", c.dims, maxShapeLen)
	}
	s := shapeVal{d: make([]sdim, c.len()), scalar: len(c.dims) == 0, ints: c.isInt}
	for k := range s.d {
		if c.isInt {
			if abs64(c.i[k]) > maxElems || c.i[k] < -maxElems {
				return shapeVal{}, fmt.Errorf("a constant holding %d", c.i[k])
			}
			s.d[k] = sdim{c: c.i[k]}
			continue
		}
		f := float64(c.f[k])
		if f != math.Trunc(f) || math.Abs(f) > maxElems {
			return shapeVal{}, fmt.Errorf("a constant holding %g", f)
		}
		s.d[k] = sdim{c: int64(f)}
	}
	return s, nil
}
