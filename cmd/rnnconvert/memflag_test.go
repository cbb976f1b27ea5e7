package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true},
		{"2GB", 2_000_000_000, true},
		{"1073741824", 1 << 30, true},
		{"1.5GiB", 3 << 29, true},
		{"64k", 64 << 10, true},
		{"100 B", 100, true},
		{"none", -1, true},
		{"0", 0, false},
		{"-5MB", 0, false},
		{"2XB", 0, false},
		{"", 0, false},
		{"1e30GB", 0, false},
		{"NaN", 0, false},
	}
	for _, tc := range cases {
		got, err := parseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestPredictMaxMemory(t *testing.T) {
	model := "../../testdata/goldens/sentiment_bilstm/model.keras"
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--max-memory", "100KiB"}, 1, "over the memory budget of 100 KiB"},
		{[]string{"--max-memory", "2GB"}, 0, "dense"},
		{[]string{"--max-memory", "none"}, 0, "dense"},
		{[]string{"--max-memory", "lots"}, 2, "want a positive size"},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		args := append([]string{model, "--ids", "1,2,3"}, tc.args...)
		code := runPredict(args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("predict %v: exit %d, %q %q; want exit %d and %q", tc.args, code, out.String(), errb.String(), tc.code, tc.want)
		}
	}
}
