package serve

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeV2 feeds arbitrary bodies to the v2 JSON decoder: it must
// answer a request or an ErrBadRequest, never panic, and what it accepts
// must have as many values as its shapes say.
func FuzzDecodeV2(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","inputs":[{"name":"x","shape":[2,3],"datatype":"INT32","data":[1,2,3,4,5,6]}]}`,
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[[0.5,1e3]]}],"outputs":[{"name":"y"}]}`,
		`{"parameters":{"sequence_id":7,"sequence_start":true,"timeout":100},"inputs":[{"name":"t","shape":[1],"datatype":"BYTES","data":["hi"]}]}`,
		`{"inputs":[{"name":"x","shape":[0],"datatype":"FP64","data":[]}]}`,
		`{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[16777217]}]}`,
		`{"inputs":[`, `[]`, `null`, `{"inputs":[{"shape":[-1]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeV2(body)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v is not ErrBadRequest", err)
			}
			return
		}
		for _, in := range req.inputs {
			n := 1
			for _, d := range in.shape {
				n *= d
			}
			got := len(in.nums)
			if in.datatype == "BYTES" {
				got = len(in.strs)
			}
			if got != n {
				t.Fatalf("accepted shape %v with %d values", in.shape, got)
			}
		}
	})
}

// FuzzDecodeTF feeds arbitrary bodies to the TF Serving JSON decoder:
// a request or an ErrBadRequest, never a panic, and accepted tensors hold
// as many values as their shapes.
func FuzzDecodeTF(f *testing.F) {
	for _, s := range []string{
		`{"instances":[[1,2,3],[4,5,6]]}`,
		`{"signature_name":"serving_default","instances":[{"a":[1,2],"b":0.5},{"a":[3,4],"b":1}]}`,
		`{"inputs":{"a":[[1,2]],"b":[[0.5]]}}`,
		`{"inputs":[["x","y"]]}`,
		`{"instances":["some text","more"],"sequence_id":"s1"}`,
		`{"instances":[[1,2],[3]]}`, `{"instances":[{"b64":"AA=="}]}`, `{}`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeTF(body)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v is not ErrBadRequest", err)
			}
			return
		}
		check := func(rt *reqTensor) {
			n := 1
			for _, d := range rt.shape {
				n *= d
			}
			got := len(rt.nums) + len(rt.strs)
			if got != n {
				t.Fatalf("accepted shape %v with %d values", rt.shape, got)
			}
		}
		if r.unnamed != nil {
			check(r.unnamed)
		}
		for _, rt := range r.named {
			check(rt)
		}
	})
}

// FuzzScanNumbers checks the fast number scanner against encoding/json:
// whatever it accepts, encoding/json reads as the same numbers.
func FuzzScanNumbers(f *testing.F) {
	for _, s := range []string{`[1,2,3]`, `[[1.5e3,-0.25],[0,7]]`, `[]`, `[[],[]]`, `[1,]`, `[01]`, `[1e]`, `[-]`, ` [ 1 , 2 ] `, `[1][2]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := scanNumbers(b)
		if !ok {
			return
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("scanner accepted %q, encoding/json: %v", b, err)
		}
		var want []float64
		flatten(v, 0, func(e any) error {
			x, _ := e.(float64)
			want = append(want, x)
			return nil
		})
		if len(got) != len(want) {
			t.Fatalf("%q: %d numbers, encoding/json %d", b, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: number %d is %v, encoding/json %v", b, i, got[i], want[i])
			}
		}
	})
}
