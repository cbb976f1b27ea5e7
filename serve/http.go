package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the REST API:
//
//	GET  /v2                                      server metadata
//	GET  /v2/health/live, /v2/health/ready        probes (503 when not ready)
//	GET  /v2/models/{m}[/versions/{v}]            model metadata
//	GET  /v2/models/{m}[/versions/{v}]/ready      model readiness
//	POST /v2/models/{m}[/versions/{v}]/infer      v2 inference
//	GET  /v1/models/{m}[/versions/{v}]            TF Serving model status
//	GET  /v1/models/{m}[/versions/{v}]/metadata   TF Serving signature metadata
//	POST /v1/models/{m}[/versions/{v}]:predict    TF Serving predict
//	GET  /metrics                                 Prometheus metrics
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2", s.serverMetadata)
	mux.HandleFunc("GET /v2/{$}", s.serverMetadata)
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		ready := s.Ready()
		code := http.StatusOK
		if !ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]bool{"ready": ready})
	})
	for _, p := range []string{"/v2/models/{m}", "/v2/models/{m}/versions/{v}"} {
		mux.HandleFunc("GET "+p, s.modelMetadata)
		mux.HandleFunc("GET "+p+"/ready", s.modelReady)
		mux.HandleFunc("POST "+p+"/infer", s.v2Infer)
	}
	mux.HandleFunc("/v1/models/", s.tfServing)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// writeJSON writes v as the response body with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the response failed"}`)
	}
	writeBody(w, code, b)
}

func writeBody(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// writeError answers {"error": "..."} with the error's status.
func writeError(w http.ResponseWriter, err error) int {
	code := statusOf(err)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
	return code
}

func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": s.cfg.Name, "version": s.cfg.Version, "extensions": []string{}})
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

type modelMeta struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

// metadata describes a model version for the v2 protocols.
func (s *Server) metadata(md *model) modelMeta {
	mm := modelMeta{Name: md.name, Platform: "rnnkit_keras"}
	s.mu.RLock()
	if set := s.models[md.name]; set != nil {
		mm.Versions = sortedVersions(set)
	}
	s.mu.RUnlock()
	for _, in := range md.inputs {
		shape := openShape(in.spec.Shape)
		if in.tok != nil {
			shape = []int{-1}
		}
		mm.Inputs = append(mm.Inputs, tensorMeta{Name: in.spec.Name, Datatype: in.datatype, Shape: shape})
	}
	for _, o := range md.outputs {
		mm.Outputs = append(mm.Outputs, tensorMeta{Name: o.name, Datatype: "FP32", Shape: openShape(o.spec.Shape)})
	}
	return mm
}

// openShape is a spec's shape with the batch dimension open (a fixed
// batch binds only stateful models), [] when unknown.
func openShape(s []int) []int {
	out := append([]int{}, s...)
	if len(out) > 0 {
		out[0] = -1
	}
	return out
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := s.lookup(r.PathValue("m"), r.PathValue("v"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.metadata(md))
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	md, err := s.lookup(r.PathValue("m"), r.PathValue("v"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": md.name, "version": md.version, "ready": true})
}

// readBody reads a request body within the server's limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := r.Body
	if r.ContentLength > s.cfg.MaxBodyBytes {
		drainBody(w, body, r.ContentLength)
		return nil, fmt.Errorf("%w: body of %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, s.cfg.MaxBodyBytes)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, body, s.cfg.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		drainBody(w, body, maxDrain)
		return nil, fmt.Errorf("%w: body exceeds the limit of %d bytes", ErrTooLarge, s.cfg.MaxBodyBytes)
	}
	if err != nil {
		return nil, badRequest("reading the body: %v", err)
	}
	return b, nil
}

// maxDrain bounds the bytes of an oversize body read and dropped before the
// 413 answer.
const maxDrain = 256 << 20

// drainBody reads and drops up to min(n, maxDrain) bytes of an oversize
// body, and marks the connection to close after the answer. A client that
// writes its whole body before reading (Python's urllib and http.client do)
// would otherwise see the connection reset instead of the 413 and its
// JSON error; the bound keeps a hostile client from holding the handler.
func drainBody(w http.ResponseWriter, body io.Reader, n int64) {
	w.Header().Set("Connection", "close")
	_, _ = io.Copy(io.Discard, io.LimitReader(body, min(n, maxDrain)))
}

// observe records a request in the metrics (and logs failures).
func (s *Server) observe(model, protocol string, code int, start time.Time, err error) {
	s.answered.Add(1)
	s.metrics.requests.WithLabelValues(model, protocol, strconv.Itoa(code)).Inc()
	s.metrics.duration.WithLabelValues(model, protocol).Observe(time.Since(start).Seconds())
	if err != nil {
		lvl := s.log.Info
		if code >= 500 && code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout {
			lvl = s.log.Error
		}
		lvl("request failed", "model", model, "protocol", protocol, "code", code, "error", err.Error())
	}
}

func (s *Server) v2Infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("m")
	res, err := s.v2InferBody(w, r, name)
	if err != nil {
		code := writeError(w, err)
		s.observe(name, "v2", code, start, err)
		return
	}
	writeBody(w, http.StatusOK, encodeV2(res))
	s.observe(name, "v2", http.StatusOK, start, nil)
}

func (s *Server) v2InferBody(w http.ResponseWriter, r *http.Request, name string) (*inferResult, error) {
	if _, err := s.lookup(name, r.PathValue("v")); err != nil {
		return nil, err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	req, err := decodeV2(body)
	if err != nil {
		return nil, err
	}
	req.model, req.version = name, r.PathValue("v")
	return s.infer(r.Context(), req)
}

// encodeV2 writes a v2 infer response. Values that JSON cannot hold
// (NaN, infinities) are written as null.
func encodeV2(res *inferResult) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"model_name":`...)
	b = appendString(b, res.model)
	b = append(b, `,"model_version":`...)
	b = appendString(b, res.version)
	if res.id != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, res.id)
	}
	b = append(b, `,"outputs":[`...)
	for i, o := range res.outputs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, o.name)
		b = append(b, `,"datatype":"FP32","shape":[`...)
		for k, d := range o.t.Shape {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, `],"data":[`...)
		for k, v := range o.t.Data {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, v)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// appendFloat writes v's shortest float32 form, null for NaN and
// infinities.
func appendFloat(b []byte, v float32) []byte {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 32)
}

// appendNested writes data nested as shape says (numpy's tolist()).
func appendNested(b []byte, data []float32, shape []int) []byte {
	if len(shape) == 0 {
		if len(data) > 0 {
			return appendFloat(b, data[0])
		}
		return append(b, "null"...)
	}
	n := shape[0]
	step := 0
	if n > 0 {
		step = len(data) / n
	}
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNested(b, data[i*step:(i+1)*step], shape[1:])
	}
	return append(b, ']')
}

// tfServing routes /v1/models/NAME[/versions/V][/metadata|:predict].
func (s *Server) tfServing(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	verb := ""
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		rest, verb = rest[:i], rest[i+1:]
	}
	parts := strings.Split(rest, "/")
	name, version, extra := parts[0], "", parts[1:]
	if len(extra) >= 2 && extra[0] == "versions" {
		version, extra = extra[1], extra[2:]
	} else if len(extra) >= 2 && extra[0] == "labels" {
		writeError(w, notFound("version labels are not supported: use /versions/N"))
		return
	}
	switch {
	case name == "":
		writeError(w, notFound("no model name in %s", r.URL.Path))
	case verb == "" && len(extra) == 0 && r.Method == http.MethodGet:
		s.tfStatus(w, name, version)
	case verb == "" && len(extra) == 1 && extra[0] == "metadata" && r.Method == http.MethodGet:
		s.tfMetadata(w, name, version)
	case (verb == "predict") && len(extra) == 0 && r.Method == http.MethodPost:
		s.tfPredict(w, r, name, version)
	case verb == "classify" || verb == "regress":
		writeError(w, notFound("%s is not supported: use :predict", verb))
	default:
		writeError(w, notFound("no endpoint %s %s", r.Method, r.URL.Path))
	}
}

func (s *Server) tfStatus(w http.ResponseWriter, name, version string) {
	md, err := s.lookup(name, version)
	if err != nil {
		writeError(w, err)
		return
	}
	type status struct {
		Version string `json:"version"`
		State   string `json:"state"`
		Status  struct {
			ErrorCode    string `json:"error_code"`
			ErrorMessage string `json:"error_message"`
		} `json:"status"`
	}
	var sts []status
	s.mu.RLock()
	set := s.models[name]
	vs := []string{md.version}
	if version == "" && set != nil {
		vs = sortedVersions(set)
	}
	s.mu.RUnlock()
	for i := len(vs) - 1; i >= 0; i-- {
		st := status{Version: vs[i], State: "AVAILABLE"}
		st.Status.ErrorCode = "OK"
		sts = append(sts, st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_version_status": sts})
}

// tfDtype is the TensorFlow dtype name of a v2 datatype.
func tfDtype(dt string) string {
	switch dt {
	case "FP64":
		return "DT_DOUBLE"
	case "INT32":
		return "DT_INT32"
	case "INT64":
		return "DT_INT64"
	case "BYTES":
		return "DT_STRING"
	case "BOOL":
		return "DT_BOOL"
	}
	return "DT_FLOAT"
}

func tfTensorInfo(name, dtype string, shape []int) map[string]any {
	dims := make([]map[string]string, len(shape))
	for i, d := range shape {
		dims[i] = map[string]string{"size": strconv.Itoa(d), "name": ""}
	}
	return map[string]any{
		"dtype":        dtype,
		"tensor_shape": map[string]any{"dim": dims, "unknown_rank": false},
		"name":         name,
	}
}

func (s *Server) tfMetadata(w http.ResponseWriter, name, version string) {
	md, err := s.lookup(name, version)
	if err != nil {
		writeError(w, err)
		return
	}
	mm := s.metadata(md)
	ins, outs := map[string]any{}, map[string]any{}
	for _, t := range mm.Inputs {
		ins[t.Name] = tfTensorInfo(t.Name, tfDtype(t.Datatype), t.Shape)
	}
	for _, t := range mm.Outputs {
		outs[t.Name] = tfTensorInfo(t.Name, "DT_FLOAT", t.Shape)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"model_spec": map[string]any{"name": md.name, "signature_name": "", "version": md.version},
		"metadata": map[string]any{"signature_def": map[string]any{"signature_def": map[string]any{
			"serving_default": map[string]any{"inputs": ins, "outputs": outs, "method_name": "tensorflow/serving/predict"},
		}}},
	})
}

func (s *Server) tfPredict(w http.ResponseWriter, r *http.Request, name, version string) {
	start := time.Now()
	b, err := s.tfPredictBody(w, r, name, version)
	if err != nil {
		code := writeError(w, err)
		s.observe(name, "tfserving", code, start, err)
		return
	}
	writeBody(w, http.StatusOK, b)
	s.observe(name, "tfserving", http.StatusOK, start, nil)
}

func (s *Server) tfPredictBody(w http.ResponseWriter, r *http.Request, name, version string) ([]byte, error) {
	md, err := s.lookup(name, version)
	if err != nil {
		return nil, err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	tr, err := decodeTF(body)
	if err != nil {
		return nil, err
	}
	req := &inferRequest{model: name, version: version, streamID: tr.streamID}
	switch {
	case tr.unnamed != nil:
		if len(md.inputs) != 1 {
			return nil, badRequest("model %q takes %d inputs (%s): name them", name, len(md.inputs), strings.Join(md.inputNames(), ", "))
		}
		req.inputs = []reqTensor{*tr.unnamed}
	default:
		if len(md.inputs) == 1 && len(tr.named) == 1 {
			for _, t := range tr.named {
				if t.name != md.inputs[0].spec.Name {
					return nil, badRequest("model %q has no input %q (inputs: %s)", name, t.name, md.inputs[0].spec.Name)
				}
			}
		}
		for _, in := range md.inputs {
			t, ok := tr.named[in.spec.Name]
			if !ok {
				return nil, badRequest("input %q is missing (inputs: %s)", in.spec.Name, strings.Join(md.inputNames(), ", "))
			}
			req.inputs = append(req.inputs, *t)
		}
		if len(tr.named) != len(md.inputs) {
			return nil, badRequest("model %q takes %d inputs (%s), got %d", name, len(md.inputs), strings.Join(md.inputNames(), ", "), len(tr.named))
		}
	}
	res, err := s.infer(r.Context(), req)
	if err != nil {
		return nil, err
	}
	return encodeTF(res, tr.columnar), nil
}

// encodeTF writes TF Serving's answer: {"predictions": [...]} for the row
// format (per row the value of the single output, or an object of named
// outputs), {"outputs": value or {name: value}} for the columnar format.
func encodeTF(res *inferResult, columnar bool) []byte {
	b := make([]byte, 0, 256)
	single := len(res.outputs) == 1
	if columnar {
		b = append(b, `{"outputs":`...)
		if single {
			o := res.outputs[0].t
			b = appendNested(b, o.Data, o.Shape)
			return append(b, '}')
		}
		b = append(b, '{')
		for i, o := range res.outputs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, o.name)
			b = append(b, ':')
			b = appendNested(b, o.t.Data, o.t.Shape)
		}
		return append(b, "}}"...)
	}
	b = append(b, `{"predictions":[`...)
	rows := 0
	if len(res.outputs) > 0 && len(res.outputs[0].t.Shape) > 0 {
		rows = res.outputs[0].t.Shape[0]
	}
	for r := 0; r < rows; r++ {
		if r > 0 {
			b = append(b, ',')
		}
		if !single {
			b = append(b, '{')
		}
		for i, o := range res.outputs {
			if i > 0 {
				b = append(b, ',')
			}
			if !single {
				b = appendString(b, o.name)
				b = append(b, ':')
			}
			t := o.t
			n := len(t.Data) / max(t.Shape[0], 1)
			b = appendNested(b, t.Data[r*n:(r+1)*n], t.Shape[1:])
		}
		if !single {
			b = append(b, '}')
		}
	}
	return append(b, "]}"...)
}
