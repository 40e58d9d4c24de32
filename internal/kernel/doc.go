// Package kernel holds the float32 numeric kernels shared by the runtime
// forward pass and the trainer: matrix products in the layouts a Dense
// layer needs (X·W, δ·Wᵀ, Xᵀ·δ) and the element-wise loops around them.
//
// All matrices are dense, row-major, with an explicit leading dimension
// (row stride) as in BLAS. The pure-Go implementation is always available;
// faster variants are selected by build tags and must agree with it within
// float32 rounding (see the conformance tests).
package kernel
