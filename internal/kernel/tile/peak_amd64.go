//go:build amd64 && !purego

package tile

// Chains is the number of independent accumulator chains of the FMA
// loops: enough to keep two FMA units with a latency of up to 6 cycles
// busy.
const Chains = 12

// FMALoop512 runs n iterations of Chains independent 512-bit FMAs (each
// adding 1·1 to its accumulator) and stores the accumulators to out, so
// that every lane holds n (exactly, for n < 2²⁴). It needs AVX-512 F.
//
//go:noescape
func FMALoop512(n int, out *[Chains * 16]float32)

// FMALoop256 is FMALoop512 at 256 bits. It needs AVX2 and FMA.
//
//go:noescape
func FMALoop256(n int, out *[Chains * 8]float32)

// AddChain runs n iterations of 16 dependent one-cycle integer additions
// and returns their count, 16·n: the loop takes 16·n core cycles.
func AddChain(n int) int
