package serve

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Errors of request decoding, mapped to protocol status codes.
var (
	// ErrInvalid reports a malformed request or one the model cannot
	// take (a tensor's name, type, shape or data): HTTP 400, gRPC
	// INVALID_ARGUMENT. Messages name the tensor.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound reports a request for a model or version the server
	// does not serve: HTTP 404, gRPC NOT_FOUND.
	ErrNotFound = errors.New("not found")
)

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

// inferRequest is an inference request decoded from either protocol,
// before it is checked against the model.
type inferRequest struct {
	id      string
	inputs  []inTensor
	outputs []string // outputs asked for; none means the model's output
}

// inTensor is one input tensor: its data is either decoded values (f32)
// or raw little-endian bytes (raw, when raw is non-nil).
type inTensor struct {
	name, datatype string
	shape          []int64
	f32            []float32
	raw            []byte
	hasData        bool
}

// outTensor is one output of an answer.
type outTensor struct {
	name, datatype string
	shape          []int64
	f32            []float32 // FP32 outputs
	bools          []bool    // BOOL outputs
}

// rowsOf checks the shape of input t against the model: [n, dims...]
// with n in [1, maxRows] and dims holding the model's input width, and
// returns n.
func rowsOf(t *inTensor, mo *model, maxRows int) (int, error) {
	if len(t.shape) < 1 {
		return 0, invalidf("input %q: shape %v has no batch dimension (want [n, %s])", t.name, t.shape, dims(mo.inShape))
	}
	n := t.shape[0]
	if n < 1 || n > int64(maxRows) {
		return 0, invalidf("input %q: shape %v: %d rows, want 1 to %d", t.name, t.shape, n, maxRows)
	}
	w := int64(1)
	for _, d := range t.shape[1:] {
		if d < 0 || d > math.MaxInt32 {
			return 0, invalidf("input %q: shape %v has a bad dimension %d", t.name, t.shape, d)
		}
		w *= d
		if w > math.MaxInt32 {
			return 0, invalidf("input %q: shape %v is too large", t.name, t.shape)
		}
	}
	if w != int64(mo.inW) {
		return 0, invalidf("input %q: shape %v, want [n, %s]", t.name, t.shape, dims(mo.inShape))
	}
	return int(n), nil
}

func dims(s []int) string {
	b := []byte{}
	for i, d := range s {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return string(b)
}

// prepare checks req against the model and returns its job (rows
// decoded) and the outputs to answer with, in the order asked.
func prepare(req *inferRequest, mo *model, maxRows int) (*job, []string, error) {
	if len(req.inputs) != 1 {
		return nil, nil, invalidf("%d inputs, the model takes one: %q", len(req.inputs), mo.in)
	}
	t := &req.inputs[0]
	if t.name != mo.in {
		return nil, nil, invalidf("unknown input %q: the model's input is %q", t.name, mo.in)
	}
	if t.datatype != "FP32" {
		return nil, nil, invalidf("input %q: datatype %q, the model takes FP32", t.name, t.datatype)
	}
	n, err := rowsOf(t, mo, maxRows)
	if err != nil {
		return nil, nil, err
	}
	want := n * mo.inW
	if !t.hasData {
		return nil, nil, invalidf("input %q: no data", t.name)
	}
	x := t.f32
	if t.raw != nil {
		if len(t.raw) != 4*want {
			return nil, nil, invalidf("input %q: %d bytes of data, shape %v takes %d", t.name, len(t.raw), t.shape, 4*want)
		}
		x = decodeFP32(make([]float32, want), t.raw)
	} else if len(x) != want {
		return nil, nil, invalidf("input %q: %d values, shape %v takes %d", t.name, len(x), t.shape, want)
	}
	outs := req.outputs
	if len(outs) == 0 {
		outs = []string{mo.out}
	}
	j := &job{x: x, n: n}
	seen := map[string]bool{}
	for _, o := range outs {
		if seen[o] {
			return nil, nil, invalidf("output %q asked for twice", o)
		}
		seen[o] = true
		switch {
		case o == mo.out:
		case o == ScoreOutput && mo.canScore:
			j.wantScore = true
		case o == AnomalyOutput && mo.canScore && mo.threshold != nil:
			j.wantScore = true
		default:
			return nil, nil, invalidf("unknown output %q: the model's outputs are %q", o, outputNames(mo))
		}
	}
	return j, outs, nil
}

// outputNames lists the outputs a model answers with.
func outputNames(mo *model) []string {
	o := []string{mo.out}
	if mo.canScore {
		o = append(o, ScoreOutput)
		if mo.threshold != nil {
			o = append(o, AnomalyOutput)
		}
	}
	return o
}

// answer builds the output tensors of a job that has run.
func answer(j *job, mo *model, outs []string) []outTensor {
	ts := make([]outTensor, 0, len(outs))
	for _, o := range outs {
		switch o {
		case mo.out:
			shape := make([]int64, 0, 1+len(mo.outShape))
			shape = append(shape, int64(j.n))
			for _, d := range mo.outShape {
				shape = append(shape, int64(d))
			}
			ts = append(ts, outTensor{name: o, datatype: "FP32", shape: shape, f32: j.y})
		case ScoreOutput:
			ts = append(ts, outTensor{name: o, datatype: "FP32", shape: []int64{int64(j.n)}, f32: j.scores})
		case AnomalyOutput:
			b := make([]bool, j.n)
			for i, s := range j.scores {
				b[i] = mo.threshold.Anomalous(s)
			}
			ts = append(ts, outTensor{name: o, datatype: "BOOL", shape: []int64{int64(j.n)}, bools: b})
		}
	}
	return ts
}

// echo fills a job's outputs without running the model (Config.Echo):
// the input copied into the output's width (zeros past it), scores zero.
func echo(j *job, mo *model) {
	j.y = make([]float32, j.n*mo.outW)
	if mo.inW == mo.outW {
		copy(j.y, j.x)
	}
	if j.wantScore {
		j.scores = make([]float32, j.n)
	}
}

// decodeFP32 decodes little-endian float32 values from b into dst.
func decodeFP32(dst []float32, b []byte) []float32 {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return dst
}

// appendRaw appends t's values as raw little-endian bytes (BOOL: one
// byte each).
func appendRaw(b []byte, t *outTensor) []byte {
	if t.datatype == "BOOL" {
		for _, v := range t.bools {
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		return b
	}
	for _, v := range t.f32 {
		u := math.Float32bits(v)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// rawSize returns the number of bytes appendRaw appends.
func rawSize(t *outTensor) int {
	if t.datatype == "BOOL" {
		return len(t.bools)
	}
	return 4 * len(t.f32)
}

// parseNumbers decodes a tensor's JSON data into dst, which must be
// filled exactly: either a flat array of numbers (row-major), or arrays
// nested exactly as shape (a dimension of d is an array of d elements),
// as the protocol allows; ragged or mixed nesting is refused. It reads
// nothing but arrays, numbers, commas and white space; the nesting is
// bounded by maxDepth.
func parseNumbers(dst []float32, b []byte, shape []int64) error {
	const maxDepth = 32
	i, depth, n := 0, 0, 0
	var count [maxDepth + 1]int64 // elements seen in the open array at each depth
	nested := false               // decided by the outer array's first element
	expectValue := true           // a value or '[' may come next (after '[' or ',')
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	// element counts one element of the array open at depth and checks
	// it against the shape when nested.
	element := func(array bool) error {
		count[depth]++
		if !nested {
			if array {
				return errors.New("data: an array inside flat data (nest every element as the shape, or none)")
			}
			return nil
		}
		switch {
		case depth > len(shape):
			return fmt.Errorf("data: arrays nested deeper than the shape %v", shape)
		case count[depth] > shape[depth-1]:
			return fmt.Errorf("data: more than %d elements at depth %d, the shape is %v", shape[depth-1], depth, shape)
		case array && depth == len(shape):
			return fmt.Errorf("data: arrays nested deeper than the shape %v", shape)
		case !array && depth < len(shape):
			return fmt.Errorf("data: a number at depth %d, where the shape %v wants an array", depth, shape)
		}
		return nil
	}
	skip()
	if i >= len(b) || b[i] != '[' {
		return errors.New("data is not a JSON array")
	}
	for {
		skip()
		if i >= len(b) {
			return errors.New("data: unexpected end of the array")
		}
		c := b[i]
		switch {
		case c == '[':
			if !expectValue {
				return fmt.Errorf("data: unexpected '[' at byte %d", i)
			}
			if depth == 1 && count[1] == 0 {
				nested = true
			}
			if depth > 0 {
				if err := element(true); err != nil {
					return err
				}
			}
			depth++
			if depth > maxDepth {
				return fmt.Errorf("data: arrays nested deeper than %d", maxDepth)
			}
			count[depth] = 0
			i++
		case c == ']':
			// "[]" is allowed (expectValue after '['), "[1,]" is not.
			if expectValue && !isOpenBefore(b, i) {
				return fmt.Errorf("data: unexpected ']' at byte %d", i)
			}
			if nested && depth <= len(shape) && count[depth] != shape[depth-1] {
				return fmt.Errorf("data: %d elements at depth %d, the shape %v wants %d", count[depth], depth, shape, shape[depth-1])
			}
			depth--
			i++
			expectValue = false
			if depth == 0 {
				skip()
				if i != len(b) {
					return fmt.Errorf("data: unexpected byte at %d after the array", i)
				}
				if n != len(dst) {
					return fmt.Errorf("%d values, the shape takes %d", n, len(dst))
				}
				return nil
			}
		case c == ',':
			if expectValue {
				return fmt.Errorf("data: unexpected ',' at byte %d", i)
			}
			expectValue = true
			i++
		case c == '-' || (c >= '0' && c <= '9'):
			if !expectValue {
				return fmt.Errorf("data: missing ',' at byte %d", i)
			}
			if err := element(false); err != nil {
				return err
			}
			j := i + 1
			for j < len(b) && (b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || (b[j] >= '0' && b[j] <= '9')) {
				j++
			}
			if n >= len(dst) {
				return fmt.Errorf("more values than the shape's %d", len(dst))
			}
			v, err := strconv.ParseFloat(string(b[i:j]), 32)
			switch {
			case errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0):
				// Beyond float32: not the value the client wrote
				// (one too small for float32 rounds to zero).
				return fmt.Errorf("data: number %q is beyond the float32 range", limit(b[i:j]))
			case err != nil && !errors.Is(err, strconv.ErrRange):
				return fmt.Errorf("data: bad number %q", limit(b[i:j]))
			}
			dst[n] = float32(v)
			n++
			i = j
			expectValue = false
		default:
			return fmt.Errorf("data: unexpected %q at byte %d (only numbers are FP32 data)", rune(c), i)
		}
	}
}

// isOpenBefore reports whether the last non-space byte before i is '['.
func isOpenBefore(b []byte, i int) bool {
	for k := i - 1; k >= 0; k-- {
		switch b[k] {
		case ' ', '\t', '\n', '\r':
			continue
		case '[':
			return true
		}
		return false
	}
	return false
}

// limit shortens a token quoted in an error message.
func limit(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// appendJSONFloat appends v as a JSON number, the shortest decimal that
// reads back as the same float32; NaN and ±Inf as NaN, Infinity and
// -Infinity (as Python's json module reads and writes them).
func appendJSONFloat(b []byte, v float32) []byte {
	switch {
	case v != v:
		return append(b, "NaN"...)
	case math.IsInf(float64(v), 1):
		return append(b, "Infinity"...)
	case math.IsInf(float64(v), -1):
		return append(b, "-Infinity"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}
