package runtime

import (
	"github.com/aekit/aekit/internal/limits"

	"fmt"
	"sort"
	"strings"

	"github.com/aekit/aekit/internal/kernel"
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
	SELU                    // scale·(x if x > 0 else α·(eˣ−1)), Keras constants
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
	numFuncs
)

// SELU constants used by Keras (and ONNX's Selu defaults).
const (
	SELUAlpha = 1.6732632423543772848170429916717
	SELUScale = 1.0507009873554804934193349852946
)

var funcNames = [numFuncs]string{
	Linear: "linear", ReLU: "relu", ReLU6: "relu6", LeakyReLU: "leaky_relu",
	ELU: "elu", SELU: "selu", Sigmoid: "sigmoid", HardSigmoid: "hard_sigmoid",
	Tanh: "tanh", Softmax: "softmax", LogSoftmax: "log_softmax",
	Softplus: "softplus", Softsign: "softsign", Exponential: "exponential",
	Swish: "swish", GELU: "gelu", Mish: "mish",
}

// String returns the Keras name of f ("relu", "sigmoid", ...).
func (f Func) String() string {
	if f < numFuncs {
		return funcNames[f]
	}
	return fmt.Sprintf("Func(%d)", uint8(f))
}

// FuncNames returns the activation names ParseFunc accepts, sorted (the
// aliases "None" and "" for linear are accepted but not listed).
func FuncNames() []string {
	names := make([]string, 0, numFuncs+1)
	for _, n := range funcNames {
		names = append(names, n)
	}
	names = append(names, "silu")
	sort.Strings(names)
	return names
}

// ParseFunc returns the function with the given Keras name. It accepts the
// aliases Keras accepts: "silu" for swish, "None" and "" for linear.
// Unknown names return an error wrapping ErrActivation that lists the valid
// names.
func ParseFunc(name string) (Func, error) {
	switch name {
	case "", "None", "none":
		return Linear, nil
	case "silu":
		return Swish, nil
	}
	for f, n := range funcNames {
		if n == name {
			return Func(f), nil
		}
	}
	return 0, fmt.Errorf("%w %q (valid: %s)", ErrActivation, limits.Truncate(name, 40), strings.Join(FuncNames(), ", "))
}

// Activation is an activation function with its parameters. The zero value
// is the identity. Build one with Act to get Keras's default parameters.
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

// Act returns f with the parameters Keras uses by default: LeakyReLU
// slope 0.2 (the leaky_relu activation function; the LeakyReLU layer's
// default is 0.3), ELU alpha 1, HardSigmoid 0.2·x+0.5 (Keras 2; Keras 3
// uses x/6+0.5, see HardSigmoidKeras3), exact GELU.
func Act(f Func) Activation {
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

// HardSigmoidKeras3 is Keras 3's hard_sigmoid, relu6(x+3)/6.
var HardSigmoidKeras3 = Activation{Func: HardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}

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

// Apply applies a in place to x, which holds rows of width values each.
// Softmax and LogSoftmax normalise over the last axis, whose length is axis;
// other functions ignore it. len(x) must be a multiple of axis. NaN inputs
// give NaN outputs, as in TensorFlow. The arithmetic is the kernel's that
// the forward pass uses (internal/kernel.BiasAct), so Apply and Predict
// agree bit for bit.
func (a Activation) Apply(x []float32, axis int) {
	if a.Func == Linear || len(x) == 0 {
		return
	}
	if axis <= 0 || len(x)%axis != 0 {
		axis = len(x)
	}
	kernel.BiasAct(kernelAct(a), x, len(x)/axis, axis, nil)
}
