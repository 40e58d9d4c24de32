package kernel

import (
	"runtime"
	"sync"
)

// parallelMin is the smallest product, in multiply-adds m·n·k, that an
// Engine splits over several goroutines. Below it the hand-off costs more
// than it saves (measured with BenchmarkEngine; a batch-1 product is far
// below it and always runs on the caller's goroutine).
const parallelMin = 1 << 18

// Engine runs kernels on up to Threads goroutines: the caller's and
// Threads−1 workers it starts. It carries the thread count instead of a
// process-wide setting, so two parts of a program can use different counts.
//
// A nil *Engine, or one with one thread, runs everything on the caller's
// goroutine. An Engine serializes the products it splits: several
// goroutines may share one, but they take turns; give each concurrent
// caller its own Engine (or a nil one) when they should run side by side.
// Close stops the workers.
type Engine struct {
	threads int
	mu      sync.Mutex // serializes split products
	jobs    chan gemmJob
	done    chan struct{}
	closed  bool
}

// gemmJob is one block of a split product.
type gemmJob struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// NewEngine returns an Engine with the given number of threads; zero or
// less means runtime.GOMAXPROCS(0), all the cores Go may use.
func NewEngine(threads int) *Engine {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	e := &Engine{threads: threads}
	if threads > 1 {
		e.jobs = make(chan gemmJob, threads)
		e.done = make(chan struct{}, threads)
		for i := 1; i < threads; i++ {
			go e.worker()
		}
	}
	return e
}

// Threads returns the number of goroutines e runs a product on, 1 for a
// nil Engine.
func (e *Engine) Threads() int {
	if e == nil {
		return 1
	}
	return e.threads
}

// Close stops e's workers. Using e after Close runs everything on the
// caller's goroutine. Close is idempotent.
func (e *Engine) Close() {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed && e.jobs != nil {
		close(e.jobs)
	}
	e.closed = true
}

func (e *Engine) worker() {
	for j := range e.jobs {
		gemm(j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
		e.done <- struct{}{}
	}
}

// Gemm is Gemm run on e's goroutines: C is cut into blocks of rows (or of
// columns when it has few rows) computed side by side. Products smaller
// than about 2¹⁸ multiply-adds run on the caller's goroutine. The result is
// bitwise the same as Gemm's for the same variant when the variant's
// rounding does not depend on the block shape; OpenBLAS's and gonum's do
// not for the shapes tested (see TestEngineMatchesGemm). It does not
// allocate.
func (e *Engine) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	t := e.Threads()
	if t == 1 || m*n*k < parallelMin {
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	const align = 16 // rows per micro-tile in OpenBLAS's AVX-512 sgemm
	byRows := m >= n || m >= t*align
	dim := n
	if byRows {
		dim = m
	}
	parts := min(t, (dim+align-1)/align)
	step := (dim + parts - 1) / parts
	step = (step + align - 1) / align * align
	var mine gemmJob
	sent := 0
	for lo := 0; lo < dim; lo += step {
		hi := min(lo+step, dim)
		j := gemmJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
			a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
		if byRows {
			j.m = hi - lo
			if transA {
				j.a = a[lo:]
			} else {
				j.a = a[lo*lda:]
			}
			j.c = c[lo*ldc:]
		} else {
			j.n = hi - lo
			if transB {
				j.b = b[lo*ldb:]
			} else {
				j.b = b[lo:]
			}
			j.c = c[lo:]
		}
		if lo == 0 {
			mine = j
			continue
		}
		e.jobs <- j
		sent++
	}
	gemm(mine.transA, mine.transB, mine.m, mine.n, mine.k, mine.alpha, mine.a, mine.lda, mine.b, mine.ldb, mine.beta, mine.c, mine.ldc)
	for ; sent > 0; sent-- {
		<-e.done
	}
}
