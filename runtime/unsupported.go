package runtime

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by the errors of Validate and Predict for a
// model holding an Unsupported layer.
var ErrUnsupported = errors.New("runtime: layer aekit cannot run")

// Unsupported stands for a layer that a reader described but aekit cannot
// run (a Keras Conv2D, LSTM, Lambda, ...): package keras makes one for
// each such layer when its Options.Describe is set, so that `aekit
// inspect` can list the whole model. A model holding one fails Validate
// and Predict with an error wrapping ErrUnsupported that names the layer's
// class; writers refuse it.
type Unsupported struct {
	// ClassName is the layer's class in the file.
	ClassName string
	// Reason says why it cannot run; "" when the class is unknown.
	Reason string
	// Weights is the number of weight values the file holds for it, -1
	// when not known.
	Weights int
	// Out is the shape of one output sample where the file records it
	// (nil: unknown).
	Out []int
}

// Class returns ClassName.
func (u *Unsupported) Class() string { return u.ClassName }

// Config returns nothing: an Unsupported layer is not written.
func (u *Unsupported) Config() []Attr { return nil }

// Params returns none; the count is Weights.
func (u *Unsupported) Params() []Param { return nil }

// SetParams accepts no weights.
func (u *Unsupported) SetParams(values [][]float32) error { return setParams(nil, nil, values) }

// Build accepts any input.
func (u *Unsupported) Build(in []int) error { return nil }

// Check always fails: the layer cannot run.
func (u *Unsupported) Check(w int) error {
	why := ""
	if u.Reason != "" {
		why = " (" + u.Reason + ")"
	}
	return fmt.Errorf("%w: class %q%s", ErrUnsupported, u.ClassName, why)
}

// Forward does nothing; Check keeps a model holding u from running.
func (u *Unsupported) Forward(x []float32, n, w int) {}
