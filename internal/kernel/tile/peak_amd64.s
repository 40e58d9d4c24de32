//go:build amd64 && !purego

#include "textflag.h"

// FMA-bound loops for MeasurePeak: 12 independent accumulator chains (the
// FMA latency of 4–5 cycles times 2 FMA units needs at least 10), each
// adding 1·1 per iteration, so that every lane ends holding the number of
// iterations. The accumulators are stored to out for the caller to count.

// func FMALoop512(n int, out *[12 * 16]float32)
TEXT ·FMALoop512(SB), NOSPLIT, $0-16
	MOVQ         n+0(FP), CX
	MOVQ         out+8(FP), DI
	MOVL         $0x3f800000, AX
	VPBROADCASTD AX, Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	TESTQ        CX, CX
	JLE          p512done

p512loop:
	VFMADD231PS Z31, Z31, Z0
	VFMADD231PS Z31, Z31, Z1
	VFMADD231PS Z31, Z31, Z2
	VFMADD231PS Z31, Z31, Z3
	VFMADD231PS Z31, Z31, Z4
	VFMADD231PS Z31, Z31, Z5
	VFMADD231PS Z31, Z31, Z6
	VFMADD231PS Z31, Z31, Z7
	VFMADD231PS Z31, Z31, Z8
	VFMADD231PS Z31, Z31, Z9
	VFMADD231PS Z31, Z31, Z10
	VFMADD231PS Z31, Z31, Z11
	DECQ        CX
	JNZ         p512loop

p512done:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VZEROUPPER
	RET

// func FMALoop256(n int, out *[12 * 8]float32)
TEXT ·FMALoop256(SB), NOSPLIT, $0-16
	MOVQ         n+0(FP), CX
	MOVQ         out+8(FP), DI
	MOVL         $0x3f800000, AX
	MOVL         AX, X15
	VBROADCASTSS X15, Y15
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11
	TESTQ        CX, CX
	JLE          p256done

p256loop:
	VFMADD231PS Y15, Y15, Y0
	VFMADD231PS Y15, Y15, Y1
	VFMADD231PS Y15, Y15, Y2
	VFMADD231PS Y15, Y15, Y3
	VFMADD231PS Y15, Y15, Y4
	VFMADD231PS Y15, Y15, Y5
	VFMADD231PS Y15, Y15, Y6
	VFMADD231PS Y15, Y15, Y7
	VFMADD231PS Y15, Y15, Y8
	VFMADD231PS Y15, Y15, Y9
	VFMADD231PS Y15, Y15, Y10
	VFMADD231PS Y15, Y15, Y11
	DECQ        CX
	JNZ         p256loop

p256done:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VMOVUPS Y8, 256(DI)
	VMOVUPS Y9, 288(DI)
	VMOVUPS Y10, 320(DI)
	VMOVUPS Y11, 352(DI)
	VZEROUPPER
	RET

// func AddChain(n int) int
// n iterations of 16 dependent one-cycle integer additions: 16·n cycles.
// The addend is a register: cores from Golden Cove on fold additions of an
// immediate at rename, which would run the chain faster than the clock.
TEXT ·AddChain(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	XORQ AX, AX
	MOVQ $1, BX
	TESTQ CX, CX
	JLE  adone

aloop:
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	ADDQ BX, AX
	DECQ CX
	JNZ  aloop

adone:
	MOVQ AX, ret+8(FP)
	RET
