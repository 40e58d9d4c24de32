// Command export writes the models of `aekit bench` as ONNX files, for
// ONNX Runtime's side of bench/compare.sh:
//
//	go run ./bench/export -o DIR
//
// writes DIR/seed.onnx, DIR/ae784.onnx and DIR/deep.onnx, internal/benchset's
// models: the same layers, Glorot-uniform initialisation and seed as aekit
// bench uses (weights matter little for speed, the shapes do).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aekit/aekit/internal/benchset"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/train"
)

func main() {
	out := flag.String("o", ".", "output `folder`")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(2)
	}
	for _, md := range benchset.All() {
		m, err := train.Build(md.Width, train.MustParseArch(md.Layers), "glorot_uniform", 1)
		if err == nil {
			err = onnx.WriteFile(filepath.Join(*out, md.Name+".onnx"), m, &onnx.ExportOptions{})
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "export: %s: %v\n", md.Name, err)
			os.Exit(2)
		}
	}
}
