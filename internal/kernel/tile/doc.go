// Package tile holds the assembly of package kernel that cannot live
// there (a package using cgo may not contain Go assembly): the register-
// tile micro-kernels of the packed GEMM (AVX-512 and AVX2+FMA) and the
// FMA-bound loops that measure a core's peak. Every function is a thin
// entry point; package kernel checks shapes and bounds before calling and
// documents the contracts. In builds with the purego tag or off amd64 the
// functions are absent and Available reports false.
package tile
