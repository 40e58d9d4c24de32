package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestNoAllocs asserts that Gemm (every variant)
// and the fused kernels allocate nothing per call.
func TestNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const m, n, k = 130, 400, 32 // several gonum tiles
	a, b, c := randMat(r, m, k, 1), randMat(r, k, n, 1), make([]float32, m*n)
	check := func(name string, f func()) {
		t.Helper()
		if got := testing.AllocsPerRun(20, f); got != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, got)
		}
	}
	for _, v := range gemmImpls(t) {
		check("gemm "+v.name, func() { v.fn(false, false, m, n, k, 1, a, k, b, n, 0, c, n) })
		check("gemm TN "+v.name, func() { v.fn(true, false, k, n, m, 1, c[:m*k], k, c, n, 0, b[:k*n], n) })
		check("gemm one row "+v.name, func() { v.fn(false, false, 1, n, k, 1, a, k, b, n, 0, c, n) })
		check("gemm one column "+v.name, func() { v.fn(false, true, m, 1, k, 1, a, k, b, k, 0, c, 1) })
	}
	z, y, d := randMat(r, m, n, 4), make([]float32, m*n), randMat(r, m, n, 1)
	bias := randMat(r, 1, n, 1)
	for _, act := range allActs() {
		check("BiasAct "+act.Func.String(), func() { BiasAct(act, y, m, n, bias) })
		check("BiasActTo "+act.Func.String(), func() { BiasActTo(act, y, z, m, n, bias) })
		check("ActGrad "+act.Func.String(), func() { ActGrad(act, d, z, y, m, n) })
	}
	check("AddBias", func() { AddBias(y, m, n, bias) })
	check("SigmoidBCERow", func() { SigmoidBCERow(d[:n], z[:n], y[:n], 1) })
}
