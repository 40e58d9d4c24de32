// Package runtime holds aekit's model: a feed-forward stack of Dense and
// element-wise layers, possibly nested (an autoencoder's encoder and decoder
// are sub-models that stay addressable by name), and its batched float32
// forward pass.
//
// Every file format converts to and from a *Model: package keras reads and
// writes Keras files, package onnx reads and writes ONNX, package train
// fits the weights. Formats never import each other; they meet here.
//
// Tensors are row-major float32 slices. A batch of n samples of width w is a
// slice of n·w values, sample i at [i·w, (i+1)·w). Dense kernels use the
// Keras layout [in, out]: Kernel[i*Units+j] connects input i to unit j.
package runtime
