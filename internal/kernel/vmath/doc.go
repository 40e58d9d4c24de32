// Package vmath holds the assembly element-wise kernels of package kernel:
// float32 sigmoid and ReLU (with a bias added first) and sigmoid binary
// cross-entropy on logits, the plain ReLU gradient and the trainer's Adam
// step (bit-identical to its Go loop: no fused multiply-add, and the same
// operand order, which decides NaN payloads), 16 values per instruction with AVX-512 F or 8
// with AVX2 and FMA, whichever is best on the CPU (x/sys/cpu, once at
// start-up). It is a package of its own because Go does not allow Go
// assembly in a package that uses cgo, as package kernel does.
//
// The kernels stop early at a block holding a value they do not handle
// (|x| > 87, where e^−|x| is subnormal, or NaN; for Adam a gradient or
// moment small enough to take the trainer's exact path), and the AVX2 ones
// other than the sigmoid before a tail of fewer than 8 values (the AVX2
// sigmoid computes it in a copy padded with zeros, so a tail value gets
// the bits a block would give it); they return how far they got and the
// caller finishes with its pure-Go loop, which also serves other CPUs and
// builds with the purego tag (or not on amd64), where the kernels do
// nothing.
//
// exp is Cephes's expf (range reduction by ln 2 in two parts, a degree-5
// polynomial; 2ⁿ by exponent bits with AVX2, VSCALEFPS with AVX-512);
// log1p is Cephes's logf of v = 1+e corrected by (e−(v−1))/v; 1/(1+e) is a
// division with AVX2 and VRCP14PS plus one Newton step with AVX-512. The
// AVX2 sigmoid (SIGMOID in consts_amd64.h) evaluates expf's polynomial by
// Estrin's scheme rather than Horner's and applies 2ⁿ within the last two
// fused multiply-adds, which give e and 1+e at once: its chain of
// dependent operations is ~50 cycles instead of ~66, and on Zen 3, where
// the loop is bound by how much of that chain the core keeps in flight,
// it runs ~10% faster (14.2 → 12.3 cycles per 8 values, the same maximum
// error, 1.93e-7); its last bits differ from the Horner form's, which the
// AVX2 binary cross-entropy keeps.
// Accuracy, measured by the tests against float64 math: σ within 1e-6
// relative (maximum seen 1.9e-7); dz within 2e-6 relative to (σ+y)·scale;
// each loss term within 4e-7 absolute plus the float32 rounding of
// max(z, 0) − z·y.
package vmath

//go:generate go test . -run GoldenAsmConsts -update
