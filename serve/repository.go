package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// Repository serves the models of a directory laid out as TF Serving lays
// out model base paths: DIR/NAME/VERSION/, one folder per model and a
// numbered folder per version holding the model files (a .keras or .h5
// file, a SavedModel, a TF.js model.json, or model.json with its
// weights). The highest version of each model is served. Scan picks up
// new and changed versions; a new version replaces the old one once its
// files have stopped changing between two scans, and requests the old
// version accepted are finished.
type Repository struct {
	s    *Server
	dir  string
	opts RepositoryOptions

	mu      sync.Mutex
	served  map[string]servedVersion
	pending map[string]time.Time // version dir -> stamp seen last scan
	failed  map[string]time.Time // version dir -> stamp that failed
}

type servedVersion struct {
	version string
	stamp   time.Time
}

// RepositoryOptions configure a Repository.
type RepositoryOptions struct {
	// Load loads a version folder (LoadModelDir when nil).
	Load func(dir string) (*keras.Model, error)
	// ModelOptions gives a model's serving options by name (none when
	// nil).
	ModelOptions func(name string) ModelOptions
}

// NewRepository returns a repository over dir serving into s.
func NewRepository(s *Server, dir string, opts RepositoryOptions) *Repository {
	if opts.Load == nil {
		opts.Load = func(d string) (*keras.Model, error) { return LoadModelDir(d) }
	}
	return &Repository{s: s, dir: dir, opts: opts, served: map[string]servedVersion{},
		pending: map[string]time.Time{}, failed: map[string]time.Time{}}
}

// Scan loads new and changed versions and drops models whose folder is
// gone. On the first scan (initial) versions load at once; later a
// version loads when its files are unchanged since the previous scan. It
// returns the errors of the loads that failed (the models that loaded are
// served regardless).
func (r *Repository) Scan(initial bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("serve: model repository: %w", err)
	}
	var errs []error
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := e.Name()
		seen[name] = true
		version, vdir := newestVersionDir(filepath.Join(r.dir, name))
		if version == "" {
			continue
		}
		stamp := dirStamp(vdir)
		cur, ok := r.served[name]
		if ok && cur.version == version && cur.stamp.Equal(stamp) {
			continue
		}
		if f, ok := r.failed[vdir]; ok && f.Equal(stamp) {
			continue
		}
		if !initial {
			if p, ok := r.pending[vdir]; !ok || !p.Equal(stamp) {
				r.pending[vdir] = stamp
				continue
			}
		}
		delete(r.pending, vdir)
		m, err := r.opts.Load(vdir)
		if err == nil {
			var mo ModelOptions
			if r.opts.ModelOptions != nil {
				mo = r.opts.ModelOptions(name)
			}
			err = r.s.AddModel(name, version, m, mo)
		}
		if err != nil {
			r.failed[vdir] = stamp
			r.s.log.Error("model version failed to load", "model", name, "version", version, "dir", vdir, "error", err.Error())
			errs = append(errs, fmt.Errorf("model %s version %s: %w", name, version, err))
			continue
		}
		delete(r.failed, vdir)
		if ok && cur.version != version {
			r.s.RemoveModel(name, cur.version)
		}
		r.served[name] = servedVersion{version: version, stamp: stamp}
	}
	for name := range r.served {
		if !seen[name] {
			r.s.RemoveModel(name, "")
			delete(r.served, name)
			r.s.log.Info("model removed", "model", name)
		}
	}
	return errors.Join(errs...)
}

// Watch scans every interval until ctx is done.
func (r *Repository) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Scan(false); err != nil {
				r.s.log.Debug("repository scan", "error", err.Error())
			}
		}
	}
}

// newestVersionDir returns the highest numbered subfolder of dir.
func newestVersionDir(dir string) (string, string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", ""
	}
	best := int64(-1)
	name := ""
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || n < 0 {
			continue
		}
		if n > best {
			best, name = n, e.Name()
		}
	}
	if name == "" {
		return "", ""
	}
	return strconv.FormatInt(best, 10), filepath.Join(dir, name)
}

// dirStamp is the latest modification time in a version folder (the
// folder, its files and subfolders, a few levels deep), with the total
// size folded in so that a rewrite within one mtime tick shows.
func dirStamp(dir string) time.Time {
	var latest time.Time
	var size int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.Count(strings.TrimPrefix(p, dir), string(filepath.Separator)) > 4 {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil {
			if info.ModTime().After(latest) {
				latest = info.ModTime()
			}
			if !d.IsDir() {
				size += info.Size()
			}
		}
		return nil
	})
	return latest.Add(time.Duration(size % 1000))
}

// LoadModelDir loads the model of a version folder: the folder itself
// when keras.Load reads it (a SavedModel, a TF.js model), the model file
// or config and weights pair keras.Load's error suggests, or else the
// folder's single .keras or .h5 file.
func LoadModelDir(dir string, opts ...keras.Option) (*keras.Model, error) {
	m, err := keras.Load(dir, opts...)
	if err == nil {
		return m, nil
	}
	var le *keras.LoadError
	if errors.As(err, &le) {
		switch {
		case le.Model != "":
			return keras.Load(le.Model, opts...)
		case le.Config != "" && le.Weights != "":
			return keras.LoadConfigAndWeights(le.Config, le.Weights, opts...)
		}
	}
	entries, rerr := os.ReadDir(dir)
	if rerr != nil {
		return nil, rerr
	}
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".keras" || ext == ".h5" || ext == ".hdf5") && !strings.HasSuffix(e.Name(), ".weights.h5") {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	if len(files) == 1 {
		return keras.Load(filepath.Join(dir, files[0]), opts...)
	}
	if len(files) > 1 {
		return nil, fmt.Errorf("serve: %s holds several model files (%s): keep one per version folder", dir, strings.Join(files, ", "))
	}
	return nil, err
}
