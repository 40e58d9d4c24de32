package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/aekit/aekit/runtime"
)

// This file reproduces the initial weights that Keras 3 on TensorFlow
// gives a model built after keras.utils.set_random_seed(seed):
//
//  1. set_random_seed seeds Python's random module (a Mersenne Twister,
//     seeded through init_by_array with the seed's 32-bit words).
//  2. Every Dense layer whose kernel initializer draws random numbers
//     (glorot_uniform by default) gets its own seed when the layer is
//     constructed: random.randint(1, 10⁹) (keras.random.make_default_seed).
//     zeros and ones draw nothing; biases are zeros.
//  3. When the layer is built, the initializer samples the kernel with
//     TensorFlow's stateless ops (tf.random.stateless_uniform, ...) and the
//     seed [s, 0]: TensorFlow scrambles it into a Philox-4x32-10 key and
//     counter (one Philox round from the fixed key 0x3ec8f720, 0x02461e29)
//     and turns each 32-bit output into a float in [0, 1) from its low 23
//     bits; normals come from Box–Muller on pairs of outputs, truncated
//     normals draw each group of four values from its own stretch of 256
//     Philox outputs.
//
// KerasSeedInitializers lists the initializers reproduced.

// KerasSeedInitializers returns the initializer names InitializeKeras
// accepts, sorted.
func KerasSeedInitializers() []string {
	return []string{"glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
		"ones", "random_normal", "random_uniform", "zeros"}
}

// InitializeKeras sets the kernel of every Dense layer of m, in sub-models
// too, as Keras 3 on TensorFlow initialises a freshly built model after
// keras.utils.set_random_seed(seed), for the named initializer (""
// means glorot_uniform; see KerasSeedInitializers) used by every Dense
// layer, the layers created in m's execution order; biases are set to
// zero. The weights are bit for bit Keras's when the Keras script
// creates no other object that draws from Python's random module between
// set_random_seed and its last Dense layer (TestKerasSeed). The normal
// initializers (glorot_normal, he_normal, lecun_normal: truncated at two
// standard deviations; random_normal) follow TensorFlow's Box–Muller and
// its Philox stream exactly but take correctly rounded logarithms, sines
// and cosines where TensorFlow uses the C library's float32 logf and
// sincosf, which glibc does not round correctly: measured against Keras
// 3.15 on TensorFlow 2.21 with glibc, 1.1–1.7% of their values differ
// by 1–4 ulp (at most 4.8e-7 relative). seed must be in [0, 2³²), as
// set_random_seed requires (NumPy's seed range).
func InitializeKeras(m *runtime.Model, init Initializer, seed int64) error {
	if init == "" {
		init = GlorotUniform
	}
	// limit is the uniform initializers' bound; std the normal ones'
	// standard deviation, truncated at two when trunc is set.
	var limit, std func(in, out int) float64
	trunc := false
	switch init {
	case "glorot_normal":
		std = func(in, out int) float64 { return math.Sqrt(1/math.Max(1, float64(in+out)/2)) / truncStd }
		trunc = true
	case "he_normal":
		std = func(in, _ int) float64 { return math.Sqrt(2/math.Max(1, float64(in))) / truncStd }
		trunc = true
	case "lecun_normal":
		std = func(in, _ int) float64 { return math.Sqrt(1/math.Max(1, float64(in))) / truncStd }
		trunc = true
	case "random_normal":
		std = func(_, _ int) float64 { return 0.05 }
	case "glorot_uniform":
		limit = func(in, out int) float64 { return math.Sqrt(3 * (1 / math.Max(1, float64(in+out)/2))) }
	case "he_uniform":
		limit = func(in, _ int) float64 { return math.Sqrt(3 * (2 / math.Max(1, float64(in)))) }
	case "lecun_uniform":
		limit = func(in, _ int) float64 { return math.Sqrt(3 * (1 / math.Max(1, float64(in)))) }
	case "random_uniform":
		limit = func(_, _ int) float64 { return 0.05 }
	case "zeros", "ones":
	default:
		return fmt.Errorf("%w %q for Keras seeding (valid: %s)", ErrInitializer, init, strings.Join(KerasSeedInitializers(), ", "))
	}
	if seed < 0 || seed > math.MaxUint32 {
		return fmt.Errorf("%w: Keras seed %d outside [0, 2³²)", ErrConfig, seed)
	}
	py := newPyRandom(uint64(seed))
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type != runtime.Dense {
			return
		}
		if len(l.Kernel) != l.In*l.Units {
			l.Kernel = make([]float32, l.In*l.Units)
		}
		fill(l.Bias, 0)
		switch init {
		case "zeros":
			fill(l.Kernel, 0)
			return
		case "ones":
			fill(l.Kernel, 1)
			return
		}
		s := uint64(py.randint(1, 1_000_000_000))
		switch {
		case limit != nil:
			lim := limit(l.In, l.Units)
			statelessUniform(l.Kernel, s, 0, float32(-lim), float32(lim))
		case trunc:
			statelessTruncatedNormal(l.Kernel, s, 0, 0, float32(std(l.In, l.Units)))
		default:
			statelessNormal(l.Kernel, s, 0, 0, float32(std(l.In, l.Units)))
		}
	})
	return nil
}

// pyRandom is CPython's random.Random: MT19937 seeded as random.seed(n)
// seeds it for a non-negative int n.
type pyRandom struct {
	mt  [624]uint32
	idx int
}

func newPyRandom(n uint64) *pyRandom {
	key := []uint32{uint32(n)}
	if hi := uint32(n >> 32); hi != 0 {
		key = append(key, hi)
	}
	r := &pyRandom{}
	r.initByArray(key)
	return r
}

func (r *pyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *pyRandom) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	for k := max(624, len(key)); k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

func (r *pyRandom) uint32() uint32 {
	if r.idx >= 624 {
		const upper, lower = 0x80000000, 0x7fffffff
		for k := 0; k < 624; k++ {
			y := r.mt[k]&upper | r.mt[(k+1)%624]&lower
			v := r.mt[(k+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// randint is random.randint(a, b) for b−a < 2³²: rejection sampling on
// getrandbits(bit_length(b−a+1)).
func (r *pyRandom) randint(a, b int64) int64 {
	n := uint64(b - a + 1)
	k := 0
	for v := n; v > 0; v >>= 1 {
		k++
	}
	for {
		v := uint64(r.uint32() >> (32 - k))
		if v < n {
			return a + int64(v)
		}
	}
}

// philox is one call of TensorFlow's PhiloxRandom (Philox-4x32-10).
func philox(ctr [4]uint32, key [2]uint32) [4]uint32 {
	const m0, m1, w0, w1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
	for round := 0; round < 10; round++ {
		p0 := uint64(m0) * uint64(ctr[0])
		p1 := uint64(m1) * uint64(ctr[2])
		ctr = [4]uint32{uint32(p1>>32) ^ ctr[1] ^ key[0], uint32(p1), uint32(p0>>32) ^ ctr[3] ^ key[1], uint32(p0)}
		key[0] += w0
		key[1] += w1
	}
	return ctr
}

// statelessKeyCounter is TensorFlow's GenerateKey: the Philox key and
// counter of a stateless op's seed (seed0, seed1).
func statelessKeyCounter(seed0, seed1 uint64) ([2]uint32, [4]uint32) {
	mix := philox([4]uint32{uint32(seed0), uint32(seed0 >> 32), uint32(seed1), uint32(seed1 >> 32)}, [2]uint32{0x3ec8f720, 0x02461e29})
	return [2]uint32{mix[0], mix[1]}, [4]uint32{0, 0, mix[2], mix[3]}
}

// skip advances a Philox counter by n 128-bit steps.
func skip(c *[4]uint32, n uint64) {
	lo := uint64(c[0]) | uint64(c[1])<<32
	hi := uint64(c[2]) | uint64(c[3])<<32
	nlo := lo + n
	if nlo < lo {
		hi++
	}
	c[0], c[1], c[2], c[3] = uint32(nlo), uint32(nlo>>32), uint32(hi), uint32(hi>>32)
}

// uint32ToFloat is TensorFlow's Uint32ToFloat: [0, 1) from the low 23 bits.
func uint32ToFloat(x uint32) float32 {
	return math.Float32frombits(127<<23|x&0x7fffff) - 1
}

// statelessUniform fills w as tf.random.stateless_uniform(shape,
// seed=[seed0, seed1], minval=lo, maxval=hi) does for float32:
// u·(hi−lo) + lo in float32, u from consecutive Philox outputs.
func statelessUniform(w []float32, seed0, seed1 uint64, lo, hi float32) {
	key, ctr := statelessKeyCounter(seed0, seed1)
	span := hi - lo
	for i := 0; i < len(w); i += 4 {
		out := philox(ctr, key)
		skip(&ctr, 1)
		for j := 0; j < 4 && i+j < len(w); j++ {
			w[i+j] = float32(uint32ToFloat(out[j])*span) + lo // no fused multiply-add
		}
	}
}

// boxMuller is TensorFlow's BoxMullerFloat: two standard normals from two
// 32-bit outputs, in float32 (2π·u in float64, as TensorFlow's M_PI is a
// double).
func boxMuller(x0, x1 uint32) (float32, float32) {
	u1 := uint32ToFloat(x0)
	if u1 < 1e-7 {
		u1 = 1e-7
	}
	v1 := float32(2 * math.Pi * float64(uint32ToFloat(x1)))
	u2 := float32(math.Sqrt(float64(-2 * float32(math.Log(float64(u1))))))
	return float32(math.Sin(float64(v1))) * u2, float32(math.Cos(float64(v1))) * u2
}

// statelessNormal fills w as tf.random.stateless_normal(shape,
// seed=[seed0, seed1], mean, stddev) does for float32: z·stddev + mean,
// four normals from each Philox output.
func statelessNormal(w []float32, seed0, seed1 uint64, mean, stddev float32) {
	key, ctr := statelessKeyCounter(seed0, seed1)
	for i := 0; i < len(w); i += 4 {
		out := philox(ctr, key)
		skip(&ctr, 1)
		var z [4]float32
		z[0], z[1] = boxMuller(out[0], out[1])
		z[2], z[3] = boxMuller(out[2], out[3])
		for j := 0; j < 4 && i+j < len(w); j++ {
			w[i+j] = float32(z[j]*stddev) + mean
		}
	}
}

// statelessTruncatedNormal fills w as tf.random.stateless_truncated_normal
// does for float32: each group of four values draws normals in pairs from
// its own stretch of the Philox stream (256 outputs apart), keeping those
// with |z| < 2, then z·stddev + mean.
func statelessTruncatedNormal(w []float32, seed0, seed1 uint64, mean, stddev float32) {
	key, base := statelessKeyCounter(seed0, seed1)
	for g := 0; g*4 < len(w); g++ {
		ctr := base
		skip(&ctr, uint64(g)*256)
		var buf [4]uint32
		pos := 4
		next := func() uint32 {
			if pos == 4 {
				buf = philox(ctr, key)
				skip(&ctr, 1)
				pos = 0
			}
			pos++
			return buf[pos-1]
		}
		var z [4]float32
		for n := 0; n < 4; {
			f0, f1 := boxMuller(next(), next())
			for _, f := range [2]float32{f0, f1} {
				if n < 4 && float32(math.Abs(float64(f))) < 2 {
					z[n] = f
					n++
				}
			}
		}
		for j := 0; j < 4 && g*4+j < len(w); j++ {
			w[g*4+j] = float32(z[j]*stddev) + mean
		}
	}
}
