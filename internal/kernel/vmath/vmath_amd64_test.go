//go:build amd64 && !purego

package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// levels returns the instruction-set levels this CPU runs, best first, and
// a function restoring the detected one.
func levels() ([]int, func()) {
	saved := level
	var ls []int
	for l := saved; l > levelNone; l-- {
		ls = append(ls, l)
	}
	return ls, func() { level = saved }
}

// atAVX2 runs the rest of the test at the AVX2 level, skipping it on a
// CPU without AVX2 and FMA; the detected level comes back at its end.
func atAVX2(t *testing.T) {
	t.Helper()
	if level < levelAVX2 {
		t.Skip("vmath: no AVX2+FMA on this CPU")
	}
	saved := level
	t.Cleanup(func() { level = saved })
	level = levelAVX2
}

func sigmoid64(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// inputs returns a dense sweep of [−100, 100], random bit patterns (no
// NaN) and the edge values of the kernels' range.
func inputs(r *rand.Rand) []float32 {
	var x []float32
	const steps = 1 << 20
	for i := 0; i <= steps; i++ {
		x = append(x, float32(-100+200*float64(i)/steps))
	}
	for range 1 << 16 {
		if v := math.Float32frombits(r.Uint32()); !math.IsNaN(float64(v)) {
			x = append(x, v)
		}
	}
	return append(x, 0, float32(math.Copysign(0, -1)), 86.99, -86.99, 87, -87, 87.01, -87.01, 0x1p-149)
}

// TestSigmoidBias checks every level on lengths 0 to 40 (whole blocks and
// tails) and on a long sweep, with and without bias: each value done is
// σ within 1e-6 relative, values beyond the count returned are untouched,
// the count stops only where the contract allows (before a block or tail
// holding |x| > 87 or NaN), and a tail's values have the bits the same
// values get inside a whole block.
func TestSigmoidBias(t *testing.T) {
	ls, restore := levels()
	defer restore()
	if len(ls) == 0 {
		t.Skip("vmath: no AVX2+FMA or AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(1, 2))
	long := inputs(r)
	for _, l := range ls {
		level = l
		block := 8
		if l == levelAVX512 {
			block = 16
		}
		check := func(x, bias []float32, name string) {
			got := append([]float32(nil), x...)
			n := SigmoidBias(got, bias)
			if n < 0 || n > len(x) {
				t.Fatalf("level %d %s: returned %d of %d", l, name, n, len(x))
			}
			for i, g := range got {
				v := x[i]
				if len(bias) > 0 {
					v += bias[i]
				}
				if i >= n {
					if math.Float32bits(g) != math.Float32bits(x[i]) {
						t.Fatalf("level %d %s: value %d beyond the %d done was changed", l, name, i, n)
					}
					continue
				}
				w := sigmoid64(float64(v))
				if d := math.Abs(float64(g) - w); !(d <= 1e-6*w) {
					t.Fatalf("level %d %s: σ(%g) = %g, want %g", l, name, v, g, w)
				}
			}
			if n < len(x) {
				// It may stop only at a tail (AVX2) or a block with a bad value.
				end := min(n+block, len(x))
				bad := false
				for i := n; i < end; i++ {
					v := float64(x[i])
					if len(bias) > 0 {
						v = float64(x[i] + bias[i])
					}
					bad = bad || !(math.Abs(v) <= 87)
				}
				if !bad {
					t.Fatalf("level %d %s: stopped at %d of %d with no reason", l, name, n, len(x))
				}
			}
			// The same values in a slice of whole blocks: the tail's bits.
			whole := len(x) &^ (block - 1)
			if n == len(x) && whole < len(x) {
				pad := make([]float32, whole+block)
				copy(pad, x)
				var pb []float32
				if len(bias) > 0 {
					pb = make([]float32, len(pad))
					copy(pb, bias[:len(x)])
				}
				if m := SigmoidBias(pad, pb); m != len(pad) {
					t.Fatalf("level %d %s: padded copy done to %d of %d", l, name, m, len(pad))
				}
				for i := whole; i < len(x); i++ {
					if math.Float32bits(pad[i]) != math.Float32bits(got[i]) {
						t.Fatalf("level %d %s: tail value %d is %g, %g in a whole block", l, name, i, got[i], pad[i])
					}
				}
			}
		}
		for n := 0; n <= 40; n++ {
			x := make([]float32, n)
			b := make([]float32, n)
			for i := range x {
				x[i], b[i] = float32(r.NormFloat64()*8), float32(r.NormFloat64())
			}
			check(x, nil, "short")
			check(x, b, "short+bias")
		}
		b := make([]float32, len(long))
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		// The sweep, cut where a bad value stops the kernel.
		for lo := 0; lo < len(long); {
			x := long[lo:min(lo+4096, len(long))]
			check(x, nil, "sweep")
			check(x, b[lo:lo+len(x)], "sweep+bias")
			lo += len(x)
		}
	}
}

// TestSigmoidAccuracyAVX2 checks the AVX2 sigmoid's stated accuracy on a
// dense sweep of its range, [−87, 87] in 2²² steps, and on the random bit
// patterns within it: every value within 1.8e-7 relative of float64 math
// (measured maximum 1.71e-7, at −16.3; Cephes's expf in SIGMOID's place
// gave 1.95e-7, a single-part ln 2 3.0e-7).
func TestSigmoidAccuracyAVX2(t *testing.T) {
	atAVX2(t)
	const steps = 1 << 22
	x := make([]float32, 0, steps+1+1<<16)
	for i := 0; i <= steps; i++ {
		x = append(x, float32(-87+174*float64(i)/steps))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1 << 16 {
		if v := math.Float32frombits(r.Uint32()); math.Abs(float64(v)) <= 87 {
			x = append(x, v)
		}
	}
	x = x[:len(x)&^7]
	got := append([]float32(nil), x...)
	if n := SigmoidBias(got, nil); n != len(x) {
		t.Fatalf("done to %d of %d", n, len(x))
	}
	worst, at := 0.0, float32(0)
	for i, g := range got {
		w := sigmoid64(float64(x[i]))
		if e := math.Abs(float64(g)-w) / w; e > worst {
			worst, at = e, x[i]
		}
	}
	t.Logf("maximum relative error %.3g at %g", worst, at)
	if worst > 1.8e-7 {
		t.Errorf("maximum relative error %.3g at %g, want ≤ 1.8e-7", worst, at)
	}
}

// TestBCEAccuracyAVX2 checks the AVX2 binary cross-entropy's log1p and dz
// on a dense sweep of [−87, 87] in 2²⁰ steps, each value in a block of 8
// copies (so the loss is 8 times its term, exactly): with y = 0 and z ≤ 0
// the term is log1p(e^z) alone, within 1.3e-7 relative (measured maximum
// 1.21e-7; Cephes's logf of 1 + e with its rounding correction gave
// 1.69e-7); dz = σ(z) − y within 1.8e-7 relative to σ + y, for y in
// {0, ⅙, …, 1} (measured maximum 1.75e-7; before, 1.93e-7).
func TestBCEAccuracyAVX2(t *testing.T) {
	atAVX2(t)
	const steps = 1 << 20
	z, y, dz := make([]float32, 8), make([]float32, 8), make([]float32, 8)
	worstLog, worstDz := 0.0, 0.0
	var atLog, atDz float32
	for i := 0; i <= steps; i++ {
		zv := float32(-87 + 174*float64(i)/steps)
		for _, yv := range []float32{0, float32(i%7) / 6} {
			for j := range z {
				z[j], y[j] = zv, yv
			}
			n, loss := BCELogits(dz, z, y, 1)
			if n != 8 {
				t.Fatalf("z=%g: done to %d of 8", zv, n)
			}
			zf, yf := float64(zv), float64(yv)
			if s := sigmoid64(zf); math.Abs(float64(dz[0])-(s-yf)) > worstDz*(s+yf) {
				worstDz, atDz = math.Abs(float64(dz[0])-(s-yf))/(s+yf), zv
			}
			if yv == 0 && zv <= 0 {
				want := math.Log1p(math.Exp(zf))
				if e := math.Abs(loss/8-want) / want; e > worstLog {
					worstLog, atLog = e, zv
				}
			}
		}
	}
	t.Logf("log1p: maximum relative error %.3g at %g; dz: %.3g at %g", worstLog, atLog, worstDz, atDz)
	if worstLog > 1.3e-7 || worstDz > 1.8e-7 {
		t.Errorf("log1p's relative error %.3g at %g (bound 1.3e-7), dz's %.3g at %g (bound 1.8e-7)", worstLog, atLog, worstDz, atDz)
	}
}

// TestReLUBias checks every level: max(x + b, 0) exactly, NaN kept, the
// count all values (AVX-512) or all but a tail under 8 (AVX2).
func TestReLUBias(t *testing.T) {
	ls, restore := levels()
	defer restore()
	if len(ls) == 0 {
		t.Skip("vmath: no AVX2+FMA or AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, l := range ls {
		level = l
		for n := 0; n <= 70; n++ {
			x := make([]float32, n)
			b := make([]float32, n)
			for i := range x {
				x[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			if n > 3 {
				x[3] = float32(math.NaN())
			}
			for _, bias := range [][]float32{nil, b} {
				got := append([]float32(nil), x...)
				k := ReLUBias(got, bias)
				want := n
				if l == levelAVX2 {
					want = n &^ 7
				}
				if k != want {
					t.Fatalf("level %d n %d: did %d, want %d", l, n, k, want)
				}
				for i := range k {
					v := x[i]
					if bias != nil {
						v += bias[i]
					}
					w := max(v, 0)
					if g := got[i]; !(g == w || math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
						t.Fatalf("level %d n %d: relu(%g) = %g, want %g", l, n, v, g, w)
					}
				}
			}
		}
	}
}

// TestAddBias checks every level: x + b exactly, the count all values
// (AVX-512) or all but a tail under 8 (AVX2), the rest untouched.
func TestAddBias(t *testing.T) {
	ls, restore := levels()
	defer restore()
	if len(ls) == 0 {
		t.Skip("vmath: no AVX2+FMA or AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, l := range ls {
		level = l
		for n := 0; n <= 70; n++ {
			x, b := make([]float32, n), make([]float32, n+3)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			got := append([]float32(nil), x...)
			k := AddBias(got, b)
			want := n
			if l == levelAVX2 {
				want = n &^ 7
			}
			if k != want {
				t.Fatalf("level %d n %d: did %d, want %d", l, n, k, want)
			}
			for i, g := range got {
				w := x[i]
				if i < k {
					w += b[i]
				}
				if g != w {
					t.Fatalf("level %d n %d: [%d] = %g, want %g", l, n, i, g, w)
				}
			}
		}
	}
}

// TestBCELogitsBlocks checks that the AVX2 kernel's two-block loop gives
// every dz the bits its one-block loop gives (a call on 8 values runs
// only the latter), on slices where every block is in range and where
// some are not (the loops hand over mid-slice).
func TestBCELogitsBlocks(t *testing.T) {
	atAVX2(t)
	r := rand.New(rand.NewPCG(9, 10))
	for trial := range 300 {
		n := 8 * r.IntN(40)
		z, y := make([]float32, n), make([]float32, n)
		for i := range z {
			z[i], y[i] = float32(r.NormFloat64()*4), r.Float32()
		}
		if trial%3 == 2 && n > 0 {
			z[r.IntN(n)] = 90 // stops both loops at its block
		}
		dz := make([]float32, n)
		done, _ := BCELogits(dz, z, y, 1.0/784)
		for b := 0; b < done; b += 8 {
			one := make([]float32, 8)
			if k, _ := BCELogits(one, z[b:b+8], y[b:b+8], 1.0/784); k != 8 {
				t.Fatalf("n=%d: block at %d alone done to %d, whole slice to %d", n, b, k, done)
			}
			for i, v := range one {
				if math.Float32bits(v) != math.Float32bits(dz[b+i]) {
					t.Fatalf("n=%d: dz[%d] = %g in the slice, %g alone", n, b+i, dz[b+i], v)
				}
			}
		}
		for b := done; b < n; b += 8 {
			if k, _ := BCELogits(make([]float32, 8), z[b:b+8], y[b:b+8], 1.0/784); k == 8 && b == done {
				t.Fatalf("n=%d: slice stopped at %d, its block alone is done", n, done)
			}
		}
	}
}

// TestBCELogitsTail checks the AVX2 kernel's last 1…7 values: each dz
// has the bits a block of 8 padded with zeros gives it, nothing past the
// slice is written, and the loss is that block's without the padding's
// terms (each log1p(1) = ln 2).
func TestBCELogitsTail(t *testing.T) {
	atAVX2(t)
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		n := 8*r.IntN(5) + 1 + r.IntN(7)
		z, y := make([]float32, n), make([]float32, n)
		for i := range z {
			z[i], y[i] = float32(r.NormFloat64()*4), r.Float32()
		}
		buf := make([]float32, n+8)
		for i := range buf {
			buf[i] = float32(math.NaN())
		}
		dz := buf[:n]
		done, loss := BCELogits(dz, z, y, 1.0/784)
		if done != n {
			t.Fatalf("n=%d: done %d", n, done)
		}
		for i := n; i < len(buf); i++ {
			if !math.IsNaN(float64(buf[i])) {
				t.Fatalf("n=%d: dz[%d] past the slice written", n, i)
			}
		}
		b := n &^ 7
		var pz, py, pdz [8]float32
		copy(pz[:], z[b:])
		copy(py[:], y[b:])
		_, tail := BCELogits(pdz[:], pz[:], py[:], 1.0/784)
		for i := b; i < n; i++ {
			if math.Float32bits(pdz[i-b]) != math.Float32bits(dz[i]) {
				t.Fatalf("n=%d: dz[%d] = %g, %g in a padded block", n, i, dz[i], pdz[i-b])
			}
		}
		_, head := BCELogits(nil, z[:b], y[:b], 1.0/784)
		want := head + tail - float64(8-(n-b))*float64(float32(math.Ln2))
		if e := math.Abs(loss - want); e > 1e-6*want {
			t.Fatalf("n=%d: loss %v, want %v", n, loss, want)
		}
	}
}

// TestBCELogits checks every level against float64: dz within 2e-6
// relative to (σ+y)·scale, the loss sum within Σ(4e-7 + 3e-7·|z|), the
// loss the same with and without dz, and the stopping rule.
func TestBCELogits(t *testing.T) {
	ls, restore := levels()
	defer restore()
	if len(ls) == 0 {
		t.Skip("vmath: no AVX2+FMA or AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(5, 6))
	var z []float32
	for _, v := range inputs(r) {
		if math.Abs(float64(v)) <= 1000 {
			z = append(z, v)
		}
	}
	y := make([]float32, len(z))
	for i := range y {
		y[i] = r.Float32()
	}
	const scale = float32(1.0 / 784)
	for _, l := range ls {
		level = l
		for lo := 0; lo < len(z); {
			hi := min(lo+1+r.IntN(100), len(z))
			zs, ys := z[lo:hi], y[lo:hi]
			dz := make([]float32, len(zs))
			n, loss := BCELogits(dz, zs, ys, scale)
			if n2, loss2 := BCELogits(nil, zs, ys, scale); n2 != n || loss2 != loss {
				t.Fatalf("level %d: without dz: %d %v, with: %d %v", l, n2, loss2, n, loss)
			}
			var want, tol float64
			for i := range n {
				zv, yv := float64(zs[i]), float64(ys[i])
				s := sigmoid64(zv)
				wg := (s - yv) * float64(scale)
				if e := math.Abs(float64(dz[i]) - wg); !(e <= 2e-6*(s+yv)*float64(scale)+1e-45) {
					t.Fatalf("level %d: dz for z=%g y=%g is %g, want %g", l, zv, yv, dz[i], wg)
				}
				want += math.Max(zv, 0) - zv*yv + math.Log1p(math.Exp(-math.Abs(zv)))
				tol += 4e-7 + 3e-7*math.Abs(zv)
			}
			if e := math.Abs(loss - want); !(e <= tol) {
				t.Fatalf("level %d: loss of %v is %v, want %v (error %.3g, bound %.3g)", l, zs[:n], loss, want, e, tol)
			}
			if n < len(zs) {
				if math.Abs(float64(zs[n])) > 87 || hasBad(zs[n:min(n+16, len(zs))]) {
					lo += n + 1
				} else {
					t.Fatalf("level %d: stopped at %d of %d with no reason", l, n, len(zs))
				}
				continue
			}
			lo = hi
		}
	}
}

func hasBad(x []float32) bool {
	for _, v := range x {
		if !(math.Abs(float64(v)) <= 87) {
			return true
		}
	}
	return false
}

// BenchmarkLevels times each kernel at each level this CPU runs on one
// 256×784 layer (200704 values, rows of 784), in the same run.
func BenchmarkLevels(b *testing.B) {
	ls, restore := levels()
	defer restore()
	r := rand.New(rand.NewPCG(7, 8))
	const m, n = 256, 784
	x, z, y, dz := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
	bias := make([]float32, n)
	for i := range z {
		z[i], y[i] = float32(r.NormFloat64()*6), r.Float32()
	}
	for i := range bias {
		bias[i] = float32(r.NormFloat64())
	}
	names := map[int]string{levelAVX2: "avx2", levelAVX512: "avx512"}
	for _, l := range ls {
		run := func(name string, f func()) {
			b.Run(name+"/"+names[l], func(b *testing.B) {
				level = l
				for b.Loop() {
					f()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(m*n), "ns/value")
			})
		}
		run("SigmoidBias", func() {
			copy(x, z)
			for i := 0; i < m; i++ {
				SigmoidBias(x[i*n:i*n+n], bias)
			}
		})
		run("ReLUBias", func() {
			copy(x, z)
			for i := 0; i < m; i++ {
				ReLUBias(x[i*n:i*n+n], bias)
			}
		})
		run("AddBias", func() {
			copy(x, z)
			for i := 0; i < m; i++ {
				AddBias(x[i*n:i*n+n], bias)
			}
		})
		run("BCELogits", func() {
			for i := 0; i < m; i++ {
				BCELogits(dz[i*n:i*n+n], z[i*n:i*n+n], y[i*n:i*n+n], 1.0/(m*n))
			}
		})
	}
}

// adamGo is Adam's float32 arithmetic as a Go loop computes it.
func adamGo(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	for i, gi := range g {
		mi := m[i] + float32((gi-m[i])*c1)
		vi := v[i] + float32(float32(gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		w[i] -= float32(mi*alpha) / (float32(math.Sqrt(float64(vi))) + eps)
	}
}

// TestAdam checks every level on lengths 0 to 40 and 1000: the values
// done are bit-identical to adamGo (NaN payloads included), the kernel
// stops exactly before the first block holding a value below its limit
// (or, with AVX2, before the tail), and values beyond are untouched.
func TestAdam(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ls, restore := levels()
	defer restore()
	const gLim, mLim, vLim = 0x1p-56, 0x1p-100, 0x1p-90
	val := func() float32 {
		switch k := r.IntN(30); {
		case k == 0:
			return math.Float32frombits(0x7fc00000 | uint32(r.IntN(1<<22)) | uint32(r.IntN(2))<<31)
		case k == 1:
			return float32(math.Inf(1 - 2*r.IntN(2)))
		case k < 5:
			return float32(math.Copysign(0, float64(1-2*r.IntN(2))))
		}
		return float32(r.NormFloat64() * math.Ldexp(1, -r.IntN(30)))
	}
	lims := [3]float32{gLim, mLim, vLim}
	for _, l := range ls {
		level = l
		block := 8
		if l == levelAVX512 {
			block = 16
		}
		for n := 0; n <= 1000; n++ {
			if n > 40 && n != 1000 {
				continue
			}
			for trial := 0; trial < 20; trial++ {
				var a [4][]float32 // w, g, m, v
				for k := range a {
					a[k] = make([]float32, n)
					for i := range a[k] {
						a[k][i] = val()
					}
				}
				stop := n // first value the kernel must not do
				if trial%2 == 1 && n > 0 {
					i, k := r.IntN(n), 1+r.IntN(3)
					a[k][i] = lims[k-1] * float32(r.Float64()) // below the limit, maybe subnormal
					if a[k][i] == 0 {
						a[k][i] = 0x1p-149
					}
					stop = i
				}
				want := block * (stop / block)
				if l == levelAVX512 && stop == n {
					want = n
				}
				var b [4][]float32
				for k := range a {
					b[k] = append([]float32(nil), a[k]...)
				}
				got := Adam(b[0], b[1], b[2], b[3], 1e-3, 0.1, 0.001, 1e-7,
					math.Float32bits(gLim), math.Float32bits(mLim), math.Float32bits(vLim))
				if got != want {
					t.Fatalf("level %d n %d: returned %d, want %d", l, n, got, want)
				}
				adamGo(a[0][:got], a[1][:got], a[2][:got], a[3][:got], 1e-3, 0.1, 0.001, 1e-7)
				for k := range a {
					for i := range a[k] {
						if math.Float32bits(a[k][i]) != math.Float32bits(b[k][i]) {
							t.Fatalf("level %d n %d: array %d value %d (of %d done) = %x, want %x",
								l, n, k, i, got, math.Float32bits(b[k][i]), math.Float32bits(a[k][i]))
						}
					}
				}
			}
		}
	}
}

// TestReLUGrad checks every level on lengths 0 to 40 and 1000 against the
// Go loop d[i] *= g, g = 1 where z > 0 and 0 elsewhere, bit for bit (NaN
// payloads, ±0 and ±Inf included), and that values beyond those done are
// untouched.
func TestReLUGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	ls, restore := levels()
	defer restore()
	val := func() float32 { return gradInput(r, func() float32 { return float32(r.NormFloat64()) }) }
	for _, l := range ls {
		level = l
		for n := 0; n <= 1000; n++ {
			if n > 40 && n != 1000 {
				continue
			}
			d, z := make([]float32, n), make([]float32, n)
			for i := range d {
				d[i], z[i] = val(), val()
			}
			want := append([]float32(nil), d...)
			got := ReLUGrad(d, z)
			if wantN := n &^ 7; got != n && (l == levelAVX512 || got != wantN) {
				t.Fatalf("level %d n %d: returned %d", l, n, got)
			}
			for i, v := range z[:got] {
				var g float32
				if v > 0 {
					g = 1
				}
				want[i] *= g
			}
			for i := range d {
				if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
					t.Fatalf("level %d n %d: value %d (of %d done) = %x, want %x", l, n, i, got,
						math.Float32bits(d[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}

// TestSigmoidGrad checks SigmoidGrad bit for bit against its Go loop at
// every level, on values with NaNs of both signs and any payload (in d, in
// y, in both), infinities, zeros and subnormals; a tail of fewer than 8 is
// left to the caller.
func TestSigmoidGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	ls, restore := levels()
	defer restore()
	val := func() float32 {
		return gradInput(r, func() float32 {
			if r.IntN(3) > 0 {
				return r.Float32() // a sigmoid's output
			}
			return float32(r.NormFloat64())
		})
	}
	for _, l := range ls {
		level = l
		for n := 0; n <= 1000; n++ {
			if n > 40 && n != 1000 {
				continue
			}
			d, y := make([]float32, n), make([]float32, n)
			for i := range d {
				d[i], y[i] = val(), val()
			}
			d0 := append([]float32(nil), d...)
			want := append([]float32(nil), d...)
			got := SigmoidGrad(d, y)
			if got != n&^7 {
				t.Fatalf("level %d n %d: returned %d", l, n, got)
			}
			for i, v := range y[:got] {
				want[i] *= v * (1 - v)
			}
			for i := range d {
				if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
					t.Fatalf("level %d n %d: value %d (of %d done) = %x, want %x (d %x, y %x)", l, n, i, got,
						math.Float32bits(d[i]), math.Float32bits(want[i]), math.Float32bits(d0[i]), math.Float32bits(y[i]))
				}
			}
		}
	}
}

// gradInput returns an input for the gradient kernels' tests: one time in
// four a NaN of either sign and any payload, an infinity, a zero of
// either sign or a subnormal, else other().
func gradInput(r *rand.Rand, other func() float32) float32 {
	switch k := r.IntN(20); {
	case k == 0:
		return math.Float32frombits(0x7fc00000 | uint32(r.IntN(1<<22)) | uint32(r.IntN(2))<<31)
	case k == 1:
		return float32(math.Inf(1 - 2*r.IntN(2)))
	case k < 4:
		return float32(math.Copysign(0, float64(1-2*r.IntN(2))))
	case k == 4:
		return math.Float32frombits(uint32(r.IntN(1<<23)) | uint32(r.IntN(2))<<31) // subnormal
	}
	return other()
}
