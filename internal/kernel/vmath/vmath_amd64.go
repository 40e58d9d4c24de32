//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// available is set once from CPUID.
var available = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Available reports whether the assembly kernels run here: on amd64 CPUs
// with AVX2 and FMA, in builds without the purego tag.
func Available() bool { return available }

// Name names the kernels: "avx2+fma", or why they are not used.
func Name() string {
	if available {
		return "avx2+fma"
	}
	return "pure Go (CPU lacks AVX2 or FMA)"
}

// SigmoidBias sets dst[i] = σ(dst[i] + bias[i]), or σ(dst[i]) when bias is
// empty, in blocks of 8 values, and returns how many values it did: up to
// the last whole block, or up to the first block holding a value x with
// |x| > 87 or NaN (after adding the bias), which it leaves untouched. A
// non-empty bias must be at least as long as dst. It returns 0 when
// Available is false.
func SigmoidBias(dst, bias []float32) int {
	if !available {
		return 0
	}
	if len(bias) != 0 && len(bias) < len(dst) {
		panic("vmath: short bias")
	}
	return sigmoidBiasAVX2(dst, bias)
}

// BCELogits computes binary cross-entropy on logits z against targets y in
// blocks of 8 values, with the stopping rule of SigmoidBias: for each value
// it writes dz[i] = (σ(z[i]) − y[i])·scale (unless dz is empty) and adds
// max(z, 0) − z·y + log1p(e^−|z|) to a float64 sum. It returns the number
// of values done and the sum of their terms. y, and dz when not empty,
// must be at least as long as z. It returns 0, 0 when Available is false.
func BCELogits(dz, z, y []float32, scale float32) (n int, loss float64) {
	if !available {
		return 0, 0
	}
	if len(y) < len(z) || (len(dz) != 0 && len(dz) < len(z)) {
		panic("vmath: short dz or y")
	}
	return bceLogitsAVX2(dz, z, y, scale)
}

//go:noescape
func sigmoidBiasAVX2(dst, bias []float32) int

//go:noescape
func bceLogitsAVX2(dz, z, y []float32, scale float32) (n int, loss float64)
