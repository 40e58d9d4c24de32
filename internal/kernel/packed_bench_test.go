package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkForward times the forward products X·W (+ bias, ReLU) of every
// distinct layer of the three models at batch 256 and 1: Gemm then
// BiasAct (OpenBLAS in the default build) against GemmPacked on each
// micro-kernel, the weights packed beforehand. Run it in one go, with
// -count, as the machine is noisy.
func BenchmarkForward(b *testing.B) {
	for _, batch := range []int{256, 1} {
		seen := map[[2]int]bool{}
		for _, mdl := range benchModels {
			for i := 0; i+1 < len(mdl.widths); i++ {
				in, out := mdl.widths[i], mdl.widths[i+1]
				if seen[[2]int{in, out}] {
					continue
				}
				seen[[2]int{in, out}] = true
				s := gemmShape{"NN", false, false, batch, out, in}
				a, lda, w, ldb, c, ldc := gemmOperands(s)
				bias := make([]float32, out)
				act := Act{Func: ActReLU}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
				name := fmt.Sprintf("b%d/%dx%d", batch, in, out)
				b.Run(name+"/gemm", func(b *testing.B) {
					for b.Loop() {
						Gemm(false, false, s.m, s.n, s.k, 1, a, lda, w, ldb, 0, c, ldc)
						BiasAct(act, c, s.m, s.n, bias)
					}
					reportGFLOPS(b, flops)
				})
				for _, kern := range availableKernels() {
					var p Packed
					p.pack(kern, in, out, w, ldb, false)
					b.Run(name+"/packed-"+kern.name, func(b *testing.B) {
						for b.Loop() {
							GemmPacked(s.m, a, lda, &p, c, ldc, bias, act)
						}
						reportGFLOPS(b, flops)
					})
				}
			}
		}
	}
}
