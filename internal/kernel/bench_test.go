package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchModels are the autoencoders of issue 5, as layer widths.
var benchModels = []struct {
	name   string
	widths []int
}{
	{"seed", []int{100, 10, 10, 100, 100}},
	{"ae784", []int{784, 32, 784}},
	{"deep", []int{784, 128, 64, 32, 64, 128, 784}},
}

// gemmShape is one product of a Dense layer's training step.
type gemmShape struct {
	layout         string
	transA, transB bool
	m, n, k        int
}

// layerShapes returns the three products of a Dense layer in→out at the
// given batch: forward X·W (NN), backward δ·Wᵀ (NT) and Xᵀ·δ (TN).
func layerShapes(batch, in, out int) []gemmShape {
	return []gemmShape{
		{"NN", false, false, batch, out, in},
		{"NT", false, true, batch, in, out},
		{"TN", true, false, in, out, batch},
	}
}

// gemmOperands returns random operands for s with tight leading dimensions.
func gemmOperands(s gemmShape) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	r := rand.New(rand.NewPCG(1, 2))
	ar, ac := s.m, s.k
	if s.transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.transB {
		br, bc = s.n, s.k
	}
	a, b, c = make([]float32, ar*ac), make([]float32, br*bc), make([]float32, s.m*s.n)
	for i := range a {
		a[i] = r.Float32()
	}
	for i := range b {
		b[i] = r.Float32() - 0.5
	}
	return a, ac, b, bc, c, s.n
}

func reportGFLOPS(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm times every variant on every distinct layer product of the three models at batch
// 256 and 1. Run all of it in one go: the machine is noisy.
func BenchmarkGemm(b *testing.B) {
	type runner struct {
		name string
		fn   gemmFunc
	}
	var runners []runner
	for _, v := range gemmVariants() {
		runners = append(runners, runner{v.name, v.fn})
	}
	for _, batch := range []int{256, 1} {
		seen := map[[2]int]bool{}
		for _, mdl := range benchModels {
			for i := 0; i+1 < len(mdl.widths); i++ {
				in, out := mdl.widths[i], mdl.widths[i+1]
				if seen[[2]int{in, out}] {
					continue
				}
				seen[[2]int{in, out}] = true
				for _, s := range layerShapes(batch, in, out) {
					a, lda, bb, ldb, c, ldc := gemmOperands(s)
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
					for _, r := range runners {
						name := fmt.Sprintf("b%d/%dx%d/%s/m%dn%dk%d/%s", batch, in, out, s.layout, s.m, s.n, s.k, r.name)
						b.Run(name, func(b *testing.B) {
							for b.Loop() {
								r.fn(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, ldc)
							}
							reportGFLOPS(b, flops)
						})
					}
				}
			}
		}
	}
}

// BenchmarkGemmStep times all the products of one training step of each
// model (forward X·W and backward δ·Wᵀ, Xᵀ·δ for every layer) per variant.
func BenchmarkGemmStep(b *testing.B) {
	type runner struct {
		name string
		fn   gemmFunc
	}
	var runners []runner
	for _, v := range gemmVariants() {
		runners = append(runners, runner{v.name, v.fn})
	}
	for _, batch := range []int{256, 1} {
		for _, mdl := range benchModels {
			type op struct {
				s             gemmShape
				a, bb, c      []float32
				lda, ldb, ldc int
			}
			var ops []op
			flops := 0.0
			for i := 0; i+1 < len(mdl.widths); i++ {
				for _, s := range layerShapes(batch, mdl.widths[i], mdl.widths[i+1]) {
					a, lda, bb, ldb, c, ldc := gemmOperands(s)
					ops = append(ops, op{s, a, bb, c, lda, ldb, ldc})
					flops += 2 * float64(s.m) * float64(s.n) * float64(s.k)
				}
			}
			for _, r := range runners {
				b.Run(fmt.Sprintf("b%d/%s/%s", batch, mdl.name, r.name), func(b *testing.B) {
					for b.Loop() {
						for _, o := range ops {
							r.fn(o.s.transA, o.s.transB, o.s.m, o.s.n, o.s.k, 1, o.a, o.lda, o.bb, o.ldb, 0, o.c, o.ldc)
						}
					}
					reportGFLOPS(b, flops)
				})
			}
		}
	}
}
