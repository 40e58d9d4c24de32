package score

import (
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/train"
)

// BenchmarkRows compares Rows (each batch scored in the batch loop), a
// reused Scorer, and
// the two-pass way (predict every row into an n-row output, then compute
// each row's mse from it) on a 784-32-784 model and 4096 rows.
func BenchmarkRows(b *testing.B) {
	const n, w = 4096, 784
	m, err := train.Build(w, train.MustParseArch("32:relu|784:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*w)
	for i := range x {
		x[i] = r.Float32()
	}
	b.Run("fused", func(b *testing.B) {
		b.SetBytes(n * w * 4)
		for b.Loop() {
			if _, err := Rows(m, x, n, MSE, 256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scorer", func(b *testing.B) {
		b.SetBytes(n * w * 4)
		s, err := NewScorer(m, MSE, 256)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		dst := make([]float32, n)
		for b.Loop() {
			if err := s.Score(dst, x, n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-pass", func(b *testing.B) {
		b.SetBytes(n * w * 4)
		for b.Loop() {
			y := make([]float32, n*w)
			for i := 0; i < n; i += 256 {
				if _, err := m.Predict(y[i*w:(i+256)*w], x[i*w:(i+256)*w]); err != nil {
					b.Fatal(err)
				}
			}
			s := make([]float32, n)
			for i := range n {
				var sum float64
				for j := range w {
					d := float64(y[i*w+j]) - float64(x[i*w+j])
					sum += d * d
				}
				s[i] = float32(sum / w)
			}
		}
	})
}
