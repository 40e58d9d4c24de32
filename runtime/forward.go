package runtime

import (
	"fmt"

	"github.com/aekit/aekit/internal/kernel"
)

// workspace holds the two ping-pong buffers of one forward pass.
type workspace struct {
	buf [2][]float32
}

func (w *workspace) get(i, n int) []float32 {
	if cap(w.buf[i]) < n {
		w.buf[i] = make([]float32, n)
	}
	return w.buf[i][:n]
}

// Predict runs m on the samples in x, row-major with InputWidth values per
// sample, and writes the outputs to dst, which it grows if its capacity is
// too small, and returns. Once warm (after a first call with at least as
// many rows), Predict allocates nothing when dst has room. It is safe to
// call from several goroutines at once.
//
// An x whose length is not a multiple of InputWidth returns an error
// wrapping ErrShape. NaN and Inf inputs propagate as IEEE arithmetic says.
func (m *Model) Predict(dst, x []float32) ([]float32, error) {
	w := m.InputWidth()
	if w <= 0 || len(x)%w != 0 {
		return dst, fmt.Errorf("%w: %d values is not a whole number of samples of width %d", ErrShape, len(x), w)
	}
	n := len(x) / w
	need := n * m.OutputWidth()
	if cap(dst) < need {
		dst = make([]float32, need)
	}
	dst = dst[:need]
	ws, _ := m.scratch.Get().(*workspace)
	if ws == nil {
		ws = new(workspace)
	}
	f := forward{ws: ws, n: n, cur: x, which: -1}
	f.run(m, m.Input)
	copy(dst, f.cur)
	m.scratch.Put(ws)
	return dst, nil
}

// forward is the state of one pass: the current activations cur, held in
// x (which == -1) or in ws.buf[which].
type forward struct {
	ws    *workspace
	n     int
	cur   []float32
	which int
}

// own makes cur writable, copying the caller's input into scratch.
func (f *forward) own() {
	if f.which < 0 {
		b := f.ws.get(0, len(f.cur))
		copy(b, f.cur)
		f.cur, f.which = b, 0
	}
}

func (f *forward) run(m *Model, shape []int) []int {
	for _, l := range m.Layers {
		switch l.Type {
		case Dense:
			next := 1
			if f.which == 1 {
				next = 0
			}
			out := f.ws.get(next, f.n*l.Units)
			kernel.Gemm(false, false, f.n, l.Units, l.In, 1, f.cur, l.In, l.Kernel, l.Units, 0, out, l.Units)
			if l.Bias != nil {
				kernel.AddBias(out, f.n, l.Units, l.Bias)
			}
			f.cur, f.which = out, next
			l.Act.Apply(f.cur, l.Units)
		case ActivationLayer:
			if !l.Act.IsIdentity() {
				f.own()
				l.Act.Apply(f.cur, shape[len(shape)-1])
			}
		case SubModel:
			f.run(l.Sub, shape)
		}
		shape = l.outShape(shape)
	}
	return shape
}
