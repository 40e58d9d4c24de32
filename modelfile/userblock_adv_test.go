package modelfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/onnx"
)

// An ONNX model whose bytes at offset 512 happen to be the HDF5 signature
// (here in a field readers skip; raw initializer data can hold any
// bytes too) is
// ONNX: its first bytes say so. Read (standard input) must tell it as
// Open (a file) does, not as an HDF5 file with a user block.
func TestAdvONNXWithHDF5SignatureAt512(t *testing.T) {
	m, _, err := keras.ReadFile(gen+"k1_mlp.h5", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnx.Marshal(m, &onnx.ExportOptions{Checks: 1, ProducerVersion: "adv"})
	if err != nil {
		t.Fatal(err)
	}
	// An unknown length-delimited field (99, which readers skip) after
	// the first field (ir_version, 2 bytes), its content placing the
	// signature at byte 512.
	if b[0] != 0x08 {
		t.Fatalf("ONNX starts with % x", b[:2])
	}
	const l = 600
	field := append(append([]byte{}, b[:2]...), 0x9a, 0x06)
	field = binary.AppendUvarint(field, l)
	doc := bytes.Repeat([]byte{'x'}, l)
	copy(doc[512-len(field):], hdf5Magic)
	crafted := append(append(field, doc...), b[2:]...)
	if !bytes.Equal(crafted[512:520], hdf5Magic) {
		t.Fatal("signature not at 512")
	}
	p := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(p, crafted, 0o644); err != nil {
		t.Fatal(err)
	}
	_, info, err := Open(p, nil)
	if err != nil || info.ONNX == nil {
		t.Fatalf("Open: %v %+v", err, info)
	}
	_, info, err = Read(bytes.NewReader(crafted), nil)
	if err != nil || info.ONNX == nil {
		t.Errorf("Read: %v, %+v; want the ONNX model Open reads", err, info)
	}
}

// A Keras HDF5 file with a user block of 4096 bytes (libhdf5 allows any
// power of two from 512; tf-keras loads it) is read by Open from a file;
// Read (standard input) must read it too, not refuse it as "not HDF5"
// because it peeks only 2056 bytes.
func TestAdvUserBlock4096(t *testing.T) {
	b, err := os.ReadFile("../internal/h5/testdata/keras_userblock512.h5")
	if err != nil {
		t.Fatal(err)
	}
	// Superblock v0 at 512: base address at +24, end of file at +40.
	big := append(make([]byte, 4096-512), b...)
	binary.LittleEndian.PutUint64(big[4096+24:], 4096)
	binary.LittleEndian.PutUint64(big[4096+40:], uint64(len(big)))
	p := filepath.Join(t.TempDir(), "model.h5")
	if err := os.WriteFile(p, big, 0o644); err != nil {
		t.Fatal(err)
	}
	m1, _, err := Open(p, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	m2, _, err := Read(bytes.NewReader(big), nil)
	if err != nil {
		t.Fatalf("Read: %v; Open reads the same bytes", err)
	}
	if len(m1.Layers) != len(m2.Layers) {
		t.Errorf("Open: %d layers, Read: %d", len(m1.Layers), len(m2.Layers))
	}
}

// endless is an endless stream of one byte, counting what was read.
type endless struct {
	c byte
	n int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.c
	}
	e.n += int64(len(p))
	return len(p), nil
}

// Bytes that are no model on standard input are refused after a bounded
// look (the user-block search reads at most about 1 MiB), not read whole.
func TestAdvReadGarbageBounded(t *testing.T) {
	src := &endless{c: 0xff}
	_, _, err := Read(src, nil)
	if err == nil || !strings.Contains(err.Error(), "not HDF5") {
		t.Fatalf("Read of endless 0xff bytes: %v", err)
	}
	if src.n > 2<<20 {
		t.Errorf("read %d bytes of garbage before refusing it", src.n)
	}
}
