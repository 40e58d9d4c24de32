package serve

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aekit/aekit/score"
)

// Errors of the batcher, mapped to protocol status codes by the
// handlers.
var (
	// ErrOverloaded reports a request refused because its model's queue
	// (Config.MaxQueue rows) or the server's in-flight requests
	// (Config.MaxInflight) are full: HTTP 429, gRPC RESOURCE_EXHAUSTED.
	ErrOverloaded = errors.New("server overloaded")
	// ErrUnavailable reports a request for a model being unloaded or a
	// server shutting down: HTTP 503, gRPC UNAVAILABLE.
	ErrUnavailable = errors.New("model unavailable")
)

// job is one request's rows on their way through a batcher.
type job struct {
	x         []float32 // n rows of the model's input
	n         int
	wantScore bool
	y         []float32 // n rows of output, filled by the worker
	scores    []float32 // n scores when wantScore
	err       error
	done      chan struct{}
}

// batcher merges the jobs of one model into batches of up to maxBatch
// rows and runs them on its workers.
type batcher struct {
	mo       *model
	maxBatch int
	delay    time.Duration
	maxQueue int64
	met      *metrics

	mu     sync.RWMutex // guards closed against sends on q
	closed bool
	q      chan *job
	exec   chan []*job
	queued atomic.Int64 // rows in q and in the batch being formed
	wg     sync.WaitGroup
}

func newBatcher(mo *model, cfg *Config, workers int, met *metrics) *batcher {
	b := &batcher{mo: mo, maxBatch: cfg.MaxBatch, delay: cfg.MaxDelay, maxQueue: int64(cfg.MaxQueue), met: met,
		q: make(chan *job, cfg.MaxQueue), exec: make(chan []*job)}
	b.wg.Add(1 + workers)
	go b.collect()
	for range workers {
		go b.work()
	}
	return b
}

// submit queues j; it fails with ErrOverloaded when the queue is full and
// ErrUnavailable once the batcher is closed. Then j.done is closed when
// the job has run.
func (b *batcher) submit(j *job) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrUnavailable
	}
	if b.queued.Add(int64(j.n)) > b.maxQueue {
		b.queued.Add(-int64(j.n))
		return ErrOverloaded
	}
	b.met.queue.WithLabelValues(b.mo.src.name).Add(float64(j.n))
	j.done = make(chan struct{})
	b.q <- j // never blocks: q holds maxQueue jobs of at least one row
	return nil
}

// close stops accepting jobs; the jobs queued still run. It waits for
// the workers to finish them.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.q)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// collect forms batches: it takes a first job, adds jobs while the batch
// has room, and hands the batch to a worker once the delay has passed
// (at once with no delay) or the batch is full; while every worker is
// busy the batch keeps growing. A job of more than maxBatch rows runs
// alone.
func (b *batcher) collect() {
	defer b.wg.Done()
	defer close(b.exec)
	var carry *job // a job that did not fit the last batch
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var batch []*job
		rows := 0
		if carry != nil {
			batch, rows, carry = []*job{carry}, carry.n, nil
		} else {
			j, ok := <-b.q
			if !ok {
				return
			}
			batch, rows = []*job{j}, j.n
		}
		ready := b.delay <= 0
		if !ready {
			timer.Reset(b.delay)
		}
		open := true // q not closed
		for {
			full := rows >= b.maxBatch || carry != nil
			var out chan []*job
			if ready || full || !open {
				out = b.exec
			}
			var in chan *job
			if !full && open {
				in = b.q
			}
			select {
			case j, ok := <-in:
				if !ok {
					open = false
					continue
				}
				if rows+j.n > b.maxBatch {
					carry = j
				} else {
					batch, rows = append(batch, j), rows+j.n
				}
				continue
			case <-timer.C:
				ready = true
				continue
			case out <- batch:
			}
			break
		}
		if !ready {
			timer.Stop()
		}
		b.queued.Add(-int64(rows))
		b.met.queue.WithLabelValues(b.mo.src.name).Sub(float64(rows))
		b.met.batch.WithLabelValues(b.mo.src.name).Observe(float64(rows))
		if !open && carry == nil {
			// Drain what is left, batch by batch.
			for j := range b.q {
				carry = j
				break
			}
			if carry == nil {
				return
			}
		}
	}
}

// work runs batches.
func (b *batcher) work() {
	defer b.wg.Done()
	var x, y, s []float32
	var sc *score.Scorer
	defer func() {
		if sc != nil {
			sc.Close()
		}
	}()
	mo := b.mo
	for batch := range b.exec {
		rows, wantScore := 0, false
		for _, j := range batch {
			rows += j.n
			wantScore = wantScore || j.wantScore
		}
		in := batch[0].x
		if len(batch) > 1 {
			x = grow(x, rows*mo.inW)
			o := 0
			for _, j := range batch {
				o += copy(x[o:], j.x)
			}
			in = x
		}
		var err error
		if len(batch) == 1 {
			batch[0].y, err = mo.m.Predict(nil, in)
		} else {
			y, err = mo.m.Predict(grow(y, rows*mo.outW), in)
		}
		if err == nil && wantScore {
			if sc == nil {
				sc, err = score.NewScorer(mo.m, mo.metric, b.maxBatch)
			}
			if err == nil {
				s = grow(s, rows)
				err = sc.Score(s, in, rows)
			}
		}
		o, os := 0, 0
		for _, j := range batch {
			j.err = err
			if err == nil {
				if len(batch) > 1 {
					j.y = append(j.y[:0], y[o:o+j.n*mo.outW]...)
				}
				if j.wantScore {
					j.scores = append(j.scores[:0], s[os:os+j.n]...)
				}
			}
			o += j.n * mo.outW
			os += j.n
			close(j.done)
		}
	}
}

// grow returns s resized to n values, reallocated only when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
