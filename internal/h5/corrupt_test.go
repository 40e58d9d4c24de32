package h5

import (
	"math/rand/v2"
	"testing"
)

// TestBadImages truncates and corrupts every valid fixture, variant and
// real Keras file under 400 kB: opening and walking each copy gives an
// error or a result, never a panic (strict mode lets panics through).
// The files are taken in a fixed order and the corruptions from a seeded
// generator, so a failure repeats.
func TestBadImages(t *testing.T) {
	imgs := validImages(t)
	r := rand.New(rand.NewPCG(3, 4))
	tried := 0
	for _, b := range imgs {
		if len(b) > 400_000 {
			continue // the big files add time, not coverage
		}
		for _, n := range []int{0, 7, 8, 100, 512, len(b) / 3, len(b) / 2, len(b) - 1} {
			if f, err := open(b[:n], true); err == nil {
				fuzzWalk(f)
			}
			tried++
		}
		for i := 0; i < 50; i++ {
			c := append([]byte(nil), b...)
			for j := 0; j < 1+r.IntN(16); j++ {
				c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
			}
			if f, err := open(c, true); err == nil {
				fuzzWalk(f)
			}
			tried++
		}
	}
	if tried < 1000 {
		t.Fatalf("only %d corrupted images tried", tried)
	}
	t.Logf("%d truncated or corrupted images: no panic", tried)
}
