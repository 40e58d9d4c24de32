// Package activation defines aekit's activation functions once: the set of
// functions (Func and its constants), their Keras names, Keras's constants
// (SELU's) and default parameters, and Activation, a function with its
// parameters.
//
// It is a leaf: it imports only the standard library. Package runtime
// re-exports it (runtime.Func, runtime.ReLU, ..., runtime.Activation is the
// same struct) and the numeric kernels (internal/kernel) compute it; both
// convert an Activation with a plain type conversion, so the field set and
// the numbering cannot drift apart.
//
// The arithmetic is not here: runtime.Activation.Apply and the kernels
// compute the functions (bit for bit the same way).
package activation
