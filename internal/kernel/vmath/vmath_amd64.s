//go:build amd64 && !purego

#include "textflag.h"
#include "consts_amd64.h"

// INRANGE2 goes to out unless every value of the blocks xa and xb is
// within the vector exp's range (|x| ≤ 87, not NaN); it clobbers ta, tb
// and BX.
#define INRANGE2(xa, xb, ta, tb, out) \
	VANDPS    k_absmask<>(SB), xa, ta \
	VANDPS    k_absmask<>(SB), xb, tb \
	VCMPPS    $0x12, k_lim<>(SB), ta, ta \
	VCMPPS    $0x12, k_lim<>(SB), tb, tb \
	VANDPS    tb, ta, ta \
	VMOVMSKPS ta, BX \
	CMPL      BX, $0xff \
	JNE       out

// SUMLOSS adds the 8 float32 loss terms in y (x its low half) to the
// float64 sum in Y10, low half first; it clobbers y and t.
#define SUMLOSS(y, x, t) \
	VCVTPS2PD    x, t        \
	VADDPD       t, Y10, Y10 \
	VEXTRACTF128 $1, y, x    \
	VCVTPS2PD    x, t        \
	VADDPD       t, Y10, Y10

// Vectorised float32 sigmoid and binary cross-entropy, 8 values per
// iteration with AVX2 and FMA, on the macros of consts_amd64.h (SIGMOID,
// BCEGRAD, BCELOSS; generated from consts.go, where their steps are
// explained). See vmath_amd64.go for the contracts.

// func sigmoidBiasAVX2(dst, bias []float32) int
//
// Two blocks of 8 go through s2loop at once (SIGMOID2: the instructions of
// the one-block loop sloop's SIGMOID, interleaved, so the same bits);
// sloop takes over where a block is out of range or fewer than 16 values
// are left. Six of the sigmoid's ten constants stay in Y10–Y15, the
// others are read from memory (measured on Zen 3, register loops: 8.6
// cycles per 8 values with all ten from memory, 7.2 so; over a block in
// L1 9.8 and 8.1).
TEXT ·sigmoidBiasAVX2(SB), NOSPLIT, $0-56
	MOVQ    dst_base+0(FP), DI
	MOVQ    dst_len+8(FP), CX
	MOVQ    bias_base+24(FP), SI
	MOVQ    bias_len+32(FP), DX
	ANDQ    $-8, CX
	XORQ    AX, AX
	VMOVUPS k_magic<>(SB), Y10
	VMOVUPS k_one<>(SB), Y11
	VMOVUPS k_p1n<>(SB), Y12
	VMOVUPS k_p3n<>(SB), Y13
	VMOVUPS k_p2<>(SB), Y14
	VMOVUPS k_p4<>(SB), Y15

	// Block A in Y0–Y4 (σ in Y4), block B in Y5–Y9 (σ in Y9).
s2loop:
	LEAQ    16(AX), R9
	CMPQ    R9, CX
	JGT     sloop
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y5
	TESTQ   DX, DX
	JZ      s2nobias
	VADDPS  (SI)(AX*4), Y0, Y0
	VADDPS  32(SI)(AX*4), Y5, Y5

s2nobias:
	INRANGE2(Y0, Y5, Y1, Y6, sloop)
	SIGMOID2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, k_nlog2e<>(SB), k_ln2hi<>(SB), k_ln2lo<>(SB), k_p0<>(SB), Y12, Y14, Y13, Y15, Y11)
	VMOVUPS Y4, (DI)(AX*4)
	VMOVUPS Y9, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     s2loop

sloop:
	CMPQ    AX, CX
	JGE     send
	VMOVUPS (DI)(AX*4), Y0
	TESTQ   DX, DX
	JZ      snobias
	VADDPS  (SI)(AX*4), Y0, Y0

snobias:
	VANDPS    k_absmask<>(SB), Y0, Y1
	VCMPPS    $0x12, k_lim<>(SB), Y1, Y1 // |x| ≤ 87, false for NaN
	VMOVMSKPS Y1, BX
	CMPL      BX, $0xff
	JNE       send
	SIGMOID(Y0, Y1, Y2, Y3, Y4, Y10, k_nlog2e<>(SB), k_ln2hi<>(SB), k_ln2lo<>(SB), k_p0<>(SB), Y12, Y14, Y13, Y15, Y11)
	VMOVUPS   Y4, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       sloop

send:
	MOVQ AX, ret+48(FP)
	VZEROUPPER
	RET

// func bceLogitsAVX2(dz, z, y []float32, scale float32) (n int, loss float64)
//
// Two blocks of 8 go through the loop b2loop at once (BCEGRAD2 and
// BCELOSS2: the one-block loop bloop's BCEGRAD and BCELOSS, interleaved,
// so the same bits); their loss terms are added to the sum in order.
// bloop takes over where a block is out of range or fewer than 16 values
// are left, and btail does a last 1…7 values as a block of 8 whose other
// lanes read 0 (a masked load) and add +0 to the sum, storing dz in
// pieces (a masked store is microcoded on AMD cores): in a 100-wide row
// the 4 values the Go loop did took as long as the 96 before them.
TEXT ·bceLogitsAVX2(SB), NOSPLIT, $32-96
	MOVQ         dz_base+0(FP), DI
	MOVQ         dz_len+8(FP), R8
	MOVQ         z_base+24(FP), SI
	MOVQ         z_len+32(FP), CX
	MOVQ         y_base+48(FP), DX
	ANDQ         $-8, CX
	XORQ         AX, AX
	VBROADCASTSS scale+72(FP), Y15
	VXORPD       Y10, Y10, Y10 // Σ loss terms, 4 float64 lanes

	// Block A in Y0–Y6, block B in Y7–Y9 and Y11–Y14.
b2loop:
	LEAQ    16(AX), R9
	CMPQ    R9, CX
	JGT     bloop
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y7
	INRANGE2(Y0, Y7, Y1, Y8, bloop)
	BCEGRAD2(Y0, Y1, Y2, Y3, Y4, Y5, (DX)(AX*4), Y7, Y8, Y9, Y11, Y12, Y13, 32(DX)(AX*4), Y15)
	TESTQ   R8, R8
	JZ      3(PC)
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y8, 32(DI)(AX*4)
	BCELOSS2(Y0, Y1, Y2, Y3, Y4, Y5, Y6, (DX)(AX*4), Y7, Y8, Y9, Y11, Y12, Y13, Y14, 32(DX)(AX*4))
	SUMLOSS(Y3, X3, Y1)
	SUMLOSS(Y11, X11, Y8)
	ADDQ    $16, AX
	JMP     b2loop

bloop:
	CMPQ      AX, CX
	JGE       btail
	VMOVUPS   (SI)(AX*4), Y0 // z
	VANDPS    k_absmask<>(SB), Y0, Y1
	VCMPPS    $0x12, k_lim<>(SB), Y1, Y2
	VMOVMSKPS Y2, BX
	CMPL      BX, $0xff
	JNE       bend
	BCEGRAD(Y0, Y1, Y2, Y3, Y4, Y5, (DX)(AX*4), Y15)
	TESTQ     R8, R8
	JZ        2(PC)
	VMOVUPS   Y1, (DI)(AX*4)
	BCELOSS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, (DX)(AX*4))
	SUMLOSS(Y3, X3, Y1)
	ADDQ      $8, AX
	JMP       bloop

btail:
	MOVQ       z_len+32(FP), R9
	SUBQ       AX, R9 // 0…7 values left
	JLE        bend
	LEAQ       tailmask<>+32(SB), R11
	SHLQ       $2, R9
	SUBQ       R9, R11
	SHRQ       $2, R9
	VMOVUPS    (R11), Y7 // R9 lanes set
	VMASKMOVPS (SI)(AX*4), Y7, Y0
	VMASKMOVPS (DX)(AX*4), Y7, Y8
	VANDPS     k_absmask<>(SB), Y0, Y1
	VCMPPS     $0x12, k_lim<>(SB), Y1, Y2
	VMOVMSKPS  Y2, BX
	CMPL       BX, $0xff
	JNE        bend
	BCEGRAD(Y0, Y1, Y2, Y3, Y4, Y5, Y8, Y15)
	TESTQ      R8, R8
	JZ         btloss
	VMOVUPS    Y1, t-32(SP)
	LEAQ       t-32(SP), R13
	LEAQ       (DI)(AX*4), R12
	MOVQ       R9, R10
	CMPQ       R10, $4
	JLT        bt2
	VMOVUPS    (R13), X9
	VMOVUPS    X9, (R12)
	ADDQ       $16, R13
	ADDQ       $16, R12
	SUBQ       $4, R10

bt2:
	CMPQ R10, $2
	JLT  bt1
	MOVQ (R13), R11
	MOVQ R11, (R12)
	ADDQ $8, R13
	ADDQ $8, R12
	SUBQ $2, R10

bt1:
	TESTQ R10, R10
	JZ    btloss
	MOVL  (R13), R11
	MOVL  R11, (R12)

btloss:
	BCELOSS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y8)
	VANDPS  Y7, Y3, Y3 // the other lanes' terms to +0
	SUMLOSS(Y3, X3, Y1)
	ADDQ    R9, AX

bend:
	VEXTRACTF128 $1, Y10, X0
	VADDPD       X0, X10, X0
	VHADDPD      X0, X0, X0
	MOVQ         AX, n+80(FP)
	MOVSD        X0, loss+88(FP)
	VZEROUPPER
	RET

// tailmask is 8 lanes set and 8 clear: tailmask+32−4r holds the mask of
// the first r lanes.
DATA tailmask<>+0(SB)/4, $0xffffffff
DATA tailmask<>+4(SB)/4, $0xffffffff
DATA tailmask<>+8(SB)/4, $0xffffffff
DATA tailmask<>+12(SB)/4, $0xffffffff
DATA tailmask<>+16(SB)/4, $0xffffffff
DATA tailmask<>+20(SB)/4, $0xffffffff
DATA tailmask<>+24(SB)/4, $0xffffffff
DATA tailmask<>+28(SB)/4, $0xffffffff
DATA tailmask<>+32(SB)/4, $0
DATA tailmask<>+36(SB)/4, $0
DATA tailmask<>+40(SB)/4, $0
DATA tailmask<>+44(SB)/4, $0
DATA tailmask<>+48(SB)/4, $0
DATA tailmask<>+52(SB)/4, $0
DATA tailmask<>+56(SB)/4, $0
DATA tailmask<>+60(SB)/4, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// func reluBiasAVX2(dst, bias []float32) int
TEXT ·reluBiasAVX2(SB), NOSPLIT, $0-56
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   bias_base+24(FP), SI
	MOVQ   bias_len+32(FP), DX
	ANDQ   $-8, CX
	XORQ   AX, AX
	VXORPS Y9, Y9, Y9

rloop:
	CMPQ    AX, CX
	JGE     rend
	VMOVUPS (DI)(AX*4), Y0
	TESTQ   DX, DX
	JZ      rnobias
	VADDPS  (SI)(AX*4), Y0, Y0

rnobias:
	VMAXPS  Y0, Y9, Y0 // 0 > x ? 0 : x, so NaN stays NaN
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     rloop

rend:
	MOVQ AX, ret+48(FP)
	VZEROUPPER
	RET

// The AVX-512 kernels do whole blocks of 16 and a masked tail. K1 is the
// block's lane mask; R10 holds the length.

// TAILMASK sets K1 to the lanes left (all 16, or the R9 < 16 of the tail).
#define TAILMASK(lbl) \
	MOVL  $0xffff, BX \
	CMPQ  R9, $16     \
	JGE   lbl         \
	MOVL  $16, CX     \
	SUBL  R9, CX      \
	SHRL  CX, BX      \
lbl:                  \
	KMOVW BX, K1

// EXPF512 computes Z5 = e^Z3 for -87 ≤ Z3 ≤ 0, using Z4 (n) and Z6; Z12
// holds 1.0 and Z13 log2(e).
#define EXPF512 \
	VMULPS           Z13, Z3, Z4            \
	VRNDSCALEPS      $0, Z4, Z4             \
	VFNMADD231PS.BCST k_ln2hi<>(SB), Z4, Z3 \
	VFNMADD231PS.BCST k_ln2lo<>(SB), Z4, Z3 \
	VBROADCASTSS     k_e0<>(SB), Z5         \
	VFMADD213PS.BCST k_e1<>(SB), Z3, Z5     \
	VFMADD213PS.BCST k_e2<>(SB), Z3, Z5     \
	VFMADD213PS.BCST k_e3<>(SB), Z3, Z5     \
	VFMADD213PS.BCST k_e4<>(SB), Z3, Z5     \
	VFMADD213PS.BCST k_e5<>(SB), Z3, Z5     \
	VMULPS           Z3, Z3, Z6             \
	VFMADD213PS      Z3, Z6, Z5             \
	VADDPS           Z12, Z5, Z5            \
	VSCALEFPS        Z4, Z5, Z5

// RECIP512 sets Z7 = 1/Z6 for Z6 in [1, 2]: VRCP14PS and one Newton step,
// using Z8.
#define RECIP512 \
	VRCP14PS     Z6, Z7      \
	VMOVAPS      Z12, Z8     \
	VFNMADD231PS Z7, Z6, Z8  \
	VFMADD213PS  Z7, Z8, Z7

// func sigmoidBiasAVX512(dst, bias []float32) int
TEXT ·sigmoidBiasAVX512(SB), NOSPLIT, $0-56
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), R10
	MOVQ         bias_base+24(FP), SI
	MOVQ         bias_len+32(FP), DX
	XORQ         AX, AX
	VBROADCASTSS k_absmask<>(SB), Z15
	VBROADCASTSS k_lim<>(SB), Z14
	VBROADCASTSS k_log2e<>(SB), Z13
	VBROADCASTSS k_one<>(SB), Z12
	VPXORD       Z9, Z9, Z9

zloop:
	MOVQ R10, R9
	SUBQ AX, R9
	JLE  zend
	TAILMASK(zmask)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	TESTQ     DX, DX
	JZ        znobias
	VADDPS.Z  (SI)(AX*4), Z0, K1, Z0

znobias:
	VPANDD   Z15, Z0, Z1
	VCMPPS   $0x12, Z14, Z1, K1, K2 // active lanes with |x| ≤ 87
	KMOVW    K1, BX
	KMOVW    K2, R11
	CMPL     BX, R11
	JNE      zend
	VSUBPS   Z1, Z9, Z3
	EXPF512
	VADDPS   Z12, Z5, Z6
	RECIP512                  // σ(|x|) = 1/(1+e)
	VCMPPS   $0x01, Z9, Z0, K3 // x < 0
	VMULPS   Z5, Z7, K3, Z7    // σ(−|x|) = e/(1+e) there
	VMOVUPS  Z7, K1, (DI)(AX*4)
	ADDQ     $16, AX
	JMP      zloop

zend:
	CMPQ    AX, R10
	CMOVQGT R10, AX
	MOVQ    AX, ret+48(FP)
	VZEROUPPER
	RET

// func reluBiasAVX512(dst, bias []float32) int
TEXT ·reluBiasAVX512(SB), NOSPLIT, $0-56
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), R10
	MOVQ   bias_base+24(FP), SI
	MOVQ   bias_len+32(FP), DX
	XORQ   AX, AX
	VPXORD Z9, Z9, Z9

qloop:
	MOVQ R10, R9
	SUBQ AX, R9
	JLE  qend
	TAILMASK(qmask)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	TESTQ     DX, DX
	JZ        qnobias
	VADDPS.Z  (SI)(AX*4), Z0, K1, Z0

qnobias:
	VMAXPS  Z0, Z9, Z0
	VMOVUPS Z0, K1, (DI)(AX*4)
	ADDQ    $16, AX
	JMP     qloop

qend:
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// func bceLogitsAVX512(dz, z, y []float32, scale float32) (n int, loss float64)
TEXT ·bceLogitsAVX512(SB), NOSPLIT, $0-96
	MOVQ         dz_base+0(FP), DI
	MOVQ         dz_len+8(FP), R8
	MOVQ         z_base+24(FP), SI
	MOVQ         z_len+32(FP), R10
	MOVQ         y_base+48(FP), DX
	VBROADCASTSS scale+72(FP), Z11
	XORQ         AX, AX
	VBROADCASTSS k_lim<>(SB), Z14
	VBROADCASTSS k_log2e<>(SB), Z13
	VBROADCASTSS k_one<>(SB), Z12
	VPXORD       Z9, Z9, Z9
	VPXORQ       Z10, Z10, Z10 // Σ loss terms, 8 float64 lanes
	VBROADCASTSS k_sqrt2<>(SB), Z16
	VSUBPS       Z12, Z16, Z16         // √2 − 1 (exact)
	VBROADCASTSS k_half<>(SB), Z17
	VPTERNLOGD   $0xff, Z18, Z18, Z18
	VPSLLD       $31, Z18, Z18         // sign bit
	VPORD        Z18, Z14, Z14         // −lim

cloop:
	MOVQ R10, R9
	SUBQ AX, R9
	JLE  cend
	TAILMASK(cmask)
	VMOVUPS.Z    (SI)(AX*4), K1, Z0    // z
	VPORD        Z18, Z0, Z3           // −|z|
	VCMPPS       $0x19, Z14, Z3, K1, K2 // active lanes with −|z| < −lim or NaN
	KORTESTW     K2, K2
	JNZ          cend
	EXPF512                            // Z5 = e = exp(−|z|)
	VADDPS       Z12, Z5, Z6           // v = 1 + e
	VSUBPS       Z12, Z6, Z3           // v − 1 (exact: v in [1, 2])
	VRCP14PS     Z6, Z7                // RECIP512's steps, v consumed
	VFNMADD213PS Z12, Z7, Z6
	VFMADD213PS  Z7, Z6, Z7            // Z7 = r = 1/v
	VSUBPS       Z3, Z5, Z8            // e − (v−1)
	VMULPS       Z7, Z8, Z8            // c = (e − (v−1))/v
	VCMPPS       $0x01, Z9, Z0, K3
	VMULPS       Z5, Z7, K3, Z7        // σ(z)
	VMOVUPS.Z    (DX)(AX*4), K1, Z1    // y
	TESTQ        R8, R8
	JZ           cnograd
	VSUBPS       Z1, Z7, Z7
	VMULPS       Z11, Z7, Z7
	VMOVUPS      Z7, K1, (DI)(AX*4)    // dz = (σ − y)·scale

cnograd:
	VMAXPS            Z9, Z0, Z2       // max(z, 0)
	VFNMADD231PS      Z1, Z0, Z2       // − z·y
	// v = 2ⁿ·f with f in [1, 2) and f > √2 halved (n + 1), as logf
	// splits it: v in [1, 2] gives n = 0 and f − 1 = v − 1 for v ≤ √2,
	// n = 1 and f − 1 = v/2 − 1 = (v−1)·½ − ½ (exact) above.
	VCMPPS            $0x1e, Z16, Z3, K4 // v − 1 > √2 − 1
	VMOVAPS           Z3, Z5
	VFMSUB213PS       Z17, Z17, K4, Z5 // f − 1
	VMOVAPS.Z         Z12, K4, Z4      // n
	VMULPS            Z5, Z5, Z6       // f²
	VBROADCASTSS      k_l0<>(SB), Z7
	VFMADD213PS.BCST  k_l1<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l2<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l3<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l4<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l5<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l6<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l7<>(SB), Z5, Z7
	VFMADD213PS.BCST  k_l8<>(SB), Z5, Z7
	VMULPS            Z5, Z7, Z7
	VMULPS            Z6, Z7, Z7
	VFMADD231PS.BCST  k_lnlo<>(SB), Z4, Z7
	VFNMADD231PS.BCST k_half<>(SB), Z6, Z7
	VADDPS            Z7, Z5, Z7
	VFMADD231PS.BCST  k_lnhi<>(SB), Z4, Z7
	VADDPS            Z8, Z7, Z7       // log1p(e)
	VADDPS.Z          Z7, Z2, K1, Z2   // loss term, 0 in inactive lanes
	VCVTPS2PD         Y2, Z3
	VADDPD            Z3, Z10, Z10
	VEXTRACTF64X4     $1, Z2, Y2
	VCVTPS2PD         Y2, Z3
	VADDPD            Z3, Z10, Z10
	ADDQ              $16, AX
	JMP               cloop

cend:
	CMPQ          AX, R10
	CMOVQGT       R10, AX
	VEXTRACTF64X4 $1, Z10, Y0
	VADDPD        Y0, Y10, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VHADDPD       X0, X0, X0
	MOVQ          AX, n+80(FP)
	MOVSD         X0, loss+88(FP)
	VZEROUPPER
	RET

// func addBiasAVX2(dst, bias []float32) int
TEXT ·addBiasAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ bias_base+24(FP), SI
	ANDQ $-8, CX
	XORQ AX, AX

aloop2:
	CMPQ    AX, CX
	JGE     aend2
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     aloop2

aend2:
	MOVQ AX, ret+48(FP)
	VZEROUPPER
	RET

// func addBiasAVX512(dst, bias []float32) int
TEXT ·addBiasAVX512(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R10
	MOVQ bias_base+24(FP), SI
	XORQ AX, AX

aloop:
	MOVQ R10, R9
	SUBQ AX, R9
	JLE  aend
	TAILMASK(amask)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VADDPS.Z  (SI)(AX*4), Z0, K1, Z0
	VMOVUPS   Z0, K1, (DI)(AX*4)
	ADDQ      $16, AX
	JMP       aloop

aend:
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// Adam: the argument frame of adamAVX2 and adamAVX512 is
// w, g, m, v []float32 (0, 24, 48, 72), alpha, c1, c2, eps float32
// (96–108), gLim, mLim, vLim uint32 (112–120) and the result (128). The
// arithmetic is the Go loop's, operation for operation, with no fused
// multiply-add and the same operand order (which decides the payload when
// two operands are NaN); a block with a lane x whose magnitude bits a
// satisfy 0 < a < lim stops the kernel. a < lim with a ≠ 0 is tested as
// the signed a+0x7fffffff < lim+0x7fffffff.

// func adamAVX2(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int
TEXT ·adamAVX2(SB), NOSPLIT, $0-136
	MOVQ         w_base+0(FP), DI
	MOVQ         w_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	VBROADCASTSS alpha+96(FP), Y8
	VBROADCASTSS c1+100(FP), Y9
	VBROADCASTSS c2+104(FP), Y10
	VBROADCASTSS eps+108(FP), Y11
	MOVL         gLim+112(FP), BX
	ADDL         $0x7fffffff, BX
	MOVD         BX, X12
	VPBROADCASTD X12, Y12
	MOVL         mLim+116(FP), BX
	ADDL         $0x7fffffff, BX
	MOVD         BX, X13
	VPBROADCASTD X13, Y13
	MOVL         vLim+120(FP), BX
	ADDL         $0x7fffffff, BX
	MOVD         BX, X14
	VPBROADCASTD X14, Y14
	VBROADCASTSS k_absmask<>(SB), Y15
	MOVL         $0x7fffffff, BX
	MOVD         BX, X7
	VPBROADCASTD X7, Y7
	ANDQ         $-8, CX
	XORQ         AX, AX

adloop2:
	CMPQ     AX, CX
	JGE      adend2
	VMOVUPS  (SI)(AX*4), Y0 // g
	VMOVUPS  (DX)(AX*4), Y1 // m
	VMOVUPS  (R8)(AX*4), Y2 // v
	VPAND    Y15, Y0, Y3
	VPADDD   Y7, Y3, Y3
	VPCMPGTD Y3, Y12, Y3
	VPAND    Y15, Y1, Y4
	VPADDD   Y7, Y4, Y4
	VPCMPGTD Y4, Y13, Y4
	VPOR     Y4, Y3, Y3
	VPAND    Y15, Y2, Y4
	VPADDD   Y7, Y4, Y4
	VPCMPGTD Y4, Y14, Y4
	VPOR     Y4, Y3, Y3
	VPTEST   Y3, Y3
	JNZ      adend2
	VSUBPS   Y1, Y0, Y3 // g − m
	VMULPS   Y9, Y3, Y3 // ·c1
	VADDPS   Y1, Y3, Y1 // m' = t + m
	VMULPS   Y0, Y0, Y4 // g·g
	VSUBPS   Y2, Y4, Y4 // − v
	VMULPS   Y10, Y4, Y4 // ·c2
	VADDPS   Y2, Y4, Y2 // v' = t + v
	VMOVUPS  Y1, (DX)(AX*4)
	VMOVUPS  Y2, (R8)(AX*4)
	VSQRTPS  Y2, Y5
	VADDPS   Y11, Y5, Y5 // √v' + ε
	VMULPS   Y8, Y1, Y6 // m'·α
	VDIVPS   Y5, Y6, Y6
	VMOVUPS  (DI)(AX*4), Y5
	VSUBPS   Y6, Y5, Y5
	VMOVUPS  Y5, (DI)(AX*4)
	ADDQ     $8, AX
	JMP      adloop2

adend2:
	MOVQ AX, ret+128(FP)
	VZEROUPPER
	RET

// func adamAVX512(w, g, m, v []float32, alpha, c1, c2, eps float32, gLim, mLim, vLim uint32) int
TEXT ·adamAVX512(SB), NOSPLIT, $0-136
	MOVQ         w_base+0(FP), DI
	MOVQ         w_len+8(FP), R10
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	VBROADCASTSS alpha+96(FP), Z8
	VBROADCASTSS c1+100(FP), Z9
	VBROADCASTSS c2+104(FP), Z10
	VBROADCASTSS eps+108(FP), Z11
	MOVL         gLim+112(FP), BX
	ADDL         $0x7fffffff, BX
	VPBROADCASTD BX, Z12
	MOVL         mLim+116(FP), BX
	ADDL         $0x7fffffff, BX
	VPBROADCASTD BX, Z13
	MOVL         vLim+120(FP), BX
	ADDL         $0x7fffffff, BX
	VPBROADCASTD BX, Z14
	VBROADCASTSS k_absmask<>(SB), Z15
	MOVL         $0x7fffffff, BX
	VPBROADCASTD BX, Z7
	// The dead-unit path's constants: c1 and α as float64, 0.5, the
	// exponent, mantissa and sign masks, zero.
	MOVSS        c1+100(FP), X0
	CVTSS2SD     X0, X0
	VBROADCASTSD X0, Z16
	MOVSS        alpha+96(FP), X0
	CVTSS2SD     X0, X0
	VBROADCASTSD X0, Z17
	MOVQ         $0x3fe0000000000000, BX
	VPBROADCASTQ BX, Z18
	MOVL         $0x7f800000, BX
	VPBROADCASTD BX, Z19
	MOVL         $0x007fffff, BX
	VPBROADCASTD BX, Z20
	MOVL         $0x80000000, BX
	VPBROADCASTD BX, Z21
	VPXORD       Z22, Z22, Z22
	XORQ         AX, AX

adloop:
	MOVQ R10, R9
	SUBQ AX, R9
	JLE  adend
	TAILMASK(admask)
	VMOVUPS.Z (SI)(AX*4), K1, Z0 // g
	VMOVUPS.Z (DX)(AX*4), K1, Z1 // m
	VMOVUPS.Z (R8)(AX*4), K1, Z2 // v
	VPANDD    Z15, Z0, Z3
	VPADDD    Z7, Z3, Z3
	VPCMPGTD  Z3, Z12, K1, K2
	VPANDD    Z15, Z1, Z4
	VPADDD    Z7, Z4, Z4
	VPCMPGTD  Z4, Z13, K1, K3
	KORW      K3, K2, K2
	VPANDD    Z15, Z2, Z4
	VPADDD    Z7, Z4, Z4
	VPCMPGTD  Z4, Z14, K1, K3
	KORTESTW  K3, K2
	JNZ       addead
	VSUBPS    Z1, Z0, Z3 // g − m
	VMULPS    Z9, Z3, Z3 // ·c1
	VADDPS    Z1, Z3, Z1 // m' = t + m
	VMULPS    Z0, Z0, Z4 // g·g
	VSUBPS    Z2, Z4, Z4 // − v
	VMULPS    Z10, Z4, Z4 // ·c2
	VADDPS    Z2, Z4, Z2 // v' = t + v
	VMOVUPS   Z1, K1, (DX)(AX*4)
	VMOVUPS   Z2, K1, (R8)(AX*4)
	VSQRTPS   Z2, Z5
	VADDPS    Z11, Z5, Z5 // √v' + ε
	VMULPS    Z8, Z1, Z6 // m'·α
	VDIVPS    Z5, Z6, Z6
	VMOVUPS.Z (DI)(AX*4), K1, Z5
	VSUBPS    Z6, Z5, Z5
	VMOVUPS   Z5, K1, (DI)(AX*4)
	ADDQ      $16, AX
	JMP       adloop

addead:
	// A block with tiny values. Where every one of them is a dead
	// unit's weight (g = ±0, w ≠ 0, v finite and not tiny, m subnormal:
	// deadMoment's case), do it here: m's units k become k − round(k·c1)
	// (ties to even, in float64, exact), the weight stays when that
	// times α is at most ½, and v takes the ordinary path (whose
	// operations on g = 0 are the Go loop's). Any other tiny lane, or a
	// step that does not round to zero, stops the kernel as before.
	KORW          K3, K2, K4           // tiny lanes
	VPTESTNMD     Z15, Z0, K1, K5      // g = ±0
	VPTESTNMD     Z19, Z1, K5, K5      // m subnormal (or zero)
	KANDNW        K5, K3, K5           // v not tiny
	VPANDD        Z15, Z2, Z24
	VPCMPD        $1, Z19, Z24, K5, K5 // v finite
	VMOVUPS.Z     (DI)(AX*4), K1, Z23  // w
	VPTESTMD      Z15, Z23, K5, K5     // w ≠ 0
	KANDNW        K4, K5, K6           // tiny lanes that are not dead ones
	KORTESTW      K6, K6
	JNZ           adend
	VPANDD        Z20, Z1, Z24         // k
	VCVTDQ2PD     Y24, Z25
	VEXTRACTI64X4 $1, Z24, Y26
	VCVTDQ2PD     Y26, Z26
	VMULPD        Z16, Z25, Z27
	VRNDSCALEPD   $0, Z27, Z27
	VSUBPD        Z27, Z25, Z25        // k' = k − round(k·c1), lanes 0–7
	VMULPD        Z16, Z26, Z27
	VRNDSCALEPD   $0, Z27, Z27
	VSUBPD        Z27, Z26, Z26        // lanes 8–15
	VMULPD        Z17, Z25, Z27
	VCMPPD        $0x1e, Z18, Z27, K6  // k'·α > ½
	VMULPD        Z17, Z26, Z27
	VCMPPD        $0x1e, Z18, Z27, K7
	KUNPCKBW      K6, K7, K6
	KANDW         K6, K5, K6
	KORTESTW      K6, K6
	JNZ           adend
	VCVTPD2DQ     Z25, Y25
	VCVTPD2DQ     Z26, Y26
	VINSERTI64X4  $1, Y26, Z25, Z25    // k' as int32
	VPANDD        Z21, Z1, Z24         // m's sign
	VPTESTMD      Z25, Z25, K5, K6     // k' ≠ 0
	VPORD.Z       Z24, Z25, K6, Z27    // m' (+0 where k' = 0)
	VMOVDQU32     Z22, K5, Z1          // m = 0 in the dead lanes: no subnormal operand below
	VSUBPS        Z1, Z0, Z3           // g − m
	VMULPS        Z9, Z3, Z3           // ·c1
	VADDPS        Z1, Z3, Z1           // m' = t + m
	VMULPS        Z0, Z0, Z4           // g·g
	VSUBPS        Z2, Z4, Z4           // − v
	VMULPS        Z10, Z4, Z4          // ·c2
	VADDPS        Z2, Z4, Z2           // v' = t + v
	VMULPS        Z8, Z1, Z6           // m'·α (0 in the dead lanes)
	VMOVDQU32     Z27, K5, Z1          // the dead lanes' m'
	VMOVUPS       Z1, K1, (DX)(AX*4)
	VMOVUPS       Z2, K1, (R8)(AX*4)
	VSQRTPS       Z2, Z5
	VADDPS        Z11, Z5, Z5          // √v' + ε
	VDIVPS        Z5, Z6, Z6
	VSUBPS        Z6, Z23, Z5
	VMOVDQU32     Z23, K5, Z5          // the dead lanes' w unchanged
	VMOVUPS       Z5, K1, (DI)(AX*4)
	ADDQ          $16, AX
	JMP           adloop

adend:
	CMPQ    AX, R10
	CMOVQGT R10, AX
	MOVQ    AX, ret+128(FP)
	VZEROUPPER
	RET

// func reluGradAVX2(d, z []float32) int
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-56
	MOVQ         d_base+0(FP), DI
	MOVQ         d_len+8(FP), CX
	MOVQ         z_base+24(FP), SI
	ANDQ         $-8, CX
	XORQ         AX, AX
	VXORPS       Y9, Y9, Y9
	VBROADCASTSS k_one<>(SB), Y12

rgloop2:
	CMPQ    AX, CX
	JGE     rgend2
	VMOVUPS (SI)(AX*4), Y1
	VCMPPS  $0x1e, Y9, Y1, Y2 // z > 0 (ordered: NaN is not)
	VANDPS  Y12, Y2, Y2       // 1 there, +0 elsewhere
	VMOVUPS (DI)(AX*4), Y0
	VMULPS  Y2, Y0, Y0        // d·g, as the Go loop
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     rgloop2

rgend2:
	MOVQ AX, ret+48(FP)
	VZEROUPPER
	RET

// func sigmoidGradAVX2(d, y []float32) int
//
// d·(y·(1 − y)) in the order and with the operands of the Go loop's
// compiled code: t = 1 − y, u = t·y, u·d with u first (so where d and y
// are both NaN the result keeps y's payload, as the loop's does).
TEXT ·sigmoidGradAVX2(SB), NOSPLIT, $0-56
	MOVQ         d_base+0(FP), DI
	MOVQ         d_len+8(FP), CX
	MOVQ         y_base+24(FP), SI
	ANDQ         $-8, CX
	XORQ         AX, AX
	VBROADCASTSS k_one<>(SB), Y12

sgloop:
	CMPQ    AX, CX
	JGE     sgend
	VMOVUPS (SI)(AX*4), Y1
	VSUBPS  Y1, Y12, Y2 // 1 − y
	VMULPS  Y1, Y2, Y2  // (1 − y)·y
	VMOVUPS (DI)(AX*4), Y0
	VMULPS  Y0, Y2, Y0  // u·d
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     sgloop

sgend:
	MOVQ AX, ret+48(FP)
	VZEROUPPER
	RET

// func reluGradAVX512(d, z []float32) int
TEXT ·reluGradAVX512(SB), NOSPLIT, $0-56
	MOVQ         d_base+0(FP), DI
	MOVQ         d_len+8(FP), R10
	MOVQ         z_base+24(FP), SI
	XORQ         AX, AX
	VPXORD       Z9, Z9, Z9
	VBROADCASTSS k_one<>(SB), Z12

rgloop:
	MOVQ R10, R9
	SUBQ AX, R9
	JLE  rgend
	TAILMASK(rgmask)
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VCMPPS    $0x1e, Z9, Z1, K1, K2 // z > 0 (ordered: NaN is not)
	VMOVAPS.Z Z12, K2, Z2           // 1 there, +0 elsewhere
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMULPS    Z2, Z0, Z0            // d·g, as the Go loop
	VMOVUPS   Z0, K1, (DI)(AX*4)
	ADDQ      $16, AX
	JMP       rgloop

rgend:
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET
