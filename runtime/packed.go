package runtime

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/aekit/aekit/internal/kernel"
)

// CheckWeights sets whether Predict checks, on every batch it multiplies
// with packed weights (see Model.Predict), that the Dense Kernel values
// are still those it packed. It is on for every model, so that Kernel
// values may be changed in place between calls, as package train does
// with the model it trains, and the next Predict sees the change. The
// check reads every weight once (for the deep 784-128-64-32-64-128-784
// model, 0.9 MB per call).
//
// A caller that never changes Kernel values in place once it predicts —
// a server, or a tool that loads a model and only predicts — can turn it
// off. The rule is then: after changing Kernel values in place, call
// WeightsChanged before the next Predict; Predict does not look at them.
// Replacing a layer or a Kernel slice, or changing a layer's shape, is
// still noticed without it, and biases are always read as they are.
// CheckWeights is safe to call concurrently with Predict: calls that
// have started use the weights as they were.
func (m *Model) CheckWeights(on bool) { m.packs.unchecked.Store(!on) }

// WeightsChanged tells m that Dense Kernel values changed in place: the
// next Predict that multiplies with packed weights, and the next batch of
// every Parallel of m, packs them again, without comparing first. Predict
// needs it only after CheckWeights(false) (with the check on, it notices
// the change itself); a Parallel never compares. It is cheap: it bumps a
// counter.
func (m *Model) WeightsChanged() { m.packs.gen.Add(1) }

// packCache holds a Model's packed Dense kernels: built by the first
// batch that uses them, rebuilt when a Kernel changed, read by any number
// of concurrent passes.
type packCache struct {
	mu        sync.Mutex // serialises building
	p         atomic.Pointer[packedModel]
	gen       atomic.Uint64 // bumped by WeightsChanged
	unchecked atomic.Bool   // CheckWeights(false): trust the values
}

// packedModel is a model's Dense kernels packed for kernel.GemmPacked, in
// the order forward.run visits them.
type packedModel struct {
	layers []packedLayer
	gen    uint64 // packCache.gen when packed
}

// packedLayer is one Dense layer's packed kernel. There is no copy of the
// values it was packed from: kernel.Packed.Holds compares the Kernel with
// the packed panels themselves, which the product reads next anyway.
type packedLayer struct {
	l    *Layer
	kern *float32 // l.Kernel's array when packed: a replaced slice is noticed
	p    kernel.Packed
}

// packedFor returns the packed kernels for a batch of n rows: nil when
// the batch is smaller than PackedMinRows or kernel.GemmPacked has no
// assembly micro-kernel here (then Gemm, OpenBLAS or gonum, is faster
// than its pure-Go one). Otherwise it checks that the packs are those of
// m's present Dense layers and (unless CheckWeights(false)) Kernel values,
// and not older than the last WeightsChanged, and packs again if not. m
// must be valid (Predict checks).
func (m *Model) packedFor(n int) *packedModel {
	if n < PackedMinRows || !kernel.PackedAsm() || m.denseWeights() > PackedMaxWeights {
		return nil
	}
	if p := m.packs.p.Load(); p != nil && p.current(m) {
		return p
	}
	m.packs.mu.Lock()
	defer m.packs.mu.Unlock()
	if p := m.packs.p.Load(); p != nil && p.current(m) {
		return p
	}
	// The generation is read before packing: a WeightsChanged during it
	// makes the next call pack again.
	p := &packedModel{gen: m.packs.gen.Load()}
	m.Walk(func(_ []string, l *Layer) {
		if l.Type == Dense {
			p.layers = append(p.layers, packedLayer{l: l, kern: unsafe.SliceData(l.Kernel)})
		}
	})
	for i := range p.layers {
		pl := &p.layers[i]
		pl.p.Pack(pl.l.In, pl.l.Units, pl.l.Kernel, pl.l.Units, false)
	}
	m.packs.p.Store(p)
	return p
}

// current reports whether p was packed from m's present Dense layers, at
// the present generation and, unless the check is off, from the present
// Kernel values, without allocating.
func (p *packedModel) current(m *Model) bool {
	if p.gen != m.packs.gen.Load() {
		return false
	}
	i, ok := p.match(m, 0, !m.packs.unchecked.Load())
	return ok && i == len(p.layers)
}

// sameLayers is current without comparing the values: p fits m's present
// Dense layers.
func (p *packedModel) sameLayers(m *Model) bool {
	i, ok := p.match(m, 0, false)
	return ok && i == len(p.layers)
}

func (p *packedModel) match(m *Model, i int, values bool) (int, bool) {
	for _, l := range m.Layers {
		switch l.Type {
		case Dense:
			if i >= len(p.layers) {
				return i, false
			}
			pl := &p.layers[i]
			if pl.l != l || pl.kern != unsafe.SliceData(l.Kernel) || pl.p.K() != l.In || pl.p.N() != l.Units || (values && !pl.p.Holds(l.In, l.Units, l.Kernel, l.Units)) {
				return i, false
			}
			i++
		case SubModel:
			var ok bool
			if i, ok = p.match(l.Sub, i, values); !ok {
				return i, false
			}
		}
	}
	return i, true
}
