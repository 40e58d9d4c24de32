package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/runtime"
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
	m, info, err := openModel(pos[0], *arch, "", *sub, *output)
	if err != nil {
		return fail(stderr, "inspect", err)
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

// layerInfo is one row of inspect's output.
type layerInfo struct {
	Name       string      `json:"name"`
	Class      string      `json:"class"`
	Type       string      `json:"type"`
	Path       []string    `json:"path,omitempty"` // enclosing sub-models
	Output     []int       `json:"output_shape"`
	Activation string      `json:"activation,omitempty"`
	Params     int         `json:"params"`
	Layers     []layerInfo `json:"layers,omitempty"` // sub-model contents
}

type modelInfo struct {
	File      string      `json:"file"`
	Format    string      `json:"format"`
	Name      string      `json:"name"`
	Class     string      `json:"class,omitempty"`
	Input     []int       `json:"input_shape"`
	Output    []int       `json:"output_shape"`
	Params    int         `json:"params"`
	Layers    []layerInfo `json:"layers"`
	SubModels []string    `json:"sub_models,omitempty"`
}

func describe(m *runtime.Model, info *modelfile.Info) modelInfo {
	mi := modelInfo{Format: info.String(), Name: m.Name, Class: m.Class, Input: m.Input,
		Output: m.OutputShape(), Params: m.Params()}
	mi.Layers = layerInfos(m, m.Input, nil)
	m.Walk(func(_ []string, ly *runtime.Layer) {
		if ly.Type == runtime.SubModel {
			mi.SubModels = append(mi.SubModels, ly.Name)
		}
	})
	return mi
}

func layerInfos(m *runtime.Model, shape []int, path []string) []layerInfo {
	var out []layerInfo
	for _, ly := range m.Layers {
		next := ly.OutputShape(shape)
		li := layerInfo{Name: ly.Name, Class: ly.Class, Type: ly.Type.String(), Path: path,
			Output: next, Params: ly.Params()}
		if li.Class == "" {
			li.Class = ly.Type.String()
		}
		switch ly.Type {
		case runtime.Dense, runtime.ActivationLayer:
			li.Activation = ly.Act.String()
		case runtime.SubModel:
			li.Layers = layerInfos(ly.Sub, shape, append(path[:len(path):len(path)], ly.Name))
		}
		out = append(out, li)
		shape = next
	}
	return out
}

func shapeString(s []int) string {
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

func printSummary(w io.Writer, m *runtime.Model, info *modelfile.Info) {
	mi := describe(m, info)
	class := ""
	if mi.Class != "" {
		class = " (" + mi.Class + ")"
	}
	fmt.Fprintf(w, "Model: %q%s\nFormat: %s\nInput: %s\n\n", mi.Name, class, mi.Format, shapeString(mi.Input))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Layer (type)\tOutput Shape\tActivation\tParam #")
	var rows func([]layerInfo, string)
	rows = func(ls []layerInfo, indent string) {
		for _, li := range ls {
			fmt.Fprintf(tw, "%s%s (%s)\t%s\t%s\t%s\n", indent, li.Name, li.Class, shapeString(li.Output), li.Activation, commas(li.Params))
			rows(li.Layers, indent+"  ")
		}
	}
	rows(mi.Layers, "")
	tw.Flush()
	fmt.Fprintf(w, "\nTotal params: %s\nOutput: %s\n", commas(mi.Params), shapeString(mi.Output))
	if info.ONNX != nil && len(info.ONNX.ScoreOutputs) > 0 {
		fmt.Fprintf(w, "Anomaly outputs: %s (%s)\n", strings.Join(info.ONNX.ScoreOutputs, ", "), anomalyMeta(info.ONNX.Metadata))
	}
	if len(mi.SubModels) > 0 {
		fmt.Fprintln(w, "Sub-models:")
		m.Walk(func(_ []string, ly *runtime.Layer) {
			if ly.Type == runtime.SubModel {
				fmt.Fprintf(w, "  %s: %s → %s (%s params; run alone with --model %s, or take its output with --layer %s)\n",
					ly.Name, shapeString(ly.Sub.Input), shapeString(ly.Sub.OutputShape()), commas(ly.Sub.Params()), ly.Name, ly.Name)
			}
		})
	}
}
