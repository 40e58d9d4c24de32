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

// SigmoidBCE is binary cross-entropy on the logits z of a sigmoid output
// layer, as Keras computes it on TensorFlow: for the m×n logits z and
// targets y it writes the gradient with respect to z,
//
//	dz[i] = (σ(z[i]) − y[i]) · (1/(m·n)),
//
// and returns the loss averaged over all m·n values, each term in the
// stable form max(z, 0) − z·y + log1p(e^−|z|), summed in float64 (see
// SigmoidBCERow). dz may be the same slice as z. It does not allocate.
func SigmoidBCE(dz, z, y []float32, m, n int) float64 {
	k := m * n
	dz, z, y = dz[:k], z[:k], y[:k]
	if k == 0 {
		return 0
	}
	scale := float32(1 / float64(k))
	var loss float64
	for r := 0; r < k; r += n {
		loss += SigmoidBCERow(dz[r:r+n], z[r:r+n], y[r:r+n], scale)
	}
	return loss / float64(k)
}

// SigmoidBCERow is one row of SigmoidBCE with the gradient scale given:
// for the logits z and targets y (same length) it writes
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

// SigmoidBCEGrad writes the gradient of SigmoidBCE, without the loss:
// dz[i] = (σ(z[i]) − y[i]) · (1/(m·n)), σ in float64 math rounded to
// float32 (for the float32 σ of SigmoidBCE, call SigmoidBCERow). dz may be
// the same slice as z. It does not allocate.
func SigmoidBCEGrad(dz, z, y []float32, m, n int) {
	k := m * n
	dz, z, y = dz[:k], z[:k], y[:k]
	if k == 0 {
		return
	}
	scale := float32(1 / float64(k))
	for i, v := range z {
		dz[i] = (sigmoid64(v) - y[i]) * scale
	}
}

// MSE is mean squared error on the m×n predictions p and targets y, as
// Keras computes it: it writes the gradient with respect to p,
//
//	d[i] = (p[i] − y[i]) · (2/(m·n)),
//
// and returns the loss averaged over all m·n values, summed in float64. d
// may be the same slice as p. It does not allocate.
func MSE(d, p, y []float32, m, n int) float64 {
	k := m * n
	d, p, y = d[:k], p[:k], y[:k]
	if k == 0 {
		return 0
	}
	scale := float32(2 / float64(k))
	var loss float64
	for r := 0; r < k; r += n {
		pr, yr, dr := p[r:r+n], y[r:r+n], d[r:r+n]
		var row float32
		for j, v := range pr {
			e := v - yr[j]
			dr[j] = e * scale
			row += e * e
		}
		loss += float64(row)
	}
	return loss / float64(k)
}

// ColSum sets dst[j] = Σᵢ d[i·n+j], the sum over the m rows of the m×n
// matrix d: a bias gradient. It accumulates in float32, row by row. It
// does not allocate.
func ColSum(dst, d []float32, m, n int) {
	dst = dst[:n]
	d = d[:m*n]
	clear(dst)
	for i := 0; i < m; i++ {
		row := d[i*n : i*n+n]
		for j, v := range row {
			dst[j] += v
		}
	}
}
