package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// benchFile returns a 60000×784 .npy file (Fashion-MNIST's shape) of the
// given dtype, "|u1" or "<f4".
func benchFile(b *testing.B, descr string) []byte {
	b.Helper()
	const n = 60000 * 784
	es := 1
	if descr == "<f4" {
		es = 4
	}
	data := make([]byte, n*es)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if descr == "<f4" {
		for i := 3; i < len(data); i += 4 {
			data[i] = 0x3f // keep values finite, in [0.5, 2)
		}
	}
	return npyFile(1, dict(descr, "(60000, 784)"), data)
}

func BenchmarkRead(b *testing.B) {
	for _, descr := range []string{"|u1", "<f4"} {
		file := benchFile(b, descr)
		b.Run(descr, func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				if _, err := Read(bytes.NewReader(file)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadFile(b *testing.B) {
	dir := b.TempDir()
	for _, descr := range []string{"|u1", "<f4"} {
		file := benchFile(b, descr)
		name := filepath.Join(dir, "x.npy")
		a, err := Read(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		if descr == "<f4" {
			err = WriteFile(name, a)
		} else {
			err = writeBytes(name, file)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Run(descr, func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				if _, err := ReadFile(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMap maps a 60000×784 float32 file and sums it, touching every
// page.
func BenchmarkMap(b *testing.B) {
	file := benchFile(b, "<f4")
	name := filepath.Join(b.TempDir(), "x.npy")
	if err := writeBytes(name, file); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		m, err := Map(name)
		if err != nil {
			b.Fatal(err)
		}
		var s float32
		for _, v := range m.Data {
			s += v
		}
		if s == 0 {
			b.Fatal("zero sum")
		}
		m.Close()
	}
}

func BenchmarkWrite(b *testing.B) {
	a, err := Read(bytes.NewReader(benchFile(b, "<f4")))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.SetBytes(int64(4 * len(a.Data)))
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, a); err != nil {
			b.Fatal(err)
		}
	}
}

func writeBytes(name string, b []byte) error {
	return os.WriteFile(name, b, 0o644)
}
