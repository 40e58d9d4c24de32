package modelfile

import (
	"bytes"
	"os"
	"testing"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/onnx"
)

// FuzzRead feeds Read arbitrary bytes, under small limits: it must return
// a model or an error, never panic, and a model it returns must be valid.
// Run it bounded: go test ./modelfile -run '^$' -fuzz FuzzRead -fuzztime 30s
func FuzzRead(f *testing.F) {
	for _, name := range []string{"k3_seq_config.json", "k1_mlp.h5", "k3_autoencoder.keras"} {
		b, err := os.ReadFile(gen + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m, _, err := keras.ReadFile(gen+"k1_mlp.h5", nil)
	if err != nil {
		f.Fatal(err)
	}
	b, err := onnx.Marshal(m, &onnx.ExportOptions{Checks: 1, ProducerVersion: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("\x08\x07"))
	f.Add([]byte("{}"))
	opts := &Options{Keras: keras.Options{MaxConfigBytes: 1 << 20, MaxLayers: 100, MaxParams: 1 << 20,
		MaxMemberBytes: 1 << 22, MaxArchiveBytes: 1 << 23}, ONNX: onnx.ReadOptions{MaxNodes: 100}}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, info, err := Read(bytes.NewReader(b), opts)
		if err != nil {
			return
		}
		if info == nil || (info.Keras == nil) == (info.ONNX == nil) {
			t.Fatalf("info %+v", info)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Read returned an invalid model: %v", err)
		}
	})
}
