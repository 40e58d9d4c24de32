package benchrun

import (
	"testing"
	"time"

	"github.com/aekit/aekit/internal/benchset"
)

// TestRun runs a tiny run of both kinds and checks that every case is
// reported once, in order, with positive rates, and the data noted once
// per width.
func TestRun(t *testing.T) {
	seed, _ := benchset.Lookup("seed")
	c := &Config{Train: true, Infer: true, Models: []benchset.Model{seed}, TrainThreads: []int{1}, InferThreads: []int{1, 2},
		Reps: 1, RepTime: 2 * time.Millisecond, Rows: 1024}
	var got []Result
	var notes []string
	if err := Run(c, func(r Result) { got = append(got, r) }, func(s string) { notes = append(notes, s) }); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind           Kind
		threads, batch int
	}{{KindTrain, 1, 256}, {KindInfer, 1, 1}, {KindInfer, 1, 256}, {KindInfer, 2, 1}, {KindInfer, 2, 256}}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		r := got[i]
		if r.Kind != w.kind || r.Threads != w.threads || r.Batch != w.batch || r.Model != "seed" || !(r.SamplesPerS > 0) {
			t.Errorf("result %d: %+v, want %v", i, r, w)
		}
		if (r.Kind == KindInfer) != (r.LatencyUS > 0) || r.GFLOPS != 0 {
			t.Errorf("result %d: latency %v, gflops %v", i, r.LatencyUS, r.GFLOPS)
		}
	}
	if len(notes) != 1 {
		t.Errorf("notes %q, want one", notes)
	}
}
