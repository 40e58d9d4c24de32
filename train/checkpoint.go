package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"unsafe"

	"github.com/aekit/aekit/activation"
	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/internal/inputfile"
	"github.com/aekit/aekit/runtime"
)

// CheckpointVersion is the version of the checkpoint format this package
// writes and reads. Version 1 (until 2026-12) was one encoding/gob value
// with the weights inside: writing it took several copies of them in
// memory (25 MB at the end of each epoch of the deep benchmark model, 0.9
// MB of weights), and gob, given a crafted file, recurses as deep as the
// file nests values (of its own types, even in fields it skips), until
// the stack overflows. Version 1 files are refused with an error that says
// so.
const CheckpointVersion = 2

// checkpointMagic starts every checkpoint file.
const checkpointMagic = "AEKITCKP"

// CheckpointMagic is the 8 bytes that start every checkpoint file, for
// telling a checkpoint from other files.
const CheckpointMagic = checkpointMagic

// maxCheckpointPayload bounds the payload length a header may announce.
const maxCheckpointPayload = 1 << 34

// Checkpoint is the saved state of a Fit run, enough to continue it
// exactly: after resuming, the weights and history are bit-identical to an
// uninterrupted run with the same Threads.
//
// On disk a checkpoint is
//
//	"AEKITCKP"               8 bytes
//	version                  uint32, little-endian (CheckpointVersion)
//	payload length           uint64, little-endian
//	payload:
//	  metadata length        uint64, little-endian
//	  metadata               JSON of the exported fields below and the
//	                         run's state (ckPayload): sub-models listed,
//	                         not nested, floats as their bits, every
//	                         float32 array empty, their lengths listed
//	  values                 the arrays' values, float32 little-endian, in
//	                         the order of the lengths (weights, optimizer
//	                         slots, early stopping's best weights)
//	CRC-32 (IEEE) of payload uint32, little-endian
//
// Writing a checkpoint takes memory for the metadata (a few KB) and a 64
// KB buffer, not for the weights.
//
// ReadCheckpoint rejects other magic, versions, announced lengths beyond
// the data or not adding up, metadata that is not one JSON value of the
// fields it expects, sub-model lists that are not one tree, checksum
// mismatches and models that do not validate, with errors wrapping
// ErrCheckpoint. What it allocates grows in proportion to the data it has
// read: metadata is at most 16 MiB, of at most 16,384 JSON objects,
// 65,536 arrays and 524,288 elements, which decoding takes a small
// multiple of, plus a few MB.
//
// The exported fields describe the run; the state it continues from
// (optimizer slots, generator, partial epoch sums, early-stopping state)
// is kept unexported and is only read back by Fit.
type Checkpoint struct {
	// Model is the model with the weights at the checkpoint.
	Model *runtime.Model

	// Optimizer is the optimizer's name and OptimizerJSON its settings.
	Optimizer     string
	OptimizerJSON []byte

	// The run's settings (see Config).
	Loss            Loss
	Epochs          int
	BatchSize       int
	NoShuffle       bool
	Seed            uint64
	ValidationSplit float64

	// Epoch is the epoch to continue (0-based) and Batch the number of
	// its batches already done; 0 means the epoch starts afresh.
	Epoch, Batch int

	// History is the history up to the checkpoint.
	History History

	// Fingerprint identifies the training and validation data (rows and
	// a CRC-32 of their values).
	Fingerprint DataFingerprint

	state ckState
}

// ckState is the run state a checkpoint saves besides the weights.
type ckState struct {
	Slots         [][]float32 // optimizer state over all weights, layer order
	Iterations    int64
	ValN          int // rows of separate validation data
	LossSum       float64
	Samples       int
	Seconds       float64
	RNG           []byte // generator state at the start of Epoch
	ESBest        float64
	ESWait        int
	ESBestEpoch   int
	ESBestWeights []float32
}

// ckFile is what a checkpoint's metadata holds beside the model: the
// fields of Checkpoint and ckState, every float64 as its bits (ckF64).
// Shuffle is the negation of Checkpoint.NoShuffle, as the format has
// always had it.
type ckFile struct {
	Optimizer       string
	OptimizerJSON   []byte
	Slots           int // the optimizer's slots: their values follow the metadata
	Iterations      int64
	Loss            Loss
	Epochs          int
	BatchSize       int
	Shuffle         bool
	Seed            uint64
	ValidationSplit ckF64
	ValN            int
	Epoch, Batch    int
	LossSum         ckF64
	Samples         int
	Seconds         ckF64
	RNG             []byte
	History         ckHistory
	ESBest          ckF64
	ESWait          int
	ESBestEpoch     int
	ESBestWeights   []float32
	Fingerprint     DataFingerprint
}

// ckHistory is History with its floats as bits.
type ckHistory struct {
	Epoch                   []int
	Loss, ValLoss, Seconds  []ckF64
	StoppedEpoch, BestEpoch int
}

// ckF64 is a float64 that JSON holds as its IEEE 754 bits (a number), so
// that infinities and NaN (early stopping's initial best, a diverged
// validation loss) are kept as they are, to the bit.
type ckF64 float64

// MarshalJSON writes the bits of f as a JSON number.
func (f ckF64) MarshalJSON() ([]byte, error) {
	return strconv.AppendUint(nil, math.Float64bits(float64(f)), 10), nil
}

// UnmarshalJSON reads bits written by MarshalJSON.
func (f *ckF64) UnmarshalJSON(b []byte) error {
	u, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("float bits %.20q…: not an unsigned 64-bit integer", b)
	}
	*f = ckF64(math.Float64frombits(u))
	return nil
}

// floats returns a copy of s as another float64 type (nil for nil): a
// history's losses to and from ckF64.
func floats[T, U ~float64](s []T) []U {
	if s == nil {
		return nil
	}
	c := make([]U, len(s))
	for i, v := range s {
		c[i] = U(v)
	}
	return c
}

func (ck *Checkpoint) file() ckFile {
	s, h := &ck.state, &ck.History
	return ckFile{Optimizer: ck.Optimizer, OptimizerJSON: ck.OptimizerJSON, Slots: len(s.Slots), Iterations: s.Iterations,
		Loss: ck.Loss, Epochs: ck.Epochs, BatchSize: ck.BatchSize, Shuffle: !ck.NoShuffle, Seed: ck.Seed,
		ValidationSplit: ckF64(ck.ValidationSplit), ValN: s.ValN, Epoch: ck.Epoch, Batch: ck.Batch,
		LossSum: ckF64(s.LossSum), Samples: s.Samples, Seconds: ckF64(s.Seconds), RNG: s.RNG,
		History: ckHistory{Epoch: h.Epoch, Loss: floats[float64, ckF64](h.Loss), ValLoss: floats[float64, ckF64](h.ValLoss), Seconds: floats[float64, ckF64](h.Seconds),
			StoppedEpoch: h.StoppedEpoch, BestEpoch: h.BestEpoch},
		ESBest: ckF64(s.ESBest), ESWait: s.ESWait, ESBestEpoch: s.ESBestEpoch, ESBestWeights: s.ESBestWeights,
		Fingerprint: ck.Fingerprint}
}

func (f *ckFile) checkpoint() Checkpoint {
	h := &f.History
	return Checkpoint{Optimizer: f.Optimizer, OptimizerJSON: f.OptimizerJSON,
		Loss: f.Loss, Epochs: f.Epochs, BatchSize: f.BatchSize, NoShuffle: !f.Shuffle, Seed: f.Seed,
		ValidationSplit: float64(f.ValidationSplit), Epoch: f.Epoch, Batch: f.Batch,
		History: History{Epoch: h.Epoch, Loss: floats[ckF64, float64](h.Loss), ValLoss: floats[ckF64, float64](h.ValLoss), Seconds: floats[ckF64, float64](h.Seconds),
			StoppedEpoch: h.StoppedEpoch, BestEpoch: h.BestEpoch},
		Fingerprint: f.Fingerprint,
		state: ckState{Iterations: f.Iterations, ValN: f.ValN, LossSum: float64(f.LossSum),
			Samples: f.Samples, Seconds: float64(f.Seconds), RNG: f.RNG, ESBest: float64(f.ESBest), ESWait: f.ESWait,
			ESBestEpoch: f.ESBestEpoch, ESBestWeights: f.ESBestWeights}}
}

// DataFingerprint identifies a run's data.
type DataFingerprint struct {
	Rows, ValRows int
	CRC           uint32
}

// ckModel is a model in a checkpoint: runtime.Model's exported fields,
// so that the format does not depend on the runtime's unexported ones.
// A layer's sub-model is another entry of the payload's Models, not a
// field inside the layer, so the format's nesting is fixed.
type ckModel struct {
	Name, Class           string
	Input                 []int
	Layers                []ckLayer
	InputName, OutputName string
}

type ckLayer struct {
	Name, Class   string
	Type          runtime.Type
	In, Units     int
	Kernel, Bias  []float32
	Act           ckAct
	Rate          ckF64
	Shape         []int
	Sub           int // index of the sub-model in the payload's Models, 0 for none
	HasBias, Flat bool
	Reg           *ckReg
	Kind          *ckKind // an Other layer's kind (ckkind.go)
	Frozen        bool
}

// ckAct is runtime.Activation with its floats as bits.
type ckAct struct {
	Func                             uint8
	Alpha, Beta, Threshold, MaxValue uint32
	Capped, Approximate              bool
}

func toCkAct(a runtime.Activation) ckAct {
	return ckAct{Func: uint8(a.Func), Alpha: math.Float32bits(a.Alpha), Beta: math.Float32bits(a.Beta),
		Threshold: math.Float32bits(a.Threshold), MaxValue: math.Float32bits(a.MaxValue),
		Capped: a.Capped, Approximate: a.Approximate}
}

func (c ckAct) act() runtime.Activation {
	return runtime.Activation{Func: activation.Func(c.Func), Alpha: math.Float32frombits(c.Alpha), Beta: math.Float32frombits(c.Beta),
		Threshold: math.Float32frombits(c.Threshold), MaxValue: math.Float32frombits(c.MaxValue),
		Capped: c.Capped, Approximate: c.Approximate}
}

// ckReg is runtime.Regularizers with its floats as bits: L1 and L2 of
// the kernel, the bias and the activity.
type ckReg struct {
	Kernel, Bias, Activity [2]ckF64
	Unsupported            string
}

func toCkReg(r *runtime.Regularizers) *ckReg {
	if r == nil {
		return nil
	}
	p := func(g runtime.Regularizer) [2]ckF64 { return [2]ckF64{ckF64(g.L1), ckF64(g.L2)} }
	return &ckReg{Kernel: p(r.Kernel), Bias: p(r.Bias), Activity: p(r.Activity), Unsupported: r.Unsupported}
}

func (c *ckReg) reg() *runtime.Regularizers {
	if c == nil {
		return nil
	}
	p := func(g [2]ckF64) runtime.Regularizer { return runtime.Regularizer{L1: float64(g[0]), L2: float64(g[1])} }
	return &runtime.Regularizers{Kernel: p(c.Kernel), Bias: p(c.Bias), Activity: p(c.Activity), Unsupported: c.Unsupported}
}

// maxCkDepth bounds the nesting of sub-models a checkpoint may hold
// (Keras's nested encoder and decoder are 2 deep).
const maxCkDepth = 64

// toCk returns m and its sub-models as a checkpoint's Models: m first,
// each sub-model after the model that holds it.
func toCk(m *runtime.Model) ([]ckModel, error) {
	var models []ckModel
	var add func(m *runtime.Model) (int, error)
	add = func(m *runtime.Model) (int, error) {
		i := len(models)
		models = append(models, ckModel{Name: m.Name, Class: m.Class, Input: m.Input, InputName: m.InputName, OutputName: m.OutputName})
		layers := make([]ckLayer, 0, len(m.Layers))
		for _, l := range m.Layers {
			kind, err := kindToCk(l.Kind)
			if err != nil {
				return 0, fmt.Errorf("layer %q: %w", l.Name, err)
			}
			cl := ckLayer{Name: l.Name, Class: l.Class, Type: l.Type, In: l.In, Units: l.Units,
				Kernel: l.Kernel, Bias: l.Bias, HasBias: l.Bias != nil, Act: toCkAct(l.Act), Rate: ckF64(l.Rate),
				Shape: l.Shape, Flat: l.Shape == nil, Reg: toCkReg(l.Reg), Kind: kind, Frozen: l.Frozen}
			if l.Sub != nil {
				if cl.Sub, err = add(l.Sub); err != nil {
					return 0, err
				}
			}
			layers = append(layers, cl)
		}
		models[i].Layers = layers
		return i, nil
	}
	if _, err := add(m); err != nil {
		return nil, err
	}
	return models, nil
}

// checkCk checks that models, as read, form one tree rooted at models[0]:
// every sub-model index after its parent's and used once, every model
// used, nesting at most maxCkDepth.
func checkCk(models []ckModel) error {
	if len(models) == 0 {
		return fmt.Errorf("%w: no model", ErrCheckpoint)
	}
	depth := make([]int, len(models))
	used := make([]bool, len(models))
	used[0] = true
	for i, m := range models {
		for _, l := range m.Layers {
			if l.Sub == 0 {
				continue
			}
			if l.Sub <= i || l.Sub >= len(models) || used[l.Sub] {
				return fmt.Errorf("%w: layer %q: bad sub-model index %d", ErrCheckpoint, l.Name, l.Sub)
			}
			used[l.Sub] = true
			if depth[l.Sub] = depth[i] + 1; depth[l.Sub] > maxCkDepth {
				return fmt.Errorf("%w: sub-models nested more than %d deep", ErrCheckpoint, maxCkDepth)
			}
		}
	}
	for i, u := range used {
		if !u {
			return fmt.Errorf("%w: model %d is no layer's sub-model", ErrCheckpoint, i)
		}
	}
	return nil
}

// fromCk rebuilds models[i] with its sub-models (models as toCk returns
// them, or as checkCk accepted them).
func fromCk(models []ckModel, i int) *runtime.Model {
	c := &models[i]
	m := &runtime.Model{Name: c.Name, Class: c.Class, Input: c.Input, InputName: c.InputName, OutputName: c.OutputName}
	for _, cl := range c.Layers {
		l := &runtime.Layer{Name: cl.Name, Class: cl.Class, Type: cl.Type, In: cl.In, Units: cl.Units,
			Kernel: cl.Kernel, Act: cl.Act.act(), Rate: float64(cl.Rate), Shape: cl.Shape, Reg: cl.Reg.reg(), Frozen: cl.Frozen}
		if cl.HasBias {
			l.Bias = cl.Bias
			if l.Bias == nil {
				l.Bias = []float32{}
			}
		}
		if cl.Flat {
			l.Shape = nil
		} else if l.Shape == nil {
			l.Shape = []int{}
		}
		if cl.Sub != 0 {
			l.Sub = fromCk(models, cl.Sub)
		}
		if cl.Kind != nil {
			// A kind that cannot be rebuilt leaves the layer without
			// one: Validate and newNet refuse it.
			l.Kind, _ = kindFromCk(cl.Kind)
		}
		m.Layers = append(m.Layers, l)
	}
	return m
}

// cloneModel returns a deep copy of m.
func cloneModel(m *runtime.Model) (*runtime.Model, error) {
	c := runtime.Model{Name: m.Name, Class: m.Class, Input: append([]int(nil), m.Input...),
		InputName: m.InputName, OutputName: m.OutputName, Layers: make([]*runtime.Layer, len(m.Layers))}
	for i, l := range m.Layers {
		cl := *l
		cl.Kernel = append([]float32(nil), l.Kernel...)
		if l.Bias != nil {
			cl.Bias = append([]float32{}, l.Bias...)
		}
		if l.Shape != nil {
			cl.Shape = append([]int{}, l.Shape...)
		}
		if l.Reg != nil {
			r := *l.Reg
			cl.Reg = &r
		}
		var err error
		if cl.Kind, err = cloneKind(l.Kind); err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		if l.Sub != nil {
			if cl.Sub, err = cloneModel(l.Sub); err != nil {
				return nil, err
			}
		}
		c.Layers[i] = &cl
	}
	return &c, nil
}

// ckPayload is a checkpoint's metadata.
type ckPayload struct {
	Models []ckModel // the model, then its sub-models (see toCk)
	Ck     ckFile
	// Lens lists the lengths of the float32 arrays (see arrays) whose
	// values follow the metadata, their fields left empty.
	Lens []int

	slots [][]float32 // the optimizer's Ck.Slots slots, not in the JSON
}

// arrays calls f with each float32 array field of p, in the order the
// values follow the metadata: each model's layers in order (kernel, bias, the
// kind's parameters), the optimizer's slots, early stopping's best
// weights.
func (p *ckPayload) arrays(f func(*[]float32)) {
	for i := range p.Models {
		for j := range p.Models[i].Layers {
			l := &p.Models[i].Layers[j]
			f(&l.Kernel)
			f(&l.Bias)
			if l.Kind != nil {
				for k := range l.Kind.Params {
					f(&l.Kind.Params[k])
				}
			}
		}
	}
	for i := range p.slots {
		f(&p.slots[i])
	}
	f(&p.Ck.ESBestWeights)
}

// ckChunk is the number of values Write and ReadCheckpoint convert at a
// time.
const ckChunk = 16 << 10

// Write writes ck to w in the checkpoint format (CheckpointVersion). It
// keeps the metadata (a few KB) and a 64 KB buffer in memory besides ck: the
// weights go from where they are to w, ckChunk values at a time.
func (ck *Checkpoint) Write(w io.Writer) error {
	models, err := toCk(ck.Model)
	if err != nil {
		return fmt.Errorf("train: writing checkpoint: %w", err)
	}
	// The slots' list is ck's own: emptied (by arrays) in a copy.
	p := ckPayload{Models: models, Ck: ck.file(), slots: append([][]float32(nil), ck.state.Slots...)}
	if err := checkCk(p.Models); err != nil {
		return fmt.Errorf("train: writing checkpoint: %w", err)
	}
	var vals [][]float32
	total := 0
	p.arrays(func(s *[]float32) {
		vals = append(vals, *s)
		p.Lens = append(p.Lens, len(*s))
		total += len(*s)
		*s = nil
	})
	meta, err := json.Marshal(&p)
	if err != nil {
		return fmt.Errorf("train: encoding checkpoint: %w", err)
	}
	// What ReadCheckpoint would refuse is not written.
	if len(meta) > maxCkMeta {
		return fmt.Errorf("train: writing checkpoint: %w: %d bytes of metadata, above the limit of %d", ErrCheckpoint, len(meta), maxCkMeta)
	}
	if err := ckScan(meta); err != nil {
		return fmt.Errorf("train: writing checkpoint: %w", err)
	}
	var hdr [28]byte
	copy(hdr[:], checkpointMagic)
	binary.LittleEndian.PutUint32(hdr[8:], CheckpointVersion)
	binary.LittleEndian.PutUint64(hdr[12:], uint64(8+len(meta)+4*total))
	binary.LittleEndian.PutUint64(hdr[20:], uint64(len(meta)))
	if _, err := w.Write(hdr[:20]); err != nil {
		return err
	}
	sum := crc32.NewIEEE()
	pw := io.MultiWriter(w, sum)
	if _, err := pw.Write(hdr[20:]); err != nil {
		return err
	}
	if _, err := pw.Write(meta); err != nil {
		return err
	}
	buf := make([]byte, 4*ckChunk)
	for _, v := range vals {
		for len(v) > 0 {
			n := min(len(v), ckChunk)
			for i, x := range v[:n] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
			}
			if _, err := pw.Write(buf[:4*n]); err != nil {
				return err
			}
			v = v[n:]
		}
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, sum.Sum32()))
	return err
}

// ReadCheckpoint reads a checkpoint written by Write.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	var hdr [20]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCheckpoint, err)
	}
	if string(hdr[:8]) != checkpointMagic {
		return nil, fmt.Errorf("%w: not an aekit checkpoint (magic %q)", ErrCheckpoint, hdr[:8])
	}
	v := binary.LittleEndian.Uint32(hdr[8:])
	if v == 1 {
		return nil, fmt.Errorf("%w: version 1, written by an earlier aekit: this build reads version %d; resume the run with the aekit that wrote it, or train again", ErrCheckpoint, CheckpointVersion)
	}
	if v != CheckpointVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrCheckpoint, v, CheckpointVersion)
	}
	n := binary.LittleEndian.Uint64(hdr[12:])
	if n > maxCheckpointPayload {
		return nil, fmt.Errorf("%w: absurd payload length %d", ErrCheckpoint, n)
	}
	sum := crc32.NewIEEE()
	pr := &ckReader{r: io.TeeReader(io.LimitReader(r, int64(n)), sum), n: n}
	var p ckPayload
	if err := pr.read(&p); err != nil {
		return nil, err
	}
	var crc [4]byte
	if _, err := io.ReadFull(r, crc[:]); err != nil {
		return nil, fmt.Errorf("%w: truncated: missing checksum", ErrCheckpoint)
	}
	if got, want := sum.Sum32(), binary.LittleEndian.Uint32(crc[:]); got != want {
		return nil, fmt.Errorf("%w: checksum mismatch (corrupt file)", ErrCheckpoint)
	}
	if err := checkCk(p.Models); err != nil {
		return nil, err
	}
	ck := p.Ck.checkpoint()
	ck.state.Slots = p.slots
	ck.Model = fromCk(p.Models, 0)
	if err := ck.Model.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if _, err := ck.optimizer(); err != nil {
		return nil, err
	}
	return &ck, nil
}

// ckReader reads a checkpoint's payload of n bytes, counting down what is
// left of it.
type ckReader struct {
	r io.Reader
	n uint64 // bytes of the payload not read yet
}

// full reads len(b) bytes of the payload.
func (cr *ckReader) full(b []byte) error {
	if uint64(len(b)) > cr.n {
		return fmt.Errorf("%w: payload too short for its contents", ErrCheckpoint)
	}
	m, err := io.ReadFull(cr.r, b)
	cr.n -= uint64(m)
	if err != nil {
		return fmt.Errorf("%w: truncated: payload ends %d bytes early", ErrCheckpoint, cr.n)
	}
	return nil
}

// maxCkMeta bounds a checkpoint's metadata: the model's structure, the
// settings and the history, not the weights (a few KB for a run of 100
// epochs, about 70 bytes more an epoch).
const maxCkMeta = 16 << 20

// maxCkObjects, maxCkArrays and maxCkElems bound the JSON objects, arrays
// and commas (array elements and object members after the first) in a
// checkpoint's metadata: a layer takes up to 4 objects, 6 arrays and 60
// members, an epoch of history 4 elements; each costs up to a few hundred
// bytes decoded, whatever its size in the file ({} is 2 bytes, null 4).
// maxCkNumber bounds the length of a number (a float's bits take 20
// digits).
const (
	maxCkObjects = 1 << 14
	maxCkArrays  = 1 << 16
	maxCkElems   = 1 << 19
	maxCkNumber  = 64
)

// ckScan counts the objects, arrays and commas in the JSON b outside
// strings, and the length of its numbers, against the limits above,
// before encoding/json decodes it: what decoding allocates is then
// bounded by a small multiple of len(b) plus a few MB.
func ckScan(b []byte) error {
	objects, arrays, elems, number := 0, 0, 0, 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			if number++; number > maxCkNumber {
				return fmt.Errorf("%w: a number in the metadata longer than %d characters", ErrCheckpoint, maxCkNumber)
			}
			continue
		}
		number = 0
		switch c {
		case '"':
			inString = true
		case '{':
			objects++
		case '[':
			arrays++
		case ',':
			elems++
		}
	}
	if objects > maxCkObjects || arrays > maxCkArrays || elems > maxCkElems {
		return fmt.Errorf("%w: metadata with %d objects, %d arrays and %d commas, above the limits of %d, %d and %d",
			ErrCheckpoint, objects, arrays, elems, maxCkObjects, maxCkArrays, maxCkElems)
	}
	return nil
}

// meta decodes the next size bytes of the payload, JSON, into p. They are
// read into memory first, growing with what arrives, so that a header
// that lies about the length allocates no more than the data that is
// there. encoding/json allocates in proportion to its input, limits
// nesting (10,000 levels, checked before it decodes) and refuses bytes
// after the value; unknown fields are refused too.
func (cr *ckReader) meta(p *ckPayload, size uint64) error {
	if size > cr.n || size > maxCkMeta {
		return fmt.Errorf("%w: metadata length %d beyond the payload's %d bytes or the limit of %d", ErrCheckpoint, size, cr.n, maxCkMeta)
	}
	var buf bytes.Buffer
	m, err := io.CopyN(&buf, cr.r, int64(size))
	cr.n -= uint64(m)
	if err != nil {
		return fmt.Errorf("%w: truncated: payload has %d of %d bytes", ErrCheckpoint, m, size)
	}
	if err := ckScan(buf.Bytes()); err != nil {
		return err
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return fmt.Errorf("%w: decoding: %w", ErrCheckpoint, err)
	}
	if rest, _ := io.ReadAll(io.MultiReader(dec.Buffered(), &buf)); len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return fmt.Errorf("%w: %d bytes after the metadata", ErrCheckpoint, len(rest))
	}
	return nil
}

// read reads a payload into p: the metadata, then the values of the arrays it
// lists, which must fill the rest of the payload exactly.
func (cr *ckReader) read(p *ckPayload) error {
	var b [8]byte
	if err := cr.full(b[:]); err != nil {
		return err
	}
	if err := cr.meta(p, binary.LittleEndian.Uint64(b[:])); err != nil {
		return err
	}
	if p.Ck.Slots < 0 || p.Ck.Slots > len(p.Lens) {
		return fmt.Errorf("%w: %d optimizer slots for %d arrays", ErrCheckpoint, p.Ck.Slots, len(p.Lens))
	}
	p.slots = make([][]float32, p.Ck.Slots)
	arrays, inGob := 0, false
	p.arrays(func(s *[]float32) {
		arrays++
		inGob = inGob || len(*s) != 0
	})
	if inGob {
		return fmt.Errorf("%w: array values inside the metadata", ErrCheckpoint)
	}
	if arrays != len(p.Lens) {
		return fmt.Errorf("%w: %d array lengths for %d arrays", ErrCheckpoint, len(p.Lens), arrays)
	}
	var vals uint64 // values the lengths add up to, at most the payload's
	for _, l := range p.Lens {
		if l < 0 || uint64(l) > cr.n/4-vals {
			return fmt.Errorf("%w: array length %d beyond the payload", ErrCheckpoint, l)
		}
		vals += uint64(l)
	}
	if extra := cr.n - 4*vals; extra != 0 {
		return fmt.Errorf("%w: %d bytes after the arrays' values", ErrCheckpoint, extra)
	}
	buf := make([]byte, 4*ckChunk)
	var err error
	i := 0
	p.arrays(func(s *[]float32) {
		l := p.Lens[i]
		i++
		if err != nil || l == 0 {
			return
		}
		// Grown as the values arrive (the payload's length is what the
		// header says, not yet what the reader holds).
		v := make([]float32, 0, min(l, ckChunk))
		for len(v) < l {
			n := min(l-len(v), ckChunk)
			if err = cr.full(buf[:4*n]); err != nil {
				return
			}
			for j := range n {
				v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:])))
			}
		}
		*s = v
	})
	return err
}

// ReadCheckpointFile reads the checkpoint in the named file. A name that
// is not a regular file (a FIFO, a device) is refused before it is read.
func ReadCheckpointFile(name string) (*Checkpoint, error) {
	f, _, err := inputfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ck, err := ReadCheckpoint(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ck, nil
}

// WriteCheckpointFile writes ck to the named file atomically: to a
// temporary file in the same directory, then renamed.
func WriteCheckpointFile(name string, ck *Checkpoint) error {
	return atomicfile.Write(name, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := ck.Write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// optimizer rebuilds the checkpoint's optimizer.
func (ck *Checkpoint) optimizer() (Optimizer, error) {
	o, err := ParseOptimizer(ck.Optimizer, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := json.Unmarshal(ck.OptimizerJSON, o); err != nil {
		return nil, fmt.Errorf("%w: optimizer settings: %w", ErrCheckpoint, err)
	}
	return o, nil
}

// Config returns the configuration of the saved run with Resume set to
// ck, ready for Fit(ctx, ck.Model, ...). Callers may change Epochs,
// Threads, EarlyStopping, CheckpointPath and the callbacks; separate
// validation data must be given to Fit again if the run had it.
func (ck *Checkpoint) Config() Config {
	o, _ := ck.optimizer() // checked by ReadCheckpoint
	return Config{Optimizer: o, Loss: ck.Loss, Epochs: ck.Epochs, BatchSize: ck.BatchSize,
		NoShuffle: ck.NoShuffle, Seed: ck.Seed, ValidationSplit: ck.ValidationSplit, Resume: ck}
}

func newCheckpoint(m *runtime.Model, cfg *Config, slots [][]float32, h *History, st *runState, pcg *rand.PCG, fp DataFingerprint, valN int) *Checkpoint {
	oj, _ := json.Marshal(cfg.Optimizer)
	rng := st.rngAtEpoch
	if st.batch == 0 {
		rng, _ = pcg.MarshalBinary()
	}
	return &Checkpoint{
		Model: m, Optimizer: cfg.Optimizer.Name(), OptimizerJSON: oj,
		Loss: cfg.Loss, Epochs: cfg.Epochs, BatchSize: cfg.BatchSize, NoShuffle: cfg.NoShuffle, Seed: cfg.Seed,
		ValidationSplit: cfg.ValidationSplit, Epoch: st.epoch, Batch: st.batch, History: *h, Fingerprint: fp,
		state: ckState{Slots: slots, Iterations: st.iter, ValN: valN, LossSum: st.lossSum, Samples: st.samples,
			Seconds: st.seconds, RNG: rng, ESBest: st.es.Best, ESWait: st.es.Wait, ESBestEpoch: st.es.BestEpoch,
			ESBestWeights: st.es.BestWeights},
	}
}

// restore loads ck into a run being set up by Fit.
func (ck *Checkpoint) restore(cfg *Config, nt *net, slots [][]float32, h *History, st *runState, pcg *rand.PCG, fp DataFingerprint) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCheckpoint}, a...)...)
	}
	if ck.Optimizer != cfg.Optimizer.Name() {
		return bad("saved with optimizer %s, resumed with %s", ck.Optimizer, cfg.Optimizer.Name())
	}
	if oj, _ := json.Marshal(cfg.Optimizer); !bytes.Equal(oj, ck.OptimizerJSON) {
		return bad("optimizer settings differ: saved %s, resumed with %s", ck.OptimizerJSON, oj)
	}
	if ck.Loss != cfg.Loss || ck.BatchSize != cfg.BatchSize || ck.NoShuffle != cfg.NoShuffle || ck.Seed != cfg.Seed || ck.ValidationSplit != cfg.ValidationSplit {
		return bad("saved with loss %v, batch size %d, shuffle %v, seed %d, validation split %g; resumed with %v, %d, %v, %d, %g",
			ck.Loss, ck.BatchSize, !ck.NoShuffle, ck.Seed, ck.ValidationSplit, cfg.Loss, cfg.BatchSize, !cfg.NoShuffle, cfg.Seed, cfg.ValidationSplit)
	}
	if ck.Fingerprint != fp {
		return bad("saved with %d training and %d validation rows (CRC %08x), resumed with %d and %d (CRC %08x): not the same data",
			ck.Fingerprint.Rows, ck.Fingerprint.ValRows, ck.Fingerprint.CRC, fp.Rows, fp.ValRows, fp.CRC)
	}
	if ck.Epoch > cfg.Epochs || (ck.Epoch == cfg.Epochs && ck.Batch > 0) {
		return bad("it is at epoch %d, beyond epochs %d", ck.Epoch+1, cfg.Epochs)
	}
	// What the file says about the run's progress, against the data.
	batches := (fp.Rows + cfg.BatchSize - 1) / max(cfg.BatchSize, 1)
	hs := &ck.History
	switch st := &ck.state; {
	case ck.Epoch < 0 || ck.Batch < 0 || ck.Batch >= max(batches, 1):
		return bad("it is at epoch %d, batch %d, of %d batches an epoch", ck.Epoch+1, ck.Batch, batches)
	case st.Iterations < 0 || st.Samples < 0 || st.Samples > fp.Rows || st.ESWait < 0 || st.ESBestEpoch < -1:
		return bad("bad progress: %d updates, %d samples this epoch, early stopping waiting %d, best epoch %d", st.Iterations, st.Samples, st.ESWait, st.ESBestEpoch)
	case len(hs.Loss) != len(hs.Epoch) || len(hs.Seconds) != len(hs.Epoch) || (hs.ValLoss != nil && len(hs.ValLoss) != len(hs.Epoch)) || len(hs.Epoch) > ck.Epoch:
		return bad("its history of %d epochs (%d losses, %d validation losses, %d times) does not match epoch %d", len(hs.Epoch), len(hs.Loss), len(hs.ValLoss), len(hs.Seconds), ck.Epoch+1)
	case hs.StoppedEpoch < -1 || hs.BestEpoch < -1:
		return bad("bad history: stopped at epoch %d, best epoch %d", hs.StoppedEpoch, hs.BestEpoch)
	}
	// Weights, layer by layer.
	var src [][]float32
	ck.Model.Walk(func(_ []string, l *runtime.Layer) {
		if l.Type == runtime.Dense {
			src = append(src, l.Kernel, l.Bias)
		}
	})
	i := 0
	for _, o := range nt.ops {
		if !o.dense {
			continue
		}
		if i+1 >= len(src) || len(src[i]) != len(o.w) || len(src[i+1]) != len(o.b) {
			return bad("its model's layers differ from the model being trained (at layer %q)", o.layer.Name)
		}
		if &src[i][0] != &o.w[0] {
			copy(o.w, src[i])
			copy(o.b, src[i+1])
		}
		i += 2
	}
	if i != len(src) {
		return bad("its model has %d Dense layers, the model being trained %d", len(src)/2, i/2)
	}
	if err := restoreKinds(ck.Model, nt); err != nil {
		return bad("%v", err)
	}
	if len(ck.state.Slots) != len(slots) {
		return bad("%d optimizer slots, want %d", len(ck.state.Slots), len(slots))
	}
	for j, s := range ck.state.Slots {
		if len(s) != len(slots[j]) {
			return bad("optimizer slot %d has %d values, want %d", j, len(s), len(slots[j]))
		}
		copy(slots[j], s)
	}
	if err := pcg.UnmarshalBinary(ck.state.RNG); err != nil {
		return bad("generator state: %v", err)
	}
	if ck.state.ESBestWeights != nil && len(ck.state.ESBestWeights) != len(nt.params) {
		return bad("early-stopping weights have %d values, want %d", len(ck.state.ESBestWeights), len(nt.params))
	}
	*h = ck.History
	h.Epoch = append([]int(nil), h.Epoch...)
	h.Loss = append([]float64(nil), h.Loss...)
	h.ValLoss = append([]float64(nil), h.ValLoss...)
	h.Seconds = append([]float64(nil), h.Seconds...)
	*st = runState{epoch: ck.Epoch, batch: ck.Batch, iter: ck.state.Iterations, lossSum: ck.state.LossSum, samples: ck.state.Samples,
		seconds: ck.state.Seconds, rngAtEpoch: ck.state.RNG,
		es: esState{Best: ck.state.ESBest, Wait: ck.state.ESWait, BestEpoch: ck.state.ESBestEpoch, BestWeights: append([]float32(nil), ck.state.ESBestWeights...)}}
	if ck.state.ESBestWeights == nil {
		st.es.BestWeights = nil
	}
	if math.IsNaN(st.es.Best) {
		st.es.Best = math.Inf(1)
	}
	return nil
}

// fingerprint identifies the data of a run: the CRC-32 of its training
// inputs and targets and its validation inputs and targets, as
// little-endian float32, read in chunks.
func (r *run) fingerprint() (DataFingerprint, error) {
	h := crc32.NewIEEE()
	var buf [4096]byte
	var sc scanner
	parts := []struct {
		d      Data
		lo, hi int
	}{{r.x, 0, r.nTrain}, {r.y, 0, r.nTrain}, {r.vx, r.vOff, r.vOff + r.nv}, {r.vy, r.vOff, r.vOff + r.nv}}
	for _, p := range parts {
		if p.d == nil || p.hi <= p.lo {
			continue
		}
		err := sc.scan(p.d, p.lo, p.hi, func(_ int, c []float32) bool {
			if littleEndian {
				h.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c))), 4*len(c)))
				return true
			}
			for len(c) > 0 {
				k := min(len(c), len(buf)/4)
				for i, v := range c[:k] {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
				h.Write(buf[:4*k])
				c = c[k:]
			}
			return true
		})
		if err != nil {
			return DataFingerprint{}, err
		}
	}
	return DataFingerprint{Rows: r.nTrain, ValRows: r.nv, CRC: h.Sum32()}, nil
}

// littleEndian is set on hosts that store a float32 as its little-endian
// bytes, so that fingerprint can hash data in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
