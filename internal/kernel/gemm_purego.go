//go:build purego || !cgo

package kernel

// Variant describes the GEMM implementation Gemm uses: gonum's pure-Go
// Sgemm in this build (the purego tag, or cgo disabled).
func Variant() string { return "gonum (pure Go; built with purego or without cgo)" }

// CoreBelowCPU reports whether Gemm runs OpenBLAS kernels below what this
// CPU supports; it is always false in this build, which has no OpenBLAS.
func CoreBelowCPU() bool { return false }

// gemm is the default variant of this build.
func gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmGonum(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmVariants lists the GEMM implementations compiled into this build,
// for the conformance tests and benchmarks.
func gemmVariants() []gemmVariant {
	return []gemmVariant{{"gonum", gemmGonum}}
}
