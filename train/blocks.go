package train

// blockRows is the number of rows (or columns) of every block a step's
// matrix products are cut into, whatever the number of threads (the last
// block may be shorter); threads take whole blocks. A BLAS may round a
// row differently depending on the shape of the product it is in
// (OpenBLAS picks other kernels for small or ragged blocks), so fixed
// blocks are what makes results independent of the thread count. 128
// rather than 64: measured on the products of a batch-256 step, 64-row
// blocks cost 11–15% over one call per product, 128-row blocks about 5%,
// and two 128-row blocks still give 2 threads one each.
const blockRows = 128

// span returns chunk c of t of the range [0, n): a run of whole blocks of
// blockRows rows (the last block possibly shorter), possibly empty. When
// the blocks do not divide evenly, chunk 0 (the caller's, which starts at
// once, while workers may have to be woken) gets the larger share, and
// a single block goes to chunk 0 alone.
func span(c, t, n int) (lo, hi int) {
	nb := (n + blockRows - 1) / blockRows
	c = t - 1 - c
	return min(c*nb/t*blockRows, n), min((c+1)*nb/t*blockRows, n)
}
