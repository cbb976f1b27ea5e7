package serve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rnnkit/rnnkit/keras"
)

// job is one request waiting for a batch.
type job struct {
	ctx  context.Context
	xs   []*keras.Tensor
	rows int
	key  string
	done chan jobResult
}

type jobResult struct {
	ys  []*keras.Tensor
	err error
}

// batcher joins the requests of one model version into batches. A
// collector goroutine takes a free worker slot, waits for a first job,
// gathers others for up to the batch timeout (or until MaxBatch rows),
// groups them by key and runs each group as one call.
type batcher struct {
	md       *model
	maxBatch int
	timeout  time.Duration
	queue    chan *job
	slots    chan struct{}

	mu     sync.RWMutex
	closed bool

	running sync.WaitGroup
	stopped chan struct{}

	depth     prometheus.Gauge
	batchSize prometheus.Observer
	depthN    atomic.Int64
}

func newBatcher(md *model, cfg Config) *batcher {
	b := &batcher{
		md:        md,
		maxBatch:  cfg.MaxBatch,
		timeout:   cfg.BatchTimeout,
		queue:     make(chan *job, cfg.QueueSize),
		slots:     make(chan struct{}, cfg.Workers),
		stopped:   make(chan struct{}),
		depth:     md.srv.metrics.queueDepth.WithLabelValues(md.name),
		batchSize: md.srv.metrics.batchSize.WithLabelValues(md.name),
	}
	go b.loop()
	return b
}

// key groups jobs that can share a batch: the shapes after the batch
// dimension, with the time dimension left out when padding is allowed.
func (b *batcher) key(xs []*keras.Tensor) string {
	var sb strings.Builder
	for i, x := range xs {
		if i > 0 {
			sb.WriteByte('|')
		}
		for d := 1; d < len(x.Shape); d++ {
			if d == 1 && b.md.pad != nil {
				sb.WriteString("*,")
				continue
			}
			sb.WriteString(strconv.Itoa(x.Shape[d]))
			sb.WriteByte(',')
		}
	}
	return sb.String()
}

// run queues a request and waits for its outputs.
func (b *batcher) run(ctx context.Context, xs []*keras.Tensor, rows int) ([]*keras.Tensor, error) {
	j := &job{ctx: ctx, xs: xs, rows: rows, key: b.key(xs), done: make(chan jobResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case b.queue <- j:
		b.depth.Set(float64(b.depthN.Add(1)))
	default:
		b.mu.RUnlock()
		return nil, fmt.Errorf("%w: model %q has %d requests waiting", ErrBusy, b.md.name, cap(b.queue))
	}
	b.mu.RUnlock()
	// Once queued, a job is always answered (the loop drains the queue
	// before it stops; done is buffered), so a request whose context ends
	// first can return at once.
	select {
	case r := <-j.done:
		return r.ys, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops accepting jobs and returns once every queued job is
// answered.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.stopped
}

func (b *batcher) take(j *job) {
	b.depth.Set(float64(b.depthN.Add(-1)))
}

func (b *batcher) loop() {
	defer close(b.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		b.slots <- struct{}{}
		first, ok := <-b.queue
		if !ok {
			<-b.slots
			break
		}
		b.take(first)
		batch := []*job{first}
		rows := first.rows
		open := true
		if rows < b.maxBatch {
			timer.Reset(b.timeout)
		collect:
			for rows < b.maxBatch {
				select {
				case j, ok := <-b.queue:
					if !ok {
						open = false
						break collect
					}
					b.take(j)
					batch = append(batch, j)
					rows += j.rows
				case <-timer.C:
					break collect
				}
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		b.running.Add(1)
		go func() {
			defer func() { <-b.slots; b.running.Done() }()
			b.runBatch(batch)
		}()
		if !open {
			break
		}
	}
	b.running.Wait()
}

// runBatch runs the jobs collected together, one call per group of
// compatible jobs (each at most maxBatch rows).
func (b *batcher) runBatch(batch []*job) {
	var groups [][]*job
	index := map[string]int{}
	rows := map[string]int{}
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		gi, ok := index[j.key]
		if !ok || rows[j.key]+j.rows > b.maxBatch {
			gi = len(groups)
			index[j.key] = gi
			rows[j.key] = 0
			groups = append(groups, nil)
		}
		rows[j.key] += j.rows
		groups[gi] = append(groups[gi], j)
	}
	for _, g := range groups {
		b.runGroup(g)
	}
}

// runGroup runs compatible jobs as one call and hands each its rows. A
// call that fails on its inputs is retried job by job, so that one bad
// request fails alone.
func (b *batcher) runGroup(g []*job) {
	if len(g) == 1 {
		j := g[0]
		b.batchSize.Observe(float64(j.rows))
		ys, err := b.md.m.PredictContext(j.ctx, j.xs...)
		j.done <- jobResult{ys: ys, err: err}
		return
	}
	// The call stops when every job's context is done.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var live atomic.Int32
	live.Store(int32(len(g)))
	for _, j := range g {
		stop := context.AfterFunc(j.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	xs, err := joinInputs(g, b.md.pad)
	var ys []*keras.Tensor
	if err == nil {
		n := 0
		for _, j := range g {
			n += j.rows
		}
		b.batchSize.Observe(float64(n))
		ys, err = b.md.m.PredictContext(ctx, xs...)
	}
	var parts [][]*keras.Tensor
	if err == nil {
		parts, err = splitOutputs(ys, g, b.md.pad)
	}
	if err != nil {
		if errors.Is(err, keras.ErrInput) || errors.Is(err, errShape) {
			for _, j := range g {
				b.runGroup([]*job{j})
			}
			return
		}
		for _, j := range g {
			e := err
			if je := j.ctx.Err(); je != nil {
				e = je
			}
			j.done <- jobResult{err: e}
		}
		return
	}
	for i, j := range g {
		j.done <- jobResult{ys: parts[i]}
	}
}

// joinInputs concatenates the jobs' inputs along the batch dimension,
// padding the time dimension (dimension 1) to the longest with pad.value
// after each sequence's end when pad is set.
func joinInputs(g []*job, pad *padInfo) ([]*keras.Tensor, error) {
	n := len(g[0].xs)
	out := make([]*keras.Tensor, n)
	for i := 0; i < n; i++ {
		shape := append([]int(nil), g[0].xs[i].Shape...)
		total := 0
		for _, j := range g {
			x := j.xs[i]
			if len(x.Shape) != len(shape) {
				return nil, errShape
			}
			total += x.Shape[0]
			for d := 1; d < len(shape); d++ {
				switch {
				case d == 1 && pad != nil:
					shape[1] = max(shape[1], x.Shape[1])
				case x.Shape[d] != shape[d]:
					return nil, errShape
				}
			}
		}
		shape[0] = total
		if g[0].xs[i].IsString() {
			// String inputs join without padding (their shapes match).
			var strs []string
			for _, j := range g {
				if !j.xs[i].IsString() {
					return nil, errShape
				}
				strs = append(strs, j.xs[i].Strings...)
			}
			t, err := keras.FromStrings(strs, shape...)
			if err != nil {
				return nil, errShape
			}
			out[i] = t
			continue
		}
		t := keras.NewTensor(shape...)
		if pad != nil && pad.value != 0 {
			for k := range t.Data {
				t.Data[k] = pad.value
			}
		}
		off := 0
		for _, j := range g {
			x := j.xs[i]
			if pad == nil || len(shape) < 2 || x.Shape[1] == shape[1] {
				copy(t.Data[off:], x.Data)
				off += len(x.Data)
				continue
			}
			// Row by row, each row's steps followed by padding.
			inner := 1
			for d := 2; d < len(shape); d++ {
				inner *= shape[d]
			}
			src := x.Shape[1] * inner
			dst := shape[1] * inner
			for r := 0; r < x.Shape[0]; r++ {
				copy(t.Data[off+r*dst:off+r*dst+src], x.Data[r*src:(r+1)*src])
			}
			off += x.Shape[0] * dst
		}
		out[i] = t
	}
	return out, nil
}

// splitOutputs hands each job its rows of every output, cutting the time
// dimension of outputs that follow the input's length back to the job's.
func splitOutputs(ys []*keras.Tensor, g []*job, pad *padInfo) ([][]*keras.Tensor, error) {
	total := 0
	for _, j := range g {
		total += j.rows
	}
	parts := make([][]*keras.Tensor, len(g))
	for k, y := range ys {
		if len(y.Shape) == 0 || y.Shape[0] != total {
			return nil, errShape
		}
		rowLen := len(y.Data) / total
		off := 0
		for i, j := range g {
			shape := append([]int(nil), y.Shape...)
			shape[0] = j.rows
			var data []float32
			if pad != nil && k < len(pad.trim) && pad.trim[k] && len(shape) >= 2 {
				steps := j.xs[0].Shape[1]
				inner := rowLen / y.Shape[1]
				shape[1] = steps
				data = make([]float32, 0, j.rows*steps*inner)
				for r := 0; r < j.rows; r++ {
					base := off + r*rowLen
					data = append(data, y.Data[base:base+steps*inner]...)
				}
			} else {
				data = append([]float32(nil), y.Data[off:off+j.rows*rowLen]...)
			}
			off += j.rows * rowLen
			t, err := keras.FromFloat32(data, shape...)
			if err != nil {
				return nil, err
			}
			parts[i] = append(parts[i], t)
		}
	}
	return parts, nil
}
