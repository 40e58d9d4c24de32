package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"hash/crc32"
	"runtime"
	"testing"

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
	m, err := buildSpec(784, "256:relu|784:sigmoid", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Optimizer: &Adam{}, Epochs: 2, BatchSize: 32}
	nt, err := newNet(m, cfg.Loss, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.close()
	slots := nt.newSlots(cfg.Optimizer)
	for i, s := range slots {
		for j := range s {
			s[j] = float32(i+1) * float32(j) / 7
		}
	}
	_, pcg := order.New(1)
	st := &runState{epoch: 1}
	st.es.BestWeights = flatWeights(m)
	return newCheckpoint(m, &cfg, slots, &History{}, st, pcg, DataFingerprint{Rows: 9}, 0)
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
	if got.Version != CheckpointVersion {
		t.Errorf("Version %d, want %d", got.Version, CheckpointVersion)
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
	gobLen := binary.LittleEndian.Uint64(payload)
	longGob := append([]byte(nil), payload...)
	binary.LittleEndian.PutUint64(longGob, uint64(len(payload)))
	// The same model as a version 1 payload (values inside the gob),
	// announced as version 2 with no values after it.
	p := ckPayload{Model: toCk(ck.Model), Ck: ck.file()}
	var v1 bytes.Buffer
	if err := gob.NewEncoder(&v1).Encode(&p); err != nil {
		t.Fatal(err)
	}
	inGob := binary.LittleEndian.AppendUint64(nil, uint64(v1.Len()))
	inGob = append(inGob, v1.Bytes()...)
	for name, pl := range map[string][]byte{
		"extra value":    append(append([]byte(nil), payload...), 0, 0, 128, 63),
		"extra byte":     append(append([]byte(nil), payload...), 1),
		"missing value":  payload[:len(payload)-4],
		"gob only":       payload[:8+gobLen],
		"gob too long":   longGob,
		"values in gob":  inGob,
		"no gob length":  payload[:5],
		"empty":          nil,
		"gob cut":        payload[:8+gobLen/2],
		"half the value": payload[:len(payload)-2],
	} {
		_, err := ReadCheckpoint(bytes.NewReader(wrapPayload(CheckpointVersion, pl)))
		if !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
	}
	// The same version 1 payload read as version 1 is a checkpoint.
	got, err := ReadCheckpoint(bytes.NewReader(wrapPayload(1, v1.Bytes())))
	if err != nil {
		t.Fatalf("version 1: %v", err)
	}
	if got.Version != 1 {
		t.Errorf("Version %d, want 1", got.Version)
	}
	sameBits(t, "version 1 weights", flatWeights(ck.Model), flatWeights(got.Model))
}
