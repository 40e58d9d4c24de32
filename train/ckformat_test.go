package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var writeCkFixture = flag.Bool("write-ckfixture", false, "rewrite testdata/ckpt (checkpoints of an interrupted run and the results of the straight run)")

// ckFixture is testdata/ckpt/expected.json: what the straight run that
// the checkpoints interrupt ends with.
type ckFixture struct {
	Weights map[string]string    // SHA-256 of the final weights' float32 bits, by case
	Loss    map[string][]float64 // loss per epoch, by case
}

// sameLoss compares losses bit for bit when exact, else within 1e-5
// relative (other CPUs' kernels may round differently; shuffled and
// unshuffled losses differ in the third digit).
func sameLoss(t *testing.T, what string, got, want []float64, exact bool) {
	t.Helper()
	if exact {
		sameFloats(t, what, got, want)
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d vs %d epochs", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-5*math.Abs(want[i]) {
			t.Errorf("%s: epoch %d: %v, want %v within 1e-5 relative", what, i, got[i], want[i])
		}
	}
}

func weightsSum(w []float32) string {
	b := make([]byte, 4*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestCheckpointFormatFixture resumes checkpoints committed in
// testdata/ckpt (format version 2, written on an AMD EPYC with AVX2; the
// format keeps the Shuffle field of the time before Config.NoShuffle):
// each must load with the same shuffling meaning and resume to the
// weights and losses the straight run had when the files were written,
// and a straight run with today's code must reach them too. Rerun with
// -write-ckfixture only when the format changes on purpose.
func TestCheckpointFormatFixture(t *testing.T) {
	dir := filepath.Join("testdata", "ckpt")
	x := randData(11, 120*20)
	cases := []struct {
		name    string
		shuffle bool
	}{{"shuffle", true}, {"noshuffle", false}}
	config := func(shuffle bool) Config {
		return Config{Optimizer: &Adam{}, Epochs: 3, BatchSize: 16, NoShuffle: !shuffle, Seed: 9, ValidationSplit: 0.25}
	}
	ctx := context.Background()
	if *writeCkFixture {
		fx := ckFixture{Weights: map[string]string{}, Loss: map[string][]float64{}}
		for _, c := range cases {
			m := fitModel(t, 5)
			h, err := Fit(ctx, m, set(x, nil, 120), Set{}, config(c.shuffle))
			if err != nil {
				t.Fatal(err)
			}
			fx.Weights[c.name], fx.Loss[c.name] = weightsSum(flatWeights(m)), h.Loss
			cctx, cancel := context.WithCancel(ctx)
			cfg := config(c.shuffle)
			cfg.CheckpointPath = filepath.Join(dir, c.name+".ckpt")
			cfg.OnBatch = func(b BatchLog) {
				if b.Epoch == 1 && b.Batch == 2 {
					cancel()
				}
			}
			_, err = Fit(cctx, fitModel(t, 5), set(x, nil, 120), Set{}, cfg)
			cancel()
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("%s: interrupted Fit: %v", c.name, err)
			}
		}
		b, _ := json.MarshalIndent(fx, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, "expected.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx ckFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The straight run with today's code: bit for bit the
			// fixture's where this machine's kernels compute the bits
			// the fixture's machine did; elsewhere (other vector
			// units) every comparison is of losses within 1e-5.
			m := fitModel(t, 5)
			hs, err := Fit(ctx, m, set(x, nil, 120), Set{}, config(c.shuffle))
			if err != nil {
				t.Fatal(err)
			}
			exact := weightsSum(flatWeights(m)) == fx.Weights[c.name]
			if !exact {
				t.Logf("this machine's straight run differs in its bits from the fixture's: comparing losses within 1e-5 relative")
			}
			sameLoss(t, "straight loss", hs.Loss, fx.Loss[c.name], exact)

			ck, err := ReadCheckpointFile(filepath.Join(dir, c.name+".ckpt"))
			if err != nil {
				t.Fatal(err)
			}
			if ck.Epoch != 1 || ck.Batch != 3 {
				t.Fatalf("checkpoint at epoch %d batch %d, want 1, 3", ck.Epoch, ck.Batch)
			}
			if ck.NoShuffle != !c.shuffle || ck.Config().NoShuffle != !c.shuffle {
				t.Fatalf("checkpoint reads NoShuffle %v, Config().NoShuffle %v; want %v", ck.NoShuffle, ck.Config().NoShuffle, !c.shuffle)
			}
			// Resuming with the other shuffling is refused.
			other := ck.Config()
			other.NoShuffle = c.shuffle
			if _, err := Fit(ctx, ck.Model, set(x, nil, 120), Set{}, other); !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("resume with the other shuffling: %v, want ErrCheckpoint", err)
			}
			ck, err = ReadCheckpointFile(filepath.Join(dir, c.name+".ckpt"))
			if err != nil {
				t.Fatal(err)
			}
			h, err := Fit(ctx, ck.Model, set(x, nil, 120), Set{}, ck.Config())
			if err != nil {
				t.Fatal(err)
			}
			if got := weightsSum(flatWeights(ck.Model)); exact && got != fx.Weights[c.name] {
				t.Errorf("resumed weights SHA-256 %s, want %s", got, fx.Weights[c.name])
			}
			sameLoss(t, "resumed loss", h.Loss, fx.Loss[c.name], exact)
		})
	}
	if fx.Weights["shuffle"] == fx.Weights["noshuffle"] {
		t.Error("shuffled and unshuffled runs end with the same weights: the fixture does not tell them apart")
	}
}
