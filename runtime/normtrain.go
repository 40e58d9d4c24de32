package runtime

// Training mode of BatchNormalization and LayerNormalization (the Trainer
// seam). Statistics are summed in float64 in a fixed order (rows in
// order for a feature, features in order for a row), so the results do
// not depend on how a caller splits other work over threads.

// CacheSize returns n·w + w: the normalised batch x̂ and each feature's
// 1/√(var + ε).
func (b *BatchNormalization) CacheSize(n, w int) int { return n*w + w }

// ForwardTrain normalises the n rows of x into y with the batch's mean
// and biased variance, as Keras's training mode does (tf.nn.moments and
// tf.nn.batch_normalization: y = x·inv + (β − mean·inv), inv =
// γ/√(var + ε)), and moves the moving statistics toward them:
// moving = moving·momentum + batch·(1 − momentum), with the biased batch
// variance, as Keras 3 does. It allocates nothing.
func (b *BatchNormalization) ForwardTrain(y, x []float32, n, w int, cache []float32) {
	xh, invs := cache[:n*w], cache[n*w:n*w+w]
	mom := float32(b.Momentum)
	rest := float32(1 - b.Momentum)
	for j := 0; j < w; j++ {
		var s float64
		for r := 0; r < n; r++ {
			s += float64(x[r*w+j])
		}
		mean := s / float64(n)
		var ss float64
		for r := 0; r < n; r++ {
			d := float64(x[r*w+j]) - mean
			ss += d * d
		}
		m32, v32 := float32(mean), float32(ss/float64(n))
		inv := rsqrt(v32 + b.Epsilon)
		invs[j] = inv
		sc := inv
		if b.Gamma != nil {
			sc *= b.Gamma[j]
		}
		off := -m32 * sc
		if b.Beta != nil {
			off += b.Beta[j]
		}
		for r := 0; r < n; r++ {
			v := x[r*w+j]
			y[r*w+j] = float32(v*sc) + off
			xh[r*w+j] = float32((float64(v) - mean) * float64(inv))
		}
		b.MovingMean[j] = float32(b.MovingMean[j]*mom) + float32(m32*rest)
		b.MovingVariance[j] = float32(b.MovingVariance[j]*mom) + float32(v32*rest)
	}
}

// Backward sets dx (unless nil) from dy through the batch statistics
// and adds the gradients of gamma and beta (those that exist, in the
// order of Params) to grads. It allocates nothing.
func (b *BatchNormalization) Backward(dx, dy []float32, n, w int, cache []float32, grads [][]float32) {
	xh, invs := cache[:n*w], cache[n*w:n*w+w]
	for j := 0; j < w; j++ {
		var sg, sb float64 // Σ dy·x̂, Σ dy
		for r := 0; r < n; r++ {
			g := float64(dy[r*w+j])
			sb += g
			sg += g * float64(xh[r*w+j])
		}
		k := 0
		gam := float64(1)
		if b.Gamma != nil {
			grads[k][j] += float32(sg)
			gam = float64(b.Gamma[j])
			k++
		}
		if b.Beta != nil {
			grads[k][j] += float32(sb)
		}
		if dx == nil {
			continue
		}
		// dx = γ·inv/n·(n·dy − Σdy − x̂·Σdy·x̂)
		c := gam * float64(invs[j]) / float64(n)
		for r := 0; r < n; r++ {
			dx[r*w+j] = float32(c * (float64(n)*float64(dy[r*w+j]) - sb - float64(xh[r*w+j])*sg))
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
