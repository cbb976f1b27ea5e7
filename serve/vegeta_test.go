package serve

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/rnnkit/rnnkit/keras"
)

// TestLoadVegeta drives the server with vegeta, a real load generator, as
// a closed loop of 16 and then 64 workers (vegeta's unbounded rate with a
// fixed worker count) for a few seconds each: every answer must be 200 and
// Keras' output for its request (matched by the request id the answer
// echoes), and the requests must be joined into batches. It logs vegeta's
// throughput and latency percentiles.
func TestLoadVegeta(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	g := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	_, hs := newTestServer(t, Config{}, map[string]*keras.Model{"m": g.m})
	cases := rowCases(t, "input_layer", g.xs[0], g.ys[0], "INT32")
	byID := map[string]loadCase{}
	var targets []vegeta.Target
	for i, c := range cases {
		var req struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(c.body), &req); err != nil || req.ID == "" {
			t.Fatalf("case %d has no request id: %v", i, err)
		}
		byID[req.ID] = c
		targets = append(targets, vegeta.Target{
			Method: http.MethodPost,
			URL:    hs.URL + "/v2/models/m/infer",
			Body:   []byte(c.body),
			Header: http.Header{"Content-Type": {"application/json"}},
		})
	}
	for _, workers := range []uint64{16, 64} {
		rowsBefore, batchesBefore := histogram(t, metricsText(t, hs.URL), "rnnkit_batch_size")
		atk := vegeta.NewAttacker(vegeta.Workers(workers), vegeta.MaxWorkers(workers), vegeta.Timeout(10*time.Second))
		var m vegeta.Metrics
		bad := 0
		for r := range atk.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{}, 3*time.Second, "rnnkit") {
			m.Add(r)
			var ans struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(r.Body, &ans)
			lc, ok := byID[ans.ID]
			if r.Error != "" || !ok {
				bad++
				if bad <= 3 {
					t.Errorf("%d workers: %q (code %d, body %.200s)", workers, r.Error, r.Code, r.Body)
				}
				continue
			}
			if err := checkBody(int(r.Code), r.Body, lc); err != nil {
				bad++
				if bad <= 3 {
					t.Errorf("%d workers: request %s: %v", workers, ans.ID, err)
				}
			}
		}
		m.Close()
		rows, batches := histogram(t, metricsText(t, hs.URL), "rnnkit_batch_size")
		mean := 0.0
		if batches > batchesBefore {
			mean = (rows - rowsBefore) / (batches - batchesBefore)
		}
		t.Logf("vegeta, %d workers: %d requests, %.0f req/s, success %.4f, p50 %v, p99 %v, max %v, mean batch %.1f (%s)",
			workers, m.Requests, m.Throughput, m.Success, m.Latencies.P50, m.Latencies.P99, m.Latencies.Max, mean, uptime())
		if bad != 0 || m.Requests == 0 || m.Success != 1 {
			t.Errorf("%d workers: %d bad answers of %d, success %v", workers, bad, m.Requests, m.Success)
		}
		if mean <= 1.5 {
			t.Errorf("%d workers: mean batch %.2f, want above 1.5", workers, mean)
		}
	}
}
