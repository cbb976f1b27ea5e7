// Package serve puts rnnkit models behind the inference protocols that
// Kubernetes serving stacks and existing clients speak: KServe's Open
// Inference Protocol v2 over REST and gRPC (the inference.GRPCInferenceService
// of KServe, Triton, Seldon MLServer and OpenVINO Model Server), and
// TensorFlow Serving's REST API.
//
// A Server holds models by name and version. Server.Handler is an
// http.Handler a Go service can mount; Server.RegisterGRPC adds the v2 gRPC
// service to a grpc.Server. Concurrent requests for the same model and
// compatible shapes are joined into one batch (up to Config.MaxBatch rows,
// waiting at most Config.BatchTimeout for more), run once and split back;
// each request gets the rows it would have got alone. Sequences of different
// lengths share a batch only where the model masks padding (an Embedding
// with mask_zero, a Masking layer) and a check at load time shows that
// padding leaves the outputs unchanged; otherwise requests are grouped by
// exact shape.
//
// Stateful models (a layer saved with stateful=True) are served one Session
// per stream: requests carry parameters.sequence_id (Triton's name), and
// sequence_start/sequence_end reset and drop the stream's states. A request
// to a stateful model without a sequence id is refused.
//
// Errors answer with a JSON body {"error": "..."}: 400 for bad input (a
// malformed body, a wrong shape or datatype, errors.Is(err, keras.ErrInput)),
// 404 for an unknown model or version, 413 for a body over
// Config.MaxBodyBytes, 503 when a model's queue is full or the server is
// shutting down, 504 when the request's deadline passed, 500 only for faults
// of the server itself.
//
// Metrics are kept in a Prometheus registry of the server's own
// (Server.Registry), served at /metrics.
package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	goruntime "runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/text"
)

// Config sets a Server's limits and batching. Zero fields take the
// defaults given in each comment.
type Config struct {
	// Name and Version are what server metadata reports ("rnnkit", "").
	Name, Version string
	// MaxBatch is the most rows a joined batch holds (32). 1 turns
	// batching off: every request runs alone.
	MaxBatch int
	// BatchTimeout is how long the first request of a batch waits for
	// others to join (2ms).
	BatchTimeout time.Duration
	// Workers is how many batches of one model run at once (GOMAXPROCS).
	Workers int
	// QueueSize bounds the requests waiting per model version (1024);
	// a request beyond it is refused with ErrBusy.
	QueueSize int
	// MaxBodyBytes bounds a REST request body (32 MiB).
	MaxBodyBytes int64
	// RequestTimeout bounds each request's time, queueing included (30s).
	// A client's shorter deadline (gRPC deadline, parameters.timeout in
	// microseconds) applies instead.
	RequestTimeout time.Duration
	// MaxRequestBatch bounds the rows of one request (0: no bound besides
	// the body size).
	MaxRequestBatch int
	// MaxSequenceLength bounds the time dimension of one request's
	// sequence inputs (0: no bound).
	MaxSequenceLength int
	// MaxStreams bounds the open streams (sessions) of a stateful model
	// (1024); the stream idle longest is dropped for a new one.
	MaxStreams int
	// Logger receives one line per failed request and per model event
	// (slog.Default() when nil).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "rnnkit"
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 32
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = 2 * time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = goruntime.GOMAXPROCS(0)
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 1024
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ModelOptions configure how one model is served.
type ModelOptions struct {
	// Tokenizer, when set, turns BYTES (text) inputs into the token ids of
	// the model's first token-id input: texts_to_sequences, then
	// pad_sequences to MaxLen with Padding and Truncating ("pre", Keras'
	// default, when empty).
	Tokenizer           *text.Tokenizer
	MaxLen              int
	Padding, Truncating string
}

// Server serves models over REST and gRPC. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu     sync.RWMutex
	models map[string]*modelSet
	closed bool

	// notReady makes the readiness probes fail (set when shutting down).
	notReady atomic.Bool
	// answered counts the inference requests answered.
	answered atomic.Int64
}

// Answered returns how many inference requests (any protocol, any
// outcome) the server has answered.
func (s *Server) Answered() int64 { return s.answered.Load() }

// modelSet is the versions of one model name.
type modelSet struct {
	versions map[string]*model
	// latest is the version served when a request names none.
	latest string
}

// New returns a Server with no models.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	return &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		metrics: newMetrics(),
		models:  map[string]*modelSet{},
	}
}

// Registry returns the server's Prometheus registry, for adding
// collectors or serving it elsewhere.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// AddModel serves m as version of name ("1" when version is ""),
// replacing a model of the same name and version. The version served
// when a request names none is the highest number among a name's
// versions. A replaced version finishes the requests it has accepted.
func (s *Server) AddModel(name, version string, m *keras.Model, opts ModelOptions) error {
	if name == "" {
		return fmt.Errorf("serve: empty model name")
	}
	if version == "" {
		version = "1"
	}
	md, err := newModel(s, name, version, m, opts)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		md.close()
		return ErrClosed
	}
	set := s.models[name]
	if set == nil {
		set = &modelSet{versions: map[string]*model{}}
		s.models[name] = set
	}
	old := set.versions[version]
	set.versions[version] = md
	set.latest = newestVersion(set.versions)
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	s.log.Info("model ready", "model", name, "version", version, "inputs", len(m.Inputs()), "outputs", len(m.Outputs()),
		"stateful", md.stateful, "padding", md.pad != nil)
	return nil
}

// RemoveModel stops serving a version of name (every version when
// version is ""). Requests it accepted are finished.
func (s *Server) RemoveModel(name, version string) {
	var gone []*model
	s.mu.Lock()
	if set := s.models[name]; set != nil {
		for v, md := range set.versions {
			if version == "" || v == version {
				gone = append(gone, md)
				delete(set.versions, v)
			}
		}
		if len(set.versions) == 0 {
			delete(s.models, name)
		} else {
			set.latest = newestVersion(set.versions)
		}
	}
	s.mu.Unlock()
	for _, md := range gone {
		md.close()
	}
}

// newestVersion picks the highest numbered version, else the greatest
// string.
func newestVersion(vs map[string]*model) string {
	best, bestN := "", int64(-1)
	for v := range vs {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			n = -1
		}
		if best == "" || n > bestN || (n == bestN && v > best) {
			best, bestN = v, n
		}
	}
	return best
}

// lookup finds a model version; version "" is the latest.
func (s *Server) lookup(name, version string) (*model, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := s.models[name]
	if set == nil {
		return nil, notFound("no model %q is served", name)
	}
	if version == "" {
		version = set.latest
	}
	md := set.versions[version]
	if md == nil {
		return nil, notFound("model %q has no version %q (served: %v)", name, version, sortedVersions(set))
	}
	return md, nil
}

func sortedVersions(set *modelSet) []string {
	vs := make([]string, 0, len(set.versions))
	for v := range set.versions {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool {
		a, ea := strconv.Atoi(vs[i])
		b, eb := strconv.Atoi(vs[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return vs[i] < vs[j]
	})
	return vs
}

// Ready reports whether the server serves at least one model and is not
// shutting down.
func (s *Server) Ready() bool {
	if s.notReady.Load() {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !s.closed && len(s.models) > 0
}

// SetNotReady makes the readiness endpoints answer not ready, as a
// shutdown begins, while requests are still served.
func (s *Server) SetNotReady() { s.notReady.Store(true) }

// Close stops accepting requests, finishes those accepted and stops the
// batching goroutines. It returns when they have finished or ctx is done.
func (s *Server) Close(ctx context.Context) error {
	s.notReady.Store(true)
	s.mu.Lock()
	s.closed = true
	var all []*model
	for _, set := range s.models {
		for _, md := range set.versions {
			all = append(all, md)
		}
	}
	s.models = map[string]*modelSet{}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		for _, md := range all {
			md.close()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// discard is a logger that drops everything, for tests and callers that
// want no logs.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))
