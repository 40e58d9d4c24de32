// Package onnxpb holds Go types for the subset of the ONNX protobuf schema
// aekit reads and writes, generated from onnx.proto (written from the ONNX
// specification, with ONNX's field numbers).
//
// To regenerate, install protoc (Debian protobuf-compiler) and
// protoc-gen-go:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//
// then run go generate in this directory.
package onnxpb

//go:generate protoc --proto_path=../.. --go_out=../.. --go_opt=paths=source_relative internal/onnxpb/onnx.proto
