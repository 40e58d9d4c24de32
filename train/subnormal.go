package train

import "math"

// Float32 arithmetic on subnormal numbers (below 2⁻¹²⁶ ≈ 1.2e-38 in
// magnitude) takes a slow microcode path on x86 CPUs, 20–100 times slower
// than on normal numbers, and Go cannot switch on flush-to-zero without
// changing results. Optimizer state often gets there: the moment m of a
// weight whose gradient is always 0 (a dead relu unit) decays towards 0
// and then stays at a few subnormal units forever (m·(1−β1) rounds to 0),
// so a model with dead units spent most of its step in Adam. The update
// therefore sends weights with tiny state or gradient to a path that
// computes each float32 operation in float64, where these values are
// normal, and rounds its result to float32 in software: bit-identical
// results (TestSubnormalAdam), without a subnormal operation.

const (
	// tinyGradBits: gradients of magnitude below 2⁻⁵⁶ take the exact
	// path (g² would fall near 2⁻¹²⁶).
	tinyGradBits = (127 - 56) << 23
	// minNormal32 is the smallest normal float32, 2⁻¹²⁶.
	minNormal32 = 0x1p-126
)

// tinyBits returns the bits of the magnitude below which a value that is
// multiplied by c (or divided by 1/c) in an update takes the exact path:
// 4·2⁻¹²⁶/c, between 2⁻¹²⁶ and 2⁻⁶⁰. The bounds only affect speed, never
// results.
func tinyBits(c float64) uint32 {
	t := 4 * minNormal32 / c
	if !(t < 0x1p-60) {
		t = 0x1p-60
	}
	return math.Float32bits(float32(max(t, minNormal32)))
}

// below reports whether v is neither zero nor at least the float32 whose
// bits are lim in magnitude (NaN and Inf are not).
func below(v float32, lim uint32) bool {
	return math.Float32bits(v)&0x7fffffff-1 < lim-1
}

// tinyGrad reports whether the gradient g takes the exact path.
func tinyGrad(g float32) bool { return below(g, tinyGradBits) }

// deadMoment returns Adam's new first moment for a zero gradient when m
// is subnormal, k units of 2⁻¹⁴⁹: m − m·c1, with m·c1 rounded to the
// nearest unit (ties to even), computed on the integer k; and whether the
// weight's step m'·α/(√v+ε) rounds to zero (k'·α ≤ ½), so that a non-zero
// weight does not change. This is where the moment of a dead unit's
// weight (a relu that never fires) decays to and then stays, at a few
// units, because k·c1 rounds to 0.
func deadMoment(m float32, alpha, c1 float64) (float32, bool) {
	b := math.Float32bits(m)
	if b&0x7f800000 != 0 {
		return 0, false // not subnormal
	}
	k := float64(b & 0x7fffff)
	k -= math.RoundToEven(k * c1)
	if k*alpha > 0.5 {
		return 0, false
	}
	if k == 0 {
		return 0, true // x − x is +0
	}
	return math.Float32frombits(b&0x80000000 | uint32(k)), true
}

// wide returns v as a float64 without a subnormal float32 operation.
func wide(v float32) float64 {
	b := math.Float32bits(v)
	if b&0x7f800000 != 0 || b&0x7fffff == 0 {
		return float64(v) // normal, zero, Inf or NaN
	}
	x := float64(b&0x7fffff) * 0x1p-149
	if b&0x80000000 != 0 {
		return -x
	}
	return x
}

// round32 returns x rounded to float32, to nearest with ties to even, as
// float32(x), without a subnormal float32 operation.
func round32(x float64) float32 {
	if a := math.Abs(x); !(a < minNormal32) || a == 0 {
		return float32(x) // normal, zero, overflow, Inf, NaN
	}
	k := math.RoundToEven(math.Abs(x) * 0x1p149) // exact scaling; at most 2²³
	b := uint32(k)
	if x < 0 {
		b |= 0x80000000
	}
	return math.Float32frombits(b)
}

// f32 rounds a float64 to float32 and back: one float32 operation's
// rounding. Every float32 +, −, ×, ÷ and √ of float32 operands computed
// in float64 and rounded this way gives the float32 result: float64 holds
// every sum and product exactly, and rounds quotients and square roots
// with enough extra bits (53 ≥ 2·24 + 2) that rounding twice is rounding
// once.
func f32(x float64) float64 { return wide(round32(x)) }

// adamExact is one weight of adamUpdate, computed in float64 with the
// float32 rounding of every operation.
func adamExact(w, g, m, v *float32, alpha, c1, c2, eps float64) {
	gi, mi, vi := wide(*g), wide(*m), wide(*v)
	mi = f32(mi + f32(f32(gi-mi)*c1))
	vi = f32(vi + f32(f32(f32(gi*gi)-vi)*c2))
	*m, *v = round32(mi), round32(vi)
	q := f32(f32(mi*alpha) / f32(f32(math.Sqrt(vi))+eps))
	*w = round32(wide(*w) - q)
}

// adamAMSGradExact is one weight of adamAMSGradUpdate, computed as
// adamExact.
func adamAMSGradExact(w, g, m, v, vhat *float32, alpha, c1, c2, eps float64) {
	gi, mi, vi := wide(*g), wide(*m), wide(*v)
	mi = f32(mi + f32(f32(gi-mi)*c1))
	vi = f32(vi + f32(f32(f32(gi*gi)-vi)*c2))
	vh := max(wide(*vhat), vi)
	*m, *v, *vhat = round32(mi), round32(vi), round32(vh)
	q := f32(f32(mi*alpha) / f32(f32(math.Sqrt(vh))+eps))
	*w = round32(wide(*w) - q)
}
