package keras

import "errors"

// Sentinel errors returned (wrapped with context naming the file, layer
// and problem) by this package. Test for them with errors.Is.
var (
	// ErrFormat reports bytes that are not a Keras file this package
	// reads: neither HDF5 nor a zip nor JSON, a truncated or corrupt file,
	// malformed model JSON, or an HDF5 file without the expected groups.
	ErrFormat = errors.New("keras: bad file format")

	// ErrUnsupportedLayer reports a layer class aekit cannot run
	// (Conv2D, BatchNormalization, LSTM, Lambda, custom or quantized
	// layers, ...). The message names the layer, its class and the
	// supported classes.
	ErrUnsupportedLayer = errors.New("keras: unsupported layer")

	// ErrUnsupportedGraph reports a functional model that is not a chain:
	// several inputs or outputs, merges, branches or shared layers.
	ErrUnsupportedGraph = errors.New("keras: unsupported graph")

	// ErrActivation reports an activation that aekit does not implement,
	// or that the target format cannot express. Errors for unknown names
	// also wrap runtime.ErrActivation.
	ErrActivation = errors.New("keras: unsupported activation")

	// ErrMissingWeights reports weights the architecture needs but the
	// file lacks (a zip without model.weights.h5, a layer group missing),
	// or a weights-only file read without an architecture.
	ErrMissingWeights = errors.New("keras: missing weights")

	// ErrNotFound reports a nested model (Options.Model) or an output
	// layer (Options.Output) the model does not have. The message lists
	// the names it has.
	ErrNotFound = errors.New("keras: no such model or layer")

	// ErrTooLarge reports a file beyond one of the resource limits of
	// Options (MaxConfigBytes, MaxLayers, MaxParams, ...): the message
	// names the limit and the Options field that raises it. Errors
	// wrapping it are *limits.Error values from internal/limits.
	ErrTooLarge = errors.New("keras: resource limit exceeded")

	// ErrShape reports a weight whose shape disagrees with the
	// architecture, e.g. a kernel that is not [inputs, units].
	ErrShape = errors.New("keras: weight shape mismatch")
)
