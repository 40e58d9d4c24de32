//go:build !amd64 || purego

package kernel

// peakLoops returns no FMA loops in this build (no assembly).
func peakLoops() (l512, l256 func(n int) float64) { return nil, nil }

// clockLoop is not available in this build: it returns -1.
func clockLoop(n int) int { return -1 }

// peakChains is the number of accumulator chains of the FMA loops (none in
// this build).
const peakChains = 12
