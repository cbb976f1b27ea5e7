package convert

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// seqConfig is a Sequential config with an InputLayer of the given
// batch_shape JSON and a Dense layer with the given extra options.
func seqConfig(batchShape, denseExtra string) string {
	return `{"class_name": "Sequential", "config": {"name": "s", "layers": [` +
		`{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": ` + batchShape + `}},` +
		`{"class_name": "Dense", "config": {"name": "d", "units": 3` + denseExtra + `}}]}}`
}

func TestParseLimits(t *testing.T) {
	ones := "[" + strings.TrimSuffix(strings.Repeat("1,", 300_000), ",") + "]"
	manyLayers := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [null, 4]}}`)
		for i := range n {
			fmt.Fprintf(&b, `, {"class_name": "Dense", "config": {"name": "d%d", "units": 4}}`, i)
		}
		b.WriteString("]}}")
		return b.String()
	}
	for _, tc := range []struct {
		name   string
		js     string
		lim    Limits
		want   string
		lifted Limits
	}{
		{"batch_shape 300k", seqConfig(ones, ""), Limits{}, `model.layers[0] (in): option "batch_shape": rank 300000 exceeds the limit of 32 (Limits.Rank)`, Limits{Rank: -1}},
		{"rank 33", seqConfig("["+strings.Repeat("1,", 32)+"1]", ""), Limits{}, "rank 33 exceeds the limit of 32", Limits{Rank: 33}},
		{"dimension", seqConfig("[null, 1e12]", ""), Limits{}, `dimension 1e+12 exceeds the limit of 2147483647 (Limits.Dim)`, Limits{Dim: -1}},
		{"units", seqConfig("[null, 4]", ""), Limits{Units: 2}, `model.layers[1] (d): option "units": 3 exceeds the limit of 2 (Limits.Units)`, Limits{}},
		{"huge units", seqConfig("[null, 4]", `, "filters": 1e300`), Limits{}, `option "filters": 1e+300 exceeds the limit of 67108864`, Limits{Units: -1}},
		{"target_shape", seqConfig("[null, 4]", `, "target_shape": `+ones), Limits{}, `option "target_shape": rank 300000`, Limits{Rank: -1}},
		{"layers", manyLayers(10), Limits{Layers: 5}, "layer count over 5 exceeds the limit of 5 (Limits.Layers)", Limits{Layers: 11}},
		{"config bytes", seqConfig("[null, 4]", ""), Limits{ConfigBytes: 50}, "size of", Limits{ConfigBytes: 1 << 20}},
		{"list length", seqConfig(ones, ""), Limits{ListLength: 1000, Rank: -1}, "JSON list of more than 1000 entries (Limits.ListLength)", Limits{Rank: -1}},
		{"object keys", seqConfig("[null, 4]", `, "a": 1, "b": 2, "c": 3`), Limits{ListLength: 3}, "JSON object of more than 3 keys", Limits{}},
		{"depth", seqConfig("[null, 4]", `, "x": `+strings.Repeat("[", 100)+strings.Repeat("]", 100)), Limits{Depth: 50}, "deeper than 50 levels (Limits.Depth)", Limits{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParseModelConfig([]byte(tc.js), ParseOptions{File: "m.json", Limits: tc.lim})
			// About 60 ms for the 300,000-element shape on an idle core
			// (the quadratic message builders this guards against took
			// 100 s); the bound leaves room for a loaded machine.
			if d := time.Since(start); d > raceSlowdown*5*time.Second {
				t.Errorf("took %v", d)
			}
			if !errors.Is(err, ErrLimit) || errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want ErrLimit", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "m.json" || !strings.Contains(err.Error(), tc.want) || len(err.Error()) > maxErrorLen {
				t.Errorf("got %.300v, want %q", err, tc.want)
			}
			if _, err := ParseModelConfig([]byte(tc.js), ParseOptions{File: "m.json", Limits: tc.lifted}); errors.Is(err, ErrLimit) {
				t.Errorf("with %+v: %v", tc.lifted, err)
			}
		})
	}
}

// TestErrorLengthBounded: a message built from a hostile input stays
// under maxErrorLen, with the cut marked.
func TestErrorLengthBounded(t *testing.T) {
	huge := strings.Repeat("é", 1<<20)
	e := &Error{File: huge, Path: huge, Msg: huge, Kind: ErrFormat, Err: errors.New(huge)}
	s := e.Error()
	if len(s) > maxErrorLen || !strings.Contains(s, "more bytes)") {
		t.Errorf("message of %d bytes: %.100q", len(s), s)
	}
	if s := ClipMessage(huge); len(s) > maxErrorLen+32 {
		t.Errorf("ClipMessage: %d bytes", len(s))
	}
	// A malformed reference holding a long list is printed clipped.
	js := `{"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "name": "d", "config": {"name": "d"}, "inbound_nodes": [[["x", 0, "` + strings.Repeat("y", 1<<20) + `"]]]}], "input_layers": [["d", 0, 0]], "output_layers": [["d", 0, 0]]}}`
	_, err := ParseModelConfig([]byte(js), ParseOptions{File: "m.json"})
	if err == nil || len(err.Error()) > 1024 {
		t.Errorf("got %d bytes: %.200v", len(fmt.Sprint(err)), err)
	}
}
