package convert

import (
	"strings"
	"unicode/utf8"
)

// maxAssetBytes bounds the assets read from one archive.
const maxAssetBytes = 256 << 20

// readZipAssets reads the archive's assets/ members (Keras 3 saves a
// lookup layer's vocabulary there) and gives each layer of g the members
// under its object path, the path Keras 3 also names its weights group
// by (layers/<snake_case class>, uniquified per container).
func readZipAssets(zr *zipArchive, g *Graph, file string) error {
	assets := map[string][]byte{}
	var total uint64
	for _, f := range zr.members {
		name := f.name
		if !strings.HasPrefix(name, "assets/") || strings.HasSuffix(name, "/") {
			continue
		}
		b, err := zr.readAll(f, maxAssetBytes, " bytes (assets)")
		if err != nil {
			return err
		}
		if total += uint64(len(b)); total > maxAssetBytes {
			return &Error{File: file, Path: name, Kind: ErrFormat, Msg: "assets larger than 256 MiB in all"}
		}
		assets[strings.TrimPrefix(name, "assets/")] = b
	}
	if len(assets) > 0 {
		attachAssets(g, "", assets, 0)
	}
	return nil
}

// attachAssets walks g as Keras 3's saving_lib does (the layers of a
// Sequential model exclude its InputLayer; operation nodes are not
// saveable) and sets each layer's Assets and, for lookup layers, its
// Vocabulary.
func attachAssets(g *Graph, prefix string, assets map[string][]byte, depth int) {
	if depth > 16 {
		return
	}
	used := map[string]int{}
	for _, l := range g.Layers {
		if isOpLayer(l) || (g.ClassName == "Sequential" && l.ClassName == "InputLayer") {
			continue
		}
		name := snakeCase(l.OriginalClassName())
		if l.Inner != nil {
			name = snakeCase(l.Inner.ClassName)
		}
		path := prefix + "layers/" + uniqueName(used, name)
		if l.Inner != nil {
			attachAssets(l.Inner, path+"/", assets, depth+1)
			continue
		}
		for k, b := range assets {
			if rest, ok := strings.CutPrefix(k, path+"/"); ok {
				if l.Assets == nil {
					l.Assets = map[string][]byte{}
				}
				l.Assets[rest] = b
			}
		}
		if b, ok := l.Assets["vocabulary.txt"]; ok && IsLookupClass(l.ClassName) {
			size, _ := l.Config["vocabulary_size"].(float64)
			l.Vocabulary = AssetVocabulary(b, int(size))
		}
	}
}

// IsLookupClass reports the Keras classes that hold a vocabulary:
// TextVectorization, StringLookup and IntegerLookup.
func IsLookupClass(class string) bool {
	switch class {
	case "TextVectorization", "StringLookup", "IntegerLookup":
		return true
	}
	return false
}

// AssetVocabulary splits a vocabulary.txt asset as Keras 3's
// IndexLookup.load_assets reads it: the file opened in text mode
// (universal newlines: "\r\n" and "\r" end lines too), split with Python's
// str.splitlines (which also breaks at \v, \f, \x1c-\x1e, U+0085, U+2028
// and U+2029), and trailing empty lines dropped. The special tokens the
// file starts with ("" and "[UNK]") are kept: the layer recognizes them.
//
// Keras writes the file as "\n".join(vocabulary), so a character-level
// vocabulary holding the tokens "\n", "\r", "\v" or "\f" does not
// survive that reading (Keras itself then refuses the file: the broken
// lines look like misplaced mask tokens). When size (the config's
// vocabulary_size, 0 if unknown) disagrees with that reading, the file is
// split on "\n" alone, with each pair of empty lines after the first
// line read as the token "\n", and that reading is used if it has size
// entries: the vocabulary the layer had when it was saved.
func AssetVocabulary(b []byte, size int) []string {
	v := kerasSplitLines(b)
	if size <= 0 || len(v) == size {
		return v
	}
	parts := strings.Split(string(b), "\n")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	var alt []string
	for i := 0; i < len(parts); i++ {
		if i > 0 && parts[i] == "" && i+1 < len(parts) && parts[i+1] == "" {
			alt = append(alt, "\n")
			i++
			continue
		}
		alt = append(alt, parts[i])
	}
	if len(alt) == size {
		return alt
	}
	return v
}

// kerasSplitLines is Python's open(path).read().splitlines() with
// trailing empty lines dropped.
func kerasSplitLines(b []byte) []string {
	s := string(b)
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\r':
			lines = append(lines, s[start:i])
			if i+1 < len(s) && s[i+1] == '\n' {
				n = 2
			}
			start = i + n
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', 0x85, 0x2028, 0x2029:
			lines = append(lines, s[start:i])
			start = i + n
		}
		i += n
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if lines == nil {
		lines = []string{}
	}
	return lines
}
