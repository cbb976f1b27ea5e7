package serve

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRepositoryNewVersion serves a repository, drops a new version in
// while clients keep sending requests, and checks that the new version
// serves after two scans and that no request failed.
func TestRepositoryNewVersion(t *testing.T) {
	v1 := loadGolden(t, "emb_lstm_mask_post_last", 1, 1)
	v2 := loadGolden(t, "emb_gru_mask_post_last", 0, 0)
	dir := t.TempDir()
	copyFile(t, filepath.Join(goldens, "emb_lstm_mask_post_last", "model.keras"), filepath.Join(dir, "m", "1", "model.keras"))
	// A second model as an h5 file, and a folder that is no model.
	copyFile(t, filepath.Join(goldens, "emb_gru_nomask_last", "model.h5"), filepath.Join(dir, "other", "3", "model.h5"))
	os.MkdirAll(filepath.Join(dir, "broken", "1"), 0o755)
	os.WriteFile(filepath.Join(dir, "broken", "1", "model.keras"), []byte("not a model"), 0o644)

	s, hs := newTestServer(t, Config{}, nil)
	repo := NewRepository(s, dir, RepositoryOptions{})
	if err := repo.Scan(true); err == nil {
		t.Errorf("the broken model's error is not reported")
	}
	if _, err := s.lookup("other", "3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.lookup("broken", ""); err == nil {
		t.Errorf("broken model served")
	}
	body := v2Body("", []string{"input_layer"}, []string{"INT32"}, v1.xs[0])
	code, v := do(t, "POST", hs.URL+"/v2/models/m/infer", body)
	if code != 200 || v["model_version"] != "1" {
		t.Fatalf("version 1: %d %v", code, v)
	}
	closeTo(t, "version 1", flat(v["outputs"].([]any)[0].(map[string]any)["data"]), v1.ys[0])

	var stop atomic.Bool
	var failures, answered atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				code, v := do(t, "POST", hs.URL+"/v2/models/m/infer", body)
				answered.Add(1)
				if code != 200 {
					failures.Add(1)
					t.Errorf("during the swap: %d %v", code, v)
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	copyFile(t, filepath.Join(goldens, "emb_gru_mask_post_last", "model.keras"), filepath.Join(dir, "m", "2", "model.keras"))
	repo.Scan(false) // seen once: wait for the files to settle
	if md, _ := s.lookup("m", ""); md.version != "1" {
		t.Errorf("version 2 served before its files settled")
	}
	repo.Scan(false)
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 || answered.Load() == 0 {
		t.Fatalf("%d of %d requests failed during the swap", failures.Load(), answered.Load())
	}
	code, v = do(t, "POST", hs.URL+"/v2/models/m/infer", body)
	if code != 200 || v["model_version"] != "2" {
		t.Fatalf("after the swap: %d %v", code, v)
	}
	want, err := v2.m.Predict(v1.xs[0])
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "version 2", flat(v["outputs"].([]any)[0].(map[string]any)["data"]), want[0])
	if code, _ := do(t, "GET", hs.URL+"/v2/models/m/versions/1", ""); code != 404 {
		t.Errorf("version 1 still served: %d", code)
	}
	// A removed model folder stops serving.
	os.RemoveAll(filepath.Join(dir, "other"))
	repo.Scan(false)
	if _, err := s.lookup("other", ""); err == nil {
		t.Errorf("removed model still served")
	}
	// Watch stops with its context.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { repo.Watch(ctx, time.Millisecond); close(done) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	<-done
}
