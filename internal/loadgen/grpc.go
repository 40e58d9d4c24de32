package loadgen

import (
	"context"
	"fmt"
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
		raws[i] = EncodeFP32(row)
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
	model, version, input, width, timeout, verify := cfg.Model, cfg.Version, cfg.Input, cfg.Width, cfg.Timeout, cfg.Verify
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
			out, err := grpcOutput(resp)
			if err == nil {
				err = checkOutput(out, width, i%len(raws), verify)
			}
			r.err = err
		}
		return r
	}
	return send, closeAll, nil
}

// grpcOutput checks a ModelInfer answer and returns its first output's
// values, from raw_output_contents or typed contents.
func grpcOutput(resp *oip.ModelInferResponse) ([]float32, error) {
	if len(resp.Outputs) == 0 {
		return nil, fmt.Errorf("%w: no outputs", ErrBadResponse)
	}
	o := resp.Outputs[0]
	want := int64(1)
	for _, d := range o.Shape {
		want *= d
	}
	var out []float32
	switch {
	case len(resp.RawOutputContents) > 0:
		if len(resp.RawOutputContents) != len(resp.Outputs) {
			return nil, fmt.Errorf("%w: %d raw outputs for %d outputs", ErrBadResponse, len(resp.RawOutputContents), len(resp.Outputs))
		}
		raw := resp.RawOutputContents[0]
		if o.Datatype != "FP32" || len(raw)%4 != 0 {
			return nil, fmt.Errorf("%w: output %q: %s with %d bytes, want FP32", ErrBadResponse, o.Name, o.Datatype, len(raw))
		}
		out = DecodeFP32(raw)
	case o.Contents != nil:
		out = o.Contents.Fp32Contents
	}
	if int64(len(out)) != want {
		return nil, fmt.Errorf("%w: output %q has %d values for shape %v", ErrBadResponse, o.Name, len(out), o.Shape)
	}
	return out, nil
}
