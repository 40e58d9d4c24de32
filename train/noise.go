package train

import (
	"math"

	"github.com/aekit/aekit/runtime"
)

// Noise layers (Dropout, GaussianNoise, GaussianDropout, AlphaDropout)
// act while training and pass values through otherwise, with Keras 3's
// formulas:
//
//	Dropout(r)          y = x·m/(1−r),  m = [u ≥ r], u ~ U[0, 1)
//	GaussianNoise(s)    y = x + s·n,    n ~ N(0, 1)
//	GaussianDropout(r)  y = x·(1 + √(r/(1−r))·n)
//	AlphaDropout(r)     y = a·(x·m + α′·(1−m)) + b,  m = [u ≥ r],
//	                    α′ = −1.6732632423543772·1.0507009873554805,
//	                    a = ((1−r)(1 + r·α′²))^(−1/2), b = −a·α′·r
//
// The gradient is the multiplier of x (m/(1−r), 1, the Gaussian factor,
// a·m). The random numbers are not Keras's: each value's u or n comes
// from a hash of (Seed, update count, layer, row position in the batch,
// column), so that results are the same for any number of threads.

// noiseKind returns the Kind of an Identity layer that acts while
// training, or ok false.
func noiseKind(l *runtime.Layer) (Kind, bool) {
	switch l.Class {
	case "Dropout":
		return Dropout, true
	case "GaussianNoise":
		return GaussianNoise, true
	case "GaussianDropout":
		return GaussianDropout, true
	case "AlphaDropout":
		return AlphaDropout, true
	}
	return 0, false
}

// alphaP is AlphaDropout's α′ = −alpha·scale of SELU.
const alphaP = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

// streamNoise keys the noise layers' random numbers ("aekitnoi").
const streamNoise = 0x61656b69746e6f69

// mix64 is SplitMix64's finaliser: a bijective hash of 64 bits.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// noiseFwd fills rows lo..hi of the noise op o: its output a from its
// input x and the multiplier mask used by the backward pass; key is the
// step's key for this op. Each pair of values (columns j, j+1) of a row
// draws one 64-bit hash: two 32-bit uniforms, or two normals (gauss2).
func (o *op) noiseFwd(lo, hi int, key uint64) {
	w := o.out
	for row := lo; row < hi; row++ {
		x, a, m := o.x[row*w:(row+1)*w], o.a[row*w:(row+1)*w], o.mask[row*w:(row+1)*w]
		base := key ^ uint64(row)*0x9e3779b97f4a7c15
		switch o.kind {
		case Dropout, AlphaDropout:
			// u ≥ rate with u = k·2⁻³², k a 32-bit integer: k ≥ ⌈rate·2³²⌉.
			thr := uint64(math.Ceil(o.rate * (1 << 32)))
			keep, drop := o.scale, float32(0)
			if o.kind == AlphaDropout {
				drop = o.scale*float32(alphaP) + o.shift
			}
			for j := 0; j < w; j += 2 {
				h := mix64(base + uint64(j)*0xd1b54a32d192ed03)
				// sel is 1 when u ≥ thr, else 0, without a branch
				// (u, thr < 2³³: u−thr wraps when u < thr).
				sel := [2]float32{float32((((h >> 32) - thr) >> 63) ^ 1), float32((((h & 0xffffffff) - thr) >> 63) ^ 1)}
				for k := range min(2, w-j) {
					i, s := j+k, sel[k]
					m[i] = keep * s
					if o.kind == Dropout {
						a[i] = x[i] * m[i]
					} else {
						a[i] = s*(keep*x[i]+o.shift) + (1-s)*drop
					}
				}
			}
		case GaussianNoise, GaussianDropout:
			for j := 0; j < w; j += 2 {
				n0, n1 := gauss2(mix64(base + uint64(j)*0xd1b54a32d192ed03))
				for k, n := range [2]float32{n0, n1} {
					i := j + k
					if i >= w {
						break
					}
					if o.kind == GaussianNoise {
						a[i] = x[i] + o.scale*n
					} else {
						f := 1 + o.scale*n
						m[i] = f
						a[i] = x[i] * f
					}
				}
			}
		}
	}
}

// gauss2 returns two independent standard normal numbers from the hash
// h: gauss of h and of a second hash derived from it.
func gauss2(h uint64) (float32, float32) {
	return gauss(h), gauss(mix64(h ^ 0x632be59bd9b4e019))
}

// gauss returns a standard normal number from the hash h, by the
// Marsaglia–Tsang ziggurat (128 layers): a table look-up, a multiply and
// a compare for 98.8% of the values (its low 32 bits are the value, bits
// 32–38 the layer); the others draw further uniforms by re-hashing h.
// About 15 times faster than Box–Muller's log, sqrt and sincos here
// (measured by the family helper: 9.5 against 145 ns a value).
func gauss(h uint64) float32 {
	hz, iz := int32(h), (h>>32)&127
	if uint32(abs32(hz)) < zigK[iz] {
		return float32(float64(hz) * zigW[iz])
	}
	return gaussTail(h, hz, iz)
}

// abs32 returns |v| (MinInt32 stays negative, and so is never below a
// zigK bound).
func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// uniform01 returns a uniform number in [0, 1) from the top 53 bits of h.
func uniform01(h uint64) float64 { return float64(h>>11) * (1.0 / (1 << 53)) }

// zigR is the start of the ziggurat's tail.
const zigR = 3.442619855899

// zigK, zigW and zigF are the ziggurat's tables (Marsaglia and Tsang
// 2000, "The Ziggurat Method for Generating Random Variables", 128
// layers): bounds on |hz|, the scale of hz, and the density at each
// layer's edge. They are computed once at start-up and only read.
var zigK, zigW, zigF = zigTables()

func zigTables() (k [128]uint32, w, f [128]float64) {
	const m1 = 2147483648.0
	const vn = 9.91256303526217e-3
	dn, tn := zigR, zigR
	q := vn / math.Exp(-.5*dn*dn)
	k[0] = uint32((dn / q) * m1)
	k[1] = 0
	w[0], w[127] = q/m1, dn/m1
	f[0], f[127] = 1, math.Exp(-.5*dn*dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(vn/dn+math.Exp(-.5*dn*dn)))
		k[i+1] = uint32((dn / tn) * m1)
		tn = dn
		f[i] = math.Exp(-.5 * dn * dn)
		w[i] = dn / m1
	}
	return k, w, f
}

// gaussTail finishes gauss for a value outside layer iz's rectangle:
// the wedge test, the tail beyond zigR for layer 0, or a new draw.
func gaussTail(h uint64, hz int32, iz uint64) float32 {
	next := func() uint64 {
		h = mix64(h + 0x9e3779b97f4a7c15)
		return h
	}
	for {
		x := float64(hz) * zigW[iz]
		if iz == 0 {
			for {
				x = -math.Log(1-uniform01(next())) / zigR
				y := -math.Log(1 - uniform01(next()))
				if y+y >= x*x {
					break
				}
			}
			if hz > 0 {
				return float32(zigR + x)
			}
			return float32(-zigR - x)
		}
		if zigF[iz]+uniform01(next())*(zigF[iz-1]-zigF[iz]) < math.Exp(-.5*x*x) {
			return float32(x)
		}
		g := next()
		hz, iz = int32(g), (g>>32)&127
		if uint32(abs32(hz)) < zigK[iz] {
			return float32(float64(hz) * zigW[iz])
		}
	}
}

// setNoise sets o's constants for its kind and rate.
func (o *op) setNoise(k Kind, rate float64) {
	o.noise, o.kind, o.rate = true, k, rate
	switch k {
	case Dropout:
		o.scale = float32(1 / (1 - rate))
	case GaussianNoise:
		o.scale = float32(rate)
	case GaussianDropout:
		o.scale = float32(math.Sqrt(rate / (1 - rate)))
	case AlphaDropout:
		a := math.Pow((1-rate)*(1+rate*alphaP*alphaP), -0.5)
		o.scale = float32(a)
		o.shift = float32(-a * alphaP * rate)
	}
}

// regPenalty returns r's penalty on v: L1·Σ|v| + L2·Σv², in float32 as
// Keras sums it... accumulated in float64.
func regPenalty(r runtime.Regularizer, v []float32) float64 {
	var s1, s2 float64
	for _, x := range v {
		f := float64(x)
		s1 += math.Abs(f)
		s2 += f * f
	}
	return r.L1*s1 + r.L2*s2
}

// regGrad adds the gradient of r's penalty on v to g: L1·sign(v) + 2·L2·v
// (sign(0) = 0, as TensorFlow's gradient of |v|), each scaled by s.
func regGrad(r runtime.Regularizer, g, v []float32, s float32) {
	l1, l2 := float32(r.L1)*s, 2*float32(r.L2)*s
	for i, x := range v {
		d := l2 * x
		switch {
		case x > 0:
			d += l1
		case x < 0:
			d -= l1
		}
		g[i] += d
	}
}
