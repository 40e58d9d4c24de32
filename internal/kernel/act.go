package kernel

import (
	"fmt"
	"math"

	"github.com/aekit/aekit/activation"
	"github.com/aekit/aekit/internal/kernel/vmath"
)

// ActFunc identifies an activation function: package activation's Func,
// which runtime.Func is too.
type ActFunc = activation.Func

// The activation functions, with Keras semantics (package activation's).
const (
	ActLinear      = activation.Linear      // x
	ActReLU        = activation.ReLU        // Keras relu with negative slope, threshold and cap
	ActReLU6       = activation.ReLU6       // min(max(x, 0), 6)
	ActLeakyReLU   = activation.LeakyReLU   // x if x > 0 else Alpha·x
	ActELU         = activation.ELU         // x if x > 0 else Alpha·(eˣ−1)
	ActSELU        = activation.SELU        // scale·(x if x > 0 else α·(eˣ−1))
	ActSigmoid     = activation.Sigmoid     // 1/(1+e⁻ˣ)
	ActHardSigmoid = activation.HardSigmoid // clip(Alpha·x + Beta, 0, 1)
	ActTanh        = activation.Tanh        // tanh(x)
	ActSoftmax     = activation.Softmax     // exp(x)/Σexp(x) over each row
	ActLogSoftmax  = activation.LogSoftmax  // x − log Σexp(x) over each row
	ActSoftplus    = activation.Softplus    // log(1+eˣ)
	ActSoftsign    = activation.Softsign    // x/(1+|x|)
	ActExponential = activation.Exponential // eˣ
	ActSwish       = activation.Swish       // x·sigmoid(x)
	ActGELU        = activation.GELU        // x·Φ(x), or its tanh approximation
	ActMish        = activation.Mish        // x·tanh(softplus(x))
)

// SELU constants (Keras's).
const (
	seluAlpha = activation.SELUAlpha
	seluScale = activation.SELUScale
)

// Act is an activation function with its parameters: package activation's
// Activation (whose field set it shares, so runtime.Activation and
// activation.Activation convert to it with kernel.Act(a)). The zero value
// is the identity.
type Act activation.Activation

// AddBias adds bias (length n) to every row of the m×n row-major matrix c,
// with AVX-512 or AVX2 where the CPU has it (see VectorMath); the sums are
// the same float32 additions either way. It does not allocate.
func AddBias(c []float32, m, n int, bias []float32) {
	bias = bias[:n]
	for i := 0; i < m; i++ {
		row := c[i*n : i*n+n]
		k := 0
		if useVec {
			k = vmath.AddBias(row, bias)
		}
		for j, b := range bias[k:] {
			row[k+j] += b
		}
	}
}

// plainReLU reports whether a is max(x, 0).
func (a Act) plainReLU() bool { return activation.Activation(a).PlainReLU() }

// InPlace reports whether ActGrad reads only a's output for a, or an
// input it can recover from the output, so that the forward pass may
// overwrite z with y and pass the same slice as both: true for Sigmoid,
// Tanh and plain ReLU (see activation.Activation.InPlace).
func (a Act) InPlace() bool { return activation.Activation(a).InPlace() }

// BiasAct sets c[i·n+j] = f(c[i·n+j] + bias[j]) for the m×n row-major
// matrix c, in one pass; a nil bias adds nothing. Linear, plain ReLU
// (max(x, 0)) and Sigmoid have fused single-pass loops. Sigmoid runs 8
// values at a time in float32 (AVX2+FMA assembly, see VectorMath) within
// 1e-6 relative of the float64 sigmoid, and in float64 math rounded, as
// runtime.Activation.Apply, without AVX2 or with the purego tag; Tanh and
// the other functions always compute as Apply does and agree with it
// bitwise. Softmax and LogSoftmax normalize each row of n values. It does
// not allocate.
func BiasAct(a Act, c []float32, m, n int, bias []float32) {
	c = c[:m*n]
	if bias != nil {
		bias = bias[:n]
	}
	switch {
	case a.Func == ActLinear:
		if bias != nil {
			AddBias(c, m, n, bias)
		}
	case a.plainReLU():
		for i := 0; i < m; i++ {
			row := c[i*n : i*n+n]
			if useVec {
				k := vmath.ReLUBias(row, bias)
				row = row[k:]
				if bias != nil {
					bias := bias[k:]
					for j, b := range bias[:len(row)] {
						row[j] = max(row[j]+b, 0)
					}
					continue
				}
			}
			if bias == nil {
				for j, v := range row {
					row[j] = max(v, 0)
				}
				continue
			}
			for j, b := range bias {
				row[j] = max(row[j]+b, 0)
			}
		}
	case a.Func == ActSigmoid:
		for i := 0; i < m; i++ {
			sigmoidRow(c[i*n:i*n+n], bias)
		}
	default:
		if bias != nil {
			AddBias(c, m, n, bias)
		}
		a.apply(c, n)
	}
}

// BiasActTo adds bias to the m×n matrix z in place (a nil bias adds
// nothing) and writes f(z) to y, in one pass: the training forward pass,
// which keeps z for ActGrad unless a.InPlace. y and z must not overlap
// unless they are the same slice. It does not allocate.
func BiasActTo(a Act, y, z []float32, m, n int, bias []float32) {
	z = z[:m*n]
	y = y[:m*n]
	if bias != nil {
		bias = bias[:n]
		for i := 0; i < m; i++ {
			row := z[i*n : i*n+n]
			out := y[i*n : i*n+n]
			for j, b := range bias {
				v := row[j] + b
				row[j] = v
				out[j] = v
			}
		}
	} else {
		copy(y, z)
	}
	BiasAct(a, y, m, n, nil)
}

// sigmoidRow sets row[j] = σ(row[j] + bias[j]) (σ(row[j]) for a nil
// bias): the vector kernel where it applies, float64 math elsewhere.
func sigmoidRow(row, bias []float32) {
	if bias != nil {
		bias = bias[:len(row)]
	}
	if !useVec {
		sigmoidScalar(row, bias)
		return
	}
	for i := 0; i < len(row); {
		var b []float32
		if bias != nil {
			b = bias[i:]
		}
		i += vmath.SigmoidBias(row[i:], b)
		// The block the vector kernel stopped at: it holds a value out of
		// the kernel's range (|x| > 87 or NaN).
		end := min(i+8, len(row))
		if bias != nil {
			sigmoidScalar(row[i:end], bias[i:end])
		} else {
			sigmoidScalar(row[i:end], nil)
		}
		i = end
	}
}

// sigmoidScalar is sigmoidRow in float64 math.
func sigmoidScalar(row, bias []float32) {
	if bias == nil {
		for j, v := range row {
			row[j] = sigmoid64(v)
		}
		return
	}
	bias = bias[:len(row)]
	for j, b := range bias {
		row[j] = sigmoid64(row[j] + b)
	}
}

// apply applies a in place to x, rows of n values: runtime's formulas.
func (a Act) apply(x []float32, n int) {
	switch a.Func {
	case ActLinear:
	case ActReLU:
		// Keras, term by term: x·[x > threshold] (relu(x) when the
		// threshold is 0), clipped to [0, max_value] when capped, minus
		// alpha·relu(threshold − x).
		alpha, th, capped, mx := a.Alpha, a.Threshold, a.Capped, a.MaxValue
		for i, v := range x {
			if v != v {
				continue // NaN stays NaN, as in TensorFlow
			}
			var pos float32
			if v > th && (th != 0 || v > 0) {
				pos = v
			}
			if capped {
				pos = min(max(pos, 0), mx)
			}
			if alpha != 0 {
				pos -= alpha * max(th-v, 0)
			}
			x[i] = pos
		}
	case ActReLU6:
		for i, v := range x {
			x[i] = min(max(v, 0), 6)
		}
	case ActLeakyReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = a.Alpha * v
			}
		}
	case ActELU:
		for i, v := range x {
			if v <= 0 {
				x[i] = a.Alpha * float32(math.Expm1(float64(v)))
			}
		}
	case ActSELU:
		for i, v := range x {
			if v > 0 {
				x[i] = float32(seluScale * float64(v))
			} else {
				x[i] = float32(seluScale * seluAlpha * math.Expm1(float64(v)))
			}
		}
	case ActSigmoid:
		for i, v := range x {
			x[i] = sigmoid64(v)
		}
	case ActHardSigmoid:
		for i, v := range x {
			x[i] = min(max(a.Alpha*v+a.Beta, 0), 1)
		}
	case ActTanh:
		for i, v := range x {
			x[i] = tanh64(v)
		}
	case ActSoftmax:
		for r := 0; r+n <= len(x); r += n {
			softmax(x[r : r+n])
		}
	case ActLogSoftmax:
		for r := 0; r+n <= len(x); r += n {
			logSoftmax(x[r : r+n])
		}
	case ActSoftplus:
		for i, v := range x {
			x[i] = float32(softplus(float64(v)))
		}
	case ActSoftsign:
		for i, v := range x {
			x[i] = v / (1 + float32(math.Abs(float64(v))))
		}
	case ActExponential:
		for i, v := range x {
			x[i] = float32(math.Exp(float64(v)))
		}
	case ActSwish:
		for i, v := range x {
			x[i] = v * sigmoid64(v)
		}
	case ActGELU:
		if a.Approximate {
			for i, v := range x {
				d := float64(v)
				x[i] = float32(0.5 * d * (1 + math.Tanh(geluC*(d+0.044715*d*d*d))))
			}
		} else {
			for i, v := range x {
				d := float64(v)
				x[i] = float32(0.5 * d * (1 + math.Erf(d/math.Sqrt2)))
			}
		}
	case ActMish:
		for i, v := range x {
			d := float64(v)
			x[i] = float32(d * math.Tanh(softplus(d)))
		}
	default:
		panic(fmt.Sprintf("kernel: invalid activation %d", a.Func))
	}
}

const geluC = 0.7978845608028654 // √(2/π)

func softplus(d float64) float64 {
	return math.Max(d, 0) + math.Log1p(math.Exp(-math.Abs(d)))
}

func softmax(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		s += e
	}
	inv := 1 / s
	for i, v := range x {
		x[i] = float32(float64(v) * inv)
	}
}

func logSoftmax(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v - m))
	}
	ls := float32(math.Log(s))
	for i, v := range x {
		x[i] = v - m - ls
	}
}

// ActGrad multiplies the m×n gradient d, with respect to a's output, by
// the derivative of a, in place: d ← d ⊙ f′(z), which makes it the
// gradient with respect to the pre-activation z. y is a's output f(z).
// Sigmoid, Tanh, Exponential, Softmax and LogSoftmax read y; the others
// read z, which may be the same slice as y when a.InPlace(). For Softmax
// and LogSoftmax d ← Jᵀd row by row (y⊙(d − Σd·y) and d − eʸ·Σd, the sums
// in float64). The derivatives are TensorFlow's, computed in float32 or in
// float64 rounded to float32 (ELU α·eᶻ, SELU, Softplus σ(z), Swish, GELU,
// Mish in float64); at kinks they take TensorFlow's values: relu's
// derivative is 0 at 0, leaky_relu's is α at 0, ReLU with a threshold adds
// its negative slope only strictly below the threshold and is 0 at or
// above its cap, ReLU6 and HardSigmoid are 0 where the output is clipped,
// including the boundary. It does not allocate.
func ActGrad(a Act, d, z, y []float32, m, n int) {
	d = d[:m*n]
	z = z[:m*n]
	y = y[:m*n]
	switch a.Func {
	case ActLinear:
	case ActReLU:
		if useVec && a.plainReLU() {
			// d *= [z > 0], bit for bit as the loop below.
			k := vmath.ReLUGrad(d, z)
			d, z = d[k:], z[k:]
		}
		alpha, th, capped, mx := a.Alpha, a.Threshold, a.Capped, a.MaxValue
		// The derivative of Keras's x·[x > threshold], clipped to
		// [0, max_value], minus alpha·relu(threshold − x).
		for i, v := range z {
			var g float32
			if v > th && (th != 0 || v > 0) && !(capped && (v >= mx || v < 0)) {
				g = 1
			}
			if alpha != 0 && v < th {
				g += alpha
			}
			d[i] *= g
		}
	case ActReLU6:
		for i, v := range z {
			if !(v > 0 && v < 6) {
				d[i] = 0
			}
		}
	case ActLeakyReLU:
		for i, v := range z {
			if !(v > 0) {
				d[i] *= a.Alpha
			}
		}
	case ActELU:
		for i, v := range z {
			if v <= 0 {
				d[i] *= a.Alpha * float32(math.Exp(float64(v)))
			}
		}
	case ActSELU:
		for i, v := range z {
			if v > 0 {
				d[i] *= float32(seluScale)
			} else {
				d[i] *= float32(seluScale * seluAlpha * math.Exp(float64(v)))
			}
		}
	case ActSigmoid:
		if useVec {
			// Bit for bit as the loop below.
			k := vmath.SigmoidGrad(d, y)
			d, y = d[k:], y[k:]
		}
		for i, v := range y {
			d[i] *= v * (1 - v)
		}
	case ActHardSigmoid:
		for i, v := range z {
			u := a.Alpha*v + a.Beta
			if u > 0 && u < 1 {
				d[i] *= a.Alpha
			} else {
				d[i] = 0
			}
		}
	case ActTanh:
		for i, v := range y {
			d[i] *= 1 - v*v
		}
	case ActSoftmax:
		for r := 0; r < m*n; r += n {
			dr, yr := d[r:r+n], y[r:r+n]
			var s float64
			for j, v := range yr {
				s += float64(dr[j]) * float64(v)
			}
			s32 := float32(s)
			for j, v := range yr {
				dr[j] = v * (dr[j] - s32)
			}
		}
	case ActLogSoftmax:
		for r := 0; r < m*n; r += n {
			dr, yr := d[r:r+n], y[r:r+n]
			var s float64
			for _, v := range dr {
				s += float64(v)
			}
			for j, v := range yr {
				dr[j] -= float32(math.Exp(float64(v)) * s)
			}
		}
	case ActSoftplus:
		for i, v := range z {
			d[i] *= sigmoid64(v)
		}
	case ActSoftsign:
		for i, v := range z {
			t := 1 + float32(math.Abs(float64(v)))
			d[i] /= t * t
		}
	case ActExponential:
		for i, v := range y {
			d[i] *= v
		}
	case ActSwish:
		for i, v := range z {
			s := float64(sigmoid64(v))
			x := float64(v)
			d[i] *= float32(s * (1 + x*(1-s)))
		}
	case ActGELU:
		if a.Approximate {
			for i, v := range z {
				x := float64(v)
				t := math.Tanh(geluC * (x + 0.044715*x*x*x))
				d[i] *= float32(0.5*(1+t) + 0.5*x*(1-t*t)*geluC*(1+3*0.044715*x*x))
			}
		} else {
			for i, v := range z {
				x := float64(v)
				d[i] *= float32(0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi))
			}
		}
	case ActMish:
		for i, v := range z {
			x := float64(v)
			t := math.Tanh(softplus(x))
			d[i] *= float32(t + x*(1-t*t)*float64(sigmoid64(v)))
		}
	default:
		panic(fmt.Sprintf("kernel: invalid activation %d", a.Func))
	}
}
