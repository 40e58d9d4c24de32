package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aekit/aekit/dataset"
	"github.com/aekit/aekit/train"
)

const evaluateHelp = `Prints the loss of MODEL on the rows of X.npy against Y.npy (default: X
itself, an autoencoder's reconstruction loss) as Keras's model.evaluate
computes it on TensorFlow: each batch's loss is the mean over its rows of
the mean over the features; the result is the mean of the batch losses
weighted by their rows (the last, partial, batch counts for its rows).
binary_crossentropy after a sigmoid output is computed from the logits;
for models read from files Keras 1 or 2 wrote, in Keras 2's form (as
aekit train does). Layers active only in training (Dropout) pass values
through.`

func cmdEvaluate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("evaluate", "MODEL -i X.npy [--target Y.npy] [--loss NAME] [--batch-size 32] [--json]\n\n"+evaluateHelp, stderr)
	in := fs.String("i", "", "input `X.npy` (or .npz, DATA.npz:KEY): one sample per row; uint8 data is divided by 255")
	target := fs.String("target", "", "targets `Y.npy` (default: the inputs)")
	lossName := fs.String("loss", "binary_crossentropy", "loss `name`: "+strings.Join(train.LossNames(), ", "))
	batch := fs.Int("batch-size", 32, "rows per batch (Keras's evaluate default: 32)")
	asJSON := fs.Bool("json", false, `print {"loss":…,"loss_name":…,"rows":…,"batch_size":…} instead of a sentence`)
	arch := fs.String("arch", "", "architecture `JSON` for weights-only Keras files")
	pos, code, done := parseCommand(fs, args, 1, 1, stdout, stderr)
	if done {
		return code
	}
	if *in == "" {
		fmt.Fprintln(stderr, "aekit evaluate: -i is required")
		fs.Usage()
		return exitUsage
	}
	if *batch < 1 {
		return fail(stderr, "evaluate", fmt.Errorf("--batch-size %d: must be at least 1", *batch))
	}
	loss, err := train.ParseLoss(*lossName)
	if err != nil {
		return fail(stderr, "evaluate", fmt.Errorf("--loss: %w", err))
	}
	m, info, err := openModel(pos[0], *arch, "", "", "")
	if err != nil {
		return fail(stderr, "evaluate", err)
	}
	if info.Keras != nil && info.Keras.Major > 0 && info.Keras.Major <= 2 {
		loss = loss.Keras2()
	}
	x, n, err := readRows(*in, m.InputWidth())
	if err != nil {
		return fail(stderr, "evaluate", err)
	}
	var y []float32
	if *target != "" {
		var ny int
		if y, ny, err = readRows(*target, m.OutputWidth()); err != nil {
			return fail(stderr, "evaluate", fmt.Errorf("--target %w", err))
		}
		if ny != n {
			return fail(stderr, "evaluate", fmt.Errorf("--target %s has %d rows, -i %s has %d", *target, ny, *in, n))
		}
	} else if m.InputWidth() != m.OutputWidth() {
		return fail(stderr, "evaluate", fmt.Errorf("%s: output width %d differs from input width %d: give --target", pos[0], m.OutputWidth(), m.InputWidth()))
	}
	v, err := train.Evaluate(m, x, y, n, loss, *batch)
	if err != nil {
		return fail(stderr, "evaluate", fmt.Errorf("%s: %w", *in, err))
	}
	if *asJSON {
		b, _ := json.Marshal(struct {
			Loss      float64 `json:"loss"`
			LossName  string  `json:"loss_name"`
			Rows      int     `json:"rows"`
			BatchSize int     `json:"batch_size"`
		}{v, loss.String(), n, *batch})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "%s: %s %.9g on %d rows of %s (batch size %d)\n", pos[0], loss, v, n, *in, *batch)
	return exitOK
}

// readRows reads the samples in the .npy file name as rows of width
// values (uint8 data divided by 255, as aekit predict and train do) and
// returns them and their number.
func readRows(name string, width int) ([]float32, int, error) {
	a, err := readArray(name)
	if err != nil {
		return nil, 0, err
	}
	dataset.Scale(a)
	n, err := a.Batch(width)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return a.Data[:n*width], n, nil
}
