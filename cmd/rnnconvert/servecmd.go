package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/serve"
	"github.com/rnnkit/rnnkit/text"
	"google.golang.org/grpc"
)

var serveCmd = command{
	name: "serve",
	synopsis: []string{
		"MODEL [--name N] [--addr HOST:PORT] [--grpc-addr HOST:PORT] [flags]",
		"--model-repository DIR [--addr HOST:PORT] [--grpc-addr HOST:PORT] [flags]",
	},
	summary: `Serves MODEL (a model file, or a folder holding one) over KServe's Open Inference Protocol v2 (REST under /v2, and
gRPC inference.GRPCInferenceService with --grpc-addr) and TensorFlow Serving's
REST API (/v1/models/NAME, :predict), with /metrics for Prometheus and
/v2/health/live and /v2/health/ready as Kubernetes probes. Concurrent requests
are joined into batches of up to --max-batch rows (waiting at most
--batch-timeout). --model-repository serves DIR/NAME/VERSION/ folders, the
highest version of each model, and picks up new versions without a restart.
SIGTERM or SIGINT stops accepting requests, finishes those accepted, and exits 0.`,
	examples: []string{
		"rnnconvert serve testdata/goldens/emb_lstm_mask_post_last/model.keras --name m --addr 127.0.0.1:8080",
		"rnnconvert serve --model-repository /models --addr :8080 --grpc-addr :8081 --log-format json",
		"rnnconvert serve testdata/goldens-text-extra/x_pipe_simplernn_oov_pre/model.keras --tokenizer testdata/goldens-text-extra/x_pipe_simplernn_oov_pre/tokenizer.json --maxlen 7 --truncating post",
	},
}

// serveFlags are the serve command's settings.
type serveFlags struct {
	name, addr, grpcAddr, repo     string
	poll                           time.Duration
	maxBatch, workers, queue       int
	batchTimeout, requestTimeout   time.Duration
	maxBodyBytes                   int64
	maxRequestBatch, maxSeqLen     int
	tokenizer, padding, truncating string
	maxLen                         int
	logFormat, logLevel            string
	shutdownTimeout                time.Duration
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := serveCmd.flags(stderr)
	var mf modelFlags
	mf.register(fs, "serve")
	var f serveFlags
	fs.StringVar(&f.name, "name", "model", "the `NAME` MODEL is served under (/v2/models/NAME)")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "REST listen address `HOST:PORT` (:8080 for every interface)")
	fs.StringVar(&f.grpcAddr, "grpc-addr", "", "gRPC listen address `HOST:PORT`; none when empty")
	fs.StringVar(&f.repo, "model-repository", "", "serve the models of `DIR` (DIR/NAME/VERSION/model files) instead of MODEL")
	fs.DurationVar(&f.poll, "poll-interval", 2*time.Second, "how often --model-repository is scanned for new versions")
	fs.IntVar(&f.maxBatch, "max-batch", 32, "most rows of one joined batch (1: no batching)")
	fs.DurationVar(&f.batchTimeout, "batch-timeout", 2*time.Millisecond, "how long a batch waits for requests to join")
	fs.IntVar(&f.workers, "workers", 0, "batches of one model run at once (0: GOMAXPROCS)")
	fs.IntVar(&f.queue, "queue-size", 1024, "requests waiting per model before 503 answers")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", 32<<20, "largest REST request body; larger ones get 413")
	fs.DurationVar(&f.requestTimeout, "request-timeout", 30*time.Second, "longest time a request may take (the client's deadline when shorter)")
	fs.IntVar(&f.maxRequestBatch, "max-request-batch", 0, "most rows of one request (0: no bound)")
	fs.IntVar(&f.maxSeqLen, "max-sequence-length", 0, "longest sequence (time steps) of one request (0: no bound)")
	var maxMem byteSize
	fs.Var(&maxMem, "max-memory", "memory budget of each model call, `SIZE` in bytes with an optional unit (512MiB, 2GB),\nor none: a request whose call is estimated to need more gets 400 (default 1GiB)")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "Keras Tokenizer `FILE` turning BYTES (text) inputs into the model's token ids")
	fs.IntVar(&f.maxLen, "maxlen", 0, "with --tokenizer, pad or truncate texts to this many ids (0: the input's fixed length)")
	fs.StringVar(&f.padding, "padding", "pre", "with --tokenizer, pad_sequences padding: pre or post")
	fs.StringVar(&f.truncating, "truncating", "pre", "with --tokenizer, pad_sequences truncating: pre or post")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 9*time.Second, "on SIGTERM, how long accepted requests may take to finish")
	pos, code, done := serveCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageError(stderr, "--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	var h slog.Handler
	switch f.logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return usageError(stderr, "--log-format %q: want text or json", f.logFormat)
	}
	log := slog.New(h)
	if f.padding != "pre" && f.padding != "post" || f.truncating != "pre" && f.truncating != "post" {
		return usageError(stderr, "--padding and --truncating take pre or post")
	}
	var mo serve.ModelOptions
	if f.tokenizer != "" {
		tok, err := text.LoadTokenizer(f.tokenizer)
		if err != nil {
			return fail(stderr, err)
		}
		mo = serve.ModelOptions{Tokenizer: tok, MaxLen: f.maxLen, Padding: f.padding, Truncating: f.truncating}
	}
	srv := serve.New(serve.Config{
		Version: strings.Fields(versionText())[1], MaxBatch: f.maxBatch, BatchTimeout: f.batchTimeout,
		Workers: f.workers, QueueSize: f.queue, MaxBodyBytes: f.maxBodyBytes, RequestTimeout: f.requestTimeout,
		MaxRequestBatch: f.maxRequestBatch, MaxSequenceLength: f.maxSeqLen, Logger: log,
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if f.repo != "" {
		if len(pos) != 0 || mf.config != "" {
			return usageError(stderr, "--model-repository takes no MODEL or --config")
		}
		opts, err := mf.options()
		if err != nil {
			return status(stderr, err)
		}
		repo := serve.NewRepository(srv, f.repo, serve.RepositoryOptions{
			Load: func(d string) (*keras.Model, error) {
				m, err := serve.LoadModelDir(d, opts...)
				if err != nil {
					return nil, err
				}
				return withMemory(m, &maxMem), nil
			},
			ModelOptions: func(string) serve.ModelOptions { return mo },
		})
		if err := repo.Scan(true); err != nil {
			log.Error("model repository", "error", err.Error())
		}
		go repo.Watch(ctx, f.poll)
	} else {
		var m *keras.Model
		var err error
		if fi, serr := os.Stat(firstOr(pos)); serr == nil && fi.IsDir() && len(pos) == 1 && mf.config == "" {
			// A folder (KServe's /mnt/models): a SavedModel or TF.js
			// model, or the one model file it holds.
			opts, oerr := mf.options()
			if oerr != nil {
				return status(stderr, oerr)
			}
			m, err = serve.LoadModelDir(pos[0], opts...)
		} else {
			m, err = mf.load(pos)
		}
		if err == nil {
			m = withMemory(m, &maxMem)
		}
		if err != nil {
			return status(stderr, err)
		}
		if err := srv.AddModel(f.name, "1", m, mo); err != nil {
			return fail(stderr, err)
		}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fail(stderr, fmt.Errorf("rnnconvert: %w", err))
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(h, slog.LevelWarn)}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving REST", "addr", ln.Addr().String())
	var gs *grpc.Server
	if f.grpcAddr != "" {
		gln, err := net.Listen("tcp", f.grpcAddr)
		if err != nil {
			hs.Close()
			return fail(stderr, fmt.Errorf("rnnconvert: %w", err))
		}
		gs = grpc.NewServer(grpc.MaxRecvMsgSize(int(min(f.maxBodyBytes, 1<<31-1))))
		srv.RegisterGRPC(gs)
		go func() { errc <- gs.Serve(gln) }()
		log.Info("serving gRPC", "addr", gln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fail(stderr, fmt.Errorf("rnnconvert: %w", err))
		}
	}
	stop()
	log.Info("shutting down: finishing accepted requests")
	srv.SetNotReady()
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	code = 0
	if gs != nil {
		gdone := make(chan struct{})
		go func() { gs.GracefulStop(); close(gdone) }()
		defer func() {
			select {
			case <-gdone:
			case <-sctx.Done():
				gs.Stop()
			}
		}()
	}
	if err := hs.Shutdown(sctx); err != nil {
		log.Error("shutdown", "error", err.Error())
		code = 1
	}
	if err := srv.Close(sctx); err != nil {
		log.Error("shutdown", "error", err.Error())
		code = 1
	}
	log.Info("stopped", "answered", srv.Answered())
	return code
}

func firstOr(pos []string) string {
	if len(pos) == 0 {
		return ""
	}
	return pos[0]
}
