package pool

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// SpinFor is how long a waiting goroutine spins before it parks: long
// enough to cover the Go code between two jobs of a training step, between
// two steps and between two Predict calls, short enough that an idle pool
// soon stops using the processors.
const SpinFor = 50 * time.Microsecond

// Pool runs a function on t chunks of work at once (see Run). A nil Pool,
// or one of 1 thread, runs everything in the caller. Spinning is used only
// when every worker can have a processor of its own (t ≤ GOMAXPROCS when
// the Pool is made); otherwise a spinning worker would hold the processor
// another one needs, and the Pool always parks.
//
// A Pool runs one job at a time: Run must not be called concurrently.
type Pool struct {
	t    int
	spin bool
	fn   func(c, t int) // the job in progress; written before gen is bumped

	gen  atomic.Uint64 // number of jobs handed out; bumping it starts one
	done atomic.Int32  // workers that finished the current job
	quit atomic.Bool

	// panicked holds the first panic of a worker during the current job,
	// which Run raises again in the caller's goroutine.
	panicked atomic.Pointer[any]

	// A goroutine that parks sets its sleeping flag, checks once more for
	// what it waits for, and blocks on its wake channel (capacity 1). Whoever
	// clears the flag with a compare-and-swap owes it one send; a sleeper
	// that clears its own flag owes nothing.
	sleeping     []atomic.Bool // per worker (index c-1)
	wake         []chan struct{}
	mainSleeping atomic.Bool
	mainWake     chan struct{}
}

// New returns a Pool of t threads (at least 1): the caller's and t−1
// workers it starts now. Close stops them.
func New(t int) *Pool {
	p := &Pool{t: max(t, 1)}
	p.spin = p.t <= runtime.GOMAXPROCS(0)
	p.sleeping = make([]atomic.Bool, p.t-1)
	p.mainWake = make(chan struct{}, 1)
	p.wake = make([]chan struct{}, p.t-1)
	for i := range p.wake {
		p.wake[i] = make(chan struct{}, 1)
	}
	for c := 1; c < p.t; c++ {
		go p.work(c)
	}
	return p
}

// Threads returns the number of chunks Run cuts a job into: 1 for a nil
// Pool.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.t
}

// work is worker c's loop: wait for a job, run chunk c of it, report.
func (p *Pool) work(c int) {
	debug.SetPanicOnFault(true) // for this goroutine, which ends with the pool
	var seen uint64
	for {
		p.await(&p.sleeping[c-1], p.wake[c-1], func() bool { return p.gen.Load() != seen || p.quit.Load() })
		if p.quit.Load() {
			return
		}
		seen++ // Run waits for every worker, so jobs start one at a time
		p.call(c)
		if p.done.Add(1) == int32(p.t-1) && p.mainSleeping.CompareAndSwap(true, false) {
			p.mainWake <- struct{}{}
		}
	}
}

// call runs worker c's share of the current job. Memory faults (a mapped
// data file truncated under it) panic instead of killing the process
// (debug.SetPanicOnFault), and a panic is kept for Run to raise in the
// caller's goroutine.
func (p *Pool) call(c int) {
	defer func() {
		if r := recover(); r != nil {
			p.keep(r)
		}
	}()
	p.fn(c, p.t)
}

// keep records a worker's panic (out of line: r escapes only here).
func (p *Pool) keep(r any) { p.panicked.CompareAndSwap(nil, &r) }

// await returns once ready reports true: it spins for up to SpinFor (when
// the pool spins), then parks on wake with the sleeping protocol above.
func (p *Pool) await(sleeping *atomic.Bool, wake chan struct{}, ready func() bool) {
	if ready() {
		return
	}
	if p.spin {
		start := time.Now()
		for i := 1; ; i++ {
			if ready() {
				return
			}
			if i%256 == 0 {
				if time.Since(start) > SpinFor {
					break
				}
				runtime.Gosched()
			}
		}
	}
	for !ready() {
		sleeping.Store(true)
		if ready() {
			if !sleeping.CompareAndSwap(true, false) {
				<-wake // a waker cleared the flag first and sends
			}
			return
		}
		<-wake
	}
}

// Run calls fn(c, t) for c = 0..t-1 concurrently, chunk 0 in the caller's
// goroutine, and returns when all have returned. A panic in a worker's
// chunk (memory faults included) is raised again in the caller's
// goroutine once every chunk is done; a panic in the caller's chunk goes
// on once the workers' chunks are done, so that the pool is ready for
// the next job. After Close, or on a nil Pool, Run calls fn(0, 1) alone.
func (p *Pool) Run(fn func(c, t int)) {
	if p == nil || p.t == 1 || p.quit.Load() {
		fn(0, 1)
		return
	}
	p.fn = fn
	p.done.Store(0)
	p.gen.Add(1)
	p.wakeWorkers()
	returned := false
	defer p.finish(&returned)
	fn(0, p.t)
	returned = true
}

// finish waits for the workers' chunks of the current job and raises a
// worker's panic when the caller's chunk returned.
func (p *Pool) finish(returned *bool) {
	last := int32(p.t - 1)
	p.await(&p.mainSleeping, p.mainWake, func() bool { return p.done.Load() == last })
	p.fn = nil
	if r := p.panicked.Swap(nil); r != nil && *returned {
		panic(*r) // a worker's panic, raised where the caller can recover it
	}
}

// wakeWorkers sends to every parked worker.
func (p *Pool) wakeWorkers() {
	for i := range p.sleeping {
		if p.sleeping[i].CompareAndSwap(true, false) {
			p.wake[i] <- struct{}{}
		}
	}
}

// Close stops the workers; it is idempotent, and a nil Pool's Close does
// nothing. Close must not run concurrently with Run.
func (p *Pool) Close() {
	if p == nil || !p.quit.CompareAndSwap(false, true) {
		return
	}
	p.wakeWorkers()
}
