// Package vmath holds the assembly element-wise kernels of package kernel:
// float32 sigmoid and ReLU (with a bias added first) and sigmoid binary
// cross-entropy on logits, the plain ReLU's and the sigmoid's gradients
// and the trainer's Adam step (the last three bit-identical to their Go
// loops: no fused multiply-add, and the same operand order, which decides
// NaN payloads), 16 values per instruction with AVX-512 F or 8
// with AVX2 and FMA, whichever is best on the CPU (x/sys/cpu, once at
// start-up). It is a package of its own because Go does not allow Go
// assembly in a package that uses cgo, as package kernel does.
//
// The kernels stop early at a block holding a value they do not handle
// (|x| > 87, where e^−|x| is subnormal, or NaN; for Adam a gradient or
// moment small enough to take the trainer's exact path), and the AVX2 ones
// other than the sigmoid and the binary cross-entropy before a tail of
// fewer than 8 values (the AVX2 sigmoid computes it in a copy padded with
// zeros, the cross-entropy as a block whose other lanes read 0 and add
// nothing to the loss, so a tail value gets the bits a block would give
// it); they return how far they got and the
// caller finishes with its pure-Go loop, which also serves other CPUs and
// builds with the purego tag (or not on amd64), where the kernels do
// nothing.
//
// With AVX-512, exp is Cephes's expf (range reduction by ln 2 in two
// parts, a degree-5 polynomial, VSCALEFPS for 2ⁿ), log1p Cephes's logf of
// v = 1+e corrected by (e−(v−1))/v, and 1/(1+e) VRCP14PS plus one Newton
// step. With AVX2 the kernels are built from the macros of consts.go
// (asmMacros, generated into consts_amd64.h), shaped for a loop bound by
// its multiply-add port and by how much of its chain of dependent
// operations the core keeps in flight (Zen 3): e^m by the magic-number
// rounding (n and 2ⁿ from one fused multiply-add), Cephes's two-part ln 2,
// and a degree-6 minimax polynomial by Estrin's scheme, with 2ⁿ applied in
// the fused multiply-add that gives 1 + e^m; the sigmoid is 1/(1 + e⁻ˣ),
// one division and no blend; the binary cross-entropy takes σ(z) =
// (z < 0 ? e : 1)/(1 + e) with e = e^−|z|, and log1p(e) from e itself (on
// f = e, or (e−1)/2 plus ln 2 above √2 − 1, Cephes logf's polynomial by
// Horner's scheme in f² on pairs of terms), so that the logarithm does
// not wait for the division. Measured on Zen 3 against the kernels before
// them (Cephes's expf by Horner's scheme and a blend of e/(1+e), logf of
// 1+e with its exponent and mantissa taken apart): the sigmoid 11.1 → 8.2
// cycles per 8 values in a register loop, the binary cross-entropy over a
// 256×784 layer 338 → 237 µs (BenchmarkLevels); each changed the last
// bits and made them more accurate.
// Accuracy, measured by the tests against float64 math: σ within 1e-6
// relative (AVX2 on a dense sweep of [−87, 87]: at most 1.8e-7,
// TestSigmoidAccuracyAVX2; maximum seen 1.71e-7); dz within 2e-6 relative
// to (σ+y)·scale (maximum seen 1.75e-7); each loss term within 4e-7
// absolute plus the float32 rounding of max(z, 0) − z·y (log1p(e) within
// 1.3e-7 relative, maximum seen 1.21e-7 on a dense sweep of [−87, 0]).
package vmath

//go:generate go test -tags purego . -run GoldenAsmConsts -update
