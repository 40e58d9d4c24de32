package vmath

import (
	"fmt"
	"slices"
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
// The pure-Go fallback (package kernel's fastmath.go) writes Cephes's
// polynomials (e0…e5, l0…l8) as literals.
var asmConsts = []asmConst{
	{"absmask", 0x7fffffff, "|x|: every bit but the sign"},
	{"lim", 0x42ae0000, "87: the largest |z| the vector loops take"},
	{"log2e", 0x3fb8aa3b, "log₂ e"},
	{"nlog2e", 0xbfb8aa3b, "−log₂ e"},
	{"ln2hi", 0x3f318000, "ln 2, high part (Cephes's expf range reduction; expNegSteps's too)"},
	{"ln2lo", 0xb95e8083, "ln 2, low part"},
	{"e0", 0x39506967, "Cephes expf's polynomial (the AVX-512 kernels' exp), highest degree first"},
	{"e1", 0x3ab743ce, ""},
	{"e2", 0x3c088908, ""},
	{"e3", 0x3d2aa9c1, ""},
	{"e4", 0x3e2aaaaa, ""},
	{"e5", 0x3f000000, ""},
	{"magic", 0x4b40007f, "1.5·2²³ + 127: t = x + magic rounds x to an integer n, t − magic is n, t's bits << 23 are 2ⁿ"},
	{"p0", 0x3efffffe, "the sigmoid's polynomial P(r) for e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2: minimax for e^r's relative error (3.6e-9 with these float32 coefficients), lowest degree first, the odd ones stored negated (p1n, p3n)"},
	{"p1n", 0xbe2aaa49, "−p1 (expNegSteps evaluate P at −r)"},
	{"p2", 0x3d2aac79, ""},
	{"p3n", 0xbc091d10, "−p3"},
	{"p4", 0x3ab511e7, ""},
	{"one", 0x3f800000, "1"},
	{"half", 0x3f000000, "½"},
	{"sqrt2", 0x3fb504f3, "√2: logf halves a mantissa above it (AVX-512)"},
	{"s21", 0x3ed413cd, "√2 − 1: the AVX2 log1p(e) halves 1 + e above √2"},
	{"ln2", 0x3f317218, "ln 2 rounded to float32"},
	{"l0", 0x3d9021bb, "logf's polynomial (Cephes), highest degree first"},
	{"l1", 0xbdebd1b8, ""},
	{"l2", 0x3def251a, ""},
	{"l3", 0xbdfe5d4f, ""},
	{"l4", 0x3e11e9bf, ""},
	{"l5", 0xbe2aae50, ""},
	{"l6", 0x3e4cceac, ""},
	{"l7", 0xbe7ffffc, ""},
	{"l8", 0x3eaaaaaa, ""},
	{"lnlo", 0xb95e8083, "ln 2, low part, for logf's exponent term (AVX-512)"},
	{"lnhi", 0x3f318000, "ln 2, high part"},
}

// asmConstLanes is the copies of each constant: AVX2 loads 8 as a vector,
// AVX-512 broadcasts the first.
const asmConstLanes = 8

// A macro is an AVX2 assembly macro on one block of 8 float32 values,
// generated with its two-block form: each instruction on the first
// block's registers, then on the second's, so that each block's chain of
// dependent operations (long in these kernels) overlaps the other's and
// each block gets the bits the one-block form gives it.
type macro struct {
	name string
	doc  string      // the one-block form's comment, without "// "
	regs []string    // per-block parameters: registers or memory operands
	both []string    // parameters the two blocks share
	body [][2]string // instruction (on the parameters' names) and comment
}

// rename returns steps with each operand named in to renamed.
func rename(steps [][2]string, to map[string]string) [][2]string {
	out := make([][2]string, len(steps))
	for i, st := range steps {
		op, args, _ := strings.Cut(st[0], " ")
		fields := strings.Split(args, ",")
		for j, f := range fields {
			f = strings.TrimSpace(f)
			if r, ok := to[f]; ok {
				f = r
			}
			fields[j] = f
		}
		out[i] = [2]string{fmt.Sprintf("%-12s %s", op, strings.Join(fields, ", ")), st[1]}
	}
	return out
}

// write writes the macro's one- and two-block forms to b.
func (m macro) write(b *strings.Builder) {
	line := func(st [2]string, last bool) {
		fmt.Fprintf(b, "\t%-36s", st[0])
		if !last {
			b.WriteString(" \\")
		}
		if st[1] != "" {
			fmt.Fprintf(b, " // %s", st[1])
		}
		b.WriteString("\n")
	}
	define := func(name string, params []string, steps [][2]string) {
		fmt.Fprintf(b, "#define %s(%s) \\\n", name, strings.Join(params, ", "))
		for i, st := range steps {
			line(st, i == len(steps)-1)
		}
	}
	b.WriteString("\n")
	for _, l := range strings.Split(m.doc, "\n") {
		fmt.Fprintf(b, "// %s\n", l)
	}
	define(m.name, append(append([]string(nil), m.regs...), m.both...), rename(m.body, nil))
	fmt.Fprintf(b, "\n// %s2 is %s on two blocks of 8 at once, their instructions\n", m.name, m.name)
	fmt.Fprintf(b, "// interleaved: the a… and b… parameters as %s's.\n", m.name)
	var params []string
	ab := [2]map[string]string{{}, {}}
	for k, p := range []string{"a", "b"} {
		for _, r := range m.regs {
			ab[k][r] = p + r
			params = append(params, p+r)
		}
	}
	params = append(params, m.both...)
	a, bb := rename(m.body, ab[0]), rename(m.body, ab[1])
	var two [][2]string
	for i := range a {
		two = append(two, [2]string{a[i][0], ""}, [2]string{bb[i][0], ""})
	}
	define(m.name+"2", params, two)
}

// expNegConsts are the constants expNegSteps read, by the names the
// steps use; SIGMOID takes them as parameters (registers or memory
// operands), the other macros read them from memory (memConsts).
var expNegConsts = []string{"magic", "nlog2e", "ln2hi", "ln2lo", "p0", "p1n", "p2", "p3n", "p4", "one"}

// memConsts maps each of names to its memory operand, k_name<>(SB).
func memConsts(names []string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = "k_" + n + "<>(SB)"
	}
	return m
}

// expNegSteps compute e⁻ˣ for −87 ≤ x ≤ 87 (the callers check) on the
// registers x, n, r2, y and v: e⁻ˣ = 2ⁿ·e^r with n = round(−x·log₂e) by
// the magic-number addition and r = −x − n·ln2 with Cephes's two-part
// ln 2, e^r − 1 = u = r + r²·P(r) by Estrin's scheme (P of degree 4,
// p0…p4), then v = u·2ⁿ + (2ⁿ + 1) = 1 + e⁻ˣ in one fused multiply-add;
// on exit n holds 2ⁿ and y holds u, so that e⁻ˣ = y·n + n, and x holds
// −r. The negation is folded into the constants (−log₂e, and P's odd
// coefficients negated as the polynomial is evaluated at −r), so every
// step gives the bits it would on r: negating an operand of a rounded
// operation negates its result exactly.
var expNegSteps = [][2]string{
	{"VMOVUPS magic, n", ""},
	{"VFMADD231PS nlog2e, x, n", "t = −x·log₂e + magic"},
	{"VSUBPS magic, n, r2", "n = round(−x·log₂e)"},
	{"VFMADD231PS ln2hi, r2, x", ""},
	{"VFMADD231PS ln2lo, r2, x", "−r = x + n·ln2"},
	{"VPSLLD $23, n, n", "2ⁿ"},
	{"VMULPS x, x, r2", "r²"},
	{"VMOVUPS p1n, y", ""},
	{"VFMADD213PS p0, x, y", "p1·r + p0"},
	{"VMOVUPS p3n, v", ""},
	{"VFMADD213PS p2, x, v", "p3·r + p2"},
	{"VFMADD231PS p4, r2, v", "+ p4·r²"},
	{"VFMADD231PS r2, v, y", "P(r)"},
	{"VFMSUB213PS x, r2, y", "u = r²·P + r = e^r − 1"},
	{"VADDPS one, n, v", ""},
	{"VFMADD231PS y, n, v", "v = u·2ⁿ + (2ⁿ + 1) = 1 + e⁻ˣ"},
}

// asmMacros are the AVX2 kernels' macros: the sigmoid, which package
// tile's sigmoid epilogue computes with too (so that its bits are this
// package's), and the binary cross-entropy's two halves.
var asmMacros = []macro{{
	name: "SIGMOID",
	doc: `SIGMOID computes the AVX2 sigmoid of the 8 values in x into d:
σ(x) = 1/(1 + e⁻ˣ) with e⁻ˣ by expNegSteps (consts.go) and one
division, for |x| ≤ 87 (the caller checks: e⁻ˣ ≤ e⁸⁷ stays finite, σ
normal), within 1.8e-7 relative (TestSigmoidAccuracyAVX2); x, r2, y and
n are clobbered. magic … one are the constants of expNegConsts, each a
register holding it or its memory operand k_name<>(SB): a loop that
keeps them in registers saves the loads (the two-block loop's loads of
12 constants a block bound it on Zen 3, two loads a cycle).`,
	regs: []string{"x", "r2", "y", "n", "d"},
	both: expNegConsts,
	body: slices.Concat(
		rename(expNegSteps, map[string]string{"v": "d"}),
		[][2]string{
			{"VMOVUPS one, r2", ""},
			{"VDIVPS d, r2, d", "σ(x) = 1/v"},
		}),
}, {
	name: "BCEGRAD",
	doc: `BCEGRAD is the first half of the binary cross-entropy on the logits z
(8 values): e = e^−|z| into d (expNegSteps) and dz = (σ(z) − y)·s into a,
σ(z) = (z < 0 ? e : 1)/(1 + e) in one division; y is the targets'
memory operand, s the scale's register; z untouched, b, c and f
clobbered. BCELOSS takes over from d.`,
	regs: []string{"z", "a", "b", "c", "d", "f", "y"},
	both: []string{"s"},
	body: slices.Concat(
		[][2]string{{"VANDPS k_absmask<>(SB), z, a", "|z|"}},
		rename(rename(expNegSteps, memConsts(expNegConsts)), map[string]string{"x": "a", "n": "b", "r2": "c", "y": "d", "v": "f"}),
		[][2]string{
			{"VFMADD213PS b, b, d", "e = u·2ⁿ + 2ⁿ = e^−|z|"},
			{"VMOVUPS k_one<>(SB), a", ""},
			{"VBLENDVPS z, d, a, a", "z < 0 ? e : 1"},
			{"VDIVPS f, a, a", "σ(z)"},
			{"VSUBPS y, a, a", ""},
			{"VMULPS s, a, a", "dz = (σ − y)·s"},
		}),
}, {
	name: "BCELOSS",
	doc: `BCELOSS is the second half: from z, the targets' memory operand y and
e = e^−|z| in d (BCEGRAD), the loss terms max(z, 0) − z·y + log1p(e)
into c; log1p(e) = k·ln2 + log1p(f), f = e or, where e > √2 − 1 (k = 1),
(e − 1)/2, log1p(f) = f − f²/2 + f³·L(f) with Cephes logf's polynomial L
(l0…l8) by Horner's scheme in f² on pairs of terms; z untouched; a, b, d,
f and g clobbered.`,
	regs: []string{"z", "a", "b", "c", "d", "f", "g", "y"},
	body: [][2]string{
		{"VCMPPS $0x1e, k_s21<>(SB), d, a", "k = e > √2 − 1"},
		{"VMOVUPS k_half<>(SB), b", ""},
		{"VFMSUB213PS k_half<>(SB), d, b", "(e − 1)/2"},
		{"VBLENDVPS a, b, d, f", "f"},
		{"VANDPS k_ln2<>(SB), a, a", "k·ln2"},
		{"VMULPS f, f, b", "f²"},
		{"VMOVUPS k_l1<>(SB), g", ""},
		{"VFMADD213PS k_l2<>(SB), f, g", ""},
		{"VFMADD231PS k_l0<>(SB), b, g", "l2 + l1·f + l0·f²"},
		{"VMOVUPS k_l3<>(SB), d", ""},
		{"VFMADD213PS k_l4<>(SB), f, d", ""},
		{"VFMADD231PS b, g, d", ""},
		{"VMOVUPS k_l5<>(SB), g", ""},
		{"VFMADD213PS k_l6<>(SB), f, g", ""},
		{"VFMADD231PS b, d, g", ""},
		{"VMOVUPS k_l7<>(SB), d", ""},
		{"VFMADD213PS k_l8<>(SB), f, d", ""},
		{"VFMADD231PS b, g, d", "L(f)"},
		{"VMULPS b, d, d", ""},
		{"VMULPS f, d, d", "f³·L"},
		{"VFNMADD231PS k_half<>(SB), b, d", "− f²/2"},
		{"VADDPS f, d, d", "log1p(f)"},
		{"VADDPS a, d, d", "log1p(e)"},
		{"VXORPS c, c, c", ""},
		{"VMAXPS c, z, c", "max(z, 0)"},
		{"VFNMADD231PS y, z, c", "− z·y"},
		{"VADDPS d, c, c", "the loss terms"},
	},
}}

// asmConstsHeader returns consts_amd64.h: asmConsts as the assembler's
// DATA and GLOBL lines, each constant file-local (k_name<>) to the .s file
// that includes it, then asmMacros.
func asmConstsHeader() []byte {
	var b strings.Builder
	b.WriteString("// Code generated by TestGoldenAsmConsts (package vmath, go generate: go test -tags purego -run GoldenAsmConsts -update, purego so that it runs while the assembly and the header disagree); DO NOT EDIT.\n\n")
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
	for _, m := range asmMacros {
		m.write(&b)
	}
	return []byte(b.String())
}
