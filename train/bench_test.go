package train

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFitStep measures one training step (gather, forward, loss,
// backward, Adam update) at batch 256 on the three models and
// reports samples per second.
func BenchmarkFitStep(b *testing.B) {
	models := []struct {
		name string
		in   int
		spec string
	}{
		{"seed", 100, "10:relu,10:relu|100:sigmoid,100:sigmoid"},
		{"784-32-784", 784, "32:relu|784:sigmoid"},
		{"deep", 784, "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid"},
	}
	const batch, rows = 256, 2048
	for _, md := range models {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", md.name, threads), func(b *testing.B) {
				m, err := Build(md.in, md.spec, "", 1)
				if err != nil {
					b.Fatal(err)
				}
				r := rand.New(rand.NewPCG(1, 1))
				x := make([]float32, rows*md.in)
				for i := range x {
					x[i] = r.Float32()
				}
				nt, err := newNet(m, BinaryCrossentropy, batch, threads)
				if err != nil {
					b.Fatal(err)
				}
				defer nt.close()
				opt := &Adam{}
				slots := [][]float32{make([]float32, len(nt.params)), make([]float32, len(nt.params))}
				idx := Permutations(1, rows, 1)[0]
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					start := (i * batch) % rows
					nt.batch(x, x, idx, start, batch, true)
					nt.update(opt, opt.consts(int64(i)), slots)
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}
