package train

import "time"

// StepTimes is where the time of training steps went, phase by phase:
// what `aekit bench --peak` reports as the products' rate and the
// fraction of a step each phase takes. Fit adds to it when Config.Times
// points at one; it counts the training batches of Fit only (not the
// validation and end-of-epoch evaluation passes, nor VAE training).
//
// The phases are wall-clock time of the whole step's threads together;
// Products is the time the threads spent inside the matrix products,
// summed over threads, so ProductGFLOPS is a rate per thread (per core
// when each thread has one).
type StepTimes struct {
	// Steps is the number of training batches timed.
	Steps int
	// Total is their wall-clock time, from reading the rows to the last
	// weight update.
	Total time.Duration
	// Data is reading the batch's rows (the shuffled gather) and
	// re-packing the weights for the packed kernels.
	Data time.Duration
	// Forward is the forward pass: the products with their bias and
	// activation, and the activations not fused into them.
	Forward time.Duration
	// Loss is the loss and its gradient.
	Loss time.Duration
	// Backward is δ through each activation, packing δ or x for the
	// weight gradients, and δ·Wᵀ.
	Backward time.Duration
	// Weights is the weight and bias gradients (xᵀ·δ, onesᵀ·δ), the
	// regularisers' gradients and the optimizer's update.
	Weights time.Duration
	// Products is the time inside the forward (x·W), δ·Wᵀ and xᵀ·δ
	// products, with their fused bias and activation (and the transpose
	// of a weight gradient computed transposed), summed over threads;
	// packing δ or x for them counts in Backward.
	Products time.Duration
	// ProductFLOPs is those products' floating-point operations, 2 per
	// multiply-add.
	ProductFLOPs float64
}

// ProductGFLOPS returns the products' rate, ProductFLOPs per second of
// Products, in GFLOP/s per thread; 0 before any product was timed.
func (s *StepTimes) ProductGFLOPS() float64 {
	if s.Products <= 0 {
		return 0
	}
	return s.ProductFLOPs / s.Products.Seconds() / 1e9
}

// Add adds o's steps, times and FLOPs to s.
func (s *StepTimes) Add(o *StepTimes) {
	s.Steps += o.Steps
	s.Total += o.Total
	s.Data += o.Data
	s.Forward += o.Forward
	s.Loss += o.Loss
	s.Backward += o.Backward
	s.Weights += o.Weights
	s.Products += o.Products
	s.ProductFLOPs += o.ProductFLOPs
}

// prodClock is one thread's product time and FLOPs within a step, on a
// cache line of its own.
type prodClock struct {
	d     time.Duration
	flops float64
	_     [48]byte
}

// timeSteps makes nt add each training step's times to s
// (Config.Times), each of its threads timing its products.
func (nt *net) timeSteps(s *StepTimes) {
	nt.times, nt.prod = s, make([]prodClock, nt.pool.t)
}

// clock returns the time now when nt times its products, else the zero
// Time without reading the clock.
func (nt *net) clock() time.Time {
	if nt.times == nil {
		return time.Time{}
	}
	return time.Now()
}

// product adds the product thread c started at t0 (clock), an m×n result
// over k, to the thread's product time.
func (nt *net) product(c int, t0 time.Time, m, n, k int) {
	if nt.times == nil {
		return
	}
	p := &nt.prod[c]
	p.d += time.Since(t0)
	p.flops += 2 * float64(m) * float64(n) * float64(k)
}

// phase runs f on the pool and adds its wall-clock time to *d when nt
// times its steps.
func (nt *net) phase(d *time.Duration, f func(c, t int)) {
	if nt.times == nil || !nt.train {
		nt.pool.run(f)
		return
	}
	t0 := time.Now()
	nt.pool.run(f)
	*d += time.Since(t0)
}

// startStep clears what a step that was not completed (a read error, a
// loss that is not finite, an evaluation batch) left in nt.ph and
// nt.prod.
func (nt *net) startStep() {
	nt.ph = StepTimes{}
	clear(nt.prod)
}

// endStep adds a training step, which started at t0, to nt.times: its
// wall-clock time, its phases and its threads' product times.
func (nt *net) endStep(t0 time.Time) {
	ph := &nt.ph
	ph.Steps, ph.Total = 1, time.Since(t0)
	for i := range nt.prod {
		ph.Products += nt.prod[i].d
		ph.ProductFLOPs += nt.prod[i].flops
	}
	nt.times.Add(ph)
}
