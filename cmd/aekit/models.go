package main

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	return openWith(path, opts)
}

// openWith reads the model at path ("-": standard input) with opts.
func openWith(path string, opts *modelfile.Options) (*runtime.Model, *modelfile.Info, error) {
	var m *runtime.Model
	var err error
	var info *modelfile.Info
	if path == "-" {
		m, info, err = modelfile.Read(os.Stdin, opts)
		if err != nil {
			err = fmt.Errorf("standard input: %w", err)
		}
	} else {
		m, info, err = modelfile.Open(path, opts)
	}
	if err != nil {
		return nil, nil, flagHint(path, err)
	}
	return m, info, nil
}

// checkModelDest checks, before any work, the output of a model: a file
// modelfile.Save can write, or "-" (standard output, which must not be a
// terminal) with its format, onnx, keras or h5, given; format goes with
// "-" only.
func checkModelDest(path, format string, stdout io.Writer) error {
	if path != "-" {
		if format != "" {
			return fmt.Errorf("--format %s: applies to - (standard output); a file's extension names its format", format)
		}
		return modelfile.CheckSave(path)
	}
	switch format {
	case "onnx", "keras", "h5":
	case "":
		return errors.New("- (standard output): give its format with --format onnx, keras or h5")
	default:
		return fmt.Errorf("--format %q: want onnx, keras or h5", format)
	}
	if isTerminal(stdout) {
		return errors.New("- (standard output) is a terminal; redirect it to a file or a pipe")
	}
	return nil
}

// isTerminal tells whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
