package serve

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // requests compressed as tritonclient's compression_algorithm="gzip" sends them
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/oip"
)

// grpcService implements inference.GRPCInferenceService.
type grpcService struct {
	oip.UnimplementedGRPCInferenceServiceServer
	s       *Server
	methods map[string]grpcMethod // by full method name, made once (newGRPCService)
}

// newGRPCService returns s's gRPC service with its methods.
func newGRPCService(s *Server) *grpcService {
	g := &grpcService{s: s}
	g.methods = map[string]grpcMethod{
		oip.GRPCInferenceService_ServerLive_FullMethodName:     unary(g.ServerLive),
		oip.GRPCInferenceService_ServerReady_FullMethodName:    unary(g.ServerReady),
		oip.GRPCInferenceService_ModelReady_FullMethodName:     unary(g.ModelReady),
		oip.GRPCInferenceService_ServerMetadata_FullMethodName: unary(g.ServerMetadata),
		oip.GRPCInferenceService_ModelMetadata_FullMethodName:  unary(g.ModelMetadata),
		oip.GRPCInferenceService_ModelInfer_FullMethodName:     unary(g.ModelInfer),
	}
	return g
}

var _ oip.GRPCInferenceServiceServer = (*grpcService)(nil)

// grpcMethod runs one unary method, reading its request with recv.
type grpcMethod func(ctx context.Context, recv func(proto.Message) error) (proto.Message, error)

// unary makes a grpcMethod of a method of the service.
func unary[Req any, PReq interface {
	*Req
	proto.Message
}, Resp proto.Message](f func(context.Context, PReq) (Resp, error)) grpcMethod {
	return func(ctx context.Context, recv func(proto.Message) error) (proto.Message, error) {
		req := PReq(new(Req))
		if err := recv(req); err != nil {
			return nil, err
		}
		return f(ctx, req)
	}
}

// handle serves every gRPC call (grpc.UnknownServiceHandler): it takes
// Config.MaxBodyBytes of the body budget before reading the request
// message, keeps the message's size of it until the answer is sent, and
// answers once, as a unary method does.
func (g *grpcService) handle(_ any, ss grpc.ServerStream) error {
	name, _ := grpc.MethodFromServerStream(ss)
	m := g.methods[name]
	if m == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %q", limit([]byte(name)))
	}
	ctx := ss.Context()
	held := g.s.cfg.MaxBodyBytes
	if err := g.s.body.take(ctx, held); err != nil {
		return status.FromContextError(err).Err()
	}
	defer func() { g.s.body.give(held) }()
	resp, err := m(ctx, func(req proto.Message) error {
		if err := ss.RecvMsg(req); err != nil {
			return err
		}
		if n := int64(proto.Size(req)); n < held {
			g.s.body.give(held - n)
			held = n
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ss.SendMsg(resp)
}

// grpcError maps an error to its gRPC status.
func grpcError(err error) error {
	c := codes.Internal
	switch {
	case errors.Is(err, ErrInvalid):
		c = codes.InvalidArgument
	case errors.Is(err, ErrNotFound):
		c = codes.NotFound
	case errors.Is(err, ErrOverloaded):
		c = codes.ResourceExhausted
	case errors.Is(err, ErrUnavailable):
		c = codes.Unavailable
	}
	return status.Error(c, err.Error())
}

func (g *grpcService) ServerLive(context.Context, *oip.ServerLiveRequest) (*oip.ServerLiveResponse, error) {
	return &oip.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *oip.ServerReadyRequest) (*oip.ServerReadyResponse, error) {
	return &oip.ServerReadyResponse{Ready: g.s.Ready()}, nil
}

func (g *grpcService) ModelReady(_ context.Context, r *oip.ModelReadyRequest) (*oip.ModelReadyResponse, error) {
	_, err := g.s.lookup(r.GetName(), r.GetVersion())
	return &oip.ModelReadyResponse{Ready: err == nil && g.s.Ready()}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *oip.ServerMetadataRequest) (*oip.ServerMetadataResponse, error) {
	name, ver, ext := serverMetadata()
	return &oip.ServerMetadataResponse{Name: name, Version: ver, Extensions: ext}, nil
}

func (g *grpcService) ModelMetadata(_ context.Context, r *oip.ModelMetadataRequest) (*oip.ModelMetadataResponse, error) {
	mo, err := g.s.lookup(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	in, out := metadataOf(mo)
	conv := func(ts []tensorMetadata) []*oip.ModelMetadataResponse_TensorMetadata {
		var r []*oip.ModelMetadataResponse_TensorMetadata
		for _, t := range ts {
			r = append(r, &oip.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
		}
		return r
	}
	return &oip.ModelMetadataResponse{Name: mo.src.name, Versions: []string{mo.src.version}, Platform: mo.platform,
		Inputs: conv(in), Outputs: conv(out)}, nil
}

func (g *grpcService) ModelInfer(_ context.Context, r *oip.ModelInferRequest) (*oip.ModelInferResponse, error) {
	s := g.s
	start := time.Now()
	label, code := "", 200
	defer func() {
		s.met.requests.WithLabelValues(label, "grpc", strconv.Itoa(code)).Inc()
		s.met.latency.WithLabelValues(label, "grpc").Observe(time.Since(start).Seconds())
	}()
	fail := func(err error) (*oip.ModelInferResponse, error) {
		code = httpStatus(err)
		return nil, grpcError(err)
	}
	if err := s.admit(); err != nil {
		return fail(err)
	}
	defer s.release()
	defer s.answered.Add(1)
	mo, err := s.lookup(r.GetModelName(), r.GetModelVersion())
	if err != nil {
		return fail(err)
	}
	label = mo.src.name
	req, err := decodeGRPC(r)
	if err != nil {
		return fail(err)
	}
	mo, j, outs, err := s.run(req, mo, r.GetModelName(), r.GetModelVersion())
	if err != nil {
		return fail(err)
	}
	return encodeGRPC(r, mo, answer(j, mo, outs)), nil
}

// decodeGRPC decodes a ModelInferRequest: input data in
// raw_input_contents (one entry per input, in order) or in each input's
// contents.fp32_contents.
func decodeGRPC(r *oip.ModelInferRequest) (*inferRequest, error) {
	req := &inferRequest{id: r.GetId()}
	raw := r.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(r.GetInputs()) {
		return nil, invalidf("%d raw_input_contents for %d inputs", len(raw), len(r.GetInputs()))
	}
	for i, in := range r.GetInputs() {
		t := inTensor{name: in.GetName(), datatype: in.GetDatatype(), shape: in.GetShape()}
		c := in.GetContents()
		switch {
		case len(raw) > 0:
			if c != nil && len(c.GetFp32Contents()) > 0 {
				return nil, invalidf("input %q: both contents and raw_input_contents", t.name)
			}
			t.raw, t.hasData = raw[i], true
			if t.raw == nil {
				t.raw = []byte{}
			}
		case c != nil:
			t.f32, t.hasData = c.GetFp32Contents(), true
		}
		req.inputs = append(req.inputs, t)
	}
	for _, o := range r.GetOutputs() {
		if p, ok := o.GetParameters()["classification"]; ok && p.GetInt64Param() != 0 {
			return nil, invalidf("output %q: the classification extension is not supported", o.GetName())
		}
		req.outputs = append(req.outputs, o.GetName())
	}
	return req, nil
}

// encodeGRPC builds the answer, every output's data in
// raw_output_contents as Triton answers.
func encodeGRPC(r *oip.ModelInferRequest, mo *model, ts []outTensor) *oip.ModelInferResponse {
	resp := &oip.ModelInferResponse{ModelName: mo.src.name, ModelVersion: mo.src.version, Id: r.GetId()}
	for i := range ts {
		t := &ts[i]
		resp.Outputs = append(resp.Outputs, &oip.ModelInferResponse_InferOutputTensor{Name: t.name, Datatype: t.datatype, Shape: t.shape})
		resp.RawOutputContents = append(resp.RawOutputContents, appendRaw(make([]byte, 0, rawSize(t)), t))
	}
	return resp
}
