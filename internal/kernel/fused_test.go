package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// allActs returns every activation with parameters worth testing.
func allActs() []Act {
	return []Act{
		{Func: ActLinear},
		{Func: ActReLU},
		{Func: ActReLU, Alpha: 0.1},
		{Func: ActReLU, Alpha: 0.1, Threshold: 0.5, Capped: true, MaxValue: 2},
		{Func: ActReLU, Capped: true, MaxValue: 1.5},
		{Func: ActReLU6},
		{Func: ActLeakyReLU, Alpha: 0.3},
		{Func: ActELU, Alpha: 1},
		{Func: ActELU, Alpha: 0.5},
		{Func: ActSELU},
		{Func: ActSigmoid},
		{Func: ActHardSigmoid, Alpha: 0.2, Beta: 0.5},
		{Func: ActTanh},
		{Func: ActSoftmax},
		{Func: ActLogSoftmax},
		{Func: ActSoftplus},
		{Func: ActSoftsign},
		{Func: ActExponential},
		{Func: ActSwish},
		{Func: ActGELU},
		{Func: ActGELU, Approximate: true},
		{Func: ActMish},
	}
}

// refF is the float64 reference of an element-wise activation.
func refF(a Act, x float64) float64 {
	al := float64(a.Alpha)
	switch a.Func {
	case ActLinear:
		return x
	case ActReLU:
		switch {
		case a.Capped && x >= float64(a.MaxValue):
			return float64(a.MaxValue)
		case x > float64(a.Threshold):
			return x
		}
		return al * (x - float64(a.Threshold))
	case ActReLU6:
		return math.Min(math.Max(x, 0), 6)
	case ActLeakyReLU:
		if x < 0 {
			return al * x
		}
		return x
	case ActELU:
		if x > 0 {
			return x
		}
		return al * math.Expm1(x)
	case ActSELU:
		if x > 0 {
			return seluScale * x
		}
		return seluScale * seluAlpha * math.Expm1(x)
	case ActSigmoid:
		return 1 / (1 + math.Exp(-x))
	case ActHardSigmoid:
		return math.Min(math.Max(al*x+float64(a.Beta), 0), 1)
	case ActTanh:
		return math.Tanh(x)
	case ActSoftplus:
		return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
	case ActSoftsign:
		return x / (1 + math.Abs(x))
	case ActExponential:
		return math.Exp(x)
	case ActSwish:
		return x / (1 + math.Exp(-x))
	case ActGELU:
		if a.Approximate {
			return 0.5 * x * (1 + math.Tanh(geluC*(x+0.044715*x*x*x)))
		}
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case ActMish:
		return x * math.Tanh(math.Max(x, 0)+math.Log1p(math.Exp(-math.Abs(x))))
	}
	panic("refF: row-wise function")
}

// refRow applies a row-wise or element-wise activation in float64.
func refRow(a Act, x []float64) []float64 {
	y := make([]float64, len(x))
	switch a.Func {
	case ActSoftmax, ActLogSoftmax:
		mx := math.Inf(-1)
		for _, v := range x {
			mx = math.Max(mx, v)
		}
		var s float64
		for _, v := range x {
			s += math.Exp(v - mx)
		}
		for i, v := range x {
			if a.Func == ActSoftmax {
				y[i] = math.Exp(v-mx) / s
			} else {
				y[i] = v - mx - math.Log(s)
			}
		}
	default:
		for i, v := range x {
			y[i] = refF(a, v)
		}
	}
	return y
}

// refGradRow returns Jᵀd for one row in float64, the derivative taken by
// central differences of refRow in float64 (step 1e-6), which is far more
// accurate than the float32 tolerance.
func refGradRow(a Act, z, d []float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(z))
	zp := append([]float64(nil), z...)
	for j := range z {
		zp[j] = z[j] + h
		yp := refRow(a, zp)
		zp[j] = z[j] - h
		ym := refRow(a, zp)
		zp[j] = z[j]
		for i := range d {
			g[j] += d[i] * (yp[i] - ym[i]) / (2 * h)
		}
	}
	return g
}

// randMat returns m×n values spread over [-6, 6) but away from the kinks
// of the activations tested, so finite differences are meaningful.
func randMat(r *rand.Rand, m, n int, scale float64) []float32 {
	x := make([]float32, m*n)
	for i := range x {
		for {
			v := (r.Float64()*2 - 1) * scale
			near := false
			for _, k := range []float64{0, 0.5, 1.5, 2, 6, 2.5, -2.5} {
				if math.Abs(v-k) < 1e-3 {
					near = true
				}
			}
			if !near {
				x[i] = float32(v)
				break
			}
		}
	}
	return x
}

// TestBiasAct checks BiasAct and BiasActTo against the float64 reference:
// within 1e-6 relative (2e-6 for Softmax, whose float32 max-shift and
// float64 sum round twice) plus 1e-7 absolute.
func TestBiasAct(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, a := range allActs() {
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {17, 33}, {2, 784}} {
			m, n := sh[0], sh[1]
			name := fmt.Sprintf("%d/%+v/%dx%d", a.Func, a, m, n)
			x := randMat(r, m, n, 6)
			bias := randMat(r, 1, n, 1)
			for _, withBias := range []bool{true, false} {
				b := bias
				if !withBias {
					b = nil
				}
				want := make([]float64, m*n)
				zwant := make([]float32, m*n)
				for i := 0; i < m; i++ {
					row := make([]float64, n)
					for j := range row {
						v := x[i*n+j]
						if b != nil {
							v += b[j]
						}
						zwant[i*n+j] = v
						row[j] = float64(v)
					}
					copy(want[i*n:], refRow(a, row))
				}
				rel := 1e-6
				if a.Func == ActSoftmax {
					rel = 2e-6
				}
				got := append([]float32(nil), x...)
				BiasAct(a, got, m, n, b)
				if err := within(got, want, rel, 1e-7); err != nil {
					t.Fatalf("BiasAct %s bias=%v: %v", name, withBias, err)
				}
				z := append([]float32(nil), x...)
				y := make([]float32, m*n)
				BiasActTo(a, y, z, m, n, b)
				if err := within(y, want, rel, 1e-7); err != nil {
					t.Fatalf("BiasActTo %s bias=%v: y: %v", name, withBias, err)
				}
				for i := range z {
					if z[i] != zwant[i] {
						t.Fatalf("BiasActTo %s: z[%d] = %g, want %g", name, i, z[i], zwant[i])
					}
				}
			}
		}
	}
}

func within(got []float32, want []float64, rel, abs float64) error {
	for i, g := range got {
		w := want[i]
		if d := math.Abs(float64(g) - w); !(d <= rel*math.Abs(w)+abs) {
			return fmt.Errorf("[%d] = %g, want %g (error %.3g, relative %.3g)", i, g, w, d, d/math.Abs(w))
		}
	}
	return nil
}

// TestActGrad checks ActGrad against finite differences of the float64
// reference (and, where a.InPlace, that passing y as z changes no bit): within 1e-4 relative plus 2e-6·|d| absolute. The absolute
// part covers derivatives computed from the float32 output (y(1−y) for y
// near 1 loses the digits y rounded away), as TensorFlow computes them.
func TestActGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, a := range allActs() {
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {16, 33}} {
			m, n := sh[0], sh[1]
			z := randMat(r, m, n, 6)
			d := randMat(r, m, n, 1)
			y := make([]float32, m*n)
			zz := append([]float32(nil), z...)
			BiasActTo(a, y, zz, m, n, nil)
			got := append([]float32(nil), d...)
			ActGrad(a, got, z, y, m, n)
			if a.InPlace() {
				// z overwritten by y, as the trainer's forward pass
				// leaves it, must give the same bits.
				same := append([]float32(nil), d...)
				ActGrad(a, same, y, y, m, n)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(same[i]) {
						t.Fatalf("%+v %dx%d: [%d] z=%g y=%g: in place %g, from z %g", a, m, n, i, z[i], y[i], same[i], got[i])
					}
				}
			}
			for i := 0; i < m; i++ {
				zr, dr := make([]float64, n), make([]float64, n)
				for j := range zr {
					zr[j], dr[j] = float64(z[i*n+j]), float64(d[i*n+j])
				}
				want := refGradRow(a, zr, dr)
				for j, w := range want {
					g := float64(got[i*n+j])
					if e := math.Abs(g - w); !(e <= 1e-4*math.Abs(w)+2e-6*math.Abs(dr[j])+2e-6*sumAbs(dr)*b2f(a.Func == ActSoftmax || a.Func == ActLogSoftmax)) {
						t.Fatalf("%+v %dx%d: [%d][%d] z=%g y=%g d=%g: got %g, want %g (error %.3g)", a, m, n, i, j, zr[j], y[i*n+j], dr[j], g, w, e)
					}
				}
			}
		}
	}
}

func sumAbs(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += math.Abs(v)
	}
	return s
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestFastMathAccuracy sweeps the float32 elementary functions against
// float64 math and asserts their stated bounds, logging the maxima found.
func TestFastMathAccuracy(t *testing.T) {
	var maxExp, maxSig, maxLog float64
	var argExp, argSig, argLog float32
	// Every float32 in the domain would be 2³¹ values; a dense sweep of
	// 4·10⁶ evenly spaced points plus 10⁶ random bit patterns catches the
	// polynomial's error peaks.
	r := rand.New(rand.NewPCG(9, 9))
	const steps = 4_000_000
	for i := 0; i <= steps; i++ {
		x := float32(expfMin + (88-expfMin)*float64(i)/steps)
		w := math.Exp(float64(x))
		if e := math.Abs(float64(expf(x))-w) / w; e > maxExp {
			maxExp, argExp = e, x
		}
	}
	sweep := func(z float32) {
		w := 1 / (1 + math.Exp(-float64(z)))
		if w < 0x1p-126 {
			return // subnormal results come from the float64 path
		}
		if e := math.Abs(float64(sigmoidf(z))-w) / w; e > maxSig {
			maxSig, argSig = e, z
		}
	}
	for i := 0; i <= steps; i++ {
		sweep(float32(-100 + 200*float64(i)/steps))
	}
	for range 1_000_000 {
		z := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(z)) {
			sweep(z)
		}
	}
	for i := 0; i <= steps; i++ {
		u := float32(float64(i) / steps)
		if i%2 == 1 {
			u = float32(math.Exp(-104 * float64(i) / steps)) // tiny u too
		}
		w := math.Log1p(float64(u))
		if e := math.Abs(float64(log1pf(u)) - w); e > maxLog {
			maxLog, argLog = e, u
		}
	}
	t.Logf("expf: max relative error %.3g at %g (%.2f ulp)", maxExp, argExp, maxExp/0x1p-24)
	t.Logf("sigmoidf: max relative error %.3g at %g", maxSig, argSig)
	t.Logf("log1pf: max absolute error %.3g at %g", maxLog, argLog)
	if maxExp > 2.4e-7 || maxSig > 1e-6 || maxLog > 2e-7 {
		t.Errorf("bounds exceeded: expf %.3g (bound 2.4e-7), sigmoidf %.3g (1e-6), log1pf %.3g (2e-7)", maxExp, maxSig, maxLog)
	}
	if s := sigmoidf(float32(math.NaN())); !math.IsNaN(float64(s)) {
		t.Errorf("sigmoidf(NaN) = %g", s)
	}
	if s := sigmoidf(float32(math.Inf(-1))); s != 0 {
		t.Errorf("sigmoidf(-Inf) = %g", s)
	}
	if s := sigmoidf(float32(math.Inf(1))); s != 1 {
		t.Errorf("sigmoidf(+Inf) = %g", s)
	}
}

// TestLosses checks SigmoidBCERow, row by row over an m×n batch with the
// scale 1/(m·n) the trainer uses, and in place (dz the same slice as z),
// against float64 loops: gradients within 2e-6 relative to (|σ|+|y|)·scale,
// the mean loss within 1e-6 relative.
func TestLosses(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 8))
	for _, sh := range [][2]int{{1, 1}, {5, 3}, {256, 784}} {
		m, n := sh[0], sh[1]
		z := randMat(r, m, n, 12)
		z[0] = 95 // beyond the fast exp's range
		if len(z) > 1 {
			z[1] = -95
		}
		y := make([]float32, m*n)
		for i := range y {
			y[i] = r.Float32()
		}
		scale := 1 / float64(m*n)
		var wantLoss float64
		dz := make([]float32, m*n)
		var loss float64
		dz2 := append([]float32(nil), z...)
		for row := 0; row < m*n; row += n {
			loss += SigmoidBCERow(dz[row:row+n], z[row:row+n], y[row:row+n], float32(scale))
			SigmoidBCERow(dz2[row:row+n], dz2[row:row+n], y[row:row+n], float32(scale)) // in place
		}
		loss *= scale
		for i, v := range z {
			zv, yv := float64(v), float64(y[i])
			s := 1 / (1 + math.Exp(-zv))
			wantLoss += math.Max(zv, 0) - zv*yv + math.Log1p(math.Exp(-math.Abs(zv)))
			want := (s - yv) * scale
			tol := 2e-6 * (s + yv) * scale
			if e := math.Abs(float64(dz[i]) - want); !(e <= tol) {
				t.Fatalf("%dx%d: SigmoidBCERow dz[%d] (z=%g y=%g) = %g, want %g", m, n, i, v, yv, dz[i], want)
			}
			if e := math.Abs(float64(dz2[i]) - want); !(e <= tol) {
				t.Fatalf("%dx%d: SigmoidBCERow in place dz[%d] (z=%g y=%g) = %g, want %g", m, n, i, v, yv, dz2[i], want)
			}
		}
		wantLoss *= scale
		if e := math.Abs(loss-wantLoss) / wantLoss; !(e <= 1e-6) {
			t.Fatalf("%dx%d: SigmoidBCERow loss %g, want %g (relative %.3g)", m, n, loss, wantLoss, e)
		}
	}
}
