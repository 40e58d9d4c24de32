package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCheckFiniteInRange checks the one-pass check of an autoencoder's
// inputs-as-targets against checkFinite and checkTargetRange in turn:
// the same error (or none) on rows with NaN, ±Inf, values outside
// [0, 1] and −0 in any order, over several scan chunks.
func TestCheckFiniteInRange(t *testing.T) {
	const rows, width = 40, 7
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -0.5, 1.5, float32(math.Copysign(0, -1)), 1, 0}
	r := rand.New(rand.NewPCG(3, 4))
	var nonFinite, outside, none int
	for trial := range 2000 {
		x := make([]float32, rows*width)
		for i := range x {
			x[i] = r.Float32()
		}
		for range r.IntN(4) {
			x[r.IntN(len(x))] = bad[r.IntN(len(bad))]
		}
		d := Slice(x, width)
		lo := r.IntN(3)
		chunk := 4 * width * (1 + r.IntN(5)) // 1–5 rows a chunk
		two := scanner{chunk: chunk}
		want := two.checkFinite("data", d, lo, rows)
		if want == nil {
			want = two.checkTargetRange("data", d, lo, rows)
		}
		one := scanner{chunk: chunk}
		got := one.checkFiniteInRange("data", d, lo, rows)
		switch {
		case want == nil && got == nil:
			none++
			continue
		case want == nil || got == nil || got.Error() != want.Error():
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		case errors.Is(want, ErrNonFinite):
			nonFinite++
			if !errors.Is(got, ErrNonFinite) {
				t.Fatalf("trial %d: %v is not ErrNonFinite", trial, got)
			}
		default:
			outside++
			var tr *TargetRangeError
			if !errors.As(got, &tr) {
				t.Fatalf("trial %d: %v is not a *TargetRangeError", trial, got)
			}
		}
	}
	if nonFinite == 0 || outside == 0 || none == 0 {
		t.Fatalf("cases not all covered: %d non-finite, %d outside [0, 1], %d clean", nonFinite, outside, none)
	}
}
