package train

import "sync"

// pool runs a function on t chunks of work at once: chunk 0 in the calling
// goroutine, the others in long-lived workers, so that a training step
// starts no goroutines and allocates nothing. A nil pool, or one with
// t == 1, runs everything in the caller.
type pool struct {
	t    int
	jobs []chan func(c, t int)
	wg   sync.WaitGroup
}

func newPool(t int) *pool {
	p := &pool{t: max(t, 1)}
	for i := 1; i < p.t; i++ {
		ch := make(chan func(c, t int))
		p.jobs = append(p.jobs, ch)
		go func(c int) {
			for fn := range ch {
				fn(c, p.t)
				p.wg.Done()
			}
		}(i)
	}
	return p
}

// run calls fn(c, t) for c = 0..t-1 concurrently and waits for all.
func (p *pool) run(fn func(c, t int)) {
	if p == nil || p.t == 1 {
		fn(0, 1)
		return
	}
	p.wg.Add(p.t - 1)
	for _, ch := range p.jobs {
		ch <- fn
	}
	fn(0, p.t)
	p.wg.Wait()
}

// close stops the workers.
func (p *pool) close() {
	if p == nil {
		return
	}
	for _, ch := range p.jobs {
		close(ch)
	}
	p.jobs = nil
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
// blockRows rows (the last block possibly shorter), possibly empty.
func span(c, t, n int) (lo, hi int) {
	nb := (n + blockRows - 1) / blockRows
	return min(c*nb/t*blockRows, n), min((c+1)*nb/t*blockRows, n)
}
