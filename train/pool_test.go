package train

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRunsEveryChunkOnce runs jobs back to back (workers spinning),
// with pauses longer than spinFor (workers parked), and with more chunks
// than processors (no spinning at all), and checks that every chunk of
// every job runs exactly once, with the pool's t, before run returns.
func TestPoolRunsEveryChunkOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, runtime.GOMAXPROCS(0) + 2} {
		for _, pause := range []time.Duration{0, 3 * spinFor} {
			t.Run(fmt.Sprintf("threads=%d/pause=%v", threads, pause), func(t *testing.T) {
				p := newPool(threads)
				defer p.close()
				counts := make([]atomic.Int32, threads)
				jobs := 300
				if pause > 0 {
					jobs = 20
				}
				for j := 0; j < jobs; j++ {
					var bad atomic.Bool
					p.run(func(c, n int) {
						if n != threads || c < 0 || c >= threads {
							bad.Store(true)
							return
						}
						counts[c].Add(1)
					})
					if bad.Load() {
						t.Fatalf("job %d: chunk called with a wrong index or count", j)
					}
					for c := range counts {
						if got := counts[c].Load(); got != int32(j+1) {
							t.Fatalf("after job %d, chunk %d ran %d times, want %d", j, c, got, j+1)
						}
					}
					time.Sleep(pause)
				}
			})
		}
	}
}

// TestPoolCloseStopsWorkers checks that close ends the worker goroutines,
// whether they are spinning or parked.
func TestPoolCloseStopsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, pause := range []time.Duration{0, 3 * spinFor} {
		p := newPool(3)
		p.run(func(c, n int) {})
		time.Sleep(pause)
		p.close()
		p.close() // a second close is harmless
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

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
