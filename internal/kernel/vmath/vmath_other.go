//go:build !amd64 || purego

package vmath

// Available reports whether the assembly kernels run here: never in this
// build (the purego tag, or not amd64).
func Available() bool { return false }

// AVX512 reports false: no assembly kernels in this build.
func AVX512() bool { return false }

// AVX2 reports false: no assembly kernels in this build.
func AVX2() bool { return false }

// SigmoidBiasAVX2 does nothing in this build and returns 0.
func SigmoidBiasAVX2(dst, bias []float32) int { return 0 }

// Name says why the kernels are not used.
func Name() string { return "pure Go (built with purego or not amd64)" }

// SigmoidBias does nothing in this build and returns 0.
func SigmoidBias(dst, bias []float32) int { return 0 }

// ReLUBias does nothing in this build and returns 0.
func ReLUBias(dst, bias []float32) int { return 0 }

// AddBias does nothing in this build and returns 0.
func AddBias(dst, bias []float32) int { return 0 }

// BCELogits does nothing in this build and returns 0, 0.
func BCELogits(dz, z, y []float32, scale float32) (n int, loss float64) { return 0, 0 }

// Adam does nothing in this build and returns 0.
func Adam(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int {
	return 0
}

// ReLUGrad does nothing in this build and returns 0.
func ReLUGrad(d, z []float32) int { return 0 }

// SigmoidGrad does nothing in this build and returns 0.
func SigmoidGrad(d, y []float32) int { return 0 }
