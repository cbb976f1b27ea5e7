package keras

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// ErrIntegrity means a model's files do not match the checksums recorded
// for them: a .keras member whose CRC-32 differs from its zip header's, a
// file whose SHA-256 differs from its MODEL.sha256 manifest, or
// self-check vectors (MODEL.selfcheck.npz) the model no longer
// reproduces.
var ErrIntegrity = convert.ErrIntegrity

// integrityOptions are the load options that check a file's integrity.
type integrityOptions struct {
	sha256    string
	noSidecar bool
	selfCheck bool
}

// WithSHA256 makes Load fail with ErrIntegrity unless the model file's
// SHA-256 is hexDigest (64 hex digits, as sha256sum prints it). It
// applies to single-file models (.keras, .h5, a TF.js model.json alone);
// seal a directory or a pair of files with a manifest instead
// (SealSHA256, rnnconvert seal).
func WithSHA256(hexDigest string) Option {
	return func(o *options) { o.integrity.sha256 = strings.ToLower(strings.TrimSpace(hexDigest)) }
}

// WithoutSHA256Manifest turns off the automatic manifest check: by
// default, when MODEL.sha256 exists beside the model (written by
// SealSHA256 or `rnnconvert seal MODEL`, in sha256sum format), Load
// checks every file it lists, and the model's own files must all be
// listed; a mismatch fails the load with ErrIntegrity.
func WithoutSHA256Manifest() Option {
	return func(o *options) { o.integrity.noSidecar = true }
}

// WithSelfCheck makes Load replay the self-check vectors stored beside
// the model (MODEL.selfcheck.npz, written by WriteSelfCheck or
// `rnnconvert seal MODEL --case DIR`): inputs and the outputs Keras
// computed. The load fails with ErrIntegrity when an output is out of
// tolerance, and when the vectors are missing.
func WithSelfCheck() Option {
	return func(o *options) { o.integrity.selfCheck = true }
}

// SHA256ManifestPath is the manifest that SealSHA256 writes and Load
// checks for model: model + ".sha256".
func SHA256ManifestPath(model string) string { return filepath.Clean(model) + ".sha256" }

// SelfCheckPath is the self-check vectors file of model: model +
// ".selfcheck.npz".
func SelfCheckPath(model string) string { return filepath.Clean(model) + ".selfcheck.npz" }

// integrityError is an ErrIntegrity error about file.
func integrityError(file, format string, args ...any) error {
	return &convert.Error{Reader: "keras", File: file, Kind: ErrIntegrity, Msg: fmt.Sprintf(format, args...)}
}

// modelFiles lists the files that make up the model at name in fsys,
// slash-separated and relative to fsys: the file itself (with the weight
// shards a TF.js model.json names), or every regular file under a
// directory.
func modelFiles(fsys fs.FS, name string) ([]string, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		var out []string
		err := fs.WalkDir(fsys, name, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
		sort.Strings(out)
		return out, err
	}
	out := []string{name}
	if strings.HasSuffix(name, ".json") && fi.Size() <= maxJSONSize {
		// A TF.js model.json: its shards belong to the model.
		data, err := fs.ReadFile(fsys, name)
		if err == nil {
			var mf struct {
				WeightsManifest []struct {
					Paths []string `json:"paths"`
				} `json:"weightsManifest"`
			}
			if json.Unmarshal(data, &mf) == nil {
				for _, g := range mf.WeightsManifest {
					for _, p := range g.Paths {
						if sp := path.Join(path.Dir(name), p); fs.ValidPath(sp) {
							out = append(out, sp)
						}
					}
				}
			}
		}
	}
	return out, nil
}

// fileSHA256 hashes one file of fsys.
func fileSHA256(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SealSHA256 writes model's manifest, SHA256ManifestPath(model), in
// sha256sum format (`sha256sum -c` checks it from model's folder): one
// line per file of the model (the file, a TF.js model.json's shards, or
// every file of a SavedModel directory) and the self-check vectors when
// SelfCheckPath(model) exists. It returns the manifest's path.
func SealSHA256(model string) (string, error) {
	model = filepath.Clean(model)
	dir, base := filepath.Split(model)
	if dir == "" {
		dir = "."
	}
	fsys := os.DirFS(dir)
	files, err := modelFiles(fsys, base)
	if err != nil {
		return "", fmt.Errorf("keras: seal: %w", err)
	}
	if sc := base + ".selfcheck.npz"; fileExists(fsys, sc) {
		files = append(files, sc)
	}
	var b strings.Builder
	for _, f := range files {
		sum, err := fileSHA256(fsys, f)
		if err != nil {
			return "", fmt.Errorf("keras: seal: %w", err)
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, f)
	}
	out := SHA256ManifestPath(model)
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("keras: seal: %w", err)
	}
	return out, nil
}

func fileExists(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && fi.Mode().IsRegular()
}

// sha256Line is one sha256sum line: digest, a space, " " or "*" (binary
// mode), the name.
var sha256Line = regexp.MustCompile(`^([0-9a-fA-F]{64}) [ *](.+)$`)

// maxManifestSize bounds a MODEL.sha256 manifest.
const maxManifestSize = 1 << 20

// checkIntegrity runs the SHA-256 checks the options ask for on the model
// at name in fsys (display names it in errors): WithSHA256, then the
// manifest beside the model unless WithoutSHA256Manifest.
func checkIntegrity(fsys fs.FS, name, display string, o *options) error {
	if o.integrity.sha256 != "" {
		if len(o.integrity.sha256) != 64 || strings.Trim(o.integrity.sha256, "0123456789abcdef") != "" {
			return fmt.Errorf("keras: WithSHA256(%q): want 64 hex digits: %w", clipForMessage(o.integrity.sha256), ErrConfig)
		}
		if fi, err := fs.Stat(fsys, name); err == nil && fi.IsDir() {
			return fmt.Errorf("keras: %s: WithSHA256 takes the digest of a single file, and this is a folder: seal it with SealSHA256 (rnnconvert seal): %w", display, ErrConfig)
		}
		sum, err := fileSHA256(fsys, name)
		if err != nil {
			return fmt.Errorf("keras: %s: %w", display, err)
		}
		if sum != o.integrity.sha256 {
			return integrityError(display, "SHA-256 %s, WithSHA256 expects %s: the file was changed or damaged", sum, o.integrity.sha256)
		}
	}
	if o.integrity.noSidecar || name == "." {
		return nil
	}
	return checkManifest(fsys, name, display)
}

func clipForMessage(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// checkManifest checks name's manifest, name + ".sha256", when it exists.
func checkManifest(fsys fs.FS, name, display string) error {
	mname := name + ".sha256"
	mdisplay := display + ".sha256"
	f, err := fsys.Open(mname)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keras: %s: %w", mdisplay, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	f.Close()
	if err != nil {
		return fmt.Errorf("keras: %s: %w", mdisplay, err)
	}
	if len(data) > maxManifestSize {
		return fmt.Errorf("keras: %s: manifest exceeds %d bytes: %w", mdisplay, maxManifestSize, ErrFormat)
	}
	dir := path.Dir(name)
	listed := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxManifestSize)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" {
			continue
		}
		m := sha256Line.FindStringSubmatch(text)
		if m == nil {
			return fmt.Errorf("keras: %s: line %d: want \"SHA256  FILE\" as sha256sum writes it, got %q: %w", mdisplay, line, clipForMessage(text), ErrFormat)
		}
		p := path.Join(dir, filepath.ToSlash(m[2]))
		if !fs.ValidPath(p) || strings.HasPrefix(m[2], "/") {
			return fmt.Errorf("keras: %s: line %d: file %q is outside the manifest's folder: %w", mdisplay, line, clipForMessage(m[2]), ErrFormat)
		}
		listed[p] = strings.ToLower(m[1])
	}
	files, err := modelFiles(fsys, name)
	if err != nil {
		return fmt.Errorf("keras: %s: %w", display, err)
	}
	for _, f := range files {
		if _, ok := listed[f]; !ok {
			return integrityError(display, "%s does not list %s, a file of the model: reseal it (rnnconvert seal)", path.Base(mname), f)
		}
	}
	names := make([]string, 0, len(listed))
	for p := range listed {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		sum, err := fileSHA256(fsys, p)
		if err != nil {
			return integrityError(display, "%s lists %s: %v", path.Base(mname), p, err)
		}
		if sum != listed[p] {
			return integrityError(display, "%s: SHA-256 %s, %s records %s: the file was changed or damaged", p, sum, path.Base(mname), listed[p])
		}
	}
	return nil
}

// selfCheckFile is the manifest of a self-check vectors file.
type selfCheckFile struct {
	// Source names where the vectors came from (a golden case).
	Source string     `json:"source"`
	Calls  []CaseCall `json:"calls"`
	Atol   float64    `json:"atol"`
	Rtol   float64    `json:"rtol"`
}

// selfCheckManifest is the manifest's member name in the npz.
const selfCheckManifest = "selfcheck.json"

// maxSelfCheckSize bounds a self-check vectors file.
const maxSelfCheckSize = 256 << 20

// WriteSelfCheck stores the inputs and Keras' outputs of reference case
// c (its calls, in order, and its tolerance) beside model, in
// SelfCheckPath(model): an .npz (a zip of .npy files, which numpy.load
// reads) with a selfcheck.json listing the calls. Load with
// WithSelfCheck and `rnnconvert verify MODEL` replay it. It returns the
// file's path.
func WriteSelfCheck(model string, c *Case) (string, error) {
	if len(c.Calls) == 0 {
		return "", fmt.Errorf("keras: self-check: case %s has no calls", c.Name)
	}
	sf := selfCheckFile{Source: c.Name, Atol: c.Tolerance.Atol, Rtol: c.Tolerance.Rtol}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for ci, call := range c.Calls {
		sc := CaseCall{ResetStatesBefore: call.ResetStatesBefore}
		for kind, files := range [][]string{call.Inputs, call.Outputs} {
			for _, f := range files {
				data, err := os.ReadFile(filepath.Join(c.Dir, f))
				if err != nil {
					return "", fmt.Errorf("keras: self-check: %w", err)
				}
				if _, err := ReadNPY(bytes.NewReader(data)); err != nil {
					return "", fmt.Errorf("keras: self-check: %s: %w", f, err)
				}
				member := fmt.Sprintf("call%d_%s", ci, path.Base(filepath.ToSlash(f)))
				w, err := zw.CreateHeader(&zip.FileHeader{Name: member, Method: zip.Deflate})
				if err != nil {
					return "", err
				}
				w.Write(data)
				if kind == 0 {
					sc.Inputs = append(sc.Inputs, member)
				} else {
					sc.Outputs = append(sc.Outputs, member)
				}
			}
		}
		sf.Calls = append(sf.Calls, sc)
	}
	js, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return "", err
	}
	w, err := zw.Create(selfCheckManifest)
	if err != nil {
		return "", err
	}
	w.Write(js)
	if err := zw.Close(); err != nil {
		return "", err
	}
	out := SelfCheckPath(model)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("keras: self-check: %w", err)
	}
	return out, nil
}

// RunSelfCheck replays the self-check vectors file at path (see
// WriteSelfCheck) on m: every call in order on one session, each output
// compared with Keras' within the stored tolerance. It returns one result
// per output; the error reports a file that cannot be read (ErrFormat)
// or a call that failed. Out-of-tolerance outputs are in the results
// (OutputResult.OK), not in the error.
func RunSelfCheck(m *Model, path string) ([]OutputResult, error) {
	data, err := readAllFS(os.DirFS(filepath.Dir(path)), filepath.Base(path), path, maxSelfCheckSize)
	if err != nil {
		return nil, err
	}
	return runSelfCheck(m, data, path)
}

func runSelfCheck(m *Model, data []byte, display string) ([]OutputResult, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("keras: %s: self-check vectors: %v: %w", display, err, ErrFormat)
	}
	members := map[string]*zip.File{}
	for _, f := range zr.File {
		members[f.Name] = f
	}
	read := func(name string, limit int64) ([]byte, error) {
		f := members[name]
		if f == nil {
			return nil, fmt.Errorf("keras: %s: self-check vectors: no member %q: %w", display, clipForMessage(name), ErrFormat)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("keras: %s: %s: %v: %w", display, name, err, ErrFormat)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, limit))
		if err != nil {
			// archive/zip checks the CRC-32 at the end of the member.
			return nil, fmt.Errorf("keras: %s: %s: %v: %w", display, name, err, ErrFormat)
		}
		return b, nil
	}
	js, err := read(selfCheckManifest, 1<<20)
	if err != nil {
		return nil, err
	}
	var sf selfCheckFile
	if err := json.Unmarshal(js, &sf); err != nil {
		return nil, convert.JSONDecodeError(display, selfCheckManifest, js, err)
	}
	if len(sf.Calls) == 0 {
		return nil, fmt.Errorf("keras: %s: self-check vectors hold no calls: %w", display, ErrFormat)
	}
	if sf.Atol == 0 && sf.Rtol == 0 {
		sf.Atol, sf.Rtol = DefaultAtol, DefaultRtol
	}
	tensor := func(name string) (*runtime.Tensor, error) {
		b, err := read(name, maxSelfCheckSize)
		if err != nil {
			return nil, err
		}
		t, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("keras: %s: %s: %w", display, name, err)
		}
		return t, nil
	}
	s := m.NewSession()
	var results []OutputResult
	for ci, call := range sf.Calls {
		if call.ResetStatesBefore && ci > 0 {
			s.Reset()
		}
		inputs := make([]*runtime.Tensor, len(call.Inputs))
		for i, f := range call.Inputs {
			if inputs[i], err = tensor(f); err != nil {
				return results, err
			}
		}
		outs, err := s.Predict(inputs...)
		if err != nil {
			return results, fmt.Errorf("keras: %s: self-check call %d: %w", display, ci, err)
		}
		if len(outs) != len(call.Outputs) {
			return results, fmt.Errorf("keras: %s: self-check call %d: model gave %d outputs, the vectors hold %d: %w", display, ci, len(outs), len(call.Outputs), ErrIntegrity)
		}
		for j, f := range call.Outputs {
			want, err := tensor(f)
			if err != nil {
				return results, err
			}
			r := Compare(outs[j], want, sf.Atol, sf.Rtol)
			r.File, r.Call = f, ci
			results = append(results, r)
		}
	}
	return results, nil
}

// selfCheckOnLoad replays the vectors beside the model at name in fsys
// for WithSelfCheck: any output out of tolerance fails with ErrIntegrity.
func selfCheckOnLoad(m *Model, fsys fs.FS, name, display string) error {
	sname := name + ".selfcheck.npz"
	if name == "." {
		return fmt.Errorf("keras: %s: WithSelfCheck: the vectors of a folder loaded as \".\" sit outside it; load the folder by its path: %w", display, ErrConfig)
	}
	data, err := readAllFS(fsys, sname, display+".selfcheck.npz", maxSelfCheckSize)
	if errors.Is(err, fs.ErrNotExist) {
		return integrityError(display, "WithSelfCheck: no self-check vectors (%s) beside the model: write them with rnnconvert seal MODEL --case DIR", path.Base(sname))
	}
	if err != nil {
		return err
	}
	results, err := runSelfCheck(m, data, display+".selfcheck.npz")
	if err != nil {
		return err
	}
	for i := range results {
		if !results[i].OK() {
			return integrityError(display, "self-check: %s", results[i].String())
		}
	}
	return nil
}
