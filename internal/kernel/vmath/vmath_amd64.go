//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// Instruction-set levels of the kernels.
const (
	levelNone   = iota // pure Go in the callers
	levelAVX2          // AVX2 and FMA, 8 lanes, whole blocks only
	levelAVX512        // AVX-512 F, 16 lanes, masked tail
)

// level is the best level this CPU runs, set once from CPUID (x/sys/cpu
// also checks that the OS saves the vector registers). The package's tests
// lower it to check each level.
var level = detect()

func detect() int {
	switch {
	case cpu.X86.HasAVX512F:
		return levelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return levelAVX2
	}
	return levelNone
}

// Available reports whether the assembly kernels run here: on amd64 CPUs
// with AVX-512 F, or AVX2 and FMA, in builds without the purego tag.
func Available() bool { return level != levelNone }

// AVX512 reports whether the kernels in use are the AVX-512 ones, whose
// sigmoid the packed GEMM's AVX-512 epilogue computes bit for bit.
func AVX512() bool { return level == levelAVX512 }

// AVX2 reports whether the kernels in use are the AVX2+FMA ones, whose
// sigmoid the packed GEMM's AVX2 epilogue computes bit for bit.
func AVX2() bool { return level == levelAVX2 }

// SigmoidBiasAVX2 is SigmoidBias with the AVX2+FMA kernel whatever the
// level in use: for tests of code that must match that kernel bit for bit
// on CPUs that also run AVX-512 (package kernel's packed GEMM epilogue).
// It returns 0 on CPUs without AVX2 and FMA.
func SigmoidBiasAVX2(dst, bias []float32) int {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return 0
	}
	if len(bias) != 0 && len(bias) < len(dst) {
		panic("vmath: short bias")
	}
	return sigmoidAVX2(dst, bias)
}

// sigmoidAVX2 is sigmoidBiasAVX2 followed by the tail of fewer than 8
// values it leaves: computed by the same kernel in a copy padded with
// zeros, so that every value gets the same instructions (and bits) as a
// block of 8 would give it, as the packed GEMM's AVX2 epilogue does (a
// masked load, the others read as 0).
func sigmoidAVX2(dst, bias []float32) int {
	n := sigmoidBiasAVX2(dst, bias)
	if n == len(dst) || n != len(dst)&^7 {
		return n // all done, or stopped before a block out of range
	}
	var x, b [8]float32
	t := copy(x[:], dst[n:])
	var bs []float32
	if len(bias) != 0 {
		copy(b[:], bias[n:len(dst)])
		bs = b[:]
	}
	if sigmoidBiasAVX2(x[:], bs) == 0 {
		return n // a tail value out of range: the caller's
	}
	copy(dst[n:], x[:t])
	return len(dst)
}

// Name names the kernels in use: "avx512f", "avx2+fma", or why none.
func Name() string {
	switch level {
	case levelAVX512:
		return "avx512f"
	case levelAVX2:
		return "avx2+fma"
	}
	return "pure Go (CPU lacks AVX-512 F and AVX2+FMA)"
}

// SigmoidBias sets dst[i] = σ(dst[i] + bias[i]), or σ(dst[i]) when bias is
// empty, and returns how many leading values it did. It stops before the
// first block (of 8 or 16 values, or the tail of fewer) holding a value x
// with |x| > 87 or NaN after adding the bias, which it leaves untouched;
// the caller finishes what is left. A non-empty bias must be at least as
// long as dst. It returns 0 when Available is false.
func SigmoidBias(dst, bias []float32) int {
	if len(bias) != 0 && len(bias) < len(dst) {
		panic("vmath: short bias")
	}
	switch level {
	case levelAVX512:
		return sigmoidBiasAVX512(dst, bias)
	case levelAVX2:
		return sigmoidAVX2(dst, bias)
	}
	return 0
}

// ReLUBias sets dst[i] = max(dst[i] + bias[i], 0), or max(dst[i], 0) when
// bias is empty, keeping NaN, and returns how many leading values it did:
// all of them with AVX-512, all but a tail of fewer than 8 with AVX2, none
// when Available is false. A non-empty bias must be at least as long as
// dst.
func ReLUBias(dst, bias []float32) int {
	if len(bias) != 0 && len(bias) < len(dst) {
		panic("vmath: short bias")
	}
	switch level {
	case levelAVX512:
		return reluBiasAVX512(dst, bias)
	case levelAVX2:
		return reluBiasAVX2(dst, bias)
	}
	return 0
}

// AddBias sets dst[i] += bias[i] and returns how many leading values it
// did: all of them with AVX-512, all but a tail of fewer than 8 with AVX2,
// none when Available is false. bias must be at least as long as dst.
func AddBias(dst, bias []float32) int {
	if len(bias) < len(dst) {
		panic("vmath: short bias")
	}
	switch level {
	case levelAVX512:
		return addBiasAVX512(dst, bias)
	case levelAVX2:
		return addBiasAVX2(dst, bias)
	}
	return 0
}

// BCELogits computes binary cross-entropy on logits z against targets y
// with the stopping rule of SigmoidBias: for each value it writes
// dz[i] = (σ(z[i]) − y[i])·scale (unless dz is empty) and adds
// max(z, 0) − z·y + log1p(e^−|z|) to a float64 sum. It returns the number
// of leading values done and the sum of their terms. y, and dz when not
// empty, must be at least as long as z. It returns 0, 0 when Available is
// false.
func BCELogits(dz, z, y []float32, scale float32) (n int, loss float64) {
	if len(y) < len(z) || (len(dz) != 0 && len(dz) < len(z)) {
		panic("vmath: short dz or y")
	}
	switch level {
	case levelAVX512:
		return bceLogitsAVX512(dz, z, y, scale)
	case levelAVX2:
		return bceLogitsAVX2(dz, z, y, scale)
	}
	return 0, 0
}

// Adam does Keras's Adam step (without AMSGrad) on w, m and v from the
// gradient g, with alpha the step's rate and c1 = 1−β1, c2 = 1−β2, in
// float32 with every operation rounded, in the order
//
//	m ← m + (g − m)·c1
//	v ← v + (g·g − v)·c2
//	w ← w − (m·α)/(√v + ε)
//
// bit for bit as a Go loop computes it (no fused multiply-add). It returns
// how many leading values it did, stopping before the first block (of 8 or
// 16) that holds a value x of g, m or v with 0 < |x| < lim, where lim is
// the float32 with bits gLim, mLim or vLim (these take the caller's exact
// path), and with AVX2 before a tail of fewer than 8 values. With AVX-512
// it does not stop for a dead unit's weight: g = ±0, w ≠ 0, v finite and
// not below its bound, m subnormal, and m's new value times α rounding to
// zero, where the caller's exact path (train's deadMoment) leaves w
// unchanged, sets m to m − m·c1 computed on its integer units (ties to
// even) and v as usual; it computes the same bits. g, m and v
// must be at least as long as w. It returns 0 when Available is false.
func Adam(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int {
	if len(g) < len(w) || len(m) < len(w) || len(v) < len(w) {
		panic("vmath: short g, m or v")
	}
	switch level {
	case levelAVX512:
		return adamAVX512(w, g, m, v, alpha, c1, c2, eps, gLim, mLim, vLim)
	case levelAVX2:
		return adamAVX2(w, g, m, v, alpha, c1, c2, eps, gLim, mLim, vLim)
	}
	return 0
}

// ReLUGrad sets d[i] *= g with g = 1 where z[i] > 0 and 0 elsewhere (NaN
// included), the gradient of a plain ReLU, bit for bit as a Go loop
// computes it, and returns how many leading values it did: all of them
// with AVX-512, all but a tail of fewer than 8 with AVX2, none when
// Available is false. z must be at least as long as d.
func ReLUGrad(d, z []float32) int {
	if len(z) < len(d) {
		panic("vmath: short z")
	}
	switch level {
	case levelAVX512:
		return reluGradAVX512(d, z)
	case levelAVX2:
		return reluGradAVX2(d, z)
	}
	return 0
}

// SigmoidGrad sets d[i] *= y[i]·(1 − y[i]), the gradient of a sigmoid
// through its output y, bit for bit as the Go loop
//
//	for i, v := range y { d[i] *= v * (1 - v) }
//
// computes it (no fused multiply-add; NaN payloads as that loop's), and
// returns how many leading values it did: all but a tail of fewer than 8,
// with the AVX2 kernel at either level (there is no AVX-512 one), none
// when Available is false. y must be at least as long as d.
func SigmoidGrad(d, y []float32) int {
	if len(y) < len(d) {
		panic("vmath: short y")
	}
	if level == levelNone {
		return 0
	}
	return sigmoidGradAVX2(d, y)
}

//go:noescape
func reluGradAVX2(d, z []float32) int

//go:noescape
func sigmoidGradAVX2(d, y []float32) int

//go:noescape
func reluGradAVX512(d, z []float32) int

//go:noescape
func adamAVX2(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int

//go:noescape
func adamAVX512(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int

//go:noescape
func sigmoidBiasAVX2(dst, bias []float32) int

//go:noescape
func reluBiasAVX2(dst, bias []float32) int

//go:noescape
func bceLogitsAVX2(dz, z, y []float32, scale float32) (n int, loss float64)

//go:noescape
func addBiasAVX2(dst, bias []float32) int

//go:noescape
func addBiasAVX512(dst, bias []float32) int

//go:noescape
func sigmoidBiasAVX512(dst, bias []float32) int

//go:noescape
func reluBiasAVX512(dst, bias []float32) int

//go:noescape
func bceLogitsAVX512(dz, z, y []float32, scale float32) (n int, loss float64)
