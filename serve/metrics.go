package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are a server's Prometheus collectors, in a registry of its own.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	batchSize  *prometheus.HistogramVec
	queueDepth *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rnnkit_requests_total",
			Help: "Inference and metadata requests answered, by model, protocol (v2, tfserving, grpc) and status code.",
		}, []string{"model", "protocol", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rnnkit_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, queueing included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"model", "protocol"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rnnkit_batch_size",
			Help:    "Rows of the batches actually run (requests joined by dynamic batching).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}, []string{"model"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rnnkit_queue_depth",
			Help: "Requests waiting for a batch, by model.",
		}, []string{"model"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.batchSize, m.queueDepth,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
