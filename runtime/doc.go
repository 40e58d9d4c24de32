// Package runtime holds aekit's model: a feed-forward stack of Dense and
// element-wise layers, possibly nested (an autoencoder's encoder and decoder
// are sub-models that stay addressable by name), and its batched float32
// forward pass.
//
// Every file format converts to and from a *Model: package keras reads and
// writes Keras files, package onnx reads and writes ONNX, package train
// fits the weights. Formats never import each other; they meet here.
//
// Layer kinds beyond the structural ones (Dense, activation, identity,
// reshape, nested model) are each one self-contained Kind carried by a
// layer of type Other: its Keras class and config attributes, its
// parameters in Keras's saving order, its build and in-place forward pass.
// Readers make them with NewKind; writers and exporters dispatch on
// behaviour (the Affine and RowNorm interfaces), never on the class; a
// trainable kind implements Trainer. Adding a kind is one file and one
// line in NewKind's table (Rescaling: see rescaling.go).
//
// Tensors are row-major float32 slices. A batch of n samples of width w is a
// slice of n·w values, sample i at [i·w, (i+1)·w). Dense kernels use the
// Keras layout [in, out]: Kernel[i*Units+j] connects input i to unit j.
package runtime
