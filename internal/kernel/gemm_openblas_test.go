//go:build cgo && !purego

package kernel

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// coreEnv, in the environment of a test process started by
// TestGemmConformanceCores, is the OpenBLAS core type that process must
// have loaded.
const coreEnv = "AEKIT_KERNEL_TEST_CORE"

// needOpenBLAS skips t, saying why, when libopenblas could not be loaded,
// unless AEKIT_INTEROP=1 (make test, CI), where that is a failure: the
// OpenBLAS tests must not turn into silent skips there.
func needOpenBLAS(t *testing.T) {
	t.Helper()
	if openblas.ok {
		return
	}
	if os.Getenv("AEKIT_INTEROP") == "1" {
		t.Fatalf("OpenBLAS is required with AEKIT_INTEROP=1 (apt-get install libopenblas-dev): %s", Variant())
	}
	t.Skipf("OpenBLAS not loaded (%s); set AEKIT_INTEROP=1 to make this a failure", Variant())
}

// TestOpenBLASLoaded fails under AEKIT_INTEROP=1 when the default build
// runs without OpenBLAS, so that CI never tests only the gonum fallback.
func TestOpenBLASLoaded(t *testing.T) {
	needOpenBLAS(t)
	if !strings.HasPrefix(Variant(), "openblas (") {
		t.Errorf("OpenBLAS loaded but Variant is %q", Variant())
	}
}

// TestGemmRouting checks the once-at-start choice of the default Gemm:
// one-row products go to sgemv exactly when the loaded core lacks
// small-matrix sgemm kernels, and Variant says which.
func TestGemmRouting(t *testing.T) {
	needOpenBLAS(t)
	t.Logf("core %s, one-row products via sgemv: %v", openblas.core, openblas.gemv)
	if want := os.Getenv(coreEnv); want != "" && !strings.EqualFold(openblas.core, want) {
		t.Fatalf("loaded core %q with OPENBLAS_CORETYPE=%s", openblas.core, want)
	}
	if openblas.gemv == hasSmallSgemm(openblas.core) {
		t.Errorf("core %s: gemv routing %v, want %v", openblas.core, openblas.gemv, !hasSmallSgemm(openblas.core))
	}
	if got := strings.Contains(Variant(), "one-row products via sgemv"); got != openblas.gemv {
		t.Errorf("Variant() = %q does not match gemv routing %v", Variant(), openblas.gemv)
	}
	if want := PreferredCore() == "SkylakeX" && !hasSmallSgemm(openblas.core); CoreBelowCPU() != want {
		t.Errorf("CoreBelowCPU() = %v with core %s on a CPU preferring %q", CoreBelowCPU(), openblas.core, PreferredCore())
	}
}

// TestGemmConformanceCores reruns the conformance suite in child processes
// with OPENBLAS_CORETYPE set to each core type this CPU runs (Haswell, and
// SkylakeX on AVX-512 CPUs), so that sgemm and sgemv are checked on both
// kernel sets whatever the environment of the test.
func TestGemmConformanceCores(t *testing.T) {
	if testing.Short() {
		t.Skip("starts test processes; skipped with -short")
	}
	if os.Getenv(coreEnv) != "" {
		t.Skip("already in a child")
	}
	needOpenBLAS(t)
	var cores []string
	switch PreferredCore() {
	case "SkylakeX":
		cores = []string{"Haswell", "SkylakeX"}
	case "Haswell":
		cores = []string{"Haswell"}
	default:
		t.Skip("the CPU runs neither OpenBLAS's Haswell nor SkylakeX kernels")
	}
	for _, core := range cores {
		t.Run(core, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^(TestGemmConformance|TestGemmRouting)$/^(openblas|openblas-gemv|Gemm)$", "-test.count", "1", "-test.v")
			cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE="+core, coreEnv+"="+core)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("OPENBLAS_CORETYPE=%s: %v\n%s", core, err, out)
			}
			for _, pass := range []string{"TestGemmConformance/openblas", "TestGemmConformance/openblas-gemv", "TestGemmConformance/Gemm", "TestGemmRouting"} {
				if !strings.Contains(string(out), "--- PASS: "+pass+" ") {
					t.Errorf("OPENBLAS_CORETYPE=%s: %s did not pass:\n%s", core, pass, out)
				}
			}
		})
	}
}
