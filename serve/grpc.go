package serve

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	pb "github.com/rnnkit/rnnkit/serve/inferencepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// RegisterGRPC adds the Open Inference Protocol v2 service
// (inference.GRPCInferenceService) to g. A request's deadline is the
// client's gRPC deadline, bounded by Config.RequestTimeout.
func (s *Server) RegisterGRPC(g *grpc.Server) {
	pb.RegisterGRPCInferenceServiceServer(g, &grpcService{s: s})
}

type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

func grpcError(err error) error {
	return status.Error(grpcCode(err), err.Error())
}

func (g *grpcService) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: g.s.Ready()}, nil
}

func (g *grpcService) ModelReady(_ context.Context, r *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	if _, err := g.s.lookup(r.GetName(), r.GetVersion()); err != nil {
		return nil, grpcError(err)
	}
	return &pb.ModelReadyResponse{Ready: true}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	return &pb.ServerMetadataResponse{Name: g.s.cfg.Name, Version: g.s.cfg.Version, Extensions: []string{}}, nil
}

func (g *grpcService) ModelMetadata(_ context.Context, r *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	md, err := g.s.lookup(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	mm := g.s.metadata(md)
	conv := func(ts []tensorMeta) []*pb.ModelMetadataResponse_TensorMetadata {
		out := make([]*pb.ModelMetadataResponse_TensorMetadata, len(ts))
		for i, t := range ts {
			shape := make([]int64, len(t.Shape))
			for k, d := range t.Shape {
				shape[k] = int64(d)
			}
			out[i] = &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: shape}
		}
		return out
	}
	return &pb.ModelMetadataResponse{Name: mm.Name, Versions: mm.Versions, Platform: mm.Platform, Inputs: conv(mm.Inputs), Outputs: conv(mm.Outputs)}, nil
}

func (g *grpcService) ModelInfer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	start := time.Now()
	res, raw, err := g.infer(ctx, r)
	code := statusOf(err)
	g.s.observe(r.GetModelName(), "grpc", code, start, err)
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &pb.ModelInferResponse{ModelName: res.model, ModelVersion: res.version, Id: res.id}
	for _, o := range res.outputs {
		shape := make([]int64, len(o.t.Shape))
		for k, d := range o.t.Shape {
			shape[k] = int64(d)
		}
		out := &pb.ModelInferResponse_InferOutputTensor{Name: o.name, Datatype: "FP32", Shape: shape}
		if raw {
			b := make([]byte, 4*len(o.t.Data))
			for k, v := range o.t.Data {
				binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(v))
			}
			resp.RawOutputContents = append(resp.RawOutputContents, b)
		} else {
			out.Contents = &pb.InferTensorContents{Fp32Contents: o.t.Data}
		}
		resp.Outputs = append(resp.Outputs, out)
	}
	return resp, nil
}

// infer converts a gRPC request; raw says the answer should use
// raw_output_contents, as the request used raw_input_contents.
func (g *grpcService) infer(ctx context.Context, r *pb.ModelInferRequest) (*inferResult, bool, error) {
	req, raw, err := decodeGRPC(r)
	if err != nil {
		return nil, raw, err
	}
	res, err := g.s.infer(ctx, req)
	return res, raw, err
}

// decodeGRPC converts a ModelInferRequest to the server's form.
func decodeGRPC(r *pb.ModelInferRequest) (*inferRequest, bool, error) {
	req := &inferRequest{model: r.GetModelName(), version: r.GetModelVersion(), id: r.GetId()}
	ps := map[string]any{}
	for k, p := range r.GetParameters() {
		switch v := p.GetParameterChoice().(type) {
		case *pb.InferParameter_BoolParam:
			ps[k] = v.BoolParam
		case *pb.InferParameter_Int64Param:
			ps[k] = float64(v.Int64Param)
		case *pb.InferParameter_StringParam:
			ps[k] = v.StringParam
		}
	}
	if err := applyParameters(req, ps); err != nil {
		return nil, false, err
	}
	raw := len(r.GetRawInputContents()) > 0
	if raw && len(r.GetRawInputContents()) != len(r.GetInputs()) {
		return nil, raw, badRequest("raw_input_contents has %d entries for %d inputs", len(r.GetRawInputContents()), len(r.GetInputs()))
	}
	if len(r.GetInputs()) == 0 {
		return nil, raw, badRequest("no inputs")
	}
	for i, in := range r.GetInputs() {
		t := reqTensor{name: in.GetName(), datatype: in.GetDatatype()}
		n := int64(1)
		for _, d := range in.GetShape() {
			if d < 0 || d > math.MaxInt32 {
				return nil, raw, badRequest("input %q: shape %v: dimensions must be from 0 to 2^31", in.GetName(), in.GetShape())
			}
			n *= d
			if n > 1<<32 {
				return nil, raw, badRequest("input %q: shape %v is too large", in.GetName(), in.GetShape())
			}
			t.shape = append(t.shape, int(d))
		}
		var err error
		if raw {
			err = decodeRaw(r.GetRawInputContents()[i], &t)
		} else {
			err = decodeContents(in.GetContents(), &t)
		}
		if err != nil {
			return nil, raw, fmt.Errorf("input %q: %w", in.GetName(), err)
		}
		got := len(t.nums)
		if t.datatype == "BYTES" {
			got = len(t.strs)
		}
		if int64(got) != n {
			return nil, raw, badRequest("input %q: shape %v holds %d values, got %d", in.GetName(), in.GetShape(), n, got)
		}
		req.inputs = append(req.inputs, t)
	}
	for _, o := range r.GetOutputs() {
		req.outputs = append(req.outputs, o.GetName())
	}
	return req, raw, nil
}

func decodeContents(c *pb.InferTensorContents, t *reqTensor) error {
	if c == nil {
		return badRequest("no contents (and no raw_input_contents)")
	}
	switch t.datatype {
	case "FP32":
		t.nums = append([]float32(nil), c.GetFp32Contents()...)
	case "FP64":
		for _, v := range c.GetFp64Contents() {
			t.nums = append(t.nums, float32(v))
		}
	case "INT8", "INT16", "INT32":
		for _, v := range c.GetIntContents() {
			if err := appendNumber(t, float64(v), true); err != nil {
				return err
			}
		}
	case "INT64":
		for _, v := range c.GetInt64Contents() {
			if v > maxIntID || v < -maxIntID {
				return badRequest("INT64 value %d exceeds 2^24, the largest token id rnnkit holds exactly", v)
			}
			t.nums = append(t.nums, float32(v))
		}
	case "BYTES":
		for _, v := range c.GetBytesContents() {
			t.strs = append(t.strs, string(v))
		}
	default:
		return badRequest("datatype %q is not one of FP32, FP64, INT32, INT64, BYTES", t.datatype)
	}
	return nil
}

// decodeRaw reads little-endian raw contents.
func decodeRaw(b []byte, t *reqTensor) error {
	size := 0
	switch t.datatype {
	case "FP32", "INT32":
		size = 4
	case "FP64", "INT64":
		size = 8
	case "BYTES":
		for len(b) > 0 {
			if len(b) < 4 {
				return badRequest("raw BYTES contents end inside a length prefix")
			}
			n := binary.LittleEndian.Uint32(b)
			b = b[4:]
			if uint64(n) > uint64(len(b)) {
				return badRequest("raw BYTES element of %d bytes exceeds the contents", n)
			}
			t.strs = append(t.strs, string(b[:n]))
			b = b[n:]
		}
		return nil
	default:
		return badRequest("datatype %q is not one of FP32, FP64, INT32, INT64, BYTES", t.datatype)
	}
	if len(b)%size != 0 {
		return badRequest("raw contents of %d bytes are not a whole number of %s values", len(b), t.datatype)
	}
	t.nums = make([]float32, 0, len(b)/size)
	for k := 0; k < len(b); k += size {
		var err error
		switch t.datatype {
		case "FP32":
			t.nums = append(t.nums, math.Float32frombits(binary.LittleEndian.Uint32(b[k:])))
		case "FP64":
			t.nums = append(t.nums, float32(math.Float64frombits(binary.LittleEndian.Uint64(b[k:]))))
		case "INT32":
			err = appendNumber(t, float64(int32(binary.LittleEndian.Uint32(b[k:]))), true)
		case "INT64":
			v := int64(binary.LittleEndian.Uint64(b[k:]))
			if v > maxIntID || v < -maxIntID {
				return badRequest("INT64 value %d exceeds 2^24, the largest token id rnnkit holds exactly", v)
			}
			t.nums = append(t.nums, float32(v))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
