package keras

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/internal/limits"
	"github.com/aekit/aekit/runtime"
)

// Format names a Keras file layout.
type Format string

// The layouts Read recognises. Write accepts FormatH5 and FormatKeras.
const (
	// FormatH5 is a full-model HDF5 file (model.save("m.h5") in Keras 1
	// and 2, the legacy .h5 of Keras 3): a model_config attribute and a
	// model_weights group.
	FormatH5 Format = "h5"
	// FormatKeras is the zip Keras 3 (and tf.keras 2.13+) writes for
	// model.save("m.keras"): config.json, metadata.json, model.weights.h5.
	FormatKeras Format = "keras"
	// FormatWeightsH5 is a Keras 1/2 model.save_weights HDF5 file: a
	// layer_names attribute at the root, no architecture.
	FormatWeightsH5 Format = "weights.h5"
	// FormatV3WeightsH5 is a Keras 3 model.save_weights(".weights.h5")
	// file: groups layers/<name>/vars, no architecture.
	FormatV3WeightsH5 Format = "v3.weights.h5"
	// FormatJSON is an architecture alone (model.to_json() or a .keras
	// config.json), which has no weights.
	FormatJSON Format = "json"
)

// maxFile bounds the size of a file Read accepts (4 GiB).
const maxFile = min(4<<30, math.MaxInt-1)

// Options tunes Read. The zero value (or a nil *Options) reads files that
// carry their own architecture.
type Options struct {
	// Arch is the path of a JSON architecture — the output of
	// model.to_json() or a .keras config.json — for weights-only files.
	// It is ignored when the file carries its own architecture.
	Arch string
	// ArchJSON is the architecture itself; it takes precedence over Arch.
	ArchJSON []byte

	// Model names a nested model (a Sequential or functional model used
	// as a layer, at any depth, e.g. "encoder" or "decoder") to load
	// alone, with its own input, instead of the whole model. Layers
	// outside it are not parsed, so it loads even when the whole model
	// holds layers aekit cannot run (a VAE's sampling Lambda). The empty
	// string, the default, loads the whole model. An unknown name fails
	// with ErrNotFound listing the nested models.
	Model string

	// ZeroWeights lets a bare architecture JSON (model.to_json() output
	// or a .keras config.json, with no weights anywhere) load as a model
	// whose Dense kernels and biases are all zero, for a caller that
	// initialises them (aekit train --arch). Without it such a file fails
	// with ErrMissingWeights. It does not apply to files with weights.
	ZeroWeights bool

	// Describe reads a model to describe it (aekit inspect) rather than
	// run it: every layer aekit cannot run (Conv2D, LSTM, Lambda, a custom
	// class, ...) becomes a runtime.Unsupported layer holding its class
	// and the number of weight values the file has for it, instead of
	// failing with ErrUnsupportedLayer. Layers after one have unknown
	// shapes except where their config fixes them (Dense units). The model
	// returned fails Validate and Predict naming the first such layer.
	Describe bool

	// Output names the layer whose output the loaded model (the whole
	// model, or the nested one Model names) returns: one of a functional
	// model's outputs, such as the "z_mean" of a VAE encoder with outputs
	// z_mean, z_log_var and z, or any other of its layers. Only the layers
	// on the path from the input to it are parsed and loaded; the others
	// may be of any class. The empty string, the default, keeps the
	// model's own output; a functional model with several outputs then
	// fails with ErrUnsupportedGraph (or ErrUnsupportedLayer, if it also
	// holds unsupported layers) whose message lists the outputs. An
	// unknown name fails with ErrNotFound listing the layers.
	Output string

	// Resource limits, checked before the memory they bound is
	// allocated; a file beyond one fails with an error wrapping
	// ErrTooLarge that names the field. Zero (or less) selects the
	// default, given in parentheses; every default is far above any real
	// autoencoder.
	//
	// MaxConfigBytes bounds the architecture JSON (config.json,
	// metadata.json, model.to_json() output, the Arch file), in bytes
	// (DefaultMaxConfigBytes, 16 MiB); MaxConfigDepth its nesting of
	// objects and arrays (DefaultMaxConfigDepth, 100).
	MaxConfigBytes int64
	MaxConfigDepth int
	// MaxLayers bounds the number of layers of the architecture, nested
	// models' included (DefaultMaxLayers, 10,000).
	MaxLayers int
	// MaxParams bounds the number of parameters that ZeroWeights creates
	// (DefaultMaxParams, 2²⁸, 1 GiB of float32); the count is
	// overflow-safe.
	MaxParams int64
	// MaxMemberBytes bounds the decompressed size of each member of a
	// .keras zip (DefaultMaxMemberBytes, 1 GiB), MaxArchiveBytes the sum
	// over all members (DefaultMaxArchiveBytes, 2 GiB), and
	// MaxMemberRatio a member's decompressed size per compressed byte
	// for members over 8 MiB (DefaultMaxMemberRatio, 200; deflate
	// reaches about 1000 only on data with long runs, as zip bombs are
	// made). Members flagged encrypted are refused.
	MaxMemberBytes  int64
	MaxArchiveBytes int64
	MaxMemberRatio  int64

	// graph is set by Describe: functional models are read as graphs
	// (any inputs, outputs and connections), unsupported layers as
	// placeholders, and an architecture alone without weights.
	graph bool
}

// Info describes the file Read loaded.
type Info struct {
	// Format is the file's layout.
	Format Format
	// KerasVersion is the version of Keras that wrote the file, as
	// recorded in it ("2.15.0"), or "" when the file does not say.
	KerasVersion string
	// Backend is the Keras backend recorded in the file ("tensorflow",
	// "theano"), or "".
	Backend string
	// AekitVersion is the version of aekit that wrote the file (then
	// KerasVersion names the Keras layout it follows), or "" for a file
	// Keras wrote. aekit records it beside keras_version: the key
	// "aekit_version" of a .keras file's metadata.json, the root
	// attribute "aekit_version" of an .h5 file.
	AekitVersion string
	// Major is the Keras major version (1, 2 or 3) whose semantics were
	// applied to activations; guessed from the configuration's style when
	// the file records no version.
	Major int
	// Class is the class of the loaded model ("Sequential",
	// "Functional", "Model"): the top-level one, or the nested one
	// Options.Model names.
	Class string
}

// ReadFile reads the Keras model in the named file; see Read. Errors name
// the file.
//
// A name that is not a regular file (a FIFO, a device) is refused before
// it is read, with an error wrapping inputfile.ErrNotRegular.
func ReadFile(name string, opt *Options) (*runtime.Model, *Info, error) {
	b, err := inputfile.ReadFile(name, &limits.Error{Limit: maxFile, Field: "", Option: "the 4 GiB bound of keras files", Err: ErrTooLarge})
	if err != nil {
		return nil, nil, err
	}
	m, info, err := decode(b, opt)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", name, err)
	}
	return m, info, nil
}

// Read reads a Keras model from r, recognising the layout (see Format) by
// its content: the HDF5 signature, a zip, or JSON. Weights-only files need
// the architecture in opt. The model is validated; errors wrap the
// package's sentinel errors (ErrFormat, ErrUnsupportedLayer, ...).
func Read(r io.Reader, opt *Options) (*runtime.Model, *Info, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxFile {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, int64(maxFile))
	}
	return decode(b, opt)
}

var zipMagic = []byte("PK\x03\x04")

func decode(b []byte, opt *Options) (*runtime.Model, *Info, error) {
	t, info, err := decodeTree(b, opt)
	if err != nil {
		return nil, info, err
	}
	m, err := finish(t)
	return m, info, err
}

// decodeTree reads the model opt selects in b, its weights loaded, as a
// tree (see decode).
func decodeTree(b []byte, opt *Options) (*tree, *Info, error) {
	if opt == nil {
		opt = &Options{}
	}
	switch {
	case bytes.HasPrefix(b, zipMagic):
		return readZip(b, opt)
	case h5.IsHDF5(b):
		return readHDF5(b, opt)
	case len(bytes.TrimSpace(b)) > 0 && bytes.TrimSpace(b)[0] == '{':
		info := &Info{Format: FormatJSON}
		if err := opt.checkJSON("the architecture JSON", b); err != nil {
			return nil, info, err
		}
		top, err := parseTop(b)
		if err != nil {
			return nil, info, err
		}
		info.KerasVersion, info.Backend = top.Version, top.Backend
		t, _, err := buildTop(top, "", info, opt)
		if err != nil {
			return nil, info, err
		}
		if opt.graph {
			t.setWeightless()
			return t, info, nil
		}
		if !opt.ZeroWeights {
			return nil, info, fmt.Errorf("%w: an architecture alone has no weights (model %q)", ErrMissingWeights, t.name)
		}
		t.zeroWeights(&paramBudget{max: limit(opt.MaxParams, DefaultMaxParams)})
		return t, info, nil
	}
	n := min(len(b), 8)
	return nil, nil, fmt.Errorf("%w: not HDF5, zip or JSON (starts with %q)", ErrFormat, b[:n])
}

// arch returns the architecture from opt, or an error wrapping
// ErrMissingWeights naming what the file is.
func (opt *Options) arch(what string) (*topConfig, error) {
	var b []byte
	switch {
	case opt.ArchJSON != nil:
		b = opt.ArchJSON
	case opt.Arch != "":
		var err error
		b, err = inputfile.ReadFile(opt.Arch, opt.configLimit())
		if err != nil {
			return nil, fmt.Errorf("architecture: %w", err)
		}
	default:
		return nil, &HintError{Err: fmt.Errorf("%w: %s holds weights only", ErrMissingWeights, what), NeedArch: true}
	}
	err := opt.checkJSON("the architecture JSON", b)
	var top *topConfig
	if err == nil {
		top, err = parseTop(b)
	}
	if err != nil && opt.Arch != "" && opt.ArchJSON == nil {
		return nil, fmt.Errorf("architecture %s: %w", opt.Arch, err)
	}
	return top, err
}

func readHDF5(b []byte, opt *Options) (*tree, *Info, error) {
	f, err := h5.Open(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	defer f.Close()
	info := &Info{}
	info.KerasVersion = optAttr(f, "/", "keras_version")
	info.Backend = optAttr(f, "/", "backend")
	info.AekitVersion = optAttr(f, "/", "aekit_version")
	var top *topConfig
	var root string
	v3 := false
	switch {
	case f.HasAttr("/", "model_config"):
		info.Format = FormatH5
		s, err := f.AttrString("/", "model_config")
		if err != nil {
			return nil, info, fmt.Errorf("%w: model_config: %w", ErrFormat, err)
		}
		if err := opt.checkJSON("model_config", []byte(s)); err != nil {
			return nil, info, err
		}
		if top, err = parseTop([]byte(s)); err != nil {
			return nil, info, fmt.Errorf("model_config: %w", err)
		}
		root = "/model_weights"
		if f.Kind(root) != h5.Group {
			return nil, info, fmt.Errorf("%w: no model_weights group", ErrMissingWeights)
		}
	case f.HasAttr("/", "layer_names"):
		info.Format = FormatWeightsH5
		root = "/"
		if top, err = opt.arch("this Keras save_weights .h5 file"); err != nil {
			return nil, info, err
		}
	case f.Kind("/layers") == h5.Group || f.Kind("/vars") == h5.Group || hasBackslashLayers(f) || f.Kind("/"+checkpointDeps) == h5.Group:
		info.Format = FormatV3WeightsH5
		v3 = true
		if top, err = opt.arch("this Keras 3 .weights.h5 file"); err != nil {
			return nil, info, err
		}
	default:
		return nil, info, fmt.Errorf("%w: HDF5 file without model_config, layer_names or layers/ group: not a Keras file", ErrFormat)
	}
	if info.KerasVersion == "" {
		info.KerasVersion = top.Version
	}
	if info.Backend == "" {
		info.Backend = top.Backend
	}
	t, sel, err := buildTop(top, info.KerasVersion, info, opt)
	if err != nil {
		return nil, info, err
	}
	switch {
	case v3:
		err = loadV3(f, t, sel.v3)
	case sel.group != "":
		err = loadLegacyNested(f, root, t, sel)
	default:
		err = loadLegacy(f, root, t)
	}
	if err != nil {
		return nil, info, err
	}
	return t, info, nil
}

func hasBackslashLayers(f *h5.File) bool {
	kids, err := f.Children("/")
	if err != nil {
		return false
	}
	for _, k := range kids {
		if strings.HasPrefix(k, `layers\`) {
			return true
		}
	}
	return false
}

// optAttr returns a string attribute, or "" if it is absent or unreadable.
func optAttr(f *h5.File, path, name string) string {
	if !f.HasAttr(path, name) {
		return ""
	}
	s, err := f.AttrString(path, name)
	if err != nil {
		return ""
	}
	return s
}

func readZip(b []byte, opt *Options) (*tree, *Info, error) {
	info := &Info{Format: FormatKeras}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, info, fmt.Errorf("%w: zip: %w", ErrFormat, err)
	}
	if err := opt.zipLimits().Check(z.File); err != nil {
		return nil, info, err
	}
	seen := map[string]bool{}
	for _, f := range z.File {
		if seen[f.Name] {
			return nil, info, fmt.Errorf("%w: zip holds two members named %s", ErrFormat, limits.Quote(f.Name))
		}
		seen[f.Name] = true
	}
	member := func(name string) ([]byte, error) {
		for _, f := range z.File {
			if f.Name != name {
				continue
			}
			if strings.HasSuffix(name, ".json") {
				if err := opt.checkMember(f); err != nil {
					return nil, err
				}
			}
			r, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
			}
			defer r.Close()
			// The limits bound the declared size, and archive/zip fails a
			// member that inflates past it.
			data, err := io.ReadAll(r)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
			}
			return data, nil
		}
		return nil, nil
	}
	meta, err := member("metadata.json")
	if err != nil {
		return nil, info, err
	}
	if meta != nil {
		var md struct {
			KerasVersion string `json:"keras_version"`
			AekitVersion string `json:"aekit_version"`
		}
		if err := json.Unmarshal(meta, &md); err != nil {
			return nil, info, fmt.Errorf("%w: metadata.json: %w", ErrFormat, err)
		}
		info.KerasVersion, info.AekitVersion = md.KerasVersion, md.AekitVersion
	}
	cfg, err := member("config.json")
	if err != nil {
		return nil, info, err
	}
	var top *topConfig
	if cfg == nil {
		if top, err = opt.arch("this .keras zip has no config.json and"); err != nil {
			return nil, info, err
		}
	} else if err = opt.checkJSON("config.json", cfg); err != nil {
		return nil, info, err
	} else if top, err = parseTop(cfg); err != nil {
		return nil, info, fmt.Errorf("config.json: %w", err)
	}
	t, sel, err := buildTop(top, info.KerasVersion, info, opt)
	if err != nil {
		return nil, info, err
	}
	wb, err := member("model.weights.h5")
	if err != nil {
		return nil, info, err
	}
	if wb == nil {
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		return nil, info, fmt.Errorf("%w: zip has no model.weights.h5 (members: %s)", ErrMissingWeights, strings.Join(names, ", "))
	}
	f, err := h5.Open(wb)
	if err != nil {
		return nil, info, fmt.Errorf("%w: model.weights.h5: %w", ErrFormat, err)
	}
	defer f.Close()
	if err := loadV3(f, t, sel.v3); err != nil {
		return nil, info, fmt.Errorf("model.weights.h5: %w", err)
	}
	return t, info, nil
}

// finish checks shapes, fills in widths and validates the model (a model
// read to describe with unsupported layers is not validated).
func finish(t *tree) (*runtime.Model, error) {
	if err := resolveShapes(t, nil); err != nil {
		return nil, err
	}
	if err := t.model.Validate(); err != nil && !(t.describe && errors.Is(err, runtime.ErrUnsupported)) {
		return nil, fmt.Errorf("%w: %w", ErrShape, err)
	}
	return t.model, nil
}
