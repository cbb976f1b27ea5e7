package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SharedEnv names the environment variable that points the shared-corpus
// tests at the corpus folder (goldens, realworld, perf, ...). Without it
// the corpus is ../shared beside the repository root.
const SharedEnv = "RNNKIT_SHARED"

// SharedRoot returns the shared corpus folder: $RNNKIT_SHARED when set,
// else ../shared beside the repository root (the folder holding go.mod).
// It returns "" when neither can be resolved.
func SharedRoot() string {
	if d := os.Getenv(SharedEnv); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// SharedDir returns the folder sub (slash-separated, "" for the root) of
// the shared corpus (SharedRoot), or skips the test when it is absent.
// The skip is announced once per test binary on the go command's output,
// so that `go test ./...` without -v says which suites did not run and
// how to point them at the corpus.
func SharedDir(t testing.TB, sub string) string {
	t.Helper()
	root := SharedRoot()
	if root == "" {
		skipShared(t, "../shared", fmt.Errorf("repository root not found"))
	}
	dir := filepath.Join(root, filepath.FromSlash(sub))
	if _, err := os.Stat(dir); err != nil {
		skipShared(t, dir, err)
	}
	return dir
}

var announce sync.Once

// skipShared skips t because the shared corpus at dir is missing.
func skipShared(t testing.TB, dir string, err error) {
	t.Helper()
	msg := fmt.Sprintf("shared corpus absent (%v): set %s to the corpus folder to run it", err, SharedEnv)
	announce.Do(func() {
		note := fmt.Sprintf("NOTE: %s: tests that need the shared corpus are skipped: %s not found; set %s to the corpus folder to run them\n",
			packageName(), dir, SharedEnv)
		writeToGoCommand(note)
	})
	t.Skip(msg)
}

// packageName guesses the package under test from the test binary's name
// (keras.test), for the note.
func packageName() string {
	return strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
}

// writeToGoCommand writes s where a user running `go test` sees it. In
// package list mode (`go test ./...`) the go command prints a passing
// package's output only with -v; so the note goes, on Linux, to the
// standard error of the go command that started this test binary when
// that is a pipe or a terminal (what CI runners and shells give it).
// Otherwise (output redirected to a file, other systems) it goes to this
// process's standard error, shown with -v or when a test fails.
func writeToGoCommand(s string) {
	if !testing.Verbose() {
		ppid := os.Getppid()
		fd := "/proc/" + strconv.Itoa(ppid) + "/fd/2"
		// Only a pipe, terminal or socket: a regular file opened anew
		// would have its own offset, and the go command's next write
		// would overwrite the note.
		fi, serr := os.Stat(fd)
		stream := serr == nil && fi.Mode()&(os.ModeNamedPipe|os.ModeCharDevice|os.ModeSocket) != 0
		if comm, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/comm"); err == nil && stream && strings.TrimSpace(string(comm)) == "go" {
			if f, err := os.OpenFile(fd, os.O_WRONLY|os.O_APPEND, 0); err == nil {
				_, werr := f.WriteString(s)
				f.Close()
				if werr == nil {
					return
				}
			}
		}
	}
	fmt.Fprint(os.Stderr, s)
}
