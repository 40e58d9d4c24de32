// Package train fits the weights of a runtime.Model with the semantics of
// Keras's Model.fit, so that a model trained in Go behaves like one trained
// in Keras and goes straight to runtime Predict and the Keras and ONNX
// writers.
//
// # The API
//
//	arch, err := train.ParseArch("32:relu|784:sigmoid")  // or an Arch literal
//	m, err := train.Build(784, arch, train.GlorotUniform, seed)
//	cfg := train.DefaultConfig()                            // Keras's fit defaults
//	cfg.Epochs, cfg.BatchSize = 50, 256
//	h, err := train.Fit(ctx, m, train.Set{X: train.Slice(x, 784)}, train.Set{}, cfg)
//
// Fit reads its rows from a Data: Rows, Width and ReadRows (rows by index
// into a buffer), optionally Release. Slice and XY wrap in-memory float32
// rows; npy's Matrix (npy.Map(name) then Matrix(width)) reads the rows of
// a memory-mapped .npy file with pread, so a file larger than memory
// trains with bounded resident memory; package dataset opens .npy and
// .npz files as Data the way aekit train does. A Set pairs inputs with
// targets (Y nil: an autoencoder); the val argument is separate
// validation data, or the zero Set (Config.ValidationSplit then applies,
// see SplitRows).
// Config.Validate checks a configuration without training; a Checkpoint
// written by one run resumes it (Config.Resume, Checkpoint.Config).
//
// # What is reproduced
//
//   - Models: any chain of Dense layers (in nested sub-models too, such as
//     an encoder and a decoder) with every runtime activation, stand-alone
//     activation layers (softmax and log_softmax included), pass-through
//     layers (Flatten/Reshape on flat rows), and Dropout, GaussianNoise,
//     GaussianDropout and AlphaDropout, active while training with Keras
//     3's formulas and identity at inference (noise.go; SpatialDropout1D
//     is rejected with ErrModel). Dense layers' kernel, bias and activity
//     regularisers (runtime.Regularizers: L1, L2, L1L2) are added to the
//     loss as Keras 3 adds them — weight penalties on the weights a batch
//     starts from, the activity penalty summed over the batch and divided
//     by its size — and the reported loss and val_loss include them, as
//     Keras's do (TestKerasFitFamily: weights within 3.7e-7, losses
//     within 1.1e-7 of Keras 3's; the noise layers' final loss over 50
//     shuffled epochs within 0.35%).
//   - Frozen layers (runtime.Layer.Frozen, Keras's trainable=False, on a
//     layer or a nested model; frozen.go): their weights are neither
//     differentiated nor updated, their kernel and bias penalties are left
//     out of the loss (an activity penalty stays), a frozen
//     BatchNormalization runs in inference mode while training, gradients
//     flow through frozen layers to the trainable ones before them, and
//     the backward pass stops at the first layer that trains
//     (TestKerasFitFrozen: weights within 4.3e-7 and losses within 1.3e-7
//     of Keras 3's, frozen weights bit-identical; tf-keras 2 differs only
//     in counting frozen layers' weight penalties in its loss).
//   - Variational autoencoders (vae.go: ParseVAE, BuildVAE, FitVAE): the
//     Dense VAE of the Keras examples, an encoder ending in z_mean and
//     z_log_var (one linear Dense layer of 2·latent units), sampling
//     z = z_mean + exp(z_log_var/2)·ε, a decoder; loss = reconstruction
//     (summed over features) + KL, as the example's train_step. Against
//     Keras 3 (TestKerasVAE, 784-512-2-512-784 on 4000 Fashion-MNIST
//     rows, data order): gradients at fixed ε within 3.1e-7; fed the
//     same ε, the first epoch's losses within 5e-6 and the 30th's within
//     0.7%. With independent ε a run ends in one of two states, in Keras
//     and aekit alike (reconstruction ≈263.5 with KL ≈6.6–6.8, or ≈266.5
//     with KL ≈6.1–6.3; 5 of 8 Keras runs and 4 of 9 aekit runs in the
//     first), so single runs differ by up to 10% in KL; the means over
//     those runs agree within 0.2% (reconstruction) and 1.3% (KL).
//   - Initialisers (Build, Initialize): Keras's glorot_uniform default and
//     the other VarianceScaling rules, zero biases; numbers come from a
//     seeded PCG generator, so the distributions are Keras's but not the
//     values. InitializeKeras gives Keras 3's own values on TensorFlow
//     after keras.utils.set_random_seed(N): Python's Mersenne Twister
//     draws each layer's seed, TensorFlow's stateless Philox stream its
//     kernel; bit for bit for the uniform initialisers, zeros and ones,
//     within 4.8e-7 relative (a few ulp, from the C library's logf and
//     sincosf) for the normal ones (TestKerasSeed, against real Keras).
//   - Optimizers: Adam (epsilon-hat form, amsgrad), SGD (momentum,
//     Nesterov), RMSprop (momentum, centered) and Adagrad with Keras 3's
//     formulas and defaults, float32 state, optional exponential or
//     staircase learning-rate decay.
//   - Losses: binary_crossentropy as Keras computes it on TensorFlow (from
//     the logits after a sigmoid output, else on clipped probabilities),
//     mse, mae; mean over features then batch; an epoch's loss is the
//     batch losses' mean weighted by batch size.
//   - fit: batch_size with the last partial batch kept, per-epoch seeded
//     shuffling, validation_split taken from the last rows before
//     shuffling (or separate validation data, evaluated in batches of
//     batch_size after each epoch), initial_epoch, EarlyStopping
//     (monitor, patience, min_delta, restore_best_weights: the best
//     weights are put back when training ends, stopped early or not), a
//     history with wall times.
//
// Everything is float32 like Keras, Adam's step size included (computed
// from β1 and β2 rounded to float32, as Keras on TensorFlow does); losses
// are accumulated in float64.
//
// The judge is real Keras: cmd/aekit's TestKerasFit trains 14 cases (the
// seed model and 784-32-784; every optimizer and every loss; validation
// split, a partial last batch, early stopping with restored weights,
// binary cross-entropy on saturated hard_sigmoid outputs, models built
// with --keras-seed) with Model.fit of Keras 3.15 and of tf-keras 2.21 on
// TensorFlow 2.21 (shuffle=False) and with aekit train from the file
// Keras saved before training: weights after 20 updates agree within
// 1e-5 relative (max |Δw| / max |w| per tensor; measured ≤ 8.3e-7), every
// epoch's loss and val_loss within 1e-5 relative (measured ≤ 1.6e-7),
// with the same history keys and epochs; shuffled (different generators),
// the final loss of 50 epochs on the shipped Fashion-MNIST images within
// 1% (measured 0.55%). The older
// cross-check in fixtures/train (crosscheck_torch.py, TestCrossCheckTorch)
// trains the same kind of cases in PyTorch with the formulas written out
// by hand (a TensorFlow.js one is retired); it computes Adam's step size in float64,
// so it now differs from aekit by up to 3.2e-6 (weights) and 1.5e-6
// (losses), still within its 1e-5.
//
// # Speed
//
// Fit flattens the model once, points every Dense layer's Kernel and Bias
// into one contiguous parameter buffer, and preallocates every activation,
// gradient and optimizer buffer for the largest batch: a step allocates
// nothing (TestStepAllocs). Matrix products (X·W, δ·Wᵀ, Xᵀ·δ and the bias
// gradients as 1ᵀ·δ) go through package kernel (OpenBLAS by default), and
// so do the fused element-wise passes: bias plus activation in one pass
// (kernel.BiasAct, in place where the backward pass needs only the
// output: relu, sigmoid, tanh, linear) and the sigmoid + binary
// cross-entropy loss and gradient (kernel.SigmoidBCERow, vectorised),
// which writes the gradient over the logits. Rows in data order are read
// where they lie; shuffled rows are gathered into one buffer (targets are
// not copied again for an autoencoder). Adam sends weights whose state
// has become tiny (the moments of dead relu units, which end up as
// subnormal numbers that make float32 arithmetic 20–100 times slower) to
// an exact path that avoids subnormal arithmetic and gives the same bits
// (subnormal.go, TestSubnormalAdam).
//
// Measured with BenchmarkFitStep and BenchmarkFitStepFashion against
// PyTorch 1.13 (same models, Adam, BCE from logits, batch 256, OpenBLAS
// with OPENBLAS_NUM_THREADS=1), interleaved in one session on a shared
// 2-core AVX-512 VM, medians of 3: 2.3–5.1× PyTorch's samples per second
// for the seed, 784-32-784 and deep models at 1 and 2 threads (784-32-784
// on Fashion-MNIST: 157k against 36k samples/s at 1 thread). The
// remaining time is mostly the products (about half a step), then the
// loss, the Adam update, bias additions and the gather.
//
// Config.Times measures where a run's steps go (StepTimes: reading the
// rows, forward, loss, backward, weight gradients and update, and the
// products' own rate, product by product); `aekit bench --peak` prints
// it. A step's own buffers (the batch, activations and gradients, packed
// kernels, Adam's moments) come from one arena in 2 MiB pages when they
// pass 4 MiB (internal/bigmem): the weight gradient xᵀ·δ reads the
// batch's columns a row, a 4 KiB page, at a time. The shuffled
// gather of in-memory rows costs a page walk a row; with the array in
// 4 KiB pages the Go heap had used before, that was about three times
// the copy itself for 784-wide rows: aekit's loaders (package npy)
// allocate large arrays in transparent huge pages where Linux offers
// them, and a caller's own slice gains the same by being allocated after
// madvise(MADV_HUGEPAGE).
//
// # Threads and determinism
//
// With Config.Threads > 1 each step splits its work over long-lived
// goroutines (OpenBLAS itself runs single-threaded, so Go and BLAS
// threads never oversubscribe the cores): forward and input-gradient
// products by batch rows, weight gradients by kernel rows (or columns,
// for kernels with few rows such as the 32×784 decoder), bias gradients
// by columns, the loss by rows. The optimizer update is not a pass of its
// own: each block of weights is updated by the goroutine that computed its
// gradient, right after it, while the gradient is still in that core's
// cache (a separate pass at 2 threads took 3 times as long as at 1). The
// workers spin for up to 50 µs before parking, because waking a parked one
// cost 12–18 µs per job, and a deep step has about 21 jobs; before these
// two changes 2 threads were slower than 1. Measured on a 2-core AMD EPYC:
// 2 threads train 784-32-784 1.4× and the deep model 1.3× faster than 1;
// the seed model, whose whole step is about 0.25 ms, gains nothing.
//
// The weights and history are bit-identical for a given Seed whatever
// the thread count, with the pure-Go and the OpenBLAS kernels alike
// (TestThreadsIdentical): every product is cut into the same blocks of
// 128 rows (or columns) for any thread count, because a BLAS may round a
// row differently depending on the shape of the product it belongs to,
// and no sum depends on the split. The price, measured on the products
// of one batch-256 step against one call per product: about 5% of the
// product time for 128-row blocks (11–15% with the 64-row blocks used
// before), or 2–4% of a step. A consequence: at batch 256 the batch-row
// products have two blocks, so they use at most 2 threads; the other
// parts of a step use all of them.
//
// # Data larger than memory
//
// Fit touches its data only through Data.ReadRows: it scans it for NaN and
// Inf (and binary cross-entropy's [0, 1] targets) and fingerprints it in
// 16 MiB chunks of rows, reads shuffled rows by index every batch, and
// calls Release (when the Data has one) after its scans and every epoch.
// npy.Matrix reads rows with pread from the mapped file, so no page of
// the mapping becomes resident. One epoch of 784-32-784 on a 4.39 GB
// float32 file (1.4M rows, aekit train --mmap, 1 thread) peaked at 59 MB
// resident (282 MB with the earlier page-releasing reader that read
// through the mapping), against 4.34 GB with the file loaded.
//
// # Checkpoints
//
// With Config.CheckpointPath set, Fit writes a checkpoint atomically after
// every epoch and when its context is cancelled (after the current batch).
// A checkpoint holds the model, optimizer state, generator state, epoch and
// batch position, history and early-stopping state in a small versioned
// binary format (see Checkpoint); resuming from it gives bit-identical
// results to an uninterrupted run (TestResume).
package train
