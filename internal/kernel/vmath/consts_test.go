package vmath

import (
	"testing"

	"github.com/aekit/aekit/internal/golden"
)

// TestGoldenAsmConsts checks that this package's and package tile's
// consts_amd64.h are what asmConsts generates; with -update (go generate)
// it writes them.
func TestGoldenAsmConsts(t *testing.T) {
	h := asmConstsHeader()
	golden.Check(t, "consts_amd64.h", h)
	golden.Check(t, "../tile/consts_amd64.h", h)
}
