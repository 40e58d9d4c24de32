package train

import (
	"fmt"
	"math"

	"github.com/aekit/aekit/runtime"
)

// differentiable reports whether actGrad supports a.
func differentiable(a runtime.Activation) error {
	switch a.Func {
	case runtime.Linear, runtime.ReLU, runtime.ReLU6, runtime.LeakyReLU, runtime.ELU,
		runtime.SELU, runtime.Sigmoid, runtime.HardSigmoid, runtime.Tanh, runtime.Softmax,
		runtime.LogSoftmax, runtime.Softplus, runtime.Softsign, runtime.Exponential,
		runtime.Swish, runtime.GELU, runtime.Mish:
		return nil
	}
	return fmt.Errorf("%w: no derivative for activation %v", ErrModel, a)
}

// actGrad multiplies g, the gradient with respect to an activation's
// output a, by the activation's derivative at its input z, in place, so
// that g becomes the gradient with respect to z. z, a and g hold rows of
// width values (width matters only for Softmax and LogSoftmax, whose
// Jacobian couples a row). At kinks the derivative is TensorFlow's: 0 for
// relu at 0, 1 for leaky_relu above 0, and so on.
func actGrad(g, z, a []float32, act runtime.Activation, width int) {
	z = z[:len(g)]
	a = a[:len(g)]
	switch act.Func {
	case runtime.Linear:
	case runtime.ReLU:
		alpha, th, capped, mx := act.Alpha, act.Threshold, act.Capped, act.MaxValue
		// The derivative of Keras's x·[x > threshold], clipped to
		// [0, max_value], minus alpha·relu(threshold − x).
		for i, v := range z {
			var d float32
			if v > th && (th != 0 || v > 0) && !(capped && (v >= mx || v < 0)) {
				d = 1
			}
			if alpha != 0 && v < th {
				d += alpha
			}
			g[i] *= d
		}
	case runtime.ReLU6:
		for i, v := range z {
			if !(v > 0 && v < 6) {
				g[i] = 0
			}
		}
	case runtime.LeakyReLU:
		for i, v := range z {
			if !(v > 0) {
				g[i] *= act.Alpha
			}
		}
	case runtime.ELU:
		for i, v := range z {
			if v <= 0 {
				g[i] *= act.Alpha * float32(math.Exp(float64(v)))
			}
		}
	case runtime.SELU:
		for i, v := range z {
			if v > 0 {
				g[i] *= float32(runtime.SELUScale)
			} else {
				g[i] *= float32(runtime.SELUScale * runtime.SELUAlpha * math.Exp(float64(v)))
			}
		}
	case runtime.Sigmoid:
		for i, y := range a {
			g[i] *= y * (1 - y)
		}
	case runtime.HardSigmoid:
		for i, v := range z {
			u := act.Alpha*v + act.Beta
			if u > 0 && u < 1 {
				g[i] *= act.Alpha
			} else {
				g[i] = 0
			}
		}
	case runtime.Tanh:
		for i, y := range a {
			g[i] *= 1 - y*y
		}
	case runtime.Softmax:
		for r := 0; r+width <= len(g); r += width {
			gr, yr := g[r:r+width], a[r:r+width]
			var s float64
			for j, y := range yr {
				s += float64(gr[j]) * float64(y)
			}
			s32 := float32(s)
			for j, y := range yr {
				gr[j] = y * (gr[j] - s32)
			}
		}
	case runtime.LogSoftmax:
		for r := 0; r+width <= len(g); r += width {
			gr, yr := g[r:r+width], a[r:r+width]
			var s float64
			for _, v := range gr {
				s += float64(v)
			}
			for j, y := range yr {
				gr[j] -= float32(math.Exp(float64(y)) * s)
			}
		}
	case runtime.Softplus:
		for i, v := range z {
			g[i] *= sigmoid32(v)
		}
	case runtime.Softsign:
		for i, v := range z {
			d := 1 + float32(math.Abs(float64(v)))
			g[i] /= d * d
		}
	case runtime.Exponential:
		for i, y := range a {
			g[i] *= y
		}
	case runtime.Swish:
		for i, v := range z {
			s := float64(sigmoid32(v))
			x := float64(v)
			g[i] *= float32(s * (1 + x*(1-s)))
		}
	case runtime.GELU:
		if act.Approximate {
			const c = 0.7978845608028654 // √(2/π)
			for i, v := range z {
				x := float64(v)
				t := math.Tanh(c * (x + 0.044715*x*x*x))
				g[i] *= float32(0.5*(1+t) + 0.5*x*(1-t*t)*c*(1+3*0.044715*x*x))
			}
		} else {
			for i, v := range z {
				x := float64(v)
				g[i] *= float32(0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi))
			}
		}
	case runtime.Mish:
		for i, v := range z {
			x := float64(v)
			sp := math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
			t := math.Tanh(sp)
			g[i] *= float32(t + x*(1-t*t)*float64(sigmoid32(v)))
		}
	}
}
