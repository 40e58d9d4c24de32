package activation

import (
	"fmt"
	"sort"
	"strings"
)

// Func identifies an element-wise (or, for Softmax and LogSoftmax,
// last-axis) activation function.
type Func uint8

// The activation functions, with Keras semantics. Parameters live in
// Activation.
const (
	Linear      Func = iota // f(x) = x
	ReLU                    // Keras relu with negative slope, threshold and cap
	ReLU6                   // min(max(x, 0), 6)
	LeakyReLU               // x if x > 0 else Alpha·x
	ELU                     // x if x > 0 else Alpha·(eˣ−1)
	SELU                    // SELUScale·(x if x > 0 else SELUAlpha·(eˣ−1))
	Sigmoid                 // 1/(1+e⁻ˣ)
	HardSigmoid             // clip(Alpha·x + Beta, 0, 1)
	Tanh                    // tanh(x)
	Softmax                 // exp(x)/Σexp(x) over the last axis
	LogSoftmax              // x − log Σexp(x) over the last axis
	Softplus                // log(1+eˣ)
	Softsign                // x/(1+|x|)
	Exponential             // eˣ
	Swish                   // x·sigmoid(x), also called silu
	GELU                    // x·Φ(x), or its tanh approximation when Approximate
	Mish                    // x·tanh(softplus(x))

	// NumFuncs is the number of functions: a Func f is valid when
	// f < NumFuncs.
	NumFuncs
)

// SELU's constants, as Keras uses them (and ONNX's Selu defaults: alpha
// and gamma).
const (
	SELUAlpha = 1.6732632423543772848170429916717
	SELUScale = 1.0507009873554804934193349852946
)

var names = [NumFuncs]string{
	Linear: "linear", ReLU: "relu", ReLU6: "relu6", LeakyReLU: "leaky_relu",
	ELU: "elu", SELU: "selu", Sigmoid: "sigmoid", HardSigmoid: "hard_sigmoid",
	Tanh: "tanh", Softmax: "softmax", LogSoftmax: "log_softmax",
	Softplus: "softplus", Softsign: "softsign", Exponential: "exponential",
	Swish: "swish", GELU: "gelu", Mish: "mish",
}

// String returns the Keras name of f ("relu", "sigmoid", ...), or
// "Func(n)" for an invalid f.
func (f Func) String() string {
	if f < NumFuncs {
		return names[f]
	}
	return fmt.Sprintf("Func(%d)", uint8(f))
}

// Names returns the names Lookup accepts, sorted: every function's Keras
// name and the alias "silu" (the aliases "None", "none" and "" for linear
// are accepted but not listed).
func Names() []string {
	out := make([]string, 0, NumFuncs+1)
	out = append(out, names[:]...)
	out = append(out, "silu")
	sort.Strings(out)
	return out
}

// Lookup returns the function with the given Keras name, accepting the
// aliases Keras accepts: "silu" for swish, "None" (and "none", "") for
// linear. It reports false for an unknown name.
func Lookup(name string) (Func, bool) {
	switch name {
	case "", "None", "none":
		return Linear, true
	case "silu":
		return Swish, true
	}
	for f, n := range names {
		if n == name {
			return Func(f), true
		}
	}
	return 0, false
}

// Activation is an activation function with its parameters. The zero value
// is the identity. Default gives Keras's default parameters.
type Activation struct {
	Func Func

	// Alpha is the negative slope of ReLU and LeakyReLU, the scale of the
	// negative part of ELU, and the slope of HardSigmoid.
	Alpha float32
	// Beta is the offset of HardSigmoid.
	Beta float32
	// Threshold is ReLU's threshold: values at or below it take the
	// negative slope.
	Threshold float32
	// MaxValue caps ReLU's output when Capped is set.
	MaxValue float32
	Capped   bool
	// Approximate selects GELU's tanh approximation.
	Approximate bool
}

// Default returns f with the parameters Keras uses by default: LeakyReLU
// slope 0.2 (the leaky_relu activation function; the LeakyReLU layer's
// default is 0.3), ELU alpha 1, HardSigmoid 0.2·x+0.5 (Keras 2; Keras 3
// uses x/6+0.5, see HardSigmoidKeras3), exact GELU.
func Default(f Func) Activation {
	a := Activation{Func: f}
	switch f {
	case LeakyReLU:
		a.Alpha = 0.2
	case ELU:
		a.Alpha = 1
	case HardSigmoid:
		a.Alpha, a.Beta = 0.2, 0.5
	}
	return a
}

// HardSigmoidKeras3 returns Keras 3's hard_sigmoid, relu6(x+3)/6: slope
// 1/6, offset 0.5.
func HardSigmoidKeras3() Activation {
	return Activation{Func: HardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}
}

// String describes a, e.g. "relu", "leaky_relu(alpha=0.3)".
func (a Activation) String() string {
	s := a.Func.String()
	var p []string
	switch a.Func {
	case ReLU:
		if a.Alpha != 0 {
			p = append(p, fmt.Sprintf("negative_slope=%g", a.Alpha))
		}
		if a.Threshold != 0 {
			p = append(p, fmt.Sprintf("threshold=%g", a.Threshold))
		}
		if a.Capped {
			p = append(p, fmt.Sprintf("max_value=%g", a.MaxValue))
		}
	case LeakyReLU, ELU:
		p = append(p, fmt.Sprintf("alpha=%g", a.Alpha))
	case HardSigmoid:
		p = append(p, fmt.Sprintf("alpha=%.4g", a.Alpha), fmt.Sprintf("beta=%g", a.Beta))
	case GELU:
		if a.Approximate {
			p = append(p, "approximate")
		}
	}
	if len(p) > 0 {
		s += "(" + strings.Join(p, ", ") + ")"
	}
	return s
}

// IsIdentity reports whether a leaves its input unchanged.
func (a Activation) IsIdentity() bool {
	return a.Func == Linear
}

// InPlace reports whether the gradient of a can be computed from its
// output alone, or from an input recoverable from the output, so that a
// training forward pass may overwrite the pre-activation with the output:
// true for Sigmoid, Tanh and plain ReLU (max(x, 0) > 0 exactly where
// x > 0). See internal/kernel.ActGrad.
func (a Activation) InPlace() bool {
	switch a.Func {
	case Sigmoid, Tanh:
		return true
	}
	return a.PlainReLU()
}

// PlainReLU reports whether a is max(x, 0): ReLU with no negative slope,
// threshold or cap.
func (a Activation) PlainReLU() bool {
	return a.Func == ReLU && a.Alpha == 0 && a.Threshold == 0 && !a.Capped
}
