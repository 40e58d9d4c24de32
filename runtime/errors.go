package runtime

import "errors"

// Sentinel errors returned (wrapped with context) by this package. Test for
// them with errors.Is.
var (
	// ErrInvalid reports a model whose layers do not fit together: a kernel
	// whose size disagrees with its input width, a missing bias, a reshape
	// that changes the number of values, and so on.
	ErrInvalid = errors.New("runtime: invalid model")

	// ErrShape reports input data whose width does not match the model.
	ErrShape = errors.New("runtime: input shape mismatch")

	// ErrNotFound reports a layer or sub-model name that the model lacks.
	ErrNotFound = errors.New("runtime: no such layer")

	// ErrActivation reports an activation name that the runtime does not know.
	ErrActivation = errors.New("runtime: unknown activation")
)
