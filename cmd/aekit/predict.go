package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/runtime"
)

func cmdPredict(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("predict", "MODEL -i X.npy -o Y.npy [--arch A.json] [--layer NAME | --model NAME [--output LAYER]] [--batch-size N]", stderr)
	in := fs.String("i", "", "input `X.npy` (or .npz): one sample per row; (n,28,28) images are flattened; uint8 data is divided by 255 as in aekit train; DATA.npz:KEY names one array of an .npz; - reads a .npy from standard input")
	out := fs.String("o", "", "output `Y.npy` (float32 .npy, written atomically; - writes it to standard output)")
	arch := fs.String("arch", "", "architecture `JSON` for weights-only Keras files")
	layer := fs.String("layer", "", "write the output of this layer or sub-model (e.g. encoder: the codes)")
	sub := fs.String("model", "", "run only this sub-model on the input (e.g. decoder on codes); read alone when the whole model cannot run")
	output := fs.String("output", "", "compute the output of this layer of the model or of its --model sub-model (a VAE: --model encoder --output z_mean); only the layers feeding it are read")
	batch := fs.Int("batch-size", 256, "samples per forward pass")
	asJSON := fs.Bool("json", false, "print what was written as JSON on standard error (output, shape, model) instead of the summary line")
	pos, code, done := parseCommand(fs, args, 1, 1, stdout, stderr)
	if done {
		return code
	}
	if *in == "" || *out == "" {
		fmt.Fprintln(stderr, "aekit predict: -i and -o are required")
		fs.Usage()
		return exitUsage
	}
	if *batch < 1 {
		return fail(stderr, "predict", fmt.Errorf("--batch-size %d: must be at least 1", *batch))
	}
	if err := checkNpyOutput(*out, stdout); err != nil {
		return fail(stderr, "predict", err)
	}
	m, _, err := openModel(pos[0], *arch, *layer, *sub, *output)
	if err != nil {
		return fail(stderr, "predict", err)
	}
	y, err := predictFile(m, *in, *batch)
	if err != nil {
		return fail(stderr, "predict", err)
	}
	if *out == "-" {
		bw := bufio.NewWriter(stdout)
		if err := npy.Write(bw, y); err != nil {
			return fail(stderr, "predict", err)
		}
		if err := bw.Flush(); err != nil {
			return fail(stderr, "predict", err)
		}
	} else if err := npy.WriteFile(*out, y); err != nil {
		return fail(stderr, "predict", err)
	}
	dest := *out
	if dest == "-" {
		dest = "standard output"
	}
	if *asJSON {
		// On standard error: standard output may carry the array (-o -).
		b, _ := json.Marshal(struct {
			Output string `json:"output"`
			Shape  []int  `json:"shape"`
			DType  string `json:"dtype"`
			Model  string `json:"model"`
		}{*out, y.Shape, "float32", pos[0]})
		fmt.Fprintf(stderr, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stderr, "aekit predict: wrote %s: %s float32 outputs of %s\n", dest, shapeText(y.Shape), pos[0])
	return exitOK
}

// shapeText formats an array shape as (1000, 8).
func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// checkNpyOutput checks, before any work, that predict can write a .npy
// file to name: a name ending in .npy (aekit writes no other format; a
// .csv or .txt name would get .npy bytes), or "-" for standard output when
// that is not a terminal; the target must be writable (atomicfile.Check).
func checkNpyOutput(name string, stdout io.Writer) error {
	if name == "-" {
		if isTerminal(stdout) {
			return errors.New("-o -: standard output is a terminal; redirect it to a file or a pipe")
		}
		return nil
	}
	if !strings.EqualFold(filepath.Ext(name), ".npy") {
		return fmt.Errorf("-o %s: predict writes float32 .npy files; give a name ending in .npy (or - for standard output)", name)
	}
	if err := atomicfile.Check(name); err != nil {
		return fmt.Errorf("-o %w", err)
	}
	return nil
}

// predictFile runs m on the samples in the .npy file name, batch rows at
// a time, and returns the outputs shaped (n, output shape...).
func predictFile(m *runtime.Model, name string, batch int) (*npy.Array, error) {
	x, n, err := readRows(name, m.InputWidth())
	if err != nil {
		return nil, err
	}
	y, err := predictRows(m, x, n, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &npy.Array{Shape: append([]int{n}, m.OutputShape()...), Data: y}, nil
}

// predictRows runs m on n rows of x, batch rows per call.
func predictRows(m *runtime.Model, x []float32, n, batch int) ([]float32, error) {
	w, ow := m.InputWidth(), m.OutputWidth()
	if len(x) != n*w {
		return nil, errors.New("internal: row count mismatch")
	}
	y := make([]float32, n*ow)
	for i := 0; i < n; i += batch {
		j := min(i+batch, n)
		if _, err := m.Predict(y[i*ow:j*ow:j*ow], x[i*w:j*w]); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// readArray reads the .npy or .npz file spec names, or with the syntax
// "data.npz:key" the array called key in an .npz archive.
func readArray(spec string) (*npy.Array, error) {
	if spec == "-" {
		// Standard input: a .npy stream (an .npz needs seeking). Memory
		// grows only with the data actually read (npy.Read).
		a, err := npy.Read(bufio.NewReader(os.Stdin))
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return a, nil
	}
	file, key := dataset.SplitName(spec)
	lim, err := envLimits()
	if err != nil {
		return nil, err
	}
	return npy.ReadFileOptions(file, key, &lim.npy)
}
