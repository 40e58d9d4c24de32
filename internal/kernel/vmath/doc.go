// Package vmath holds the assembly element-wise kernels of package kernel:
// float32 sigmoid (with a bias added first) and sigmoid binary
// cross-entropy on logits, 8 values per instruction with AVX2 and FMA.
// It is a package of its own because Go does not allow Go assembly in a
// package that uses cgo, as package kernel does.
//
// The kernels work on whole blocks of 8 values and stop early at a block
// holding a value they do not handle (|x| > 87, where e^−|x| is subnormal,
// or NaN); the caller finishes the rest with its pure-Go loop, which also
// serves CPUs without AVX2 and FMA and builds with the purego tag (or not
// on amd64), where the kernels do nothing.
//
// Accuracy, measured by package kernel's TestVectorMath against float64
// math: σ within 1e-6 relative; each BCE loss term within 2e-7 absolute
// (log1p) plus the rounding of σ. exp is Cephes's expf (a degree-5
// polynomial after range reduction by ln 2), log1p Cephes's logf corrected
// for the rounding of 1+e.
package vmath
