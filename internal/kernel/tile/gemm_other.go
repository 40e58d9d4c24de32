//go:build !amd64 || purego

package tile

// Has512 is false in this build (the purego tag, or not amd64).
const Has512 = false

// Has256 is false in this build (the purego tag, or not amd64).
const Has256 = false

// Flags of Kern512 and Kern256.
const (
	Relu       = 1 // apply max(x, 0) after the bias
	Accumulate = 2 // start from C's values instead of 0
	Sigmoid    = 4 // σ after the bias (see the amd64 build)
	PrefetchA  = 8 // Kern256S: prefetch A's lines (see the amd64 build)
)

// Kern512 is not available in this build; it panics.
func Kern512(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int {
	panic("tile: no assembly in this build")
}

// Kern512S is not available in this build; it panics.
func Kern512S(a *float32, lda int, b *float32, ldb int, k int, c *float32, ldc int, rows int, mask *int32, flags int, ks int) {
	panic("tile: no assembly in this build")
}

// Kern256S is not available in this build; it panics.
func Kern256S(a *float32, lda int, b *float32, ldb int, k int, c *float32, ldc int, rows int, mask *int32, flags int, ks int) {
	panic("tile: no assembly in this build")
}

// Kern512x12T is not available in this build; it panics.
func Kern512x12T(a *float32, ks int, b *float32, ldb int, k int, c *float32, ldc int, mask *int32, flags int) {
	panic("tile: no assembly in this build")
}

// Kern512x12 is not available in this build; it panics.
func Kern512x12(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int) int {
	panic("tile: no assembly in this build")
}

// Row512 is not available in this build; it panics.
func Row512(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int) {
	panic("tile: no assembly in this build")
}

// Kern256 is not available in this build; it panics.
func Kern256(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, mask *int32, bias *float32, flags int, ks int) int {
	panic("tile: no assembly in this build")
}

// Row256 is not available in this build; it panics.
func Row256(a *float32, b *float32, pstride int, k int, c *float32, panels int, mask *int32, bias *float32, relu int) {
	panic("tile: no assembly in this build")
}

// EqualRows512 is not available in this build; it panics.
func EqualRows512(b *float32, ldb int, p *float32, k int, panels int, mask *int32) bool {
	panic("tile: no assembly in this build")
}

// EqualRows256 is not available in this build; it panics.
func EqualRows256(b *float32, ldb int, p *float32, k int, panels int, mask *int32) bool {
	panic("tile: no assembly in this build")
}

// Trans8x8 is not available in this build; it panics.
func Trans8x8(src *float32, lds int, dst *float32, ldd int, blocks int) {
	panic("tile: no assembly in this build")
}

// PrefetchLines does nothing in this build.
func PrefetchLines(p *float32, n int) {}

// Kern512x14 is not available in this build; it panics.
func Kern512x14(a *float32, lda int, b *float32, k int, c *float32, ldc int, mask *int32, bias *float32, flags int) {
	panic("tile: no assembly in this build")
}

// RowS256 is not available in this build; it panics.
func RowS256(a *float32, b *float32, ldb int, k int, c *float32, cols int, mask *int32) {
	panic("tile: no assembly in this build")
}

// Kern256P is not available in this build; it panics.
func Kern256P(a *float32, lda int, b *float32, k int, c *float32, ldc int, rows int, panels int, mask *int32, bias *float32, relu int) {
	panic("tile: no assembly in this build")
}
