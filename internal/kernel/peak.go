package kernel

import (
	"math"
	"time"
)

// Peak is one core's measured float32 FMA limit (see MeasurePeak).
type Peak struct {
	// AVX512 and AVX2 are the GFLOP/s (2 per lane and FMA) of an FMA-bound
	// loop at 512 and 256 bits, on one core; 0 when the CPU (or this
	// build) does not run that width.
	AVX512, AVX2 float64
	// ClockGHz is the core clock measured with a chain of dependent
	// one-cycle integer additions during the measurement; 0 when not
	// measured.
	ClockGHz float64
}

// Best returns the higher of the two measured rates in GFLOP/s: the
// single-core FMA peak products are compared with.
func (p Peak) Best() float64 { return max(p.AVX512, p.AVX2) }

// FMAPerCycle returns how many vector FMAs of the given width (512 or 256
// bits) the measured rate implies per cycle at the measured clock: 2 on
// cores with two full-width FMA units, 1 on cores that split 512-bit
// operations or have one unit. It is 0 when either was not measured.
func (p Peak) FMAPerCycle(bits int) float64 {
	r := p.AVX2
	if bits == 512 {
		r = p.AVX512
	}
	if p.ClockGHz <= 0 || r <= 0 {
		return 0
	}
	return r / (p.ClockGHz * float64(bits/32) * 2)
}

// peakIters is the number of loop iterations of one timed run: about
// 3 million FMAs, 1–3 ms on current cores, short enough that some runs
// escape interruptions on a loaded machine; below 2²⁴ so that every
// lane's count is exact in float32.
const peakIters = 1 << 18

// MeasurePeak measures this core's float32 FMA peak: it runs the FMA
// loops (12 independent chains of VFMADD231PS, 512- and 256-bit) and the
// clock loop (dependent additions) in turn, round after round, for about
// d in all (at least 3 rounds), and keeps each loop's fastest run, so that
// interruptions by other processes only lower the odds of a clean run and
// every loop gets runs spread over the whole time. It runs on the calling
// goroutine (one core) and returns zeros for what this CPU or build
// cannot run (no assembly with the purego tag or off amd64).
func MeasurePeak(d time.Duration) Peak {
	l512, l256 := peakLoops()
	var p Peak
	rate := func(work func() float64) float64 { // work per second
		t := time.Now()
		w := work()
		return w / time.Since(t).Seconds()
	}
	start := time.Now()
	for i := 0; i < 3 || time.Since(start) < d; i++ {
		if l512 != nil {
			p.AVX512 = max(p.AVX512, 2*rate(func() float64 { return l512(peakIters) })/1e9)
		}
		if l256 != nil {
			p.AVX2 = max(p.AVX2, 2*rate(func() float64 { return l256(peakIters) })/1e9)
		}
		if clockLoop(0) == 0 {
			p.ClockGHz = max(p.ClockGHz, rate(func() float64 { return float64(clockLoop(peakIters)) })/1e9)
		}
	}
	return p
}

// sumLanes returns the sum of the lanes, in float64: the number of FMAs
// (each lane of each chain counts its own).
func sumLanes(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	if math.IsNaN(s) {
		return 0
	}
	return s
}
