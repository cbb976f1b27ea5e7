package serve

import (
	"context"
	"encoding/binary"
	"math"
	"net"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/keras"
	pb "github.com/rnnkit/rnnkit/serve/inferencepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// grpcClient serves s on a loopback gRPC server and returns a client.
func grpcClient(t testing.TB, s *Server) pb.GRPCInferenceServiceClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	s.RegisterGRPC(gs)
	go gs.Serve(ln)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); gs.Stop() })
	return pb.NewGRPCInferenceServiceClient(conn)
}

func shape64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func TestGRPC(t *testing.T) {
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	f := loadGolden(t, "multi_input_multi_output", 2, 3)
	s, _ := newTestServer(t, Config{}, map[string]*keras.Model{"m": g.m, "mimo": f.m})
	c := grpcClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if r, err := c.ServerLive(ctx, &pb.ServerLiveRequest{}); err != nil || !r.Live {
		t.Fatalf("ServerLive %v %v", r, err)
	}
	if r, err := c.ServerReady(ctx, &pb.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Fatalf("ServerReady %v %v", r, err)
	}
	if r, err := c.ServerMetadata(ctx, &pb.ServerMetadataRequest{}); err != nil || r.Name != "rnnkit" {
		t.Fatalf("ServerMetadata %v %v", r, err)
	}
	if r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "m", Version: "1"}); err != nil || !r.Ready {
		t.Fatalf("ModelReady %v %v", r, err)
	}
	md, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "mimo"})
	if err != nil || len(md.Inputs) != 2 || md.Inputs[0].Name != "tokens" || md.Inputs[0].Datatype != "INT32" ||
		md.Inputs[1].Datatype != "FP32" || len(md.Outputs) != 3 || md.Outputs[2].Shape[1] != -1 {
		t.Fatalf("ModelMetadata %v %v", md, err)
	}

	ids := make([]int32, len(g.xs[0].Data))
	ids64 := make([]int64, len(ids))
	raw := make([]byte, 4*len(ids))
	for i, v := range g.xs[0].Data {
		ids[i], ids64[i] = int32(v), int64(v)
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(ids[i]))
	}
	for _, tc := range []struct {
		name string
		req  *pb.ModelInferRequest
		raw  bool
	}{
		{"INT32 contents", &pb.ModelInferRequest{ModelName: "m", Id: "g1", Inputs: []*pb.ModelInferRequest_InferInputTensor{
			{Name: "input_layer", Datatype: "INT32", Shape: shape64(g.xs[0].Shape), Contents: &pb.InferTensorContents{IntContents: ids}}}}, false},
		{"INT64 contents", &pb.ModelInferRequest{ModelName: "m", ModelVersion: "1", Id: "g1", Inputs: []*pb.ModelInferRequest_InferInputTensor{
			{Name: "input_layer", Datatype: "INT64", Shape: shape64(g.xs[0].Shape), Contents: &pb.InferTensorContents{Int64Contents: ids64}}}}, false},
		{"INT32 raw", &pb.ModelInferRequest{ModelName: "m", Id: "g1", Inputs: []*pb.ModelInferRequest_InferInputTensor{
			{Name: "input_layer", Datatype: "INT32", Shape: shape64(g.xs[0].Shape)}}, RawInputContents: [][]byte{raw}}, true},
	} {
		r, err := c.ModelInfer(ctx, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Id != "g1" || r.ModelName != "m" || r.ModelVersion != "1" || len(r.Outputs) != 1 || r.Outputs[0].Name != "lstm" {
			t.Fatalf("%s: response %v", tc.name, r)
		}
		var data []float32
		if tc.raw {
			b := r.RawOutputContents[0]
			for k := 0; k < len(b); k += 4 {
				data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(b[k:])))
			}
		} else {
			data = r.Outputs[0].Contents.Fp32Contents
		}
		closeTo(t, tc.name, data, g.ys[0])
	}

	// Multi-input with FP32 features and outputs selection.
	fids := make([]int64, len(f.xs[0].Data))
	for i, v := range f.xs[0].Data {
		fids[i] = int64(v)
	}
	r, err := c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "mimo", Inputs: []*pb.ModelInferRequest_InferInputTensor{
		{Name: "tokens", Datatype: "INT64", Shape: shape64(f.xs[0].Shape), Contents: &pb.InferTensorContents{Int64Contents: fids}},
		{Name: "features", Datatype: "FP32", Shape: shape64(f.xs[1].Shape), Contents: &pb.InferTensorContents{Fp32Contents: f.xs[1].Data}},
	}, Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "value_out"}}})
	if err != nil || len(r.Outputs) != 1 || r.Outputs[0].Name != "value_out" {
		t.Fatalf("mimo: %v %v", r, err)
	}
	closeTo(t, "mimo value_out", r.Outputs[0].Contents.Fp32Contents, f.ys[1])

	// Errors carry their codes.
	for _, tc := range []struct {
		name string
		req  *pb.ModelInferRequest
		code codes.Code
	}{
		{"unknown model", &pb.ModelInferRequest{ModelName: "nope", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "INT32", Shape: []int64{1}, Contents: &pb.InferTensorContents{IntContents: []int32{1}}}}}, codes.NotFound},
		{"token id", &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input_layer", Datatype: "INT32", Shape: []int64{1, 1}, Contents: &pb.InferTensorContents{IntContents: []int32{99}}}}}, codes.InvalidArgument},
		{"count", &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input_layer", Datatype: "INT32", Shape: []int64{1, 2}, Contents: &pb.InferTensorContents{IntContents: []int32{1}}}}}, codes.InvalidArgument},
		{"datatype", &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input_layer", Datatype: "BOOL", Shape: []int64{1, 1}, Contents: &pb.InferTensorContents{BoolContents: []bool{true}}}}}, codes.InvalidArgument},
		{"raw size", &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input_layer", Datatype: "INT32", Shape: []int64{1, 1}}}, RawInputContents: [][]byte{{1, 2, 3}}}, codes.InvalidArgument},
		{"no inputs", &pb.ModelInferRequest{ModelName: "m"}, codes.InvalidArgument},
		{"unknown version", &pb.ModelInferRequest{ModelName: "m", ModelVersion: "9", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input_layer", Datatype: "INT32", Shape: []int64{1, 1}, Contents: &pb.InferTensorContents{IntContents: []int32{1}}}}}, codes.NotFound},
	} {
		_, err := c.ModelInfer(ctx, tc.req)
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want code %v", tc.name, err, tc.code)
		}
	}
	if _, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("metadata of unknown model: %v", err)
	}
	// A client deadline that has passed is DeadlineExceeded.
	dctx, dcancel := context.WithTimeout(ctx, time.Nanosecond)
	defer dcancel()
	time.Sleep(time.Millisecond)
	_, err = c.ModelInfer(dctx, &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input_layer", Datatype: "INT32", Shape: []int64{1, 1}, Contents: &pb.InferTensorContents{IntContents: []int32{1}}}}})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("past deadline: %v", err)
	}
}
