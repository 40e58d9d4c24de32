//go:build cgo

package h5

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestScratchFuzz(t *testing.T) {
	seed, _ := strconv.Atoi(os.Getenv("SEED"))
	if seed == 0 {
		t.Skip()
	}
	imgs := hdf5Images(t)
	r := rand.New(rand.NewPCG(uint64(seed), 4))
	for name, b := range imgs {
		if len(b) > 400_000 {
			continue
		}
		for i := 0; i < 20; i++ {
			c := append([]byte(nil), b...)
			for j := 0; j < 8; j++ {
				c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
			}
			st := time.Now()
			f, err := Open(c)
			if err == nil {
				walkStrict(t, f, false)
				f.Close()
			}
			if d := time.Since(st); d > time.Second {
				t.Logf("%s iteration %d took %v", name, i, d)
			}
		}
	}
}
