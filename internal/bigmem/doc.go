// Package bigmem allocates the large float32 arrays that aekit reads at
// random, such as a data set whose shuffled rows training gathers
// (Float32s), and the buffers a training step works on together (Arena),
// so that Linux backs them with transparent huge pages.
//
// A training step of the deep benchmark model gathers 256 rows of 3 KiB
// from 60,000, each from another page. Measured in `aekit bench --peak`
// (whose product matrices, freed before the data set is made, leave the
// Go heap touched 4 KiB pages that the data set reuses), 1 thread, an
// Intel Xeon with AVX-512 under KVM, transparent huge pages in "madvise"
// mode, 2026-12-06: the gather took 360–395 µs a step on average (best
// 110–130) with the array in those pages, 124–138 µs with it in 2 MiB
// pages, and training ran 8–14% faster. An array in 4 KiB pages fresh
// from the kernel did better (the same step within 2% of the huge-page
// one), but a program that has freed memory before cannot tell which it
// gets. The kernel backs memory with huge pages on its own only in
// "always" mode; in the common "madvise" mode it has to be asked before
// the memory is first touched, which is what Float32s does.
//
// A step's own buffers are smaller but read with strides: the weight
// gradient xᵀ·δ walks down the batch's columns, one row (3 KiB for 784
// values) a step, so a 4 KiB page a row. The same deep model's step with
// its batch, activations, gradients, packed weights and Adam's moments
// carved from one Arena trained 0–5% faster at 1 thread and 6–12% at 2
// (three interleaved runs, the same machine), for 3 MB more peak RSS
// (264 against 261 MB training it on 60,000 rows).
package bigmem
