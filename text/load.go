package text

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
)

// maxFileSize bounds the files LoadTokenizer and LoadVocabulary read.
const maxFileSize = 1 << 30

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrFormat, maxFileSize)
	}
	return b, nil
}

// LoadTokenizer reads a Keras Tokenizer from a file in any of the forms
// projects ship, told apart by content, not by name:
//
//   - Tokenizer.to_json() output;
//   - the same saved once more with json.dump (a JSON string holding it);
//   - a word-index JSON object {"word": id, ...} (Keras' default Tokenizer
//     arguments then apply: lower, default filters, split " ", no OOV token);
//   - a pickle (protocol 2 to 5) of a Tokenizer from keras_preprocessing.text,
//     keras.preprocessing.text, tensorflow.python.keras.preprocessing.text or
//     keras.src.legacy.preprocessing.text, or of a word-index dict.
//
// A pickle naming any other class is refused with ErrUnexpectedClass;
// nothing in a pickle is executed.
func LoadTokenizer(path string) (*Tokenizer, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	t, err := ParseTokenizer(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTokenizer is LoadTokenizer on a file's bytes.
func ParseTokenizer(data []byte) (*Tokenizer, error) {
	if isPickle(data) {
		v, err := loadPickle(data)
		if err != nil {
			return nil, err
		}
		return tokenizerFromPy(v)
	}
	return ParseTokenizerJSON(data)
}

// ParseTokenizerJSON reads the JSON forms of LoadTokenizer: to_json()
// output, that output JSON-encoded again, or a word-index object.
func ParseTokenizerJSON(data []byte) (*Tokenizer, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var inner string
		if err := json.Unmarshal(trimmed, &inner); err != nil {
			return nil, fmt.Errorf("%w: tokenizer JSON string: %v", ErrFormat, err)
		}
		trimmed = bytes.TrimSpace([]byte(inner))
		if len(trimmed) > 0 && trimmed[0] == '"' {
			return nil, fmt.Errorf("%w: tokenizer JSON encoded more than twice", ErrFormat)
		}
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: not a tokenizer: want a JSON object (to_json() output or a word index) or a pickle", ErrFormat)
	}
	keys, vals, err := orderedObject(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w: tokenizer JSON: %v", ErrFormat, err)
	}
	obj := map[string]json.RawMessage{}
	for i, k := range keys {
		obj[k] = vals[i]
	}
	if cfg, ok := obj["config"]; ok {
		if cn, ok := obj["class_name"]; ok {
			var name string
			if json.Unmarshal(cn, &name) != nil || name != "Tokenizer" {
				return nil, fmt.Errorf("%w: class_name %s, want \"Tokenizer\"", ErrUnexpectedClass, cn)
			}
		}
		return tokenizerFromConfigJSON(cfg)
	}
	return wordIndexFromJSON(keys, vals)
}

// wordIndexFromJSON reads {"word": id}.
func wordIndexFromJSON(keys []string, vals []json.RawMessage) (*Tokenizer, error) {
	wi := make(map[string]int, len(keys))
	for i, k := range keys {
		id, err := jsonInt(vals[i])
		if err != nil {
			return nil, fmt.Errorf("%w: word index entry %q: %v", ErrFormat, k, err)
		}
		wi[k] = id
	}
	return fromWordIndex(wi, nil)
}

// fromWordIndex builds a default-argument Tokenizer around a word index
// (index_word is its inverse; a later word wins an id two words share).
func fromWordIndex(wi map[string]int, order []string) (*Tokenizer, error) {
	t, err := NewTokenizer(DefaultConfig())
	if err != nil {
		return nil, err
	}
	t.wordIndex = wi
	t.indexWord = make(map[int]string, len(wi))
	if order != nil {
		for _, w := range order {
			t.indexWord[wi[w]] = w
		}
	} else {
		for w, i := range wi {
			if old, ok := t.indexWord[i]; !ok || w > old { // deterministic
				t.indexWord[i] = w
			}
		}
	}
	t.buildFast()
	return t, nil
}

func jsonInt(raw json.RawMessage) (int, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("want an integer, got %.40s", raw)
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if i > math.MaxInt32 || i < math.MinInt32 {
			return 0, fmt.Errorf("integer %d out of range", i)
		}
		return int(i), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("want an integer, got %s", n)
	}
	return int(f), nil
}

// orderedObject decodes a JSON object's members in file order (Python's
// json.loads keeps order; a repeated key keeps its first place and its last
// value).
func orderedObject(data []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("want a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	pos := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("object key %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if p, dup := pos[k]; dup {
			vals[p] = v
			continue
		}
		pos[k] = len(keys)
		keys = append(keys, k)
		vals = append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("data after the JSON object")
	}
	return keys, vals, nil
}

// tokenizerFromConfigJSON is Keras' tokenizer_from_json on the config.
func tokenizerFromConfigJSON(raw json.RawMessage) (*Tokenizer, error) {
	keys, vals, err := orderedObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: tokenizer config: %v", ErrFormat, err)
	}
	cfg := DefaultConfig()
	t := &Tokenizer{}
	var have = map[string]bool{}
	for i, k := range keys {
		v := vals[i]
		have[k] = true
		var err error
		switch k {
		case "num_words", "nb_words":
			if string(bytes.TrimSpace(v)) != "null" {
				cfg.NumWords, err = jsonInt(v)
			}
		case "filters":
			err = jsonStringOrNull(v, &cfg.Filters)
		case "split":
			err = json.Unmarshal(v, &cfg.Split)
		case "lower":
			err = json.Unmarshal(v, &cfg.Lower)
		case "char_level":
			err = json.Unmarshal(v, &cfg.CharLevel)
		case "oov_token":
			if string(bytes.TrimSpace(v)) != "null" {
				var s string
				if err = json.Unmarshal(v, &s); err == nil {
					cfg.OOVToken = &s
				}
			}
		case "document_count":
			t.documentCount, err = jsonInt(v)
		case "word_counts":
			var s string
			if err = json.Unmarshal(v, &s); err == nil {
				var wk []string
				var wv []json.RawMessage
				if wk, wv, err = orderedObject([]byte(s)); err == nil {
					t.wordCounts = make([]WordCount, len(wk))
					t.wordCountPos = make(map[string]int, len(wk))
					for j, w := range wk {
						var c int
						if c, err = jsonInt(wv[j]); err != nil {
							break
						}
						t.wordCounts[j] = WordCount{w, c}
						t.wordCountPos[w] = j
					}
				}
			}
		case "word_docs":
			t.wordDocs, err = jsonStringMap(v)
		case "word_index":
			t.wordIndex, err = jsonStringMap(v)
		case "index_docs":
			t.indexDocs, err = jsonIntMap(v, func(s string) (int, error) { return jsonInt(json.RawMessage(s)) })
		case "index_word":
			t.indexWord, err = jsonIndexWord(v)
		case "analyzer":
			if string(bytes.TrimSpace(v)) != "null" {
				err = fmt.Errorf("%w: a custom analyzer", ErrUnsupported)
			}
		default:
			// Keras refuses unknown arguments; other writers add some. Ignore.
		}
		if err != nil {
			return nil, fmt.Errorf("%w: tokenizer config %q: %w", ErrFormat, k, err)
		}
	}
	if !have["word_index"] {
		return nil, fmt.Errorf("%w: tokenizer config without word_index", ErrFormat)
	}
	if t.indexWord == nil {
		t.indexWord = make(map[int]string, len(t.wordIndex))
		for w, i := range t.wordIndex {
			t.indexWord[i] = w
		}
	}
	return finish(t, cfg)
}

func finish(t *Tokenizer, cfg Config) (*Tokenizer, error) {
	t.cfg = cfg
	if t.wordCountPos == nil {
		t.wordCountPos = make(map[string]int, len(t.wordCounts))
		for i, wc := range t.wordCounts {
			t.wordCountPos[wc.Word] = i
		}
	}
	if t.wordDocs == nil {
		t.wordDocs = map[string]int{}
	}
	if t.indexDocs == nil {
		t.indexDocs = map[int]int{}
	}
	if err := t.prepare(); err != nil {
		return nil, err
	}
	return t, nil
}

func jsonStringOrNull(v json.RawMessage, dst *string) error {
	if string(bytes.TrimSpace(v)) == "null" {
		*dst = ""
		return nil
	}
	return json.Unmarshal(v, dst)
}

// jsonStringMap decodes a JSON string holding a {"word": int} object.
func jsonStringMap(v json.RawMessage) (map[string]int, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	keys, vals, err := orderedObject([]byte(s))
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		n, err := jsonInt(vals[i])
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", k, err)
		}
		m[k] = n
	}
	return m, nil
}

// jsonIntMap decodes a JSON string holding an {"id": int} object.
func jsonIntMap(v json.RawMessage, key func(string) (int, error)) (map[int]int, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	keys, vals, err := orderedObject([]byte(s))
	if err != nil {
		return nil, err
	}
	m := make(map[int]int, len(keys))
	for i, k := range keys {
		id, err := key(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %v", k, err)
		}
		n, err := jsonInt(vals[i])
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", k, err)
		}
		m[id] = n
	}
	return m, nil
}

// jsonIndexWord decodes a JSON string holding an {"id": "word"} object.
func jsonIndexWord(v json.RawMessage) (map[int]string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	keys, vals, err := orderedObject([]byte(s))
	if err != nil {
		return nil, err
	}
	m := make(map[int]string, len(keys))
	for i, k := range keys {
		id, err := pyIntString(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %v", k, err)
		}
		var w string
		if err := json.Unmarshal(vals[i], &w); err != nil {
			return nil, fmt.Errorf("entry %q: want a string", k)
		}
		m[id] = w
	}
	return m, nil
}

// pyIntString is Python's int(s) on a dict key.
func pyIntString(s string) (int, error) {
	i, err := strconv.ParseInt(strings.TrimSpace(strings.ReplaceAll(s, "_", "")), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	return int(i), nil
}

// tokenizerFromPy turns an unpickled value into a Tokenizer: a Tokenizer
// object, or a word-index dict.
func tokenizerFromPy(v any) (*Tokenizer, error) {
	switch x := v.(type) {
	case *pyDict:
		wi := make(map[string]int, len(x.keys))
		order := make([]string, 0, len(x.keys))
		for i, k := range x.keys {
			w, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%w: pickled word index key %v (%T), want str", ErrFormat, k, k)
			}
			id, err := pyInt(x.values[i])
			if err != nil {
				return nil, fmt.Errorf("%w: pickled word index entry %q: %v", ErrFormat, w, err)
			}
			if _, dup := wi[w]; !dup {
				order = append(order, w)
			}
			wi[w] = id
		}
		return fromWordIndex(wi, order)
	case *pyObject:
		return tokenizerFromObject(x)
	}
	return nil, fmt.Errorf("%w: the pickle holds a %s, want a Keras Tokenizer or a word-index dict", ErrUnexpectedClass, pyTypeName(v))
}

func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case *pyDict:
		return "dict"
	case *pyObject:
		return x.module + "." + x.name
	}
	return fmt.Sprintf("%T", v)
}

func pyInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return 0, fmt.Errorf("integer %d out of range", x)
		}
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("want an int, got %s", pyTypeName(v))
}

func pyStringOrNone(v any) (*string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return &x, nil
	}
	return nil, fmt.Errorf("want str or None, got %s", pyTypeName(v))
}

func tokenizerFromObject(o *pyObject) (*Tokenizer, error) {
	cfg := DefaultConfig()
	t := &Tokenizer{}
	for k, v := range o.attrs {
		var err error
		switch k {
		case "num_words":
			if v != nil {
				cfg.NumWords, err = pyInt(v)
			}
		case "filters":
			var s *string
			if s, err = pyStringOrNone(v); err == nil {
				cfg.Filters = ""
				if s != nil {
					cfg.Filters = *s
				}
			}
		case "split":
			var s *string
			if s, err = pyStringOrNone(v); err == nil && s != nil {
				cfg.Split = *s
			} else if err == nil {
				err = fmt.Errorf("split is None")
			}
		case "lower", "char_level":
			b, ok := v.(bool)
			if !ok {
				if n, isInt := v.(int); isInt {
					b, ok = n != 0, true
				}
			}
			if !ok {
				err = fmt.Errorf("want bool, got %s", pyTypeName(v))
			} else if k == "lower" {
				cfg.Lower = b
			} else {
				cfg.CharLevel = b
			}
		case "oov_token":
			cfg.OOVToken, err = pyStringOrNone(v)
		case "document_count":
			t.documentCount, err = pyInt(v)
		case "word_counts":
			var d *pyDict
			if d, err = pyDictOf(v); err == nil {
				t.wordCounts = make([]WordCount, len(d.keys))
				for i, key := range d.keys {
					w, ok := key.(string)
					if !ok {
						err = fmt.Errorf("key %s, want str", pyTypeName(key))
						break
					}
					c, e := pyInt(d.values[i])
					if e != nil {
						err = e
						break
					}
					t.wordCounts[i] = WordCount{w, c}
				}
			}
		case "word_docs", "word_index":
			var m map[string]int
			if m, err = pyStrIntMap(v); err == nil {
				if k == "word_docs" {
					t.wordDocs = m
				} else {
					t.wordIndex = m
				}
			}
		case "index_docs":
			var d *pyDict
			if d, err = pyDictOf(v); err == nil {
				t.indexDocs = make(map[int]int, len(d.keys))
				for i, key := range d.keys {
					id, e1 := pyInt(key)
					c, e2 := pyInt(d.values[i])
					if e1 != nil || e2 != nil {
						err = fmt.Errorf("entry %v: want int: int", key)
						break
					}
					t.indexDocs[id] = c
				}
			}
		case "index_word":
			var d *pyDict
			if d, err = pyDictOf(v); err == nil {
				t.indexWord = make(map[int]string, len(d.keys))
				for i, key := range d.keys {
					id, e1 := pyInt(key)
					w, ok := d.values[i].(string)
					if e1 != nil || !ok {
						err = fmt.Errorf("entry %v: want int: str", key)
						break
					}
					t.indexWord[id] = w
				}
			}
		case "analyzer":
			if v != nil {
				err = fmt.Errorf("%w: a custom analyzer", ErrUnsupported)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: pickled %s.%s attribute %s: %w", ErrFormat, o.module, o.name, k, err)
		}
	}
	if t.wordIndex == nil {
		return nil, fmt.Errorf("%w: pickled %s.%s has no word_index", ErrFormat, o.module, o.name)
	}
	if t.indexWord == nil {
		t.indexWord = make(map[int]string, len(t.wordIndex))
		for w, i := range t.wordIndex {
			t.indexWord[i] = w
		}
	}
	return finish(t, cfg)
}

func pyDictOf(v any) (*pyDict, error) {
	d, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("want a dict, got %s", pyTypeName(v))
	}
	return d, nil
}

func pyStrIntMap(v any) (map[string]int, error) {
	d, err := pyDictOf(v)
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, len(d.keys))
	for i, key := range d.keys {
		w, ok := key.(string)
		if !ok {
			return nil, fmt.Errorf("key %s, want str", pyTypeName(key))
		}
		n, err := pyInt(d.values[i])
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", w, err)
		}
		m[w] = n
	}
	return m, nil
}

// LoadVocabulary reads a vocabulary, one token per entry in id order: a
// text file with one token per line (split on "\n" only, as Keras' lookup
// layers read vocabulary files on Linux: a "\r" stays part of its token; a
// final newline ends the last token), a JSON list of strings, or a pickle
// (protocol 2 to 5) of a list, tuple or numpy array of str (numpy 1 and 2,
// also numpy str scalars and bytes elements, decoded as UTF-8).
func LoadVocabulary(path string) ([]string, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParseVocabulary(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ParseVocabulary is LoadVocabulary on a file's bytes. A vocabulary that
// lists a token twice is refused with a *DuplicateError (ErrDuplicate), as
// Keras' lookup layers refuse it.
func ParseVocabulary(data []byte) ([]string, error) {
	v, err := parseVocabulary(data)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]int, len(v))
	for i, tok := range v {
		if j, ok := seen[tok]; ok {
			return nil, &DuplicateError{Token: tok, First: j, Second: i}
		}
		seen[tok] = i
	}
	return v, nil
}

func parseVocabulary(data []byte) ([]string, error) {
	if isPickle(data) {
		v, err := loadPickle(data)
		if err != nil {
			return nil, err
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%w: the pickle holds a %s, want a list, tuple or numpy array of str", ErrUnexpectedClass, pyTypeName(v))
		}
		out := make([]string, len(items))
		for i, it := range items {
			switch s := it.(type) {
			case string:
				out[i] = s
			case []byte:
				out[i] = string(s)
			default:
				return nil, fmt.Errorf("%w: vocabulary entry %d is a %s, want str", ErrFormat, i, pyTypeName(it))
			}
		}
		return out, nil
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var out []string
		if err := json.Unmarshal(trimmed, &out); err == nil {
			return out, nil
		}
		// "[UNK]" as the first line of a text vocabulary also starts with '['.
		if !bytes.HasPrefix(trimmed, []byte("[UNK]")) && !bytes.HasPrefix(trimmed, []byte("[PAD]")) {
			var probe []any
			if json.Unmarshal(trimmed, &probe) == nil {
				return nil, fmt.Errorf("%w: JSON vocabulary must be a list of strings", ErrFormat)
			}
		}
	}
	s := string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if s == "" {
		return []string{}, nil
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n"), nil
}
