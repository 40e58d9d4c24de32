package train

import "testing"

// TestSpanCoversBlocks checks that the chunks of span tile [0, n) in whole
// blocks, in order, and that chunk 0 gets at least as many blocks as any
// other chunk.
func TestSpanCoversBlocks(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 129, 256, 300, 784} {
		for threads := 1; threads <= 4; threads++ {
			next, share0 := n, -1
			for c := 0; c < threads; c++ {
				lo, hi := span(c, threads, n)
				if hi < lo || lo%blockRows != 0 || (hi != next && hi > lo) {
					t.Fatalf("n=%d t=%d: chunk %d is [%d, %d)", n, threads, c, lo, hi)
				}
				if hi > lo {
					next = lo
				}
				blocks := (hi - lo + blockRows - 1) / blockRows
				if c == 0 {
					share0 = blocks
				} else if blocks > share0 {
					t.Errorf("n=%d t=%d: chunk %d has %d blocks, chunk 0 only %d", n, threads, c, blocks, share0)
				}
			}
			if next != 0 {
				t.Errorf("n=%d t=%d: rows [0, %d) in no chunk", n, threads, next)
			}
		}
	}
}
