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
	// ByProduct is Products and ProductFLOPs product by product: each
	// Dense layer's forward product, then its δ·Wᵀ and xᵀ·δ where the
	// step computes them, layer by layer in the model's order. Its
	// entries' times and FLOPs add up to Products and ProductFLOPs.
	ByProduct []ProductTime
}

// ProductTime is the time one matrix product of a training step took over
// the timed steps (StepTimes.ByProduct).
type ProductTime struct {
	// Layer is the Dense layer's name.
	Layer string
	// Kind is "forward" (x·W, with its fused bias and activation),
	// "backward" (δ·Wᵀ, the gradient of the layer's input) or "weights"
	// (xᵀ·δ, the kernel's gradient).
	Kind string
	// M, N and K are the product's shape in a step of a full batch: an
	// M×N result over K (the batch's rows are M, or K for "weights").
	M, N, K int
	// Time is the time spent in it, summed over threads; FLOPs its
	// floating-point operations, 2 per multiply-add.
	Time  time.Duration
	FLOPs float64
}

// GFLOPS returns the product's rate, FLOPs per second of Time, in GFLOP/s
// per thread; 0 before it was timed.
func (p *ProductTime) GFLOPS() float64 {
	if p.Time <= 0 {
		return 0
	}
	return p.FLOPs / p.Time.Seconds() / 1e9
}

// ProductGFLOPS returns the products' rate, ProductFLOPs per second of
// Products, in GFLOP/s per thread; 0 before any product was timed.
func (s *StepTimes) ProductGFLOPS() float64 {
	if s.Products <= 0 {
		return 0
	}
	return s.ProductFLOPs / s.Products.Seconds() / 1e9
}

// Add adds o's steps, times and FLOPs to s; s's ByProduct takes o's
// entries when it has none, and adds them entry by entry when it has as
// many (the steps of one model), else it is cleared.
func (s *StepTimes) Add(o *StepTimes) {
	switch {
	case len(s.ByProduct) == 0 && s.Steps == 0:
		s.ByProduct = append(s.ByProduct, o.ByProduct...)
	case len(s.ByProduct) == len(o.ByProduct):
		for i := range s.ByProduct {
			p, q := &s.ByProduct[i], &o.ByProduct[i]
			if p.Layer != q.Layer || p.Kind != q.Kind {
				s.ByProduct = nil
				break
			}
			p.Time += q.Time
			p.FLOPs += q.FLOPs
		}
	default:
		s.ByProduct = nil
	}
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

// prodClock is one product's time and FLOPs within a step, in one
// thread.
type prodClock struct {
	d     time.Duration
	flops float64
}

// The products of a Dense op, as indices of its sites (op.site).
const (
	siteForward = iota
	siteBackward
	siteWeights
	sitesPerOp
)

// timeSteps makes nt add each training step's times to s
// (Config.Times), each of its threads timing its products: every op has
// sitesPerOp clocks per thread, each thread's on cache lines of their
// own.
func (nt *net) timeSteps(s *StepTimes) {
	nt.times = s
	nt.prod = make([][]prodClock, nt.pool.Threads())
	n := len(nt.ops) * sitesPerOp
	for c := range nt.prod {
		nt.prod[c] = make([]prodClock, n+4)[:n] // 4 spare: 64 bytes to the next thread's
	}
	nt.ph.ByProduct = nt.ph.ByProduct[:0]
	nt.sites = nt.sites[:0]
	for i, o := range nt.ops {
		if !o.dense {
			continue
		}
		add := func(site int, kind string, m, n, k int) {
			nt.sites = append(nt.sites, i*sitesPerOp+site)
			nt.ph.ByProduct = append(nt.ph.ByProduct, ProductTime{Layer: o.layer.Name, Kind: kind, M: m, N: n, K: k})
		}
		add(siteForward, "forward", nt.maxB, o.out, o.in)
		if o.prevG != nil {
			add(siteBackward, "backward", nt.maxB, o.in, o.out)
		}
		if !o.frozen {
			add(siteWeights, "weights", o.in, o.out, nt.maxB)
		}
	}
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
// over k, to the thread's time of op o's product site (siteForward …).
func (nt *net) product(c int, o *op, site int, t0 time.Time, m, n, k int) {
	if nt.times == nil {
		return
	}
	p := &nt.prod[c][o.index*sitesPerOp+site]
	p.d += time.Since(t0)
	p.flops += 2 * float64(m) * float64(n) * float64(k)
}

// phase runs f on the pool and adds its wall-clock time to *d when nt
// times its steps.
func (nt *net) phase(d *time.Duration, f func(c, t int)) {
	if nt.times == nil || !nt.train {
		nt.pool.Run(f)
		return
	}
	t0 := time.Now()
	nt.pool.Run(f)
	*d += time.Since(t0)
}

// startStep clears what a step that was not completed (a read error, a
// loss that is not finite, an evaluation batch) left in nt.ph and
// nt.prod.
func (nt *net) startStep() {
	by := nt.ph.ByProduct
	for i := range by {
		by[i].Time, by[i].FLOPs = 0, 0
	}
	nt.ph = StepTimes{ByProduct: by}
	for _, p := range nt.prod {
		clear(p)
	}
}

// endStep adds a training step, which started at t0, to nt.times: its
// wall-clock time, its phases and its threads' product times.
func (nt *net) endStep(t0 time.Time) {
	ph := &nt.ph
	ph.Steps, ph.Total = 1, time.Since(t0)
	for j, site := range nt.sites {
		bp := &ph.ByProduct[j]
		for _, p := range nt.prod {
			bp.Time += p[site].d
			bp.FLOPs += p[site].flops
		}
		ph.Products += bp.Time
		ph.ProductFLOPs += bp.FLOPs
	}
	nt.times.Add(ph)
}
