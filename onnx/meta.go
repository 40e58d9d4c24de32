package onnx

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/aekit/aekit/internal/limits"
	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/internal/tolerance"
	"github.com/aekit/aekit/runtime"
)

// Metadata keys (ModelProto.metadata_props) written by this package.
// ONNX Runtime and other consumers ignore them.
const (
	// MetaModel holds the layer structure as JSON: nested models, layer
	// classes and folded Identity layers, which Read uses to restore the
	// model's shape.
	MetaModel = "aekit.model"
	// MetaCheckShape holds "n=N;input=D1xD2…;output=D1x…": the number of
	// self-check samples and the shape of one input and output sample.
	MetaCheckShape = "aekit.check.shape"
	// MetaCheckInput and MetaCheckOutput hold the self-check inputs and the
	// outputs aekit computed for them: float32 little-endian, row-major,
	// base64 (standard encoding with padding).
	MetaCheckInput  = "aekit.check.input"
	MetaCheckOutput = "aekit.check.output"
)

// structModel and structLayer record a model's layer tree in MetaModel.
type structModel struct {
	Name   string        `json:"name"`
	Class  string        `json:"class,omitempty"`
	Input  []int         `json:"input"`
	Layers []structLayer `json:"layers"`
}

type structLayer struct {
	Name  string       `json:"name"`
	Type  string       `json:"type"`
	Class string       `json:"class,omitempty"`
	Rate  float64      `json:"rate,omitempty"`
	Model *structModel `json:"model,omitempty"`
}

// structure records m's tree, naming unnamed layers type_N.
func (b *builder) structure(m *runtime.Model, gen *int) *structModel {
	st := &structModel{Name: m.Name, Class: m.Class, Input: m.Input}
	for _, l := range m.Layers {
		name := l.Name
		if name == "" {
			name = fmt.Sprintf("%s_%d", strings.ToLower(l.Type.String()), *gen)
			*gen++
		}
		sl := structLayer{Name: name, Type: l.Type.String(), Class: l.Class, Rate: l.Rate}
		if l.Type == runtime.SubModel {
			sl.Model = b.structure(l.Sub, gen)
		}
		st.Layers = append(st.Layers, sl)
	}
	return st
}

func (st *structModel) marshal() (string, error) {
	b, err := json.Marshal(st)
	return string(b), err
}

// CheckData is the self-check an aekit-written model carries: N input
// samples and the outputs aekit computed for them when it wrote the file.
type CheckData struct {
	// N is the number of samples.
	N int
	// InputShape and OutputShape are the shapes of one sample.
	InputShape, OutputShape []int
	// Input holds N·prod(InputShape) values, Output N·prod(OutputShape).
	Input, Output []float32
}

func encodeF32(v []float32) string {
	return base64.StdEncoding.EncodeToString(f32Bytes(v))
}

func decodeF32(s string) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of float32 values", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

func dimsString(d []int) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "x")
}

// maxCheckValues bounds the values per sample of self-check shapes.
const maxCheckValues = 1 << 24

func parseDims(s string) ([]int, error) {
	var d []int
	p := 1
	for _, f := range strings.Split(s, "x") {
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 || v > maxCheckValues {
			return nil, fmt.Errorf("bad dimension %q", limits.Truncate(f, 40))
		}
		if p *= v; p > maxCheckValues { // both ≤ 2²⁴: no overflow
			return nil, fmt.Errorf("shape %s has more than %d values", limits.Truncate(s, 40), maxCheckValues)
		}
		d = append(d, v)
	}
	return d, nil
}

// checkProps runs m on n random samples and returns the metadata entries
// recording them.
func checkProps(m *runtime.Model, n int, seed uint64) ([]*pb.StringStringEntryProto, error) {
	r := rand.New(rand.NewPCG(seed, 0x61656b6974))
	x := make([]float32, n*m.InputWidth())
	for i := range x {
		x[i] = r.Float32()
	}
	y, err := m.Predict(nil, x)
	if err != nil {
		return nil, fmt.Errorf("%w: self-check: %w", ErrExport, err)
	}
	shape := fmt.Sprintf("n=%d;input=%s;output=%s", n, dimsString(m.Input), dimsString(m.OutputShape()))
	return []*pb.StringStringEntryProto{
		{Key: MetaCheckShape, Value: shape},
		{Key: MetaCheckInput, Value: encodeF32(x)},
		{Key: MetaCheckOutput, Value: encodeF32(y)},
	}, nil
}

// parseCheck decodes the self-check entries of props; it returns nil, nil
// when there are none.
func parseCheck(props map[string]string) (*CheckData, error) {
	shape, ok := props[MetaCheckShape]
	if !ok {
		return nil, nil
	}
	c := &CheckData{}
	for _, f := range strings.Split(shape, ";") {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "n":
			c.N, err = strconv.Atoi(v)
			if err == nil && (c.N <= 0 || c.N > 1<<20) {
				err = fmt.Errorf("bad sample count %d", c.N)
			}
		case "input":
			c.InputShape, err = parseDims(v)
		case "output":
			c.OutputShape, err = parseDims(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: metadata %s=%q: %v", ErrFormat, MetaCheckShape, limits.Truncate(shape, 80), err)
		}
	}
	if c.N == 0 || c.InputShape == nil || c.OutputShape == nil {
		return nil, fmt.Errorf("%w: metadata %s=%q lacks n, input or output", ErrFormat, MetaCheckShape, limits.Truncate(shape, 80))
	}
	var err error
	if c.Input, err = decodeF32(props[MetaCheckInput]); err != nil {
		return nil, fmt.Errorf("%w: metadata %s: %v", ErrFormat, MetaCheckInput, err)
	}
	if c.Output, err = decodeF32(props[MetaCheckOutput]); err != nil {
		return nil, fmt.Errorf("%w: metadata %s: %v", ErrFormat, MetaCheckOutput, err)
	}
	// N ≤ 2²⁰ and prod ≤ 2²⁴: the products do not overflow.
	if w := prod(c.InputShape); len(c.Input) != c.N*w {
		return nil, fmt.Errorf("%w: metadata %s has %d values, want %d×%d", ErrFormat, MetaCheckInput, len(c.Input), c.N, w)
	}
	if w := prod(c.OutputShape); len(c.Output) != c.N*w {
		return nil, fmt.Errorf("%w: metadata %s has %d values, want %d×%d", ErrFormat, MetaCheckOutput, len(c.Output), c.N, w)
	}
	return c, nil
}

func prod(d []int) int {
	p := 1
	for _, v := range d {
		p *= v
	}
	return p
}

// SelfCheckDataFor returns the self-check inputs x (n rows) and the
// outputs want recorded for them in the Info of a model Read returned, for
// running the model m on them. It returns an error wrapping ErrNoCheck if
// the file carries none, ErrFormat if its check data is malformed, and
// ErrCheck when the data's widths are not m's input and output widths (a
// file whose metadata disagrees with its graph).
func SelfCheckDataFor(m *runtime.Model, info *Info) (x, want []float32, n int, err error) {
	switch {
	case info == nil:
		return nil, nil, 0, ErrNoCheck
	case info.checkErr != nil:
		return nil, nil, 0, info.checkErr
	case info.Check == nil:
		return nil, nil, 0, fmt.Errorf("%w (producer %q)", ErrNoCheck, info.Producer)
	}
	c := info.Check
	x, want, n = c.Input, c.Output, c.N
	if m.InputWidth() != len(x)/n || m.OutputWidth() != len(want)/n {
		return nil, nil, 0, fmt.Errorf("%w: check data is %d→%d values per sample, model is %d→%d",
			ErrCheck, len(x)/n, len(want)/n, m.InputWidth(), m.OutputWidth())
	}
	return x, want, n, nil
}

// Default self-check tolerances: SelfCheck accepts |got−want| ≤
// CheckATol + CheckRTol·|want|.
const (
	CheckATol = 1e-6
	CheckRTol = 1e-5
)

// CheckReport is the outcome of SelfCheck: aekit's one output comparison
// (internal/tolerance): NaN matches only NaN, an infinity only the same
// infinity, finite values within CheckATol + CheckRTol·|want|.
type CheckReport struct {
	// N is the number of samples run, Values the number of outputs
	// compared.
	N, Values int
	// MaxAbs is the largest |got−want| over finite pairs; MaxRel the largest |got−want|/|want|
	// over finite pairs with |want| > CheckATol; Normwise is
	// max|got−want| / max|want|.
	MaxAbs, MaxRel, Normwise float64
	// Bad counts the outputs outside the tolerance; Worst is the index
	// (sample·width + output) of the one furthest outside it, -1 if none.
	Bad, Worst int
}

// String summarises r, e.g. "3 samples, 2352 values: max |Δ| 0, max rel 0".
func (r *CheckReport) String() string {
	s := fmt.Sprintf("%d samples, %d values: max |Δ| %.3g, max rel %.3g", r.N, r.Values, r.MaxAbs, r.MaxRel)
	if r.Bad > 0 {
		s += fmt.Sprintf(", %d outside tolerance", r.Bad)
	}
	return s
}

// SelfCheck runs m on the self-check inputs recorded in info (from Read)
// and compares its outputs with the recorded ones within CheckATol +
// CheckRTol·|want|. It returns the report and, if any output is outside
// the tolerance, an error wrapping ErrCheck; an error wrapping ErrNoCheck
// if the file carries no check data.
func SelfCheck(m *runtime.Model, info *Info) (*CheckReport, error) {
	x, want, n, err := SelfCheckDataFor(m, info)
	if err != nil {
		return nil, err
	}
	got, err := m.Predict(nil, x)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheck, err)
	}
	c := tolerance.Compare(got, want, CheckATol, CheckRTol)
	r := &CheckReport{N: n, Values: c.Values, MaxAbs: c.MaxAbs, MaxRel: c.MaxRel, Normwise: c.Normwise,
		Bad: c.Bad, Worst: c.Worst}
	if r.Bad > 0 {
		return r, fmt.Errorf("%w: %s", ErrCheck, r)
	}
	return r, nil
}
