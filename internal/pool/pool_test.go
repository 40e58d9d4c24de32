package pool

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunsEveryChunkOnce runs jobs back to back (workers spinning), with
// pauses longer than SpinFor (workers parked), and with more chunks than
// processors (no spinning at all), and checks that every chunk of every
// job runs exactly once, with the pool's t, before Run returns.
func TestRunsEveryChunkOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, runtime.GOMAXPROCS(0) + 2} {
		for _, pause := range []time.Duration{0, 3 * SpinFor} {
			t.Run(fmt.Sprintf("threads=%d/pause=%v", threads, pause), func(t *testing.T) {
				p := New(threads)
				defer p.Close()
				if p.Threads() != threads {
					t.Fatalf("Threads() = %d, want %d", p.Threads(), threads)
				}
				counts := make([]atomic.Int32, threads)
				jobs := 300
				if pause > 0 {
					jobs = 20
				}
				for j := 0; j < jobs; j++ {
					var bad atomic.Bool
					p.Run(func(c, n int) {
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

// TestCloseStopsWorkers checks that Close ends the worker goroutines,
// whether they are spinning or parked, and that Run then calls fn(0, 1)
// alone, as on a nil Pool.
func TestCloseStopsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, pause := range []time.Duration{0, 3 * SpinFor} {
		p := New(3)
		p.Run(func(c, n int) {})
		time.Sleep(pause)
		p.Close()
		p.Close() // a second close is harmless
		calls := 0
		p.Run(func(c, n int) {
			if c != 0 || n != 1 {
				t.Errorf("after Close: chunk %d of %d", c, n)
			}
			calls++
		})
		if calls != 1 {
			t.Errorf("after Close: %d calls, want 1", calls)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNil: a nil Pool runs the caller's chunk alone, and closes.
func TestNil(t *testing.T) {
	var p *Pool
	calls := 0
	p.Run(func(c, n int) {
		if c != 0 || n != 1 {
			t.Errorf("chunk %d of %d", c, n)
		}
		calls++
	})
	p.Close()
	if calls != 1 || p.Threads() != 1 {
		t.Errorf("calls %d, Threads() %d", calls, p.Threads())
	}
}

// TestPanics: a panic in a worker's chunk or in the caller's reaches
// Run's caller only after every other chunk has returned, and the pool
// runs the next job.
func TestPanics(t *testing.T) {
	for _, bad := range []int{0, 2} {
		p := New(3)
		var finished atomic.Int32
		got := func() (r any) {
			defer func() { r = recover() }()
			p.Run(func(c, n int) {
				if c == bad {
					panic(c)
				}
				time.Sleep(5 * time.Millisecond)
				finished.Add(1)
			})
			return nil
		}()
		if got != bad || finished.Load() != 2 {
			t.Errorf("chunk %d panicking: recovered %v with %d other chunks finished, want its panic after 2", bad, got, finished.Load())
		}
		var ran atomic.Int32
		p.Run(func(c, n int) { ran.Add(1) })
		if ran.Load() != 3 {
			t.Errorf("chunk %d panicked: next job ran %d chunks, want 3", bad, ran.Load())
		}
		p.Close()
	}
}

// TestRunNoAllocs: handing out a job allocates nothing.
func TestRunNoAllocs(t *testing.T) {
	p := New(2)
	defer p.Close()
	fn := func(c, n int) {}
	if a := testing.AllocsPerRun(100, func() { p.Run(fn) }); a != 0 {
		t.Errorf("Run allocates %v times per call", a)
	}
}

// BenchmarkRun measures the hand-off of an empty job to the workers and
// back, back to back (workers spinning).
func BenchmarkRun(b *testing.B) {
	for _, threads := range []int{2, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := New(threads)
			defer p.Close()
			fn := func(c, n int) {}
			for b.Loop() {
				p.Run(fn)
			}
		})
	}
}
