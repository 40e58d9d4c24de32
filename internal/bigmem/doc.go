// Package bigmem allocates the large float32 arrays that aekit reads at
// random, such as a data set whose shuffled rows training gathers, so that
// Linux backs them with transparent huge pages.
//
// A training step of the deep benchmark model gathers 256 rows of 3 KiB
// from 60,000: with 4 KiB pages nearly every row costs a page walk, and
// the gather took 360–380 µs a step on average (best 110–130); with the
// array in 2 MiB pages, 124–127 µs (best 100) — measured in the same
// process on Fashion-MNIST, 1 thread, an Intel Xeon with AVX-512 and
// transparent huge pages in "madvise" mode, 2026-12-06. The kernel only
// backs memory with huge pages on its own in "always" mode; in the
// common "madvise" mode it needs to be asked, before the memory is first
// touched, which is what Float32s does.
package bigmem
