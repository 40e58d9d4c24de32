package kernel

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestHasSmallSgemm(t *testing.T) {
	for core, want := range map[string]bool{
		"SkylakeX": true, "SKYLAKEX": true, "Cooperlake": true, "SapphireRapids": true,
		"Haswell": false, "HASWELL": false, "Zen": false, "Sandybridge": false, "Prescott": false, "": false,
	} {
		if got := hasSmallSgemm(core); got != want {
			t.Errorf("hasSmallSgemm(%q) = %v, want %v", core, got, want)
		}
	}
}

// TestPreferredCore checks PreferredCore against the CPU flags Linux
// lists in /proc/cpuinfo, a source independent of x/sys/cpu.
func TestPreferredCore(t *testing.T) {
	t.Logf("PreferredCore() = %q", PreferredCore())
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("reads the x86-64 flags of /proc/cpuinfo")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no CPU flags: %v", err)
	}
	var flags []string
	for line := range strings.Lines(string(info)) {
		if name, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = strings.Fields(val)
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	has := func(fs ...string) bool {
		for _, f := range fs {
			if !slices.Contains(flags, f) {
				return false
			}
		}
		return true
	}
	want := ""
	switch {
	case has("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"):
		want = "SkylakeX"
	case has("avx2", "fma"):
		want = "Haswell"
	}
	if got := PreferredCore(); got != want {
		t.Errorf("PreferredCore() = %q, want %q from /proc/cpuinfo", got, want)
	}
}
