// Package keras reads and writes Keras model files as runtime models, with
// no Python.
//
// Read and ReadFile load, detected by content rather than file name:
//   - Keras 1 and Keras 2 full-model HDF5 files (model.save("m.h5"):
//     model_config and model_weights), including Keras 3's legacy .h5;
//   - Keras 3 (and tf.keras 2.13+) ".keras" zips (config.json,
//     metadata.json, model.weights.h5), including those saved on Windows;
//   - weights-only files (model.save_weights) of Keras 1/2 and Keras 3
//     (".weights.h5"), given the architecture in Options (the JSON of
//     model.to_json() or a .keras config.json);
//   - a bare architecture JSON, which fails with ErrMissingWeights once it
//     is known to be supported, or loads with zero weights for a caller
//     that initialises them when Options.ZeroWeights is set.
//
// Sequential and functional models load, nested models too (an autoencoder
// Model(x, decoder(encoder(x))) keeps "encoder" and "decoder" as
// runtime.SubModel layers). Functional graphs must be chains: one input,
// one output, each layer fed by the one before.
//
// Part of a model loads on its own, from any of these layouts, even when
// the rest holds layers aekit cannot run: Options.Model names a nested
// model to load alone (with its own input), and Options.Output a layer to
// stop at, such as one of a functional model's several outputs; only the
// layers feeding it are read. A Keras variational autoencoder
// decoder(encoder(x)[2]), whose encoder outputs z_mean, z_log_var and a
// sampling Lambda z, cannot run whole, but Options{Model: "decoder"}
// generates from latent codes and Options{Model: "encoder", Output:
// "z_mean"} computes the deterministic codes. Errors for models that do
// not load name the nested models and outputs to choose from; unknown
// names fail with ErrNotFound. Supported layers: Dense,
// Activation, ReLU, LeakyReLU, ELU, Softmax, ThresholdedReLU, Dropout,
// GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D,
// ActivityRegularization, Flatten, Reshape, InputLayer, nested
// Sequential/Functional models, and the layer kinds of runtime.NewKind
// (runtime.KindClasses: BatchNormalization, LayerNormalization,
// Normalization, Rescaling, UnitNormalization, over the last axis), whose
// config attributes and weights (in Keras's saving order) every layout
// carries. Anything else fails with ErrUnsupportedLayer naming the layer
// and its class, or, with Options.Describe, loads as a
// runtime.Unsupported placeholder that only describes it.
//
// Describe and DescribeFile describe any model these layouts hold, runnable
// or not, without running it: every layer's class, output shapes and
// parameter count (Keras's count_params(), from the weights' shapes), a
// functional graph's connections (several inputs and outputs, merges,
// shared layers), nested models, and an architecture alone. Output shapes
// of layers aekit cannot run come from Keras's rules for their class
// (convolutions, pooling, recurrent layers, merges, ...) or from the shapes
// a Keras 3 file records; tests hold them against Keras itself.
//
// A layer config's "trainable": false (Keras's layer.trainable = False,
// or model.trainable = False on a nested model, which freezes its layers)
// is read into runtime.Layer.Frozen from every layout and written back:
// Keras 3 and tf-keras load aekit's files with the same layers frozen,
// and a legacy .h5 lists a layer group's weights in Keras's order,
// trainable ones first, then the frozen ones and the statistics.
//
// Activations follow the Keras version that wrote the file: hard_sigmoid
// is clip(0.2x+0.5, 0, 1) in Keras 1 and 2 but relu6(x+3)/6 in Keras 3; the
// LeakyReLU layer's default slope is 0.3 (alpha in Keras 2, negative_slope
// in Keras 3).
//
// # Untrusted files
//
// Files are read whole, from regular files only (ReadFile refuses a named
// pipe or a device before reading it). What a file can make the reader
// allocate is bounded before it is allocated, by the Max fields of
// Options: the decompressed size of .keras zip members and of the whole
// archive, absolute and per compressed byte; the size and nesting depth
// of the architecture JSON; the number of layers; the parameters that
// ZeroWeights creates. Each default is far above any real autoencoder; an
// error wrapping ErrTooLarge names the field that raises it. A .keras zip
// with two members of the same name, or a member flagged encrypted, is
// refused with ErrFormat.
//
// Write and WriteFile produce a Keras 3 ".keras" zip or a Keras 2-layout
// full-model ".h5", laid out as Keras writes them, so that Keras loads
// models trained or converted by aekit. Weights round-trip bit for bit.
// Real Keras judges both directions in the tests: fixtures saved by Keras
// 3.15 and tf-keras 2.21 in every layout, with Keras's own outputs
// (fixtures/keras/judge), and every file Write produces loaded live by
// Keras 3 (.keras and .h5) and tf-keras 2 (.h5), see Write. WriteVAE
// writes a variational autoencoder (encoder and decoder) as one .keras
// file shaped like the Keras example's saved VAE, its sampling layer a
// custom class that Keras finds by SamplingRegisteredName.
package keras
