//go:build cgo && !purego

package kernel

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <stddef.h>

// The few OpenBLAS entry points used, declared here so that building needs
// no BLAS headers; blasint is int in Debian's (LP64) builds.
typedef void (*aekit_sgemm_t)(int order, int transA, int transB, int m, int n, int k,
	float alpha, const float *a, int lda, const float *b, int ldb,
	float beta, float *c, int ldc);
typedef void (*aekit_setthreads_t)(int);
typedef char *(*aekit_str_t)(void);

static aekit_sgemm_t aekit_sgemm_fn;
static aekit_str_t aekit_corename_fn, aekit_config_fn;

// aekit_pick_core returns the OpenBLAS core type the CPU can run, or NULL
// to leave the choice to OpenBLAS. OpenBLAS 0.3.21 (Debian 12) does not
// recognise recent or virtualised CPUs and falls back to its slowest,
// SSE3-only "Prescott" kernels (23 GFLOP/s instead of 86 here).
static const char *aekit_pick_core(void) {
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		return "SKYLAKEX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "HASWELL";
	return NULL;
}

// aekit_blas_open loads OpenBLAS and pins it to one thread. It returns NULL
// on success, else a message saying why not. OPENBLAS_CORETYPE and
// OPENBLAS_NUM_THREADS are set only while the library loads (its
// constructor reads them), and only when the user has not set them.
static const char *aekit_blas_open(void) {
	int setCore = 0, setThreads = 0;
	const char *core = aekit_pick_core();
	if (core != NULL && getenv("OPENBLAS_CORETYPE") == NULL) {
		setenv("OPENBLAS_CORETYPE", core, 0);
		setCore = 1;
	}
	if (getenv("OPENBLAS_NUM_THREADS") == NULL) {
		setenv("OPENBLAS_NUM_THREADS", "1", 0);
		setThreads = 1;
	}
	void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		h = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
	const char *err = h == NULL ? dlerror() : NULL;
	if (setCore)
		unsetenv("OPENBLAS_CORETYPE");
	if (setThreads)
		unsetenv("OPENBLAS_NUM_THREADS");
	if (h == NULL)
		return err;
	aekit_sgemm_fn = (aekit_sgemm_t)dlsym(h, "cblas_sgemm");
	aekit_setthreads_t setn = (aekit_setthreads_t)dlsym(h, "openblas_set_num_threads");
	aekit_corename_fn = (aekit_str_t)dlsym(h, "openblas_get_corename");
	aekit_config_fn = (aekit_str_t)dlsym(h, "openblas_get_config");
	if (aekit_sgemm_fn == NULL || setn == NULL)
		return "libopenblas lacks cblas_sgemm or openblas_set_num_threads";
	setn(1);
	return NULL;
}

static const char *aekit_blas_name(void) {
	return aekit_config_fn != NULL ? aekit_config_fn() : "OpenBLAS";
}

static const char *aekit_blas_core(void) {
	return aekit_corename_fn != NULL ? aekit_corename_fn() : "";
}

static void aekit_sgemm(int ta, int tb, int m, int n, int k, float alpha,
	const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
	// 101 CblasRowMajor, 111 CblasNoTrans, 112 CblasTrans.
	aekit_sgemm_fn(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"math"
	"strings"
	"unsafe"
)

// openblas records how loading OpenBLAS went. It is written once, by init, and
// only read afterwards.
var openblas struct {
	ok   bool
	desc string
}

func init() {
	// OpenBLAS keeps its thread count in process-wide state. It is set
	// once, here, to one thread (and OPENBLAS_NUM_THREADS=1 while it loads,
	// so its thread pool is not even started): parallel callers (package
	// train's pool) run single-threaded sgemm calls on their goroutines,
	// so Go and OpenBLAS threads never oversubscribe the cores, and a
	// batch-1 Predict never waits on a pool.
	if msg := C.aekit_blas_open(); msg != nil {
		openblas.desc = "gonum (pure Go; OpenBLAS not loaded: " + C.GoString(msg) + ")"
		return
	}
	openblas.ok = true
	openblas.desc = "openblas (" + strings.TrimSpace(C.GoString(C.aekit_blas_name())) +
		"; core " + C.GoString(C.aekit_blas_core()) + "; 1 thread per call)"
}

// Variant describes the GEMM implementation Gemm uses in this process:
// "openblas (…)" with the library's configuration and core type, or
// "gonum (pure Go; …)" with the reason when libopenblas.so.0 could not be
// loaded at start-up.
func Variant() string { return openblas.desc }

// gemm is the default variant of this build: OpenBLAS when it loaded.
func gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if openblas.ok {
		gemmOpenBLAS(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmGonum(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmVariants lists the GEMM implementations available in this process,
// for the conformance tests and benchmarks.
func gemmVariants() []gemmVariant {
	v := []gemmVariant{{"gonum", gemmGonum}}
	if openblas.ok {
		v = append(v, gemmVariant{"openblas", gemmOpenBLAS})
	}
	return v
}

// gemmOpenBLAS calls cblas_sgemm in row-major order. The operands are Go
// memory passed for the duration of the call, as cgo allows.
func gemmOpenBLAS(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if max(m, n, k, lda, ldb, ldc) > math.MaxInt32 {
		panic("kernel: dimension too large for a 32-bit BLAS")
	}
	var pa, pb *float32
	if k > 0 {
		pa, pb = unsafe.SliceData(a), unsafe.SliceData(b)
	}
	C.aekit_sgemm(C.int(b2i(transA)), C.int(b2i(transB)), C.int(m), C.int(n), C.int(k),
		C.float(alpha), (*C.float)(pa), C.int(lda), (*C.float)(pb), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.SliceData(c)), C.int(ldc))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
