package tolerance

import (
	"fmt"
	"math"
	"strconv"
)

// Report is the outcome of Compare. Indices count values from 0 in the
// flat slices; -1 means none.
type Report struct {
	// ATol and RTol are the tolerances applied.
	ATol, RTol float64
	// Values is the number of pairs compared: the length of got and want,
	// or the shorter one when GotLen and WantLen differ.
	Values int
	// GotLen and WantLen are the lengths of got and want.
	GotLen, WantLen int
	// Bad counts the pairs out of tolerance (see the package rule).
	Bad int
	// NonFinite counts the got values that are NaN or ±Inf (matched or
	// not).
	NonFinite int
	// NonFiniteBad counts the pairs out of tolerance because a NaN or an
	// infinity is not matched by the same (included in Bad).
	NonFiniteBad int
	// MaxAbs is the largest |got − want| over finite pairs, at MaxAbsAt.
	MaxAbs   float64
	MaxAbsAt int
	// MaxRel is the largest |got − want|/|want| over finite pairs with
	// |want| > ATol, at MaxRelAt.
	MaxRel   float64
	MaxRelAt int
	// Normwise is max|got − want| / max|want| over finite pairs
	// (max|got − want| itself when every such want is 0), +Inf when
	// NonFiniteBad > 0 or the lengths differ.
	Normwise float64
	// MaxTolUsed is the largest |got − want| / (ATol + RTol·|want|) over
	// finite pairs with a nonzero bound: at most 1 when every finite pair
	// passes.
	MaxTolUsed float64
	// Worst is the pair furthest beyond its tolerance (-1 when none is
	// out of tolerance).
	Worst int
}

// Compare compares got with want element by element under the package
// rule: |got − want| ≤ atol + rtol·|want| for finite pairs, NaN only with
// NaN, an infinity only with the same infinity. Tolerances are used as
// given (zero means exact). Lengths that differ make the report fail; the
// common prefix is compared.
func Compare(got, want []float32, atol, rtol float64) Report {
	r := Report{ATol: atol, RTol: rtol, GotLen: len(got), WantLen: len(want),
		Values: min(len(got), len(want)), MaxAbsAt: -1, MaxRelAt: -1, Worst: -1}
	worstExcess, scale := 0.0, 0.0
	for i := range r.Values {
		g, w := float64(got[i]), float64(want[i])
		gFinite, wFinite := !math.IsNaN(g) && !math.IsInf(g, 0), !math.IsNaN(w) && !math.IsInf(w, 0)
		if !gFinite {
			r.NonFinite++
		}
		if !gFinite || !wFinite {
			if g == w || (math.IsNaN(g) && math.IsNaN(w)) {
				continue
			}
			r.Bad++
			r.NonFiniteBad++
			if !math.IsInf(worstExcess, 1) {
				r.Worst, worstExcess = i, math.Inf(1)
			}
			continue
		}
		d := math.Abs(g - w)
		scale = max(scale, math.Abs(w))
		if d > r.MaxAbs {
			r.MaxAbs, r.MaxAbsAt = d, i
		}
		if math.Abs(w) > atol && w != 0 {
			if rel := d / math.Abs(w); rel > r.MaxRel {
				r.MaxRel, r.MaxRelAt = rel, i
			}
		}
		tol := atol + rtol*math.Abs(w)
		if tol > 0 {
			r.MaxTolUsed = max(r.MaxTolUsed, d/tol)
		}
		if excess := d - tol; excess > 0 {
			r.Bad++
			if excess > worstExcess {
				r.Worst, worstExcess = i, excess
			}
		}
	}
	switch {
	case r.NonFiniteBad > 0 || len(got) != len(want):
		r.Normwise = math.Inf(1)
	case scale == 0:
		r.Normwise = r.MaxAbs
	default:
		r.Normwise = r.MaxAbs / scale
	}
	return r
}

// OK reports whether every pair is within tolerance and the lengths
// agree.
func (r *Report) OK() bool { return r.Bad == 0 && r.GotLen == r.WantLen }

// Err returns nil when r is OK, else an error naming the number of values
// out of tolerance and the worst one, e.g. "3 of 12 values differ; worst
// at 5: got 0.5, want 0.25 (|Δ|=0.25)", or the two lengths.
func (r *Report) Err(got, want []float32) error {
	switch {
	case r.GotLen != r.WantLen:
		return fmt.Errorf("got %d values, want %d", r.GotLen, r.WantLen)
	case r.Bad == 0:
		return nil
	}
	g, w := float64(got[r.Worst]), float64(want[r.Worst])
	return fmt.Errorf("%d of %d values differ; worst at %d: got %s, want %s (|Δ|=%.3g)",
		r.Bad, r.Values, r.Worst, Format(got[r.Worst]), Format(want[r.Worst]), math.Abs(g-w))
}

// Format prints v as the shortest decimal that reads back as the same
// float32 ("NaN", "+Inf" and "-Inf" for the non-finite values).
func Format(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
