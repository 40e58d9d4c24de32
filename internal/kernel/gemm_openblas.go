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
typedef void (*aekit_sgemv_t)(int order, int trans, int m, int n, float alpha,
	const float *a, int lda, const float *x, int incx, float beta, float *y, int incy);
typedef void (*aekit_setthreads_t)(int);
typedef char *(*aekit_str_t)(void);

static aekit_sgemm_t aekit_sgemm_fn;
static aekit_sgemv_t aekit_sgemv_fn;
static aekit_str_t aekit_corename_fn, aekit_config_fn;

// aekit_blas_open loads OpenBLAS and pins it to one thread. It returns NULL
// on success, else a message saying why not. core is the core type to load
// (PreferredCore), or "" to leave the choice to OpenBLAS. OPENBLAS_CORETYPE
// and OPENBLAS_NUM_THREADS are set only while the library loads (its
// constructor reads them), and only when the user has not set them.
static const char *aekit_blas_open(const char *core) {
	int setCore = 0, setThreads = 0;
	if (core[0] != 0 && getenv("OPENBLAS_CORETYPE") == NULL) {
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
	aekit_sgemv_fn = (aekit_sgemv_t)dlsym(h, "cblas_sgemv");
	aekit_setthreads_t setn = (aekit_setthreads_t)dlsym(h, "openblas_set_num_threads");
	aekit_corename_fn = (aekit_str_t)dlsym(h, "openblas_get_corename");
	aekit_config_fn = (aekit_str_t)dlsym(h, "openblas_get_config");
	if (aekit_sgemm_fn == NULL || aekit_sgemv_fn == NULL || setn == NULL)
		return "libopenblas lacks cblas_sgemm, cblas_sgemv or openblas_set_num_threads";
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

static void aekit_sgemv(int trans, int m, int n, float alpha, const float *a, int lda,
	const float *x, int incx, float beta, float *y, int incy) {
	aekit_sgemv_fn(101, trans ? 112 : 111, m, n, alpha, a, lda, x, incx, beta, y, incy);
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
	core string // openblas_get_corename: "Haswell", "SkylakeX", …
	gemv bool   // Gemm hands one-row products to sgemv (core lacks small-matrix sgemm kernels)
	desc string
}

func init() {
	// OpenBLAS keeps its thread count in process-wide state. It is set
	// once, here, to one thread (and OPENBLAS_NUM_THREADS=1 while it loads,
	// so its thread pool is not even started): parallel callers (package
	// train's pool) run single-threaded sgemm calls on their goroutines,
	// so Go and OpenBLAS threads never oversubscribe the cores, and a
	// batch-1 Predict never waits on a pool.
	core := C.CString(PreferredCore())
	defer C.free(unsafe.Pointer(core))
	if msg := C.aekit_blas_open(core); msg != nil {
		openblas.desc = "gonum (pure Go; OpenBLAS not loaded: " + C.GoString(msg) + ")"
		return
	}
	openblas.ok = true
	openblas.core = C.GoString(C.aekit_blas_core())
	// Decided once, from the core the library runs: see gemmOpenBLASGemv.
	openblas.gemv = !hasSmallSgemm(openblas.core)
	route := "one-row products via sgemv"
	if !openblas.gemv {
		route = "one-row products via sgemm (small-matrix kernels)"
	}
	openblas.desc = "openblas (" + strings.TrimSpace(C.GoString(C.aekit_blas_name())) +
		"; core " + openblas.core + "; 1 thread per call; " + route + ")"
}

// Variant describes the GEMM implementation Gemm uses in this process:
// "openblas (…)" with the library's configuration, its core type, and
// whether products with one row or one column (m = 1 or n = 1) go to
// sgemv ("one-row products via sgemv", on cores without OpenBLAS's
// small-matrix sgemm kernels) or stay with sgemm; or "gonum (pure Go; …)"
// with the reason when libopenblas.so.0 could not be loaded at start-up.
func Variant() string { return openblas.desc }

// CoreBelowCPU reports whether Gemm runs OpenBLAS kernels below what this
// CPU supports: the CPU has AVX-512 F, CD, BW, DQ and VL (PreferredCore is
// "SkylakeX") but the library runs a core type without AVX-512 kernels
// (not SkylakeX, Cooperlake or SapphireRapids). That happens when the
// environment sets OPENBLAS_CORETYPE to an older core, which aekit
// honours. It is false when Gemm does not run OpenBLAS.
func CoreBelowCPU() bool {
	return openblas.ok && PreferredCore() == "SkylakeX" && !hasSmallSgemm(openblas.core)
}

// gemm is the default variant of this build: OpenBLAS when it loaded,
// with one-row products on sgemv when the core lacks small-matrix sgemm
// kernels.
func gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch {
	case openblas.gemv:
		gemmOpenBLASGemv(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case openblas.ok:
		gemmOpenBLAS(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		gemmGonum(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// gemmVariants lists the GEMM implementations available in this process,
// for the conformance tests and benchmarks: "openblas" is sgemm alone and
// "openblas-gemv" hands one-row products to sgemv whatever the core.
func gemmVariants() []gemmVariant {
	v := []gemmVariant{{"gonum", gemmGonum}}
	if openblas.ok {
		v = append(v, gemmVariant{"openblas", gemmOpenBLAS}, gemmVariant{"openblas-gemv", gemmOpenBLASGemv})
	}
	return v
}

// gemmOpenBLAS calls cblas_sgemm in row-major order. The operands are Go
// memory passed for the duration of the call, as cgo allows.
func gemmOpenBLAS(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkBLAS(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	var pa, pb *float32
	if k > 0 {
		pa, pb = unsafe.SliceData(a), unsafe.SliceData(b)
	}
	C.aekit_sgemm(C.int(b2i(transA)), C.int(b2i(transB)), C.int(m), C.int(n), C.int(k),
		C.float(alpha), (*C.float)(pa), C.int(lda), (*C.float)(pb), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.SliceData(c)), C.int(ldc))
}

// gemmOpenBLASGemv is gemmOpenBLAS with the products that have one row
// (m = 1) or one column (n = 1) and k > 0 computed by cblas_sgemv: on
// OpenBLAS cores without small-matrix sgemm kernels (all but the AVX-512
// ones) sgemm packs such a product like a large one and is 2.5–6× slower.
// Gemm uses it on those cores only; k = 0 stays with sgemm, as gemv
// returns at once on a zero dimension instead of scaling C by β.
func gemmOpenBLASGemv(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if (m != 1 && n != 1) || k == 0 {
		gemmOpenBLAS(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkBLAS(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	// The stored matrices in row-major order: A is m×k (k×m when transA),
	// B is k×n (n×k when transB). gemv computes y = α·M·x + β·y or
	// α·Mᵀ·x + β·y for a stored M, with x and y strided.
	//
	// When β = 0, y is zeroed here first. OpenBLAS 0.3.21's sgemv scales
	// y by β through its SCAL kernel, which writes zeros over NaN
	// (Haswell, SkylakeX, Sandybridge and Prescott all pass the
	// conformance suite without this), but SCAL's handling of 0·NaN has
	// changed between OpenBLAS releases, and the library is whichever
	// libopenblas.so.0 is installed; Gemm's contract is that C is not
	// read when β = 0.
	if m == 1 {
		// C's row: C[0][j] = Σₗ op(A)[0][l]·op(B)[l][j], so y = op(B)ᵀ·x
		// with x = op(A)'s row: A's row (stride 1), or its first column
		// (stride lda) when A is stored k×1.
		incx := 1
		if transA {
			incx = lda
		}
		if beta == 0 {
			clear(c[:n])
		}
		if transB { // op(B)ᵀ = B, stored n×k
			sgemv(false, n, k, alpha, b, ldb, a, incx, beta, c, 1)
		} else { // op(B)ᵀ = Bᵀ, B stored k×n
			sgemv(true, k, n, alpha, b, ldb, a, incx, beta, c, 1)
		}
		return
	}
	// n == 1, C's column (stride ldc): y = op(A)·x with x = op(B)'s
	// column: B's first column (stride ldb), or its row (stride 1) when B
	// is stored 1×k.
	incx := ldb
	if transB {
		incx = 1
	}
	if beta == 0 {
		for i := range m {
			c[i*ldc] = 0
		}
	}
	if transA { // op(A) = Aᵀ, A stored k×m
		sgemv(true, k, m, alpha, a, lda, b, incx, beta, c, ldc)
	} else { // A stored m×k
		sgemv(false, m, k, alpha, a, lda, b, incx, beta, c, ldc)
	}
}

// checkBLAS is checkGemm plus the limit of OpenBLAS's 32-bit integer
// interface, for both OpenBLAS paths.
func checkBLAS(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if max(m, n, k, lda, ldb, ldc) > math.MaxInt32 {
		panic("kernel: dimension too large for a 32-bit BLAS")
	}
}

// sgemv calls cblas_sgemv in row-major order on the stored rows×cols
// matrix M: y = α·M·x + β·y, or α·Mᵀ·x + β·y when trans. Its callers have
// checked the shapes; all are at least 1.
func sgemv(trans bool, rows, cols int, alpha float32, m []float32, ldm int, x []float32, incx int, beta float32, y []float32, incy int) {
	C.aekit_sgemv(C.int(b2i(trans)), C.int(rows), C.int(cols), C.float(alpha),
		(*C.float)(unsafe.SliceData(m)), C.int(ldm), (*C.float)(unsafe.SliceData(x)), C.int(incx),
		C.float(beta), (*C.float)(unsafe.SliceData(y)), C.int(incy))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
