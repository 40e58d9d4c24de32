package train

import (
	"errors"
	"fmt"
)

// Size limits, checked before anything is allocated so that an absurd
// size is an error rather than an out-of-memory crash.
const (
	// MaxUnits is the largest number of units of a Dense layer (and the
	// largest input width) that Build accepts: 2²⁴.
	MaxUnits = 1 << 24

	// MaxValues is the largest number of float32 values (4 bytes each, so
	// 1 GiB) that Build lets a model's parameters take, and that Fit and
	// Evaluate let a run's working memory take: parameters, their
	// gradients and optimizer state, plus the per-batch buffers (inputs,
	// targets, and each layer's pre-activations, outputs and gradients
	// for BatchSize rows). The training data are not counted.
	MaxValues = 1 << 28
)

// Sentinel errors returned (wrapped with context) by this package. Test for
// them with errors.Is.
var (
	// ErrConfig reports an invalid Config: batch size or epochs below 1, a
	// validation split outside [0, 1), an initial epoch past the last one,
	// optimizer settings out of range (see Optimizer.Validate), a batch too
	// large for MaxValues.
	ErrConfig = errors.New("train: invalid configuration")

	// ErrData reports training, target or validation data that do not fit
	// the model: wrong lengths, row counts that differ, a target width
	// different from the model's output width.
	ErrData = errors.New("train: invalid data")

	// ErrNonFinite reports a NaN or ±Inf value in the data. The message
	// names the first bad row and column.
	ErrNonFinite = errors.New("train: non-finite value in data")

	// ErrTargetRange reports a binary cross-entropy target outside [0, 1]
	// (unscaled data, such as pixel values 0–255): the loss is then not a
	// cross-entropy and can go negative without bound. The error is a
	// *TargetRangeError naming the first bad value; set
	// Config.AllowUnscaledTargets to train anyway.
	ErrTargetRange = errors.New("train: binary cross-entropy target outside [0, 1]")

	// ErrNaNLoss reports a loss that became NaN or infinite during
	// training. The message names the epoch and batch; the weights are
	// those before the bad batch.
	ErrNaNLoss = errors.New("train: loss is not finite")

	// ErrInterrupted reports that the context was cancelled. Training
	// stopped after the current batch; the checkpoint, if configured, was
	// written and Fit can be resumed from it.
	ErrInterrupted = errors.New("train: interrupted")

	// ErrOptimizer reports an unknown optimizer name; the message lists the
	// valid names.
	ErrOptimizer = errors.New("train: unknown optimizer")

	// ErrLoss reports an unknown loss name; the message lists the valid
	// names.
	ErrLoss = errors.New("train: unknown loss")

	// ErrInitializer reports an unknown initializer name; the message lists
	// the valid names.
	ErrInitializer = errors.New("train: unknown initializer")

	// ErrSpec reports a malformed layer specification given to Build.
	ErrSpec = errors.New("train: invalid layer spec")

	// ErrModel reports a model the trainer cannot train: an invalid model,
	// or a layer it cannot differentiate (Dropout or noise layers, which
	// behave differently while training).
	ErrModel = errors.New("train: unsupported model")

	// ErrCheckpoint reports a checkpoint that cannot be read (corrupt,
	// truncated, another version) or that does not match the model or
	// data it is resumed with.
	ErrCheckpoint = errors.New("train: bad checkpoint")
)

// TargetRangeError is the error Fit returns, wrapping ErrTargetRange, for
// the first binary cross-entropy target outside [0, 1].
type TargetRangeError struct {
	// What names the array: "target", "data" (the inputs serving as
	// targets), "validation target" or "validation data".
	What string
	// Row and Col locate the value; Row counts from 0 in the array as
	// given (validation rows split off the data keep their row numbers).
	Row, Col int
	// Value is the offending target.
	Value float32
}

// Error implements error.
func (e *TargetRangeError) Error() string {
	return fmt.Sprintf("%v: %s row %d column %d is %g", ErrTargetRange, e.What, e.Row, e.Col, e.Value)
}

// Unwrap returns ErrTargetRange.
func (e *TargetRangeError) Unwrap() error { return ErrTargetRange }
