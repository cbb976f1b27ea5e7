package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
)

// loadStats are the figures of a load run.
type loadStats struct {
	requests, errors int
	p50, p99         time.Duration
	throughput       float64 // requests per second
	// perCPU is requests per CPU-second of this process (server and
	// clients): the throughput's share of the machine, which other
	// processes' load on a shared machine does not change.
	perCPU    float64
	meanBatch float64
}

func (s loadStats) String() string {
	return fmt.Sprintf("%d requests, %d errors, %.0f req/s, %.0f req/CPU-s, p50 %v, p99 %v, mean batch %.1f",
		s.requests, s.errors, s.throughput, s.perCPU, s.p50.Round(10*time.Microsecond), s.p99.Round(10*time.Microsecond), s.meanBatch)
}

// loadCase is one request body and the answer Keras gives for it.
type loadCase struct {
	body string
	want *keras.Tensor
}

// runLoad runs clients goroutines, each sending requests in a loop for
// d (a bounded loop: it stops by itself), checking every answer against
// Keras' output, and returns the figures.
func runLoad(t testing.TB, url string, cases []loadCase, clients int, d time.Duration) loadStats {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	before, beforeN := histogram(t, metricsText(t, url), "rnnkit_batch_size")
	var mu sync.Mutex
	var lats []time.Duration
	var errs atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []time.Duration
			for i := c; time.Now().Before(deadline); i++ {
				lc := cases[i%len(cases)]
				t0 := time.Now()
				err := checkAnswer(client, url+"/v2/models/m/infer", lc)
				mine = append(mine, time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if e := firstErr.Load(); e != nil {
		t.Errorf("first error: %v", e)
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	after, afterN := histogram(t, metricsText(t, url), "rnnkit_batch_size")
	st := loadStats{requests: len(lats), errors: int(errs.Load()), throughput: float64(len(lats)) / elapsed.Seconds()}
	if cpu > 0 {
		st.perCPU = float64(len(lats)) / cpu.Seconds()
	}
	if len(lats) > 0 {
		st.p50 = lats[len(lats)/2]
		st.p99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	if afterN > beforeN {
		st.meanBatch = (after - before) / (afterN - beforeN)
	}
	return st
}

func checkAnswer(client *http.Client, url string, lc loadCase) error {
	resp, err := client.Post(url, "application/json", strings.NewReader(lc.body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return checkBody(resp.StatusCode, b, lc)
}

// checkBody checks one v2 answer against Keras' output.
func checkBody(status int, b []byte, lc loadCase) error {
	if status != 200 {
		return fmt.Errorf("status %d: %s", status, b)
	}
	var v struct {
		Outputs []struct {
			Data []float32 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil || len(v.Outputs) == 0 {
		return fmt.Errorf("bad answer %q: %v", b, err)
	}
	got := v.Outputs[0].Data
	if len(got) != len(lc.want.Data) {
		return fmt.Errorf("%d values, want %d", len(got), len(lc.want.Data))
	}
	for i := range got {
		w := float64(lc.want.Data[i])
		if math.Abs(float64(got[i])-w) > keras.DefaultAtol+keras.DefaultRtol*math.Abs(w) {
			return fmt.Errorf("value %d is %v, Keras %v", i, got[i], w)
		}
	}
	return nil
}

// rowCases makes one single-row request per row of x, each expecting
// that row of Keras' y.
func rowCases(t testing.TB, name string, x, y *keras.Tensor, dtype string) []loadCase {
	t.Helper()
	var out []loadCase
	rows := x.Shape[0]
	xn, yn := len(x.Data)/rows, len(y.Data)/rows
	for r := 0; r < rows; r++ {
		xr, _ := keras.FromFloat32(x.Data[r*xn:(r+1)*xn], append([]int{1}, x.Shape[1:]...)...)
		yr, _ := keras.FromFloat32(y.Data[r*yn:(r+1)*yn], append([]int{1}, y.Shape[1:]...)...)
		out = append(out, loadCase{body: v2Body(fmt.Sprint(r), []string{name}, []string{dtype}, xr), want: yr})
	}
	return out
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func uptime() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "uptime: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

// TestLoad runs 16 and 64 concurrent clients against a golden model for
// a few seconds each: no errors, every answer Keras' output, and the
// requests joined into batches.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"m": g.m})
	cases := rowCases(t, "input_layer", g.xs[0], g.ys[0], "INT32")
	cases = append(cases, loadCase{body: v2Body("all", []string{"input_layer"}, []string{"INT32"}, g.xs[0]), want: g.ys[0]})
	for _, clients := range []int{16, 64} {
		st := runLoad(t, hs.URL, cases, clients, 3*time.Second)
		t.Logf("emb_lstm_mask_post_last, %d clients: %v (%s)", clients, st, uptime())
		if st.errors != 0 || st.requests == 0 {
			t.Errorf("%d clients: %d errors of %d requests", clients, st.errors, st.requests)
		}
		if st.meanBatch <= 1.5 {
			t.Errorf("%d clients: mean batch %.2f, want above 1.5", clients, st.meanBatch)
		}
	}
}

// TestBatchingThroughput measures batch-friendly models (the perf
// corpus' W4, Embedding + Bidirectional(LSTM(128)) over 200 token ids, and W2: LSTM(256) over 100 steps of 128 features, last output; its
// batch-1 call is bound by re-reading the recurrent weights, which a
// batch shares) three ways: one request at a time (one client, --max-batch
// 1), 16 clients without batching, and 16 clients with batching (the
// default settings), in requests per second and per CPU-second. Every
// answer must be Keras' and the batched run must join requests; the
// ratios are logged, not asserted: on this project's shared 2-core
// machine they move with the neighbours' load (1.4x to 0.8x per
// CPU-second between runs minutes apart), and the library's own gain from
// batching W2 is about 2x per row (see the report in /work/notes/serve.md),
// short of the 3x.
func TestBatchingThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	for _, w := range []struct{ dir, dtype string }{
		{"W2_lstm_b1", "FP32"},
		{"W4_emb_bilstm_clf", "INT32"},
	} {
		t.Run(w.dir, func(t *testing.T) { batchingThroughput(t, w.dir, w.dtype) })
	}
}

func batchingThroughput(t *testing.T, workload, dtype string) {
	dir := testutil.SharedDir(t, "perf/"+workload)
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := keras.ReadNPYFile(filepath.Join(dir, "x0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := keras.ReadNPYFile(filepath.Join(dir, "y0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	name := m.Inputs()[0].Name
	cases := rowCases(t, name, x, y, dtype)
	rate, perCPU := map[string]float64{}, map[string]float64{}
	for _, run := range []struct {
		name              string
		maxBatch, clients int
	}{{"one at a time", 1, 1}, {"16 clients, no batching", 1, 16}, {"16 clients, batching", 32, 16}} {
		_, hs := newTestServer(t, Config{MaxBatch: run.maxBatch}, map[string]*keras.Model{"m": m})
		runLoad(t, hs.URL, cases, 2, 300*time.Millisecond) // warm up
		st := runLoad(t, hs.URL, cases, run.clients, 5*time.Second)
		t.Logf("%s, %s (max batch %d, %d clients): %v (%s)", workload, run.name, run.maxBatch, run.clients, st, uptime())
		if st.errors != 0 {
			t.Errorf("%s: %d errors", run.name, st.errors)
		}
		if run.maxBatch > 1 && st.meanBatch <= 1.5 {
			t.Errorf("%s: mean batch %.2f: requests were not joined", run.name, st.meanBatch)
		}
		rate[run.name] = st.throughput
		perCPU[run.name] = st.perCPU
		hs.Close()
	}
	ratio := rate["16 clients, batching"] / rate["one at a time"]
	cpuRatio := perCPU["16 clients, batching"] / perCPU["one at a time"]
	t.Logf("%s batching: %.1fx one request at a time in requests/s, %.1fx in requests per CPU-second; %.1fx 16 clients without batching (requests/s)",
		workload, ratio, cpuRatio, rate["16 clients, batching"]/rate["16 clients, no batching"])
	if rate["16 clients, batching"] == 0 {
		t.Errorf("no answers with batching")
	}
}
