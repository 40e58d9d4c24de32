package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/aekit/aekit/score"
)

func cmdConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", `IN OUT [--arch A.json] [--opset N] [--score mse|mae|bce] [--layer NAME | --model NAME [--output LAYER]] [--input-name NAME] [--output-name NAME] [--format onnx|keras|h5]

IN - reads the model from standard input (its format told by content);
OUT - writes it to standard output in the --format given.

The ONNX graph input and output keep the names the model has (a Keras
InputLayer's, e.g. input_layer; an ONNX file's), the output otherwise named
after the last layer, as tf2onnx names them.

An anomaly threshold stored with IN (its sidecar IN.anomaly.json, or an ONNX
input's aekit.anomaly.* metadata) goes with the model: into an ONNX output's
metadata_props, or the sidecar OUT.anomaly.json of a Keras output.`, stderr)
	arch := fs.String("arch", "", "architecture `JSON` for weights-only Keras inputs")
	opset := fs.Int("opset", 0, "ONNX opset for .onnx outputs (default 13)")
	layer := fs.String("layer", "", "convert the model up to this layer or sub-model (e.g. encoder)")
	sub := fs.String("model", "", "convert only this sub-model (e.g. decoder); read alone when the whole model cannot run")
	output := fs.String("output", "", "compute the output of this layer of the model or of its --model sub-model (a VAE: --model encoder --output z_mean); only the layers feeding it are read")
	scoreMetric := fs.String("score", "", scoreFlagHelp)
	var names tensorNames
	names.add(fs)
	asJSON := fs.Bool("json", false, "print what was written as JSON (input, its format, output, layers, params)")
	outFormat := fs.String("format", "", "the `format` of OUT - (standard output): onnx, keras or h5")
	pos, code, done := parseCommand(fs, args, 2, 2, stdout, stderr)
	if done {
		return code
	}
	if err := checkModelDest(pos[1], *outFormat, stdout); err != nil {
		return fail(stderr, "convert", err)
	}
	if err := checkScoreFormat(*scoreMetric, pos[1], *outFormat); err != nil {
		return fail(stderr, "convert", err)
	}
	dest := pos[1]
	if dest == "-" {
		dest = "-." + *outFormat
	}
	if err := names.check(dest); err != nil {
		return fail(stderr, "convert", err)
	}
	m, format, err := openModel(pos[0], *arch, *layer, *sub, *output)
	if err != nil {
		return fail(stderr, "convert", err)
	}
	names.apply(m)
	th, _, err := score.Stored(pos[0], format.Metadata())
	if err != nil {
		return fail(stderr, "convert", err)
	}
	note, err := saveScoredTo(pos[1], *outFormat, stdout, m, *opset, *scoreMetric, th)
	if err != nil {
		return fail(stderr, "convert", err)
	}
	report := stdout // what was written, unless the model went there
	if pos[1] == "-" {
		report = stderr
	}
	if *asJSON {
		b, _ := json.Marshal(struct {
			Input       string `json:"input"`
			InputFormat string `json:"input_format"`
			Output      string `json:"output"`
			Layers      int    `json:"layers"`
			Params      int    `json:"params"`
		}{pos[0], format.String(), pos[1], len(m.LayerNames()), m.Params()})
		fmt.Fprintf(report, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(report, "%s (%s) → %s: %d layers, %s params\n", pos[0], format, pos[1], len(m.LayerNames()), commas(m.Params()))
	if note != "" {
		fmt.Fprintf(report, "%s: %s\n", pos[1], note)
	}
	return exitOK
}
