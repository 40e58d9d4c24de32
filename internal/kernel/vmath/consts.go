package vmath

import (
	"fmt"
	"strings"
)

// asmConst is a float32 constant of the assembly kernels: its bits, under
// the name the assembly reads it by (k_name<>(SB)).
type asmConst struct {
	name string
	bits uint32
	doc  string
}

// asmConsts are the constants of the vector exp, log1p and sigmoid
// kernels, this package's and package tile's sigmoid epilogues (which
// compute this package's sigmoid): the one table both packages'
// consts_amd64.h are generated from (TestGoldenAsmConsts, go generate).
// The pure-Go fallback (package kernel's fastmath.go) writes the same
// values as literals.
var asmConsts = []asmConst{
	{"absmask", 0x7fffffff, "|x|: every bit but the sign"},
	{"sign", 0x80000000, "the sign bit: x | sign = −|x|"},
	{"lim", 0x42ae0000, "87: the largest |z| the vector loops take"},
	{"log2e", 0x3fb8aa3b, "log₂ e"},
	{"ln2hi", 0x3f318000, "ln 2, high part (Cephes's expf range reduction)"},
	{"ln2lo", 0xb95e8083, "ln 2, low part"},
	{"e0", 0x39506967, "expf's polynomial (Cephes), highest degree first"},
	{"e1", 0x3ab743ce, ""},
	{"e2", 0x3c088908, ""},
	{"e3", 0x3d2aa9c1, ""},
	{"e4", 0x3e2aaaaa, ""},
	{"e5", 0x3f000000, ""},
	{"one", 0x3f800000, "1"},
	{"bias127", 0x0000007f, "127, the float32 exponent bias (an integer)"},
	{"half", 0x3f000000, "½"},
	{"sqrt2", 0x3fb504f3, "√2: logf halves a mantissa above it"},
	{"mant", 0x007fffff, "the float32 mantissa bits"},
	{"l0", 0x3d9021bb, "logf's polynomial (Cephes), highest degree first"},
	{"l1", 0xbdebd1b8, ""},
	{"l2", 0x3def251a, ""},
	{"l3", 0xbdfe5d4f, ""},
	{"l4", 0x3e11e9bf, ""},
	{"l5", 0xbe2aae50, ""},
	{"l6", 0x3e4cceac, ""},
	{"l7", 0xbe7ffffc, ""},
	{"l8", 0x3eaaaaaa, ""},
	{"lnlo", 0xb95e8083, "ln 2, low part, for logf's exponent term"},
	{"lnhi", 0x3f318000, "ln 2, high part"},
}

// asmConstLanes is the copies of each constant: AVX2 loads 8 as a vector,
// AVX-512 broadcasts the first.
const asmConstLanes = 8

// asmMacros are the exp (binary cross-entropy) and sigmoid macros of
// this package's AVX2 kernels; package tile's AVX2 sigmoid epilogue
// computes with the same SIGMOID and SIGMOID2, so that its bits are this
// package's: consts_amd64.h carries them to both.
const asmMacros = `// expf computes Y5 = e^Y3 for -87 ≤ Y3 ≤ 0, using Y4, Y6 and Y7; Y12 holds
// 1.0 and Y13 log2(e).
#define EXPF \
	VMULPS       Y13, Y3, Y4              \
	VROUNDPS     $0, Y4, Y4               \ // n = round(x·log2e)
	VFNMADD231PS k_ln2hi<>(SB), Y4, Y3    \
	VFNMADD231PS k_ln2lo<>(SB), Y4, Y3    \ // r = x − n·ln2
	VMOVUPS      k_e0<>(SB), Y5           \
	VFMADD213PS  k_e1<>(SB), Y3, Y5       \
	VFMADD213PS  k_e2<>(SB), Y3, Y5       \
	VFMADD213PS  k_e3<>(SB), Y3, Y5       \
	VFMADD213PS  k_e4<>(SB), Y3, Y5       \
	VFMADD213PS  k_e5<>(SB), Y3, Y5       \
	VMULPS       Y3, Y3, Y6               \
	VFMADD213PS  Y3, Y6, Y5               \ // p·r² + r
	VADDPS       Y12, Y5, Y5              \ // + 1
	VCVTPS2DQ    Y4, Y7                   \
	VPADDD       k_bias127<>(SB), Y7, Y7  \
	VPSLLD       $23, Y7, Y7              \ // 2ⁿ
	VMULPS       Y7, Y5, Y5

// EXPF2 is EXPF on two blocks of 8 at once, their instructions
// interleaved (bceLogitsAVX2's two-block loop):
// a1…a6 and b1…b6 are the blocks' registers, a1 and b1 holding |x| on
// entry, a5 and b5 e^−|x| on exit, the others clobbered; Y12 holds 1.0.
#define EXPF2(a1, a2, a3, a4, a5, a6, b1, b2, b3, b4, b5, b6) \
	VXORPS a2, a2, a2                  \
	VXORPS b2, b2, b2                  \
	VSUBPS a1, a2, a3                  \
	VSUBPS b1, b2, b3                  \
	VMULPS k_log2e<>(SB), a3, a4       \
	VMULPS k_log2e<>(SB), b3, b4       \
	VROUNDPS $0, a4, a4                \
	VROUNDPS $0, b4, b4                \
	VFNMADD231PS k_ln2hi<>(SB), a4, a3 \
	VFNMADD231PS k_ln2hi<>(SB), b4, b3 \
	VFNMADD231PS k_ln2lo<>(SB), a4, a3 \
	VFNMADD231PS k_ln2lo<>(SB), b4, b3 \
	VMOVUPS k_e0<>(SB), a5             \
	VMOVUPS k_e0<>(SB), b5             \
	VFMADD213PS k_e1<>(SB), a3, a5     \
	VFMADD213PS k_e1<>(SB), b3, b5     \
	VFMADD213PS k_e2<>(SB), a3, a5     \
	VFMADD213PS k_e2<>(SB), b3, b5     \
	VFMADD213PS k_e3<>(SB), a3, a5     \
	VFMADD213PS k_e3<>(SB), b3, b5     \
	VFMADD213PS k_e4<>(SB), a3, a5     \
	VFMADD213PS k_e4<>(SB), b3, b5     \
	VFMADD213PS k_e5<>(SB), a3, a5     \
	VFMADD213PS k_e5<>(SB), b3, b5     \
	VMULPS a3, a3, a6                  \
	VMULPS b3, b3, b6                  \
	VFMADD213PS a3, a6, a5             \
	VFMADD213PS b3, b6, b5             \
	VADDPS Y12, a5, a5                 \
	VADDPS Y12, b5, b5                 \
	VCVTPS2DQ a4, a1                   \
	VCVTPS2DQ b4, b1                   \
	VPADDD k_bias127<>(SB), a1, a1     \
	VPADDD k_bias127<>(SB), b1, b1     \
	VPSLLD $23, a1, a1                 \
	VPSLLD $23, b1, b1                 \
	VMULPS a1, a5, a5                  \
	VMULPS b1, b5, b5

// SIGMOID computes the AVX2 sigmoid of the 8 values in x into o, x
// untouched: e^−|x| with Cephes's expf (its range reduction and
// polynomial, the polynomial by Estrin's scheme, 2ⁿ applied in the last
// fused multiply-adds, which also give 1 + e^−|x|), one division, the
// sign's blend; every value in range (|x| ≤ 87: the caller checks).
// m, r2, y, n, d and w are clobbered. Package vmath's sigmoid loops and
// package tile's AVX2 sigmoid epilogue compute with it (and SIGMOID2),
// so that their bits agree.
#define SIGMOID(x, m, r2, y, n, d, w, o) \
	VORPS        k_sign<>(SB), x, m    \ // m = −|x|
	VMULPS       k_log2e<>(SB), m, n   \
	VROUNDPS     $0, n, n              \ // n = round(m·log2e)
	VFNMADD231PS k_ln2hi<>(SB), n, m   \
	VFNMADD231PS k_ln2lo<>(SB), n, m   \ // r = m − n·ln2
	VMULPS       m, m, r2              \ // r²
	VMOVUPS      k_e0<>(SB), y         \
	VFMADD213PS  k_e1<>(SB), m, y      \ // e0·r + e1
	VMOVUPS      k_e2<>(SB), d         \
	VFMADD213PS  k_e3<>(SB), m, d      \ // e2·r + e3
	VMOVUPS      k_e4<>(SB), w         \
	VFMADD213PS  k_e5<>(SB), m, w      \ // e4·r + e5
	VMULPS       r2, r2, o             \ // r⁴
	VFMADD213PS  w, r2, d              \
	VFMADD213PS  d, o, y               \ // p (Estrin)
	VFMADD213PS  m, r2, y              \ // u = p·r² + r = e^r − 1
	VCVTPS2DQ    n, n                  \
	VPADDD       k_bias127<>(SB), n, n \
	VPSLLD       $23, n, n             \ // 2ⁿ
	VADDPS       k_one<>(SB), n, d     \
	VFMADD231PS  y, n, d               \ // v = u·2ⁿ + (2ⁿ + 1) = 1 + e^m
	VFMADD213PS  n, n, y               \ // e = u·2ⁿ + 2ⁿ = e^m
	VMOVUPS      k_one<>(SB), o        \
	VDIVPS       d, o, o               \ // σ(|x|) = 1/v
	VMULPS       o, y, w               \ // σ(−|x|) = e/v
	VBLENDVPS    x, w, o, o              // x < 0 ? σ(−|x|) : σ(|x|)

// SIGMOID2 is SIGMOID on two blocks of 8 at once, their instructions
// interleaved (each block's chain of dependent operations is long): the
// a and b registers as SIGMOID's; it needs all 16.
#define SIGMOID2(ax, am, ar2, ay, an, ad, aw, ao, bx, bm, br2, by, bn, bd, bw, bo) \
	VORPS        k_sign<>(SB), ax, am    \
	VORPS        k_sign<>(SB), bx, bm    \
	VMULPS       k_log2e<>(SB), am, an   \
	VMULPS       k_log2e<>(SB), bm, bn   \
	VROUNDPS     $0, an, an              \
	VROUNDPS     $0, bn, bn              \
	VFNMADD231PS k_ln2hi<>(SB), an, am   \
	VFNMADD231PS k_ln2hi<>(SB), bn, bm   \
	VFNMADD231PS k_ln2lo<>(SB), an, am   \
	VFNMADD231PS k_ln2lo<>(SB), bn, bm   \
	VMULPS       am, am, ar2             \
	VMULPS       bm, bm, br2             \
	VMOVUPS      k_e0<>(SB), ay          \
	VMOVUPS      k_e0<>(SB), by          \
	VFMADD213PS  k_e1<>(SB), am, ay      \
	VFMADD213PS  k_e1<>(SB), bm, by      \
	VMOVUPS      k_e2<>(SB), ad          \
	VMOVUPS      k_e2<>(SB), bd          \
	VFMADD213PS  k_e3<>(SB), am, ad      \
	VFMADD213PS  k_e3<>(SB), bm, bd      \
	VMOVUPS      k_e4<>(SB), aw          \
	VMOVUPS      k_e4<>(SB), bw          \
	VFMADD213PS  k_e5<>(SB), am, aw      \
	VFMADD213PS  k_e5<>(SB), bm, bw      \
	VMULPS       ar2, ar2, ao            \
	VMULPS       br2, br2, bo            \
	VFMADD213PS  aw, ar2, ad             \
	VFMADD213PS  bw, br2, bd             \
	VFMADD213PS  ad, ao, ay              \
	VFMADD213PS  bd, bo, by              \
	VFMADD213PS  am, ar2, ay             \
	VFMADD213PS  bm, br2, by             \
	VCVTPS2DQ    an, an                  \
	VCVTPS2DQ    bn, bn                  \
	VPADDD       k_bias127<>(SB), an, an \
	VPADDD       k_bias127<>(SB), bn, bn \
	VPSLLD       $23, an, an             \
	VPSLLD       $23, bn, bn             \
	VADDPS       k_one<>(SB), an, ad     \
	VADDPS       k_one<>(SB), bn, bd     \
	VFMADD231PS  ay, an, ad              \
	VFMADD231PS  by, bn, bd              \
	VFMADD213PS  an, an, ay              \
	VFMADD213PS  bn, bn, by              \
	VMOVUPS      k_one<>(SB), ao         \
	VMOVUPS      k_one<>(SB), bo         \
	VDIVPS       ad, ao, ao              \
	VDIVPS       bd, bo, bo              \
	VMULPS       ao, ay, aw              \
	VMULPS       bo, by, bw              \
	VBLENDVPS    ax, aw, ao, ao          \
	VBLENDVPS    bx, bw, bo, bo
`

// asmConstsHeader returns consts_amd64.h: asmConsts as the assembler's
// DATA and GLOBL lines, each constant file-local (k_name<>) to the .s file
// that includes it, then asmMacros.
func asmConstsHeader() []byte {
	var b strings.Builder
	b.WriteString("// Code generated by TestGoldenAsmConsts (package vmath, go test -run GoldenAsmConsts -update); DO NOT EDIT.\n\n")
	b.WriteString("// The float32 constants of the vector exp, log1p and sigmoid kernels\n")
	b.WriteString("// (internal/kernel/vmath/consts.go), 8 copies each: AVX2 loads them as\n")
	b.WriteString("// vectors, AVX-512 broadcasts the first; then the AVX2 exp macros\n")
	b.WriteString("// (asmMacros) both packages compute with.\n")
	for _, c := range asmConsts {
		b.WriteString("\n")
		if c.doc != "" {
			fmt.Fprintf(&b, "// %s\n", c.doc)
		}
		for i := range asmConstLanes {
			fmt.Fprintf(&b, "DATA k_%s<>+%d(SB)/4, $%#x\n", c.name, 4*i, c.bits)
		}
		fmt.Fprintf(&b, "GLOBL k_%s<>(SB), RODATA|NOPTR, $%d\n", c.name, 4*asmConstLanes)
	}
	b.WriteString("\n")
	b.WriteString(asmMacros)
	return []byte(b.String())
}
