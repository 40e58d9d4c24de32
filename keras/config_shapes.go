package keras

import (
	"github.com/aekit/aekit/internal/limits"

	"fmt"

	"github.com/aekit/aekit/runtime"
)

// resolveShapes walks t with input shape in (nil: t's own), checks each
// Dense layer's weights against its config and its input, and fills in
// widths. It returns the output shape.
func resolveShapes(t *tree, in []int) error {
	_, err := t.shapes(in)
	return err
}

// maxZeroValues bounds the weights of one Dense layer that ZeroWeights
// allocates (1 GiB of float32), so an absurd architecture fails cleanly.
const maxZeroValues = 1 << 28

// paramBudget counts the parameters ZeroWeights allocates, against
// Options.MaxParams.
type paramBudget struct{ used, max int64 }

// take counts n more parameters for the named layer, or fails when they
// would pass the limit. n and used are below 2⁶² (n ≤ 2²⁹, used ≤ max).
func (b *paramBudget) take(layer string, n int64) error {
	if n > b.max-b.used {
		return &limits.Error{What: fmt.Sprintf("the model (counting up to Dense layer %q)", layer), Got: b.used + n, Limit: b.max,
			Unit: "parameters (at least)", Field: "MaxParams", Option: "keras.Options.MaxParams", Err: ErrTooLarge}
	}
	b.used += n
	return nil
}

// zeroWeights marks every Dense layer of t and its nested models to get
// zero weights of the shapes its config and input imply (Options.ZeroWeights).
//
// b counts the parameters they take against MaxParams.
func (t *tree) zeroWeights(b *paramBudget) {
	t.zero, t.budget = true, b
	for _, n := range t.nodes {
		if n.sub != nil {
			n.sub.zeroWeights(b)
		}
	}
}

func (t *tree) shapes(in []int) ([]int, error) {
	m := t.model
	if m.Input == nil {
		m.Input = in
	}
	if m.Input == nil {
		m.Input = t.firstKernelRows()
	}
	if m.Input == nil {
		return nil, fmt.Errorf("%w: model %q: input shape unknown (no InputLayer, input shape or leading Dense)", ErrFormat, t.name)
	}
	byLayer := map[*runtime.Layer]*node{}
	for _, n := range t.nodes {
		if n.layer != nil {
			byLayer[n.layer] = n
		}
	}
	shape := m.Input
	for _, l := range m.Layers {
		n := byLayer[l]
		if shape == nil { // after a layer aekit cannot run (Options.Describe)
			shape = t.describeAfterUnknown(n, l)
			continue
		}
		switch l.Type {
		case runtime.Dense:
			if !n.loaded && t.zero && len(shape) == 1 {
				if n.units <= 0 || shape[0] > maxZeroValues/max(n.units, 1) {
					return nil, fmt.Errorf("%w: Dense %s would have %d×%d weights (more than %d)", ErrShape, layerLabel(n.name, n.pos), shape[0], n.units, maxZeroValues)
				}
				// Both factors are at most maxZeroValues = 2²⁸: no overflow.
				if err := t.budget.take(n.name, int64(shape[0]+1)*int64(n.units)); err != nil {
					return nil, err
				}
				n.kshape = []int{shape[0], n.units}
				n.kernel = make([]float32, shape[0]*n.units)
				if n.bias {
					n.bvals = make([]float32, n.units)
				}
				n.loaded = true
			}
			if !n.loaded {
				return nil, fmt.Errorf("%w: Dense %s has no weights in the file", ErrMissingWeights, layerLabel(n.name, n.pos))
			}
			if len(n.kshape) != 2 || n.kshape[1] != n.units {
				return nil, errKernelUnits(n, n.kshape)
			}
			if len(shape) != 1 {
				return nil, fmt.Errorf("%w: Dense %s applied to a %d-D input %v; only flat inputs are supported", ErrUnsupportedLayer, layerLabel(n.name, n.pos), len(shape), shape)
			}
			if n.kshape[0] != shape[0] {
				return nil, fmt.Errorf("%w: Dense %s kernel is %v but its input has width %d", ErrShape, layerLabel(n.name, n.pos), n.kshape, shape[0])
			}
			if n.bias && n.bvals == nil {
				return nil, fmt.Errorf("%w: Dense %s uses a bias but the file has none", ErrMissingWeights, layerLabel(n.name, n.pos))
			}
			if n.bvals != nil && len(n.bvals) != n.units {
				return nil, errBiasUnits(n, len(n.bvals))
			}
			l.In, l.Units, l.Kernel, l.Bias = n.kshape[0], n.units, n.kernel, n.bvals
			shape = []int{n.units}
		case runtime.SubModel:
			out, err := n.sub.shapes(shape)
			if err != nil {
				return nil, err
			}
			if prod(n.sub.model.Input) != prod(shape) {
				return nil, fmt.Errorf("%w: model %q expects input %v but gets %v", ErrShape, n.sub.name, n.sub.model.Input, shape)
			}
			shape = out
		case runtime.Reshape:
			shape = l.OutputShape(shape) // Flatten, or Reshape with one -1 resolved
		case runtime.Other:
			if n.unsupported() != nil {
				shape = l.KnownOutputShape(shape)
				continue
			}
			if n.loaded {
				if err := l.Kind.SetParams(n.pvals); err != nil {
					return nil, fmt.Errorf("%w: %s %s: %w", ErrShape, n.class, layerLabel(n.name, n.pos), err)
				}
			} else if len(l.Kind.Params()) > 0 && !t.zero {
				return nil, fmt.Errorf("%w: %s %s has no weights in the file", ErrMissingWeights, n.class, layerLabel(n.name, n.pos))
			}
			if err := l.Kind.Build(shape); err != nil {
				return nil, fmt.Errorf("%w: %s %s: %w", ErrShape, n.class, layerLabel(n.name, n.pos), err)
			}
		case runtime.ActivationLayer:
			if n != nil && n.class == "Softmax" && n.axis != -1 && n.axis != len(shape) {
				return nil, unsupported(n.name, n.pos, n.class, fmt.Sprintf("softmax over axis %d of a %d-D input; only the last axis is supported", n.axis, len(shape)+1))
			}
		}
	}
	return shape, nil
}

// firstKernelRows infers a model's input width from its first Dense
// kernel, when only Dense, activation and identity layers (or nested
// models) come before it.
func (t *tree) firstKernelRows() []int {
	for _, n := range t.nodes {
		if n.layer == nil {
			continue
		}
		switch n.layer.Type {
		case runtime.Dense:
			if n.loaded && len(n.kshape) == 2 {
				return []int{n.kshape[0]}
			}
			return nil
		case runtime.SubModel:
			if n.sub.model.Input != nil {
				return n.sub.model.Input
			}
			return n.sub.firstKernelRows()
		case runtime.Reshape:
			return nil
		}
	}
	return nil
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// describeAfterUnknown fills in what it can of layer l (node n) when its
// input shape is unknown, in a model read to describe it: loaded weights,
// and the output shape where the layer fixes it (Dense units, a Reshape's
// target). It returns the output shape, nil when unknown.
func (t *tree) describeAfterUnknown(n *node, l *runtime.Layer) []int {
	switch l.Type {
	case runtime.Dense:
		if n.loaded && len(n.kshape) == 2 {
			l.In, l.Kernel, l.Bias = n.kshape[0], n.kernel, n.bvals
		}
		l.Units = n.units
	case runtime.SubModel:
		out, err := n.sub.shapes(nil)
		if err != nil {
			return nil
		}
		return out
	case runtime.Other:
		if n.loaded && n.unsupported() == nil {
			_ = l.Kind.SetParams(n.pvals)
		}
	}
	return l.KnownOutputShape(nil)
}
