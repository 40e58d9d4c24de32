// Package oip holds Go types and the gRPC service of the Open Inference
// Protocol (KServe "v2", Triton's inference.GRPCInferenceService) that
// package serve speaks, generated from grpc_service.proto: the subset of
// the protocol's public grpc_service.proto aekit serves, transcribed with
// the protocol's package name and field numbers so that Triton's and
// KServe's clients interoperate unchanged.
//
// To regenerate, install protoc (Debian protobuf-compiler),
// protoc-gen-go and protoc-gen-go-grpc:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
//
// then run go generate in this directory.
package oip

//go:generate protoc --proto_path=../.. --go_out=../.. --go_opt=paths=source_relative --go-grpc_out=../.. --go-grpc_opt=paths=source_relative internal/oip/grpc_service.proto
