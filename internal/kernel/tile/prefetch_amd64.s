//go:build amd64 && !purego

#include "textflag.h"

// func PrefetchLines(p *float32, n int)
TEXT ·PrefetchLines(SB), NOSPLIT, $0-16
	MOVQ  p+0(FP), AX
	MOVQ  n+8(FP), CX
	TESTQ CX, CX
	JLE   pfdone

pfloop:
	PREFETCHT0 (AX)
	ADDQ       $64, AX
	DECQ       CX
	JNZ        pfloop

pfdone:
	RET
