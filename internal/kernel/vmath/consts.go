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
	{"sign", 0x80000000, "the sign bit: x ^ sign = −x"},
	{"lim", 0x42ae0000, "87: the largest |z| the vector loops take"},
	{"log2e", 0x3fb8aa3b, "log₂ e"},
	{"ln2hi", 0x3f318000, "ln 2, high part (Cephes's expf range reduction)"},
	{"ln2lo", 0xb95e8083, "ln 2, low part"},
	{"e0", 0x39506967, "expf's polynomial (Cephes; the binary cross-entropy's exp), highest degree first"},
	{"e1", 0x3ab743ce, ""},
	{"e2", 0x3c088908, ""},
	{"e3", 0x3d2aa9c1, ""},
	{"e4", 0x3e2aaaaa, ""},
	{"e5", 0x3f000000, ""},
	{"magic", 0x4b40007f, "1.5·2²³ + 127: t = x + magic rounds x to an integer n, t − magic is n, t's bits << 23 are 2ⁿ"},
	{"p0", 0x3efffffe, "the sigmoid's polynomial P(r) for e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2: minimax for e^r's relative error (3.6e-9 with these float32 coefficients), lowest degree first"},
	{"p1", 0x3e2aaa49, ""},
	{"p2", 0x3d2aac79, ""},
	{"p3", 0x3c091d10, ""},
	{"p4", 0x3ab511e7, ""},
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

// expMacros are the exp macros of the binary cross-entropy's AVX2 loops.
const expMacros = `// expf computes Y5 = e^Y3 for -87 ≤ Y3 ≤ 0, using Y4, Y6 and Y7; Y12 holds
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
`

// sigmoidSteps are the instructions of the AVX2 sigmoid, SIGMOID, on the
// registers named x, m, r2, y, n, d and o, each with its comment:
// σ(x) = 1/(1 + e⁻ˣ) for |x| ≤ 87 (e⁻ˣ ≤ e⁸⁷ stays finite, σ normal),
// e⁻ˣ = 2ⁿ·e^r with n = round(−x·log₂e) by the magic-number addition and
// r = −x − n·ln2 with Cephes's two-part ln2, e^r − 1 = r + r²·P(r) by
// Estrin's scheme, 2ⁿ applied in the fused multiply-add that gives
// 1 + e⁻ˣ; then one division. Within 1.8e-7 relative of σ on [−87, 87]
// (TestSigmoidBias's sweep).
var sigmoidSteps = [][2]string{
	{"VXORPS       k_sign<>(SB), x, m", "m = −x"},
	{"VMOVUPS      k_magic<>(SB), n", ""},
	{"VFMADD231PS  k_log2e<>(SB), m, n", "t = m·log₂e + magic"},
	{"VSUBPS       k_magic<>(SB), n, r2", "n = round(m·log₂e)"},
	{"VFNMADD231PS k_ln2hi<>(SB), r2, m", ""},
	{"VFNMADD231PS k_ln2lo<>(SB), r2, m", "r = m − n·ln2"},
	{"VPSLLD       $23, n, n", "2ⁿ"},
	{"VMULPS       m, m, r2", "r²"},
	{"VMOVUPS      k_p1<>(SB), y", ""},
	{"VFMADD213PS  k_p0<>(SB), m, y", "p1·r + p0"},
	{"VMOVUPS      k_p3<>(SB), d", ""},
	{"VFMADD213PS  k_p2<>(SB), m, d", "p3·r + p2"},
	{"VFMADD231PS  k_p4<>(SB), r2, d", "+ p4·r²"},
	{"VFMADD231PS  r2, d, y", "P(r)"},
	{"VFMADD213PS  m, r2, y", "u = r²·P + r = e^r − 1"},
	{"VADDPS       k_one<>(SB), n, d", ""},
	{"VFMADD231PS  y, n, d", "v = u·2ⁿ + (2ⁿ + 1) = 1 + e^m"},
	{"VMOVUPS      k_one<>(SB), o", ""},
	{"VDIVPS       d, o, o", "σ(x) = 1/v"},
}

// sigmoidRegs are the register names of sigmoidSteps, in SIGMOID's
// parameter order.
var sigmoidRegs = []string{"x", "m", "r2", "y", "n", "d", "o"}

// sigmoidMacros returns SIGMOID and SIGMOID2, the latter the former's
// instructions on two blocks, interleaved (each block's chain of
// dependent operations is long), so the same bits for each block.
func sigmoidMacros() string {
	var b strings.Builder
	regs := func(prefix string) map[string]string {
		m := map[string]string{}
		for _, r := range sigmoidRegs {
			m[r] = prefix + r
		}
		return m
	}
	subst := func(ins string, to map[string]string) string {
		op, args, _ := strings.Cut(ins, " ")
		fields := strings.Split(args, ",")
		for i, f := range fields {
			f = strings.TrimSpace(f)
			if r, ok := to[f]; ok {
				f = r
			}
			fields[i] = f
		}
		return fmt.Sprintf("%-12s %s", op, strings.Join(fields, ", "))
	}
	line := func(text, comment string, last bool) {
		fmt.Fprintf(&b, "\t%-36s", text)
		if !last {
			b.WriteString(" \\")
		}
		if comment != "" {
			fmt.Fprintf(&b, " // %s", comment)
		}
		b.WriteString("\n")
	}
	b.WriteString("// SIGMOID computes the AVX2 sigmoid of the 8 values in x into o, x\n")
	b.WriteString("// untouched, every value in range (|x| ≤ 87: the caller checks); m, r2,\n")
	b.WriteString("// y, n and d are clobbered. Package vmath's sigmoid loops and package\n")
	b.WriteString("// tile's AVX2 sigmoid epilogue compute with it (and SIGMOID2), so that\n")
	b.WriteString("// their bits agree. Generated from sigmoidSteps (consts.go).\n")
	fmt.Fprintf(&b, "#define SIGMOID(%s) \\\n", strings.Join(sigmoidRegs, ", "))
	for i, st := range sigmoidSteps {
		line(st[0], st[1], i == len(sigmoidSteps)-1)
	}
	b.WriteString("\n// SIGMOID2 is SIGMOID on two blocks of 8 at once, their instructions\n")
	b.WriteString("// interleaved: the a and b registers as SIGMOID's.\n")
	var params []string
	for _, p := range []string{"a", "b"} {
		for _, r := range sigmoidRegs {
			params = append(params, p+r)
		}
	}
	fmt.Fprintf(&b, "#define SIGMOID2(%s) \\\n", strings.Join(params, ", "))
	a, bb := regs("a"), regs("b")
	for i, st := range sigmoidSteps {
		line(subst(st[0], a), "", false)
		line(subst(st[0], bb), "", i == len(sigmoidSteps)-1)
	}
	return b.String()
}

// asmConstsHeader returns consts_amd64.h: asmConsts as the assembler's
// DATA and GLOBL lines, each constant file-local (k_name<>) to the .s file
// that includes it, then the exp macros of the binary cross-entropy
// (expMacros) and the sigmoid's (sigmoidMacros), which package tile's AVX2
// sigmoid epilogue computes with too, so that its bits are this package's.
func asmConstsHeader() []byte {
	var b strings.Builder
	b.WriteString("// Code generated by TestGoldenAsmConsts (package vmath, go test -run GoldenAsmConsts -update); DO NOT EDIT.\n\n")
	b.WriteString("// The float32 constants of the vector exp, log1p and sigmoid kernels\n")
	b.WriteString("// (internal/kernel/vmath/consts.go), 8 copies each: AVX2 loads them as\n")
	b.WriteString("// vectors, AVX-512 broadcasts the first; then the AVX2 exp macros\n")
	b.WriteString("// (expMacros, sigmoidMacros) both packages compute with.\n")
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
	b.WriteString(expMacros)
	b.WriteString("\n")
	b.WriteString(sigmoidMacros())
	return []byte(b.String())
}
