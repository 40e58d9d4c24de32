package train

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// pool runs a function on t chunks of work at once: chunk 0 in the calling
// goroutine, the others in long-lived workers, so that a training step
// starts no goroutines and allocates nothing. A nil pool, or one with
// t == 1, runs everything in the caller.
//
// A step hands its workers 10 to 30 short jobs (one per layer and pass,
// 10–400 µs each), so the hand-off must cost far less than waking a parked
// thread, which measured 12–18 µs per job here and made 2 threads slower
// than 1. Workers therefore spin on a job counter for up to spinFor after
// each job before they park on a channel, and the caller spins the same way
// while it waits for them. Spinning is used only when every worker can
// have a processor of its own (t ≤ GOMAXPROCS); otherwise a spinning worker
// would hold the processor another one needs, and the pool always parks.
type pool struct {
	t    int
	spin bool
	fn   func(c, t int) // the job in progress; written before gen is bumped

	gen  atomic.Uint64 // number of jobs handed out; bumping it starts one
	done atomic.Int32  // workers that finished the current job
	quit atomic.Bool

	// panicked holds the first panic of a worker during the current job,
	// which run raises again in the caller's goroutine.
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

// spinFor is how long a waiting goroutine spins before it parks: long
// enough to cover the Go code between two jobs of a step and between two
// steps, short enough that an idle pool soon stops using the processors.
const spinFor = 50 * time.Microsecond

func newPool(t int) *pool {
	p := &pool{t: max(t, 1)}
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

// work is worker c's loop: wait for a job, run chunk c of it, report.
func (p *pool) work(c int) {
	debug.SetPanicOnFault(true) // for this goroutine, which ends with the pool
	var seen uint64
	for {
		p.await(&p.sleeping[c-1], p.wake[c-1], func() bool { return p.gen.Load() != seen || p.quit.Load() })
		if p.quit.Load() {
			return
		}
		seen++ // run waits for every worker, so jobs start one at a time
		p.call(c)
		if p.done.Add(1) == int32(p.t-1) && p.mainSleeping.CompareAndSwap(true, false) {
			p.mainWake <- struct{}{}
		}
	}
}

// await returns once ready reports true: it spins for up to spinFor (when
// the pool spins), then parks on wake with the sleeping protocol above.
// call runs worker c's share of the current job. Memory faults (a mapped
// data file truncated under it) panic instead of killing the process
// (debug.SetPanicOnFault), and a panic is kept for run to raise in the
// caller's goroutine, where Fit turns a fault into an error.
func (p *pool) call(c int) {
	defer func() {
		if r := recover(); r != nil {
			p.keep(r)
		}
	}()
	p.fn(c, p.t)
}

// keep records a worker's panic (out of line: r escapes only here).
func (p *pool) keep(r any) { p.panicked.CompareAndSwap(nil, &r) }

func (p *pool) await(sleeping *atomic.Bool, wake chan struct{}, ready func() bool) {
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
				if time.Since(start) > spinFor {
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

// run calls fn(c, t) for c = 0..t-1 concurrently and waits for all.
func (p *pool) run(fn func(c, t int)) {
	if p == nil || p.t == 1 {
		fn(0, 1)
		return
	}
	p.fn = fn
	p.done.Store(0)
	p.gen.Add(1)
	p.wakeWorkers()
	fn(0, p.t)
	last := int32(p.t - 1)
	p.await(&p.mainSleeping, p.mainWake, func() bool { return p.done.Load() == last })
	p.fn = nil
	if r := p.panicked.Swap(nil); r != nil {
		panic(*r) // a worker's panic, raised where the caller can recover it
	}
}

// wakeWorkers sends to every parked worker.
func (p *pool) wakeWorkers() {
	for i := range p.sleeping {
		if p.sleeping[i].CompareAndSwap(true, false) {
			p.wake[i] <- struct{}{}
		}
	}
}

// close stops the workers.
func (p *pool) close() {
	if p == nil || !p.quit.CompareAndSwap(false, true) {
		return
	}
	p.wakeWorkers()
}

// blockRows is the number of rows (or columns) of every block a step's
// matrix products are cut into, whatever the number of threads (the last
// block may be shorter); threads take whole blocks. A BLAS may round a
// row differently depending on the shape of the product it is in
// (OpenBLAS picks other kernels for small or ragged blocks), so fixed
// blocks are what makes results independent of the thread count. 128
// rather than 64: measured on the products of a batch-256 step, 64-row
// blocks cost 11–15% over one call per product, 128-row blocks about 5%,
// and two 128-row blocks still give 2 threads one each.
const blockRows = 128

// span returns chunk c of t of the range [0, n): a run of whole blocks of
// blockRows rows (the last block possibly shorter), possibly empty. When
// the blocks do not divide evenly, chunk 0 (the caller's, which starts at
// once, while workers may have to be woken) gets the larger share, and
// a single block goes to chunk 0 alone.
func span(c, t, n int) (lo, hi int) {
	nb := (n + blockRows - 1) / blockRows
	c = t - 1 - c
	return min(c*nb/t*blockRows, n), min((c+1)*nb/t*blockRows, n)
}
