package train

import (
	"bytes"
	"errors"
	"github.com/aekit/aekit/train/internal/order"
	"os"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// FuzzReadCheckpoint checks that ReadCheckpoint never panics and fails
// with ErrCheckpoint (or an optimizer error) on hostile input. Each input
// is tried as it is and as a payload wrapped in a valid header and CRC,
// so that mutations reach the payload decoder. The seeds include the
// fixtures of TestCheckpointFormatFixture.
func FuzzReadCheckpoint(f *testing.F) {
	m, err := buildSpec(6, "3:relu|6:sigmoid", "", 1)
	if err != nil {
		f.Fatal(err)
	}
	for _, o := range []Optimizer{&Adam{}, &SGD{Momentum: 0.9}} {
		cfg := Config{Optimizer: o, Epochs: 1, BatchSize: 4, NoShuffle: true}
		var buf bytes.Buffer
		nt, err := newNet(m, cfg.Loss, 4, 1)
		if err != nil {
			f.Fatal(err)
		}
		_, pcg := order.New(1)
		ck := newCheckpoint(m, &cfg, nt.newSlots(o), &History{}, &runState{}, pcg, DataFingerprint{}, 0)
		nt.close()
		if err := ck.Write(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[20 : buf.Len()-4]) // the payload alone
	}
	for _, name := range []string{"shuffle.ckpt", "noshuffle.ckpt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ckpt", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[20 : len(b)-4])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(ck *Checkpoint, err error) {
			if err != nil {
				if !errors.Is(err, ErrCheckpoint) && !errors.Is(err, ErrConfig) {
					t.Fatalf("error wraps neither ErrCheckpoint nor ErrConfig: %v", err)
				}
				return
			}
			if err := ck.Model.Validate(); err != nil {
				t.Fatalf("accepted an invalid model: %v", err)
			}
		}
		check(ReadCheckpoint(bytes.NewReader(b)))
		check(ReadCheckpoint(bytes.NewReader(wrapPayload(CheckpointVersion, b))))
	})
}

// FuzzBuild checks the --layers spec parser: no panic, ErrSpec (or an
// activation error) on bad specs, valid models otherwise. Specs with
// numbers over 3 digits are skipped to keep allocations small; the limits
// are tested in TestSizeLimits.
func FuzzBuild(f *testing.F) {
	for _, s := range []string{"32:relu|784:sigmoid", "10:relu,10:relu|100:sigmoid,100:sigmoid", "8", " 3 : elu | 4:leaky_relu(0.2) ", "||", "1:,:", "5:softmax"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		run := 0
		for _, c := range spec {
			if c >= '0' && c <= '9' {
				if run++; run > 3 {
					return
				}
			} else {
				run = 0
			}
		}
		m, err := buildSpec(7, spec, "", 1)
		if err != nil {
			if !errors.Is(err, ErrSpec) && !errors.Is(err, runtime.ErrActivation) {
				t.Fatalf("%q: error wraps neither ErrSpec nor runtime.ErrActivation: %v", spec, err)
			}
			if len(err.Error()) > 2000 {
				t.Fatalf("%d-byte error", len(err.Error()))
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("%q: invalid model: %v", spec, err)
		}
	})
}
