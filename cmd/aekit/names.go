package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aekit/aekit/runtime"
)

// tensorNames are the --input-name and --output-name flags of the commands
// that write models.
type tensorNames struct{ in, out string }

// add defines the flags on fs.
func (n *tensorNames) add(fs *flag.FlagSet) {
	fs.StringVar(&n.in, "input-name", "", "name the model's input `NAME` (ONNX graph input, Keras InputLayer); default: the name the model has (Keras's InputLayer, e.g. input_layer), as tf2onnx keeps it")
	fs.StringVar(&n.out, "output-name", "", "name the ONNX graph output `NAME` (.onnx outputs only); default: the name the model has, or its last layer's, as tf2onnx names it")
}

// check refuses names that the output file path cannot hold, before any
// work.
func (n *tensorNames) check(path string) error {
	if n.out != "" && !strings.EqualFold(filepath.Ext(path), ".onnx") {
		return fmt.Errorf("--output-name %s: Keras names a model's output after its last layer; --output-name applies to .onnx outputs", n.out)
	}
	if n.in != "" && n.in == n.out {
		return errors.New("--input-name and --output-name must differ")
	}
	for _, p := range [][2]string{{"--input-name", n.in}, {"--output-name", n.out}} {
		if strings.ContainsAny(p[1], "\x00\n") {
			return fmt.Errorf("%s %q: a name cannot hold NUL or newline characters", p[0], p[1])
		}
	}
	return nil
}

// apply renames m's input and output as the flags ask.
func (n *tensorNames) apply(m *runtime.Model) {
	if n.in != "" {
		m.InputName = n.in
	}
	if n.out != "" {
		m.OutputName = n.out
	}
}
