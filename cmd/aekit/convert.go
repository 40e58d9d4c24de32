package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/aekit/aekit/modelfile"
)

func cmdConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", `IN OUT [--arch A.json] [--opset N] [--score mse|mae|bce] [--layer NAME | --model NAME [--output LAYER]] [--input-name NAME] [--output-name NAME]

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
	pos, code, done := parseCommand(fs, args, 2, 2, stdout, stderr)
	if done {
		return code
	}
	if err := modelfile.CheckSave(pos[1]); err != nil {
		return fail(stderr, "convert", err)
	}
	if err := checkScoreFlag(*scoreMetric, pos[1]); err != nil {
		return fail(stderr, "convert", err)
	}
	if err := names.check(pos[1]); err != nil {
		return fail(stderr, "convert", err)
	}
	m, format, err := openModel(pos[0], *arch, *layer, *sub, *output)
	if err != nil {
		return fail(stderr, "convert", err)
	}
	names.apply(m)
	th, _, err := storedThreshold(pos[0], format)
	if err != nil {
		return fail(stderr, "convert", err)
	}
	note, err := saveScored(pos[1], m, *opset, *scoreMetric, th)
	if err != nil {
		return fail(stderr, "convert", err)
	}
	if *asJSON {
		b, _ := json.Marshal(struct {
			Input       string `json:"input"`
			InputFormat string `json:"input_format"`
			Output      string `json:"output"`
			Layers      int    `json:"layers"`
			Params      int    `json:"params"`
		}{pos[0], format.String(), pos[1], len(m.LayerNames()), m.Params()})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "%s (%s) → %s: %d layers, %s params\n", pos[0], format, pos[1], len(m.LayerNames()), commas(m.Params()))
	if note != "" {
		fmt.Fprintf(stdout, "%s: %s\n", pos[1], note)
	}
	return exitOK
}
