package kernel

import (
	"testing"
	"time"
)

// TestPeakLoopsCount checks that the FMA loops do the work MeasurePeak
// counts: every lane of every chain ends holding the number of iterations
// (each iteration one FMA per lane and chain), so the sum is
// iterations × chains × lanes; and that the clock loop does 16 additions
// per iteration.
func TestPeakLoopsCount(t *testing.T) {
	l512, l256 := peakLoops()
	for _, c := range []struct {
		name  string
		loop  func(int) float64
		lanes int
	}{{"avx512", l512, 16}, {"avx2", l256, 8}} {
		if c.loop == nil {
			t.Logf("%s: not run by this CPU or build", c.name)
			continue
		}
		for _, n := range []int{0, 1, 7, 1000, peakIters} {
			if got, want := c.loop(n), float64(n*peakChains*c.lanes); got != want {
				t.Errorf("%s loop(%d) did %v FMAs, want %v", c.name, n, got, want)
			}
		}
	}
	if clockLoop(0) < 0 {
		t.Log("clock loop not in this build")
		return
	}
	for _, n := range []int{0, 1, 1000} {
		if got := clockLoop(n); got != 16*n {
			t.Errorf("clockLoop(%d) = %d additions, want %d", n, got, 16*n)
		}
	}
}

// TestMeasurePeakSane checks MeasurePeak's results for consistency, not
// speed: rates are finite and positive for the widths the CPU runs, and
// the implied FMAs per cycle are between 0.25 and 4 (a core issues at most
// two or three vector FMAs per cycle; the bounds leave room for clock
// changes and interruptions between the loops, as the machine may be
// loaded).
func TestMeasurePeakSane(t *testing.T) {
	p := MeasurePeak(30 * time.Millisecond)
	t.Logf("peak: avx512 %.1f GFLOP/s, avx2 %.1f GFLOP/s, clock %.2f GHz, FMA/cycle %.2f (512) %.2f (256)",
		p.AVX512, p.AVX2, p.ClockGHz, p.FMAPerCycle(512), p.FMAPerCycle(256))
	l512, l256 := peakLoops()
	if (l512 != nil) != (p.AVX512 > 0) || (l256 != nil) != (p.AVX2 > 0) {
		t.Fatalf("measured %+v, but loops available: avx512 %v avx2 %v", p, l512 != nil, l256 != nil)
	}
	if l512 == nil && l256 == nil {
		return
	}
	if !(p.ClockGHz > 0.1 && p.ClockGHz < 10) {
		t.Errorf("clock %v GHz", p.ClockGHz)
	}
	for _, bits := range []int{512, 256} {
		if f := p.FMAPerCycle(bits); f != 0 && !(f > 0.25 && f < 4) {
			t.Errorf("%d-bit: %v FMAs per cycle", bits, f)
		}
	}
}
