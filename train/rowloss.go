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
// its outputs are in the working buffers: no n-row output is ever made.
// Layers that only act while training (Dropout, noise: Identity with a
// rate) pass values through, as in Keras's predict and evaluate. It does
// not change m. dst must hold n values. To score many calls on one model,
// use a RowScorer.
func RowLosses(dst []float32, m *runtime.Model, x, y []float32, n int, loss Loss, batchSize int) error {
	if batchSize < 1 {
		return fmt.Errorf("%w: batch size %d < 1", ErrConfig, batchSize)
	}
	s, err := NewRowScorer(m, loss, max(1, min(batchSize, n)))
	if err != nil {
		return err
	}
	defer s.Close()
	return s.RowLosses(dst, x, y, n)
}

// RowScorer computes RowLosses for one model call after call, with its
// working buffers made once: a server's per-request scorer. It works on a
// copy of the model taken by NewRowScorer. It is not safe for concurrent
// use; make one per goroutine.
type RowScorer struct {
	nt       *net
	maxBatch int
	x, y     sliceData // the data of the current call
}

// NewRowScorer returns a RowScorer computing loss for m in batches of at
// most maxBatch rows.
func NewRowScorer(m *runtime.Model, loss Loss, maxBatch int) (*RowScorer, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("%w: batch size %d < 1", ErrConfig, maxBatch)
	}
	if loss >= numLosses {
		return nil, fmt.Errorf("%w: %v", ErrLoss, loss)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if err := checkSize(m, maxBatch, 2); err != nil {
		return nil, err
	}
	cp, err := inferenceClone(m)
	if err != nil {
		return nil, err
	}
	nt, err := newNet(cp, loss, maxBatch, 1)
	if err != nil {
		return nil, err
	}
	return &RowScorer{nt: nt, maxBatch: maxBatch}, nil
}

// RowLosses is the package function RowLosses on the scorer's model: it
// writes the loss of each of the n rows of x against y (nil means x) to
// dst, in batches of the scorer's maximum batch size.
func (s *RowScorer) RowLosses(dst, x, y []float32, n int) error {
	if len(dst) != n {
		return fmt.Errorf("%w: %d rows but room for %d losses", ErrData, n, len(dst))
	}
	if y == nil {
		y = x
	}
	s.x = sliceData{x: x, width: s.nt.inW}
	s.y = sliceData{x: y, width: s.nt.outW}
	if err := checkSlice("data", &s.x, n); err != nil {
		return err
	}
	if err := checkSlice("target", &s.y, n); err != nil {
		return err
	}
	for start := 0; start < n; start += s.maxBatch {
		rows := min(s.maxBatch, n-start)
		if _, err := s.nt.batch(&s.x, &s.y, nil, start, rows, false); err != nil {
			return err
		}
		for i, v := range s.nt.rowLoss[:rows] {
			dst[start+i] = float32(v)
		}
	}
	return nil
}

// Close releases the scorer's worker goroutines.
func (s *RowScorer) Close() { s.nt.close() }

// inferenceClone returns a deep copy of m for inference: layers that only
// act while training (Identity with a rate: Dropout, noise) get a zero
// rate and pass values through, as in Keras's predict and evaluate.
func inferenceClone(m *runtime.Model) (*runtime.Model, error) {
	cp, err := cloneModel(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	cp.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Identity {
			l.Rate = 0
		}
	})
	return cp, nil
}
