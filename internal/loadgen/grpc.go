package loadgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/aekit/aekit/internal/oip"
)

// maxGRPCMessage bounds a gRPC answer the load generator accepts.
const maxGRPCMessage = 64 << 20

// grpcSender returns a sendFunc for GRPC: ModelInfer with each row in
// raw_input_contents (as Triton's and KServe's clients send it), one
// channel (HTTP/2 connection) per client.
func grpcSender(cfg *Config, rows [][]float32) (sendFunc, func(), error) {
	raws := make([][]byte, len(rows))
	for i, row := range rows {
		raw := make([]byte, 4*len(row))
		for j, v := range row {
			binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(v))
		}
		raws[i] = raw
	}
	conns := make([]*grpc.ClientConn, cfg.Clients)
	closeAll := func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}
	clients := make([]oip.GRPCInferenceServiceClient, cfg.Clients)
	for c := range conns {
		conn, err := grpc.NewClient(cfg.GRPCAddr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxGRPCMessage)))
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("loadgen: gRPC %s: %w", cfg.GRPCAddr, err)
		}
		conns[c] = conn
		clients[c] = oip.NewGRPCInferenceServiceClient(conn)
	}
	model, version, input, width, timeout := cfg.Model, cfg.Version, cfg.Input, cfg.Width, cfg.Timeout
	send := func(ctx context.Context, c, i int, check bool) record {
		req := &oip.ModelInferRequest{
			ModelName:    model,
			ModelVersion: version,
			Inputs: []*oip.ModelInferRequest_InferInputTensor{{
				Name: input, Datatype: "FP32", Shape: []int64{1, int64(width)},
			}},
			RawInputContents: [][]byte{raws[i%len(raws)]},
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		t0 := time.Now()
		resp, err := clients[c].ModelInfer(cctx, req)
		lat := time.Since(t0)
		if err != nil {
			st, ok := status.FromError(err)
			if !ok || ctx.Err() != nil {
				return record{err: err}
			}
			return record{latency: lat, status: st.Code().String(), err: fmt.Errorf("%w: gRPC %s: %.200s", ErrBadResponse, st.Code(), st.Message())}
		}
		r := record{latency: lat, status: "OK"}
		if check {
			n, err := grpcOutputCount(resp)
			if err == nil && n != width {
				err = fmt.Errorf("%w: %d output values, want %d", ErrBadResponse, n, width)
			}
			r.err = err
		}
		return r
	}
	return send, closeAll, nil
}

// grpcOutputCount checks a ModelInfer answer and returns its first
// output's element count, from raw_output_contents or typed contents.
func grpcOutputCount(resp *oip.ModelInferResponse) (int, error) {
	if len(resp.Outputs) == 0 {
		return 0, fmt.Errorf("%w: no outputs", ErrBadResponse)
	}
	o := resp.Outputs[0]
	want := int64(1)
	for _, d := range o.Shape {
		want *= d
	}
	var n int
	switch {
	case len(resp.RawOutputContents) > 0:
		if len(resp.RawOutputContents) != len(resp.Outputs) {
			return 0, fmt.Errorf("%w: %d raw outputs for %d outputs", ErrBadResponse, len(resp.RawOutputContents), len(resp.Outputs))
		}
		raw := resp.RawOutputContents[0]
		if o.Datatype != "FP32" || len(raw)%4 != 0 {
			return 0, fmt.Errorf("%w: output %q: %s with %d bytes, want FP32", ErrBadResponse, o.Name, o.Datatype, len(raw))
		}
		n = len(raw) / 4
	case o.Contents != nil:
		n = len(o.Contents.Fp32Contents)
	}
	if int64(n) != want {
		return 0, fmt.Errorf("%w: output %q has %d values for shape %v", ErrBadResponse, o.Name, n, o.Shape)
	}
	return n, nil
}
