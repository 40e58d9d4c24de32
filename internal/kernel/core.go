package kernel

import (
	"strings"

	"golang.org/x/sys/cpu"
)

// PreferredCore returns the OpenBLAS core type this CPU runs best, spelled
// as OpenBLAS's openblas_get_corename spells it: "SkylakeX" on x86-64 CPUs
// with AVX-512 F, CD, BW, DQ and VL, "Haswell" on ones with AVX2 and FMA,
// and "" on others (OpenBLAS's own detection then decides). The OpenBLAS
// build loads the library with OPENBLAS_CORETYPE set to this value unless
// the environment already sets OPENBLAS_CORETYPE, which is honoured. It
// depends on the CPU (and the operating system's support for its vector
// registers) only, not on the build tags or the environment.
func PreferredCore() string {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512CD && cpu.X86.HasAVX512BW &&
		cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL:
		return "SkylakeX"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return "Haswell"
	}
	return ""
}

// avx512Cores are the OpenBLAS core types with AVX-512 kernels. Only they
// have OpenBLAS's small-matrix (and "direct") sgemm kernels for x86-64,
// which make a one-row sgemm as fast as sgemv or faster; on every other
// core a one-row sgemm goes through the packing of a large product and is
// 2.5–6× slower than sgemv (see the package documentation).
var avx512Cores = []string{"SkylakeX", "Cooperlake", "SapphireRapids"}

// hasSmallSgemm reports whether the OpenBLAS core type named core (any
// case, as openblas_get_corename or OPENBLAS_CORETYPE spell it) is one of
// avx512Cores.
func hasSmallSgemm(core string) bool {
	for _, c := range avx512Cores {
		if strings.EqualFold(core, c) {
			return true
		}
	}
	return false
}
