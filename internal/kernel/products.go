package kernel

import "strings"

// ProductImpl is one way this process can multiply C = A·B, for
// benchmarks that compare them (aekit bench --peak).
type ProductImpl struct {
	// Name is "openblas" or "gonum" for Gemm's variant, "packed-avx512",
	// "packed-avx2" or "packed-go" for GemmPacked on a micro-kernel.
	Name string
	// Prepare returns a function computing C(m×n) = A(m×k)·B(k×n), all
	// row-major with tight leading dimensions, packing B first where the
	// implementation packs (outside the returned function, as a model's
	// weights are packed once).
	Prepare func(m, n, k int, a, b, c []float32) func()
}

// ProductImpls returns the product implementations of this process:
// Gemm's variant first, then the packed micro-kernels this CPU runs.
func ProductImpls() []ProductImpl {
	name, _, _ := strings.Cut(Variant(), " ")
	impls := []ProductImpl{{Name: name, Prepare: func(m, n, k int, a, b, c []float32) func() {
		return func() { Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }
	}}}
	return append(impls, packedImpls()...)
}
