package keras

import (
	"errors"
	"fmt"
	"strings"
)

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

// HintError is an error that another option of Options may get past. Its
// fields say which: NeedArch for a weights-only file read without an
// architecture (Options.Arch), Models for a model holding layers or a
// graph aekit cannot run whose nested models might load alone
// (Options.Model), Model and Outputs for a functional model with several
// outputs, one of which Options.Output may select. Error names the
// Options fields; a program that calls them otherwise (a command line's
// flags) words the same advice with Hints.
//
// ReadFile wraps a HintError only with the file's name; test for it with
// errors.As.
type HintError struct {
	// Err is the problem; it wraps ErrMissingWeights,
	// ErrUnsupportedLayer or ErrUnsupportedGraph.
	Err error
	// NeedArch is set for a weights-only file read without an
	// architecture.
	NeedArch bool
	// Models lists the nested models, each with its outputs when it has
	// several ("encoder (outputs z_mean, z_log_var, z)").
	Models []string
	// Model names the functional model whose outputs Outputs lists.
	Model   string
	Outputs []string
}

// Error returns Err's message followed by the advice of Hints, naming
// the fields of Options.
func (e *HintError) Error() string {
	return e.Err.Error() + "; " + strings.Join(e.Hints("Options.Arch", "Options.Model", "Options.Output"), "; ")
}

// Unwrap returns Err.
func (e *HintError) Unwrap() error { return e.Err }

// Hints returns the advice, one sentence per option, naming the options
// that set an architecture, a nested model and an output as arch, model
// and output.
func (e *HintError) Hints(arch, model, output string) []string {
	var h []string
	if e.NeedArch {
		h = append(h, "give the architecture (model.to_json() or config.json) with "+arch)
	}
	if len(e.Models) > 0 {
		h = append(h, "nested models load alone with "+model+": "+strings.Join(e.Models, ", "))
	}
	if len(e.Outputs) > 0 {
		h = append(h, fmt.Sprintf("model %q has %d outputs; load the layers feeding one with %s: %s",
			e.Model, len(e.Outputs), output, strings.Join(e.Outputs, ", ")))
	}
	return h
}
