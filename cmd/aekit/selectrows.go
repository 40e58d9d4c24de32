package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/npy"
)

func cmdSelect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("select", "-i X.npy --labels y.npy --classes LIST -o OUT.npy\n\n"+
		"Writes the rows of X.npy whose label is in LIST (comma-separated class ids), in order, to OUT.npy:\n"+
		"float32, sample shape kept; uint8 data is divided by 255 as aekit train, predict and score do.\n"+
		"For example the normal classes of an anomaly detector to train on.", stderr)
	in := fs.String("i", "", "rows `X.npy` (or .npz, DATA.npz:KEY)")
	labels := fs.String("labels", "", "one class id per row, `y.npy`")
	classes := fs.String("classes", "", "keep the rows with these class ids, `LIST` such as 0,2,4")
	out := fs.String("o", "", "output `OUT.npy` (float32, written atomically)")
	asJSON := fs.Bool("json", false, "print what was written as JSON (output, rows kept, rows read, input, classes)")
	_, code, done := parseCommand(fs, args, 0, 0, stdout, stderr)
	if done {
		return code
	}
	if *in == "" || *labels == "" || *classes == "" || *out == "" {
		fmt.Fprintln(stderr, "aekit select: -i, --labels, --classes and -o are required")
		fs.Usage()
		return exitUsage
	}
	failf := func(err error) int { return fail(stderr, "select", err) }
	if err := atomicfile.Check(*out); err != nil {
		return failf(fmt.Errorf("-o %w", err))
	}
	keep, err := parseClasses("--classes", *classes)
	if err != nil {
		return failf(err)
	}
	x, err := readArray(*in)
	if err != nil {
		return failf(err)
	}
	if len(x.Shape) < 1 {
		return failf(fmt.Errorf("%s: a 0-d array has no rows", *in))
	}
	dataset.Scale(x)
	y, err := readArray(*labels)
	if err != nil {
		return failf(fmt.Errorf("--labels %w", err))
	}
	n := x.Shape[0]
	ny, err := y.Batch(1)
	if err != nil {
		return failf(fmt.Errorf("--labels %s: %w", *labels, err))
	}
	if ny != n {
		return failf(fmt.Errorf("--labels %s has %d rows, -i %s has %d", *labels, ny, *in, n))
	}
	w := 0
	if n > 0 {
		w = len(x.Data) / n
	}
	var data []float32
	kept := 0
	for i := range n {
		if keep[y.Data[i]] {
			data = append(data, x.Data[i*w:(i+1)*w]...)
			kept++
		}
	}
	shape := append([]int{kept}, x.Shape[1:]...)
	if err := npy.WriteFile(*out, &npy.Array{Shape: shape, Data: data}); err != nil {
		return failf(err)
	}
	if *asJSON {
		b, _ := json.Marshal(struct {
			Output  string `json:"output"`
			Kept    int    `json:"kept"`
			Rows    int    `json:"rows"`
			Input   string `json:"input"`
			Classes string `json:"classes"`
		}{*out, kept, n, *in, *classes})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "%s: %d of %d rows of %s (classes %s)\n", *out, kept, n, *in, *classes)
	return exitOK
}
