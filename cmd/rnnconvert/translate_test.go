package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	s2sShared = "../../testdata/goldens-text/s2s_char_lstm_translate"
	s2sDir    = "../../testdata/goldens-s2s"
)

// goldenTexts writes the inputs of a decoded.json or beam.json (filtered
// by beam width, 0 for greedy files) to a texts file and returns it with
// the expected translations.
func goldenTexts(t *testing.T, path string, beam int) (textsFile string, want []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Input, Decoded string
		Beam           int
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range cases {
		if c.Beam == beam {
			texts = append(texts, c.Input)
			want = append(want, c.Decoded)
		}
	}
	if len(texts) == 0 {
		t.Fatalf("%s: no cases with beam %d", path, beam)
	}
	textsFile = filepath.Join(t.TempDir(), "texts.json")
	b, _ := json.Marshal(texts)
	if err := os.WriteFile(textsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return textsFile, want
}

func translations(t *testing.T, out string) []string {
	t.Helper()
	var got struct {
		Translations []string `json:"translations"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not the translations JSON: %v\n%s", err, out)
	}
	return got.Translations
}

func TestTranslateGoldens(t *testing.T) {
	cases := []struct {
		name, model, vocab, expect string
		beam                       int
		extra                      []string
	}{
		{"shared lstm h5", s2sShared + "/model.h5", s2sShared + "/vocab.json", s2sShared + "/decoded.json", 0, nil},
		{"shared lstm keras", s2sShared + "/model.keras", s2sShared + "/vocab.json", s2sShared + "/decoded.json", 0, []string{"--json"}},
		{"shared lstm beam 3", s2sShared + "/model.keras", s2sShared + "/vocab.json", s2sDir + "/s2s_char_lstm_beam/beam.json", 3, nil},
		{"shared lstm beam 5", s2sShared + "/model.h5", s2sShared + "/vocab.json", s2sDir + "/s2s_char_lstm_beam/beam.json", 5, nil},
		{"gru greedy", s2sDir + "/s2s_char_gru/model.h5", s2sDir + "/s2s_char_gru/vocab.json", s2sDir + "/s2s_char_gru/decoded.json", 0, nil},
		{"gru beam 2", s2sDir + "/s2s_char_gru/model.keras", s2sDir + "/s2s_char_gru/vocab.json", s2sDir + "/s2s_char_gru/beam.json", 2, nil},
		{"stacked bilstm h5", s2sDir + "/s2s_stacked_bilstm/model.h5", s2sDir + "/s2s_stacked_bilstm/vocab.json", s2sDir + "/s2s_stacked_bilstm/decoded.json", 0, nil},
		{"stacked bilstm beam 4", s2sDir + "/s2s_stacked_bilstm/model.keras", s2sDir + "/s2s_stacked_bilstm/vocab.json", s2sDir + "/s2s_stacked_bilstm/beam.json", 4, nil},
		{"logits gru beam 3", s2sDir + "/s2s_logits_gru/model.h5", s2sDir + "/s2s_logits_gru/vocab.json", s2sDir + "/s2s_logits_gru/beam.json", 3, nil},
		{"space padding", s2sShared + "/model.h5", s2sDir + "/s2s_char_lstm_pad/vocab.json", s2sDir + "/s2s_char_lstm_pad/decoded.json", 0, nil},
		{"two decoders named", s2sDir + "/s2s_two_decoders/model.keras", s2sDir + "/s2s_two_decoders/vocab.json", s2sDir + "/s2s_two_decoders/decoded.json", 0, []string{"--decoder-input", "dec_a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			texts, want := goldenTexts(t, c.expect, c.beam)
			args := []string{"translate", c.model, "--vocab", c.vocab, "--texts", texts}
			if c.beam > 0 {
				args = append(args, "--beam", string(rune('0'+c.beam)))
			}
			code, out, errs := runCmd(append(args, c.extra...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := translations(t, out)
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("translations %q\nwant %q", got, want)
			}
		})
	}
}

func TestTranslateTextFlag(t *testing.T) {
	code, out, errs := runCmd("translate", s2sShared+"/model.keras", "--vocab", s2sShared+"/vocab.json", "--text", "go.", "--text", "run!")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := translations(t, out); len(got) != 2 || got[0] != ".ee.rejjjjirrj" || got[1] != "e.rejjjjirrjji" {
		t.Errorf("got %q", got)
	}
}

func TestTranslateHelp(t *testing.T) {
	code, out, _ := runCmd("translate", "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"--vocab", "--beam", "--encoder-input", "--decoder-input", "--source-tokenizer", "--target-tokenizer", "(default 1)", "examples:", `{"translations"`} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestTranslateErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	texts := write("texts.json", `["go."]`)
	badVocab := write("bad.json", `{"source_chars": ["a", "a"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`)
	smallVocab := write("small.json", `{"source_chars": ["a", "b"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`)
	noStart := write("nostart.json", `{"source_chars": ["a"], "target_chars": ["x", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`)
	model, vocab := s2sShared+"/model.keras", s2sShared+"/vocab.json"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no vocab", []string{model, "--texts", texts}, 2, "needs --vocab"},
		{"both forms", []string{model, "--vocab", vocab, "--source-tokenizer", "x", "--target-tokenizer", "y", "--texts", texts}, 2, "not both"},
		{"one tokenizer", []string{model, "--source-tokenizer", "x", "--texts", texts}, 2, "both --source-tokenizer and --target-tokenizer"},
		{"no texts", []string{model, "--vocab", vocab}, 2, "--texts"},
		{"beam 0", []string{model, "--vocab", vocab, "--texts", texts, "--beam", "0"}, 2, "--beam"},
		{"padding", []string{model, "--vocab", vocab, "--texts", texts, "--padding", "middle"}, 2, "--padding"},
		{"texts not a list", []string{model, "--vocab", vocab, "--texts", vocab}, 1, "JSON list of strings"},
		{"duplicate chars", []string{model, "--vocab", badVocab, "--texts", texts}, 1, `source_chars: "a" at 0 and 1`},
		{"vocab of another model", []string{model, "--vocab", smallVocab, "--texts", texts}, 1, "19 features, the vocabulary 2 source_chars"},
		{"start not a target char", []string{model, "--vocab", noStart, "--texts", texts}, 1, "start \"\\t\" is not among target_chars"},
		{"unknown chars strict", []string{model, "--vocab", vocab, "--text", "go, ZZ", "--strict"}, 1, `["," "Z"]`},
		{"empty text", []string{model, "--vocab", vocab, "--text", ""}, 1, "empty text"},
		{"not a seq2seq model", []string{"../../testdata/example/char_gru_generator/model.keras", "--vocab", vocab, "--texts", texts}, 1, "no recurrent layer takes its initial_state"},
		{"ambiguous decoders", []string{s2sDir + "/s2s_two_decoders/model.keras", "--vocab", s2sDir + "/s2s_two_decoders/vocab.json", "--texts", texts}, 1, "--decoder-input"},
		{"unknown input name", []string{model, "--vocab", vocab, "--texts", texts, "--encoder-input", "nope"}, 1, `no model input named "nope"`},
		{"inputs swapped", []string{model, "--vocab", vocab, "--texts", texts, "--encoder-input", "decoder_inputs"}, 1, "no recurrent layer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(append([]string{"translate"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, out, errs)
			}
			if !strings.Contains(errs, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errs)
			}
		})
	}
}

// TestTranslateTokens: the oracle's token-level seq2seq through the CLI,
// with the Keras Tokenizer files it was trained with; greedy and beam.
func TestTranslateTokens(t *testing.T) {
	dir := s2sDir + "/s2s_token_lstm"
	for _, beam := range []int{0, 2, 4} {
		file := dir + "/decoded.json"
		if beam > 0 {
			file = dir + "/beam.json"
		}
		texts, want := goldenTexts(t, file, beam)
		args := []string{"translate", dir + "/model.keras", "--source-tokenizer", dir + "/source_tokenizer.json",
			"--target-tokenizer", dir + "/target_tokenizer.json", "--texts", texts, "--max-decoder-len", "8", "--json"}
		if beam > 0 {
			args = append(args, "--beam", string(rune('0'+beam)))
		}
		code, out, errs := runCmd(args...)
		if code != 0 {
			t.Fatalf("beam %d: exit %d: %s", beam, code, errs)
		}
		if got := translations(t, out); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("beam %d: translations %q\nwant %q", beam, got, want)
		}
	}
	// Named start/stop tokens the tokenizer lacks, and a character model
	// given tokenizers, fail clearly.
	tok := []string{"--source-tokenizer", dir + "/source_tokenizer.json", "--target-tokenizer", dir + "/target_tokenizer.json", "--text", "i am cold"}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{append([]string{dir + "/model.keras", "--start", "<go>", "--stop", "<end>"}, tok...), 1, `start token "<go>" is not in the target tokenizer`},
		{append([]string{dir + "/model.keras", "--start", "sos"}, tok...), 2, "both --start and --stop"},
		{append([]string{s2sShared + "/model.keras"}, tok...), 1, "tokenizers need token-id inputs"},
		{[]string{dir + "/model.keras", "--vocab", s2sShared + "/vocab.json", "--text", "i"}, 1, "a character vocabulary needs one-hot inputs"},
		{[]string{dir + "/model.keras", "--source-tokenizer", dir + "/missing.json", "--target-tokenizer", dir + "/target_tokenizer.json", "--text", "x"}, 1, "missing.json"},
	} {
		code, out, errs := runCmd(append([]string{"translate"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q lacks %q (stdout %s)", tc.args, code, tc.code, errs, tc.want, out)
		}
	}
}
