package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/internal/kernel/vmath"
)

// vecModes returns the settings of useVec to test: the pure-Go loops
// always, the assembly too when this CPU and build have it. The caller
// restores useVec with the returned function.
func vecModes() ([]bool, func()) {
	saved := useVec
	modes := []bool{false}
	if vmath.Available() {
		modes = append(modes, true)
	}
	return modes, func() { useVec = saved }
}

// specials are inputs at and around the edges of the vector kernels'
// range, mixed into whole blocks so the fallback for one block is tested.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 0x1p-149, -0x1p-149,
	86.99, -86.99, 87, -87, 87.01, -87.01, 87.4, -87.4, 88.8, -88.8, 103, -103, 104, -104,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1, -1, 20, -20, 1e20, -1e20}

func sigmoidRef(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// TestVectorMath checks the sigmoid of BiasAct and SigmoidBCERow, on the
// assembly path (when the CPU has AVX2 and FMA) and the pure-Go path,
// against float64 math over a dense sweep of [−100, 100], random bit
// patterns and the special values: σ within 1e-6 relative where it is a
// normal float32 (1e-45 absolute below), NaN for NaN; dz within 2e-6
// relative to (|σ|+|y|)·scale; each block of 8 loss terms within
// 8·4e-7 absolute plus 1e-6 relative of their float64 sum.
func TestVectorMath(t *testing.T) {
	modes, restore := vecModes()
	defer restore()
	r := rand.New(rand.NewPCG(11, 12))
	const steps = 1 << 21
	x := make([]float32, 0, steps+1<<18+len(specials)*8)
	for i := 0; i <= steps; i++ {
		x = append(x, float32(-100+200*float64(i)/steps))
	}
	for range 1 << 18 {
		if v := math.Float32frombits(r.Uint32()); !math.IsNaN(float64(v)) {
			x = append(x, v)
		}
	}
	for i, v := range specials {
		x = append(x, v)
		for range 3 + i%5 { // ordinary neighbours in the same block
			x = append(x, r.Float32()*8-4)
		}
	}
	const n = 784 // BiasAct sees rows of 784 (and a ragged last one)
	bias := make([]float32, n)
	for i := range bias {
		bias[i] = float32(r.NormFloat64())
	}
	y := make([]float32, len(x))
	for i := range y {
		y[i] = r.Float32()
	}
	for _, vec := range modes {
		useVec = vec
		for _, withBias := range []bool{false, true} {
			got := append([]float32(nil), x...)
			var b []float32
			if withBias {
				b = bias
			}
			rows := len(got) / n
			BiasAct(Act{Func: ActSigmoid}, got[:rows*n], rows, n, b)
			tail := got[rows*n:]
			var tb []float32
			if withBias {
				tb = b[:len(tail)]
			}
			BiasAct(Act{Func: ActSigmoid}, tail, 1, len(tail), tb)
			var worst float64
			for i, g := range got {
				v := x[i]
				if withBias {
					v += bias[i%n]
				}
				w := sigmoidRef(float64(v))
				if math.IsNaN(w) {
					if !math.IsNaN(float64(g)) {
						t.Fatalf("vec=%v bias=%v: σ(%g) = %g, want NaN", vec, withBias, v, g)
					}
					continue
				}
				d := math.Abs(float64(g) - w)
				if w >= 0x1p-126 {
					worst = max(worst, d/w)
					if d > 1e-6*w {
						t.Fatalf("vec=%v bias=%v: σ(%g) = %g, want %g (relative error %.3g)", vec, withBias, v, g, w, d/w)
					}
				} else if d > 1e-45 {
					t.Fatalf("vec=%v bias=%v: σ(%g) = %g, want %g", vec, withBias, v, g, w)
				}
			}
			t.Logf("vec=%v bias=%v: σ max relative error %.3g", vec, withBias, worst)
		}

		// BCE on the values of x with |z| ≤ 1000, row by row (rows of 784
		// as the trainer calls it), then block by block (8 values, one
		// vector iteration) for the loss terms.
		var z, yy []float32
		for i, v := range x {
			if math.Abs(float64(v)) <= 1000 {
				z, yy = append(z, v), append(yy, y[i])
			}
		}
		scale := float32(1.0 / n)
		dz := make([]float32, len(z))
		for lo := 0; lo < len(z); lo += n {
			hi := min(lo+n, len(z))
			loss := SigmoidBCERow(dz[lo:hi], z[lo:hi], yy[lo:hi], scale)
			if lossOnly := SigmoidBCERow(nil, z[lo:hi], yy[lo:hi], scale); loss != lossOnly {
				t.Fatalf("vec=%v: loss %v with gradient, %v without", vec, loss, lossOnly)
			}
			for j := lo; j < hi; j++ {
				zv, yv := float64(z[j]), float64(yy[j])
				s := sigmoidRef(zv)
				wg := (s - yv) * float64(scale)
				if e := math.Abs(float64(dz[j]) - wg); !(e <= 2e-6*(s+yv)*float64(scale)+1e-45) {
					t.Fatalf("vec=%v: dz for z=%g y=%g is %g, want %g", vec, zv, yv, dz[j], wg)
				}
			}
		}
		// Each term within 4e-7 absolute (log1p, σ) plus 3e-7·|z| (the
		// float32 rounding of max(z, 0) − z·y, as in the scalar loop).
		var worstTerm float64
		for lo := 0; lo+8 <= len(z); lo += 8 {
			loss := SigmoidBCERow(nil, z[lo:lo+8], yy[lo:lo+8], scale)
			var want, tol float64
			for j := lo; j < lo+8; j++ {
				zv, yv := float64(z[j]), float64(yy[j])
				want += math.Max(zv, 0) - zv*yv + math.Log1p(math.Exp(-math.Abs(zv)))
				tol += 4e-7 + 3e-7*math.Abs(zv)
			}
			e := math.Abs(loss - want)
			if !(e <= tol) {
				t.Fatalf("vec=%v: block at %d (z=%v): loss %v, want %v (error %.3g, bound %.3g)", vec, lo, z[lo:lo+8], loss, want, e, tol)
			}
			if m := maxAbs(z[lo : lo+8]); m <= 1 {
				worstTerm = max(worstTerm, e/8)
			}
		}
		t.Logf("vec=%v: BCE max error per term, |z| ≤ 1: %.3g", vec, worstTerm)
	}
}

// TestVectorMatchesScalar checks that the assembly and pure-Go paths agree
// on the classic layer shape within the same bounds as the reference:
// σ within 1e-6 relative, so switching paths never moves a model's outputs
// by more than that.
func TestVectorMatchesScalar(t *testing.T) {
	if !vmath.Available() {
		t.Skip("vmath: no AVX2+FMA on this CPU or build; only the pure-Go path exists")
	}
	_, restore := vecModes()
	defer restore()
	r := rand.New(rand.NewPCG(13, 14))
	const m, n = 256, 784
	x, bias := randMat(r, m, n, 6), randMat(r, 1, n, 1)
	a, b := append([]float32(nil), x...), append([]float32(nil), x...)
	useVec = true
	BiasAct(Act{Func: ActSigmoid}, a, m, n, bias)
	useVec = false
	BiasAct(Act{Func: ActSigmoid}, b, m, n, bias)
	for i := range a {
		if d := math.Abs(float64(a[i]) - float64(b[i])); d > 1e-6*float64(b[i]) {
			t.Fatalf("[%d]: vector %g, scalar %g", i, a[i], b[i])
		}
	}
}

func maxAbs(x []float32) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}
