package kernel

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C where op(X) is X or Xᵀ
// depending on transA and transB. op(A) is m×k, op(B) is k×n and C is m×n,
// all row-major with leading dimensions (row strides, in elements) lda, ldb
// and ldc. When beta is zero C is not read, so it may hold NaN.
//
// Gemm runs on the calling goroutine only, on the variant chosen at build
// time (see the package documentation: OpenBLAS by default, gonum's pure Go
// with the purego tag or without cgo); callers that want several threads
// cut a product into blocks and run them on their own goroutines, as
// package train does. With OpenBLAS, products with one row or one column
// (m = 1 or n = 1) go to sgemv on cores without small-matrix sgemm
// kernels (see "One-row products" there). Gemm does not allocate. Like a
// BLAS, it panics when a slice is too short for its shape.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmGonum is the pure-Go variant: gonum's Sgemm. It is always compiled,
// so tests and benchmarks can compare it with the default.
//
// gonum's Sgemm goes parallel, on GOMAXPROCS goroutines and allocating,
// once C spans four 64×64 blocks. Here C is cut into tiles of at most
// 64×192, which gonum multiplies serially without allocating, so that the
// only parallelism is the caller's.
func gemmGonum(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const tm, tn = 64, 192 // 1×3 of gonum's 64×64 blocks: below its parallel threshold of 4
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	impl := gonum.Implementation{}
	for i := 0; i < m; i += tm {
		mi := min(tm, m-i)
		ai := a
		if k > 0 && transA {
			ai = a[i:]
		} else if k > 0 {
			ai = a[i*lda:]
		}
		for j := 0; j < n; j += tn {
			nj := min(tn, n-j)
			bj := b
			if k > 0 && transB {
				bj = b[j*ldb:]
			} else if k > 0 {
				bj = b[j:]
			}
			impl.Sgemm(ta, tb, mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i*ldc+j:], ldc)
		}
	}
}

// gemmFunc is the signature every GEMM variant has.
type gemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// checkGemm panics with a kernel-prefixed message when the slices cannot
// hold the shapes; variants that hand pointers to C call it first.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernel: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n) {
		panic("kernel: bad leading dimension")
	}
	if ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac {
		panic("kernel: short A")
	}
	if br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc {
		panic("kernel: short B")
	}
	if m > 0 && n > 0 && len(c) < (m-1)*ldc+n {
		panic("kernel: short C")
	}
}

// gemmVariant is a named GEMM implementation.
type gemmVariant struct {
	name string
	fn   gemmFunc
}
