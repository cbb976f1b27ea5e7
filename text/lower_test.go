package text

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// python_case.json is written by testdata/gen_python_case.py under CPython
// (/usr/bin/python3 testdata/gen_python_case.py testdata/python_case.json):
// every code point whose str.lower() differs from itself, and the
// Case_Ignorable / Cased code points as str.lower's final-sigma rule sees
// them.
type pythonCase struct {
	Python        string            `json:"python"`
	Unicode       string            `json:"unicode"`
	Lower         map[string]string `json:"lower"`
	CaseIgnorable [][2]rune         `json:"case_ignorable"`
	CasedOnly     [][2]rune         `json:"cased_not_ignorable"`
	Unassigned    [][2]rune         `json:"unassigned"`
}

func TestPythonLowerEveryCodePoint(t *testing.T) {
	b, err := os.ReadFile("testdata/python_case.json")
	if err != nil {
		t.Fatal(err)
	}
	var pc pythonCase
	if err := json.Unmarshal(b, &pc); err != nil {
		t.Fatal(err)
	}
	lower := map[rune]string{}
	for k, v := range pc.Lower {
		c, err := strconv.Atoi(k)
		if err != nil {
			t.Fatal(err)
		}
		lower[rune(c)] = v
	}
	ci := map[rune]bool{}
	for _, r := range pc.CaseIgnorable {
		for c := r[0]; c <= r[1]; c++ {
			ci[c] = true
		}
	}
	cs := map[rune]bool{}
	for _, r := range pc.CasedOnly {
		for c := r[0]; c <= r[1]; c++ {
			cs[c] = true
		}
	}
	unassigned := map[rune]bool{}
	for _, r := range pc.Unassigned {
		for c := r[0]; c <= r[1]; c++ {
			unassigned[c] = true
		}
	}
	bad, newer := 0, 0
	for c := rune(0); c < 0x110000; c++ {
		if 0xd800 <= c && c < 0xe000 {
			continue
		}
		if unassigned[c] {
			// Not assigned in the Unicode version of the CPython that wrote
			// the table; Go's tables may be newer.
			if PythonLower(string(c)) != string(c) || caseIgnorable(c) || cased(c) {
				newer++
			}
			continue
		}
		want, ok := lower[c]
		if !ok {
			want = string(c)
		}
		if c == 0x3a3 {
			want = "\u03c3" // alone: not final
		}
		got := PythonLower(string(c))
		if got != want {
			bad++
			if bad < 20 {
				t.Errorf("U+%04X: lower %q, Python %q", c, got, want)
			}
		}
		if caseIgnorable(c) != ci[c] {
			bad++
			if bad < 20 {
				t.Errorf("U+%04X: case-ignorable %v, Python %v", c, caseIgnorable(c), ci[c])
			}
		}
		if !ci[c] && cased(c) != cs[c] {
			bad++
			if bad < 20 {
				t.Errorf("U+%04X: cased %v, Python %v", c, cased(c), cs[c])
			}
		}
	}
	t.Logf("Python %s (Unicode %s): %d differences; %d code points with case properties only in Go's newer Unicode tables", pc.Python, pc.Unicode, bad, newer)
}
