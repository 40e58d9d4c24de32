package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/npy"
)

// TestFitMapped trains on a memory-mapped .npy file (npy.Matrix) and on
// the same data loaded into memory, and requires bit-identical weights
// and histories, with shuffling, a validation split and a checkpoint (its
// fingerprint reads all the data), at 1 and 2 threads.
func TestFitMapped(t *testing.T) {
	const n, w = 300, 20
	x := randData(11, n*w)
	name := filepath.Join(t.TempDir(), "x.npy")
	if err := npy.WriteFile(name, &npy.Array{Shape: []int{n, w}, Data: x}); err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		cfg := baseConfig(&Adam{})
		cfg.Threads = threads
		cfg.CheckpointPath = filepath.Join(t.TempDir(), "ref.ckpt")
		ref := fitModel(t, 3)
		hRef, err := Fit(context.Background(), ref, set(x, nil, n), Set{}, cfg)
		if err != nil {
			t.Fatal(err)
		}

		mp, err := npy.Map(name)
		if err != nil {
			t.Fatal(err)
		}
		mx, err := mp.Matrix(w)
		if err != nil {
			t.Fatal(err)
		}
		cfg.CheckpointPath = filepath.Join(t.TempDir(), "mapped.ckpt")
		m := fitModel(t, 3)
		h, err := Fit(context.Background(), m, Set{X: mx}, Set{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, "weights", flatWeights(ref), flatWeights(m))
		sameFloats(t, "loss", hRef.Loss, h.Loss)
		sameFloats(t, "val_loss", hRef.ValLoss, h.ValLoss)
		checkReleased(t, mp.Data)
		if err := mp.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckData checks that the chunked NaN scan names the right row when
// the bad value is in a later chunk than the first, for data read in
// place and through ReadRows.
func TestCheckData(t *testing.T) {
	const n, w = 1000, 7
	x := randData(12, n*w)
	x[613*w+5] = float32(math.Inf(-1))
	for _, d := range []Data{Slice(x, w), readOnly{Slice(x, w)}} {
		sc := scanner{chunk: 4 * 3 * w * 10} // 30 rows a chunk
		chunks := 0
		sc.scan(d, 0, n, func(row int, c []float32) bool {
			if len(c)%w != 0 {
				t.Fatalf("chunk at row %d of %d values cuts a row", row, len(c))
			}
			chunks++
			return true
		})
		if chunks != (n+29)/30 {
			t.Errorf("%d chunks, want %d", chunks, (n+29)/30)
		}
		err := sc.checkFinite("data", d, 0, n)
		if !errors.Is(err, ErrNonFinite) || err.Error() != "train: non-finite value in data: data row 613 column 5 is -Inf" {
			t.Errorf("got %v", err)
		}
	}
}

// readOnly hides a Data's type, so that Fit reads it through ReadRows.
type readOnly struct{ Data }
