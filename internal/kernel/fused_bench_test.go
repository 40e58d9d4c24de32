package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkFused times the element-wise kernels of one 784-wide layer at
// batch 256 (200704 values), with the float64 loops they replace as
// baselines in the same run; "-purego" runs the pure-Go loop of a kernel
// that has an assembly path.
func BenchmarkFused(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const m, n = 256, 784
	z, y, d := randMat(r, m, n, 6), make([]float32, m*n), randMat(r, m, n, 1)
	t := make([]float32, m*n)
	for i := range t {
		t[i] = r.Float32()
	}
	bias := randMat(r, 1, n, 1)
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(m*n), "ns/value")
		})
	}
	run("BiasAct/sigmoid", func() { copy(y, z); BiasAct(Act{Func: ActSigmoid}, y, m, n, bias) })
	scalar := func(f func()) func() {
		return func() {
			saved := useVec
			useVec = false
			f()
			useVec = saved
		}
	}
	run("BiasAct/sigmoid-purego", scalar(func() { copy(y, z); BiasAct(Act{Func: ActSigmoid}, y, m, n, bias) }))
	run("BiasAct/sigmoid-float64-baseline", func() {
		copy(y, z)
		AddBias(y, m, n, bias)
		for i, v := range y {
			y[i] = sigmoid64(v)
		}
	})
	run("BiasAct/relu", func() { copy(y, z); BiasAct(Act{Func: ActReLU}, y, m, n, bias) })
	run("BiasAct/relu-purego", scalar(func() { copy(y, z); BiasAct(Act{Func: ActReLU}, y, m, n, bias) }))
	run("BiasAct/relu-unfused-baseline", func() {
		copy(y, z)
		AddBias(y, m, n, bias)
		Act{Func: ActReLU, Alpha: -0}.apply(y, n)
	})
	run("BiasAct/tanh", func() { copy(y, z); BiasAct(Act{Func: ActTanh}, y, m, n, bias) })
	run("BiasAct/linear", func() { copy(y, z); BiasAct(Act{}, y, m, n, bias) })
	run("BiasAct/linear-purego", scalar(func() { copy(y, z); BiasAct(Act{}, y, m, n, bias) }))
	run("copy-baseline", func() { copy(y, z) })
	BiasAct(Act{Func: ActSigmoid}, y, m, n, nil)
	run("ActGrad/sigmoid", func() { ActGrad(Act{Func: ActSigmoid}, d, y, y, m, n) })
	run("ActGrad/relu", func() { ActGrad(Act{Func: ActReLU}, d, y, y, m, n) })
	bce := func() {
		for r := 0; r < m*n; r += n {
			SigmoidBCERow(d[r:r+n], z[r:r+n], t[r:r+n], 1.0/(m*n))
		}
	}
	run("SigmoidBCE", bce)
	run("SigmoidBCE-purego", scalar(bce))
	run("SigmoidBCE-float64-baseline", func() { _ = bce64(d, z, t, m, n) })
}

// bce64 is SigmoidBCERow over m rows written with float64 math, the
// baseline.
func bce64(dz, z, y []float32, m, n int) float64 {
	scale := 1 / float64(m*n)
	var loss float64
	for i, v := range z {
		zv, yv := float64(v), float64(y[i])
		e := mathExp(-mathAbs(zv))
		s := 1 / (1 + e)
		if zv < 0 {
			s = e / (1 + e)
		}
		dz[i] = float32((s - yv) * scale)
		loss += max(zv, 0) - zv*yv + mathLog1p(e)
	}
	return loss * scale
}

var (
	mathExp   = math.Exp
	mathAbs   = math.Abs
	mathLog1p = math.Log1p
)
