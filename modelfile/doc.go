// Package modelfile opens and saves model files of any format aekit
// speaks, above the format packages keras and onnx.
//
// Open (and Read, for an io.Reader) tells the format by content, the way
// image.Decode tells image formats (see Detect): the HDF5 signature, a zip
// or a JSON object are Keras (package keras then tells the layout: a
// full-model .h5, a .keras zip, a weights-only file given Options.Arch, an
// architecture JSON); a first protobuf field of an ONNX ModelProto is
// ONNX. A file named .onnx that fits none goes to the ONNX reader, which
// says what is wrong with it. Options narrows the model to a nested model
// (Model), to the output of one of its layers (Output) or to the whole
// model up to a layer (Layer). When a Keras file's whole model cannot run
// (a variational autoencoder's sampling Lambda), only the part asked for
// is read. Info says the format and what wrote the file.
//
// Save writes the format the output's extension names: ".keras" (Keras 3
// zip), ".h5" (Keras 2-layout HDF5) or ".onnx", atomically. CheckSave
// checks an output name before any work.
//
// Errors wrap the sentinel errors of this package (ErrFormat, ErrOption,
// ErrExtension) or of keras and onnx, and name the file; they name the
// fields of Options, never a command's flags: a program words its own
// advice from the typed errors (*OptionError here, *keras.HintError for a
// Keras file that needs an architecture or loads only in part, and the
// *limits.Error of a resource limit).
//
// modelfile imports keras and onnx; they import neither modelfile nor
// each other.
package modelfile
