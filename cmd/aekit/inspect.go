package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", "MODEL [--arch A.json] [--model NAME [--output LAYER]] [--json]\n\n"+limitsHelp, stderr)
	arch := fs.String("arch", "", "architecture `JSON` (model.to_json() or config.json) for weights-only Keras files")
	sub := fs.String("model", "", "describe only this sub-model; read alone when the whole model cannot run")
	output := fs.String("output", "", "stop at this layer of the model or of its --model sub-model (a VAE: --model encoder --output z_mean); only the layers feeding it are read")
	asJSON := fs.Bool("json", false, "print a JSON description instead of a table")
	pos, code, done := parseCommand(fs, args, 1, 1, stdout, stderr)
	if done {
		return code
	}
	if isCheckpointFile(pos[0]) {
		if *arch != "" || *sub != "" || *output != "" {
			return fail(stderr, "inspect", fmt.Errorf("%s is an aekit training checkpoint: --arch, --model and --output do not apply", pos[0]))
		}
		return inspectCheckpoint(pos[0], *asJSON, stdout, stderr)
	}
	opts, err := modelOptions(*arch)
	if err != nil {
		return fail(stderr, "inspect", err)
	}
	// Layers aekit cannot run are listed and marked, not refused.
	opts.Model, opts.Output, opts.Keras.Describe = *sub, *output, true
	src, err := inspectSource(pos[0])
	if err != nil {
		return fail(stderr, "inspect", err)
	}
	m, info, err := src.open(opts)
	if err != nil {
		// A model aekit cannot run whole (a graph, a VAE) is listed
		// from its description.
		if *output == "" && describable(err) {
			describe := inspectDescription
			if errors.Is(err, onnx.ErrUnsupportedOp) {
				describe = inspectONNXDescription
			}
			if ok, perr := describe(src, opts, *asJSON, stdout); ok {
				if perr != nil {
					return fail(stderr, "inspect", perr)
				}
				return exitOK
			}
		}
		return fail(stderr, "inspect", err)
	}
	// A Keras model holding layers aekit cannot run is listed from its
	// description too, which works out their output shapes.
	if info.Format == modelfile.Keras && *output == "" && errors.Is(m.Validate(), runtime.ErrUnsupported) {
		if ok, perr := inspectDescription(src, opts, *asJSON, stdout); ok {
			if perr != nil {
				return fail(stderr, "inspect", perr)
			}
			return exitOK
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		mi := describe(m, info)
		mi.File = pos[0]
		if err := enc.Encode(mi); err != nil {
			return fail(stderr, "inspect", err)
		}
		return exitOK
	}
	printSummary(stdout, m, info)
	return exitOK
}

// modelSource is the model inspect reads: a file, or standard input
// ("-") read whole, so that a model aekit cannot run is described from
// the same bytes as a file is.
type modelSource struct {
	path  string
	stdin []byte // standard input's bytes when path is "-"
}

// inspectSource returns the source of path, reading standard input whole
// for "-": at most the 4 GiB a Keras file may have and one byte more, for
// the reader to refuse.
func inspectSource(path string) (*modelSource, error) {
	src := &modelSource{path: path}
	if path != "-" {
		return src, nil
	}
	b, err := io.ReadAll(io.LimitReader(os.Stdin, maxStdinModel+1))
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	src.stdin = b
	return src, nil
}

// maxStdinModel bounds what inspect reads from standard input: 4 GiB, the
// largest Keras file aekit reads.
const maxStdinModel = 4 << 30

// open reads the model with opts, as openWith does.
func (s *modelSource) open(opts *modelfile.Options) (*runtime.Model, *modelfile.Info, error) {
	if s.stdin == nil {
		return openWith(s.path, opts)
	}
	m, info, err := modelfile.Read(bytes.NewReader(s.stdin), opts)
	if err != nil {
		return nil, nil, flagHint(s.path, fmt.Errorf("standard input: %w", err))
	}
	return m, info, nil
}

// describeKeras describes the Keras model (modelfile.DescribeKeras).
func (s *modelSource) describeKeras(opts *modelfile.Options) (*keras.Description, *modelfile.Info, error) {
	if s.stdin == nil {
		return modelfile.DescribeKeras(s.path, opts)
	}
	return modelfile.DescribeKerasReader(bytes.NewReader(s.stdin), opts)
}

// describeONNX describes the ONNX graph (modelfile.DescribeONNX).
func (s *modelSource) describeONNX(opts *modelfile.Options) (*onnx.Description, *modelfile.Info, error) {
	if s.stdin == nil {
		return modelfile.DescribeONNX(s.path, opts)
	}
	return modelfile.DescribeONNXReader(bytes.NewReader(s.stdin), opts)
}

// isCheckpointFile tells whether name starts as an aekit training
// checkpoint does (train.CheckpointMagic).
func isCheckpointFile(name string) bool {
	f, _, err := inputfile.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(train.CheckpointMagic))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == train.CheckpointMagic
}

// checkpointInfo is inspect's description of a training checkpoint.
type checkpointInfo struct {
	File string `json:"file"`
	// Format is "aekit training checkpoint (version N)".
	Format string `json:"format"`
	// EpochsDone counts the finished epochs; BatchesDone the batches of
	// the next epoch already run (an interrupted epoch).
	EpochsDone  int `json:"epochs_done"`
	BatchesDone int `json:"batches_done"`
	// Epochs is the run's --epochs.
	Epochs int `json:"epochs"`
	// Flags are the train flags the run was made with, as a command line.
	Flags []string `json:"flags"`
	// Optimizer is the optimizer's name and settings.
	Optimizer string          `json:"optimizer"`
	Settings  json.RawMessage `json:"optimizer_settings"`
	// Loss and ValLoss are the last finished epoch's losses (omitted
	// before the first epoch, ValLoss without validation).
	Loss    *float64 `json:"loss,omitempty"`
	ValLoss *float64 `json:"val_loss,omitempty"`
	// Rows and ValRows are the training and validation rows of the data.
	Rows    int       `json:"rows"`
	ValRows int       `json:"validation_rows"`
	Model   modelInfo `json:"model"`
}

// inspectCheckpoint describes the checkpoint in name: its progress, the
// settings of its run as train flags, and its model.
func inspectCheckpoint(name string, asJSON bool, stdout, stderr io.Writer) int {
	ck, err := train.ReadCheckpointFile(name)
	if err != nil {
		return fail(stderr, "inspect", err)
	}
	ci := checkpointInfo{File: name, Format: fmt.Sprintf("aekit training checkpoint (version %d)", train.CheckpointVersion),
		EpochsDone: ck.Epoch, BatchesDone: ck.Batch, Epochs: ck.Epochs, Optimizer: ck.Optimizer,
		Settings: json.RawMessage(ck.OptimizerJSON), Rows: ck.Fingerprint.Rows, ValRows: ck.Fingerprint.ValRows}
	ci.Flags = []string{"--optimizer", ck.Optimizer}
	if o := ck.Config().Optimizer; o != nil {
		ci.Flags = append(ci.Flags, "--lr", strconv.FormatFloat(o.LearningRate(0), 'g', -1, 64))
	}
	ci.Flags = append(ci.Flags, "--loss", ck.Loss.String(), "--batch-size", strconv.Itoa(ck.BatchSize),
		"--epochs", strconv.Itoa(ck.Epochs), "--seed", strconv.FormatUint(ck.Seed, 10))
	if ck.NoShuffle {
		ci.Flags = append(ci.Flags, "--no-shuffle")
	}
	if ck.ValidationSplit > 0 {
		ci.Flags = append(ci.Flags, "--validation-split", strconv.FormatFloat(ck.ValidationSplit, 'g', -1, 64))
	}
	if h := ck.History; len(h.Loss) > 0 {
		ci.Loss = &h.Loss[len(h.Loss)-1]
		if len(h.ValLoss) > 0 {
			ci.ValLoss = &h.ValLoss[len(h.ValLoss)-1]
		}
	}
	info := &modelfile.Info{Format: "model in an aekit training checkpoint"}
	ci.Model = describe(ck.Model, info)
	if !json.Valid(ci.Settings) {
		ci.Settings = json.RawMessage("null")
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ci); err != nil {
			return fail(stderr, "inspect", err)
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "Checkpoint: %s\n", ci.Format)
	progress := fmt.Sprintf("%d of %d epochs done", ci.EpochsDone, ci.Epochs)
	if ci.BatchesDone > 0 {
		progress += fmt.Sprintf(", %d batches into epoch %d (interrupted)", ci.BatchesDone, ci.EpochsDone+1)
	}
	if ci.Loss != nil {
		progress += fmt.Sprintf("; last epoch loss: %.4f", *ci.Loss)
		if ci.ValLoss != nil {
			progress += fmt.Sprintf(" - val_loss: %.4f", *ci.ValLoss)
		}
	}
	fmt.Fprintf(stdout, "Progress: %s\n", progress)
	fmt.Fprintf(stdout, "Made with: aekit train %s\n", printable(strings.Join(ci.Flags, " ")))
	fmt.Fprintf(stdout, "Optimizer settings: %s %s (0: Keras's default)\n", printable(ci.Optimizer), printable(string(ci.Settings)))
	fmt.Fprintf(stdout, "Data: %d training rows, %d validation rows\n", ci.Rows, ci.ValRows)
	fmt.Fprintf(stdout, "Resume with: aekit train --data X.npy --resume %s -o OUT (the same data; --epochs N to train longer)\n\n", quoteArg(name))
	printSummary(stdout, ck.Model, info)
	return exitOK
}

// layerInfo is one row of inspect's output.
type layerInfo struct {
	Name       string   `json:"name"`
	Class      string   `json:"class"`
	Type       string   `json:"type"`
	Path       []string `json:"path,omitempty"` // enclosing sub-models
	Output     []int    `json:"output_shape"`
	Activation string   `json:"activation,omitempty"`
	Params     int      `json:"params"`
	// Frozen is Keras's trainable=False (on the layer or an enclosing
	// model): training leaves its weights as they are.
	Frozen bool        `json:"frozen,omitempty"`
	Layers []layerInfo `json:"layers,omitempty"` // sub-model contents
	// Unsupported is set for a layer aekit cannot run: why, or
	// "unsupported class".
	Unsupported string `json:"unsupported,omitempty"`
}

type modelInfo struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Name   string `json:"name"`
	Class  string `json:"class,omitempty"`
	Input  []int  `json:"input_shape"`
	Output []int  `json:"output_shape"`
	Params int    `json:"params"`
	// Trainable counts the values training changes: Keras's "Trainable
	// params" (Params less frozen layers' weights and statistics such as
	// moving means).
	Trainable int         `json:"trainable_params"`
	Layers    []layerInfo `json:"layers"`
	SubModels []string    `json:"sub_models,omitempty"`
}

func describe(m *runtime.Model, info *modelfile.Info) modelInfo {
	mi := modelInfo{Format: info.String(), Name: m.Name, Class: m.Class, Input: m.Input, Params: m.Params(), Trainable: m.TrainableParams()}
	mi.Layers, mi.Output = layerInfos(m, m.Input, nil, m.FrozenLayers())
	m.Walk(func(_ []string, ly *runtime.Layer) {
		if ly.Type == runtime.SubModel {
			mi.SubModels = append(mi.SubModels, ly.Name)
		}
	})
	return mi
}

// layerInfos describes m's layers given the input shape (nil: unknown,
// after a layer aekit cannot run) and returns the output shape.
func layerInfos(m *runtime.Model, shape []int, path []string, frozen map[*runtime.Layer]bool) ([]layerInfo, []int) {
	var out []layerInfo
	for _, ly := range m.Layers {
		next := ly.KnownOutputShape(shape)
		li := layerInfo{Name: ly.Name, Class: ly.Class, Type: ly.Type.String(), Path: path,
			Output: next, Params: ly.Params(), Frozen: frozen[ly]}
		if li.Class == "" {
			li.Class = ly.KindClass()
		}
		switch ly.Type {
		case runtime.Dense, runtime.ActivationLayer:
			li.Activation = ly.Act.String()
		case runtime.SubModel:
			li.Layers, _ = layerInfos(ly.Sub, shape, append(path[:len(path):len(path)], ly.Name), frozen)
		case runtime.Other:
			if u, ok := ly.Kind.(*runtime.Unsupported); ok {
				li.Unsupported = u.Reason
				if li.Unsupported == "" {
					li.Unsupported = "unsupported class"
				}
			}
		}
		out = append(out, li)
		shape = next
	}
	return out, shape
}

func shapeString(s []int) string {
	if s == nil {
		return "?"
	}
	parts := []string{"None"}
	for _, d := range s {
		parts = append(parts, fmt.Sprint(d))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// unsupportedNote follows a table with layers marked "*" (their count).
const unsupportedNote = "* aekit cannot run this layer (%d in all): predict and convert refuse the model; README lists the supported layers."

func printSummary(w io.Writer, m *runtime.Model, info *modelfile.Info) {
	mi := describe(m, info)
	class := ""
	if mi.Class != "" {
		class = " (" + printable(mi.Class) + ")"
	}
	// Names, classes and the format's producer come from the file: each
	// is quoted or passed through printable.
	fmt.Fprintf(w, "Model: %q%s\nFormat: %s\nInput: %s\n\n", mi.Name, class, printable(mi.Format), shapeString(mi.Input))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Layer (type)\tOutput Shape\tActivation\tParam #")
	var rows func([]layerInfo, string)
	unsupported := 0
	rows = func(ls []layerInfo, indent string) {
		for _, li := range ls {
			mark := ""
			if li.Frozen && li.Layers == nil {
				mark = " frozen"
			}
			if li.Unsupported != "" {
				mark += " *"
				unsupported++
			}
			fmt.Fprintf(tw, "%s%s (%s)%s\t%s\t%s\t%s\n", indent, printable(li.Name), printable(li.Class), mark, shapeString(li.Output), printable(li.Activation), commas(li.Params))
			rows(li.Layers, indent+"  ")
		}
	}
	rows(mi.Layers, "")
	tw.Flush()
	if unsupported > 0 {
		fmt.Fprintf(w, "\n"+unsupportedNote+"\n", unsupported)
	}
	fmt.Fprintf(w, "\nTotal params: %s\nTrainable params: %s\nNon-trainable params: %s\nOutput: %s\n",
		commas(mi.Params), commas(mi.Trainable), commas(mi.Params-mi.Trainable), shapeString(mi.Output))
	if info.ONNX != nil && len(info.ONNX.ScoreOutputs) > 0 {
		fmt.Fprintf(w, "Anomaly outputs: %s (%s)\n", printable(strings.Join(info.ONNX.ScoreOutputs, ", ")), printable(anomalyMeta(info.ONNX.Metadata)))
	}
	if len(mi.SubModels) > 0 {
		fmt.Fprintln(w, "Sub-models:")
		m.Walk(func(_ []string, ly *runtime.Layer) {
			if ly.Type == runtime.SubModel {
				name := printable(ly.Name)
				fmt.Fprintf(w, "  %s: %s → %s (%s params; run alone with --model %s, or take its output with --layer %s)\n",
					name, shapeString(ly.Sub.Input), shapeString(ly.Sub.OutputShape()), commas(ly.Sub.Params()), name, name)
			}
		})
	}
}
