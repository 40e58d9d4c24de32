package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/runtime"
)

// openModel loads the model file path with the command line's flags:
// --arch (arch: the architecture of a Keras weights-only file) and the
// part that --layer, --model and --output select (each may be empty),
// under the limits of AEKIT_LIMITS. Errors name the flags.
func openModel(path, arch, layer, sub, output string) (*runtime.Model, *modelfile.Info, error) {
	if layer != "" && (sub != "" || output != "") {
		return nil, nil, errors.New("--layer excludes --model and --output (for a layer of a sub-model use --model NAME --output LAYER)")
	}
	opts, err := modelOptions(arch)
	if err != nil {
		return nil, nil, err
	}
	opts.Layer, opts.Model, opts.Output = layer, sub, output
	m, info, err := modelfile.Open(path, opts)
	if err != nil {
		return nil, nil, flagHint(path, err)
	}
	return m, info, nil
}

// modelOptions returns the modelfile.Options for reading with the
// architecture arch and the limits of AEKIT_LIMITS.
func modelOptions(arch string) (*modelfile.Options, error) {
	lim, err := envLimits()
	if err != nil {
		return nil, err
	}
	return &modelfile.Options{Arch: arch, Keras: lim.keras, ONNX: lim.onnx}, nil
}

// optionFlags names the flag that sets each option of modelfile's
// Options and SaveOptions.
var optionFlags = map[string]string{"Arch": "--arch", "Layer": "--layer", "Model": "--model", "Output": "--output", "Opset": "--opset"}

// flagHint words the advice of the errors of modelfile and keras that
// path gave with the command line's flags instead of the libraries'
// option names: a *modelfile.OptionError, and a *keras.HintError (which
// keras.ReadFile wraps only with the file's name).
func flagHint(path string, err error) error {
	var oe *modelfile.OptionError
	if errors.As(err, &oe) {
		if f := optionFlags[oe.Option]; f != "" {
			return fmt.Errorf("%s: %s %s", oe.Path, f, oe.Reason)
		}
	}
	var he *keras.HintError
	if errors.As(err, &he) {
		return fmt.Errorf("%s: %w; %s", path, he.Err, strings.Join(he.Hints("--arch A.json", "--model NAME", "--output NAME"), "; "))
	}
	return err
}

// saveModel writes m to path in the format its extension names: .keras
// (Keras 3 zip), .h5 (Keras 2-layout HDF5) or .onnx (opset 13). The file
// is written to a temporary name and renamed, so no partial file is left.
func saveModel(path string, m *runtime.Model) error {
	return saveModelOpset(path, m, 0)
}

// saveModelOpset is saveModel with an ONNX opset (0: the default).
func saveModelOpset(path string, m *runtime.Model, opset int) error {
	return flagHint(path, modelfile.Save(path, m, &modelfile.SaveOptions{Opset: opset}))
}
