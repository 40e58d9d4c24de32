package runtime

import (
	"fmt"
	"strings"

	"github.com/aekit/aekit/activation"
	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/internal/limits"
)

// Func identifies an element-wise (or, for Softmax and LogSoftmax,
// last-axis) activation function: package activation's Func.
type Func = activation.Func

// The activation functions, with Keras semantics (package activation's).
// Parameters live in Activation.
const (
	Linear      = activation.Linear      // f(x) = x
	ReLU        = activation.ReLU        // Keras relu with negative slope, threshold and cap
	ReLU6       = activation.ReLU6       // min(max(x, 0), 6)
	LeakyReLU   = activation.LeakyReLU   // x if x > 0 else Alpha·x
	ELU         = activation.ELU         // x if x > 0 else Alpha·(eˣ−1)
	SELU        = activation.SELU        // scale·(x if x > 0 else α·(eˣ−1)), Keras constants
	Sigmoid     = activation.Sigmoid     // 1/(1+e⁻ˣ)
	HardSigmoid = activation.HardSigmoid // clip(Alpha·x + Beta, 0, 1)
	Tanh        = activation.Tanh        // tanh(x)
	Softmax     = activation.Softmax     // exp(x)/Σexp(x) over the last axis
	LogSoftmax  = activation.LogSoftmax  // x − log Σexp(x) over the last axis
	Softplus    = activation.Softplus    // log(1+eˣ)
	Softsign    = activation.Softsign    // x/(1+|x|)
	Exponential = activation.Exponential // eˣ
	Swish       = activation.Swish       // x·sigmoid(x), also called silu
	GELU        = activation.GELU        // x·Φ(x), or its tanh approximation when Approximate
	Mish        = activation.Mish        // x·tanh(softplus(x))
	numFuncs    = activation.NumFuncs
)

// SELU constants used by Keras (and ONNX's Selu defaults).
const (
	SELUAlpha = activation.SELUAlpha
	SELUScale = activation.SELUScale
)

// FuncNames returns the activation names ParseFunc accepts, sorted (the
// aliases "None" and "" for linear are accepted but not listed).
func FuncNames() []string { return activation.Names() }

// ParseFunc returns the function with the given Keras name. It accepts the
// aliases Keras accepts: "silu" for swish, "None" and "" for linear.
// Unknown names return an error wrapping ErrActivation that lists the valid
// names.
func ParseFunc(name string) (Func, error) {
	if f, ok := activation.Lookup(name); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%w %q (valid: %s)", ErrActivation, limits.Truncate(name, 40), strings.Join(FuncNames(), ", "))
}

// Activation is an activation function with its parameters: package
// activation's Activation, with Apply. The zero value is the identity.
// Build one with Act to get Keras's default parameters; activation.Activation
// and the kernels' description convert to and from it by a type conversion.
type Activation activation.Activation

// Act returns f with the parameters Keras uses by default (see
// activation.Default): LeakyReLU slope 0.2, ELU alpha 1, HardSigmoid
// 0.2·x+0.5 (Keras 2; see HardSigmoidKeras3), exact GELU.
func Act(f Func) Activation { return Activation(activation.Default(f)) }

// HardSigmoidKeras3 is Keras 3's hard_sigmoid, relu6(x+3)/6.
var HardSigmoidKeras3 = Activation(activation.HardSigmoidKeras3())

// String describes a, e.g. "relu", "leaky_relu(alpha=0.3)".
func (a Activation) String() string { return activation.Activation(a).String() }

// IsIdentity reports whether a leaves its input unchanged.
func (a Activation) IsIdentity() bool { return a.Func == Linear }

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
	kernel.BiasAct(kernel.Act(a), x, len(x)/axis, axis, nil)
}
