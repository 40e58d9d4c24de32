//go:build amd64 && !purego

package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/internal/kernel/vmath"
)

// deadState fills w, m, v for n weights of which most belong to dead
// units (m subnormal, from 1 unit to just under 2⁻¹²⁶, either sign; v
// ordinary, zero or negative; w ordinary, sometimes ±Inf or NaN), some are ordinary
// and a few take the exact path (m normal but tiny), in runs, and returns
// which are dead.
func deadState(r *rand.Rand, w, m, v []float32) []bool {
	dead := make([]bool, len(w))
	for i := 0; i < len(w); {
		l, kind := 1+r.IntN(48), r.IntN(10)
		for j := i; j < min(i+l, len(w)); j++ {
			w[j] = float32(r.NormFloat64() * 0.05)
			v[j] = float32(math.Ldexp(r.Float64()+0.5, -10-r.IntN(40)))
			m[j] = float32(r.NormFloat64() * 1e-3)
			switch {
			case kind < 7:
				dead[j] = true
				var k uint32
				switch r.IntN(4) {
				case 0:
					k = uint32(1 + r.IntN(12))
				case 1:
					k = uint32(5 + 10*r.IntN(100)) // k·c1 near a tie for c1 = 0.1
				case 2:
					k = uint32(r.IntN(1 << 23))
				default:
					k = uint32(1<<23 - 1 - r.IntN(1000))
				}
				m[j] = math.Float32frombits(k | uint32(r.IntN(2))<<31)
				switch r.IntN(40) {
				case 0:
					v[j] = 0
				case 3:
					v[j] = -v[j] // √ gives NaN: the weight must still stay
				case 1:
					w[j] = float32(math.Inf(1 - 2*r.IntN(2)))
				case 2:
					w[j] = math.Float32frombits(0x7fc00000 | uint32(r.IntN(1<<22)))
				}
			case kind < 9:
			default:
				m[j] = float32(math.Ldexp(1, -118-r.IntN(8))) // normal, below mLim
			}
		}
		i += l
	}
	return dead
}

// TestAdamDeadUnitsVector checks that the vector kernel's path for dead
// units' weights (g = 0, m subnormal) gives the Go loop's bits, over many
// steps in which m decays through the subnormal range, and that it does
// run: a block of dead and ordinary weights is done by the kernel.
func TestAdamDeadUnitsVector(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 4099
	mk := func() []float32 { return make([]float32, n) }
	w, g, m, v := mk(), mk(), mk(), mk()
	dead := deadState(r, w, m, v)
	w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
	for step := range 60 {
		for i := range g {
			g[i] = 0
			if !dead[i] {
				g[i] = float32(r.NormFloat64() * 1e-3)
			}
		}
		alpha, c1, c2, eps := float32(1e-3*(0.5+r.Float64())), float32(0.1), float32(0.001), float32(1e-7)
		if step%3 == 2 {
			alpha, c1 = 0.125, 0.25
		}
		adamUpdate(w, g, m, v, alpha, c1, c2, eps)
		adamUpdateGo(w2, g, m2, v2, alpha, c1, c2, eps)
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) ||
				math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
				t.Fatalf("step %d, value %d (dead %v): w, m, v = %g %g %g, Go loop %g %g %g",
					step, i, dead[i], w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
		}
	}
	if !vmath.AVX512() {
		t.Skip("bits checked; the dead-unit vector path is AVX-512 only")
	}
	// 16 weights, half dead (m a few units, the decay's resting state),
	// half ordinary: the kernel does them all.
	var bw, bg, bm, bv [16]float32
	for i := range bw {
		bw[i], bv[i] = 0.01, 1e-6
		if i%2 == 0 {
			bm[i] = math.Float32frombits(3)
		} else {
			bm[i], bg[i] = 1e-4, 1e-3
		}
	}
	alpha := float32(1e-3)
	mLim, vLim := tinyBits(min(float64(alpha), 0.1)), tinyBits(0.001)
	if k := kernel.AdamBlocks(bw[:], bg[:], bm[:], bv[:], alpha, 0.1, 0.001, 1e-7, tinyGradBits, mLim, vLim); k != 16 {
		t.Fatalf("the kernel did %d of 16 values of dead and ordinary weights", k)
	}
}
