package train

import (
	"fmt"

	"github.com/aekit/aekit/runtime"
)

// RowLosses writes to dst[i] the loss of row i of the n rows of x against
// the same row of y (nil means x, an autoencoder's reconstruction error):
// the mean over the row's output features of loss exactly as Fit and
// Evaluate compute it — binary cross-entropy from the logits when the last
// activation is a sigmoid, else on probabilities clipped to [1e-7, 1−1e-7];
// mse the mean squared error; mae the mean absolute error — accumulated in
// float64 and rounded to float32. The unit is the loss's: squared output
// units for mse, output units for mae, nats for binary cross-entropy.
//
// The model runs batchSize rows at a time and each batch is scored while
// its outputs are still in the working buffers: no n-row output is ever
// made. Layers that only act while training (Dropout, noise: Identity with
// a rate) pass values through, as in Keras's predict and evaluate. It does
// not change m. dst must hold n values.
func RowLosses(dst []float32, m *runtime.Model, x, y []float32, n int, loss Loss, batchSize int) error {
	if batchSize < 1 {
		return fmt.Errorf("%w: batch size %d < 1", ErrConfig, batchSize)
	}
	if loss >= numLosses {
		return fmt.Errorf("%w: %v", ErrLoss, loss)
	}
	if len(dst) != n {
		return fmt.Errorf("%w: %d rows but room for %d losses", ErrData, n, len(dst))
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrModel, err)
	}
	if y == nil {
		y = x
	}
	if err := checkData("data", x, n, m.InputWidth(), nil); err != nil {
		return err
	}
	if err := checkData("target", y, n, m.OutputWidth(), nil); err != nil {
		return err
	}
	bs := min(batchSize, n)
	if err := checkSize(m, bs, 2); err != nil {
		return err
	}
	nt, err := newNet(inferenceClone(m), loss, bs, 1)
	if err != nil {
		return err
	}
	defer nt.close()
	for start := 0; start < n; start += bs {
		rows := min(bs, n-start)
		nt.batch(x, y, nil, start, rows, false)
		for i, v := range nt.rowLoss[:rows] {
			dst[start+i] = float32(v)
		}
	}
	return nil
}

// inferenceClone returns a deep copy of m for inference: layers that only
// act while training (Identity with a rate: Dropout, noise) get a zero
// rate and pass values through, as in Keras's predict and evaluate.
func inferenceClone(m *runtime.Model) *runtime.Model {
	cp := cloneModel(m)
	cp.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Identity {
			l.Rate = 0
		}
	})
	return cp
}
