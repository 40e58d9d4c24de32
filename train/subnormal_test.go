package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adamRef is Keras's Adam step in plain float32 arithmetic, each
// operation rounded (GOAMD64 v1 and v2 do not fuse multiply-adds).
func adamRef(w, g, m, v, vhat []float32, alpha, c1, c2, eps float32) {
	for i, gi := range g {
		mi := m[i] + float32((gi-m[i])*c1)
		vi := v[i] + float32(float32(gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		d := vi
		if vhat != nil {
			d = max(vhat[i], vi)
			vhat[i] = d
		}
		w[i] -= float32(mi*alpha) / (float32(math.Sqrt(float64(d))) + eps)
	}
}

// oddFloat32 returns values from every range: zero, subnormal, tiny,
// ordinary, large, of either sign.
func oddFloat32(r *rand.Rand) float32 {
	var v float32
	switch r.IntN(6) {
	case 0:
		v = 0
	case 1:
		v = math.Float32frombits(uint32(r.IntN(1 << 23))) // subnormal
		if r.IntN(2) == 0 {
			v = math.Float32frombits(uint32(r.IntN(40))) // a few units: stuck moments
		}
	case 2:
		v = math.Float32frombits(uint32(r.IntN(30)+1)<<23 | uint32(r.IntN(1<<23))) // 2⁻¹²⁶..2⁻⁹⁶
	case 3:
		v = float32(math.Ldexp(r.Float64(), -r.IntN(70)))
	case 4:
		v = float32(r.NormFloat64() * 1e-3)
	default:
		v = float32(r.NormFloat64())
	}
	if r.IntN(2) == 0 {
		v = -v
	}
	return v
}

// TestSubnormalAdam checks that the Adam updates, which send tiny values
// to a float64 path, are bit-identical to plain float32 arithmetic for
// values of every range, subnormal ones included, over many steps.
func TestSubnormalAdam(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	for _, ams := range []bool{false, true} {
		mk := func() []float32 { return make([]float32, n) }
		w, g, m, v, vh := mk(), mk(), mk(), mk(), mk()
		for i := range w {
			w[i], m[i] = oddFloat32(r), oddFloat32(r)
			v[i], vh[i] = float32(math.Abs(float64(oddFloat32(r)))), float32(math.Abs(float64(oddFloat32(r))))
		}
		w2, m2, v2, vh2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...), append([]float32(nil), vh...)
		var vhRef []float32
		if ams {
			vhRef = vh2
		}
		for step := 0; step < 300; step++ {
			for i := range g {
				g[i] = oddFloat32(r)
				if i%3 == 0 || (step > 10 && i%3 == 1) {
					g[i] = 0 // dead units: m decays into subnormals
				}
			}
			alpha, c1, c2, eps := float32(1e-3*r.Float64()), float32(0.1), float32(0.001), float32(1e-7)
			if step%2 == 1 {
				// Powers of two: k·c1 and k·α fall on rounding ties.
				alpha, c1 = 0.125, 0.25
			}
			if ams {
				adamAMSGradUpdate(w, g, m, v, vh, alpha, c1, c2, eps)
			} else {
				adamUpdate(w, g, m, v, alpha, c1, c2, eps)
			}
			adamRef(w2, g, m2, v2, vhRef, alpha, c1, c2, eps)
		}
		sameBits(t, "w", w, w2)
		sameBits(t, "m", m, m2)
		sameBits(t, "v", v, v2)
		if ams {
			sameBits(t, "vhat", vh, vh2)
		}
	}
}

// TestRound32 checks the software rounding to float32 against the
// hardware's for values around and below the subnormal range.
func TestRound32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 1_000_000; i++ {
		x := math.Ldexp(r.Float64()+0.5, -r.IntN(60)-110)
		if i%2 == 0 {
			x = -x
		}
		if i%5 == 0 { // exact ties of the subnormal grid
			x = (float64(r.IntN(1<<22)) + 0.5) * 0x1p-149
		}
		if got, want := round32(x), float32(x); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("round32(%g) = %g (%#x), want %g (%#x)", x, got, math.Float32bits(got), want, math.Float32bits(want))
		}
		f := math.Float32frombits(r.Uint32())
		if got, want := wide(f), float64(f); !(got == want || (math.IsNaN(got) && math.IsNaN(want))) {
			t.Fatalf("wide(%g) = %g", f, got)
		}
	}
}

// BenchmarkAdamUpdate measures Adam on 50992 weights (784-32-784) with
// ordinary state and with the state of dead units (zero gradients,
// subnormal first moments).
func BenchmarkAdamUpdate(b *testing.B) {
	for _, dead := range []bool{false, true} {
		name := "normal"
		if dead {
			name = "dead"
		}
		b.Run(name, func(b *testing.B) {
			const n = 50992
			r := rand.New(rand.NewPCG(5, 6))
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range w {
				w[i] = float32(r.NormFloat64() * 0.1)
				v[i] = float32(r.Float64() * 1e-6)
				if dead {
					m[i] = math.Float32frombits(uint32(1 + i%9))
				} else {
					g[i] = float32(r.NormFloat64() * 1e-3)
					m[i] = g[i]
				}
			}
			for i := 0; i < b.N; i++ {
				adamUpdate(w, g, m, v, 1e-3, 0.1, 0.001, 1e-7)
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds()/1e6, "Mweights/s")
		})
	}
}
