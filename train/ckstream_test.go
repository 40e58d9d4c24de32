package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train/internal/order"
)

// wrapPayload returns a checkpoint of the given version around payload,
// with a matching length and CRC.
func wrapPayload(version uint32, payload []byte) []byte {
	var hdr [20]byte
	copy(hdr[:], checkpointMagic)
	binary.LittleEndian.PutUint32(hdr[8:], version)
	binary.LittleEndian.PutUint64(hdr[12:], uint64(len(payload)))
	b := append(hdr[:], payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(payload))
}

// bigCheckpoint returns a checkpoint of a 784-256-784 model (402,448
// weights) with Adam's two slots and early stopping's best weights, all
// holding distinct values.
func bigCheckpoint(t *testing.T) *Checkpoint {
	t.Helper()
	return adamCheckpoint(t, 784, "256:relu|784:sigmoid", 3, 32, &History{})
}

// adamCheckpoint returns a checkpoint at epoch 1 of the model that spec
// builds on width inputs, with Adam's two slots (distinct values), early
// stopping's best weights, history h and 9 rows of data.
func adamCheckpoint(t *testing.T, width int, spec string, seed uint64, batch int, h *History) *Checkpoint {
	t.Helper()
	m, err := buildSpec(width, spec, "", seed)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Optimizer: &Adam{}, Epochs: 2, BatchSize: batch}
	n := len(flatWeights(m))
	slots := [][]float32{make([]float32, n), make([]float32, n)}
	for i, s := range slots {
		for j := range s {
			s[j] = float32(i+1) * float32(j) / 7
		}
	}
	_, pcg := order.New(1)
	st := &runState{epoch: 1}
	st.es.BestWeights = flatWeights(m)
	return newCheckpoint(m, &cfg, slots, h, st, pcg, DataFingerprint{Rows: 9}, 0)
}

// TestCheckpointStreams checks that Write keeps the weights out of memory
// (version 1 gob-encoded them, several copies at once) and that the values
// come back bit for bit.
func TestCheckpointStreams(t *testing.T) {
	ck := bigCheckpoint(t)
	weights := 4 * (len(flatWeights(ck.Model)) + len(ck.state.Slots[0]) + len(ck.state.Slots[1]) + len(ck.state.ESBestWeights))
	var buf bytes.Buffer
	buf.Grow(weights + 1<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := ck.Write(&buf); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("Write allocated %d bytes for %d bytes of values, want under 1 MiB", got, weights)
	}
	if buf.Len() > weights+64<<10 {
		t.Errorf("checkpoint of %d bytes for %d bytes of values", buf.Len(), weights)
	}
	got, err := ReadCheckpoint(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "weights", flatWeights(ck.Model), flatWeights(got.Model))
	for i := range ck.state.Slots {
		sameBits(t, "slot", ck.state.Slots[i], got.state.Slots[i])
	}
	sameBits(t, "best weights", ck.state.ESBestWeights, got.state.ESBestWeights)
	if ck.state.Slots[0][1] == 0 || got.Fingerprint.Rows != 9 || got.Epoch != 1 {
		t.Errorf("checkpoint's fields not kept: %+v", got.Fingerprint)
	}
}

// TestCheckpointPayload checks version 2 payloads that a valid length and
// CRC wrap: the arrays' lengths must fill the payload exactly and the
// values must not be in the gob.
func TestCheckpointPayload(t *testing.T) {
	ck := bigCheckpoint(t)
	var buf bytes.Buffer
	if err := ck.Write(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	payload := good[20 : len(good)-4]
	if _, err := ReadCheckpoint(bytes.NewReader(wrapPayload(CheckpointVersion, payload))); err != nil {
		t.Fatalf("rewrapped: %v", err)
	}
	metaLen := binary.LittleEndian.Uint64(payload)
	longMeta := append([]byte(nil), payload...)
	binary.LittleEndian.PutUint64(longMeta, uint64(len(payload)))
	// The metadata with the model's values left inside it, and no values
	// after it.
	p := payloadOf(ck)
	full, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	inMeta := binary.LittleEndian.AppendUint64(nil, uint64(len(full)))
	inMeta = append(inMeta, full...)
	// The metadata followed, inside its length, by a copy of itself, or
	// by one byte; with an unknown field; nested 20,000 deep in a field
	// of its own.
	meta := payload[8 : 8+metaLen]
	rewrap := func(m []byte) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(m)))
		return append(append(b, m...), payload[8+metaLen:]...)
	}
	twice := rewrap(append(append([]byte(nil), meta...), meta...))
	oneMore := rewrap(append(append([]byte(nil), meta...), '0'))
	unknown := rewrap(append([]byte(`{"Extra":1,`), meta[1:]...))
	deep := rewrap(append([]byte(`{"Extra":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`,`), meta[1:]...))
	for name, pl := range map[string][]byte{
		"extra value":       append(append([]byte(nil), payload...), 0, 0, 128, 63),
		"extra byte":        append(append([]byte(nil), payload...), 1),
		"missing value":     payload[:len(payload)-4],
		"metadata only":     payload[:8+metaLen],
		"metadata too long": longMeta,
		"values in it":      inMeta,
		"metadata twice":    twice,
		"a byte more":       oneMore,
		"unknown field":     unknown,
		"nested deep":       deep,
		"no length":         payload[:5],
		"empty":             nil,
		"metadata cut":      payload[:8+metaLen/2],
		"half the value":    payload[:len(payload)-2],
	} {
		_, err := ReadCheckpoint(bytes.NewReader(wrapPayload(CheckpointVersion, pl)))
		if !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
	}
	// Version 1 is refused, saying so.
	_, err = ReadCheckpoint(bytes.NewReader(wrapPayload(1, full)))
	if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "version 1") {
		t.Errorf("version 1: %v, want ErrCheckpoint naming version 1", err)
	}
}

// TestCheckpointSubModels checks that sub-models round-trip through the
// payload's list of models and that lists that are not one tree, or nest
// too deep, are refused.
func TestCheckpointSubModels(t *testing.T) {
	m, err := buildSpec(12, "6:relu|12:sigmoid", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	models := ckOf(m)
	if len(models) < 3 || models[0].Layers[0].Sub == 0 {
		t.Fatalf("toCk of a model with an encoder and a decoder: %d models", len(models))
	}
	if err := checkCk(models); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "round trip", flatWeights(m), flatWeights(fromCk(models, 0)))
	for name, edit := range map[string]func(ms []ckModel){
		"self":      func(ms []ckModel) { ms[1].Layers[0].Sub = 1 },
		"backwards": func(ms []ckModel) { ms[0].Layers[0].Sub, ms[1].Layers[0].Sub = 0, 0 },
		"twice":     func(ms []ckModel) { ms[0].Layers[1].Sub = ms[0].Layers[0].Sub },
		"past end":  func(ms []ckModel) { ms[0].Layers[0].Sub = len(ms) },
		"negative":  func(ms []ckModel) { ms[0].Layers[0].Sub = -1 },
		"orphan":    func(ms []ckModel) { ms[0].Layers[1].Sub = 0 },
	} {
		ms := ckOf(m)
		edit(ms)
		if err := checkCk(ms); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
	}
	if err := checkCk(nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("no model: %v", err)
	}
	chain := make([]ckModel, maxCkDepth+2)
	for i := range len(chain) - 1 {
		chain[i].Layers = []ckLayer{{Sub: i + 1}}
	}
	if err := checkCk(chain); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("%d deep: %v, want ErrCheckpoint", len(chain)-1, err)
	}
	if err := checkCk(chain[1:]); err == nil {
		t.Errorf("indices off by one accepted")
	}
}

// TestCheckpointMirrors checks that the checkpoint's copies of
// aert.Activation and aert.Regularizers still have all their fields:
// a field added there must be added to ckAct or ckReg too.
func TestCheckpointMirrors(t *testing.T) {
	if n := reflect.TypeFor[aert.Activation]().NumField(); n != reflect.TypeFor[ckAct]().NumField() {
		t.Errorf("aert.Activation has %d fields, ckAct %d", n, reflect.TypeFor[ckAct]().NumField())
	}
	if n := reflect.TypeFor[aert.Regularizers]().NumField(); n != reflect.TypeFor[ckReg]().NumField() {
		t.Errorf("aert.Regularizers has %d fields, ckReg %d", n, reflect.TypeFor[ckReg]().NumField())
	}
	if n := reflect.TypeFor[History]().NumField(); n != reflect.TypeFor[ckHistory]().NumField() {
		t.Errorf("History has %d fields, ckHistory %d", n, reflect.TypeFor[ckHistory]().NumField())
	}
	a := aert.Activation{Func: 3, Alpha: float32(math.Inf(1)), Beta: -0.0, Threshold: float32(math.NaN()), MaxValue: 6, Capped: true, Approximate: true}
	if got := toCkAct(a).act(); math.Float32bits(got.Threshold) != math.Float32bits(a.Threshold) || got.Alpha != a.Alpha || got.Func != a.Func || !got.Capped || !got.Approximate || got.MaxValue != 6 {
		t.Errorf("activation round trip: %+v, want %+v", got, a)
	}
}

// ckOf is toCk for models the test knows it can encode.
func ckOf(m *aert.Model) []ckModel {
	models, err := toCk(m)
	if err != nil {
		panic(err)
	}
	return models
}

// payloadOf returns ck's payload as Write makes it, before it empties the
// arrays.
func payloadOf(ck *Checkpoint) ckPayload {
	return ckPayload{Models: ckOf(ck.Model), Ck: ck.file(), slots: append([][]float32(nil), ck.state.Slots...)}
}
