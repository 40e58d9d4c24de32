package kernel

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C where op(X) is X or Xᵀ
// depending on transA and transB. op(A) is m×k, op(B) is k×n and C is m×n,
// all row-major with leading dimensions lda, ldb and ldc.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// AddBias adds bias (length n) to every row of the m×n row-major matrix c.
func AddBias(c []float32, m, n int, bias []float32) {
	bias = bias[:n]
	for i := 0; i < m; i++ {
		row := c[i*n : i*n+n]
		for j, b := range bias {
			row[j] += b
		}
	}
}
