package kernel

import (
	"math"

	"github.com/aekit/aekit/internal/kernel/vmath"
)

// sigmoidExp returns σ(z) and e^−|z|, sharing the exponential.
func sigmoidExp(z float32) (s, e float32) {
	az := max(z, -z)
	if az <= -expfMin {
		e = expf(-az)
	} else {
		e = float32(math.Exp(-float64(az))) // subnormal or zero; Inf and NaN pass through
	}
	if z >= 0 {
		return 1 / (1 + e), e
	}
	return e / (1 + e), e
}

// SigmoidBCERow is binary cross-entropy on one row of logits z of a
// sigmoid output layer, as Keras computes it on TensorFlow: for the logits
// z and targets y (same length) it writes
// dz[i] = (σ(z[i]) − y[i])·scale, unless dz is nil, and returns the sum,
// in float64, of the loss terms max(z, 0) − z·y + log1p(e^−|z|). σ and the
// exponential are float32, 8 values at a time with AVX2+FMA (VectorMath),
// σ within 1e-6 relative and log1p within 2e-7 absolute
// (TestFastMathAccuracy, TestVectorMath). dz may be the same slice as z. It
// does not allocate.
func SigmoidBCERow(dz, z, y []float32, scale float32) float64 {
	y = y[:len(z)]
	if dz != nil {
		dz = dz[:len(z)]
	}
	var loss float64
	i := 0
	if useVec {
		for i < len(z) {
			var d []float32
			if dz != nil {
				d = dz[i:]
			}
			k, l := vmath.BCELogits(d, z[i:], y[i:], scale)
			i += k
			loss += l
			if i+8 > len(z) {
				break
			}
			// The block the vector kernel stopped at.
			loss += bceScalar(dz, z, y, scale, i, i+8)
			i += 8
		}
	}
	return loss + bceScalar(dz, z, y, scale, i, len(z))
}

// bceScalar is SigmoidBCERow's pure-Go loop on values lo..hi−1.
func bceScalar(dz, z, y []float32, scale float32, lo, hi int) float64 {
	var loss float64
	for j := lo; j < hi; j++ {
		v, t := z[j], y[j]
		s, e := sigmoidExp(v)
		if dz != nil {
			dz[j] = (s - t) * scale
		}
		loss += float64(max(v, 0) - v*t + log1pf(e))
	}
	return loss
}
