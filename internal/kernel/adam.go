package kernel

import "github.com/aekit/aekit/internal/kernel/vmath"

// AdamBlocks does Keras's Adam step (without AMSGrad) on the leading
// values of w, m and v from the gradient g, with the vector kernels where
// the CPU has them (see VectorMath): alpha is the step's rate, c1 = 1−β1,
// c2 = 1−β2, and every operation is rounded to float32, in the order
//
//	m ← m + (g − m)·c1
//	v ← v + (g·g − v)·c2
//	w ← w − (m·α)/(√v + ε)
//
// bit for bit as a Go loop computes it (no fused multiply-add). It returns
// how many leading values it did: it stops before the first block (of 8
// or 16) holding a value x of g, m or v with 0 < |x| < lim, lim being the
// float32 whose bits are gLim, mLim or vLim (the caller's exact path takes
// those; with AVX-512 it does the weights of dead units itself, bit for
// bit as that path: see vmath.Adam), before a tail shorter than a block, and at once (returning 0)
// without vector kernels. The caller does the rest. g, m and v must be at
// least as long as w. It does not allocate.
func AdamBlocks(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int {
	if !useVec || len(w) == 0 {
		return 0
	}
	return vmath.Adam(w, g[:len(w)], m[:len(w)], v[:len(w)], alpha, c1, c2, eps, gLim, mLim, vLim)
}
