package keras

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestScratchCorrupt(t *testing.T) {
	h5b := written(t, FormatH5)
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 300; i++ {
		c := append([]byte(nil), h5b...)
		for j := 0; j < 4; j++ {
			c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
		}
		Read(bytes.NewReader(c), nil)
	}
}
