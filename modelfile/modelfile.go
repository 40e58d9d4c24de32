package modelfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/internal/h5"
	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
)

// Format names a model-file format.
type Format string

// The formats Open reads and Save writes.
const (
	// Keras is any Keras layout package keras reads: a full-model HDF5
	// .h5, a .keras zip, a weights-only HDF5 file given an architecture,
	// an architecture JSON (see keras.Format for which one).
	Keras Format = "keras"
	// ONNX is an ONNX protobuf model.
	ONNX Format = "onnx"
)

// Sentinel errors of this package, wrapped with the file's name. Errors
// of the format packages (keras.ErrFormat, onnx.ErrGraph, ...) come back
// as those packages return them.
var (
	// ErrFormat reports a file that is none of the formats Open
	// recognises, or an empty one.
	ErrFormat = errors.New("unknown model format")
	// ErrOption reports an option that does not apply to the file or
	// the output it was given for; errors wrapping it are *OptionError.
	ErrOption = errors.New("option does not apply")
	// ErrExtension reports an output name whose extension names no
	// format Save writes, or a Keras weights-only name (.weights.h5).
	ErrExtension = errors.New("unknown output format")
)

// OptionError reports an option of Options or SaveOptions that does not
// apply. It unwraps to ErrOption. A program with other names for the
// options (a command line's flags) words the same message from Path,
// Option and Reason.
type OptionError struct {
	// Path is the file the option was given for; "" if none.
	Path string
	// Option is the field at fault: "Arch", "Layer" (Options) or
	// "Opset" (SaveOptions).
	Option string
	// Reason completes the sentence that starts with the option's name:
	// "applies to Keras weights-only files, not ONNX".
	Reason string
}

// Error returns "PATH: Options.OPTION REASON".
func (e *OptionError) Error() string {
	s := "Options." + e.Option + " " + e.Reason
	if e.Option == "Opset" {
		s = "SaveOptions." + e.Option + " " + e.Reason
	}
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	return s
}

// Unwrap returns ErrOption.
func (e *OptionError) Unwrap() error { return ErrOption }

// Options tunes Open and Read. The zero value (or a nil *Options) reads
// the whole model of a file that carries its architecture, with the
// readers' default limits.
type Options struct {
	// Arch is the path of a Keras architecture JSON (model.to_json() or
	// a .keras config.json) for Keras weights-only files (see
	// keras.Options.Arch). It is an error with an ONNX file.
	Arch string

	// ZeroWeights lets a bare Keras architecture JSON load with zero
	// weights, for a caller that initialises them (see
	// keras.Options.ZeroWeights).
	ZeroWeights bool

	// Model names a nested model (e.g. "encoder" or "decoder") to
	// return alone, with its own input; "" keeps the whole model.
	// Output names a layer (or nested model) of that model, or of the
	// whole one, whose output the returned model computes; "" keeps the
	// model's own output. The whole model is read first; when a Keras
	// file's whole model cannot run (a VAE's sampling Lambda, several
	// outputs), only the part asked for is read (keras.Options.Model
	// and Output). Unknown names fail with runtime's or keras's
	// not-found errors, naming the names there are.
	Model, Output string

	// Layer names a layer or nested model to stop at: the model
	// returned computes its output from the whole model's input. It
	// excludes Model and Output (for a layer of a nested model, set
	// Model and Output).
	Layer string

	// Keras holds the Keras reader's resource limits: only its Max
	// fields are used; its Arch, ArchJSON, Model, Output and ZeroWeights
	// are set from the fields above. Zero fields select keras's
	// defaults.
	Keras keras.Options
	// ONNX holds the ONNX reader's resource limits; zero fields select
	// onnx's defaults.
	ONNX onnx.ReadOptions
}

// Info describes the file a model was read from.
type Info struct {
	// Format is the file's format.
	Format Format
	// Keras describes a Keras file (its layout, the Keras version that
	// wrote it); nil for ONNX.
	Keras *keras.Info
	// ONNX describes an ONNX file (its producer, IR version, opset,
	// metadata and self-check data); nil for Keras.
	ONNX *onnx.Info
}

// Metadata returns an ONNX file's metadata_props (where aekit stores an
// anomaly threshold, see package score), or nil for a Keras file.
func (i *Info) Metadata() map[string]string {
	if i == nil || i.ONNX == nil {
		return nil
	}
	return i.ONNX.Metadata
}

// kerasLayout describes each Keras layout for String.
var kerasLayout = map[keras.Format]string{
	keras.FormatH5:          "HDF5 full model (.h5)",
	keras.FormatKeras:       "zip (.keras)",
	keras.FormatWeightsH5:   "Keras 1/2 save_weights HDF5 + architecture",
	keras.FormatV3WeightsH5: "Keras 3 .weights.h5 + architecture",
	keras.FormatJSON:        "architecture JSON",
}

// Producer returns what wrote the file: "Keras VERSION" (with the
// backend in parentheses when recorded) or the ONNX producer name and
// version, e.g. "aekit 0.3.0" or "pytorch 2.1.0"; "" when the file does
// not say.
func (i *Info) Producer() string {
	switch {
	case i.Keras != nil && (i.Keras.AekitVersion != "" || i.Keras.KerasVersion != ""):
		s := "Keras " + i.Keras.KerasVersion
		if i.Keras.AekitVersion != "" {
			// aekit writes the layout of a Keras version, not Keras itself.
			layout := i.Keras.KerasVersion
			if strings.Count(layout, ".") == 2 {
				layout = layout[:strings.LastIndex(layout, ".")]
			}
			s = "aekit " + i.Keras.AekitVersion + " in Keras " + layout + " layout"
		}
		if i.Keras.Backend != "" {
			s += " (" + i.Keras.Backend + ")"
		}
		return s
	case i.ONNX != nil:
		// tf2onnx writes "1.17.0 None" (its version and a missing git
		// revision): Python's None is not part of a version.
		words := strings.Fields(i.ONNX.ProducerVersion)
		words = slices.DeleteFunc(words, func(w string) bool { return w == "None" })
		return strings.TrimSpace(i.ONNX.Producer + " " + strings.Join(words, " "))
	}
	return ""
}

// String describes the format and the producer on one line, as aekit
// inspect prints it: "Keras zip (.keras), written by Keras 3.10.0
// (tensorflow)", "Keras zip (.keras), written by aekit v0.4.0 in Keras
// 3.10 layout" or "ONNX (IR 7, opset 13), produced by aekit 0.3.0".
func (i *Info) String() string {
	switch {
	case i.Keras != nil:
		s := kerasLayout[i.Keras.Format]
		if s == "" {
			s = string(i.Keras.Format)
		}
		if !strings.HasPrefix(s, "Keras") {
			s = "Keras " + s
		}
		if p := i.Producer(); p != "" {
			s += ", written by " + p
		}
		return s
	case i.ONNX != nil:
		s := fmt.Sprintf("ONNX (IR %d, opset %d)", i.ONNX.IRVersion, i.ONNX.Opset)
		if p := i.Producer(); p != "" {
			s += ", produced by " + p
		}
		return s
	}
	return string(i.Format)
}

// sniffLen is how many leading bytes Detect needs at most.
const sniffLen = 16

// userblockSniff is how many leading bytes Read looks at: enough for an
// HDF5 signature after a user block of up to 2048 bytes.
const userblockSniff = 2048 + 8

// maxUserblockSniff is how many leading bytes Read looks through for the
// HDF5 signature after a longer user block (up to 1 MiB) when the first
// userblockSniff bytes tell no format.
const maxUserblockSniff = 1<<20 + 8

var (
	hdf5Magic = []byte("\x89HDF\r\n\x1a\n")
	zipMagic  = []byte("PK\x03\x04")
)

// Detect tells the format of a model file from its first bytes, the way
// image.Decode tells image formats: the HDF5 signature, a zip's local
// header or a JSON object (Keras), or a first protobuf field of an ONNX
// ModelProto with its wire type (ONNX). It returns "" when head fits none
// of them. Sixteen bytes are enough; fewer work for short files. An HDF5
// file with a user block has its signature at byte 512, 1024, 2048, ...:
// Detect finds it when head reaches that far (Open and Read look there).
func Detect(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, hdf5Magic), bytes.HasPrefix(head, zipMagic):
		return Keras
	case len(bytes.TrimLeft(head, " \t\r\n")) > 0 && bytes.TrimLeft(head, " \t\r\n")[0] == '{':
		return Keras
	case looksONNX(head):
		return ONNX
	case h5.IsHDF5(head):
		// Last, as detectFile looks: an ONNX model or JSON config may
		// hold the signature's bytes at 512.
		return Keras
	}
	return ""
}

// looksONNX reports whether head starts with a field of an ONNX
// ModelProto: ir_version (1, varint, a small positive value), one of the
// length-delimited fields producer_name (2), producer_version (3),
// domain (4), doc_string (6), graph (7), opset_import (8),
// metadata_props (14), training_info (20) or functions (25), or
// model_version (5, varint).
func looksONNX(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	switch head[0] {
	case 0x08: // ir_version: IR versions are 1 to a few dozen
		return head[1] >= 1 && head[1] < 0x80
	case 0x12, 0x1a, 0x22, 0x32, 0x3a, 0x42, 0x72, 0x28:
		return true
	case 0xa2, 0xca: // fields 20 and 25, two-byte keys
		return head[1] == 0x01
	}
	return false
}

// detectFile reads the head of the named file and tells its format,
// falling back to the extension ".onnx" so that a damaged ONNX file gets
// the ONNX reader's diagnosis.
func detectFile(path string) (Format, error) {
	f, size, err := inputfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", fmt.Errorf("%s: %w", path, err) // a folder: "is a directory"
	}
	head = head[:n]
	if fm := Detect(head); fm != "" {
		return fm, nil
	}
	// An HDF5 file may start with a user block: the signature then sits
	// at byte 512, 1024, 2048, ... (at most log₂(size) reads).
	sig := make([]byte, len(hdf5Magic))
	for off := int64(512); off+int64(len(sig)) <= size; off *= 2 {
		if _, err := f.ReadAt(sig, off); err == nil && bytes.Equal(sig, hdf5Magic) {
			return Keras, nil
		}
	}
	switch {
	case strings.EqualFold(filepath.Ext(path), ".onnx"):
		return ONNX, nil
	case n == 0:
		return "", fmt.Errorf("%s: %w: empty file", path, ErrFormat)
	}
	return "", fmt.Errorf("%s: %w (not HDF5, a .keras zip, JSON or ONNX)", path, ErrFormat)
}

// Open reads the model in the named file, telling its format by content
// (see Detect), and narrows it as opts asks (Model, Output, Layer). It
// refuses a name that is not a regular file before reading it. Errors
// name the file and wrap this package's sentinel errors or those of the
// format packages.
func Open(path string, opts *Options) (*runtime.Model, *Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.check(path); err != nil {
		return nil, nil, err
	}
	fm, err := detectFile(path)
	if err != nil {
		return nil, nil, err
	}
	return read(path, fm, opts, func(k *keras.Options) (*runtime.Model, *keras.Info, error) {
		return keras.ReadFile(path, k)
	}, func() (*runtime.Model, *onnx.Info, error) {
		return onnx.ReadFileOptions(path, &opts.ONNX)
	})
}

// DescribeKeras describes the Keras model in the named file, as it is
// and without running it (keras.DescribeFile): any functional graph and
// any layer class, for a program that lists models it may not run (aekit
// inspect). opts's Arch, Model and Keras limits apply; Output, Layer and
// ZeroWeights must be unset. A file that is not Keras fails with ErrFormat.
func DescribeKeras(path string, opts *Options) (*keras.Description, *Info, error) {
	return describeKeras(path, opts, func(k *keras.Options) (*keras.Description, *keras.Info, error) {
		fm, err := detectFile(path)
		if err != nil {
			return nil, nil, err
		}
		if fm != Keras {
			return nil, nil, fmt.Errorf("%s: %w: not a Keras file", path, ErrFormat)
		}
		return keras.DescribeFile(path, k)
	})
}

// DescribeKerasReader is DescribeKeras on a Keras model read from r
// (standard input), at most 4 GiB of it; input that is not Keras fails as
// keras.Describe fails.
func DescribeKerasReader(r io.Reader, opts *Options) (*keras.Description, *Info, error) {
	return describeKeras("", opts, func(k *keras.Options) (*keras.Description, *keras.Info, error) {
		return keras.Describe(r, k)
	})
}

// describeKeras checks opts for a description of the Keras model at path
// ("" for none) and describes it with describe, given the Keras options
// opts makes.
func describeKeras(path string, opts *Options, describe func(*keras.Options) (*keras.Description, *keras.Info, error)) (*keras.Description, *Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.Output != "" || opts.Layer != "" || opts.ZeroWeights {
		return nil, nil, &OptionError{Path: path, Option: "Output", Reason: "(and Layer, ZeroWeights) do not apply to a description"}
	}
	k := opts.Keras
	k.Arch, k.ArchJSON, k.Model = opts.Arch, nil, opts.Model
	d, ki, err := describe(&k)
	if err != nil {
		return nil, nil, err
	}
	return d, &Info{Format: Keras, Keras: ki}, nil
}

// DescribeONNXReader is DescribeONNX on an ONNX model read from r
// (standard input), at most 2 GiB of it (onnx.Describe).
func DescribeONNXReader(r io.Reader, opts *Options) (*onnx.Description, *Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	d, oi, err := onnx.Describe(r, &opts.ONNX)
	if err != nil {
		return nil, nil, err
	}
	return d, &Info{Format: ONNX, ONNX: oi}, nil
}

// DescribeONNX describes the graph in the named ONNX file as it is, node
// by node, marking the node aekit's reader stops at (onnx.DescribeFile),
// for a program that lists models it may not read (aekit inspect). opts's
// ONNX limits apply. A file that is not ONNX fails with ErrFormat.
func DescribeONNX(path string, opts *Options) (*onnx.Description, *Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	fm, err := detectFile(path)
	if err != nil {
		return nil, nil, err
	}
	if fm != ONNX {
		return nil, nil, fmt.Errorf("%s: %w: not an ONNX file", path, ErrFormat)
	}
	d, oi, err := onnx.DescribeFile(path, &opts.ONNX)
	if err != nil {
		return nil, nil, err
	}
	return d, &Info{Format: ONNX, ONNX: oi}, nil
}

// maxKeras is the size of the largest Keras file keras.Read accepts.
const maxKeras = min(4<<30, math.MaxInt-1)

// maxONNX bounds the ONNX models Read accepts: 2 GiB, the protobuf limit.
const maxONNX = 2 << 30

// Read is Open for a model held by r; errors do not name a file. The
// model is read whole into memory: a Keras model up to 4 GiB, as
// keras.Read reads it, an ONNX model up to 2 GiB (the protobuf limit).
func Read(r io.Reader, opts *Options) (*runtime.Model, *Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.check(""); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(r, userblockSniff)
	head, err := br.Peek(userblockSniff)
	if err != nil && err != io.EOF {
		return nil, nil, err
	}
	fm := Detect(head)
	var src io.Reader = br
	if fm == "" && len(head) == userblockSniff {
		// An HDF5 user block may be longer than 2048 bytes (4096,
		// 8192, ...): look for the signature in the first
		// maxUserblockSniff bytes, not further, so that bytes that are
		// no model are not read whole.
		more, err := io.ReadAll(io.LimitReader(br, maxUserblockSniff))
		if err != nil {
			return nil, nil, err
		}
		if h5.IsHDF5(more) {
			fm = Keras
		}
		src = io.MultiReader(bytes.NewReader(more), br)
	}
	switch {
	case fm == "" && len(head) == 0:
		return nil, nil, fmt.Errorf("%w: empty input", ErrFormat)
	case fm == "":
		return nil, nil, fmt.Errorf("%w (not HDF5, a .keras zip, JSON or ONNX)", ErrFormat)
	}
	var b []byte // the input, for a second Keras read
	return read("", fm, opts, func(k *keras.Options) (*runtime.Model, *keras.Info, error) {
		if b == nil {
			var err error
			// keras.Read refuses more than 4 GiB; one byte more tells it.
			if b, err = io.ReadAll(io.LimitReader(src, maxKeras+1)); err != nil {
				return nil, nil, err
			}
		}
		return keras.Read(bytes.NewReader(b), k)
	}, func() (*runtime.Model, *onnx.Info, error) {
		b, err := io.ReadAll(io.LimitReader(src, maxONNX+1))
		if err != nil {
			return nil, nil, err
		}
		if len(b) > maxONNX {
			return nil, nil, fmt.Errorf("%w: larger than %d bytes", onnx.ErrTooLarge, maxONNX)
		}
		return onnx.UnmarshalOptions(b, &opts.ONNX)
	})
}

// check refuses options that exclude each other.
func (o *Options) check(path string) error {
	if o.Layer != "" && (o.Model != "" || o.Output != "") {
		return &OptionError{Path: path, Option: "Layer", Reason: "excludes Model and Output (for a layer of a nested model set Model and Output)"}
	}
	return nil
}

// read reads a model of format fm with readKeras or readONNX and narrows
// it as o asks; path names the file in errors ("" for none).
func read(path string, fm Format, o *Options,
	readKeras func(*keras.Options) (*runtime.Model, *keras.Info, error),
	readONNX func() (*runtime.Model, *onnx.Info, error)) (*runtime.Model, *Info, error) {
	var m *runtime.Model
	info := &Info{Format: fm}
	var err error
	switch fm {
	case ONNX:
		if o.Arch != "" {
			return nil, nil, &OptionError{Path: path, Option: "Arch", Reason: "applies to Keras weights-only files, not ONNX"}
		}
		if m, info.ONNX, err = readONNX(); err != nil {
			return nil, nil, err
		}
	default:
		k := o.Keras
		k.Arch, k.ArchJSON, k.ZeroWeights, k.Model, k.Output = o.Arch, nil, o.ZeroWeights, "", ""
		m, info.Keras, err = readKeras(&k)
		if err != nil {
			if (o.Model == "" && o.Output == "") ||
				(!errors.Is(err, keras.ErrUnsupportedLayer) && !errors.Is(err, keras.ErrUnsupportedGraph)) {
				return nil, nil, err
			}
			// The whole model cannot run: read only the part asked for.
			k.Model, k.Output = o.Model, o.Output
			m, info.Keras, err = readKeras(&k)
			if err != nil {
				return nil, nil, err
			}
			return m, info, nil
		}
	}
	if m, err = narrow(m, o); err != nil {
		if path != "" {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, nil, err
	}
	return m, info, nil
}

// narrow returns the part of m that o's Model, Output and Layer select.
func narrow(m *runtime.Model, o *Options) (*runtime.Model, error) {
	var err error
	if o.Model != "" {
		if m, err = m.Submodel(o.Model); err != nil {
			return nil, err
		}
	}
	if o.Output != "" {
		if m, err = m.Until(o.Output); err != nil {
			return nil, err
		}
	}
	if o.Layer != "" {
		if m, err = m.Until(o.Layer); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SaveOptions tunes Save. The zero value (or a nil *SaveOptions) selects
// every default.
type SaveOptions struct {
	// Opset is the ONNX opset of an .onnx output (see
	// onnx.ExportOptions.Opset); 0 means onnx.DefaultOpset. It is an
	// error for other outputs.
	Opset int
	// ProducerVersion is the producer_version of an .onnx output; ""
	// means aekit's own version. It is ignored for other outputs.
	ProducerVersion string
}

// formatFor returns the format an output name's extension selects.
func formatFor(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".onnx":
		return ONNX, nil
	case ".keras", ".h5", ".hdf5":
		if strings.HasSuffix(strings.ToLower(path), ".weights.h5") {
			return "", fmt.Errorf("%s: %w: aekit writes full models; use a name ending in .h5 or .keras", path, ErrExtension)
		}
		return Keras, nil
	}
	return "", fmt.Errorf("%s: %w %q (want .keras, .h5 or .onnx)", path, ErrExtension, filepath.Ext(path))
}

// CheckSave reports, before any work, whether Save can write path: an
// extension Save knows and a target it may replace (its folder exists; it
// is absent or a regular file, not a symbolic link, named pipe or
// device).
func CheckSave(path string) error {
	if _, err := formatFor(path); err != nil {
		return err
	}
	return atomicfile.Check(path)
}

// Save writes m to path in the format its extension names: ".keras" (a
// Keras 3 zip), ".h5" or ".hdf5" (a Keras 2-layout full-model HDF5 file)
// or ".onnx" (see onnx.Write). The file is written to a temporary name in
// the same folder and renamed, so no partial file is left behind.
func Save(path string, m *runtime.Model, opts *SaveOptions) error {
	b, err := Marshal(path, m, opts)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b)
}

// Marshal returns what Save would write to path, writing nothing. A
// caller that will save a model after long work (aekit train) calls it
// first with the model as it starts, so that a model the output's format
// cannot hold (an activation Keras 3 has no name for, say) fails at once.
func Marshal(path string, m *runtime.Model, opts *SaveOptions) ([]byte, error) {
	if opts == nil {
		opts = &SaveOptions{}
	}
	fm, err := formatFor(path)
	if err != nil {
		return nil, err
	}
	if fm == ONNX {
		b, err := onnx.Marshal(m, &onnx.ExportOptions{Opset: opts.Opset, ProducerVersion: opts.ProducerVersion})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return b, nil
	}
	if opts.Opset != 0 {
		return nil, &OptionError{Path: path, Option: "Opset", Reason: "applies to .onnx outputs only"}
	}
	kf := keras.FormatH5
	if strings.EqualFold(filepath.Ext(path), ".keras") {
		kf = keras.FormatKeras
	}
	var buf bytes.Buffer
	if err := keras.Write(&buf, m, kf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return buf.Bytes(), nil
}
