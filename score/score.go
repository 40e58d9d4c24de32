package score

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// Sentinel errors returned (wrapped with context) by this package.
var (
	// ErrMetric reports an unknown metric name.
	ErrMetric = errors.New("score: unknown metric")
	// ErrInput reports scores, labels or a quantile that cannot be used:
	// no rows, lengths that differ, labels other than 0 and 1, NaN scores,
	// a quantile outside [0, 1].
	ErrInput = errors.New("score: invalid input")
	// ErrThreshold reports a stored threshold that cannot be read.
	ErrThreshold = errors.New("score: invalid stored threshold")
)

// Metric is a per-row reconstruction error: one of train's losses.
type Metric = train.Loss

// The metrics.
const (
	MSE = train.MeanSquaredError
	MAE = train.MeanAbsoluteError
	BCE = train.BinaryCrossentropy
)

// MetricNames returns the names ParseMetric accepts, short names first.
func MetricNames() []string { return []string{"mse", "mae", "bce"} }

// ParseMetric returns the metric called name: mse, mae or bce, or their
// Keras names (mean_squared_error, mean_absolute_error,
// binary_crossentropy).
func ParseMetric(name string) (Metric, error) {
	l, err := train.ParseLoss(name)
	if err != nil || !(l == MSE || l == MAE || l == BCE) {
		return 0, fmt.Errorf("%w %q (valid: %s)", ErrMetric, name, strings.Join(MetricNames(), ", "))
	}
	return l, nil
}

// MetricName returns the short name of m (mse, mae or bce), the name
// stored with a threshold.
func MetricName(m Metric) string {
	switch m {
	case MSE:
		return "mse"
	case MAE:
		return "mae"
	case BCE, train.BinaryCrossentropyKeras2:
		return "bce"
	}
	return m.String()
}

// Rows returns the reconstruction error of each of the n rows of x (the
// model's output against the row itself), computed batchSize rows at a
// time: the mean over the row's features of metric, in the metric's
// units (see the package documentation), as float32. The model's output
// width must equal its input width. To score call after call (a server),
// use a Scorer.
func Rows(m *runtime.Model, x []float32, n int, metric Metric, batchSize int) ([]float32, error) {
	if batchSize < 1 {
		return nil, fmt.Errorf("%w: batch size %d", ErrInput, batchSize)
	}
	s, err := NewScorer(m, metric, max(1, min(batchSize, n)))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	dst := make([]float32, max(n, 0))
	if err := s.Score(dst, x, n); err != nil {
		return nil, err
	}
	return dst, nil
}

// Scorer scores rows for one model call after call, its buffers made
// once (train.RowScorer). It works on a copy of the model taken by
// NewScorer and is not safe for concurrent use: make one per goroutine.
type Scorer struct {
	rs *train.RowScorer
}

// NewScorer returns a Scorer computing metric for m in batches of at most
// maxBatch rows. The model's output width must equal its input width.
func NewScorer(m *runtime.Model, metric Metric, maxBatch int) (*Scorer, error) {
	if m.InputWidth() != m.OutputWidth() {
		return nil, fmt.Errorf("%w: the model's output has %d values per row but its input %d; a reconstruction error needs equal widths",
			ErrInput, m.OutputWidth(), m.InputWidth())
	}
	rs, err := train.NewRowScorer(m, metric, maxBatch)
	if err != nil {
		return nil, err
	}
	return &Scorer{rs: rs}, nil
}

// Score writes to dst the reconstruction error of each of the n rows of x
// (see Rows). dst must hold n values.
func (s *Scorer) Score(dst, x []float32, n int) error {
	if n < 0 || n > len(x) {
		return fmt.Errorf("%w: %d rows", ErrInput, n)
	}
	return s.rs.RowLosses(dst, x, nil, n)
}

// Close releases the scorer's resources.
func (s *Scorer) Close() { s.rs.Close() }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of s as numpy.quantile
// computes it by default (linear interpolation between the sorted values
// at position (len(s)−1)·q), in float64. s is not changed. It fails on an
// empty s, a NaN in s or q outside [0, 1].
func Quantile(s []float32, q float64) (float64, error) {
	if len(s) == 0 {
		return 0, fmt.Errorf("%w: no scores", ErrInput)
	}
	if !(q >= 0 && q <= 1) {
		return 0, fmt.Errorf("%w: quantile %g outside [0, 1]", ErrInput, q)
	}
	v := make([]float64, len(s))
	for i, x := range s {
		if math.IsNaN(float64(x)) {
			return 0, fmt.Errorf("%w: score %d is NaN", ErrInput, i)
		}
		v[i] = float64(x)
	}
	slices.Sort(v)
	h := float64(len(v)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(v)-1 {
		return v[len(v)-1], nil
	}
	// numpy's _lerp: a + (b−a)·t, then b − (b−a)·(1−t) when t ≥ 0.5.
	a, b, t := v[i], v[i+1], h-lo
	d := b - a
	r := a + d*t
	if t >= 0.5 {
		r = b - d*(1-t)
	}
	return r, nil
}
