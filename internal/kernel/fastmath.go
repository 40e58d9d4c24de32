package kernel

import (
	"math"

	"github.com/aekit/aekit/internal/kernel/vmath"
)

// Float32 elementary functions used by the fused kernels. They are pure Go
// (the compiler does not vectorize them) and trade the last ulp for speed:
// TestFastMathAccuracy measures them against float64 math over a dense
// sweep of their domain and asserts the bounds stated here.

const (
	expfMin = -87.33654 // below it e^x is subnormal in float32
	magic   = 12582912  // 1.5·2²³: adding it rounds a float32 to an integer
)

// expf returns e^x for expfMin ≤ x ≤ 88: within 2 ulp (≤ 2.4e-7
// relative) of math.Exp. It is Cephes's expf: x = n·ln2 + r with a
// two-part ln2, and a degree-7 polynomial for e^r on |r| ≤ ln2/2.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	t := x*log2e + magic
	n := int32(math.Float32bits(t)) - int32(math.Float32bits(magic))
	fn := t - magic
	r := x - fn*ln2hi
	r -= fn * ln2lo
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	e := p*(r*r) + r + 1
	return e * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoidf returns 1/(1+e⁻ᶻ) within 1e-6 relative of the float64 value
// rounded to float32 (measured maximum in TestFastMathAccuracy); NaN gives
// NaN.
func sigmoidf(z float32) float32 {
	az := max(z, -z) // NaN stays NaN
	if !(az <= -expfMin) {
		return sigmoid64(z) // subnormal results, ±Inf and NaN: rare, slow path
	}
	e := expf(-az)
	s := 1 / (1 + e)
	if z < 0 {
		s *= e
	}
	return s
}

// sigmoid64 is the float64 reference the runtime also uses.
func sigmoid64(v float32) float32 {
	d := float64(v)
	if d >= 0 {
		return float32(1 / (1 + math.Exp(-d)))
	}
	e := math.Exp(d)
	return float32(e / (1 + e))
}

// log1pf returns log(1+u) for 0 ≤ u ≤ 1 within 2e-7 absolute (the result
// lies in [0, ln2]). It is Cephes's logf of v = 1+u, corrected by
// (u−(v−1))/v for the rounding of v.
func log1pf(u float32) float32 {
	const sqrt2 = 1.41421356
	v := 1 + u
	c := (u - (v - 1)) / v
	b := math.Float32bits(v)
	e := float32(int32(b>>23) - 127)
	f := math.Float32frombits(b&0x007fffff | 0x3f800000) // mantissa in [1, 2)
	if f > sqrt2 {
		f *= 0.5
		e++
	}
	f--
	z := f * f
	y := ((((((((7.0376836292e-2*f-1.1514610310e-1)*f+1.1676998740e-1)*f-1.2420140846e-1)*f+1.4249322787e-1)*f-1.6668057665e-1)*f+2.0000714765e-1)*f-2.4999993993e-1)*f + 3.3333331174e-1) * f * z
	y += -2.12194440e-4 * e
	y -= 0.5 * z
	return f + y + 0.693359375*e + c
}

// tanh64 is tanh through float64 math, as the runtime computes it.
func tanh64(v float32) float32 { return float32(math.Tanh(float64(v))) }

// useVec selects the assembly kernels of package vmath where the CPU has
// them. It is set once; tests switch it off to check the pure-Go loops.
var useVec = vmath.Available()

// VectorMath names the element-wise kernels in use: "avx2+fma" (package
// vmath's assembly, for Sigmoid in BiasAct and for SigmoidBCERow), or
// "pure Go (…)" with the reason.
func VectorMath() string { return vmath.Name() }
