// Package train fits the weights of a runtime.Model with the semantics of
// Keras's Model.fit, so that a model trained in Go behaves like one trained
// in Keras and goes straight to runtime Predict and the Keras and ONNX
// writers.
//
// # What is reproduced
//
//   - Models: any chain of Dense layers (in nested sub-models too, such as
//     an encoder and a decoder) with every runtime activation, stand-alone
//     activation layers (softmax and log_softmax included), and
//     pass-through layers (Flatten/Reshape on flat rows, Identity with a
//     zero rate). Dropout and noise layers (Identity with a rate) are
//     rejected with ErrModel: they behave differently while training.
//   - Initialisers (Build, Initialize): Keras's glorot_uniform default and
//     the other VarianceScaling rules, zero biases; numbers come from a
//     seeded PCG generator, so the distributions are Keras's but not the
//     values.
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
//     (monitor, patience, min_delta, restore_best_weights), a history
//     with wall times.
//
// Everything is float32 like Keras; losses are accumulated in float64.
// The cross-check in fixtures/train (crosscheck_torch.py, checked by
// TestCrossCheckTorch) trains the models in PyTorch with these
// formulas written out by hand, from the same weights and batches: weights
// after 20 updates agree within 1e-5 relative (max |Δw| / max |w| per
// tensor; measured ≤ 4e-7) and 5 epochs of losses within 1e-5 relative
// (measured ≤ 1e-7).
//
// # Speed
//
// Fit flattens the model once, points every Dense layer's Kernel and Bias
// into one contiguous parameter buffer, and preallocates every activation,
// gradient and optimizer buffer for the largest batch: a step allocates
// nothing (TestStepAllocs). Matrix products go through package kernel.
// With Config.Threads > 1 each step splits its work over long-lived
// goroutines: forward and input-gradient products by batch rows, weight
// gradients by kernel rows, bias gradients by columns, the update by
// weights. Every product is cut into the same blocks of 64 rows whatever
// the thread count (a BLAS may round a row differently depending on the
// shape of the product it belongs to), and no sum depends on the split, so
// the weights and history are bit-identical for every thread count, with
// the pure-Go and the OpenBLAS kernels alike (TestThreadsIdentical).
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
