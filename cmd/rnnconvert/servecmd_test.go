package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeBinary builds rnnconvert, serves a golden model, checks the
// probes, an answer and the limits, then sends SIGTERM while 16 clients
// keep sending requests: the process exits 0 within 10 s, and every
// request it accepted was answered correctly (the others were refused
// at connect, after the listener closed).
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "rnnconvert")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := "../../testdata/goldens/emb_lstm_mask_post_last"
	x, err := keras.ReadNPYFile(filepath.Join(dir, "x0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := keras.ReadNPYFile(filepath.Join(dir, "y0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	var logs strings.Builder
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "model.keras"), "--name", "m", "--addr", addr,
		"--max-body-bytes", "4000", "--log-format", "json")
	cmd.Stderr = &syncWriter{w: &logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()
	base := "http://" + addr
	ready := false
	for i := 0; i < 200 && !ready; i++ {
		if resp, err := http.Get(base + "/v2/health/ready"); err == nil {
			ready = resp.StatusCode == 200
			resp.Body.Close()
		}
		if !ready {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !ready {
		t.Fatalf("server not ready:\n%s", logs.String())
	}
	for _, p := range []string{"/v2", "/v2/health/live", "/v2/models/m", "/v2/models/m/ready", "/v1/models/m", "/v1/models/m/metadata", "/metrics"} {
		resp, err := http.Get(base + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", p, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input_layer", "shape": x.Shape, "datatype": "INT32", "data": x.Data}}})
	big := `{"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1` + strings.Repeat(",1", 3000) + `]}]}`
	for _, tc := range []struct {
		body string
		code int
	}{{string(body), 200}, {big, 413}, {`{"inputs":`, 400}} {
		resp, err := http.Post(base+"/v2/models/m/infer", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.code, b)
		}
	}

	// Load, then SIGTERM.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 15 * time.Second}
	var answered, refused, answeredAfter atomic.Int64
	var signalled atomic.Bool
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	stop := time.Now().Add(20 * time.Second)
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				err := postCheck(client, base+"/v2/models/m/infer", body, y)
				switch {
				case err == nil:
					answered.Add(1)
					if signalled.Load() {
						answeredAfter.Add(1)
					}
				case signalled.Load() && isTransportError(err):
					// Refused, or reset while still in the listen
					// backlog when the listener closed: never accepted
					// (the server's count of answers below shows it).
					refused.Add(1)
					return
				default:
					mu.Lock()
					bad = append(bad, err.Error())
					mu.Unlock()
					return
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	signalled.Store(true)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
		t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM")
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d requests failed otherwise than refused at connect, first: %s", len(bad), bad[0])
	}
	if answered.Load() == 0 || refused.Load() == 0 {
		t.Errorf("answered %d, refused %d: the load did not span the shutdown", answered.Load(), refused.Load())
	}
	t.Logf("answered %d (%d after SIGTERM), never accepted %d", answered.Load(), answeredAfter.Load(), refused.Load())
	// The server answered exactly the requests the clients got answers
	// for (plus the three checks before the load): no accepted request
	// went unanswered.
	var stopped struct {
		Answered int64 `json:"answered"`
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"stopped"`) {
			json.Unmarshal([]byte(line), &stopped)
		}
	}
	if want := answered.Load() + 3; stopped.Answered != want {
		t.Errorf("server answered %d requests, clients got %d answers:\n%s", stopped.Answered, want, logs.String())
	}
}

// isTransportError reports a request that got no HTTP answer at all: a
// refused or reset connection, or one closed before any response.
func isTransportError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func postCheck(client *http.Client, url string, body []byte, want *keras.Tensor) error {
	resp, err := client.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v struct {
		Outputs []struct {
			Data []float32 `json:"data"`
		} `json:"outputs"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || len(v.Outputs) != 1 {
		return fmt.Errorf("answer: %v", err)
	}
	if len(v.Outputs[0].Data) != len(want.Data) {
		return fmt.Errorf("%d values, want %d", len(v.Outputs[0].Data), len(want.Data))
	}
	for i, g := range v.Outputs[0].Data {
		w := float64(want.Data[i])
		if math.Abs(float64(g)-w) > keras.DefaultAtol+keras.DefaultRtol*math.Abs(w) {
			return fmt.Errorf("value %d is %v, Keras %v", i, g, w)
		}
	}
	return nil
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
