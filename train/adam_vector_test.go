package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecFloat32 returns oddFloat32 values, and sometimes NaN with a random
// payload and sign, or ±Inf; with normal set, only zeros and normal
// numbers of ordinary size (so that whole blocks take the vector path).
func vecFloat32(r *rand.Rand, normal bool) float32 {
	switch k := r.IntN(40); {
	case k == 0:
		return math.Float32frombits(0x7fc00000 | uint32(r.IntN(1<<22)) | uint32(r.IntN(2))<<31)
	case k == 1:
		return float32(math.Inf(1 - 2*r.IntN(2)))
	case k < 6:
		return 0
	case normal:
		return float32(r.NormFloat64() * math.Ldexp(1, -r.IntN(20)))
	}
	return oddFloat32(r)
}

// TestAdamVector checks that adamUpdate, which runs whole blocks in
// assembly where the CPU has it, is bit-identical to the Go loop
// adamUpdateGo, over many steps, for lengths around the block sizes and
// for data mixing blocks of ordinary values with blocks holding
// subnormals, tiny values, zeros, ±Inf and NaN (with random payloads,
// which the vector code must propagate as the Go loop does).
func TestAdamVector(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 4099} {
		mk := func() []float32 { return make([]float32, n) }
		w, g, m, v := mk(), mk(), mk(), mk()
		// Runs of 0–40 values, each all ordinary or mixed.
		normalAt := make([]bool, n)
		for i := 0; i < n; {
			l, nm := r.IntN(41), r.IntN(3) != 0
			for j := i; j < min(i+l, n); j++ {
				normalAt[j] = nm
			}
			i += l
		}
		for i := range w {
			w[i], m[i] = vecFloat32(r, normalAt[i]), vecFloat32(r, normalAt[i])
			v[i] = float32(math.Abs(float64(vecFloat32(r, normalAt[i]))))
			if r.IntN(50) == 0 {
				v[i] = -v[i] // a negative v: √ gives NaN
			}
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		for step := 0; step < 40; step++ {
			for i := range g {
				g[i] = vecFloat32(r, normalAt[i])
			}
			alpha, c1, c2, eps := float32(1e-3*r.Float64()), float32(0.1), float32(0.001), float32(1e-7)
			if step%2 == 1 {
				alpha, c1 = 0.125, 0.25
			}
			adamUpdate(w, g, m, v, alpha, c1, c2, eps)
			adamUpdateGo(w2, g, m2, v2, alpha, c1, c2, eps)
			for i := range w {
				if math.Float32bits(w[i]) != math.Float32bits(w2[i]) ||
					math.Float32bits(m[i]) != math.Float32bits(m2[i]) ||
					math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
					t.Fatalf("n %d step %d value %d: w, m, v = %x %x %x, Go loop %x %x %x", n, step, i,
						math.Float32bits(w[i]), math.Float32bits(m[i]), math.Float32bits(v[i]),
						math.Float32bits(w2[i]), math.Float32bits(m2[i]), math.Float32bits(v2[i]))
				}
			}
		}
	}
}
