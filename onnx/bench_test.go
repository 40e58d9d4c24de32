package onnx

import (
	"testing"
)

// BenchmarkExportImport784 writes the 784-32-784 autoencoder to ONNX bytes
// (without self-check data) and reads it back.
func BenchmarkExportImport784(b *testing.B) {
	m := caseModel(b, "ae784")
	opt := &ExportOptions{Checks: -1}
	b.ReportAllocs()
	for b.Loop() {
		buf, err := Marshal(m, opt)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(buf)))
	}
}

// BenchmarkExport784 writes the 784-32-784 autoencoder with its default
// three self-check samples.
func BenchmarkExport784(b *testing.B) {
	m := caseModel(b, "ae784")
	for b.Loop() {
		if _, err := Marshal(m, nil); err != nil {
			b.Fatal(err)
		}
	}
}
