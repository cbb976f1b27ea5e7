// Package inferencepb holds the generated Go code of the Open Inference
// Protocol v2 gRPC service (package inference, service
// GRPCInferenceService), wire-compatible with KServe's
// grpc_predict_v2.proto. The serve package implements the service.
package inferencepb

// Regenerate with protoc (Debian: protobuf-compiler), protoc-gen-go and
// protoc-gen-go-grpc on PATH:
//
//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative inference.proto
