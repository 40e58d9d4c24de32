//go:build amd64 && !purego

package kernel

import (
	"github.com/aekit/aekit/internal/kernel/tile"
	"golang.org/x/sys/cpu"
)

const peakChains = tile.Chains

// peakLoops returns the FMA loops this CPU runs (512-bit with AVX-512 F,
// 256-bit with AVX2 and FMA); each returns the number of FMAs it did,
// counted from its accumulators.
func peakLoops() (l512, l256 func(n int) float64) {
	if cpu.X86.HasAVX512F {
		l512 = func(n int) float64 {
			var out [peakChains * 16]float32
			tile.FMALoop512(n, &out)
			return sumLanes(out[:])
		}
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		l256 = func(n int) float64 {
			var out [peakChains * 8]float32
			tile.FMALoop256(n, &out)
			return sumLanes(out[:])
		}
	}
	return l512, l256
}

// clockLoop runs n·16 dependent one-cycle additions and returns their
// count.
func clockLoop(n int) int { return tile.AddChain(n) }
