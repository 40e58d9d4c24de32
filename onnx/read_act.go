package onnx

import (
	"math"

	"github.com/aekit/aekit/runtime"
)

// matchAct recognises an element-wise activation at the top of e and
// returns it with the expression it applies to; inner is nil if e is not
// an activation.
func (im *importer) matchAct(e *expr) (act runtime.Activation, inner *expr, err error) {
	n := e.node
	arg := func(k int) *expr {
		if k < len(e.args) {
			return e.args[k].e
		}
		return nil
	}
	unary := func(a runtime.Activation) (runtime.Activation, *expr, error) {
		if arg(0) == nil {
			return a, nil, im.errNode(ErrUnsupportedOp, n, "input is a constant")
		}
		return a, arg(0), nil
	}
	switch e.op {
	case "Relu":
		return unary(runtime.Activation{Func: runtime.ReLU})
	case "Sigmoid", "Tanh", "Softplus", "Softsign", "Exp", "Mish":
		f := map[string]runtime.Func{"Sigmoid": runtime.Sigmoid, "Tanh": runtime.Tanh, "Softplus": runtime.Softplus,
			"Softsign": runtime.Softsign, "Exp": runtime.Exponential, "Mish": runtime.Mish}[e.op]
		return unary(runtime.Activation{Func: f})
	case "LeakyRelu":
		return unary(runtime.Activation{Func: runtime.LeakyReLU, Alpha: attrFloat(n, "alpha", 0.01)})
	case "Elu":
		return unary(runtime.Activation{Func: runtime.ELU, Alpha: attrFloat(n, "alpha", 1)})
	case "HardSigmoid":
		return unary(runtime.Activation{Func: runtime.HardSigmoid, Alpha: attrFloat(n, "alpha", 0.2), Beta: attrFloat(n, "beta", 0.5)})
	case "Selu":
		a, g := attrFloat(n, "alpha", float32(runtime.SELUAlpha)), attrFloat(n, "gamma", float32(runtime.SELUScale))
		if !near(float64(a), runtime.SELUAlpha) || !near(float64(g), runtime.SELUScale) {
			return act, nil, im.errNode(ErrUnsupportedOp, n, "alpha %g and gamma %g differ from SELU's constants", a, g)
		}
		return unary(runtime.Activation{Func: runtime.SELU})
	case "Gelu":
		ap := "none"
		if a := attr(n, "approximate"); a != nil {
			ap = string(a.GetS())
		}
		if ap != "none" && ap != "tanh" {
			return act, nil, im.errNode(ErrUnsupportedOp, n, "approximate=%q", ap)
		}
		return unary(runtime.Activation{Func: runtime.GELU, Approximate: ap == "tanh"})
	case "ThresholdedRelu":
		return unary(runtime.Activation{Func: runtime.ReLU, Threshold: attrFloat(n, "alpha", 1)})
	case "Clip", "Min", "Max":
		return im.matchClip(e)
	case "Mul":
		if a, x, err := im.matchProduct(e); err != nil || x != nil {
			return a, x, err
		}
		if a, x, ok := im.matchHardSigmoid(e); ok {
			return a, x, nil
		}
	case "Add":
		if a, x, ok := matchWhereELU(e); ok {
			return a, x, nil
		}
		if t, x, ok := stepOf(e); ok {
			return runtime.Activation{Func: runtime.ReLU, Threshold: float32(t)}, x, nil
		}
	case "Div":
		// softsign x/(1+|x|), as torch.onnx.export writes it.
		if x := arg(0); x != nil {
			if d := addOne(arg(1)); d != nil && d.op == "Abs" && d.args[0].e == x {
				return runtime.Activation{Func: runtime.Softsign}, x, nil
			}
		}
	case "Where":
		if a, x, ok := im.matchReLU(e); ok {
			return a, x, nil
		}
	case "Sub":
		if a, x, ok := im.matchKerasReLU(e); ok {
			return a, x, nil
		}
	}
	return act, nil, nil
}

// matchKerasReLU recognises Keras's relu with a negative slope written term
// by term, as Write does: pos − α·Relu(t − x) (Relu(Neg(x)) when t is 0),
// where pos is Relu(x) or Where(x > t, x, 0), possibly inside Clip(·, 0, m).
func (im *importer) matchKerasReLU(e *expr) (runtime.Activation, *expr, bool) {
	none := runtime.Activation{}
	if len(e.args) != 2 || e.args[0].e == nil {
		return none, nil, false
	}
	d, k, ok := factors(e.args[1])
	if !ok || len(d) != 1 || d[0].op != "Relu" || d[0].args[0].e == nil {
		return none, nil, false
	}
	a := runtime.Activation{Func: runtime.ReLU, Alpha: float32(k)}
	var x *expr
	switch in := d[0].args[0].e; in.op {
	case "Neg":
		x = in.args[0].e
	case "Sub":
		t, ok := scalarOf(in.args[0])
		if !ok {
			return none, nil, false
		}
		a.Threshold, x = float32(t), in.args[1].e
	case "Add": // Neg(x) + t, as Keras writes relu(−x + t)
		for k := 0; k < 2; k++ {
			if t, ok := scalarOf(in.args[1-k]); ok && in.args[k].e != nil && in.args[k].e.op == "Neg" {
				a.Threshold, x = float32(t), in.args[k].e.args[0].e
			}
		}
		if x == nil {
			return none, nil, false
		}
	default:
		return none, nil, false
	}
	pos := e.args[0].e
	if pos.op == "Clip" || pos.op == "Min" || pos.op == "Max" {
		c, px, err := im.matchClip(pos)
		if err != nil || px == nil {
			return none, nil, false
		}
		switch c.Func {
		case runtime.ReLU6:
			a.Capped, a.MaxValue = true, 6
		case runtime.ReLU:
			a.Capped, a.MaxValue = c.Capped, c.MaxValue
		default:
			return none, nil, false
		}
		if c.Threshold != 0 { // matchClip took Clip(Where(x > t, x, 0)) apart
			return a, x, px == x && c.Threshold == a.Threshold
		}
		pos = px
	}
	switch {
	case pos.op == "Relu" && a.Threshold == 0 && pos.args[0].e == x:
	case pos == x && a.Threshold == 0 && a.Capped: // Clip(Relu(x), 0, m), Relu taken off by matchClip
	case pos.op == "ThresholdedRelu" || pos.op == "Mul" || pos.op == "Add":
		if t, px, ok := stepOf(pos); !ok || px != x || float32(t) != a.Threshold {
			return none, nil, false
		}
	case pos.op == "Where":
		p, px, ok := im.matchReLU(pos)
		if !ok || px != x || p.Alpha != 0 || p.Capped || p.Threshold != a.Threshold {
			return none, nil, false
		}
	default:
		return none, nil, false
	}
	return a, x, x != nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }

// scalarOf returns the value of a one-element constant.
func scalarOf(v value) (float64, bool) {
	if v.c == nil {
		return 0, false
	}
	return v.c.scalar()
}

func (im *importer) matchClip(e *expr) (runtime.Activation, *expr, error) {
	n := e.node
	lo, hi := math.Inf(-1), math.Inf(1)
	if e.op == "Min" || e.op == "Max" {
		x, l, h, err := im.minMax(e)
		if err != nil {
			return runtime.Activation{}, nil, err
		}
		e = &expr{op: "Clip", node: n, args: []value{{e: x}}}
		lo, hi = l, h
	} else if im.opset < 11 {
		lo = float64(attrFloat(n, "min", -math.MaxFloat32))
		hi = float64(attrFloat(n, "max", math.MaxFloat32))
	} else {
		for k, p := range []*float64{&lo, &hi} {
			v := value{}
			if k+1 < len(e.args) {
				v = e.args[k+1]
			}
			if v.c == nil && v.e == nil {
				continue
			}
			s, ok := scalarOf(v)
			if !ok {
				return runtime.Activation{}, nil, im.errNode(ErrUnsupportedOp, n, "bounds must be constant scalars")
			}
			*p = s
		}
	}
	x := e.args[0].e
	if x == nil {
		return runtime.Activation{}, nil, im.errNode(ErrUnsupportedOp, n, "input is a constant")
	}
	if lo == 0 && hi == 1 {
		// Keras 2's hard sigmoid: clip(α·x + β, 0, 1).
		if y, a, b, ok := affineOf(x); ok && (a != 1 || b != 0) {
			return runtime.Activation{Func: runtime.HardSigmoid, Alpha: float32(a), Beta: float32(b)}, y, nil
		}
	}
	if t, y, ok := stepOf(x); ok && lo == 0 {
		// Keras's capped relu with a threshold, as tf2onnx writes it:
		// clip(ThresholdedRelu(x), 0, m) or clip(x·[x > t], 0, m).
		return runtime.Activation{Func: runtime.ReLU, Threshold: float32(t), Capped: hi < math.MaxFloat32, MaxValue: float32(hi)}, y, nil
	}
	if lo == 0 && x.op == "Relu" && x.args[0].e != nil {
		// Clip(Relu(x), 0, m) = Clip(x, 0, m): Keras's relu(x, max_value=m)
		// as TensorFlow computes it.
		x = x.args[0].e
	}
	if lo == 0 && x.op == "Where" {
		// Keras's capped relu with a threshold: Clip(Where(x > t, x, 0), 0, m).
		if a, in, ok := im.matchReLU(x); ok && a.Alpha == 0 && !a.Capped {
			a.Capped, a.MaxValue = hi < math.MaxFloat32, float32(hi)
			return a, in, nil
		}
	}
	if lo != 0 {
		return runtime.Activation{}, nil, im.errNode(ErrUnsupportedOp, n, "lower bound %g; aekit represents Clip(0, max) (relu, relu6, capped relu)", lo)
	}
	switch {
	case hi >= math.MaxFloat32:
		return runtime.Activation{Func: runtime.ReLU}, x, nil
	case hi == 6:
		return runtime.Activation{Func: runtime.ReLU6}, x, nil
	}
	return runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: float32(hi)}, x, nil
}

// Bounds of factors. The products the activations are written with have
// at most three computed factors (0.044715·x·x·x in GELU's tanh form) and
// a few ops; without a bound a chain m = Mul(m', m') sharing its operands
// would expand to 2^depth factors.
const (
	maxFactors     = 4  // computed factors collected
	maxFactorSteps = 32 // Mul, Div, Pow and operands visited
)

// factors flattens a product (Mul, and Div by a scalar constant) into its
// computed factors and the product of its scalar constants; ok is false
// if a non-scalar constant takes part, or if the product has more than
// maxFactors computed factors or takes more than maxFactorSteps steps to
// flatten (no activation is written so).
func factors(v value) (dyn []*expr, k float64, ok bool) {
	k = 1
	steps := 0
	var walk func(v value) bool
	walk = func(v value) bool {
		if steps++; steps > maxFactorSteps {
			return false
		}
		if v.e == nil {
			s, ok := scalarOf(v)
			k *= s
			return ok
		}
		e := v.e
		switch e.op {
		case "Mul":
			return walk(e.args[0]) && walk(e.args[1])
		case "Div":
			if s, ok := scalarOf(e.args[1]); ok && e.args[0].e != nil {
				if !walk(e.args[0]) {
					return false
				}
				k /= s
				return true
			}
		case "Pow":
			if s, ok := scalarOf(e.args[1]); ok && e.args[0].e != nil && (s == 2 || s == 3) {
				for i := 0; i < int(s); i++ {
					dyn = append(dyn, e.args[0].e)
				}
				return len(dyn) <= maxFactors
			}
		}
		dyn = append(dyn, e)
		return len(dyn) <= maxFactors
	}
	if !walk(v) {
		return nil, 0, false
	}
	return dyn, k, true
}

// addOne returns y if e is y + 1 (either order), else nil.
func addOne(e *expr) *expr {
	if e == nil || e.op != "Add" {
		return nil
	}
	for k := 0; k < 2; k++ {
		if s, ok := scalarOf(e.args[1-k]); ok && s == 1 && e.args[k].e != nil {
			return e.args[k].e
		}
	}
	return nil
}

// matchProduct recognises swish x·σ(x), mish x·tanh(softplus(x)) and
// GELU 0.5·x·(1+erf(x/√2)) or 0.5·x·(1+tanh(√(2/π)(x+0.044715x³))).
func (im *importer) matchProduct(e *expr) (runtime.Activation, *expr, error) {
	dyn, k, ok := factors(value{e: e})
	if !ok || len(dyn) != 2 {
		return runtime.Activation{}, nil, nil
	}
	for i := 0; i < 2; i++ {
		x, f := dyn[i], dyn[1-i]
		switch {
		case near(k, 1) && f.op == "Sigmoid" && f.args[0].e == x:
			return runtime.Activation{Func: runtime.Swish}, x, nil
		case near(k, 1) && f.op == "Tanh" && f.args[0].e != nil && f.args[0].e.op == "Softplus" && f.args[0].e.args[0].e == x:
			return runtime.Activation{Func: runtime.Mish}, x, nil
		case k == 1 && f.op == "Greater" && f.args[0].e == x:
			// Keras 3's relu with a threshold: x·cast(x > t).
			if t, ok := scalarOf(f.args[1]); ok {
				return runtime.Activation{Func: runtime.ReLU, Threshold: float32(t)}, x, nil
			}
		case near(k, 0.5):
			g := addOne(f)
			if g == nil || g.args[0].e == nil {
				continue
			}
			z, kz, ok := factors(g.args[0])
			if g.op == "Erf" && ok && len(z) == 1 && z[0] == x && near(kz, 1/math.Sqrt2) {
				return runtime.Activation{Func: runtime.GELU}, x, nil
			}
			if g.op == "Tanh" && ok && len(z) == 1 && near(kz, math.Sqrt(2/math.Pi)) && cubic(z[0], x) {
				return runtime.Activation{Func: runtime.GELU, Approximate: true}, x, nil
			}
		}
	}
	return runtime.Activation{}, nil, nil
}

// cubic reports whether e is x + 0.044715·x³.
func cubic(e, x *expr) bool {
	if e.op != "Add" {
		return false
	}
	for k := 0; k < 2; k++ {
		if e.args[k].e != x {
			continue
		}
		d, c, ok := factors(e.args[1-k])
		if ok && len(d) == 3 && d[0] == x && d[1] == x && d[2] == x && near(c, 0.044715) {
			return true
		}
	}
	return false
}

// matchReLU recognises the Where forms Write uses for Keras relu with a
// threshold and a cap: Where(x > t, x, α·(x−t)) and Where(x < m, r, m).
func (im *importer) matchReLU(e *expr) (runtime.Activation, *expr, bool) {
	cond := e.args[0].e
	if cond == nil || len(cond.args) != 2 {
		return runtime.Activation{}, nil, false
	}
	x := cond.args[0].e
	c, ok := scalarOf(cond.args[1])
	if x == nil || !ok {
		return runtime.Activation{}, nil, false
	}
	switch cond.op {
	case "Less":
		m, ok := scalarOf(e.args[2])
		r := e.args[1].e
		if !ok || m != c || r == nil {
			return runtime.Activation{}, nil, false
		}
		a := runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: float32(m)}
		switch {
		case r.op == "Relu" && r.args[0].e == x:
		case r.op == "LeakyRelu" && r.args[0].e == x:
			a.Alpha = attrFloat(r.node, "alpha", 0.01)
		case r.op == "Where":
			in, y, ok := im.matchReLU(r)
			if !ok || in.Capped || y != x {
				return runtime.Activation{}, nil, false
			}
			a.Alpha, a.Threshold = in.Alpha, in.Threshold
		default:
			return runtime.Activation{}, nil, false
		}
		return a, x, true
	case "Greater":
		if e.args[1].e != x {
			return runtime.Activation{}, nil, false
		}
		a := runtime.Activation{Func: runtime.ReLU, Threshold: float32(c)}
		if s, ok := scalarOf(e.args[2]); ok && s == 0 {
			return a, x, true
		}
		d, k, ok := factors(e.args[2])
		if !ok || len(d) != 1 || d[0].op != "Sub" || d[0].args[0].e != x {
			return runtime.Activation{}, nil, false
		}
		if t, ok := scalarOf(d[0].args[1]); !ok || t != c {
			return runtime.Activation{}, nil, false
		}
		a.Alpha = float32(k)
		return a, x, true
	}
	return runtime.Activation{}, nil, false
}

// minMax returns the input and bounds of Max(Min(x, hi), lo),
// Min(Max(x, lo), hi), Max(x, lo) or Min(x, hi) with constant scalar
// bounds, as tf2onnx writes tf.clip_by_value; a missing bound is infinite.
func (im *importer) minMax(e *expr) (x *expr, lo, hi float64, err error) {
	lo, hi = math.Inf(-1), math.Inf(1)
	for depth := 0; depth < 2 && (e.op == "Min" || e.op == "Max"); depth++ {
		var y *expr
		var c value
		switch {
		case e.args[0].e != nil && e.args[1].e == nil:
			y, c = e.args[0].e, e.args[1]
		case e.args[1].e != nil && e.args[0].e == nil:
			y, c = e.args[1].e, e.args[0]
		default:
			return nil, 0, 0, im.errNode(ErrUnsupportedOp, e.node, "combines two computed tensors; aekit reads %s of a tensor and a constant", e.op)
		}
		s, ok := scalarOf(c)
		if !ok {
			return nil, 0, 0, im.errNode(ErrUnsupportedOp, e.node, "bounds must be constant scalars")
		}
		if e.op == "Max" {
			if !math.IsInf(lo, -1) {
				break
			}
			lo = s
		} else {
			if !math.IsInf(hi, 1) {
				break
			}
			hi = s
		}
		x, e = y, y
	}
	return x, lo, hi, nil
}

// affineOf returns y, a and b if e is a·y + b with scalar constants a and
// b (either may be absent: a·y, y + b).
func affineOf(e *expr) (y *expr, a, b float64, ok bool) {
	if e == nil {
		return nil, 0, 0, false
	}
	if e.op == "Add" {
		for k := 0; k < 2; k++ {
			if s, ok := scalarOf(e.args[1-k]); ok && e.args[k].e != nil {
				d, a, ok := factors(e.args[k])
				if ok && len(d) == 1 {
					return d[0], a, s, true
				}
			}
		}
		return nil, 0, 0, false
	}
	if d, a, ok := factors(value{e: e}); ok && len(d) == 1 && d[0] != e {
		return d[0], a, 0, true
	}
	return nil, 0, 0, false
}

// stepOf returns t and x if e is x·[x > t]: ThresholdedRelu(x) with
// alpha t, x·Greater(x, t) (Keras 3's relu with a threshold), or
// tf.where(x > t, x, 0) as tf2onnx converts it: [x > t]·x + 0·Not(x > t).
func stepOf(e *expr) (t float64, x *expr, ok bool) {
	switch e.op {
	case "Add":
		if len(e.args) != 2 || e.args[0].e == nil || e.args[1].e == nil {
			return 0, nil, false
		}
		for i := 0; i < 2; i++ {
			if e.args[i].e.op != "Mul" {
				continue
			}
			t, x, ok := stepOf(e.args[i].e)
			if !ok {
				continue
			}
			d, k, ok := factors(e.args[1-i])
			if ok && k == 0 && len(d) == 1 && d[0].op == "Not" && d[0].args[0].e != nil && d[0].args[0].e.op == "Greater" && d[0].args[0].e.args[0].e == x {
				if u, ok := scalarOf(d[0].args[0].e.args[1]); ok && u == t {
					return t, x, true
				}
			}
		}
	case "ThresholdedRelu":
		return float64(attrFloat(e.node, "alpha", 1)), e.args[0].e, e.args[0].e != nil
	case "Mul":
		d, k, ok := factors(value{e: e})
		if !ok || len(d) != 2 || k != 1 {
			return 0, nil, false
		}
		for i := 0; i < 2; i++ {
			if g := d[1-i]; g.op == "Greater" && g.args[0].e == d[i] {
				if t, ok := scalarOf(g.args[1]); ok {
					return t, d[i], true
				}
			}
		}
	}
	return 0, nil, false
}

// matchHardSigmoid recognises Keras 3's hard sigmoid relu6(x + 3)/6,
// written k·clip(a·x + b, 0, h) with k·h = 1: HardSigmoid(k·a, k·b).
func (im *importer) matchHardSigmoid(e *expr) (runtime.Activation, *expr, bool) {
	d, k, ok := factors(value{e: e})
	if !ok || len(d) != 1 || k <= 0 {
		return runtime.Activation{}, nil, false
	}
	c := d[0]
	var in *expr
	lo, hi := math.Inf(-1), math.Inf(1)
	switch c.op {
	case "Min", "Max":
		x, l, h, err := im.minMax(c)
		if err != nil {
			return runtime.Activation{}, nil, false
		}
		in, lo, hi = x, l, h
	case "Clip":
		if im.opset < 11 || len(c.args) != 3 {
			return runtime.Activation{}, nil, false
		}
		l, ok1 := scalarOf(c.args[1])
		h, ok2 := scalarOf(c.args[2])
		if !ok1 || !ok2 {
			return runtime.Activation{}, nil, false
		}
		in, lo, hi = c.args[0].e, l, h
	default:
		return runtime.Activation{}, nil, false
	}
	if lo != 0 || !near(k*hi, 1) {
		return runtime.Activation{}, nil, false
	}
	y, a, b, ok := affineOf(in)
	if !ok {
		return runtime.Activation{}, nil, false
	}
	return runtime.Activation{Func: runtime.HardSigmoid, Alpha: float32(k * a), Beta: float32(k * b)}, y, true
}

// matchWhereELU recognises an ELU with a scale α on its negative side, as
// Keras writes elu(x, α) for α ≠ 1 (tf.where(x > 0, elu(x), α·elu(x)))
// and tf2onnx converts the where on floats: [x > 0]·elu(x) +
// α·elu(x)·Not(x > 0) (the casts to float are read as no-ops).
func matchWhereELU(e *expr) (runtime.Activation, *expr, bool) {
	if len(e.args) != 2 || e.args[0].e == nil || e.args[1].e == nil {
		return runtime.Activation{}, nil, false
	}
	for i := 0; i < 2; i++ {
		p, kp, ok1 := factors(e.args[i])
		q, kq, ok2 := factors(e.args[1-i])
		if !ok1 || !ok2 || len(p) != 2 || len(q) != 2 || kp != 1 {
			continue
		}
		for j := 0; j < 2; j++ {
			g, el := p[j], p[1-j]
			if g.op != "Greater" || el.op != "Elu" || g.args[0].e == nil || g.args[0].e != el.args[0].e {
				continue
			}
			if t, ok := scalarOf(g.args[1]); !ok || t != 0 {
				continue
			}
			for l := 0; l < 2; l++ {
				if q[l] == el && q[1-l].op == "Not" && q[1-l].args[0].e == g {
					return runtime.Activation{Func: runtime.ELU, Alpha: float32(kq) * attrFloat(el.node, "alpha", 1)}, el.args[0].e, true
				}
			}
		}
	}
	return runtime.Activation{}, nil, false
}
