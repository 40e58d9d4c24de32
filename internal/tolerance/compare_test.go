package tolerance

import (
	"math"
	"strings"
	"testing"
)

var (
	nan  = float32(math.NaN())
	pinf = float32(math.Inf(1))
	ninf = float32(math.Inf(-1))
)

// TestRule checks the package rule pair by pair.
func TestRule(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want float32
		atol      float64
		rtol      float64
		ok        bool
	}{
		{"equal", 1, 1, 0, 0, true},
		{"within atol", 1e-7, 0, 1e-6, 0, true},
		{"beyond atol", 2e-6, 0, 1e-6, 0, false},
		{"within rtol", 100.0005, 100, 0, 1e-5, true},
		{"beyond rtol", 100.01, 100, 0, 1e-5, false},
		{"NaN NaN", nan, nan, 1e-6, 1e-5, true},
		{"NaN number", nan, 1, 1e-6, 1e-5, false},
		{"number NaN", 1, nan, 1e-6, 1e-5, false},
		{"Inf Inf", pinf, pinf, 1e-6, 1e-5, true},
		{"-Inf -Inf", ninf, ninf, 1e-6, 1e-5, true},
		{"Inf -Inf", pinf, ninf, 1e-6, 1e-5, false},
		{"Inf number", pinf, 1, 1e-6, 1e-5, false},
		// rtol·|want| is infinite here, but a finite value never
		// matches an infinity.
		{"number Inf", 1, pinf, 1e-6, 1e-5, false},
		{"NaN Inf", nan, pinf, 1e-6, 1e-5, false},
	} {
		r := Compare([]float32{0, c.got}, []float32{0, c.want}, c.atol, c.rtol)
		if r.OK() != c.ok {
			t.Errorf("%s: OK() = %v, want %v (%+v)", c.name, r.OK(), c.ok, r)
		}
		if c.ok != (r.Err([]float32{0, c.got}, []float32{0, c.want}) == nil) {
			t.Errorf("%s: Err and OK disagree", c.name)
		}
		if !c.ok && (r.Worst != 1 || r.Bad != 1) {
			t.Errorf("%s: worst %d, bad %d; want 1, 1", c.name, r.Worst, r.Bad)
		}
	}
}

// TestReport checks the report's statistics and where they occur.
func TestReport(t *testing.T) {
	got := []float32{1, 2.5, 0.001, 10, nan}
	want := []float32{1, 2, 0.0005, 10.001, nan}
	r := Compare(got, want, 1e-3, 1e-5)
	if r.Values != 5 || r.NonFinite != 1 {
		t.Fatalf("values %d, non-finite %d", r.Values, r.NonFinite)
	}
	if r.MaxAbsAt != 1 || math.Abs(r.MaxAbs-0.5) > 1e-7 {
		t.Errorf("max abs %g at %d, want 0.5 at 1", r.MaxAbs, r.MaxAbsAt)
	}
	// 0.0005 is below atol: its relative error (1) does not count.
	if r.MaxRelAt != 1 || math.Abs(r.MaxRel-0.25) > 1e-7 {
		t.Errorf("max rel %g at %d, want 0.25 at 1", r.MaxRel, r.MaxRelAt)
	}
	if want := 0.5 / 10.001; math.Abs(r.Normwise-want) > 1e-6 {
		t.Errorf("normwise %g, want %g", r.Normwise, want)
	}
	if r.Bad != 1 || r.Worst != 1 {
		t.Errorf("bad %d, worst %d; want 1, 1", r.Bad, r.Worst)
	}
	err := r.Err(got, want)
	if err == nil || !strings.Contains(err.Error(), "1 of 5 values differ; worst at 1: got 2.5, want 2") {
		t.Errorf("Err = %v", err)
	}
	if r.MaxTolUsed <= 1 {
		t.Errorf("max tolerance used %g, want > 1", r.MaxTolUsed)
	}
}

// TestWorstNonFinite checks that a mismatched non-finite pair is the
// worst, before any finite one, and makes the aggregates infinite.
func TestWorstNonFinite(t *testing.T) {
	r := Compare([]float32{5, pinf, nan}, []float32{1, 1, 1}, 0, 0)
	if r.Worst != 1 || r.Bad != 3 || r.NonFiniteBad != 2 || !math.IsInf(r.Normwise, 1) || r.MaxAbs != 4 || r.MaxAbsAt != 0 {
		t.Errorf("%+v", r)
	}
}

// TestLengths checks that differing lengths fail.
func TestLengths(t *testing.T) {
	r := Compare([]float32{1, 2}, []float32{1}, 1, 1)
	if r.OK() || r.Values != 1 || !math.IsInf(r.Normwise, 1) {
		t.Errorf("%+v", r)
	}
	if err := r.Err(nil, nil); err == nil || err.Error() != "got 2 values, want 1" {
		t.Errorf("Err = %v", err)
	}
}

// TestZeroWant checks the normwise error when every want is zero.
func TestZeroWant(t *testing.T) {
	r := Compare([]float32{0.5, -0.25}, []float32{0, 0}, 1, 0)
	if !r.OK() || r.Normwise != 0.5 || r.MaxRelAt != -1 {
		t.Errorf("%+v", r)
	}
}
