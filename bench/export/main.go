// Command export writes the models of `aekit bench` as ONNX files, for
// ONNX Runtime's side of bench/compare.sh:
//
//	go run ./bench/export -o DIR
//
// writes DIR/seed.onnx, DIR/ae784.onnx and DIR/deep.onnx: the same layers,
// Glorot-uniform initialisation and seed as aekit bench uses (weights
// matter little for speed, the shapes do).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/train"
)

// models are aekit bench's models (cmd/aekit/bench.go, benchSpecs).
var models = []struct {
	name  string
	width int
	spec  string
}{
	{"seed", 100, "10:relu,10:relu|100:sigmoid,100:sigmoid"},
	{"ae784", 784, "32:relu|784:sigmoid"},
	{"deep", 784, "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid"},
}

func main() {
	out := flag.String("o", ".", "output `folder`")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(2)
	}
	for _, md := range models {
		m, err := train.Build(md.width, train.MustParseArch(md.spec), "glorot_uniform", 1)
		if err == nil {
			err = onnx.WriteFile(filepath.Join(*out, md.name+".onnx"), m, &onnx.ExportOptions{})
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "export: %s: %v\n", md.name, err)
			os.Exit(2)
		}
	}
}
