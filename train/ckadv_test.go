package train

// Adversarial tests of ReadCheckpoint (format version 2, JSON metadata):
// crafted payloads with a valid header and CRC around them, reaching the
// JSON decoder, the sub-model list checks, the array lengths, the kinds
// and, through a resumed Fit, the run state.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aekit/aekit/runtime"
)

// advV2 returns a version 2 checkpoint of the metadata meta followed by
// vals bytes, with a valid header and CRC.
func advV2(meta, vals []byte) []byte {
	pl := binary.LittleEndian.AppendUint64(nil, uint64(len(meta)))
	pl = append(pl, meta...)
	return wrapPayload(CheckpointVersion, append(pl, vals...))
}

// advJSON returns the JSON of v.
func advJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// advAlloc returns the bytes allocated while f runs.
func advAlloc(f func()) uint64 {
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	f()
	goruntime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// advRead reads b, turning a panic into an error that wraps neither
// ErrCheckpoint nor ErrConfig.
func advRead(b []byte) (ck *Checkpoint, err error) {
	defer func() {
		if r := recover(); r != nil {
			ck, err = nil, fmt.Errorf("PANIC: %v", r)
		}
	}()
	return ReadCheckpoint(bytes.NewReader(b))
}

// advLimit is the allocation allowed for reading n bytes: 16 times the
// input and 1 MiB.
func advLimit(n int) uint64 { return 1<<20 + 16*uint64(n) }

// advErr returns the text of err, cut to 300 bytes.
func advErr(err error) string {
	s := fmt.Sprint(err)
	if len(s) > 300 {
		s = s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// advReject requires ReadCheckpoint to refuse b with ErrCheckpoint,
// without panicking, and to allocate at most limit bytes doing it. It
// returns what was allocated.
func advReject(t *testing.T, name string, b []byte, limit uint64) uint64 {
	t.Helper()
	var err error
	alloc := advAlloc(func() { _, err = advRead(b) })
	if err == nil {
		t.Errorf("%s: accepted", name)
	} else if !errors.Is(err, ErrCheckpoint) {
		t.Errorf("%s: %s, want ErrCheckpoint", name, advErr(err))
	}
	if alloc > limit {
		t.Errorf("%s: allocated %d bytes for %d bytes of input, limit %d (%s)", name, alloc, len(b), limit, advErr(err))
	}
	return alloc
}

// advSplit returns the metadata and the values of the checkpoint b.
func advSplit(t *testing.T, b []byte) (meta, vals []byte) {
	t.Helper()
	pl := b[20 : len(b)-4]
	ml := binary.LittleEndian.Uint64(pl)
	return pl[8 : 8+ml], pl[8+ml:]
}

// advSmall returns a small valid checkpoint (a 6-3-6 model with encoder
// and decoder sub-models, Adam's slots, early stopping's best weights),
// its payload with the arrays emptied and Lens set, and the values that
// follow the metadata.
func advSmall(t *testing.T) (*Checkpoint, ckPayload, []byte) {
	t.Helper()
	ck := adamCheckpoint(t, 6, "3:relu|6:sigmoid", 1, 4, &History{Epoch: []int{0}, Loss: []float64{0.5}})
	var buf bytes.Buffer
	if err := ck.Write(&buf); err != nil {
		t.Fatal(err)
	}
	meta, vals := advSplit(t, buf.Bytes())
	var p ckPayload
	if err := json.Unmarshal(meta, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Models) < 3 {
		t.Fatalf("%d models, want the model and two sub-models", len(p.Models))
	}
	return ck, p, vals
}

// advClone returns a copy of models with their own layer and kind
// parameter lists.
func advClone(models []ckModel) []ckModel {
	c := append([]ckModel(nil), models...)
	for i := range c {
		c[i].Layers = append([]ckLayer(nil), c[i].Layers...)
		for j := range c[i].Layers {
			if k := c[i].Layers[j].Kind; k != nil {
				kc := *k
				kc.Params = append([][]float32(nil), k.Params...)
				c[i].Layers[j].Kind = &kc
			}
		}
	}
	return c
}

// advSplitPayload returns the metadata of p as Write would write it (the
// arrays emptied, their lengths in Lens) and the values. p is not
// changed.
func advSplitPayload(t *testing.T, p ckPayload) (meta, vals []byte) {
	t.Helper()
	p.Lens = nil
	p.Models = advClone(p.Models)
	p.slots = append([][]float32(nil), p.slots...)
	p.arrays(func(s *[]float32) {
		p.Lens = append(p.Lens, len(*s))
		for _, v := range *s {
			vals = binary.LittleEndian.AppendUint32(vals, math.Float32bits(v))
		}
		*s = nil
	})
	return advJSON(t, &p), vals
}

// advV2Of returns the version 2 checkpoint of p as Write would write it.
func advV2Of(t *testing.T, p ckPayload) []byte {
	t.Helper()
	return advV2(advSplitPayload(t, p))
}

// TestCheckpointAdvLens checks payloads whose metadata lists lying array
// lengths, with a valid header and CRC around them.
func TestCheckpointAdvLens(t *testing.T) {
	_, p, vals := advSmall(t)
	if _, err := advRead(advV2(advJSON(t, &p), vals)); err != nil {
		t.Fatalf("re-encoded payload: %v", err)
	}
	n := len(p.Lens)
	withLens := func(f func(l []int) []int) []byte {
		q := p
		q.Lens = f(append([]int(nil), p.Lens...))
		return advJSON(t, &q)
	}
	first := 0 // the first array with values
	for p.Lens[first] == 0 {
		first++
	}
	cases := map[string][]byte{
		"negative": withLens(func(l []int) []int { l[first] = -1; l[first+1] += l[first] + 1; return l }),
		"negative balanced": withLens(func(l []int) []int {
			l[first], l[first+1] = l[first]+l[first+1]+5, -5
			return l
		}),
		"min int": withLens(func(l []int) []int { l[0] = math.MinInt; return l }),
		"max int": withLens(func(l []int) []int { l[0] = math.MaxInt; return l }),
		"2^62 x4 wraps": withLens(func(l []int) []int {
			l[0], l[1], l[2], l[3] = 1<<62, 1<<62, 1<<62, 1<<62
			return l
		}),
		"2^61 x8 wraps": withLens(func(l []int) []int {
			for i := range 8 {
				l[i] = 1 << 61
			}
			return l
		}),
		"one short": withLens(func(l []int) []int { return l[:n-1] }),
		"one extra": withLens(func(l []int) []int { return append(l, 0) }),
		"none":      withLens(func(l []int) []int { return nil }),
		"shifted": withLens(func(l []int) []int {
			l[first], l[first+1] = l[first]-1, l[first+1]+1 // a kernel's last value as its bias's first
			return l
		}),
		"swapped": withLens(func(l []int) []int {
			i := 0
			for l[i] == 0 || l[i] == l[i+1] || l[i+1] == 0 {
				i++
			}
			l[i], l[i+1] = l[i+1], l[i] // a kernel's length and its bias's
			return l
		}),
		"all in one": withLens(func(l []int) []int {
			s := 0
			for i := range l {
				s += l[i]
				l[i] = 0
			}
			l[n-1] = s
			return l
		}),
	}
	for name, meta := range cases {
		b := advV2(meta, vals)
		advReject(t, name, b, advLimit(len(b)))
	}
	// Values inside the metadata for each kind of array.
	ka := advCheckpoint(t, false)
	for name, set := range map[string]func(q *ckPayload){
		"best weights in metadata": func(q *ckPayload) { q.Ck.ESBestWeights = []float32{1} },
		"negative slot count":      func(q *ckPayload) { q.Ck.Slots = -1 },
		"sub kernel in metadata": func(q *ckPayload) {
			q.Models = advClone(q.Models)
			q.Models[1].Layers[0].Kernel = []float32{1}
		},
		"sub bias in metadata": func(q *ckPayload) {
			q.Models = advClone(q.Models)
			q.Models[2].Layers[0].Bias = []float32{1}
		},
	} {
		q := p
		set(&q)
		b := advV2(advJSON(t, &q), vals)
		advReject(t, name, b, advLimit(len(b)))
	}
	// A kind's parameter inside the metadata.
	kp := payloadOf(ka)
	meta, kvals := advSplitPayload(t, kp)
	var kq ckPayload
	if err := json.Unmarshal(meta, &kq); err != nil {
		t.Fatal(err)
	}
	done := false
	for i := range kq.Models {
		for j := range kq.Models[i].Layers {
			if k := kq.Models[i].Layers[j].Kind; k != nil && !done {
				k.Params[0], done = []float32{1}, true
			}
		}
	}
	if !done {
		t.Fatal("no kind")
	}
	b := advV2(advJSON(t, &kq), kvals)
	advReject(t, "kind param in metadata", b, advLimit(len(b)))
}

// TestCheckpointAdvShortStream checks headers that announce far more than
// the stream holds: nothing beyond what arrived may be allocated.
func TestCheckpointAdvShortStream(t *testing.T) {
	_, p, vals := advSmall(t)
	g := advJSON(t, &p)
	// Lens announcing 2^31 values in the first array and adding up to
	// the payload the header announces: the values are read until the
	// stream ends.
	q := p
	q.Lens = append([]int(nil), p.Lens...)
	q.Lens[0] = 1 << 31
	q.Lens[len(q.Lens)-1] = 1<<32 - 1<<31 - 1<<20
	total := uint64(0)
	for _, l := range q.Lens {
		total += uint64(l)
	}
	big := advJSON(t, &q)
	bigN := 8 + uint64(len(big)) + 4*total
	hdr := func(v uint32, n uint64) []byte {
		b := []byte(checkpointMagic)
		b = binary.LittleEndian.AppendUint32(b, v)
		return binary.LittleEndian.AppendUint64(b, n)
	}
	le := func(x uint64) []byte { return binary.LittleEndian.AppendUint64(nil, x) }
	junk := bytes.Repeat([]byte{0x5a}, 4000)
	spaces := bytes.Repeat([]byte{' '}, 4000)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for name, b := range map[string][]byte{
		"huge payload, huge metadata":         cat(hdr(2, maxCheckpointPayload), le(maxCheckpointPayload-8), junk),
		"huge payload, maxCkMeta metadata":    cat(hdr(2, maxCheckpointPayload), le(maxCkMeta), junk),
		"huge payload, maxCkMeta of spaces":   cat(hdr(2, maxCheckpointPayload), le(maxCkMeta), spaces),
		"huge payload, maxCkMeta, open array": cat(hdr(2, maxCheckpointPayload), le(maxCkMeta), []byte(`{"Lens":[`), bytes.Repeat([]byte("0,"), 2000)),
		"huge payload, maxCkMeta+1 metadata":  cat(hdr(2, maxCheckpointPayload), le(maxCkMeta+1), junk),
		"huge payload, real metadata":         cat(hdr(2, maxCheckpointPayload), le(uint64(len(g))), g, vals),
		"lying lens":                          cat(hdr(2, bigN), le(uint64(len(big))), big, junk),
		"lying lens, 1 MB of data":            cat(hdr(2, bigN), le(uint64(len(big))), big, make([]byte, 1<<20)),
		"v1 huge payload":                     cat(hdr(1, maxCheckpointPayload), junk),
		"version 3":                           cat(hdr(3, uint64(8+len(g))), le(uint64(len(g))), g),
		"max+1":                               cat(hdr(2, maxCheckpointPayload+1), junk),
		"metadata length 2^64-1":              cat(hdr(2, 4000), le(math.MaxUint64), junk),
		"metadata length = payload":           cat(hdr(2, 4000), le(4000), junk),
		"metadata length = payload-8":         cat(hdr(2, 4000), le(4000-8), junk[:3992]),
		"header only":                         hdr(2, 100),
		"payload 7 bytes":                     cat(hdr(2, 7), junk[:7]),
	} {
		advReject(t, name, b, advLimit(len(b)))
	}
}

// TestCheckpointAdvMaxMeta reads a valid checkpoint whose metadata is
// exactly maxCkMeta bytes (the model's name padded out), which must be
// accepted, and one a byte longer, which must be refused before it is
// read.
func TestCheckpointAdvMaxMeta(t *testing.T) {
	_, p, vals := advSmall(t)
	base := advJSON(t, &p)
	const prefix = `{"Models":[{"Name":"`
	if !bytes.HasPrefix(base, []byte(prefix)) {
		t.Fatalf("unexpected metadata %.40s", base)
	}
	n := maxCkMeta - len(base) // bytes added to the model's name
	meta := make([]byte, 0, maxCkMeta)
	meta = append(meta, prefix...)
	meta = append(meta, bytes.Repeat([]byte{'n'}, n)...)
	meta = append(meta, base[len(prefix):]...)
	if len(meta) != maxCkMeta {
		t.Fatalf("metadata of %d bytes, want %d", len(meta), maxCkMeta)
	}
	var err error
	var got *Checkpoint
	b := advV2(meta, vals)
	alloc := advAlloc(func() { got, err = advRead(b) })
	if err != nil {
		t.Errorf("metadata of maxCkMeta bytes: %s", advErr(err))
	} else if len(got.Model.Name) != n+len(p.Models[0].Name) {
		t.Errorf("name of %d bytes read back, want %d", len(got.Model.Name), n+len(p.Models[0].Name))
	}
	// Measured: 604 MB (9 times the metadata): the buffer it is read
	// into and the decoder's own, each grown by doubling, and the name.
	if alloc > 16*maxCkMeta {
		t.Errorf("metadata of maxCkMeta bytes: allocated %d bytes", alloc)
	}
	t.Logf("metadata of %d bytes: allocated %d", len(meta), alloc)
	// A byte more (a space after it): refused before it is read, the
	// stream given without copying it.
	hdr := []byte(checkpointMagic)
	hdr = binary.LittleEndian.AppendUint32(hdr, CheckpointVersion)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(8+len(meta)+1+len(vals)))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(meta)+1))
	alloc = advAlloc(func() {
		_, err = ReadCheckpoint(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(meta), strings.NewReader(" "), bytes.NewReader(vals), bytes.NewReader(make([]byte, 4))))
	})
	if !errors.Is(err, ErrCheckpoint) {
		t.Errorf("metadata of maxCkMeta+1 bytes: %s, want ErrCheckpoint", advErr(err))
	}
	if alloc > 1<<20 {
		t.Errorf("metadata of maxCkMeta+1 bytes: allocated %d", alloc)
	}
}

// advPath follows path (keys and indices separated by dots) in the JSON
// value v decoded as any, and returns the container and the key or
// index of the last step.
func advPath(t *testing.T, v any, path string) (container any, last string) {
	t.Helper()
	steps := strings.Split(path, ".")
	for _, s := range steps[:len(steps)-1] {
		switch c := v.(type) {
		case map[string]any:
			v = c[s]
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i >= len(c) {
				t.Fatalf("path %s: step %s", path, s)
			}
			v = c[i]
		default:
			t.Fatalf("path %s: step %s in %T", path, s, v)
		}
	}
	return v, steps[len(steps)-1]
}

// advEdit returns meta with the JSON value at path replaced by the raw
// text raw (which need not be valid JSON), or removed when raw is "".
func advEdit(t *testing.T, meta []byte, path, raw string) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		t.Fatal(err)
	}
	c, last := advPath(t, root, path)
	const mark = "\x01ADV-RAW\x01"
	switch c := c.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok {
			t.Fatalf("path %s: no %s", path, last)
		}
		if raw == "" {
			delete(c, last)
		} else {
			c[last] = mark
		}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i >= len(c) {
			t.Fatalf("path %s", path)
		}
		c[i] = mark
	default:
		t.Fatalf("path %s: %T", path, c)
	}
	out := advJSON(t, root)
	q := advJSON(t, mark)
	if raw != "" && bytes.Count(out, q) != 1 {
		t.Fatalf("path %s: mark not found once", path)
	}
	return bytes.Replace(out, q, []byte(raw), 1)
}

// advBase returns the metadata and values of advCheckpoint, and the JSON
// paths of a layer with a kind, of one with a regulariser, of a Dense
// layer of a sub-model and of a SubModel layer.
func advBase(t *testing.T) (meta, vals []byte, kind, reg, dense, sub string) {
	t.Helper()
	ck := advCheckpoint(t, false)
	p := payloadOf(ck)
	for i, m := range p.Models {
		for j, l := range m.Layers {
			path := fmt.Sprintf("Models.%d.Layers.%d", i, j)
			switch {
			case l.Kind != nil && kind == "":
				kind = path
			case l.Reg != nil && reg == "":
				reg = path
			case l.Type == runtime.Dense && i > 0 && dense == "":
				dense = path
			case l.Type == runtime.SubModel && sub == "":
				sub = path
			}
		}
	}
	if kind == "" || reg == "" || dense == "" || sub == "" {
		t.Fatalf("paths %q %q %q %q", kind, reg, dense, sub)
	}
	meta, vals = advSplitPayload(t, p)
	if _, err := advRead(advV2(advEdit(t, meta, "Ck.Epoch", "1"), vals)); err != nil {
		t.Fatalf("edited metadata: %v", err)
	}
	return meta, vals, kind, reg, dense, sub
}

// advWant is what a JSON edit must give: refused, read back, or either
// (without a panic, and refused with ErrCheckpoint).
type advWant int

const (
	advRefused advWant = iota
	advAccepted
	advEither
)

// advCheck reads b and checks the outcome against want, the allocation
// against advLimit. It returns the checkpoint read, if any.
func advCheck(t *testing.T, name string, b []byte, want advWant) *Checkpoint {
	t.Helper()
	var ck *Checkpoint
	var err error
	alloc := advAlloc(func() { ck, err = advRead(b) })
	switch {
	case err != nil && !errors.Is(err, ErrCheckpoint):
		t.Errorf("%s: %s, want ErrCheckpoint", name, advErr(err))
	case err == nil && want == advRefused:
		t.Errorf("%s: accepted", name)
	case err != nil && want == advAccepted:
		t.Errorf("%s: %s, want it read", name, advErr(err))
	}
	if limit := advLimit(len(b)); alloc > limit {
		t.Errorf("%s: allocated %d bytes for %d, limit %d", name, alloc, len(b), limit)
	}
	return ck
}

// TestCheckpointAdvJSONValues replaces values of the metadata with
// numbers where the fields want others, out-of-range numbers, numbers
// with exponents or fractions where ints are expected, other JSON types,
// null, and text that is not JSON.
func TestCheckpointAdvJSONValues(t *testing.T) {
	meta, vals, kind, reg, dense, sub := advBase(t)
	type c struct {
		path, raw string
		want      advWant
	}
	cases := []c{
		// Ints.
		{"Ck.Epoch", "1e0", advRefused},
		{"Ck.Epoch", "1.0", advRefused},
		{"Ck.Epoch", "1.5", advRefused},
		{"Ck.Epoch", "-0", advAccepted},
		{"Ck.Epoch", "9223372036854775808", advRefused},
		{"Ck.Epoch", "-9223372036854775809", advRefused},
		{"Ck.Epoch", "1e400", advRefused},
		{"Ck.Epoch", "01", advRefused},
		{"Ck.Epoch", "+1", advRefused},
		{"Ck.Epoch", "0x1", advRefused},
		{"Ck.Epoch", ".5", advRefused},
		{"Ck.Epoch", "1.", advRefused},
		{"Ck.Epoch", `"1"`, advRefused},
		{"Ck.Epoch", "true", advRefused},
		{"Ck.Epoch", "[]", advRefused},
		{"Ck.Epoch", "{}", advRefused},
		{"Ck.Epoch", "NaN", advRefused},
		{"Ck.Epoch", "Infinity", advRefused},
		{"Ck.Epoch", "-", advRefused},
		{"Ck.Epoch", "null", advAccepted},
		{"Ck.Epoch", "-1", advEither},
		{"Ck.Epoch", "9223372036854775807", advEither},
		{"Ck.Epochs", "-9223372036854775808", advEither},
		{"Ck.BatchSize", "-1", advEither},
		{"Ck.BatchSize", "0", advEither},
		{"Ck.Batch", "-1", advEither},
		{"Ck.Samples", "-1", advEither},
		{"Ck.Iterations", "-9223372036854775808", advEither},
		{"Ck.Iterations", "9223372036854775808", advRefused},
		{"Ck.Seed", "18446744073709551615", advAccepted},
		{"Ck.Seed", "18446744073709551616", advRefused},
		{"Ck.Seed", "-1", advRefused},
		{"Ck.Loss", "256", advRefused},
		{"Ck.Loss", "-1", advRefused},
		{"Ck.Loss", "255", advEither},
		{"Ck.Fingerprint.CRC", "4294967296", advRefused},
		{"Ck.Fingerprint.Rows", "-1", advEither},
		{"Ck.Shuffle", "1", advRefused},
		{"Ck.Shuffle", "null", advAccepted},
		{sub + ".Sub", "1e0", advRefused},
		{sub + ".Sub", "1.0", advRefused},
		{sub + ".Sub", "-1", advRefused},
		{sub + ".Sub", "4294967297", advRefused},
		{sub + ".Sub", "9223372036854775807", advRefused},
		{sub + ".Sub", "-9223372036854775808", advRefused},
		{sub + ".Sub", "18446744073709551617", advRefused},
		{sub + ".Sub", "null", advRefused},
		{sub + ".Sub", "0", advRefused},
		{sub + ".Type", "256", advRefused},
		{sub + ".Type", "-1", advRefused},
		{sub + ".Type", "250", advRefused},
		{dense + ".In", "-1", advRefused},
		{dense + ".Units", "1e9", advRefused},
		{dense + ".Units", "4611686018427387904", advRefused},
		{dense + ".Act.Func", "256", advRefused},
		{dense + ".Act.Func", "200", advRefused},
		{dense + ".Act.Alpha", "-1", advRefused},
		{dense + ".Act.Alpha", "4294967296", advRefused},
		{"Models.0.Input.0", "-1", advRefused},
		{"Models.0.Input.0", "1e0", advRefused},
		{"Models.0.Input", "[]", advRefused},
		{"Lens.0", "-0", advAccepted},
		{"Lens.0", "1e0", advRefused},
		{"Lens.0", "0.0", advRefused},
		{"Lens.0", "-1", advRefused},
		{"Lens.0", "1e400", advRefused},
		{"Lens.0", "null", advAccepted}, // Lens[0] is 0 (a SubModel layer's kernel)
		{"Lens.0", `"0"`, advRefused},
		// Floats held as their bits.
		{"Ck.ESBest", "1.5", advRefused},
		{"Ck.ESBest", "-1", advRefused},
		{"Ck.ESBest", "1e3", advRefused},
		{"Ck.ESBest", "18446744073709551616", advRefused},
		{"Ck.ESBest", `"9218868437227405312"`, advRefused},
		{"Ck.ESBest", "null", advEither},
		{"Ck.ESBest", "[1]", advRefused},
		{"Ck.ESBest", "{}", advRefused},
		{"Ck.ESBest", "-0", advEither},
		{"Ck.ESBest", "18446744073709551615", advAccepted}, // a NaN
		{"Ck.History.ValLoss", "[null]", advEither},
		{"Ck.History.ValLoss", "[1.5]", advRefused},
		{"Ck.History.Loss", "null", advAccepted},
		{dense + ".Rate", "0.5", advRefused},
		{reg + ".Reg.Kernel", "[1,2,3]", advEither},
		{reg + ".Reg.Kernel", "[1]", advEither},
		{reg + ".Reg.Kernel", "1", advRefused},
		{reg + ".Reg.Kernel", "[1.5,0]", advRefused},
		// Other JSON types and null.
		{"Models", "null", advRefused},
		{"Models", "[]", advRefused},
		{"Models", "[null]", advRefused},
		{"Models", "{}", advRefused},
		{"Models", `"x"`, advRefused},
		{"Models.0", "null", advRefused},
		{"Models.0.Layers", "null", advRefused},
		{"Models.0.Layers", "[]", advRefused},
		{"Models.0.Layers.0", "null", advRefused},
		{kind + ".Kind", "null", advRefused},
		{kind + ".Kind", "{}", advRefused},
		{kind + ".Kind.Params", "null", advRefused},
		{kind + ".Kind.Params.0", "null", advEither},
		{kind + ".Kind.Config", "null", advRefused},
		{kind + ".Kind.Config", `"null"`, advEither},
		{kind + ".Kind.Config", `""`, advRefused},
		{kind + ".Kind.Class", "null", advRefused},
		{kind + ".Kind.Class", "1", advRefused},
		{reg + ".Reg", "null", advAccepted},
		{reg + ".Reg", "{}", advAccepted},
		{reg + ".Reg", "[]", advRefused},
		{dense + ".Name", "null", advEither},
		{dense + ".Name", "1", advRefused},
		{dense + ".Shape", "null", advEither},
		{dense + ".Kernel", "null", advAccepted},
		{dense + ".Kernel", "[]", advAccepted},
		{dense + ".Kernel", `""`, advRefused},
		{"Ck.Slots", "null", advRefused},
		{"Ck.Slots", "[]", advRefused},
		{"Ck.OptimizerJSON", `"!!"`, advRefused},
		{"Ck.OptimizerJSON", "null", advRefused},
		{"Ck.OptimizerJSON", "[1,2]", advRefused},
		{"Ck.RNG", `"@@"`, advRefused},
		{"Ck.RNG", "null", advEither},
		{"Ck", "null", advRefused},
		{"Ck.History", "null", advAccepted},
		{"Lens", "null", advRefused},
		{"Lens", "{}", advRefused},
		// Absent fields.
		{"Ck.Epoch", "", advAccepted},
		{"Lens", "", advRefused},
		{"Models", "", advRefused},
		{"Ck", "", advRefused},
	}
	for _, c := range cases {
		b := advV2(advEdit(t, meta, c.path, c.raw), vals)
		ck := advCheck(t, c.path+" = "+c.raw, b, c.want)
		if ck != nil {
			t.Logf("%s = %s: accepted", c.path, c.raw)
		}
	}
}

// TestCheckpointAdvJSONText attacks the metadata's text: trailing
// whitespace and garbage, duplicate and differently cased keys, invalid
// UTF-8, long strings, unknown fields.
func TestCheckpointAdvJSONText(t *testing.T) {
	meta, vals, _, _, dense, _ := advBase(t)
	body := meta[:len(meta)-1] // without the closing brace
	cat := func(s ...string) []byte {
		b := append([]byte(nil), body...)
		for _, x := range s {
			b = append(b, x...)
		}
		return b
	}
	var p ckPayload
	if err := json.Unmarshal(meta, &p); err != nil {
		t.Fatal(err)
	}
	lens := string(advJSON(t, p.Lens))
	models := string(advJSON(t, p.Models))
	for name, c := range map[string]struct {
		meta []byte
		want advWant
	}{
		"trailing spaces":          {append(append([]byte(nil), meta...), " \t\r\n  "...), advAccepted},
		"leading spaces":           {append([]byte(" \n\t\r"), meta...), advAccepted},
		"trailing x":               {append(append([]byte(nil), meta...), 'x'), advRefused},
		"trailing 0":               {append(append([]byte(nil), meta...), " 0"...), advRefused},
		"trailing {}":              {append(append([]byte(nil), meta...), "{}"...), advRefused},
		"trailing NUL":             {append(append([]byte(nil), meta...), 0), advRefused},
		"trailing null":            {append(append([]byte(nil), meta...), "null"...), advRefused},
		"metadata twice":           {append(append([]byte(nil), meta...), meta...), advRefused},
		"trailing form feed":       {append(append([]byte(nil), meta...), '\f'), advRefused},
		"trailing vertical tab":    {append(append([]byte(nil), meta...), '\v'), advRefused},
		"trailing NBSP":            {append(append([]byte(nil), meta...), "\u00a0"...), advRefused},
		"trailing U+0085":          {append(append([]byte(nil), meta...), "\u0085"...), advRefused},
		"trailing U+2028":          {append(append([]byte(nil), meta...), "\u2028"...), advRefused},
		"trailing U+3000":          {append(append([]byte(nil), meta...), "\u3000"...), advRefused},
		"leading form feed":        {append([]byte("\f"), meta...), advRefused},
		"leading BOM":              {append([]byte("\ufeff"), meta...), advRefused},
		"not closed":               {body, advRefused},
		"empty":                    {nil, advRefused},
		"only spaces":              {[]byte("   "), advRefused},
		"null":                     {[]byte("null"), advRefused},
		"array":                    {[]byte("[]"), advRefused},
		"duplicate Lens, same":     {cat(`,"Lens":`, lens, "}"), advAccepted},
		"duplicate Lens, short":    {cat(`,"Lens":[0]}`), advRefused},
		"duplicate Lens, null":     {cat(`,"Lens":null}`), advRefused},
		"duplicate Models, same":   {cat(`,"Models":`, models, "}"), advAccepted},
		"duplicate Models, one":    {cat(`,"Models":[{"Name":"x"}]}`), advRefused},
		"duplicate Models, null":   {cat(`,"Models":null}`), advRefused},
		"lower-case lens, same":    {cat(`,"lens":`, lens, "}"), advEither},
		"upper-case LENS, short":   {cat(`,"LENS":[0]}`), advRefused},
		"unknown field":            {cat(`,"Zz":1}`), advRefused},
		"unknown field null":       {cat(`,"Zz":null}`), advRefused},
		"unknown nested field":     {advEdit(t, meta, "Ck.Fingerprint", `{"Rows":9,"Zz":1}`), advRefused},
		"unknown field in layer":   {advEdit(t, meta, dense, `{"Zz":1}`), advRefused},
		"unknown field in a model": {advEdit(t, meta, "Models.1", `{"Zz":{}}`), advRefused},
		"duplicate Ck, merged":     {cat(`,"Ck":{}}`), advAccepted}, // decoded into the same struct
		"invalid UTF-8 in a key":   {cat(`,"Lens\xff":[0]}`), advRefused},
		"invalid UTF-8 in a name":  {advEdit(t, meta, dense+".Name", "\"a\xff\xfeb\""), advEither},
		"escaped NUL in a name":    {advEdit(t, meta, dense+".Name", `"a\u0000b"`), advEither},
		"lone surrogate in a name": {advEdit(t, meta, dense+".Name", `"\ud800"`), advEither},
		"raw control in a name":    {advEdit(t, meta, dense+".Name", "\"a\x01b\""), advRefused},
		"bad escape in a name":     {advEdit(t, meta, dense+".Name", `"\x41"`), advRefused},
		"1 MB name":                {advEdit(t, meta, dense+".Name", `"`+strings.Repeat("é", 1<<19)+`"`), advEither},
		"1 MB of escapes":          {advEdit(t, meta, dense+".Name", `"`+strings.Repeat(`\u00e9`, 1<<18)+`"`), advEither},
		"1 MB unknown string":      {cat(`,"Zz":"`, strings.Repeat("x", 1<<20), `"}`), advRefused},
		"1 MB number":              {advEdit(t, meta, "Ck.Epoch", strings.Repeat("9", 1<<20)), advRefused},
		"1 MB fraction":            {advEdit(t, meta, "Ck.Epoch", "0."+strings.Repeat("0", 1<<20)), advRefused},
	} {
		ck := advCheck(t, name, advV2(c.meta, vals), c.want)
		if ck != nil && strings.Contains(name, "name") {
			ck.Model.Walk(func(_ []string, l *runtime.Layer) {
				if strings.HasPrefix(l.Name, "a") && len(l.Name) < 10 {
					t.Logf("%s: read back as %q", name, l.Name)
				}
			})
		}
		if ck != nil && strings.Contains(name, "lower-case") {
			t.Logf("%s: accepted (encoding/json matches keys case-insensitively)", name)
		}
	}
}

// TestCheckpointAdvJSONNesting nests JSON deep inside known and unknown
// fields and inside a kind's config: an error (or, inside a config, an
// ignored attribute), never a crash, with allocation bounded.
func TestCheckpointAdvJSONNesting(t *testing.T) {
	meta, vals, kind, _, dense, _ := advBase(t)
	arrays := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	objects := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	cfg := func(v string) string { return string(advJSON(t, `{"zz":`+v+`}`)) }
	for name, c := range map[string]struct {
		meta []byte
		want advWant
	}{
		"Input 9,000 deep":            {advEdit(t, meta, "Models.0.Input", arrays(9000)), advRefused},
		"Input 10,001 deep":           {advEdit(t, meta, "Models.0.Input", arrays(10001)), advRefused},
		"Input 1,000,000 deep":        {advEdit(t, meta, "Models.0.Input", arrays(1000000)), advRefused},
		"ESBest 9,000 deep":           {advEdit(t, meta, "Ck.ESBest", arrays(9000)), advRefused},
		"ESBest 1,000,000 deep":       {advEdit(t, meta, "Ck.ESBest", arrays(1000000)), advRefused},
		"Reg 9,000 deep objects":      {advEdit(t, meta, dense+".Reg", objects(9000)), advRefused},
		"Kind 1,000,000 deep objects": {advEdit(t, meta, kind+".Kind", objects(1000000)), advRefused},
		"unknown 9,000 deep":          {advEdit(t, meta, "Ck.Fingerprint", `{"Zz":`+arrays(9000)+`}`), advRefused},
		"unknown 10,001 deep":         {advEdit(t, meta, "Ck.Fingerprint", `{"Zz":`+arrays(10001)+`}`), advRefused},
		"unknown 1,000,000 deep":      {advEdit(t, meta, "Ck.Fingerprint", `{"Zz":`+arrays(1000000)+`}`), advRefused},
		"top-level 1,000,000 deep":    {[]byte(arrays(1000000)), advRefused},
		"objects 1,000,000 deep":      {[]byte(objects(1000000)), advRefused},
		"config attr 9,000 deep":      {advEdit(t, meta, kind+".Kind.Config", cfg(arrays(9000))), advEither},
		"config attr 10,001 deep":     {advEdit(t, meta, kind+".Kind.Config", cfg(arrays(10001))), advRefused},
		"config attr 1,000,000 deep":  {advEdit(t, meta, kind+".Kind.Config", cfg(arrays(1000000))), advRefused},
		"config 200,000 attrs": {advEdit(t, meta, kind+".Kind.Config",
			string(advJSON(t, "{"+strings.Repeat(`"a":[],`, 200000)+`"b":1}`))), advEither},
	} {
		b := advV2(c.meta, vals)
		var alloc uint64
		alloc = advAlloc(func() { advCheck(t, name, b, c.want) })
		t.Logf("%s: %d bytes, allocated %d", name, len(b), alloc)
	}
}

// TestCheckpointAdvKindConfigs checks kind configs with odd values:
// refused with ErrCheckpoint or read, never a panic.
func TestCheckpointAdvKindConfigs(t *testing.T) {
	meta, vals, kind, _, _, _ := advBase(t)
	for _, cfg := range []string{
		`{"axis":"x"}`, `{"axis":1e300}`, `{"axis":-1e300}`, `{"axis":1.5}`, `{"axis":[]}`, `{"axis":[[-1]]}`,
		`{"axis":[-1,-1]}`, `{"axis":63}`, `{"axis":-63}`, `{"axis":{}}`,
		`{"epsilon":"1"}`, `{"epsilon":1e300}`, `{"epsilon":-1}`, `{"epsilon":1e-46}`, `{"epsilon":[1]}`,
		`{"momentum":{}}`, `{"momentum":1e308}`, `{"center":1}`, `{"scale":"yes"}`, `{"renorm":null}`,
		`{"rms_scaling":true}`, `{"synchronized":1}`, `[]`, `1`, `"x"`, `{}`, `{"a":1,"a":2}`,
	} {
		b := advV2(advEdit(t, meta, kind+".Kind.Config", string(advJSON(t, cfg))), vals)
		advCheck(t, "config "+cfg, b, advEither)
	}
	for _, class := range runtime.KindClasses() {
		b := advV2(advEdit(t, meta, kind+".Kind.Class", string(advJSON(t, class))), vals)
		advCheck(t, "class "+class, b, advEither)
	}
}

// advManyMeta returns hand-made metadata: models, then Lens of n zeros.
func advManyMeta(models string, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Models":`)
	b.WriteString(models)
	b.WriteString(`,"Lens":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('0')
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// TestCheckpointAdvAmplification reads small hand-made metadata that
// would decode into many Go values: 50,000 empty layers ("{}", 7 bytes a
// layer with its lengths), 10,000 sub-models, 10,000 kinds, 100,000 orphan
// models, 100,000 slots, 100,000 array lengths, a float's bits written as
// a 1 MB number. The bound checked (16 times the input and 1 MiB) holds
// because ckScan refuses more objects, arrays, commas or digits than a
// checkpoint has before encoding/json allocates for them, and the slots
// are a count, not a list. Before those limits (2026-12-06, amd64), bytes
// of input → allocated: 100,000 empty layers 700 KB → 158 MB (225×),
// 200,000 orphan models 600 KB → 142 MB (237×), 200,001 null slots 1.0 MB
// → 30 MB (30×), a 1 MB number 1.1 MB → 19 MB (18×, with a 1 MB error
// message); after them 2–4× (the 1 MiB of the input's copy), and 23× for
// 100,001 array lengths (108 KB → 2.5 MB: ints, bounded by maxCkElems).
func TestCheckpointAdvAmplification(t *testing.T) {
	check := func(name string, b []byte) {
		t.Helper()
		alloc := advReject(t, name, b, advLimit(len(b)))
		t.Logf("%s: %d bytes, allocated %d (%.0f times)", name, len(b), alloc, float64(alloc)/float64(len(b)))
	}
	const n = 50000
	check("50,000 empty layers", advV2(advManyMeta(`[{"Layers":[`+strings.Repeat("{},", n-1)+`{}]}]`, 2*n+1), nil))

	const k = 10000
	var ms strings.Builder
	ms.WriteString(`[{"Layers":[`)
	for i := range k {
		if i > 0 {
			ms.WriteByte(',')
		}
		fmt.Fprintf(&ms, `{"Sub":%d,"Type":%d}`, i+1, runtime.SubModel)
	}
	ms.WriteString("]}" + strings.Repeat(",{}", k) + "]")
	check("10,000 sub-models", advV2(advManyMeta(ms.String(), 2*k+1), nil))

	// Layers each with a kind to rebuild (fromCk rebuilds kinds before
	// Validate looks at the model).
	ms.Reset()
	ms.WriteString(`[{"Layers":[`)
	for i := range k {
		if i > 0 {
			ms.WriteByte(',')
		}
		fmt.Fprintf(&ms, `{"Type":%d,"Kind":{"Class":"LayerNormalization","Config":"{}","Params":[[],[]]}}`, runtime.Other)
	}
	ms.WriteString("]}]")
	check("10,000 kinds", advV2(advManyMeta(ms.String(), 4*k+1), nil))

	check("100,000 orphan models", advV2(advManyMeta("[{}"+strings.Repeat(",{}", 100000)+"]", 1), nil))
	check("100,001 empty slots", advV2([]byte(`{"Models":[{}],"Ck":{"Slots":[[]`+strings.Repeat(",[]", 100000)+`]},"Lens":[]}`), nil))
	meta := advManyMeta(`[{"Layers":[{"Type":1}]}]`, 3)
	meta = append(meta[:len(meta)-1], `,"Ck":{"Slots":[null`+strings.Repeat(",null", 100000)+`]}}`...)
	check("100,001 null slots", advV2(meta, nil))

	base, vals, _, _, _, _ := advBase(t)
	check("100,001 array lengths", advV2(advEdit(t, base, "Lens", "["+strings.Repeat("0,", n)+"0]"), vals))
	b := advV2(advEdit(t, base, "Ck.ESBest", "1e"+strings.Repeat("9", 1<<20)), vals)
	check("a 1 MB number", b)
	// ckF64.UnmarshalJSON cuts the number to 20 bytes in its message but
	// wraps strconv's error, which holds all of it.
	if _, err := advRead(b); err != nil && len(err.Error()) > 4<<10 {
		t.Errorf("a 1 MB number: the error message is %d bytes long: %s", len(err.Error()), advErr(err))
	}
}

// advChainModel returns a valid model of width 2 nesting depth SubModel
// layers, a Dense layer in the innermost model.
func advChainModel(depth int) *runtime.Model {
	inner := &runtime.Model{Name: "m" + strconv.Itoa(depth), Input: []int{2}, Layers: []*runtime.Layer{
		{Name: "dense", Type: runtime.Dense, In: 2, Units: 2, Kernel: []float32{1, 2, 3, 4}, Bias: []float32{5, 6}},
	}}
	for i := depth - 1; i >= 0; i-- {
		inner = &runtime.Model{Name: "m" + strconv.Itoa(i), Input: []int{2}, Layers: []*runtime.Layer{
			{Name: "sub" + strconv.Itoa(i), Type: runtime.SubModel, Sub: inner},
		}}
	}
	return inner
}

// TestCheckpointAdvSubIndices checks sub-model indices crafted to form
// something else than a tree, through ReadCheckpoint (valid header, CRC
// and array lengths around them), and orders other than toCk's that are
// still one tree.
func TestCheckpointAdvSubIndices(t *testing.T) {
	ck, p, _ := advSmall(t)
	// p.Models: 0 the model (layers: encoder, decoder), 1 the encoder,
	// 2 the decoder.
	if p.Models[0].Layers[0].Sub != 1 || p.Models[0].Layers[1].Sub != 2 {
		t.Fatalf("unexpected models %+v", p.Models)
	}
	full := func() ckPayload { return payloadOf(ck) }
	sub := func(i, j, to int) func(ms []ckModel) []ckModel {
		return func(ms []ckModel) []ckModel { ms[i].Layers[j].Sub = to; return ms }
	}
	for name, edit := range map[string]func(ms []ckModel) []ckModel{
		"self":         sub(1, 0, 1),
		"past the end": sub(0, 0, 3),
		"2 back to 1":  sub(2, 0, 1),
		"cycle 1→2→1": func(ms []ckModel) []ckModel {
			ms[0].Layers[1].Sub = 0
			ms[1].Layers[0].Sub = 2
			ms[2].Layers[0].Sub = 1
			return ms
		},
		"backwards": func(ms []ckModel) []ckModel {
			ms[0].Layers[1].Sub = 0
			ms[2].Layers[0].Sub = 1
			ms[0].Layers[0].Sub = 2
			return ms
		},
		"duplicate":               sub(0, 1, 1),
		"duplicate across models": func(ms []ckModel) []ckModel { ms[1].Layers[0].Sub = 2; return ms },
		"orphan":                  sub(0, 1, 0),
		"extra orphan":            func(ms []ckModel) []ckModel { return append(ms, ms[1]) },
		"negative":                sub(0, 0, -1),
		"min int":                 sub(0, 0, math.MinInt),
		"max int":                 sub(0, 0, math.MaxInt),
		"2^32+1":                  sub(0, 0, 1<<32+1),
		"no model":                func(ms []ckModel) []ckModel { return nil },
		"empty list":              func(ms []ckModel) []ckModel { return []ckModel{} },
		"SubModel without":        sub(0, 0, 0),
		"sub in the orphan":       func(ms []ckModel) []ckModel { ms[0].Layers[1].Sub = 0; ms[1].Layers[0].Sub = 2; return ms },
	} {
		q := full()
		q.Models = edit(advClone(q.Models))
		b := advV2Of(t, q)
		advReject(t, name, b, advLimit(len(b)))
	}

	// A sub-model under a Dense layer (a model of its own, its layer
	// renamed): one tree, which runtime.Validate does not look into.
	q := full()
	q.Models = advClone(q.Models)
	hidden := q.Models[2]
	hidden.Layers = []ckLayer{q.Models[2].Layers[0]}
	hidden.Layers[0].Name = "hidden"
	q.Models = append(q.Models, hidden)
	q.Models[1].Layers[0].Sub = 3
	if _, err := advRead(advV2Of(t, q)); err == nil {
		t.Logf("a Dense layer holding a sub-model: accepted")
	} else if !errors.Is(err, ErrCheckpoint) {
		t.Errorf("a Dense layer holding a sub-model: %v", err)
	}

	// The same tree in another order (the decoder before the encoder):
	// one tree still, read back as it was.
	q = full()
	q.Models = advClone(q.Models)
	q.Models[1], q.Models[2] = q.Models[2], q.Models[1]
	q.Models[0].Layers[0].Sub, q.Models[0].Layers[1].Sub = 2, 1
	got, err := advRead(advV2Of(t, q))
	if err != nil {
		t.Fatalf("decoder listed before encoder: %v", err)
	}
	advCompare(t, ck, got)

	// Chains: maxCkDepth deep is read back; one more is refused.
	for _, depth := range []int{maxCkDepth, maxCkDepth + 1} {
		c := *ck
		c.Model = advChainModel(depth)
		if err := c.Model.Validate(); err != nil {
			t.Fatal(err)
		}
		c.state.Slots, c.state.ESBestWeights = nil, nil
		b := advV2Of(t, payloadOf(&c))
		got, err := advRead(b)
		if depth <= maxCkDepth {
			if err != nil {
				t.Errorf("%d deep: %v", depth, err)
			} else {
				sameBits(t, "chain", flatWeights(c.Model), flatWeights(got.Model))
			}
		} else if !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%d deep: %v, want ErrCheckpoint", depth, err)
		}
	}
	// A chain of 20,000 (hand-made metadata, 30 bytes a model) listed
	// the other way round (each model's sub-model before it), and in
	// order: refused at once, at depth maxCkDepth+1.
	const n = 20000
	var ms strings.Builder
	ms.WriteString("[")
	for i := range n {
		if i > 0 {
			ms.WriteByte(',')
		}
		switch {
		case i == 0:
			fmt.Fprintf(&ms, `{"Layers":[{"Sub":%d,"Type":%d}]}`, n-1, runtime.SubModel)
		case i == n-1:
			ms.WriteString(`{"Layers":[{}]}`)
		default:
			fmt.Fprintf(&ms, `{"Layers":[{"Sub":%d,"Type":%d}]}`, i-1, runtime.SubModel)
		}
	}
	ms.WriteString("]")
	b := advV2(advManyMeta(ms.String(), 2*n+1), nil)
	advReject(t, "20,000 deep, reversed", b, 512*uint64(len(b)))
	ms.Reset()
	ms.WriteString("[")
	for i := range n - 1 {
		fmt.Fprintf(&ms, `{"Layers":[{"Sub":%d,"Type":%d}]},`, i+1, runtime.SubModel)
	}
	ms.WriteString(`{"Layers":[{}]}]`)
	b = advV2(advManyMeta(ms.String(), 2*n+1), nil)
	alloc := advReject(t, "20,000 deep", b, 512*uint64(len(b)))
	t.Logf("20,000 deep: %d bytes, allocated %d", len(b), alloc)
}

// TestCheckpointAdvWriteTooDeep: Write must not write a checkpoint that
// ReadCheckpoint refuses: a valid model nesting sub-models more than
// maxCkDepth deep (Validate sets no bound; a Keras file can hold it) is
// either refused by Write or read back.
func TestCheckpointAdvWriteTooDeep(t *testing.T) {
	ck, _, _ := advSmall(t)
	ck.Model = advChainModel(maxCkDepth + 1)
	ck.state.Slots, ck.state.ESBestWeights = nil, nil
	if err := ck.Model.Validate(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ck.Write(&buf); err != nil {
		t.Logf("Write refused it: %v", err)
		return
	}
	if _, err := advRead(buf.Bytes()); err != nil {
		t.Errorf("Write wrote a checkpoint of a valid model %d deep that ReadCheckpoint refuses: %v", maxCkDepth+1, err)
	}
}

// advBits returns the float32 of bits, a signalling NaN made quiet unless
// sNaN.
func advBits(bits uint32, sNaN bool) float32 {
	if !sNaN && bits&0x7f800000 == 0x7f800000 && bits&0x7fffff != 0 {
		bits |= 0x400000
	}
	return math.Float32frombits(bits)
}

// advModel returns a model with sub-models, BatchNormalization and
// LayerNormalization kinds, an Identity layer with an empty non-nil bias
// and shape, regularisers and a frozen layer, all values odd bit patterns.
func advModel(t *testing.T, sNaN bool) *runtime.Model {
	t.Helper()
	m, err := buildSpec(12, "8:relu:bn,5:relu:ln|8:relu:bn,12:sigmoid", "", 5)
	if err != nil {
		t.Fatal(err)
	}
	odd := []uint32{0x7fc00001, 0x7fa00001, 0xffc12345, 0x80000000, 0, 1, 0x807fffff, 0x7f800000, 0xff800000, 0x3f800001}
	k, kinds := 0, 0
	m.Walk(func(_ []string, l *runtime.Layer) {
		for _, s := range [][]float32{l.Kernel, l.Bias} {
			for i := range s {
				s[i] = advBits(odd[k%len(odd)]^uint32(k>>4), sNaN)
				k++
			}
		}
		if l.Kind != nil {
			kinds++
			for _, p := range l.Kind.Params() {
				for i := range p.Values {
					p.Values[i] = advBits(odd[k%len(odd)]^uint32(k>>4), sNaN)
					k++
				}
			}
		}
	})
	if kinds < 3 {
		t.Fatalf("model has %d kinds", kinds)
	}
	m.Layers[0].Sub.Layers[0].Frozen = true
	m.Layers[1].Sub.Layers[0].Reg = &runtime.Regularizers{Kernel: runtime.Regularizer{L1: 0.01, L2: 1e-7},
		Activity: runtime.Regularizer{L1: math.Copysign(0, -1), L2: 5e-324}, Unsupported: "custom\x00"}
	m.Layers = append(m.Layers, &runtime.Layer{Name: "odd_identity", Type: runtime.Identity, Class: "Dropout", Rate: 0.25,
		Bias: []float32{}, Shape: []int{}})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// advCheckpoint returns a checkpoint of advModel with Adam slots, a nil
// and an empty slot, early stopping's best weights, holding odd values,
// and odd floats in the metadata (ESBest +Inf, a NaN validation loss
// with a payload, -0, a subnormal).
func advCheckpoint(t *testing.T, sNaN bool) *Checkpoint {
	t.Helper()
	ck, _, _ := advSmall(t)
	m := advModel(t, sNaN)
	ck.Model = m
	n := len(flatWeights(m))
	ck.state.Slots = [][]float32{make([]float32, n+40), make([]float32, n+40)}
	for i, s := range ck.state.Slots {
		for j := range s {
			s[j] = advBits(uint32(0x7f800001+i*977+j*13), sNaN)
		}
	}
	ck.state.Slots = append(ck.state.Slots, nil, []float32{}) // empty slots keep their place
	ck.state.ESBestWeights = []float32{float32(math.Copysign(0, -1)), float32(math.NaN()), math.Float32frombits(1), float32(math.Inf(-1))}
	ck.state.ESBest = math.Inf(1)
	ck.state.LossSum = math.Copysign(0, -1)
	ck.state.Seconds = math.Float64frombits(1)
	ck.ValidationSplit = math.Float64frombits(0x3fb999999999999a)
	nan := math.Float64frombits(0x7ff8000000000123)
	if sNaN {
		nan = math.Float64frombits(0x7ff0000000000123)
	}
	ck.History = History{Epoch: []int{1, 2}, Loss: []float64{0.5, math.Inf(-1)}, ValLoss: []float64{nan, math.MaxFloat64},
		Seconds: []float64{math.SmallestNonzeroFloat64, -0.0}, StoppedEpoch: -1, BestEpoch: math.MinInt}
	return ck
}

// advCompare requires got to hold want's model and state bit for bit.
func advCompare(t *testing.T, want, got *Checkpoint) {
	t.Helper()
	wp := ckPayload{Models: ckOf(want.Model), Ck: want.file(), slots: append([][]float32(nil), want.state.Slots...)}
	gp := ckPayload{Models: ckOf(got.Model), Ck: got.file(), slots: append([][]float32(nil), got.state.Slots...)}
	var wa, ga [][]float32
	wp.arrays(func(s *[]float32) { wa = append(wa, *s); *s = nil })
	gp.arrays(func(s *[]float32) { ga = append(ga, *s); *s = nil })
	if len(wa) != len(ga) {
		t.Fatalf("%d arrays, want %d", len(ga), len(wa))
	}
	for i := range wa {
		sameBits(t, "array "+strconv.Itoa(i), wa[i], ga[i])
	}
	// The floats of the metadata are compared as their bits (ckF64).
	if wj, gj := advJSON(t, &wp), advJSON(t, &gp); !bytes.Equal(wj, gj) {
		t.Errorf("read back\n%s\nwant\n%s", gj, wj)
	}
	if want.NoShuffle != got.NoShuffle {
		t.Errorf("NoShuffle %v, want %v", got.NoShuffle, want.NoShuffle)
	}
	if math.Float64bits(want.state.ESBest) != math.Float64bits(got.state.ESBest) {
		t.Errorf("ESBest %v, want %v", got.state.ESBest, want.state.ESBest)
	}
	for i := range want.History.ValLoss {
		if w, g := math.Float64bits(want.History.ValLoss[i]), math.Float64bits(got.History.ValLoss[i]); w != g {
			t.Errorf("val_loss %d: bits %#x, want %#x", i, g, w)
		}
	}
	var wl, gl []*runtime.Layer
	want.Model.Walk(func(_ []string, l *runtime.Layer) { wl = append(wl, l) })
	got.Model.Walk(func(_ []string, l *runtime.Layer) { gl = append(gl, l) })
	if len(wl) != len(gl) {
		t.Fatalf("%d layers, want %d", len(gl), len(wl))
	}
	for i := range wl {
		w, g := wl[i], gl[i]
		if w.Name != g.Name || w.Type != g.Type || w.Frozen != g.Frozen || (w.Reg == nil) != (g.Reg == nil) ||
			(w.Bias == nil) != (g.Bias == nil) || (w.Shape == nil) != (g.Shape == nil) || (w.Kind == nil) != (g.Kind == nil) {
			t.Errorf("layer %d: %+v, want %+v", i, g, w)
			continue
		}
		if w.Reg != nil && fmt.Sprintf("%#v", *toCkReg(w.Reg)) != fmt.Sprintf("%#v", *toCkReg(g.Reg)) {
			t.Errorf("layer %s: regularisers %+v, want %+v", w.Name, g.Reg, w.Reg)
		}
		if w.Kind == nil {
			continue
		}
		if !reflect.DeepEqual(w.Kind.Config(), g.Kind.Config()) {
			t.Errorf("kind %s config %v, want %v", w.Name, g.Kind.Config(), w.Kind.Config())
		}
		wps, gps := w.Kind.Params(), g.Kind.Params()
		if len(wps) != len(gps) {
			t.Fatalf("kind %s: %d params, want %d", w.Name, len(gps), len(wps))
		}
		for j := range wps {
			sameBits(t, wps[j].Name, wps[j].Values, gps[j].Values)
		}
	}
}

// TestCheckpointAdvRoundTrip writes and reads back a checkpoint of a
// model with sub-models and normalisation kinds, odd float bit patterns
// (signalling and quiet NaN payloads, -0, subnormals, infinities) in the
// weights and in the metadata's floats, a nil and an empty slot, frozen
// layers and regularisers, empty-but-not-nil bias and shape, and checks
// that writing what was read gives the same bytes.
func TestCheckpointAdvRoundTrip(t *testing.T) {
	for _, sNaN := range []bool{true, false} {
		ck := advCheckpoint(t, sNaN)
		var b1 bytes.Buffer
		if err := ck.Write(&b1); err != nil {
			t.Fatal(err)
		}
		got, err := advRead(b1.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		advCompare(t, ck, got)
		got.Model.Walk(func(_ []string, l *runtime.Layer) {
			if l.Name == "odd_identity" && (l.Bias == nil || l.Shape == nil) {
				t.Errorf("identity layer's empty bias or shape came back nil: %#v %#v", l.Bias, l.Shape)
			}
		})
		if (got.state.Slots[2] == nil) != (ck.state.Slots[2] == nil) || (got.state.Slots[3] == nil) != (ck.state.Slots[3] == nil) {
			t.Logf("slots 2 and 3 (nil and empty) read back as %#v %#v", got.state.Slots[2], got.state.Slots[3])
		}
		var b2 bytes.Buffer
		if err := got.Write(&b2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Errorf("rewriting what was read gives other bytes (%d vs %d)", b2.Len(), b1.Len())
		}
		// The weights read back are the reader's own.
		got.Model.Walk(func(_ []string, l *runtime.Layer) {
			for i := range l.Kernel {
				l.Kernel[i] = 42
			}
		})
		if again, err := advRead(b1.Bytes()); err != nil {
			t.Fatal(err)
		} else {
			advCompare(t, ck, again)
		}
	}
	// Names with bytes that are not UTF-8: JSON turns them into U+FFFD
	// (gob, in version 1, kept them). Logged, not failed: names from Keras
	// files are UTF-8.
	ck := advCheckpoint(t, false)
	ck.Model.Layers[0].Name = "enc\xff"
	var b bytes.Buffer
	if err := ck.Write(&b); err != nil {
		t.Fatal(err)
	}
	if got, err := advRead(b.Bytes()); err != nil {
		t.Logf("name with invalid UTF-8: %v", err)
	} else if got.Model.Layers[0].Name != ck.Model.Layers[0].Name {
		t.Logf("name %q read back as %q", ck.Model.Layers[0].Name, got.Model.Layers[0].Name)
	}
}

// TestCheckpointAdvKinds checks kinds that cannot be rebuilt.
func TestCheckpointAdvKinds(t *testing.T) {
	ck := advCheckpoint(t, false)
	for name, f := range map[string]func(k *ckKind){
		"unknown class":  func(k *ckKind) { k.Class = "Bogus" },
		"empty class":    func(k *ckKind) { k.Class = "" },
		"bad config":     func(k *ckKind) { k.Config = "{" },
		"config array":   func(k *ckKind) { k.Config = "[1]" },
		"renorm":         func(k *ckKind) { k.Config = `{"renorm":true}` },
		"one param less": func(k *ckKind) { k.Params = k.Params[:len(k.Params)-1] },
		"one param more": func(k *ckKind) { k.Params = append(k.Params, []float32{1}) },
		"short param":    func(k *ckKind) { k.Params[0] = k.Params[0][1:] },
		"no params":      func(k *ckKind) { k.Params = nil },
		"no scale":       func(k *ckKind) { k.Config = `{"scale":false}` },
	} {
		p := payloadOf(ck)
		done := false
		for i := range p.Models {
			for j := range p.Models[i].Layers {
				if l := &p.Models[i].Layers[j]; l.Kind != nil && !done {
					f(l.Kind)
					done = true
				}
			}
		}
		b := advV2Of(t, p)
		advReject(t, name, b, advLimit(len(b)))
	}
	// Other without a kind.
	p := payloadOf(ck)
	for i := range p.Models {
		for j := range p.Models[i].Layers {
			p.Models[i].Layers[j].Kind = nil
		}
	}
	b := advV2Of(t, p)
	advReject(t, "Other without kind", b, advLimit(len(b)))
}

// TestCheckpointAdvKindConfigLost: a kind whose config holds a value JSON
// cannot hold (NaN, an infinity) must not be written as a checkpoint
// that is refused, or read back as another kind: kindToCk replaces a
// config it cannot marshal with "{}", the defaults.
func TestCheckpointAdvKindConfigLost(t *testing.T) {
	bnModel := func() *runtime.Model {
		m, err := buildSpec(4, "3:relu:bn|4:sigmoid", "", 1)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for name, set := range map[string]func(m *runtime.Model){
		// Epsilon 1e-5 is not the default 1e-3: read back with "{}",
		// the layer normalises with 1e-3.
		"BatchNormalization momentum NaN": func(m *runtime.Model) {
			m.Walk(func(_ []string, l *runtime.Layer) {
				if b, ok := l.Kind.(*runtime.BatchNormalization); ok {
					b.Momentum, b.Epsilon = math.NaN(), 1e-5
				}
			})
		},
		"Rescaling scale +Inf": func(m *runtime.Model) {
			m.Layers = append([]*runtime.Layer{{Name: "rescale", Type: runtime.Other, Class: "Rescaling",
				Kind: &runtime.Rescaling{Scale: []float32{float32(math.Inf(1))}, Offset: []float32{0}}}}, m.Layers...)
		},
		"Normalization variance +Inf": func(m *runtime.Model) {
			m.Layers = append([]*runtime.Layer{{Name: "norm", Type: runtime.Other, Class: "Normalization",
				Kind: &runtime.Normalization{Axis: -1, Mean: []float32{0, 1, 2, 3}, Variance: []float32{1, float32(math.Inf(1)), 1, 1}}}}, m.Layers...)
		},
	} {
		m := bnModel()
		set(m)
		if err := m.Validate(); err != nil {
			t.Logf("%s: not a valid model: %v", name, err)
			continue
		}
		ck := &Checkpoint{Model: m, Optimizer: "sgd", OptimizerJSON: []byte("{}"), BatchSize: 1, Epochs: 1}
		var b bytes.Buffer
		if err := ck.Write(&b); err != nil {
			continue // refused: fine
		}
		got, err := advRead(b.Bytes())
		if err != nil {
			t.Errorf("%s: Write wrote a checkpoint that ReadCheckpoint refuses: %v", name, err)
			continue
		}
		var wc, gc [][]runtime.Attr
		m.Walk(func(_ []string, l *runtime.Layer) {
			if l.Kind != nil {
				wc = append(wc, l.Kind.Config())
			}
		})
		got.Model.Walk(func(_ []string, l *runtime.Layer) {
			if l.Kind != nil {
				gc = append(gc, l.Kind.Config())
			}
		})
		if fmt.Sprint(wc) != fmt.Sprint(gc) {
			t.Errorf("%s: kinds read back with config %v, want %v", name, gc, wc)
		}
	}
}

// TestCheckpointAdvOverflowingShapes checks models whose sizes overflow
// int: a Dense layer of 2^32×2^32 weights with none (In·Units wraps to
// 0) and an input shape of 3×6148914691236517206 values (the product
// wraps to 2).
func TestCheckpointAdvOverflowingShapes(t *testing.T) {
	ck := advCheckpoint(t, false)
	ck.state.Slots, ck.state.ESBestWeights = nil, nil
	for name, m := range map[string]ckModel{
		"kernel": {Input: []int{1 << 32}, Layers: []ckLayer{{Name: "d", Type: runtime.Dense, In: 1 << 32, Units: 1 << 32, Flat: true}}},
		"input": {Input: []int{3, 6148914691236517206}, Layers: []ckLayer{
			{Name: "f", Type: runtime.Reshape, Flat: true},
			{Name: "d", Type: runtime.Dense, In: 2, Units: 1, Kernel: []float32{1, 2}, Flat: true}}},
	} {
		p := ckPayload{Models: []ckModel{m}, Ck: ck.file(), slots: append([][]float32(nil), ck.state.Slots...)}
		if _, err := advRead(advV2Of(t, p)); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
	}
}

// TestCheckpointAdvResumeState resumes Fit, in a child process (a panic
// in a worker goroutine cannot be recovered), from checkpoints whose run
// state ReadCheckpoint does not check: a negative or huge batch, a
// negative epoch or iteration count. Fit must refuse them or train, not
// crash. Measured: Batch -1 panics in net.batch ("slice bounds out of
// range [-16:]"); Epoch math.MinInt runs about 2^63 epochs (killed after
// 2 s here; by hand, still running after 10 minutes, its history at
// 946 MB and growing).
func TestCheckpointAdvResumeState(t *testing.T) {
	edit := os.Getenv("AEKIT_ADV_RESUME")
	x := randData(5, 40*20)
	dir := t.TempDir()
	if d := os.Getenv("AEKIT_ADV_DIR"); d != "" {
		dir = d
	}
	ckPath := filepath.Join(dir, "c.ckpt")
	if edit == "" {
		cfg := baseConfig(&Adam{})
		cfg.Epochs, cfg.CheckpointPath, cfg.Threads = 1, ckPath, 1
		if _, err := Fit(context.Background(), fitModel(t, 1), set(x, nil, 40), Set{}, cfg); err != nil {
			t.Fatal(err)
		}
	}
	good, err := os.ReadFile(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	meta, vals := advSplit(t, good)
	if edit != "" {
		path, raw, _ := strings.Cut(edit, "=")
		ck, err := ReadCheckpoint(bytes.NewReader(advV2(advEdit(t, meta, path, raw), vals)))
		if err != nil {
			if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("%v, want ErrCheckpoint", err)
			}
			fmt.Println("ADV: refused by ReadCheckpoint:", err)
			return
		}
		cfg := ck.Config()
		cfg.Epochs, cfg.Threads = 2, 1
		_, err = Fit(context.Background(), ck.Model, set(x, nil, 40), Set{}, cfg)
		fmt.Println("ADV: Fit:", err)
		return
	}
	for _, e := range []string{
		"Ck.Batch=-1", "Ck.Batch=-9223372036854775808", "Ck.Batch=9223372036854775807", "Ck.Batch=2",
		"Ck.Epoch=-1", "Ck.Epoch=-9223372036854775808", "Ck.Iterations=-1", "Ck.Iterations=-9223372036854775808",
		"Ck.Samples=-9223372036854775808", "Ck.ESBestEpoch=-5", "Ck.ESWait=-9223372036854775808",
		"Ck.ValN=-1", "Ck.History.Epoch=[-1,5,9223372036854775807]", "Ck.History.BestEpoch=9223372036854775807",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCheckpointAdvResumeState$", "-test.v")
		cmd.Env = append(os.Environ(), "AEKIT_ADV_RESUME="+e, "AEKIT_ADV_DIR="+dir, "GOTRACEBACK=single")
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		s := string(out)
		if timedOut {
			t.Errorf("resume with %s: Fit still running after 2 s (killed): %.300s", e, s)
			continue
		}
		if err != nil {
			if i := strings.Index(s, "\ngoroutine "); i > 0 {
				if j := strings.Index(s[i+1:], "\n\n"); j > 0 {
					s = s[:i+1+j]
				}
			}
			t.Errorf("resume with %s: %v:\n%s", e, err, s)
			continue
		}
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "ADV: ") {
				t.Logf("resume with %s: %s", e, line[5:])
			}
		}
	}
}
