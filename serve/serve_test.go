package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/text"
)

const goldens = "../testdata/goldens"

// golden is a reference case: its model and Keras' inputs and outputs.
type golden struct {
	m  *keras.Model
	xs []*keras.Tensor
	ys []*keras.Tensor
}

func loadGolden(t testing.TB, name string, nx, ny int) golden {
	t.Helper()
	dir := filepath.Join(goldens, name)
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	g := golden{m: m}
	for i := 0; i < nx; i++ {
		x, err := keras.ReadNPYFile(filepath.Join(dir, fmt.Sprintf("x%d.npy", i)))
		if err != nil {
			t.Fatal(err)
		}
		g.xs = append(g.xs, x)
	}
	for i := 0; i < ny; i++ {
		y, err := keras.ReadNPYFile(filepath.Join(dir, fmt.Sprintf("y%d.npy", i)))
		if err != nil {
			t.Fatal(err)
		}
		g.ys = append(g.ys, y)
	}
	return g
}

// newTestServer serves models on a loopback HTTP server.
func newTestServer(t testing.TB, cfg Config, models map[string]*keras.Model) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	s := New(cfg)
	for name, m := range models {
		if err := s.AddModel(name, "1", m, ModelOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close(context.Background())
	})
	return s, hs
}

// do sends a request and returns the status and body; a body that is
// not JSON fails the test.
func do(t testing.TB, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if strings.TrimSpace(string(b)) != "" && !strings.HasPrefix(url[strings.LastIndex(url, "/"):], "/metrics") {
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s %s: status %d, body is not JSON: %q", method, url, resp.StatusCode, b)
		}
	}
	if resp.StatusCode >= 400 {
		if _, ok := v["error"].(string); !ok {
			t.Fatalf("%s %s: status %d without {\"error\": ...}: %q", method, url, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, v
}

// v2Body builds a v2 infer body from tensors.
func v2Body(id string, names []string, dts []string, xs ...*keras.Tensor) string {
	type in struct {
		Name     string    `json:"name"`
		Shape    []int     `json:"shape"`
		Datatype string    `json:"datatype"`
		Data     []float32 `json:"data"`
	}
	var ins []in
	for i, x := range xs {
		ins = append(ins, in{Name: names[i], Shape: x.Shape, Datatype: dts[i], Data: x.Data})
	}
	b, _ := json.Marshal(map[string]any{"id": id, "inputs": ins})
	return string(b)
}

// flat reads nested JSON numbers.
func flat(v any) []float32 {
	switch x := v.(type) {
	case float64:
		return []float32{float32(x)}
	case []any:
		var out []float32
		for _, e := range x {
			out = append(out, flat(e)...)
		}
		return out
	}
	return nil
}

func closeTo(t testing.TB, what string, got []float32, want *keras.Tensor) {
	t.Helper()
	if len(got) != len(want.Data) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want.Data))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want.Data[i])); d > keras.DefaultAtol+keras.DefaultRtol*math.Abs(float64(want.Data[i])) {
			t.Fatalf("%s: value %d is %v, Keras %v", what, i, got[i], want.Data[i])
		}
	}
}

func TestEndpoints(t *testing.T) {
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"m": g.m})
	for _, tc := range []struct {
		path string
		code int
		key  string
	}{
		{"/v2", 200, "name"},
		{"/v2/health/live", 200, "live"},
		{"/v2/health/ready", 200, "ready"},
		{"/v2/models/m", 200, "inputs"},
		{"/v2/models/m/versions/1", 200, "outputs"},
		{"/v2/models/m/ready", 200, "ready"},
		{"/v2/models/m/versions/1/ready", 200, "ready"},
		{"/v1/models/m", 200, "model_version_status"},
		{"/v1/models/m/versions/1", 200, "model_version_status"},
		{"/v1/models/m/metadata", 200, "metadata"},
		{"/v1/models/m/versions/1/metadata", 200, "model_spec"},
		{"/v2/models/nope", 404, "error"},
		{"/v2/models/m/versions/7", 404, "error"},
		{"/v2/models/nope/ready", 404, "error"},
		{"/v1/models/nope", 404, "error"},
		{"/v1/models/m/versions/3/metadata", 404, "error"},
		{"/nothing/here", 404, "error"},
	} {
		code, v := do(t, "GET", hs.URL+tc.path, "")
		if code != tc.code || v[tc.key] == nil {
			t.Errorf("GET %s: %d %v, want %d with %q", tc.path, code, v, tc.code, tc.key)
		}
	}
	_, meta := do(t, "GET", hs.URL+"/v2/models/m", "")
	in := meta["inputs"].([]any)[0].(map[string]any)
	if in["name"] != "input_layer" || in["datatype"] != "INT32" || fmt.Sprint(in["shape"]) != "[-1 -1]" {
		t.Errorf("input metadata %v", in)
	}
	out := meta["outputs"].([]any)[0].(map[string]any)
	if out["name"] != "lstm" || out["datatype"] != "FP32" || fmt.Sprint(out["shape"]) != "[-1 8]" {
		t.Errorf("output metadata %v", out)
	}
}

func TestV2InferMatchesKeras(t *testing.T) {
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"m": g.m})
	for _, dt := range []string{"INT32", "INT64"} {
		for _, path := range []string{"/v2/models/m/infer", "/v2/models/m/versions/1/infer"} {
			code, v := do(t, "POST", hs.URL+path, v2Body("req-7", []string{"input_layer"}, []string{dt}, g.xs[0]))
			if code != 200 {
				t.Fatalf("%s %s: %d %v", dt, path, code, v)
			}
			if v["id"] != "req-7" || v["model_name"] != "m" || v["model_version"] != "1" {
				t.Errorf("response header fields %v", v)
			}
			o := v["outputs"].([]any)[0].(map[string]any)
			if o["name"] != "lstm" || o["datatype"] != "FP32" || fmt.Sprint(o["shape"]) != "[3 8]" {
				t.Errorf("output %v", o)
			}
			closeTo(t, dt+path, flat(o["data"]), g.ys[0])
		}
	}
	// Nested data is accepted too.
	body := `{"inputs":[{"name":"input_layer","shape":[3,7],"datatype":"INT32","data":` + nested(g.xs[0]) + `}]}`
	code, v := do(t, "POST", hs.URL+"/v2/models/m/infer", body)
	if code != 200 {
		t.Fatalf("nested: %d %v", code, v)
	}
	closeTo(t, "nested", flat(v["outputs"].([]any)[0].(map[string]any)["data"]), g.ys[0])
}

func nested(x *keras.Tensor) string {
	return string(appendNested(nil, x.Data, x.Shape))
}

func TestMultiInputOutputsSelection(t *testing.T) {
	g := loadGolden(t, "multi_input_multi_output", 2, 3)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"mimo": g.m})
	// Inputs named out of order, two of the three outputs asked for.
	body := map[string]any{
		"inputs": []map[string]any{
			{"name": "features", "shape": g.xs[1].Shape, "datatype": "FP32", "data": g.xs[1].Data},
			{"name": "tokens", "shape": g.xs[0].Shape, "datatype": "INT64", "data": g.xs[0].Data},
		},
		"outputs": []map[string]any{{"name": "seq_out"}, {"name": "class_out"}},
	}
	b, _ := json.Marshal(body)
	code, v := do(t, "POST", hs.URL+"/v2/models/mimo/infer", string(b))
	if code != 200 {
		t.Fatalf("%d %v", code, v)
	}
	outs := v["outputs"].([]any)
	if len(outs) != 2 {
		t.Fatalf("got %d outputs, want the 2 asked for", len(outs))
	}
	for i, want := range []struct {
		name string
		y    *keras.Tensor
	}{{"seq_out", g.ys[2]}, {"class_out", g.ys[0]}} {
		o := outs[i].(map[string]any)
		if o["name"] != want.name {
			t.Errorf("output %d is %v, want %s", i, o["name"], want.name)
		}
		closeTo(t, want.name, flat(o["data"]), want.y)
	}
	body["outputs"] = []map[string]any{{"name": "nope"}}
	b, _ = json.Marshal(body)
	if code, _ := do(t, "POST", hs.URL+"/v2/models/mimo/infer", string(b)); code != 400 {
		t.Errorf("unknown output: %d, want 400", code)
	}
	// TF Serving row format with named inputs; predictions are objects.
	var inst []map[string]any
	rows := g.xs[0].Shape[0]
	tl, fl := len(g.xs[0].Data)/rows, len(g.xs[1].Data)/rows
	for r := 0; r < rows; r++ {
		inst = append(inst, map[string]any{"tokens": g.xs[0].Data[r*tl : (r+1)*tl], "features": g.xs[1].Data[r*fl : (r+1)*fl]})
	}
	b, _ = json.Marshal(map[string]any{"instances": inst})
	code, v = do(t, "POST", hs.URL+"/v1/models/mimo:predict", string(b))
	if code != 200 {
		t.Fatalf("tf rows: %d %v", code, v)
	}
	preds := v["predictions"].([]any)
	var class []float32
	for _, p := range preds {
		class = append(class, flat(p.(map[string]any)["class_out"])...)
	}
	closeTo(t, "tf class_out", class, g.ys[0])
	// Columnar with named inputs: outputs by name.
	b, _ = json.Marshal(map[string]any{"inputs": map[string]any{"tokens": json.RawMessage(nested(g.xs[0])), "features": json.RawMessage(nested(g.xs[1]))}})
	code, v = do(t, "POST", hs.URL+"/v1/models/mimo:predict", string(b))
	if code != 200 {
		t.Fatalf("tf columnar: %d %v", code, v)
	}
	closeTo(t, "tf columnar value_out", flat(v["outputs"].(map[string]any)["value_out"]), g.ys[1])
}

func TestTFServingPredict(t *testing.T) {
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"m": g.m})
	x := nested(g.xs[0])
	for _, tc := range []struct{ path, body, key string }{
		{"/v1/models/m:predict", `{"instances":` + x + `}`, "predictions"},
		{"/v1/models/m/versions/1:predict", `{"signature_name":"serving_default","instances":` + x + `}`, "predictions"},
		{"/v1/models/m:predict", `{"inputs":` + x + `}`, "outputs"},
		{"/v1/models/m:predict", `{"inputs":{"input_layer":` + x + `}}`, "outputs"},
		{"/v1/models/m:predict", `{"instances":[` + strings.Join(rowsOf(g.xs[0], "input_layer"), ",") + `]}`, "predictions"},
	} {
		code, v := do(t, "POST", hs.URL+tc.path, tc.body)
		if code != 200 {
			t.Fatalf("%s %s: %d %v", tc.path, tc.body[:30], code, v)
		}
		got := v[tc.key].([]any)
		if len(got) != 3 {
			t.Fatalf("%s: %d rows, want 3", tc.key, len(got))
		}
		closeTo(t, tc.path+" "+tc.key, flat(got), g.ys[0])
	}
}

func rowsOf(x *keras.Tensor, name string) []string {
	n := len(x.Data) / x.Shape[0]
	var out []string
	for r := 0; r < x.Shape[0]; r++ {
		out = append(out, fmt.Sprintf(`{%q:%s}`, name, string(appendNested(nil, x.Data[r*n:(r+1)*n], x.Shape[1:]))))
	}
	return out
}

func TestErrors(t *testing.T) {
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	f := loadGolden(t, "multi_input_multi_output", 2, 3)
	s, hs := newTestServer(t, Config{MaxBodyBytes: 4096, MaxRequestBatch: 4, MaxSequenceLength: 50},
		map[string]*keras.Model{"m": g.m, "mimo": f.m})
	good := `{"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1,2,3]}]}`
	long := make([]string, 60)
	for i := range long {
		long[i] = "1"
	}
	for _, tc := range []struct {
		name, path, body string
		code             int
		want             string
	}{
		{"malformed", "/v2/models/m/infer", `{"inputs":[`, 400, "malformed JSON"},
		{"not an object", "/v2/models/m/infer", `[1,2]`, 400, "malformed JSON"},
		{"trailing", "/v2/models/m/infer", good + `{}`, 400, "after the JSON"},
		{"no inputs", "/v2/models/m/infer", `{"inputs":[]}`, 400, "no inputs"},
		{"count", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1,2]}]}`, 400, "holds 3 values"},
		{"rank", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[3],"datatype":"INT32","data":[1,2,3]}]}`, 400, "rank"},
		{"token id", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1,2,30]}]}`, 400, "vocabulary"},
		{"negative id", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,1],"datatype":"INT64","data":[-1]}]}`, 400, "vocabulary"},
		{"float as int", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,1],"datatype":"INT32","data":[1.5]}]}`, 400, "not an integer"},
		{"string data", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,1],"datatype":"INT32","data":["a"]}]}`, 400, "want numbers"},
		{"bad datatype", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,1],"datatype":"FP128","data":[1]}]}`, 400, "datatype"},
		{"bytes no tokenizer", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1],"datatype":"BYTES","data":["hi"]}]}`, 400, "tokenizer"},
		{"int to float input", "/v2/models/mimo/infer", `{"inputs":[{"name":"tokens","shape":[1,2],"datatype":"INT32","data":[1,2]},{"name":"features","shape":[1,5],"datatype":"INT32","data":[1,2,3,4,5]}]}`, 400, "does not fit"},
		{"wrong feature dim", "/v2/models/mimo/infer", `{"inputs":[{"name":"tokens","shape":[1,2],"datatype":"INT32","data":[1,2]},{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, 400, "dimension 1"},
		{"unknown input", "/v2/models/m/infer", `{"inputs":[{"name":"x","shape":[1,1],"datatype":"INT32","data":[1]}]}`, 400, "no input"},
		{"too many rows", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[5,1],"datatype":"INT32","data":[1,2,3,4,5]}]}`, 400, "limit"},
		{"too long", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,60],"datatype":"INT32","data":[` + strings.Join(long, ",") + `]}]}`, 400, "limit"},
		{"stream on stateless", "/v2/models/m/infer", `{"parameters":{"sequence_id":"a"},"inputs":[{"name":"input_layer","shape":[1,1],"datatype":"INT32","data":[1]}]}`, 400, "not stateful"},
		{"unknown model", "/v2/models/nope/infer", good, 404, "nope"},
		{"unknown version", "/v2/models/m/versions/2/infer", good, 404, "version"},
		{"oversize", "/v2/models/m/infer", `{"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1,2,3` + strings.Repeat(",1", 3000) + `]}]}`, 413, "limit"},
		{"tf malformed", "/v1/models/m:predict", `{"instances":`, 400, "malformed"},
		{"tf both", "/v1/models/m:predict", `{"instances":[[1]],"inputs":[[1]]}`, 400, "exactly one"},
		{"tf neither", "/v1/models/m:predict", `{}`, 400, "exactly one"},
		{"tf ragged", "/v1/models/m:predict", `{"instances":[[1,2],[3]]}`, 400, "ragged"},
		{"tf token id", "/v1/models/m:predict", `{"instances":[[1,2,300]]}`, 400, "vocabulary"},
		{"tf float id", "/v1/models/m:predict", `{"instances":[[1,2.5]]}`, 400, "token id"},
		{"tf rank", "/v1/models/m:predict", `{"instances":[1,2]}`, 400, "rank"},
		{"tf unnamed multi", "/v1/models/mimo:predict", `{"instances":[[1,2]]}`, 400, "name them"},
		{"tf missing input", "/v1/models/mimo:predict", `{"inputs":{"tokens":[[1]]}}`, 400, "missing"},
		{"tf unknown model", "/v1/models/nope:predict", `{"instances":[[1]]}`, 404, "nope"},
		{"tf classify", "/v1/models/m:classify", `{}`, 404, "not supported"},
		{"tf oversize", "/v1/models/m:predict", `{"instances":[[1` + strings.Repeat(",1", 3000) + `]]}`, 413, "limit"},
	} {
		code, v := do(t, "POST", hs.URL+tc.path, tc.body)
		msg, _ := v["error"].(string)
		if code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, code, msg, tc.code, tc.want)
		}
	}
	// Still ready and answering.
	if code, _ := do(t, "GET", hs.URL+"/v2/health/ready", ""); code != 200 {
		t.Errorf("not ready after bad requests: %d", code)
	}
	if code, v := do(t, "POST", hs.URL+"/v2/models/m/infer", good); code != 200 {
		t.Errorf("good request after bad ones: %d %v", code, v)
	}
	// Metrics count the answers by code.
	body := metricsText(t, hs.URL)
	for _, want := range []string{
		`rnnkit_requests_total{code="400",model="m",protocol="v2"}`,
		`rnnkit_requests_total{code="413",model="m",protocol="v2"}`,
		`rnnkit_requests_total{code="404",model="nope",protocol="tfserving"}`,
		`rnnkit_requests_total{code="200",model="m",protocol="v2"} 1`,
		"rnnkit_request_duration_seconds_bucket", "rnnkit_batch_size_bucket", "rnnkit_queue_depth",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_ = s
}

func metricsText(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestBatchingJoinsAndMatches sends concurrent requests of different
// lengths and batch sizes to a masked model: they are joined into
// batches (the batch-size histogram shows it) and each answer equals
// the model run on that request alone, bit for bit.
func TestBatchingJoinsAndMatches(t *testing.T) {
	for _, name := range []string{"emb_lstm_mask_post_last", "emb_gru_nomask_last", "bidi_lstm_mask_seq"} {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name, 1, 1)
			s, hs := newTestServer(t, Config{MaxBatch: 64, BatchTimeout: 20 * time.Millisecond, Workers: 1}, map[string]*keras.Model{"m": g.m})
			md, _ := s.lookup("m", "")
			wantPad := name != "emb_gru_nomask_last"
			if (md.pad != nil) != wantPad {
				t.Fatalf("padding allowed: %v, want %v", md.pad != nil, wantPad)
			}
			vocab := g.m.Inputs()[0].VocabularySize
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for c := 0; c < 24; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					rows, steps := 1+c%3, 2+c%5
					ids := make([]int, rows*steps)
					for i := range ids {
						ids[i] = 1 + (c*7+i*3)%(vocab-1)
					}
					x, _ := keras.FromTokenIDs(ids, rows, steps)
					want, err := g.m.Predict(x)
					if err != nil {
						errs <- err
						return
					}
					b, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input_layer", "shape": x.Shape, "datatype": "INT32", "data": ids}}})
					resp, err := http.Post(hs.URL+"/v2/models/m/infer", "application/json", bytes.NewReader(b))
					if err != nil {
						errs <- err
						return
					}
					defer resp.Body.Close()
					var v struct {
						Outputs []struct {
							Shape []int     `json:"shape"`
							Data  []float32 `json:"data"`
						} `json:"outputs"`
					}
					if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
						errs <- fmt.Errorf("status %d, %v", resp.StatusCode, err)
						return
					}
					got, _ := keras.FromFloat32(v.Outputs[0].Data, v.Outputs[0].Shape...)
					if !sameTensors([]*keras.Tensor{got}, want[:1]) {
						errs <- fmt.Errorf("client %d: batched answer %v differs from the request alone %v", c, got.Shape, want[0].Shape)
					}
				}(c)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			sum, count := histogram(t, metricsText(t, hs.URL), "rnnkit_batch_size")
			if count == 0 || sum/count <= 1.5 {
				t.Errorf("mean batch %v over %v batches: requests were not joined", sum/count, count)
			}
		})
	}
}

// histogram reads a histogram's _sum and _count from metrics text.
func histogram(t testing.TB, text, name string) (sum, count float64) {
	for _, line := range strings.Split(text, "\n") {
		var v float64
		if strings.HasPrefix(line, name+"_sum") {
			fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v)
			sum += v
		}
		if strings.HasPrefix(line, name+"_count") {
			fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v)
			count += v
		}
	}
	return sum, count
}

// TestStatefulStreams serves a stateful generator: one session per
// sequence_id reproduces Keras' calls in order; without an id the request
// is refused.
func TestStatefulStreams(t *testing.T) {
	g := loadGolden(t, "char_gru_generator_stateful", 3, 3)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"gen": g.m})
	call := func(stream string, start bool, x *keras.Tensor) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{
			"parameters": map[string]any{"sequence_id": stream, "sequence_start": start},
			"inputs":     []map[string]any{{"name": "input_layer", "shape": x.Shape, "datatype": "INT32", "data": x.Data}},
		})
		return do(t, "POST", hs.URL+"/v2/models/gen/infer", string(b))
	}
	// Two streams interleaved: each carries its own states.
	for k := 0; k < 3; k++ {
		for _, stream := range []string{"a", "b"} {
			code, v := call(stream, k == 0, g.xs[k])
			if code != 200 {
				t.Fatalf("stream %s call %d: %d %v", stream, k, code, v)
			}
			closeTo(t, fmt.Sprintf("stream %s call %d", stream, k), flat(v["outputs"].([]any)[0].(map[string]any)["data"]), g.ys[k])
		}
	}
	code, v := do(t, "POST", hs.URL+"/v2/models/gen/infer", v2Body("", []string{"input_layer"}, []string{"INT32"}, g.xs[0]))
	if code != 400 || !strings.Contains(v["error"].(string), "sequence_id") {
		t.Errorf("no sequence_id: %d %v", code, v)
	}
}

func TestDeadlineAndQueueFull(t *testing.T) {
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	_, hs := newTestServer(t, Config{MaxBatch: 1, Workers: 1, QueueSize: 1}, map[string]*keras.Model{"m": g.m})
	// A 1µs deadline passes before the call can run.
	body := `{"parameters":{"timeout":1},"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1,2,3]}]}`
	code, v := do(t, "POST", hs.URL+"/v2/models/m/infer", body)
	if code != 504 {
		t.Errorf("1µs timeout: %d %v, want 504", code, v)
	}
	// A long sequence keeps the one worker busy; with a queue of one,
	// concurrent requests are refused with 503.
	ids := make([]string, 20000)
	for i := range ids {
		ids[i] = "1"
	}
	slow := `{"inputs":[{"name":"input_layer","shape":[1,20000],"datatype":"INT32","data":[` + strings.Join(ids, ",") + `]}]}`
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := do(t, "POST", hs.URL+"/v2/models/m/infer", slow)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[503] == 0 || codes[200] == 0 || codes[200]+codes[503] != 12 {
		t.Errorf("answers by code %v: want some 200 and some 503, nothing else", codes)
	}
}

// readTextCase reads a text golden's Keras outputs (y0.npy) and its
// texts (texts.json).
func readTextCase(t *testing.T, dir string) (*keras.Tensor, []string) {
	t.Helper()
	y, err := keras.ReadNPYFile(filepath.Join(dir, "y0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "texts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	if err := json.Unmarshal(b, &texts); err != nil {
		t.Fatal(err)
	}
	return y, texts
}

// TestStringInput serves a model whose input is a string feeding
// TextVectorization: BYTES go to it directly, over v2 and TF Serving,
// batched, and reproduce Keras.
func TestStringInput(t *testing.T) {
	dir := "../testdata/goldens-text/textvectorization/tv_default_len12_lstm"
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	y, texts := readTextCase(t, dir)
	_, hs := newTestServer(t, Config{BatchTimeout: 10 * time.Millisecond}, map[string]*keras.Model{"tv": m})
	_, meta := do(t, "GET", hs.URL+"/v2/models/tv", "")
	if in := meta["inputs"].([]any)[0].(map[string]any); in["datatype"] != "BYTES" {
		t.Errorf("string input metadata %v", in)
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input_layer", "shape": []int{len(texts)}, "datatype": "BYTES", "data": texts}}})
	code, v := do(t, "POST", hs.URL+"/v2/models/tv/infer", string(body))
	if code != 200 {
		t.Fatalf("%d %v", code, v)
	}
	closeTo(t, "v2 BYTES", flat(v["outputs"].([]any)[0].(map[string]any)["data"]), y)
	body, _ = json.Marshal(map[string]any{"instances": texts})
	code, v = do(t, "POST", hs.URL+"/v1/models/tv:predict", string(body))
	if code != 200 {
		t.Fatalf("tf: %d %v", code, v)
	}
	closeTo(t, "tf strings", flat(v["predictions"]), y)
	// One text per request, concurrently: joined into batches.
	rows := y.Shape[0]
	n := len(y.Data) / rows
	var wg sync.WaitGroup
	for r := 0; r < rows; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input_layer", "shape": []int{1}, "datatype": "BYTES", "data": texts[r : r+1]}}})
			code, v := do(t, "POST", hs.URL+"/v2/models/tv/infer", string(body))
			if code != 200 {
				t.Errorf("row %d: %d %v", r, code, v)
				return
			}
			want, _ := keras.FromFloat32(y.Data[r*n:(r+1)*n], 1, n)
			closeTo(t, fmt.Sprintf("row %d", r), flat(v["outputs"].([]any)[0].(map[string]any)["data"]), want)
		}(r)
	}
	wg.Wait()
	body = []byte(`{"inputs":[{"name":"input_layer","shape":[1],"datatype":"FP32","data":[1]}]}`)
	if code, _ := do(t, "POST", hs.URL+"/v2/models/tv/infer", string(body)); code != 400 {
		t.Errorf("numbers to a string input: %d, want 400", code)
	}
}

// TestTokenizerBytes serves a token-id model with a Keras Tokenizer
// configured: BYTES texts become the padded ids Keras' pipeline feeds
// (Tokenizer, pad_sequences pre-padding, post-truncating), and the
// answers reproduce Keras.
func TestTokenizerBytes(t *testing.T) {
	dir := "../testdata/goldens-text-extra/x_pipe_simplernn_oov_pre"
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := text.LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	y, texts := readTextCase(t, dir)
	s := New(Config{Logger: discard})
	if err := s.AddModel("tok", "", m, ModelOptions{Tokenizer: tok, MaxLen: 7, Padding: "pre", Truncating: "post"}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	defer s.Close(context.Background())
	_, meta := do(t, "GET", hs.URL+"/v2/models/tok", "")
	if in := meta["inputs"].([]any)[0].(map[string]any); in["datatype"] != "BYTES" || fmt.Sprint(in["shape"]) != "[-1]" {
		t.Errorf("tokenized input metadata %v", in)
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": m.Inputs()[0].Name, "shape": []int{len(texts)}, "datatype": "BYTES", "data": texts}}})
	code, v := do(t, "POST", hs.URL+"/v2/models/tok/infer", string(body))
	if code != 200 {
		t.Fatalf("%d %v", code, v)
	}
	closeTo(t, "v2 texts", flat(v["outputs"].([]any)[0].(map[string]any)["data"]), y)
	body, _ = json.Marshal(map[string]any{"instances": texts})
	code, v = do(t, "POST", hs.URL+"/v1/models/tok:predict", string(body))
	if code != 200 {
		t.Fatalf("tf: %d %v", code, v)
	}
	closeTo(t, "tf texts", flat(v["predictions"]), y)
}
