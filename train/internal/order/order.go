// Package order is the order in which train.Fit visits training rows
// when it shuffles: a Fisher–Yates shuffle driven by a PCG generator
// seeded with (Config.Seed, Stream), drawn once per epoch. Tools that
// train another implementation on the same batches (the quality
// comparison with PyTorch) read it from here.
package order

import "math/rand/v2"

// Stream is the PCG stream of the shuffling generator ("aekitshf").
const Stream = 0x61656b6974736866

// New returns the shuffling generator for seed and its source.
func New(seed uint64) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(seed, Stream)
	return rand.New(src), src
}

// Shuffle is a Fisher–Yates shuffle of p driven by r.
func Shuffle(r *rand.Rand, p []int) {
	for i := len(p) - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		p[i], p[j] = p[j], p[i]
	}
}

// Permutations returns the order in which Fit visits n training rows in
// each of the given number of epochs when it shuffles with seed (and the
// run starts at epoch 0).
func Permutations(seed uint64, n, epochs int) [][]int {
	rng, _ := New(seed)
	out := make([][]int, epochs)
	for e := range out {
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		Shuffle(rng, p)
		out[e] = p
	}
	return out
}
