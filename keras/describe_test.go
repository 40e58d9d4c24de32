package keras

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDescribeVAE: the whole Keras 3 VAE of fixtures/keras/gen, which Read
// refuses (a sampling Lambda in a graph with three outputs), is described
// in full: its encoder's layers with their inbound tensors, the decoder
// fed by the encoder's third output, shapes (z's from the tensor shape
// the decoder's call records), parameter counts from the weights.
func TestDescribeVAE(t *testing.T) {
	name := filepath.Join(fixtures, "gen", "k3_vae.keras")
	if _, _, err := ReadFile(name, nil); !errors.Is(err, ErrUnsupportedLayer) {
		t.Fatalf("Read: %v, want ErrUnsupportedLayer", err)
	}
	d, info, err := DescribeFile(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != FormatKeras || d.Name != "vae" || d.Chain || d.Params != 156 {
		t.Errorf("vae: format %s, name %q, chain %v, params %d", info.Format, d.Name, d.Chain, d.Params)
	}
	if len(d.Layers) != 3 || d.Layers[1].Model == nil || d.Layers[2].Model == nil {
		t.Fatalf("layers %+v", d.Layers)
	}
	enc, dec := d.Layers[1], d.Layers[2]
	if !slices.EqualFunc(enc.Outputs, [][]int{{2}, {2}, {2}}, slices.Equal) || enc.Params != 82 {
		t.Errorf("encoder: outputs %v, params %d", enc.Outputs, enc.Params)
	}
	if len(dec.Inbound) != 1 || dec.Inbound[0].String() != "encoder[2]" || dec.Params != 74 || !dec.Model.Chain {
		t.Errorf("decoder: inbound %v, params %d, chain %v", dec.Inbound, dec.Params, dec.Model.Chain)
	}
	z := enc.Model.Layers[4]
	if z.Name != "z" || z.Unsupported == "" || len(z.Inbound) != 2 || z.Inbound[0].Layer != "z_mean" || z.Inbound[1].Layer != "z_log_var" ||
		!slices.Equal(z.Outputs[0], []int{2}) {
		t.Errorf("z: %+v", z)
	}
	if u, path := d.Unsupported(); u != z || !slices.Equal(path, []string{"encoder"}) {
		t.Errorf("Unsupported() = %v, %v", u, path)
	}
	if len(d.Outputs) != 1 || d.Outputs[0].Layer != "decoder" || !slices.Equal(d.Outputs[0].Shape, []int{8}) {
		t.Errorf("outputs %+v", d.Outputs)
	}
	// --model encoder: the encoder alone, a graph with three outputs.
	e, _, err := DescribeFile(name, &Options{Model: "encoder"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "encoder" || e.Params != 82 || len(e.Outputs) != 3 || e.Outputs[2].Layer != "z" {
		t.Errorf("encoder alone: %+v", e)
	}
}

// graphArch returns a functional architecture JSON (Keras 2 style) of the
// given layer entries, with input_layers and output_layers.
func graphArch(ins, outs string, layers ...string) string {
	return fmt.Sprintf(`{"class_name": "Functional", "config": {"name": "g", "layers": [%s], "input_layers": %s, "output_layers": %s}, "keras_version": "2.15.0"}`,
		strings.Join(layers, ", "), ins, outs)
}

func inputEntry(name, shape string) string {
	return fmt.Sprintf(`{"class_name": "InputLayer", "name": %q, "config": {"name": %q, "batch_input_shape": %s}, "inbound_nodes": []}`, name, name, shape)
}

func denseEntry(name string, units int, inbound string) string {
	return fmt.Sprintf(`{"class_name": "Dense", "name": %q, "config": {"name": %q, "units": %d}, "inbound_nodes": %s}`, name, name, units, inbound)
}

func classEntry(class, name, cfg, inbound string) string {
	return fmt.Sprintf(`{"class_name": %q, "name": %q, "config": {"name": %q %s}, "inbound_nodes": %s}`, class, name, name, cfg, inbound)
}

// TestDescribeBadGraphs: architectures from strangers that cannot be
// described fail with one clear line wrapping a sentinel — cycles,
// references to unknown layers or absurd outputs, inputs that are not
// InputLayers, layers never called, shapes whose ranks or value counts
// overflow, a Reshape that does not fit, nesting and layer counts past
// the limits — never hang or panic.
func TestDescribeBadGraphs(t *testing.T) {
	in := inputEntry("x", "[null, 4]")
	deep := strings.Repeat(`{"class_name": "Sequential", "config": {"name": "s", "layers": [`, 60) + strings.Repeat(`]}}`, 60)
	many := make([]string, 0, 40)
	for i := range 40 {
		many = append(many, denseEntry(fmt.Sprintf("d%d", i), 2, `[[["x", 0, 0, {}]]]`))
	}
	big := `[null, 1099511627776, 1099511627776]`
	for _, c := range []struct {
		name, arch string
		opt        *Options
		want       error
		msg        string
	}{
		{"cycle", graphArch(`[["x", 0, 0]]`, `[["b", 0, 0]]`, in,
			denseEntry("a", 2, `[[["b", 0, 0, {}]]]`), denseEntry("b", 2, `[[["a", 0, 0, {}]]]`)), nil, ErrFormat, "cycle"},
		{"self loop", graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[[["a", 0, 0, {}]]]`)), nil, ErrFormat, "cycle"},
		{"unknown inbound", graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[[["nope", 0, 0, {}]]]`)), nil, ErrFormat, `unknown layer "nope"`},
		{"unknown output", graphArch(`[["x", 0, 0]]`, `[["nope", 0, 0]]`, in, denseEntry("a", 2, `[[["x", 0, 0, {}]]]`)), nil, ErrFormat, `unknown layer "nope"`},
		{"output past a Dense's one", graphArch(`[["x", 0, 0]]`, `[["a", 0, 1]]`, in, denseEntry("a", 2, `[[["x", 0, 0, {}]]]`)), nil, ErrFormat, `output 1 of layer "a", which has 1`},
		{"huge tensor index", graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[[["x", 0, 99999999, {}]]]`)), nil, ErrFormat, "output 99999999"},
		{"negative node", graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[[["x", -1, 0, {}]]]`)), nil, ErrFormat, "call -1"},
		{"input not an InputLayer", graphArch(`[["a", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[[["x", 0, 0, {}]]]`)), nil, ErrFormat, "not an InputLayer"},
		{"never called", graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[]`)), nil, ErrFormat, "never called"},
		{"no outputs", graphArch(`[["x", 0, 0]]`, `[]`, in), nil, ErrFormat, "output_layers"},
		{"bad inbound", graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, in, denseEntry("a", 2, `[[["x", "zero", 0, {}]]]`)), nil, ErrFormat, "inbound node"},
		{"values overflow", graphArch(`[["x", 0, 0]]`, `[["x", 0, 0]]`, inputEntry("x", big)), nil, ErrShape, "out of range"},
		{"rank", graphArch(`[["x", 0, 0]]`, `[["x", 0, 0]]`, inputEntry("x", "[null"+strings.Repeat(", 1", 40)+"]")), nil, ErrShape, "40 axes"},
		{"flatten overflow", graphArch(`[["x", 0, 0]]`, `[["f", 0, 0]]`, inputEntry("x", "[null, 1073741824, 1073741824, 1073741824]"),
			classEntry("Flatten", "f", "", `[[["x", 0, 0, {}]]]`)), nil, ErrShape, "out of range"},
		{"reshape misfit", graphArch(`[["x", 0, 0]]`, `[["r", 0, 0]]`, in,
			classEntry("Reshape", "r", `, "target_shape": [3]`, `[[["x", 0, 0, {}]]]`)), nil, ErrShape, "cannot reshape"},
		{"up-sampling overflow", graphArch(`[["x", 0, 0]]`, `[["u", 0, 0]]`, inputEntry("x", "[null, 1048576, 1048576, 1]"),
			classEntry("UpSampling2D", "u", `, "size": [1073741824, 1073741824]`, `[[["x", 0, 0, {}]]]`),
		), nil, ErrShape, "out of range"},
		{"up-sampling multiply overflow", graphArch(`[["x", 0, 0]]`, `[["u", 0, 0]]`, inputEntry("x", "[null, 1048576, 1048576, 1]"),
			classEntry("UpSampling2D", "u", `, "size": [1099511627776, 1099511627776]`, `[[["x", 0, 0, {}]]]`),
		), nil, nil, ""}, // a dimension past the bounds is left unknown
		{"nesting", deep, nil, ErrTooLarge, "MaxConfigDepth"},
		{"layers", graphArch(`[["x", 0, 0]]`, `[["d0", 0, 0]]`, append([]string{in}, many...)...), &Options{MaxLayers: 30}, ErrTooLarge, "MaxLayers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, _, err := Describe(strings.NewReader(c.arch), c.opt)
			if c.want == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if u := d.Layers[1]; u.Outputs[0] != nil {
					t.Errorf("%s: output %v, want unknown", u.Name, u.Outputs[0])
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v; want one line wrapping %v with %q", err, c.want, c.msg)
			}
		})
	}
}

// fuzzDescribe describes b with fuzzOptions: an error must wrap a
// sentinel; a description must add up (the model's count is the sum of
// its layers', each layer has an output, known shapes are in bounds).
func fuzzDescribe(t *testing.T, b []byte) {
	d, _, err := Describe(bytes.NewReader(b), fuzzOptions())
	if err != nil {
		checkKerasError(t, err)
		return
	}
	var check func(d *Description)
	check = func(d *Description) {
		var sum int64
		for _, l := range d.Layers {
			if len(l.Outputs) == 0 {
				t.Fatalf("layer %q has no output", l.Name)
			}
			for _, s := range l.Outputs {
				if s != nil {
					if err := checkShape(l.Name, s); err != nil {
						t.Fatalf("described an out-of-bounds shape: %v", err)
					}
				}
			}
			if l.Model != nil {
				check(l.Model)
			}
			if l.Params < 0 || sum < 0 {
				sum = -1
			} else {
				sum += l.Params
			}
		}
		if sum != d.Params {
			t.Fatalf("model %q: params %d, its layers' add up to %d", d.Name, d.Params, sum)
		}
	}
	check(d)
}

// FuzzDescribe checks Describe on architecture JSON (functional graphs,
// merges, shared layers, convolutions): no panic or hang, sentinel
// errors, descriptions that add up. FuzzReadZip and FuzzArch describe
// their inputs too.
func FuzzDescribe(f *testing.F) {
	in := inputEntry("x", "[null, 8, 8, 3]")
	f.Add([]byte(graphArch(`[["x", 0, 0]]`, `[["c", 0, 0], ["p", 0, 0]]`, in,
		classEntry("Conv2D", "c", `, "filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same"`, `[[["x", 0, 0, {}]]]`),
		classEntry("MaxPooling2D", "p", `, "pool_size": [2, 2]`, `[[["c", 0, 0, {}]]]`))))
	f.Add([]byte(graphArch(`[["x", 0, 0], ["y", 0, 0]]`, `[["m", 0, 0]]`, inputEntry("x", "[null, 4]"), inputEntry("y", "[null, 4]"),
		classEntry("Concatenate", "m", `, "axis": -1`, `[[["x", 0, 0, {}], ["y", 0, 0, {}]]]`))))
	f.Add([]byte(graphArch(`[["x", 0, 0]]`, `[["a", 0, 0]]`, inputEntry("x", "[null, 4]"),
		denseEntry("s", 4, `[[["x", 0, 0, {}]], [["s", 0, 0, {}]]]`), classEntry("Add", "a", "", `[[["s", 0, 0, {}], ["s", 1, 0, {}]]]`))))
	f.Add([]byte(graphArch(`[["x", 0, 0]]`, `[["l", 0, 2]]`, inputEntry("x", "[null, 5, 3]"),
		classEntry("LSTM", "l", `, "units": 2, "return_state": true`, `[[["x", 0, 0, {}]]]`))))
	f.Fuzz(fuzzDescribe)
}
