package main

import (
	"encoding/json"
	"fmt"
	"io"
)

func cmdConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", `IN OUT [--arch A.json] [--opset N] [--layer NAME | --model NAME [--output LAYER]] [--input-name NAME] [--output-name NAME]

The ONNX graph input and output keep the names the model has (a Keras
InputLayer's, e.g. input_layer; an ONNX file's), the output otherwise named
after the last layer, as tf2onnx names them.`, stderr)
	arch := fs.String("arch", "", "architecture `JSON` for weights-only Keras inputs")
	opset := fs.Int("opset", 0, "ONNX opset for .onnx outputs (default 13)")
	layer := fs.String("layer", "", "convert the model up to this layer or sub-model (e.g. encoder)")
	sub := fs.String("model", "", "convert only this sub-model (e.g. decoder); read alone when the whole model cannot run")
	output := fs.String("output", "", "compute the output of this layer of the model or of its --model sub-model (a VAE: --model encoder --output z_mean); only the layers feeding it are read")
	var names tensorNames
	names.add(fs)
	asJSON := fs.Bool("json", false, "print what was written as JSON (input, its format, output, layers, params)")
	pos, code, done := parseCommand(fs, args, 2, 2, stdout, stderr)
	if done {
		return code
	}
	if err := checkModelOutput(pos[1]); err != nil {
		return fail(stderr, "convert", err)
	}
	if err := names.check(pos[1]); err != nil {
		return fail(stderr, "convert", err)
	}
	l, err := loadSelected(pos[0], *arch, *layer, *sub, *output)
	if err != nil {
		return fail(stderr, "convert", err)
	}
	m, format := l.model, l.format
	names.apply(m)
	if err := saveModelOpset(pos[1], m, *opset); err != nil {
		return fail(stderr, "convert", err)
	}
	if *asJSON {
		b, _ := json.Marshal(struct {
			Input       string `json:"input"`
			InputFormat string `json:"input_format"`
			Output      string `json:"output"`
			Layers      int    `json:"layers"`
			Params      int    `json:"params"`
		}{pos[0], format, pos[1], len(m.LayerNames()), m.Params()})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "%s (%s) → %s: %d layers, %s params\n", pos[0], format, pos[1], len(m.LayerNames()), commas(m.Params()))
	return exitOK
}
