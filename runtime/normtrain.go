package runtime

// Training mode of BatchNormalization and LayerNormalization (the Trainer
// seam). Statistics are summed in float64 in a fixed order (rows in
// order for a feature, features in order for a row), so the results do
// not depend on how a caller splits other work over threads.

// CacheSize returns n·w + w: the normalised batch x̂ and each feature's
// 1/√(var + ε).
func (b *BatchNormalization) CacheSize(n, w int) int { return n*w + w }

// bnBlock is the number of features BatchNormalization's training passes
// handle together: one 64-byte cache line of float32 per row, so that a
// pass down the rows reads whole lines (one feature at a time, rows w·4
// bytes apart, thrashed the L1 cache: 4 times slower at w = 128).
const bnBlock = 16

// ForwardTrain normalises the n rows of x into y with the batch's mean
// and biased variance, as Keras's training mode does (tf.nn.moments and
// tf.nn.batch_normalization: y = x·inv + (β − mean·inv), inv =
// γ/√(var + ε)), and moves the moving statistics toward them:
// moving = moving·momentum + batch·(1 − momentum), with the biased batch
// variance, as Keras 3 does. Each feature's sums run over the rows in
// order, in float64. It allocates nothing.
func (b *BatchNormalization) ForwardTrain(y, x []float32, n, w int, cache []float32) {
	xh, invs := cache[:n*w], cache[n*w:n*w+w]
	mom := float32(b.Momentum)
	rest := float32(1 - b.Momentum)
	for j0 := 0; j0 < w; j0 += bnBlock {
		j1 := min(j0+bnBlock, w)
		var s, ss, mean [bnBlock]float64
		var sc, off [bnBlock]float32
		for r := 0; r < n; r++ {
			for c, v := range x[r*w+j0 : r*w+j1] {
				s[c] += float64(v)
			}
		}
		for c := range j1 - j0 {
			mean[c] = s[c] / float64(n)
		}
		for r := 0; r < n; r++ {
			for c, v := range x[r*w+j0 : r*w+j1] {
				d := float64(v) - mean[c]
				ss[c] += d * d
			}
		}
		for c := range j1 - j0 {
			j := j0 + c
			m32, v32 := float32(mean[c]), float32(ss[c]/float64(n))
			inv := rsqrt(v32 + b.Epsilon)
			invs[j] = inv
			sc[c] = inv
			if b.Gamma != nil {
				sc[c] *= b.Gamma[j]
			}
			off[c] = -m32 * sc[c]
			if b.Beta != nil {
				off[c] += b.Beta[j]
			}
			b.MovingMean[j] = float32(b.MovingMean[j]*mom) + float32(m32*rest)
			b.MovingVariance[j] = float32(b.MovingVariance[j]*mom) + float32(v32*rest)
		}
		for r := 0; r < n; r++ {
			o := r*w + j0
			yr, hr := y[o:o+j1-j0], xh[o:o+j1-j0]
			for c, v := range x[o : o+j1-j0] {
				yr[c] = float32(v*sc[c]) + off[c]
				hr[c] = float32((float64(v) - mean[c]) * float64(invs[j0+c]))
			}
		}
	}
}

// Backward sets dx (unless nil) from dy through the batch statistics
// and adds the gradients of gamma and beta (those that exist, in the
// order of Params) to grads. It allocates nothing.
func (b *BatchNormalization) Backward(dx, dy []float32, n, w int, cache []float32, grads [][]float32) {
	xh, invs := cache[:n*w], cache[n*w:n*w+w]
	for j0 := 0; j0 < w; j0 += bnBlock {
		j1 := min(j0+bnBlock, w)
		var sg, sb, k [bnBlock]float64 // Σ dy·x̂, Σ dy, γ·inv/n
		for r := 0; r < n; r++ {
			o := r*w + j0
			hr := xh[o : o+j1-j0]
			for c, v := range dy[o : o+j1-j0] {
				g := float64(v)
				sb[c] += g
				sg[c] += g * float64(hr[c])
			}
		}
		for c := range j1 - j0 {
			j := j0 + c
			p := 0
			gam := float64(1)
			if b.Gamma != nil {
				grads[p][j] += float32(sg[c])
				gam = float64(b.Gamma[j])
				p++
			}
			if b.Beta != nil {
				grads[p][j] += float32(sb[c])
			}
			k[c] = gam * float64(invs[j]) / float64(n)
		}
		if dx == nil {
			continue
		}
		// dx = γ·inv/n·(n·dy − Σdy − x̂·Σdy·x̂)
		for r := 0; r < n; r++ {
			o := r*w + j0
			hr, dr := xh[o:o+j1-j0], dx[o:o+j1-j0]
			for c, v := range dy[o : o+j1-j0] {
				dr[c] = float32(k[c] * (float64(n)*float64(v) - sb[c] - float64(hr[c])*sg[c]))
			}
		}
	}
}

// CacheSize returns n·w + n: the normalised rows x̂ and each row's
// 1/√(var + ε).
func (l *LayerNormalization) CacheSize(n, w int) int { return n*w + n }

// ForwardTrain is Forward from x into y, keeping what Backward needs;
// LayerNormalization has no state to update. It allocates nothing.
func (l *LayerNormalization) ForwardTrain(y, x []float32, n, w int, cache []float32) {
	xh, invs := cache[:n*w], cache[n*w:n*w+n]
	for r := 0; r < n; r++ {
		row, out, h := x[r*w:(r+1)*w], y[r*w:(r+1)*w], xh[r*w:(r+1)*w]
		mean, inv := l.stats(row)
		invs[r] = float32(inv)
		for j, v := range row {
			z := (float64(v) - mean) * inv
			h[j] = float32(z)
			if l.Gamma != nil {
				z *= float64(l.Gamma[j])
			}
			if l.Beta != nil {
				z += float64(l.Beta[j])
			}
			out[j] = float32(z)
		}
	}
}

// Backward sets dx (unless nil) from dy, row by row, and adds the
// gradients of gamma and beta (those that exist, in the order of Params)
// to grads, summing over the rows in order. It allocates nothing.
func (l *LayerNormalization) Backward(dx, dy []float32, n, w int, cache []float32, grads [][]float32) {
	xh, invs := cache[:n*w], cache[n*w:n*w+n]
	var gg, gb []float32
	k := 0
	if l.Gamma != nil {
		gg = grads[k]
		k++
	}
	if l.Beta != nil {
		gb = grads[k]
	}
	for r := 0; r < n; r++ {
		g, h := dy[r*w:(r+1)*w], xh[r*w:(r+1)*w]
		var sd, sdh float64 // Σ dx̂, Σ dx̂·x̂
		for j, v := range g {
			if gg != nil {
				gg[j] += v * h[j]
			}
			if gb != nil {
				gb[j] += v
			}
			d := float64(v)
			if l.Gamma != nil {
				d *= float64(l.Gamma[j])
			}
			sd += d
			sdh += d * float64(h[j])
		}
		if dx == nil {
			continue
		}
		c := float64(invs[r]) / float64(w)
		out := dx[r*w : (r+1)*w]
		for j, v := range g {
			d := float64(v)
			if l.Gamma != nil {
				d *= float64(l.Gamma[j])
			}
			out[j] = float32(c * (float64(w)*d - sd - float64(h[j])*sdh))
		}
	}
}

var (
	_ Trainer = (*BatchNormalization)(nil)
	_ Trainer = (*LayerNormalization)(nil)
)
