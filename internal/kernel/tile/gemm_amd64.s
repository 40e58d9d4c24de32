//go:build amd64 && !purego

#include "textflag.h"
#include "consts_amd64.h"

// Register-tile micro-kernels of the packed GEMM. B is packed in panels of
// NR columns (32 for AVX-512, 16 for AVX2): a panel is k rows of NR
// consecutive values, zero-padded past the matrix's last column. Every
// kernel computes each element of C as one chain of fused multiply-adds
// over p = 0, 1, …, k−1 starting from 0, then adds the bias and applies
// ReLU when asked, so an element's bits do not depend on the kernel, the
// vector width or the rows around it. Rows past the tile's (rows < MR)
// read the last valid row again and are not stored; columns past the
// matrix are masked off by the mask table (int32 −1 for a valid lane, 0
// for an invalid one), so C's padding is never written.

// ROWPTR sets dst to src + lda (DX, bytes) unless the tile has at most n
// rows (SI), in which case dst = src: the clamp that makes missing rows
// repeat the last valid one.
#define ROWPTR(src, dst, n) \
	LEAQ    (src)(DX*1), dst \
	CMPQ    SI, $n           \
	CMOVQLE src, dst

// ROWPTR6 sets R9…R13 to the rows after R8 (stride DX), each clamped by
// ROWPTR to the last of the tile's SI rows: the row pointers of a 6-row
// tile (the 8-row AVX-512 ones go on to R14 and R15).
#define ROWPTR6 \
	ROWPTR(R8, R9, 1)   \
	ROWPTR(R9, R10, 2)  \
	ROWPTR(R10, R11, 3) \
	ROWPTR(R11, R12, 4) \
	ROWPTR(R12, R13, 5)

// FMA512 multiplies row r's broadcast value by the panel's two vectors
// (Z16, Z17) into the row's accumulators a0, a1, using t.
#define FMA512(r, t, a0, a1) \
	VBROADCASTSS (r)(AX*1), t \
	VFMADD231PS  Z16, t, a0   \
	VFMADD231PS  Z17, t, a1

// CLOAD512 loads C row (DI) into a0, a1 with the masks K1, K2 and moves
// DI to the next row (stride CX) if the tile has more than n rows (SI),
// using BX.
#define CLOAD512(a0, a1, n) \
	VMOVUPS.Z (DI), K1, a0    \
	VMOVUPS.Z 64(DI), K2, a1  \
	LEAQ      (DI)(CX*1), BX  \
	CMPQ      SI, $n          \
	CMOVQGT   BX, DI

// STEP512 is one step of k: the panel's two vectors at boff(BX) times
// each row's value at aoff(row)(AX*1) into the 16 accumulators.
#define STEP512(aoff, boff) \
	VMOVUPS      boff(BX), Z16          \
	VMOVUPS      boff+64(BX), Z17       \
	VBROADCASTSS aoff(R8)(AX*1), Z18    \
	VFMADD231PS  Z16, Z18, Z0           \
	VFMADD231PS  Z17, Z18, Z1           \
	VBROADCASTSS aoff(R9)(AX*1), Z19    \
	VFMADD231PS  Z16, Z19, Z2           \
	VFMADD231PS  Z17, Z19, Z3           \
	VBROADCASTSS aoff(R10)(AX*1), Z20   \
	VFMADD231PS  Z16, Z20, Z4           \
	VFMADD231PS  Z17, Z20, Z5           \
	VBROADCASTSS aoff(R11)(AX*1), Z21   \
	VFMADD231PS  Z16, Z21, Z6           \
	VFMADD231PS  Z17, Z21, Z7           \
	VBROADCASTSS aoff(R12)(AX*1), Z22   \
	VFMADD231PS  Z16, Z22, Z8           \
	VFMADD231PS  Z17, Z22, Z9           \
	VBROADCASTSS aoff(R13)(AX*1), Z23   \
	VFMADD231PS  Z16, Z23, Z10          \
	VFMADD231PS  Z17, Z23, Z11          \
	VBROADCASTSS aoff(R14)(AX*1), Z24   \
	VFMADD231PS  Z16, Z24, Z12          \
	VFMADD231PS  Z17, Z24, Z13          \
	VBROADCASTSS aoff(R15)(AX*1), Z25   \
	VFMADD231PS  Z16, Z25, Z14          \
	VFMADD231PS  Z17, Z25, Z15

// SIGM512 applies package vmath's AVX-512 sigmoid (sigmoidBiasAVX512: the
// same instructions, so the same bits) to the accumulator v in registers:
// σ(|x|) = 1/(1+e^−|x|) with Cephes's expf and VRCP14PS plus one Newton
// step, times e^−|x| where x < 0. Lanes of km with |x| > 87 or NaN, which
// vmath leaves to its scalar loop, set K5 (the caller then recomputes the
// block; see Sigmoid). Z30 holds 0 and Z31 1.0; it uses Z24–Z29, K3, K4.
#define SIGM512(v, km) \
	VPANDD.BCST       k_absmask<>(SB), v, Z24    \
	VCMPPS.BCST       $0x16, k_lim<>(SB), Z24, km, K4 \
	KORW              K4, K5, K5                 \
	VCMPPS            $0x01, Z30, v, K3          \
	VSUBPS            Z24, Z30, Z24              \
	VMULPS.BCST       k_log2e<>(SB), Z24, Z25    \
	VRNDSCALEPS       $0, Z25, Z25               \
	VFNMADD231PS.BCST k_ln2hi<>(SB), Z25, Z24    \
	VFNMADD231PS.BCST k_ln2lo<>(SB), Z25, Z24    \
	VBROADCASTSS      k_e0<>(SB), Z26            \
	VFMADD213PS.BCST  k_e1<>(SB), Z24, Z26       \
	VFMADD213PS.BCST  k_e2<>(SB), Z24, Z26       \
	VFMADD213PS.BCST  k_e3<>(SB), Z24, Z26       \
	VFMADD213PS.BCST  k_e4<>(SB), Z24, Z26       \
	VFMADD213PS.BCST  k_e5<>(SB), Z24, Z26       \
	VMULPS            Z24, Z24, Z27              \
	VFMADD213PS       Z24, Z27, Z26              \
	VADDPS            Z31, Z26, Z26              \
	VSCALEFPS         Z25, Z26, Z26              \
	VADDPS            Z31, Z26, Z27              \
	VRCP14PS          Z27, v                     \
	VMOVAPS           Z31, Z29                   \
	VFNMADD231PS      v, Z27, Z29                \
	VFMADD213PS       v, Z29, v                  \
	VMULPS            Z26, v, K3, v

// SIGMSETUP prepares SIGM512's constants and clears K5.
#define SIGMSETUP \
	VPXORD       Z30, Z30, Z30      \
	VBROADCASTSS k_one<>(SB), Z31   \
	KXORW        K5, K5, K5

// func Kern512(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int
// C[0:rows][0:32] of one 8×32 tile (rows ≤ 8): 16 accumulators Z0–Z15.
// flags: 1 ReLU, 2 start from the values in C instead of 0, 4 sigmoid.
TEXT ·Kern512(SB), NOSPLIT, $0-96
	KXORW K5, K5, K5
	MOVQ a+0(FP), R8
	MOVQ lda+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+48(FP), SI
	ROWPTR6
	ROWPTR(R13, R14, 6)
	ROWPTR(R14, R15, 7)
	MOVQ     mask+56(FP), BX
	VMOVUPS  (BX), Z16
	VPMOVD2M Z16, K1
	VMOVUPS  64(BX), Z16
	VPMOVD2M Z16, K2
	MOVQ     flags+72(FP), BX
	TESTQ    $2, BX
	JNZ      k5load
	VPXORD   Z0, Z0, Z0
	VPXORD   Z1, Z1, Z1
	VPXORD   Z2, Z2, Z2
	VPXORD   Z3, Z3, Z3
	VPXORD   Z4, Z4, Z4
	VPXORD   Z5, Z5, Z5
	VPXORD   Z6, Z6, Z6
	VPXORD   Z7, Z7, Z7
	VPXORD   Z8, Z8, Z8
	VPXORD   Z9, Z9, Z9
	VPXORD   Z10, Z10, Z10
	VPXORD   Z11, Z11, Z11
	VPXORD   Z12, Z12, Z12
	VPXORD   Z13, Z13, Z13
	VPXORD   Z14, Z14, Z14
	VPXORD   Z15, Z15, Z15
	JMP      k5start

k5load:
	// Continue the chains from the partial sums in C (a block of k
	// after the first): C rows past the tile's repeat the last one.
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), CX
	SHLQ $2, CX
	CLOAD512(Z0, Z1, 1)
	CLOAD512(Z2, Z3, 2)
	CLOAD512(Z4, Z5, 3)
	CLOAD512(Z6, Z7, 4)
	CLOAD512(Z8, Z9, 5)
	CLOAD512(Z10, Z11, 6)
	CLOAD512(Z12, Z13, 7)
	VMOVUPS.Z (DI), K1, Z14
	VMOVUPS.Z 64(DI), K2, Z15

k5start:
	MOVQ  b+16(FP), BX
	MOVQ  k+24(FP), CX
	MOVQ  ks+80(FP), DX
	SHLQ  $2, DX
	XORQ  AX, AX
	TESTQ CX, CX
	JLE   k5done

	CMPQ CX, $4
	JLT  k5loop

k5loop4:
	STEP512(0, 0)
	ADDQ DX, AX
	STEP512(0, 128)
	ADDQ DX, AX
	STEP512(0, 256)
	ADDQ DX, AX
	STEP512(0, 384)
	ADDQ DX, AX
	ADDQ $512, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  k5loop4
	TESTQ CX, CX
	JLE  k5done

k5loop:
	STEP512(0, 0)
	ADDQ DX, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  k5loop

k5done:
	MOVQ     bias+64(FP), R9
	TESTQ    R9, R9
	JZ       k5nobias
	VMOVUPS.Z (R9), K1, Z16
	VMOVUPS.Z 64(R9), K2, Z17
	VADDPS   Z16, Z0, Z0
	VADDPS   Z17, Z1, Z1
	VADDPS   Z16, Z2, Z2
	VADDPS   Z17, Z3, Z3
	VADDPS   Z16, Z4, Z4
	VADDPS   Z17, Z5, Z5
	VADDPS   Z16, Z6, Z6
	VADDPS   Z17, Z7, Z7
	VADDPS   Z16, Z8, Z8
	VADDPS   Z17, Z9, Z9
	VADDPS   Z16, Z10, Z10
	VADDPS   Z17, Z11, Z11
	VADDPS   Z16, Z12, Z12
	VADDPS   Z17, Z13, Z13
	VADDPS   Z16, Z14, Z14
	VADDPS   Z17, Z15, Z15

k5nobias:
	MOVQ   flags+72(FP), R9
	TESTQ  $1, R9
	JZ     k5sigm
	VPXORD Z16, Z16, Z16
	VMAXPS Z0, Z16, Z0 // 0 > x ? 0 : x, so NaN stays NaN (as package vmath)
	VMAXPS Z1, Z16, Z1
	VMAXPS Z2, Z16, Z2
	VMAXPS Z3, Z16, Z3
	VMAXPS Z4, Z16, Z4
	VMAXPS Z5, Z16, Z5
	VMAXPS Z6, Z16, Z6
	VMAXPS Z7, Z16, Z7
	VMAXPS Z8, Z16, Z8
	VMAXPS Z9, Z16, Z9
	VMAXPS Z10, Z16, Z10
	VMAXPS Z11, Z16, Z11
	VMAXPS Z12, Z16, Z12
	VMAXPS Z13, Z16, Z13
	VMAXPS Z14, Z16, Z14
	VMAXPS Z15, Z16, Z15

k5sigm:
	TESTQ $4, R9
	JZ    k5store
	SIGMSETUP
	SIGM512(Z0, K1)
	SIGM512(Z1, K2)
	SIGM512(Z2, K1)
	SIGM512(Z3, K2)
	SIGM512(Z4, K1)
	SIGM512(Z5, K2)
	SIGM512(Z6, K1)
	SIGM512(Z7, K2)
	SIGM512(Z8, K1)
	SIGM512(Z9, K2)
	SIGM512(Z10, K1)
	SIGM512(Z11, K2)
	SIGM512(Z12, K1)
	SIGM512(Z13, K2)
	SIGM512(Z14, K1)
	SIGM512(Z15, K2)

k5store:
	MOVQ    c+32(FP), DI
	MOVQ    ldc+40(FP), DX
	SHLQ    $2, DX
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	CMPQ    SI, $1
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z2, K1, (DI)
	VMOVUPS Z3, K2, 64(DI)
	CMPQ    SI, $2
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z4, K1, (DI)
	VMOVUPS Z5, K2, 64(DI)
	CMPQ    SI, $3
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z6, K1, (DI)
	VMOVUPS Z7, K2, 64(DI)
	CMPQ    SI, $4
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K2, 64(DI)
	CMPQ    SI, $5
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z10, K1, (DI)
	VMOVUPS Z11, K2, 64(DI)
	CMPQ    SI, $6
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z12, K1, (DI)
	VMOVUPS Z13, K2, 64(DI)
	CMPQ    SI, $7
	JLE     k5end
	ADDQ    DX, DI
	VMOVUPS Z14, K1, (DI)
	VMOVUPS Z15, K2, 64(DI)

k5end:
	KMOVW   K5, AX
	MOVQ    AX, ret+88(FP)
	VZEROUPPER
	RET

// STEP12 is one step of k of the 12-row tile: row r at d(base)(index).
#define STEP12(d, boff) \
	VMOVUPS boff(BX), Z24 \
	VMOVUPS boff+64(BX), Z25 \
	VBROADCASTSS d(R8), Z26 \
	VFMADD231PS Z24, Z26, Z0 \
	VFMADD231PS Z25, Z26, Z1 \
	VBROADCASTSS d(R8)(DX*1), Z27 \
	VFMADD231PS Z24, Z27, Z2 \
	VFMADD231PS Z25, Z27, Z3 \
	VBROADCASTSS d(R8)(DX*2), Z28 \
	VFMADD231PS Z24, Z28, Z4 \
	VFMADD231PS Z25, Z28, Z5 \
	VBROADCASTSS d(R9), Z29 \
	VFMADD231PS Z24, Z29, Z6 \
	VFMADD231PS Z25, Z29, Z7 \
	VBROADCASTSS d(R9)(DX*1), Z26 \
	VFMADD231PS Z24, Z26, Z8 \
	VFMADD231PS Z25, Z26, Z9 \
	VBROADCASTSS d(R9)(DX*2), Z27 \
	VFMADD231PS Z24, Z27, Z10 \
	VFMADD231PS Z25, Z27, Z11 \
	VBROADCASTSS d(R10), Z28 \
	VFMADD231PS Z24, Z28, Z12 \
	VFMADD231PS Z25, Z28, Z13 \
	VBROADCASTSS d(R10)(DX*1), Z29 \
	VFMADD231PS Z24, Z29, Z14 \
	VFMADD231PS Z25, Z29, Z15 \
	VBROADCASTSS d(R10)(DX*2), Z26 \
	VFMADD231PS Z24, Z26, Z16 \
	VFMADD231PS Z25, Z26, Z17 \
	VBROADCASTSS d(R11), Z27 \
	VFMADD231PS Z24, Z27, Z18 \
	VFMADD231PS Z25, Z27, Z19 \
	VBROADCASTSS d(R11)(DX*1), Z28 \
	VFMADD231PS Z24, Z28, Z20 \
	VFMADD231PS Z25, Z28, Z21 \
	VBROADCASTSS d(R11)(DX*2), Z29 \
	VFMADD231PS Z24, Z29, Z22 \
	VFMADD231PS Z25, Z29, Z23

// func Kern512x12(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int) int
// A full 12×32 tile (A row-major): 24 accumulators Z0–Z23; flags as
// Kern512's. The rows are addressed from four base pointers (rows 0, 3,
// 6, 9) plus one or two times lda, moved along k each step.
TEXT ·Kern512x12(SB), NOSPLIT, $0-80
	KXORW    K5, K5, K5
	MOVQ     a+0(FP), R8
	MOVQ     lda+8(FP), DX
	SHLQ     $2, DX
	LEAQ     (R8)(DX*2), R9
	ADDQ     DX, R9
	LEAQ     (R9)(DX*2), R10
	ADDQ     DX, R10
	LEAQ     (R10)(DX*2), R11
	ADDQ     DX, R11
	MOVQ     mask+48(FP), BX
	VMOVUPS  (BX), Z24
	VPMOVD2M Z24, K1
	VMOVUPS  64(BX), Z24
	VPMOVD2M Z24, K2
	MOVQ     c+32(FP), DI
	MOVQ     ldc+40(FP), SI
	SHLQ     $2, SI
	MOVQ     flags+64(FP), BX
	TESTQ    $2, BX
	JNZ      t12load
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	JMP t12start

t12load:
	MOVQ DI, AX
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K2, Z1
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z2
	VMOVUPS.Z 64(AX), K2, Z3
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z4
	VMOVUPS.Z 64(AX), K2, Z5
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z6
	VMOVUPS.Z 64(AX), K2, Z7
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z8
	VMOVUPS.Z 64(AX), K2, Z9
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z10
	VMOVUPS.Z 64(AX), K2, Z11
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z12
	VMOVUPS.Z 64(AX), K2, Z13
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z14
	VMOVUPS.Z 64(AX), K2, Z15
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z16
	VMOVUPS.Z 64(AX), K2, Z17
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z18
	VMOVUPS.Z 64(AX), K2, Z19
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z20
	VMOVUPS.Z 64(AX), K2, Z21
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z22
	VMOVUPS.Z 64(AX), K2, Z23

t12start:
	MOVQ  b+16(FP), BX
	MOVQ  k+24(FP), CX
	CMPQ  CX, $4
	JLT   t12tail

t12loop4:
	STEP12(0, 0)
	STEP12(4, 128)
	STEP12(8, 256)
	STEP12(12, 384)
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	ADDQ $512, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  t12loop4

t12tail:
	TESTQ CX, CX
	JLE   t12done

t12loop:
	STEP12(0, 0)
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	ADDQ $128, BX
	DECQ CX
	JNZ  t12loop

t12done:
	MOVQ  bias+56(FP), R9
	TESTQ R9, R9
	JZ    t12nobias
	VMOVUPS.Z (R9), K1, Z24
	VMOVUPS.Z 64(R9), K2, Z25
	VADDPS Z24, Z0, Z0
	VADDPS Z25, Z1, Z1
	VADDPS Z24, Z2, Z2
	VADDPS Z25, Z3, Z3
	VADDPS Z24, Z4, Z4
	VADDPS Z25, Z5, Z5
	VADDPS Z24, Z6, Z6
	VADDPS Z25, Z7, Z7
	VADDPS Z24, Z8, Z8
	VADDPS Z25, Z9, Z9
	VADDPS Z24, Z10, Z10
	VADDPS Z25, Z11, Z11
	VADDPS Z24, Z12, Z12
	VADDPS Z25, Z13, Z13
	VADDPS Z24, Z14, Z14
	VADDPS Z25, Z15, Z15
	VADDPS Z24, Z16, Z16
	VADDPS Z25, Z17, Z17
	VADDPS Z24, Z18, Z18
	VADDPS Z25, Z19, Z19
	VADDPS Z24, Z20, Z20
	VADDPS Z25, Z21, Z21
	VADDPS Z24, Z22, Z22
	VADDPS Z25, Z23, Z23

t12nobias:
	MOVQ  flags+64(FP), R9
	TESTQ $1, R9
	JZ    t12sigm
	VPXORD Z24, Z24, Z24
	VMAXPS Z0, Z24, Z0
	VMAXPS Z1, Z24, Z1
	VMAXPS Z2, Z24, Z2
	VMAXPS Z3, Z24, Z3
	VMAXPS Z4, Z24, Z4
	VMAXPS Z5, Z24, Z5
	VMAXPS Z6, Z24, Z6
	VMAXPS Z7, Z24, Z7
	VMAXPS Z8, Z24, Z8
	VMAXPS Z9, Z24, Z9
	VMAXPS Z10, Z24, Z10
	VMAXPS Z11, Z24, Z11
	VMAXPS Z12, Z24, Z12
	VMAXPS Z13, Z24, Z13
	VMAXPS Z14, Z24, Z14
	VMAXPS Z15, Z24, Z15
	VMAXPS Z16, Z24, Z16
	VMAXPS Z17, Z24, Z17
	VMAXPS Z18, Z24, Z18
	VMAXPS Z19, Z24, Z19
	VMAXPS Z20, Z24, Z20
	VMAXPS Z21, Z24, Z21
	VMAXPS Z22, Z24, Z22
	VMAXPS Z23, Z24, Z23

t12sigm:
	TESTQ $4, R9
	JZ    t12store
	SIGMSETUP
	SIGM512(Z0, K1)
	SIGM512(Z1, K2)
	SIGM512(Z2, K1)
	SIGM512(Z3, K2)
	SIGM512(Z4, K1)
	SIGM512(Z5, K2)
	SIGM512(Z6, K1)
	SIGM512(Z7, K2)
	SIGM512(Z8, K1)
	SIGM512(Z9, K2)
	SIGM512(Z10, K1)
	SIGM512(Z11, K2)
	SIGM512(Z12, K1)
	SIGM512(Z13, K2)
	SIGM512(Z14, K1)
	SIGM512(Z15, K2)
	SIGM512(Z16, K1)
	SIGM512(Z17, K2)
	SIGM512(Z18, K1)
	SIGM512(Z19, K2)
	SIGM512(Z20, K1)
	SIGM512(Z21, K2)
	SIGM512(Z22, K1)
	SIGM512(Z23, K2)

t12store:
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z2, K1, (DI)
	VMOVUPS Z3, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z4, K1, (DI)
	VMOVUPS Z5, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z6, K1, (DI)
	VMOVUPS Z7, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z10, K1, (DI)
	VMOVUPS Z11, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z12, K1, (DI)
	VMOVUPS Z13, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z14, K1, (DI)
	VMOVUPS Z15, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z16, K1, (DI)
	VMOVUPS Z17, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z18, K1, (DI)
	VMOVUPS Z19, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z20, K1, (DI)
	VMOVUPS Z21, K2, 64(DI)
	ADDQ SI, DI
	VMOVUPS Z22, K1, (DI)
	VMOVUPS Z23, K2, 64(DI)
	KMOVW   K5, AX
	MOVQ    AX, ret+72(FP)
	VZEROUPPER
	RET

// PANELPTR sets dst to src + the panel stride (DX, bytes) unless there are
// at most n panels (SI), in which case dst = src.
#define PANELPTR(src, dst, n) ROWPTR(src, dst, n)

// OUT512 finishes vector v of the one-row tile: its mask from the table
// (R12), then bias (R13, when not nil), ReLU (when R14 ≠ 0) and the
// masked store to C (DI).
#define OUT512(v, off) \
	VMOVUPS   off(R12), Z16      \
	VPMOVD2M  Z16, K1            \
	TESTQ     R13, R13           \
	JZ        3(PC)              \
	VMOVUPS.Z off(R13), K1, Z16  \
	VADDPS    Z16, v, v          \
	TESTQ     R14, R14           \
	JZ        2(PC)              \
	VMAXPS    v, Z17, v          \
	VMOVUPS   v, K1, off(DI)

// func Row512(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int)
// One row of C against up to 4 consecutive panels (128 columns): 8
// accumulators Z0–Z7, for products with a single row, where the 8-row
// tile would repeat the row.
TEXT ·Row512(SB), NOSPLIT, $0-72
	MOVQ   b+8(FP), R8
	MOVQ   pstride+16(FP), DX
	SHLQ   $2, DX
	MOVQ   panels+40(FP), SI
	PANELPTR(R8, R9, 1)
	PANELPTR(R9, R10, 2)
	PANELPTR(R10, R11, 3)
	MOVQ   a+0(FP), DI
	MOVQ   k+24(FP), CX
	XORQ   AX, AX
	XORQ   BX, BX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ  CX, CX
	JLE    r5done

r5loop:
	VBROADCASTSS (DI)(AX*1), Z16
	VFMADD231PS  (R8)(BX*1), Z16, Z0
	VFMADD231PS  64(R8)(BX*1), Z16, Z1
	VFMADD231PS  (R9)(BX*1), Z16, Z2
	VFMADD231PS  64(R9)(BX*1), Z16, Z3
	VFMADD231PS  (R10)(BX*1), Z16, Z4
	VFMADD231PS  64(R10)(BX*1), Z16, Z5
	VFMADD231PS  (R11)(BX*1), Z16, Z6
	VFMADD231PS  64(R11)(BX*1), Z16, Z7
	ADDQ         $4, AX
	ADDQ         $128, BX
	DECQ         CX
	JNZ          r5loop

r5done:
	MOVQ   mask+48(FP), R12
	MOVQ   bias+56(FP), R13
	MOVQ   relu+64(FP), R14
	MOVQ   c+32(FP), DI
	VPXORD Z17, Z17, Z17
	OUT512(Z0, 0)
	OUT512(Z1, 64)
	OUT512(Z2, 128)
	OUT512(Z3, 192)
	OUT512(Z4, 256)
	OUT512(Z5, 320)
	OUT512(Z6, 384)
	OUT512(Z7, 448)
	VZEROUPPER
	RET

// FMA256 is FMA512 for the AVX2 tile: the panel's vectors are Y12, Y13.
#define FMA256(r, t, a0, a1) \
	VBROADCASTSS (r)(AX*1), t \
	VFMADD231PS  Y12, t, a0   \
	VFMADD231PS  Y13, t, a1

// FMA256S is FMA256 with one broadcast register, Y14 (Y15 holds a mask).
#define FMA256S(r, a0, a1) \
	VBROADCASTSS (r)(AX*1), Y14 \
	VFMADD231PS  Y12, Y14, a0   \
	VFMADD231PS  Y13, Y14, a1

// FMA256L is FMA256S on the low half only (B's high half is past the
// matrix).
#define FMA256L(r, a0) \
	VBROADCASTSS (r)(AX*1), Y14 \
	VFMADD231PS  Y12, Y14, a0

// ZERO256 clears the AVX2 tile's 12 accumulators, Y0–Y11.
#define ZERO256 \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11

// STEP256 is one step of the AVX2 tile: the panel row's two vectors at
// (BX) into Y12, Y13, times each of the 6 rows' values at (R8…R13)(AX),
// broadcast into Y14 and Y15 in turn.
#define STEP256 \
	VMOVUPS (BX), Y12 \
	VMOVUPS 32(BX), Y13 \
	FMA256(R8, Y14, Y0, Y1) \
	FMA256(R9, Y15, Y2, Y3) \
	FMA256(R10, Y14, Y4, Y5) \
	FMA256(R11, Y15, Y6, Y7) \
	FMA256(R12, Y14, Y8, Y9) \
	FMA256(R13, Y15, Y10, Y11)

// STEP4R is STEP256 for the first 4 rows (R8…R11), into Y0–Y7.
#define STEP4R \
	VMOVUPS (BX), Y12 \
	VMOVUPS 32(BX), Y13 \
	FMA256(R8, Y14, Y0, Y1) \
	FMA256(R9, Y15, Y2, Y3) \
	FMA256(R10, Y14, Y4, Y5) \
	FMA256(R11, Y15, Y6, Y7)

// STEP4R24 is STEP4R on 24 columns: the panel row's two vectors at (BX)
// and the first 8 columns of the next panel's row at (BX)(R12*1), times
// the 4 rows' values at (R8…R11)(AX) (broadcast into Y14), into row r's
// Y(2r), Y(2r+1) and Y(8+r).
#define STEP4R24 \
	VMOVUPS      (BX), Y12          \
	VMOVUPS      32(BX), Y13        \
	VMOVUPS      (BX)(R12*1), Y15   \
	VBROADCASTSS (R8)(AX*1), Y14    \
	VFMADD231PS  Y12, Y14, Y0       \
	VFMADD231PS  Y13, Y14, Y1       \
	VFMADD231PS  Y15, Y14, Y8       \
	VBROADCASTSS (R9)(AX*1), Y14    \
	VFMADD231PS  Y12, Y14, Y2       \
	VFMADD231PS  Y13, Y14, Y3       \
	VFMADD231PS  Y15, Y14, Y9       \
	VBROADCASTSS (R10)(AX*1), Y14   \
	VFMADD231PS  Y12, Y14, Y4       \
	VFMADD231PS  Y13, Y14, Y5       \
	VFMADD231PS  Y15, Y14, Y10      \
	VBROADCASTSS (R11)(AX*1), Y14   \
	VFMADD231PS  Y12, Y14, Y6       \
	VFMADD231PS  Y13, Y14, Y7       \
	VFMADD231PS  Y15, Y14, Y11

// ADDBIAS4R24 adds the bias vectors Y14, Y15 (the whole panel's halves)
// and Y13 (the last panel's first 8 columns) to STEP4R24's accumulators.
#define ADDBIAS4R24 \
	VADDPS Y14, Y0, Y0   \
	VADDPS Y15, Y1, Y1   \
	VADDPS Y14, Y2, Y2   \
	VADDPS Y15, Y3, Y3   \
	VADDPS Y14, Y4, Y4   \
	VADDPS Y15, Y5, Y5   \
	VADDPS Y14, Y6, Y6   \
	VADDPS Y15, Y7, Y7   \
	VADDPS Y13, Y8, Y8   \
	VADDPS Y13, Y9, Y9   \
	VADDPS Y13, Y10, Y10 \
	VADDPS Y13, Y11, Y11

// ADDBIAS256 adds the bias vectors Y14 (low half) and Y15 (high half) to
// the 6 rows of accumulators.
#define ADDBIAS256 \
	VADDPS Y14, Y0, Y0 \
	VADDPS Y15, Y1, Y1 \
	VADDPS Y14, Y2, Y2 \
	VADDPS Y15, Y3, Y3 \
	VADDPS Y14, Y4, Y4 \
	VADDPS Y15, Y5, Y5 \
	VADDPS Y14, Y6, Y6 \
	VADDPS Y15, Y7, Y7 \
	VADDPS Y14, Y8, Y8 \
	VADDPS Y15, Y9, Y9 \
	VADDPS Y14, Y10, Y10 \
	VADDPS Y15, Y11, Y11

// RELU256 applies max(x, 0) to the 12 accumulators; it uses Y14.
#define RELU256 \
	VXORPS Y14, Y14, Y14 \
	VMAXPS Y0, Y14, Y0 \
	VMAXPS Y1, Y14, Y1 \
	VMAXPS Y2, Y14, Y2 \
	VMAXPS Y3, Y14, Y3 \
	VMAXPS Y4, Y14, Y4 \
	VMAXPS Y5, Y14, Y5 \
	VMAXPS Y6, Y14, Y6 \
	VMAXPS Y7, Y14, Y7 \
	VMAXPS Y8, Y14, Y8 \
	VMAXPS Y9, Y14, Y9 \
	VMAXPS Y10, Y14, Y10 \
	VMAXPS Y11, Y14, Y11

// CLOAD256 is CLOAD512 for the AVX2 tile, with the masks Y12, Y13.
#define CLOAD256(a0, a1, n) \
	VMASKMOVPS (DI), Y12, a0   \
	VMASKMOVPS 32(DI), Y13, a1 \
	LEAQ       (DI)(CX*1), BX  \
	CMPQ       SI, $n          \
	CMOVQGT    BX, DI

// SPILL256 stores the 6×16 tile Y0–Y11 to the 384 bytes at tile-384(SP)
// with plain stores, row by row (64 bytes a row).
#define SPILL256 \
	VMOVUPS Y0, tile-384(SP)  \
	VMOVUPS Y1, tile-352(SP)  \
	VMOVUPS Y2, tile-320(SP)  \
	VMOVUPS Y3, tile-288(SP)  \
	VMOVUPS Y4, tile-256(SP)  \
	VMOVUPS Y5, tile-224(SP)  \
	VMOVUPS Y6, tile-192(SP)  \
	VMOVUPS Y7, tile-160(SP)  \
	VMOVUPS Y8, tile-128(SP)  \
	VMOVUPS Y9, tile-96(SP)   \
	VMOVUPS Y10, tile-64(SP)  \
	VMOVUPS Y11, tile-32(SP)

// PIECES256 copies the first R10 (1…15) floats at (R8) to (DI) in pieces
// of 8, 4, 2 and 1: a partial panel's row without a masked store, which
// is microcoded on AMD cores (Zen 3 took ~25 µs more for the 43 tiles of
// a 256×100 C's last panel than for a full one). It uses AX, BX, R11, Y14.
#define PIECES256 \
	MOVQ    R10, BX               \
	XORQ    AX, AX                \
	CMPQ    BX, $8                \
	JLT     5(PC)                 \
	VMOVUPS (R8), Y14             \
	VMOVUPS Y14, (DI)             \
	MOVQ    $32, AX               \
	SUBQ    $8, BX                \
	CMPQ    BX, $4                \
	JLT     5(PC)                 \
	VMOVUPS (R8)(AX*1), X14       \
	VMOVUPS X14, (DI)(AX*1)       \
	ADDQ    $16, AX               \
	SUBQ    $4, BX                \
	CMPQ    BX, $2                \
	JLT     5(PC)                 \
	MOVQ    (R8)(AX*1), R11       \
	MOVQ    R11, (DI)(AX*1)       \
	ADDQ    $8, AX                \
	SUBQ    $2, BX                \
	TESTQ   BX, BX                \
	JZ      3(PC)                 \
	MOVL    (R8)(AX*1), R11       \
	MOVL    R11, (DI)(AX*1)

// SIGM256Y is package vmath's AVX2 sigmoid (sigmoidBiasAVX2: its SIGMOID,
// so the same bits) on Y0, result in Y7. A value with |x| > 87 or NaN,
// which vmath leaves to its scalar loop, clears bits of R12 (0xff while
// all were in range). Y14 holds 87 and Y15 the absolute-value mask; it
// uses Y0–Y3, BX; the sigmoid's constants are read from memory.
#define SIGM256Y \
	VANDPS    Y15, Y0, Y1           \
	VCMPPS    $0x12, Y14, Y1, Y2    \
	VMOVMSKPS Y2, BX                \
	ANDL      BX, R12               \
	SIGMOID(Y0, Y1, Y2, Y3, Y7, k_magic<>(SB), k_nlog2e<>(SB), k_ln2hi<>(SB), k_ln2lo<>(SB), k_p0<>(SB), k_p1n<>(SB), k_p2<>(SB), k_p3n<>(SB), k_p4<>(SB), k_one<>(SB))

// SIGM256 is SIGM256Y on the 8 values at off(DI), in place.
#define SIGM256(off) \
	VMOVUPS off(DI), Y0 \
	SIGM256Y            \
	VMOVUPS Y7, off(DI)

// SIGM256X2 is vmath's two-block SIGMOID2 on the 16 values in Y0 and Y7,
// stored at 0(DI) and 32(DI); it uses Y0–Y3, Y7–Y11 and Y15.
#define SIGM256X2 \
	SIGMOID2(Y0, Y1, Y2, Y3, Y8, Y7, Y9, Y10, Y11, Y15, k_magic<>(SB), k_nlog2e<>(SB), k_ln2hi<>(SB), k_ln2lo<>(SB), k_p0<>(SB), k_p1n<>(SB), k_p2<>(SB), k_p3n<>(SB), k_p4<>(SB), k_one<>(SB)) \
	VMOVUPS Y8, (DI) \
	VMOVUPS Y15, 32(DI)

// CLOADTILE256 loads the tile's SI rows of C at (DI), row stride CX,
// under the masks Y12, Y13 into the accumulators (CLOAD256).
#define CLOADTILE256 \
	CLOAD256(Y0, Y1, 1)        \
	CLOAD256(Y2, Y3, 2)        \
	CLOAD256(Y4, Y5, 3)        \
	CLOAD256(Y6, Y7, 4)        \
	CLOAD256(Y8, Y9, 5)        \
	VMASKMOVPS (DI), Y12, Y10  \
	VMASKMOVPS 32(DI), Y13, Y11

// STORETILE256 stores the tile's SI rows, all 16 columns, at (DI), row
// stride DX (DI moves down the rows); after fewer than 6 rows it jumps to
// done, which must follow it.
#define STORETILE256(done) \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	CMPQ    SI, $1 \
	JLE     done \
	ADDQ    DX, DI \
	VMOVUPS Y2, (DI) \
	VMOVUPS Y3, 32(DI) \
	CMPQ    SI, $2 \
	JLE     done \
	ADDQ    DX, DI \
	VMOVUPS Y4, (DI) \
	VMOVUPS Y5, 32(DI) \
	CMPQ    SI, $3 \
	JLE     done \
	ADDQ    DX, DI \
	VMOVUPS Y6, (DI) \
	VMOVUPS Y7, 32(DI) \
	CMPQ    SI, $4 \
	JLE     done \
	ADDQ    DX, DI \
	VMOVUPS Y8, (DI) \
	VMOVUPS Y9, 32(DI) \
	CMPQ    SI, $5 \
	JLE     done \
	ADDQ    DX, DI \
	VMOVUPS Y10, (DI) \
	VMOVUPS Y11, 32(DI)

// func Kern256(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int
// C[0:rows][0:16] of one 6×16 tile (rows ≤ 6): 12 accumulators Y0–Y11;
// flags as Kern512's.
TEXT ·Kern256(SB), NOSPLIT, $384-96
	MOVQ   $0, ret+88(FP)
	MOVQ   a+0(FP), R8
	MOVQ   lda+8(FP), DX
	SHLQ   $2, DX
	MOVQ   rows+48(FP), SI
	ROWPTR6
	MOVQ   flags+72(FP), BX
	TESTQ  $2, BX
	JNZ    k2load
	ZERO256
	JMP    k2start

k2load:
	MOVQ    mask+56(FP), BX
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	MOVQ    c+32(FP), DI
	MOVQ    ldc+40(FP), CX
	SHLQ    $2, CX
	CLOADTILE256

k2start:
	MOVQ  b+16(FP), BX
	MOVQ  k+24(FP), CX
	MOVQ  ks+80(FP), DX
	SHLQ  $2, DX
	XORQ  AX, AX
	TESTQ CX, CX
	JLE   k2done
	MOVQ      mask+56(FP), R14
	VMOVUPS   32(R14), Y12
	VMOVMSKPS Y12, R14
	TESTL     R14, R14
	JNZ       k2loop

	// At most 8 columns (a narrow last panel): the high half is not
	// computed (its accumulators stay as loaded, and are not stored).
k2lloop:
	VMOVUPS (BX), Y12
	FMA256L(R8, Y0)
	FMA256L(R9, Y2)
	FMA256L(R10, Y4)
	FMA256L(R11, Y6)
	FMA256L(R12, Y8)
	FMA256L(R13, Y10)
	ADDQ    DX, AX
	ADDQ    $64, BX
	DECQ    CX
	JNZ     k2lloop
	JMP     k2done

k2loop:
	STEP256
	ADDQ    DX, AX
	ADDQ    $64, BX
	DECQ    CX
	JNZ     k2loop

k2done:
	MOVQ    mask+56(FP), R8
	VMOVUPS (R8), Y12
	VMOVUPS 32(R8), Y13
	MOVQ    bias+64(FP), R9
	TESTQ   R9, R9
	JZ      k2nobias
	VMASKMOVPS (R9), Y12, Y14
	VMASKMOVPS 32(R9), Y13, Y15
	ADDBIAS256

k2nobias:
	MOVQ   flags+72(FP), R9
	TESTQ  $1, R9
	JZ     k2store
	RELU256

k2store:
	MOVQ       c+32(FP), DI
	MOVQ       ldc+40(FP), DX
	SHLQ       $2, DX
	// All 16 columns valid: plain stores (a masked store is microcoded
	// on AMD cores, tens of cycles each).
	VMOVMSKPS  Y12, R8
	VMOVMSKPS  Y13, R9
	ANDL       R9, R8
	CMPL       R8, $0xff
	JEQ        k2full
	// Fewer: the tile goes to the stack and each row's valid columns
	// from there to C (PIECES256).
	SPILL256
	VMOVMSKPS  Y12, R8
	POPCNTL    R8, R10
	POPCNTL    R9, R9
	ADDL       R9, R10
	LEAQ       tile-384(SP), R8
	MOVQ       SI, CX

k2prow:
	PIECES256
	ADDQ  $64, R8
	ADDQ  DX, DI
	DECQ  CX
	JNZ   k2prow
	JMP   k2end

k2full:
	STORETILE256(k2end)

k2end:
	MOVQ  flags+72(FP), R9
	TESTQ $4, R9
	JZ    k2ret
	// Sigmoid over the stored tile, row by row, on each half of 8
	// columns: a whole half as vmath's blocks of 8, a partial one (the
	// row's tail) read with a masked load, as vmath's zero-padded tail,
	// and written in pieces.
	VMOVMSKPS    Y12, R10
	VMOVMSKPS    Y13, R11
	VMOVUPS      Y12, Y10
	VMOVUPS      Y13, Y11
	MOVQ         c+32(FP), DI
	MOVQ         ldc+40(FP), DX
	SHLQ         $2, DX
	MOVQ         SI, CX
	MOVL         $0xff, R12
	MOVL         R10, R8
	ANDL         R11, R8
	CMPL         R8, $0xff
	JNE          k2ssetup

	// 16 valid columns: both halves of each row at once.
k2s2loop:
	VMOVUPS   (DI), Y0
	VMOVUPS   32(DI), Y7
	VANDPS    k_absmask<>(SB), Y0, Y1
	VANDPS    k_absmask<>(SB), Y7, Y8
	VCMPPS    $0x12, k_lim<>(SB), Y1, Y2
	VCMPPS    $0x12, k_lim<>(SB), Y8, Y9
	VMOVMSKPS Y2, BX
	ANDL      BX, R12
	VMOVMSKPS Y9, BX
	ANDL      BX, R12
	SIGM256X2
	ADDQ      DX, DI
	DECQ      CX
	JNZ       k2s2loop
	JMP       k2sdone

k2ssetup:
	VBROADCASTSS k_lim<>(SB), Y14
	VBROADCASTSS k_absmask<>(SB), Y15

k2sloop:
	CMPQ R10, $0xff
	JNE  k2slowm
	SIGM256(0)
	JMP  k2shalf

k2slowm:
	// A partial low half, the tile's only columns: read with a masked
	// load (the others read as 0, in range), written in pieces.
	VMASKMOVPS (DI), Y10, Y0
	SIGM256Y
	MOVQ       DI, AX
	POPCNTL    R10, BX
	JMP        k2spart

k2shalf:
	CMPQ R11, $0xff
	JNE  k2shighm
	SIGM256(32)
	JMP  k2snext

k2shighm:
	TESTQ R11, R11
	JZ    k2snext
	VMASKMOVPS 32(DI), Y11, Y0
	SIGM256Y
	LEAQ       32(DI), AX
	POPCNTL    R11, BX

k2spart:
	// The first BX (1…7) values of Y7 to (AX), in pieces of 4, 2 and 1
	// (rather than a masked store, microcoded on AMD cores).
	CMPQ         BX, $4
	JLT          k2sp2
	VMOVUPS      X7, (AX)
	VEXTRACTF128 $1, Y7, X7
	ADDQ         $16, AX
	SUBQ         $4, BX

k2sp2:
	CMPQ     BX, $2
	JLT      k2sp1
	VMOVLPS  X7, (AX)
	VMOVHLPS X7, X7, X7
	ADDQ     $8, AX
	SUBQ     $2, BX

k2sp1:
	TESTQ   BX, BX
	JZ      k2snext
	VMOVSS  X7, (AX)

k2snext:
	ADDQ DX, DI
	DECQ CX
	JNZ  k2sloop

k2sdone:
	CMPL R12, $0xff
	JEQ  k2ret
	MOVQ $1, ret+88(FP)

k2ret:
	VZEROUPPER
	RET

// OUT256 is OUT512 for the AVX2 one-row tile; Y15 holds zero. Eight
// valid columns are stored with a plain store (a masked store is
// microcoded on AMD cores); it uses AX.
#define OUT256(v, off) \
	VMOVUPS    off(R12), Y14      \
	TESTQ      R13, R13           \
	JZ         3(PC)              \
	VMASKMOVPS off(R13), Y14, Y13 \
	VADDPS     Y13, v, v          \
	TESTQ      R14, R14           \
	JZ         2(PC)              \
	VMAXPS     v, Y15, v          \
	VMOVMSKPS  Y14, AX            \
	CMPL       AX, $0xff          \
	JNE        3(PC)              \
	VMOVUPS    v, off(DI)         \
	JMP        2(PC)              \
	VMASKMOVPS v, Y14, off(DI)

// func Row256(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int)
// One row of C against up to 4 consecutive panels (64 columns): 8
// accumulators Y0–Y7.
TEXT ·Row256(SB), NOSPLIT, $0-72
	MOVQ   b+8(FP), R8
	MOVQ   pstride+16(FP), DX
	SHLQ   $2, DX
	MOVQ   panels+40(FP), SI
	PANELPTR(R8, R9, 1)
	PANELPTR(R9, R10, 2)
	PANELPTR(R10, R11, 3)
	MOVQ   a+0(FP), DI
	MOVQ   k+24(FP), CX
	XORQ   AX, AX
	XORQ   BX, BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ  CX, CX
	JLE    r2done

r2loop:
	VBROADCASTSS (DI)(AX*1), Y8
	VFMADD231PS  (R8)(BX*1), Y8, Y0
	VFMADD231PS  32(R8)(BX*1), Y8, Y1
	VFMADD231PS  (R9)(BX*1), Y8, Y2
	VFMADD231PS  32(R9)(BX*1), Y8, Y3
	VFMADD231PS  (R10)(BX*1), Y8, Y4
	VFMADD231PS  32(R10)(BX*1), Y8, Y5
	VFMADD231PS  (R11)(BX*1), Y8, Y6
	VFMADD231PS  32(R11)(BX*1), Y8, Y7
	ADDQ         $4, AX
	ADDQ         $64, BX
	DECQ         CX
	JNZ          r2loop

r2done:
	MOVQ   mask+48(FP), R12
	MOVQ   bias+56(FP), R13
	MOVQ   relu+64(FP), R14
	MOVQ   c+32(FP), DI
	VXORPS Y15, Y15, Y15
	OUT256(Y0, 0)
	OUT256(Y1, 32)
	OUT256(Y2, 64)
	OUT256(Y3, 96)
	OUT256(Y4, 128)
	OUT256(Y5, 160)
	OUT256(Y6, 192)
	OUT256(Y7, 224)
	VZEROUPPER
	RET


// func EqualRows512(b *float32, ldb int, p *float32, k int, panels int, mask *int32) bool
// 1 if B (k rows at b, row stride ldb elements) equals the packed panels
// at p bit for bit, else 0: row by row of B (read in order), row l against
// row l of each 32-column panel (panel stride k·32 values); mask applies
// to the last panel, the others are compared whole.
TEXT ·EqualRows512(SB), NOSPLIT, $0-49
	MOVQ     b+0(FP), SI
	MOVQ     ldb+8(FP), DX
	SHLQ     $2, DX
	MOVQ     p+16(FP), DI
	MOVQ     k+24(FP), CX
	MOVQ     panels+32(FP), R9
	MOVQ     mask+40(FP), BX
	VMOVUPS  (BX), Z0
	VPMOVD2M Z0, K1
	VMOVUPS  64(BX), Z0
	VPMOVD2M Z0, K2
	MOVQ     CX, R10
	SHLQ     $7, R10 // panel stride in bytes: k·32·4
	MOVQ     $1, AX
	TESTQ    CX, CX
	JLE      erend
	DECQ     R9      // full panels before the last

erloop:
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ R9, R8
	TESTQ R8, R8
	JLE  erlast

erfull:
	VMOVDQU32 (R11), Z0
	VMOVDQU32 64(R11), Z1
	VPCMPEQD  (R12), Z0, K3
	VPCMPEQD  64(R12), Z1, K4
	KANDW     K3, K4, K3
	KORTESTW  K3, K3
	JCC       erdiff // not all ones
	ADDQ      $128, R11
	ADDQ      R10, R12
	DECQ      R8
	JNZ       erfull

erlast:
	VMOVDQU32.Z (R11), K1, Z0
	VMOVDQU32.Z 64(R11), K2, Z1
	VPCMPEQD    (R12), Z0, K1, K3
	VPCMPEQD    64(R12), Z1, K2, K4
	KXORW       K1, K3, K3
	KXORW       K2, K4, K4
	KORTESTW    K3, K4
	JNZ         erdiff
	ADDQ        DX, SI
	ADDQ        $128, DI
	DECQ        CX
	JNZ         erloop
	JMP         erend

erdiff:
	XORQ AX, AX

erend:
	MOVB AX, ret+48(FP)
	VZEROUPPER
	RET

// func EqualRows256(b *float32, ldb int, p *float32, k int, panels int, mask *int32) bool
// EqualRows512 for 16-column panels with AVX2: each row's differences
// (XOR) across the panels gathered in Y2 and tested once per row; the
// last panel's lanes past mask read on neither side.
TEXT ·EqualRows256(SB), NOSPLIT, $0-49
	MOVQ    b+0(FP), SI
	MOVQ    ldb+8(FP), DX
	SHLQ    $2, DX
	MOVQ    p+16(FP), DI
	MOVQ    k+24(FP), CX
	MOVQ    panels+32(FP), R9
	MOVQ    mask+40(FP), BX
	VMOVDQU (BX), Y14
	VMOVDQU 32(BX), Y15
	MOVQ    CX, R10
	SHLQ    $6, R10 // panel stride in bytes: k·16·4
	MOVQ    $1, AX
	TESTQ   CX, CX
	JLE     e2end
	DECQ    R9      // full panels before the last

e2loop:
	MOVQ  SI, R11
	MOVQ  DI, R12
	MOVQ  R9, R8
	VPXOR Y2, Y2, Y2
	TESTQ R8, R8
	JLE   e2last

e2full:
	VMOVDQU (R11), Y0
	VMOVDQU 32(R11), Y1
	VPXOR   (R12), Y0, Y0
	VPXOR   32(R12), Y1, Y1
	VPOR    Y0, Y2, Y2
	VPOR    Y1, Y2, Y2
	ADDQ    $64, R11
	ADDQ    R10, R12
	DECQ    R8
	JNZ     e2full

e2last:
	VMASKMOVPS (R11), Y14, Y0
	VMASKMOVPS 32(R11), Y15, Y1
	VMASKMOVPS (R12), Y14, Y3
	VMASKMOVPS 32(R12), Y15, Y4
	VPXOR      Y3, Y0, Y0
	VPXOR      Y4, Y1, Y1
	VPOR       Y0, Y2, Y2
	VPOR       Y1, Y2, Y2
	VPTEST     Y2, Y2
	JNZ        e2diff
	ADDQ       DX, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        e2loop
	JMP        e2end

e2diff:
	XORQ AX, AX

e2end:
	MOVB AX, ret+48(FP)
	VZEROUPPER
	RET

// STEP512S is STEP512 for Kern512S: B's row at (BX), read under the
// column masks K1 and K2 (lanes past the matrix are neither read nor
// faulted on).
#define STEP512S \
	VMOVUPS.Z    (BX), K1, Z16       \
	VMOVUPS.Z    64(BX), K2, Z17     \
	VBROADCASTSS (R8)(AX*1), Z18     \
	VFMADD231PS  Z16, Z18, Z0        \
	VFMADD231PS  Z17, Z18, Z1        \
	VBROADCASTSS (R9)(AX*1), Z19     \
	VFMADD231PS  Z16, Z19, Z2        \
	VFMADD231PS  Z17, Z19, Z3        \
	VBROADCASTSS (R10)(AX*1), Z20    \
	VFMADD231PS  Z16, Z20, Z4        \
	VFMADD231PS  Z17, Z20, Z5        \
	VBROADCASTSS (R11)(AX*1), Z21    \
	VFMADD231PS  Z16, Z21, Z6        \
	VFMADD231PS  Z17, Z21, Z7        \
	VBROADCASTSS (R12)(AX*1), Z22    \
	VFMADD231PS  Z16, Z22, Z8        \
	VFMADD231PS  Z17, Z22, Z9        \
	VBROADCASTSS (R13)(AX*1), Z23    \
	VFMADD231PS  Z16, Z23, Z10       \
	VFMADD231PS  Z17, Z23, Z11       \
	VBROADCASTSS (R14)(AX*1), Z24    \
	VFMADD231PS  Z16, Z24, Z12       \
	VFMADD231PS  Z17, Z24, Z13       \
	VBROADCASTSS (R15)(AX*1), Z25    \
	VFMADD231PS  Z16, Z25, Z14       \
	VFMADD231PS  Z17, Z25, Z15

// func Kern512S(a *float32, lda int, b *float32, ldb int, k int, c *float32, ldc int, rows int, mask *int32, flags int, ks int)
// Kern512 with B read in place: row p of the 32 columns at b + p·ldb
// (any row stride) instead of a packed panel; no bias or activation.
// flags: 2 start from the values in C instead of 0.
TEXT ·Kern512S(SB), NOSPLIT, $0-88
	MOVQ a+0(FP), R8
	MOVQ lda+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+56(FP), SI
	ROWPTR6
	ROWPTR(R13, R14, 6)
	ROWPTR(R14, R15, 7)
	MOVQ     mask+64(FP), BX
	VMOVUPS  (BX), Z16
	VPMOVD2M Z16, K1
	VMOVUPS  64(BX), Z16
	VPMOVD2M Z16, K2
	MOVQ     flags+72(FP), BX
	TESTQ    $2, BX
	JNZ      ksload
	VPXORD   Z0, Z0, Z0
	VPXORD   Z1, Z1, Z1
	VPXORD   Z2, Z2, Z2
	VPXORD   Z3, Z3, Z3
	VPXORD   Z4, Z4, Z4
	VPXORD   Z5, Z5, Z5
	VPXORD   Z6, Z6, Z6
	VPXORD   Z7, Z7, Z7
	VPXORD   Z8, Z8, Z8
	VPXORD   Z9, Z9, Z9
	VPXORD   Z10, Z10, Z10
	VPXORD   Z11, Z11, Z11
	VPXORD   Z12, Z12, Z12
	VPXORD   Z13, Z13, Z13
	VPXORD   Z14, Z14, Z14
	VPXORD   Z15, Z15, Z15
	JMP      ksstart

ksload:
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), CX
	SHLQ $2, CX
	CLOAD512(Z0, Z1, 1)
	CLOAD512(Z2, Z3, 2)
	CLOAD512(Z4, Z5, 3)
	CLOAD512(Z6, Z7, 4)
	CLOAD512(Z8, Z9, 5)
	CLOAD512(Z10, Z11, 6)
	CLOAD512(Z12, Z13, 7)
	VMOVUPS.Z (DI), K1, Z14
	VMOVUPS.Z 64(DI), K2, Z15

ksstart:
	MOVQ  b+16(FP), BX
	MOVQ  ldb+24(FP), DI
	SHLQ  $2, DI
	MOVQ  k+32(FP), CX
	MOVQ  ks+80(FP), DX
	SHLQ  $2, DX
	XORQ  AX, AX
	TESTQ CX, CX
	JLE   ksdone

	CMPQ CX, $4
	JLT  ksloop

ksloop4:
	STEP512S
	ADDQ DX, AX
	ADDQ DI, BX
	STEP512S
	ADDQ DX, AX
	ADDQ DI, BX
	STEP512S
	ADDQ DX, AX
	ADDQ DI, BX
	STEP512S
	ADDQ DX, AX
	ADDQ DI, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  ksloop4
	TESTQ CX, CX
	JLE  ksdone

ksloop:
	STEP512S
	ADDQ DX, AX
	ADDQ DI, BX
	DECQ CX
	JNZ  ksloop

ksdone:
	MOVQ    c+40(FP), DI
	MOVQ    ldc+48(FP), DX
	SHLQ    $2, DX
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	CMPQ    SI, $1
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z2, K1, (DI)
	VMOVUPS Z3, K2, 64(DI)
	CMPQ    SI, $2
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z4, K1, (DI)
	VMOVUPS Z5, K2, 64(DI)
	CMPQ    SI, $3
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z6, K1, (DI)
	VMOVUPS Z7, K2, 64(DI)
	CMPQ    SI, $4
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K2, 64(DI)
	CMPQ    SI, $5
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z10, K1, (DI)
	VMOVUPS Z11, K2, 64(DI)
	CMPQ    SI, $6
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z12, K1, (DI)
	VMOVUPS Z13, K2, 64(DI)
	CMPQ    SI, $7
	JLE     ksend
	ADDQ    DX, DI
	VMOVUPS Z14, K1, (DI)
	VMOVUPS Z15, K2, 64(DI)

ksend:
	VZEROUPPER
	RET

// STEP12T is one step of k of Kern512x12T: B's row at (BX) under the
// column masks K1 and K2, A's 12 values at (R8), then both moved on. It
// first asks for A's and B's lines 8 rows ahead (PREFETCHT0, which never
// faults past the end): both are read with the stride of a row, 3 KiB for
// a 784-wide one, beyond what the hardware prefetchers follow. Measured in
// training, 2026-12-06, three interleaved runs each: deep and 784-32-784
// at 1 thread 3–5% more samples per second, at 2 threads within the
// noise; the products' own rate (`aekit bench --peak`) 1–8% higher — with
// the step's buffers in huge pages (train's arena); without them the same
// prefetches had changed nothing.
#define STEP12T \
	PREFETCHT0   (R8)(DX*8)      \
	PREFETCHT0   44(R8)(DX*8)    \
	PREFETCHT0   (BX)(DI*8)      \
	PREFETCHT0   64(BX)(DI*8)    \
	VMOVUPS.Z    (BX), K1, Z24   \
	VMOVUPS.Z    64(BX), K2, Z25 \
	VBROADCASTSS 0(R8), Z26 \
	VFMADD231PS  Z24, Z26, Z0 \
	VFMADD231PS  Z25, Z26, Z1 \
	VBROADCASTSS 4(R8), Z27 \
	VFMADD231PS  Z24, Z27, Z2 \
	VFMADD231PS  Z25, Z27, Z3 \
	VBROADCASTSS 8(R8), Z28 \
	VFMADD231PS  Z24, Z28, Z4 \
	VFMADD231PS  Z25, Z28, Z5 \
	VBROADCASTSS 12(R8), Z29 \
	VFMADD231PS  Z24, Z29, Z6 \
	VFMADD231PS  Z25, Z29, Z7 \
	VBROADCASTSS 16(R8), Z26 \
	VFMADD231PS  Z24, Z26, Z8 \
	VFMADD231PS  Z25, Z26, Z9 \
	VBROADCASTSS 20(R8), Z27 \
	VFMADD231PS  Z24, Z27, Z10 \
	VFMADD231PS  Z25, Z27, Z11 \
	VBROADCASTSS 24(R8), Z28 \
	VFMADD231PS  Z24, Z28, Z12 \
	VFMADD231PS  Z25, Z28, Z13 \
	VBROADCASTSS 28(R8), Z29 \
	VFMADD231PS  Z24, Z29, Z14 \
	VFMADD231PS  Z25, Z29, Z15 \
	VBROADCASTSS 32(R8), Z26 \
	VFMADD231PS  Z24, Z26, Z16 \
	VFMADD231PS  Z25, Z26, Z17 \
	VBROADCASTSS 36(R8), Z27 \
	VFMADD231PS  Z24, Z27, Z18 \
	VFMADD231PS  Z25, Z27, Z19 \
	VBROADCASTSS 40(R8), Z28 \
	VFMADD231PS  Z24, Z28, Z20 \
	VFMADD231PS  Z25, Z28, Z21 \
	VBROADCASTSS 44(R8), Z29 \
	VFMADD231PS  Z24, Z29, Z22 \
	VFMADD231PS  Z25, Z29, Z23 \
	ADDQ         DX, R8 \
	ADDQ         DI, BX

// func Kern512x12T(a *float32, ks int, b *float32, ldb int, k int, c *float32, ldc int, mask *int32, flags int)
// A full 12×32 tile of C = A·B with A stored transposed (row i, value p
// at a + i + p·ks) and B's rows at b + p·ldb: 24 accumulators Z0–Z23.
// flags: 2 start from the values in C instead of 0.
TEXT ·Kern512x12T(SB), NOSPLIT, $0-72
	MOVQ     mask+56(FP), BX
	VMOVUPS  (BX), Z24
	VPMOVD2M Z24, K1
	VMOVUPS  64(BX), Z24
	VPMOVD2M Z24, K2
	MOVQ     flags+64(FP), BX
	TESTQ    $2, BX
	JNZ      ktload
	VPXORD   Z0, Z0, Z0
	VPXORD   Z1, Z1, Z1
	VPXORD   Z2, Z2, Z2
	VPXORD   Z3, Z3, Z3
	VPXORD   Z4, Z4, Z4
	VPXORD   Z5, Z5, Z5
	VPXORD   Z6, Z6, Z6
	VPXORD   Z7, Z7, Z7
	VPXORD   Z8, Z8, Z8
	VPXORD   Z9, Z9, Z9
	VPXORD   Z10, Z10, Z10
	VPXORD   Z11, Z11, Z11
	VPXORD   Z12, Z12, Z12
	VPXORD   Z13, Z13, Z13
	VPXORD   Z14, Z14, Z14
	VPXORD   Z15, Z15, Z15
	VPXORD   Z16, Z16, Z16
	VPXORD   Z17, Z17, Z17
	VPXORD   Z18, Z18, Z18
	VPXORD   Z19, Z19, Z19
	VPXORD   Z20, Z20, Z20
	VPXORD   Z21, Z21, Z21
	VPXORD   Z22, Z22, Z22
	VPXORD   Z23, Z23, Z23
	JMP      ktstart

ktload:
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), CX
	SHLQ $2, CX
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z 64(DI), K2, Z3
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z4
	VMOVUPS.Z 64(DI), K2, Z5
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z6
	VMOVUPS.Z 64(DI), K2, Z7
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z8
	VMOVUPS.Z 64(DI), K2, Z9
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z10
	VMOVUPS.Z 64(DI), K2, Z11
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z12
	VMOVUPS.Z 64(DI), K2, Z13
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z14
	VMOVUPS.Z 64(DI), K2, Z15
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z16
	VMOVUPS.Z 64(DI), K2, Z17
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z18
	VMOVUPS.Z 64(DI), K2, Z19
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z20
	VMOVUPS.Z 64(DI), K2, Z21
	ADDQ      CX, DI
	VMOVUPS.Z (DI), K1, Z22
	VMOVUPS.Z 64(DI), K2, Z23

ktstart:
	MOVQ  a+0(FP), R8
	MOVQ  ks+8(FP), DX
	SHLQ  $2, DX
	MOVQ  b+16(FP), BX
	MOVQ  ldb+24(FP), DI
	SHLQ  $2, DI
	MOVQ  k+32(FP), CX
	TESTQ CX, CX
	JLE   ktdone
	CMPQ  CX, $4
	JLT   ktloop

ktloop4:
	STEP12T
	STEP12T
	STEP12T
	STEP12T
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  ktloop4
	TESTQ CX, CX
	JLE  ktdone

ktloop:
	STEP12T
	DECQ CX
	JNZ  ktloop

ktdone:
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), DX
	SHLQ $2, DX
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z2, K1, (DI)
	VMOVUPS Z3, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z4, K1, (DI)
	VMOVUPS Z5, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z6, K1, (DI)
	VMOVUPS Z7, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z10, K1, (DI)
	VMOVUPS Z11, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z12, K1, (DI)
	VMOVUPS Z13, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z14, K1, (DI)
	VMOVUPS Z15, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z16, K1, (DI)
	VMOVUPS Z17, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z18, K1, (DI)
	VMOVUPS Z19, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z20, K1, (DI)
	VMOVUPS Z21, K2, 64(DI)
	ADDQ    DX, DI
	VMOVUPS Z22, K1, (DI)
	VMOVUPS Z23, K2, 64(DI)
	VZEROUPPER
	RET

// func Kern256S(a *float32, lda int, b *float32, ldb int, k int, c *float32, ldc int, rows int, mask *int32, flags int, ks int)
// Kern256 with B read in place: row p of the tile's 16 columns at
// b + p·ldb; no bias or activation; flags: 2 start from C's values.
// Columns past the mask are neither read nor written.
TEXT ·Kern256S(SB), NOSPLIT, $384-88
	MOVQ   a+0(FP), R8
	MOVQ   lda+8(FP), DX
	SHLQ   $2, DX
	MOVQ   rows+56(FP), SI
	ROWPTR6
	MOVQ   mask+64(FP), BX
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	MOVQ   flags+72(FP), BX
	TESTQ  $2, BX
	JNZ    k3load
	ZERO256
	JMP    k3start

k3load:
	MOVQ    c+40(FP), DI
	MOVQ    ldc+48(FP), CX
	SHLQ    $2, CX
	CLOADTILE256

k3start:
	VMOVMSKPS Y13, R14
	MOVQ  b+16(FP), BX
	MOVQ  k+32(FP), CX
	MOVQ  ks+80(FP), DX
	SHLQ  $2, DX
	XORQ  AX, AX
	TESTQ CX, CX
	JLE   k3done
	CMPL  R14, $0xff
	JNE   k3part
	MOVQ  ldb+24(FP), R14
	SHLQ  $2, R14
	CMPQ  SI, $4
	JLE   k3loop4
	MOVQ  flags+72(FP), R15
	TESTQ $8, R15
	JZ    k3loop
	// PrefetchA: A's lines 8 steps ahead (R15), for an A too large to
	// stay in L2 whose stride the hardware does not follow.
	LEAQ  (R8)(DX*8), R15

k3ploop:
	PREFETCHT0 (R15)
	PREFETCHT0 20(R15)
	ADDQ    DX, R15
	STEP256
	ADDQ    DX, AX
	ADDQ    R14, BX
	DECQ    CX
	JNZ     k3ploop
	JMP     k3done

k3loop:
	STEP256
	ADDQ    DX, AX
	ADDQ    R14, BX
	DECQ    CX
	JNZ     k3loop
	JMP     k3done

k3loop4:
	// At most 4 rows: their 8 accumulators only (the others are not
	// stored).
	STEP4R
	ADDQ    DX, AX
	ADDQ    R14, BX
	DECQ    CX
	JNZ     k3loop4
	JMP     k3done

k3part:
	MOVL  R14, R15
	MOVQ  ldb+24(FP), R14
	SHLQ  $2, R14
	TESTL R15, R15
	JZ    k3low
	// More than 8 columns: the high half read under its mask (Y15).
	VMOVUPS Y13, Y15

k3hloop:
	VMOVUPS    (BX), Y12
	VMASKMOVPS 32(BX), Y15, Y13
	FMA256S(R8, Y0, Y1)
	FMA256S(R9, Y2, Y3)
	FMA256S(R10, Y4, Y5)
	FMA256S(R11, Y6, Y7)
	FMA256S(R12, Y8, Y9)
	FMA256S(R13, Y10, Y11)
	ADDQ       DX, AX
	ADDQ       R14, BX
	DECQ       CX
	JNZ        k3hloop
	JMP        k3done

k3low:
	// At most 8: the low half under its mask, the high half not at all.
	VMOVUPS Y12, Y15

k3lloop:
	VMASKMOVPS (BX), Y15, Y12
	FMA256L(R8, Y0)
	FMA256L(R9, Y2)
	FMA256L(R10, Y4)
	FMA256L(R11, Y6)
	FMA256L(R12, Y8)
	FMA256L(R13, Y10)
	ADDQ       DX, AX
	ADDQ       R14, BX
	DECQ       CX
	JNZ        k3lloop

k3done:
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), DX
	SHLQ $2, DX
	MOVQ mask+64(FP), R8
	VMOVUPS (R8), Y12
	VMOVUPS 32(R8), Y13
	VMOVMSKPS Y12, R9
	VMOVMSKPS Y13, R11
	MOVL R9, R10
	ANDL R11, R10
	CMPL R10, $0xff
	JEQ  k3full
	SPILL256
	POPCNTL R9, R10
	POPCNTL R11, R11
	ADDL    R11, R10
	LEAQ    tile-384(SP), R8
	MOVQ    SI, CX

k3prow:
	PIECES256
	ADDQ $64, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  k3prow
	JMP  k3end

k3full:
	STORETILE256(k3end)

k3end:
	VZEROUPPER
	RET

// func RowS256(a *float32, b *float32, ldb int, k int, c *float32, cols int, mask *int32)
// One row of C = a·B with B read in place (row l at b + l·ldb): cols = 64
// columns with 8 accumulators, Y0–Y7, or cols ≤ 32 with 4, B read under
// the 32-entry mask (lanes past cols neither read nor written). Each
// element is one chain of fused multiply-adds over l from 0.
TEXT ·RowS256(SB), NOSPLIT, $128-56
	MOVQ   a+0(FP), DI
	MOVQ   b+8(FP), R8
	MOVQ   ldb+16(FP), DX
	SHLQ   $2, DX
	MOVQ   k+24(FP), CX
	MOVQ   cols+40(FP), SI
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   SI, $64
	JNE    rsmasked
	TESTQ  CX, CX
	JLE    rsfull
	// B's lines 8 rows ahead: the rows are a stride ldb apart, and
	// prefetching them took the deep model's single sample 17.7 → 16.6 µs
	// on one thread, 10.8 → 9.6 µs on two (Zen 3, interleaved runs).
	LEAQ   (R8)(DX*8), R9

rsloop:
	PREFETCHT0   (R9)
	PREFETCHT0   64(R9)
	PREFETCHT0   128(R9)
	PREFETCHT0   192(R9)
	ADDQ         DX, R9
	VBROADCASTSS (DI)(AX*1), Y8
	VFMADD231PS  (R8), Y8, Y0
	VFMADD231PS  32(R8), Y8, Y1
	VFMADD231PS  64(R8), Y8, Y2
	VFMADD231PS  96(R8), Y8, Y3
	VFMADD231PS  128(R8), Y8, Y4
	VFMADD231PS  160(R8), Y8, Y5
	VFMADD231PS  192(R8), Y8, Y6
	VFMADD231PS  224(R8), Y8, Y7
	ADDQ         $4, AX
	ADDQ         DX, R8
	DECQ         CX
	JNZ          rsloop

rsfull:
	MOVQ    c+32(FP), DI
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VZEROUPPER
	RET

rsmasked:
	MOVQ    mask+48(FP), BX
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VMOVUPS 64(BX), Y14
	VMOVUPS 96(BX), Y15
	TESTQ   CX, CX
	JLE     rsmdone

rsmloop:
	VBROADCASTSS (DI)(AX*1), Y8
	VMASKMOVPS   (R8), Y12, Y4
	VMASKMOVPS   32(R8), Y13, Y5
	VMASKMOVPS   64(R8), Y14, Y6
	VMASKMOVPS   96(R8), Y15, Y7
	VFMADD231PS  Y4, Y8, Y0
	VFMADD231PS  Y5, Y8, Y1
	VFMADD231PS  Y6, Y8, Y2
	VFMADD231PS  Y7, Y8, Y3
	ADDQ         $4, AX
	ADDQ         DX, R8
	DECQ         CX
	JNZ          rsmloop

rsmdone:
	// The whole vectors to C, the rest (fewer than 8) through the stack
	// in pieces (PIECES256: a masked store is microcoded on AMD cores).
	VMOVUPS Y0, row-128(SP)
	VMOVUPS Y1, row-96(SP)
	VMOVUPS Y2, row-64(SP)
	VMOVUPS Y3, row-32(SP)
	MOVQ    c+32(FP), DI
	LEAQ    row-128(SP), R8
	MOVQ    SI, R10

rsmvec:
	CMPQ    R10, $8
	JLT     rsmtail
	VMOVUPS (R8), Y14
	VMOVUPS Y14, (DI)
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, R10
	JMP     rsmvec

rsmtail:
	TESTQ R10, R10
	JZ    rsmend
	PIECES256

rsmend:
	VZEROUPPER
	RET

// P256STORE stores row n's accumulators a0, a1 at (AX) and moves AX to
// the next row, or jumps to done after the last of SI rows.
#define P256STORE(a0, a1, n, done) \
	VMOVUPS a0, (AX)   \
	VMOVUPS a1, 32(AX) \
	CMPQ    SI, $n     \
	JLE     done       \
	ADDQ    DX, AX

// func Kern256P(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, panels int, mask *int32, bias *float32, relu int)
// Kern256 over panels (≥ 1) consecutive packed panels for the same rows
// of A (row-major): for each, its tile from 0, the bias (when not nil)
// and ReLU (relu ≠ 0), stored; mask (16 entries) applies to the last
// panel, the others are whole. A short k leaves a tile little work
// besides its call, which this makes once for all of a row's panels.
TEXT ·Kern256P(SB), NOSPLIT, $384-88
	MOVQ   a+0(FP), R8
	MOVQ   lda+8(FP), DX
	SHLQ   $2, DX
	MOVQ   rows+48(FP), SI
	ROWPTR6
	MOVQ   b+16(FP), BX
	MOVQ   c+32(FP), DI
	MOVQ   ldc+40(FP), DX
	SHLQ   $2, DX
	MOVQ   bias+72(FP), R15
	MOVQ   panels+56(FP), R14

p2panel:
	// The last two panels, when the last has at most 8 columns and the
	// tile at most 4 rows, go together (p2pair).
	CMPQ   R14, $2
	JNE    p2one
	CMPQ   SI, $4
	JGT    p2one
	MOVQ   mask+64(FP), CX
	MOVL   32(CX), CX
	TESTL  CX, CX
	JZ     p2pair

p2one:
	ZERO256
	MOVQ   k+24(FP), CX
	XORQ   AX, AX
	TESTQ  CX, CX
	JLE    p2kdone
	CMPQ   SI, $4
	JLE    p2loop4

p2loop:
	STEP256
	ADDQ    $4, AX
	ADDQ    $64, BX
	DECQ    CX
	JNZ     p2loop
	JMP     p2kdone

p2loop4:
	// At most 4 rows: their 8 accumulators only (Y8–Y11 stay 0 and
	// are not stored).
	STEP4R
	ADDQ    $4, AX
	ADDQ    $64, BX
	DECQ    CX
	JNZ     p2loop4

p2kdone:
	// The panel's mask: whole but for the last panel's.
	VPCMPEQD Y12, Y12, Y12
	VPCMPEQD Y13, Y13, Y13
	CMPQ     R14, $1
	JNE      p2bias
	MOVQ     mask+64(FP), CX
	VMOVUPS  (CX), Y12
	VMOVUPS  32(CX), Y13

p2bias:
	TESTQ      R15, R15
	JZ         p2relu
	VMASKMOVPS (R15), Y12, Y14
	VMASKMOVPS 32(R15), Y13, Y15
	ADDBIAS256
	ADDQ       $64, R15

p2relu:
	MOVQ   relu+80(FP), CX
	TESTQ  CX, CX
	JZ     p2store
	RELU256

p2store:
	VMOVMSKPS Y12, CX
	VMOVMSKPS Y13, AX
	ANDL      AX, CX
	CMPL      CX, $0xff
	JNE       p2part
	MOVQ      DI, AX
	P256STORE(Y0, Y1, 1, p2next)
	P256STORE(Y2, Y3, 2, p2next)
	P256STORE(Y4, Y5, 3, p2next)
	P256STORE(Y6, Y7, 4, p2next)
	P256STORE(Y8, Y9, 5, p2next)
	VMOVUPS   Y10, (AX)
	VMOVUPS   Y11, 32(AX)

p2next:
	ADDQ $64, DI
	DECQ R14
	JNZ  p2panel
	VZEROUPPER
	RET

p2pair:
	// A whole panel and the last, of at most 8 columns, on 24 columns:
	// 12 accumulators (row r's in Y(2r), Y(2r+1) and Y(8+r)) where the
	// two panels apart would run 8 and a latency-bound 4 (STEP4R24).
	ZERO256
	MOVQ   k+24(FP), CX
	MOVQ   CX, R12
	SHLQ   $6, R12
	XORQ   AX, AX
	TESTQ  CX, CX
	JLE    p2pkdone

p2ploop:
	STEP4R24
	ADDQ    $4, AX
	ADDQ    $64, BX
	DECQ    CX
	JNZ     p2ploop

p2pkdone:
	MOVQ       mask+64(FP), CX
	VMOVUPS    (CX), Y12
	TESTQ      R15, R15
	JZ         p2prelu
	VMOVUPS    (R15), Y14
	VMOVUPS    32(R15), Y15
	VMASKMOVPS 64(R15), Y12, Y13
	ADDBIAS4R24

p2prelu:
	MOVQ   relu+80(FP), CX
	TESTQ  CX, CX
	JZ     p2pstore
	RELU256

p2pstore:
	// The whole panel's rows, then the last panel's through the stack
	// in pieces (PIECES256).
	MOVQ      DI, AX
	P256STORE(Y0, Y1, 1, p2phalf)
	P256STORE(Y2, Y3, 2, p2phalf)
	P256STORE(Y4, Y5, 3, p2phalf)
	VMOVUPS   Y6, (AX)
	VMOVUPS   Y7, 32(AX)

p2phalf:
	VMOVUPS   Y8, tile-384(SP)
	VMOVUPS   Y9, tile-352(SP)
	VMOVUPS   Y10, tile-320(SP)
	VMOVUPS   Y11, tile-288(SP)
	VMOVMSKPS Y12, R10
	POPCNTL   R10, R10
	LEAQ      tile-384(SP), R8
	ADDQ      $64, DI
	MOVQ      SI, CX

p2phrow:
	PIECES256
	ADDQ $32, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  p2phrow
	VZEROUPPER
	RET

p2part:
	// The last panel, partial: through the stack in pieces (PIECES256).
	SPILL256
	VMOVMSKPS Y12, CX
	VMOVMSKPS Y13, AX
	POPCNTL   CX, R10
	POPCNTL   AX, AX
	ADDL      AX, R10
	LEAQ      tile-384(SP), R8
	MOVQ      SI, CX

p2prow:
	PIECES256
	ADDQ $64, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  p2prow
	VZEROUPPER
	RET
