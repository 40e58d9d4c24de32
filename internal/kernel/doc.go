// Package kernel holds the float32 numeric kernels shared by the runtime
// forward pass and the trainer: matrix products in the layouts a Dense
// layer needs (X·W, δ·Wᵀ, Xᵀ·δ) and the element-wise loops around them,
// fused so that each makes one pass over memory and none allocates.
//
// All matrices are dense and row-major. Gemm takes explicit leading
// dimensions (row strides) as in BLAS; the element-wise kernels take
// contiguous m×n matrices (row stride n).
//
// # GEMM variants
//
// The default build (cgo, no purego tag) loads OpenBLAS (Debian
// libopenblas0, installed by `make deps`) at start-up with dlopen and runs
// cblas_sgemm; building needs no BLAS headers or libraries. If the library
// cannot be loaded, Gemm falls back to the pure-Go variant and Variant says
// why. Building with the purego tag, or without cgo, compiles only the
// pure-Go variant: gonum's Sgemm, cut into tiles it multiplies serially.
//
// OpenBLAS was chosen by measurement (BenchmarkGemmStep, all products of a
// batch-256 training step, one thread, same run): 60–88 GFLOP/s against
// gonum's 4–7 on this machine (2-core AVX-512 VM), 13–18× faster; per
// shape (BenchmarkGemm) 2–60× at batch 256 and 1.4–17× at batch 1, where
// only the 1×10×10 δ·Wᵀ product is faster in gonum (225 ns against 415:
// the cgo call and OpenBLAS's set-up dominate tiny products).
//
// Two facts shaped the loading code. OpenBLAS 0.3.21 (Debian 12) does not
// recognise this CPU and falls back to its SSE3 "Prescott" kernels
// (23 GFLOP/s instead of 86): unless OPENBLAS_CORETYPE is already set,
// the library is loaded with OPENBLAS_CORETYPE set to PreferredCore,
// SkylakeX on CPUs with AVX-512 F/CD/BW/DQ/VL and Haswell on AVX2+FMA
// ones (the variable is removed again once loaded). A value the user set
// is honoured, even one below the CPU's (CoreBelowCPU reports that case,
// and `aekit bench` prints a note). And OpenBLAS keeps its thread count in
// process-wide state, so it is set once, at load, to one thread (with
// OPENBLAS_NUM_THREADS=1 during the load, so no idle pool is started).
//
// # Packed weights and fused epilogues
//
// GemmPacked multiplies by a matrix packed once (Packed: a Dense layer's
// kernel, or its transpose) with this package's own micro-kernels, in
// package tile (Go assembly; a cgo package cannot hold assembly): B is
// cut into panels of NR columns, each k rows of NR consecutive values,
// zero-padded; a register tile of MR rows × NR columns accumulates in
// vector registers, broadcasting one value of A per row and step of k.
// AVX-512 (F, DQ, VL): 14×32 tiles (28 zmm accumulators: 16 loads per
// 28 FMAs a step) for A stored row-major without the sigmoid epilogue,
// 12×32 tiles (24) otherwise, 8×32 tiles (16) for the rest, a block's
// rows covered by the 14- and 12-row tiles wherever they can be (96 rows:
// six 14-row tiles and one 12-row one); AVX2+FMA: 6×16, 12 ymm
// accumulators; products with one row use a row kernel over 4 panels at
// a time (8 accumulators). The rows are taken in near-equal even blocks
// of at most 96 (48 with AVX2); within a block, each panel's block of k (k is cut into
// near-equal blocks of at most 256 values, 384 with AVX2, so that a
// panel's block stays in L1) is read once from memory and from L1 by the
// block's other tiles; blocks of k after the first continue the sums
// from C. With AVX2, where packed B is at most 512 KB and the epilogue at
// most ReLU, each tile runs instead against all of a block's panels in
// one call over the whole of k (tile.Kern256P: 1.02–1.28× on Zen 3, see
// multiMaxValues), in tiles of 4 rows where k ≤ 256 (1.01–1.23× the
// 6-row tiles on the models' short-k products, see multi4MaxK). Bias
// and plain ReLU are applied in registers before a
// tile is stored (C's padding is never written: AVX-512 with masked
// stores, AVX2 a partial panel in pieces of 8, 4, 2 and 1 values, as
// AMD cores microcode VMASKMOVPS stores). So is Sigmoid,
// by the AVX-512 kernels where package vmath runs its AVX-512 sigmoid:
// the tile computes that kernel's instructions (Cephes expf, VRCP14PS and
// one Newton step) on its accumulators, so its bits are BiasAct's; the
// AVX2 kernel, where vmath runs at its AVX2 level, computes a block of
// rows stored contiguously (ldc = n) whose B fits the multi-panel tiles
// with the bias only and then runs vmath's AVX2 sigmoid over the whole
// block in one call (each value the instructions it gets in a row of its
// own, so the same bits; on Zen 3, 25 interleaved rounds: 256×10·10×100
// 1.25×, 256×100·100×100 1.04×, the 784-wide output layers 1.00–1.02×
// the tile epilogue below or a call per row; seed's Predict +7%);
// otherwise it applies vmath's AVX2 sigmoid to the tile right after
// storing it (from L1: its 16 ymm registers hold the accumulators), on
// blocks of 8 columns, a row's last n%8 read with a masked load as vmath
// pads them (with zeros), when C is at most 128 wide, and wider rows get
// vmath's sigmoid after each block of rows, which measured 13–19% faster
// than that epilogue on Zen 3 (BenchmarkSigmoidEpilogue). A
// tile holding a value vmath leaves to its scalar loop (|x| > 87, NaN)
// reports it, and its block of rows is computed again without the
// sigmoid and finished as below: results stay BiasAct's bit for bit
// (TestGemmPackedSigmoidFused, TestGemmPackedSigmoidAVX2, which also
// checks the report). Other activations run over each block of rows
// right after it is computed, while it is in cache, with BiasAct's
// arithmetic. Measured (best of 300 single 256-row products, alternating
// processes, load average 13; bench/passes-2026-12-06-1152.txt), fused
// against the old pass over each block: 100×100 1.07×, 32×784 1.08×,
// 128×784 1.01×; the sigmoid's arithmetic, not the memory pass, is what
// it costs. A pure-Go micro-kernel (4×16) serves other CPUs and
// the purego tag; package runtime uses Gemm there instead, as it is
// faster than that kernel.
//
// Packed.Holds checks that a matrix still equals its packed copy by
// comparing it with the panels themselves (with AVX-512: B row by row,
// two 512-bit compares per panel), so a user of Packed needs no plain copy
// to notice in-place changes (package runtime's Predict). BenchmarkHolds,
// best of 5 runs of 2000 at load average 13: 784×128 4.7 µs, 128×784
// 5.1 µs, against 5.6 and 5.8 µs for the memory compare with a plain copy
// it replaces (panel by panel it took 13 and 32 µs).
//
// The AVX-512 kernel is chosen at start-up (first use) by timing both on
// a 128×256·256×256 product when the CPU runs both (best of 9 runs each,
// AVX2 only if at least 10% faster), since cores that split 512-bit
// operations may run the AVX2 one as fast; PackedVariant says which and
// by how much (here: AVX-512, 1.6–1.7× AVX2), and aekit bench prints it. Matrices at most 16 wide are packed for the
// AVX2 kernel whatever the choice (half a 32-wide panel would be
// padding; measured 66 GFLOP/s against 55 on 256×100·100×10).
//
// Last bits. Every element of a packed product is one chain of float32
// fused multiply-adds over l = 0, 1, …, k−1 starting from 0, then the
// bias is added: the same bits whatever the kernel (AVX-512 or AVX2),
// the tile, the rows around it, the block of k, or the number of
// threads the rows are split over (TestGemmPackedDeterministic,
// runtime.TestParallelBitIdentical). OpenBLAS sums in another order (its
// kernels split k and combine partial sums differently per core type and
// shape), so a packed product differs from Gemm's in the last bits, and
// both are within the conformance bound of the float64 product,
// 1e-5·Σ|a·b| (TestGemmPackedConformance runs TestGemmConformance's suite
// on each micro-kernel; TestGemmPackedEpilogue checks bias and
// activations against float64 and BiasAct). The pure-Go kernel rounds the
// product before the addition on amd64 (the compiler does not fuse there
// without GOAMD64=v3), so its last bits differ from the assembly's.
//
// Measured against OpenBLAS 0.3.21 (SkylakeX kernels) on this machine
// (2-core Xeon VM, AVX-512, Sapphire-Rapids class; FMA peak 229–243
// GFLOP/s per core at 3.8–4.1 GHz, 1.9 512-bit FMAs per cycle, measured
// with `aekit bench --peak`), best of 20–300 runs per shape while other
// processes loaded the machine (load average 8–13), GFLOP/s of X·W with
// bias and ReLU at batch 256, 8×32 tiles then with the 12-row tile:
// 784×32 176–188 → 183–211 against OpenBLAS 105–118; 32×784 151–158 →
// 160–178 against 100–117; 784×128 169–175 → 177–188 against 144–164;
// 128×784 176–189 → 188–199 against 137–159; 128×64 174–185 → 180–191
// against 113–125; 100×10 (AVX2 kernel) 66–73 against 55–60. That is
// 75–85% of the core's FMA peak; the register-only peak loop reaches
// 95%, and neither unrolling k by 4, nor 24 accumulators instead of 16,
// nor broadcasts embedded in the FMAs (slower: 150) moved it much.
// OpenBLAS stays faster on large squares that do not fit L2 (1024³:
// 139–161 against 78–120) and on one-row products (1×784·784×32: 55
// against 29, the single chain per column being latency-bound), which
// the runtime does not send to GemmPacked (see runtime.PackedMinRows).
//
// Training multiplies the forward X·W with GemmPacked (package train
// re-packs every Dense kernel at the start of each batch, the threads
// sharing the panels through Packed.Repack in the pass that gathers the
// batch's rows, so weights changed by the update or restored in between
// are always seen) with the bias, and ReLU where the layer keeps only its
// output, in the micro-kernel's registers. δ·Wᵀ runs on GemmPacked
// against Wᵀ packed once per batch, and Xᵀ·δ, where X and δ are both 32
// wide or more, on GemmAT (X and δ read in place: tile.Kern512x12T and
// tile.Kern512S, AVX-512; deep's 128×784 output layer in a step 484 →
// 367 µs with its weight update, bench/phases-2026-12-06-1522.txt, and on
// this machine bit for bit OpenBLAS SkylakeX's result, one fused chain
// per element; faster than packing δ for GemmPackedAT on every such
// layer of the benchmark models but 784×32, within 3%,
// bench/strided-xt-2026-12-06-1850.txt); with AVX2 on tile.Kern256S (6×16
// tiles, B read in place; Zen 3, in deep's steps: 1.03–1.07× OpenBLAS on
// the 128×784, 1.01× packing δ on the 784×128). Without either, Xᵀ·δ
// runs on GemmPackedAT (δ packed) where δ is 32–128 wide, and as (δᵀ·X)ᵀ
// for a wide δ on a 32–64-wide X; all give the same bits. GemmPackedAT's full tiles run on the same 12-row
// transposed-A kernel (8×32 tiles before: no measurable change, ~163
// GFLOP/s in a step against ~190 for the forward products, A's 12 values
// per step coming from a new cache line each time). A forward product
// reading W in place (no per-batch re-pack, which costs ~85 µs of a deep
// step) was measured and dropped: re-packing went to 33 µs but the
// forward products lost 10–20 µs each (a 128-float row stride maps B's
// rows onto 8 of L1's 64 sets). An earlier attempt that also packed Wᵀ for δ·Wᵀ (a strided gather in Go)
// and read X transposed for Xᵀ·δ measured 0.93–1.07× the OpenBLAS step:
// the transposed packing cost what δ·Wᵀ gained, and the transposed reads
// of X made Xᵀ·δ no faster than OpenBLAS's. The packed forward alone,
// best of 200 single steps per process, 5–6 alternating rounds against
// the previous tree, one thread, load average 7–10
// (bench/steps-2026-12-06-1159.txt, -1228.txt): seed 1.01–1.06×,
// 784-32-784 1.08–1.13×, deep 1.01–1.08× (its forward products are a
// third of a step's FLOPs, and OpenBLAS runs them at 140–160 GFLOP/s
// already); at two threads 784-32-784 and deep 1.09–1.15×, seed
// 0.75–0.81× in the best runs but equal medians (not resolved under
// that load).
//
// # One-row products
//
// A product with one row (m = 1, as every layer of a batch-1 Predict) or
// one column (n = 1) and k > 0 is a matrix–vector product. OpenBLAS's
// AVX-512 cores (SkylakeX, Cooperlake, SapphireRapids) run it through
// small-matrix sgemm kernels; every other core packs it like a large
// product, and its sgemm is 2.5–6× slower than its sgemv. So Gemm decides
// once, at start-up, from openblas_get_corename: on cores other than those
// three it hands such products to cblas_sgemv (k = 0 stays with sgemm,
// which scales C by β; when β = 0, C is zeroed before the call, so NaN in
// C does not leak whatever the OpenBLAS version); Variant says which.
// The openblas-gemv variant of the tests and benchmarks routes them to
// sgemv on every core, so that the conformance suite checks the mapping
// (all four transpose combinations, strided vectors) on any machine.
//
// Measured on this machine (2-core AMD EPYC VM with AVX-512), y(1×N) =
// x(1×K)·W(K×N) from a C harness, one thread, 20000 repetitions, in µs:
//
//	K×N        Haswell sgemm  sgemv   SkylakeX sgemm  sgemv
//	784×128         19.3       4.75         4.48       4.62
//	128×784         24.2       4.2
//	784×32           4.7       1.4          0.90       1.35
//	32×784           3.9       1.3
//	128×64           1.29      0.34         0.19       0.34
//	100×10           0.42      0.17         0.09       0.17
//
// BenchmarkGemm (b1, X·W and δ·Wᵀ; medians of 5) agreed: with the
// Haswell core, sgemv took 2.2–7× less time than sgemm on every one-row
// product of the three models but one, the 1×100×10 δ·Wᵀ (394 ns against
// 340); 4.3 µs against 23.4 on the 784×128 X·W, 4.6 against 31.9 on the
// 128×784 δ·Wᵀ. With SkylakeX, sgemm tied or won on the large ones (4.4
// against 4.3 µs; 4.0 against 4.5). Batch-1 Predict (`aekit bench --mode
// infer`, two runs each) with the Haswell core took 51–55 µs before the
// routing and 10.5–10.9 after on the deep model (784-128-64-32-64-128-784;
// 10.1–10.9 with SkylakeX), 9.2–9.8 and 2.6–2.9 on ae784, 2.8–3.0 and
// 1.1–1.2 on seed.
//
// # Threads
//
// Gemm runs on the calling goroutine, and OpenBLAS is held to one thread.
// Parallelism belongs to the caller: package train cuts each product into
// fixed blocks of 128 rows (or columns) and runs them on its own
// goroutines, so Go and BLAS threads never oversubscribe the cores (each
// running sgemm is one Go-owned thread) and results do not depend on the
// thread count. A batch-1 product never waits on a thread pool.
//
// # Float32 math
//
// Five element-wise loops run in assembly (package vmath, chosen at
// start-up from CPUID; VectorMath names it): BiasAct's sigmoid (a sigmoid
// output layer) and bias+ReLU, SigmoidBCERow's σ, exponential and
// log1p, and ActGrad's plain ReLU and sigmoid gradients (bit-identical to
// the Go loops). Package train also runs its Adam step through vmath.Adam.
// AVX-512 F does 16 values per instruction with a masked tail; AVX2+FMA
// does 8, leaving tails under 8 to Go except the sigmoid's, which it
// computes in a zero-padded copy of 8, and the binary cross-entropy's,
// which it computes as a block whose other lanes read 0. Both compute in float32: σ within
// 1e-6 relative of float64 math (measured maximum 1.7e-7), each loss
// term's log1p within 2e-7 absolute. Values the vector code does not
// handle (|x| > 87, where e^−|x| is subnormal, and NaN) are finished by the
// pure-Go loops, which also serve other CPUs and builds with the purego
// tag. Measured on this machine (2-core Xeon VM with AVX-512, under load;
// bench/vmath-2026-11-26.txt), per value of a 256×784 layer, same runs:
// the AVX2 sigmoid took 1.04–1.25 ns against 15–22 for float64 math.Exp
// (14–18× faster) and SigmoidBCERow 2.2–3.2 ns against 30–36 for the scalar
// float32 polynomials (10–16×); AVX-512 against AVX2, in two series of five
// interleaved runs, took 0.62–1.11 ns against 0.82–1.35 on the sigmoid
// (0.9–1.8× per run, faster in 9 of 10) and 1.40–2.50 against 2.33–4.04 on
// the BCE (1.2–2.0×); bias+ReLU and the bias add are 3.6–6.5× and 4.5–5.4× faster
// than their Go loops, and the two levels tie on them, as they are bound by
// memory. In scalar Go the float32 polynomials (Cephes expf, 1.34 ulp;
// logf) were no faster than float64 math.Exp, which is assembly on amd64,
// so elsewhere — Tanh, the other activations, and everything without the
// assembly — activations compute in float64 and round, as
// runtime.Activation.Apply does, and agree with it bitwise.
//
// # Conformance
//
// TestGemmConformance runs one suite against every variant compiled in
// (gonum, OpenBLAS sgemm, OpenBLAS with sgemv for one-row products, and
// the default Gemm):
// random shapes including 0, 1, odd and large sizes, every one-row and
// one-column shape of a grid (k = 0 included), all four transpose
// combinations, several α and β, padded leading dimensions, NaN in C when
// β = 0, padding untouched, each element within 1e-5·(|α|·Σ|a·b| + |β·c|)
// of a float64 product. TestGemmConformanceCores reruns it in child
// processes with OPENBLAS_CORETYPE=Haswell and, on AVX-512 CPUs, SkylakeX,
// whatever the test's own environment. The fused kernels are checked against float64
// loops, the activation gradients against finite differences, each with
// its tolerance stated on the test. Run the suite on the fallback with
// `go test -tags purego ./internal/kernel/`.
package kernel
