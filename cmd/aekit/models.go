package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
)

// errFormat reports a model file whose format aekit cannot tell.
var errFormat = errors.New("unknown model format")

// loaded is a model read from a file, with a one-line description of the
// file's format and, for ONNX files, the embedded self-check data.
type loaded struct {
	model  *runtime.Model
	format string
	onnx   *onnx.Info
	keras  *keras.Info
}

// sniff tells the format of a model file from its first bytes, falling back
// to the extension: "hdf5", "zip" or "onnx".
func sniff(path string) (string, error) {
	f, _, err := inputfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", fmt.Errorf("%s: %w", path, err) // a folder: "is a directory"
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return "hdf5", nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "zip", nil
	case strings.EqualFold(filepath.Ext(path), ".onnx"):
		return "onnx", nil
	case n == 0:
		return "", fmt.Errorf("%s: empty file", path)
	}
	return "", fmt.Errorf("%s: %w (not HDF5, not a .keras zip, not named .onnx)", path, errFormat)
}

// loadModel reads a Keras (.h5, .keras, .weights.h5 with arch) or ONNX
// model, telling the format by content. arch names the architecture JSON
// for weights-only Keras files; it may be empty.
func loadModel(path, arch string) (*runtime.Model, string, error) {
	l, err := load(path, arch)
	if err != nil {
		return nil, "", err
	}
	return l.model, l.format, nil
}

func load(path, arch string) (*loaded, error) {
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	if kind == "onnx" {
		if arch != "" {
			return nil, fmt.Errorf("%s: --arch applies to Keras weights-only files, not ONNX", path)
		}
		lim, err := envLimits()
		if err != nil {
			return nil, err
		}
		m, info, err := onnx.ReadFileOptions(path, &lim.onnx)
		if err != nil {
			return nil, err
		}
		return &loaded{model: m, format: onnxFormat(info), onnx: info}, nil
	}
	opt, err := kerasOptions(arch)
	if err != nil {
		return nil, err
	}
	m, info, err := keras.ReadFile(path, opt)
	if err != nil {
		return nil, cliHint(err)
	}
	return &loaded{model: m, format: kerasFormat(info), keras: info}, nil
}

// loadModelOpts is loadModel for part of a model: the nested model sub
// and, in it (or in the whole model), the output of the layer output;
// either may be empty. When the whole model loads, sub and output select
// from it as --model and --layer do. When it does not, because a Keras
// file holds layers or a graph aekit cannot run elsewhere (a VAE's
// sampling Lambda), the Keras loader reads only the part asked for.
func loadModelOpts(path, arch, sub, output string) (*runtime.Model, string, error) {
	l, err := loadPart(path, arch, sub, output)
	if err != nil {
		return nil, "", err
	}
	return l.model, l.format, nil
}

// loadPart is load narrowed as loadModelOpts describes.
func loadPart(path, arch, sub, output string) (*loaded, error) {
	l, err := load(path, arch)
	if sub == "" && output == "" {
		return l, err
	}
	if err == nil {
		m := l.model
		if sub != "" {
			m, err = m.Submodel(sub)
		}
		if err == nil && output != "" {
			m, err = m.Until(output)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		l.model = m
		return l, nil
	}
	if !errors.Is(err, keras.ErrUnsupportedLayer) && !errors.Is(err, keras.ErrUnsupportedGraph) {
		return nil, err
	}
	opt, err := kerasOptions(arch)
	if err != nil {
		return nil, err
	}
	opt.Model, opt.Output = sub, output
	m, info, err := keras.ReadFile(path, opt)
	if err != nil {
		return nil, err
	}
	return &loaded{model: m, format: kerasFormat(info), keras: info}, nil
}

// loadSelected loads path narrowed to what --layer, --model and --output
// ask for (see loadModelOpts and selectModel).
func loadSelected(path, arch, layer, sub, output string) (*loaded, error) {
	if layer != "" && (sub != "" || output != "") {
		return nil, errors.New("--layer excludes --model and --output (for a layer of a sub-model use --model NAME --output LAYER)")
	}
	l, err := loadPart(path, arch, sub, output)
	if err != nil {
		return nil, err
	}
	if l.model, err = selectModel(l.model, layer, ""); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// kerasOptions returns the keras.Options for reading with the
// architecture arch and the limits of AEKIT_LIMITS.
func kerasOptions(arch string) (*keras.Options, error) {
	lim, err := envLimits()
	if err != nil {
		return nil, err
	}
	opt := lim.keras
	opt.Arch = arch
	return &opt, nil
}

// kerasLayout describes each Keras layout for inspect.
var kerasLayout = map[keras.Format]string{
	keras.FormatH5:          "HDF5 full model (.h5)",
	keras.FormatKeras:       "zip (.keras)",
	keras.FormatWeightsH5:   "Keras 1/2 save_weights HDF5 + architecture",
	keras.FormatV3WeightsH5: "Keras 3 .weights.h5 + architecture",
	keras.FormatJSON:        "architecture JSON",
}

func kerasFormat(info *keras.Info) string {
	s := kerasLayout[info.Format]
	if s == "" {
		s = string(info.Format)
	}
	if !strings.HasPrefix(s, "Keras") {
		s = "Keras " + s
	}
	switch {
	case info.AekitVersion != "":
		// aekit writes the layout of a Keras version, not Keras itself.
		layout := info.KerasVersion
		if i := strings.LastIndex(layout, "."); strings.Count(layout, ".") == 2 && i > 0 {
			layout = layout[:i]
		}
		s += ", written by aekit " + info.AekitVersion + " in Keras " + layout + " layout"
	case info.KerasVersion != "":
		s += ", written by Keras " + info.KerasVersion
	}
	if info.Backend != "" {
		s += " (" + info.Backend + ")"
	}
	return s
}

func onnxFormat(info *onnx.Info) string {
	s := fmt.Sprintf("ONNX (IR %d, opset %d)", info.IRVersion, info.Opset)
	if info.Producer != "" {
		// tf2onnx writes "1.17.0 None" (its version and a missing git
		// revision): Python's None is not part of a version.
		words := strings.Fields(info.ProducerVersion)
		words = slices.DeleteFunc(words, func(w string) bool { return w == "None" })
		s += ", produced by " + strings.TrimSpace(info.Producer+" "+strings.Join(words, " "))
	}
	return s
}

// saveModel writes m to path in the format its extension names: .keras
// (Keras 3 zip), .h5 (Keras 2-layout HDF5) or .onnx (opset 13). The file
// is written to a temporary name and renamed, so no partial file is left.
func saveModel(path string, m *runtime.Model) error {
	return saveModelOpset(path, m, 0)
}

// saveModelOpset is saveModel with an ONNX opset (0: the default).
func saveModelOpset(path string, m *runtime.Model, opset int) error {
	ext := strings.ToLower(filepath.Ext(path))
	if opset != 0 && ext != ".onnx" {
		return fmt.Errorf("%s: --opset applies to .onnx outputs only", path)
	}
	switch ext {
	case ".onnx":
		return onnx.WriteFile(path, m, &onnx.ExportOptions{Opset: opset})
	case ".keras", ".h5", ".hdf5":
		if strings.HasSuffix(strings.ToLower(path), ".weights.h5") {
			return fmt.Errorf("%s: aekit writes full models; use a name ending in .h5 or .keras", path)
		}
		return keras.WriteFile(path, m)
	}
	return fmt.Errorf("%s: unknown output format %q (want .keras, .h5 or .onnx)", path, ext)
}

// checkModelOutput checks, before any work, that a model can be saved to
// path: an extension saveModel knows and a target atomicfile can write
// (its folder exists; it is absent or a regular file).
func checkModelOutput(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx", ".keras", ".h5", ".hdf5":
	default:
		return fmt.Errorf("%s: unknown output format %q (want .keras, .h5 or .onnx)", path, filepath.Ext(path))
	}
	return atomicfile.Check(path)
}

// selectModel narrows m to what --layer and --model ask for: the model up
// to the named layer or sub-model (its outputs given m's inputs), or the
// named sub-model alone (its own inputs).
func selectModel(m *runtime.Model, layer, sub string) (*runtime.Model, error) {
	if layer != "" && sub != "" {
		return nil, errors.New("--layer and --model are exclusive")
	}
	switch {
	case layer != "":
		return m.Until(layer)
	case sub != "":
		return m.Submodel(sub)
	}
	return m, nil
}

// cliHint rewords library advice for the command line: the keras package
// asks for the architecture "in Options.Arch", the CLI takes --arch.
func cliHint(err error) error {
	if err == nil || !strings.Contains(err.Error(), "in Options.Arch") {
		return err
	}
	return &hintError{err: err, msg: strings.Replace(err.Error(), "in Options.Arch", "with --arch A.json", 1)}
}

// hintError is err with another message; errors.Is still sees err.
type hintError struct {
	err error
	msg string
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }
