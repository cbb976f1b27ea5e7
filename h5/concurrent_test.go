package h5

import (
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentUse walks one File and reads one Dataset from several
// goroutines at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	for _, name := range []string{"chunked_latest.h5", "groups_latest.h5", "basic_earliest.h5"} {
		f, err := Open(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		root := f.Root()
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := walkAll(f); err != nil {
					t.Error(err)
				}
				if _, err := root.Attrs(); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		f.Close()
	}
}
