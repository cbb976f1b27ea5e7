package text

import (
	"reflect"
	"testing"
)

func TestTFLowerASCIIOnly(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"The MOVIE", "the movie"},
		{"ÉCOLE École", "École École"},
		{"İstanbul ISTANBUL", "İstanbul istanbul"},
		{"Straße STRASSE", "straße strasse"},
		{"ΣΊΣΥΦΟΣ", "ΣΊΣΥΦΟΣ"},         // no final-sigma rule: Greek is not ASCII
		{"E\u0301COLE", "e\u0301cole"}, // combining mark kept as it is
		{"NON\u00a0BREAKING", "non\u00a0breaking"},
		{"😀 PARTY", "😀 party"},
		{"이 영화", "이 영화"},
		{"", ""},
	} {
		if got := TFLower(c.in); got != c.want {
			t.Errorf("TFLower(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTFStripPunctuation(t *testing.T) {
	all := "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
	if got := TFStripPunctuation("a" + all + "b"); got != "ab" {
		t.Errorf("strip all punctuation: %q", got)
	}
	for _, c := range []struct{ in, want string }{
		{"Don't waste (or money)", "Dont waste or money"},
		{"E-mail: someone@example.com #spoilers", "Email someoneexamplecom spoilers"},
		{"«quoted» — dash…", "«quoted» — dash…"},
		{"emoji 😀!", "emoji 😀"},
	} {
		if got := TFStripPunctuation(c.in); got != c.want {
			t.Errorf("TFStripPunctuation(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTFSplit(t *testing.T) {
	ws := []struct {
		in   string
		want []string
	}{
		{"tabs\tand\nnewlines\rand\vvertical\ffeeds", []string{"tabs", "and", "newlines", "and", "vertical", "feeds"}},
		{"  a  b ", []string{"a", "b"}},
		{"non\u00a0breaking space", []string{"non\u00a0breaking", "space"}},
		{"", nil},
		{"   ", nil},
	}
	for _, c := range ws {
		if got := TFSplitWhitespace(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("TFSplitWhitespace(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := TFSplitCharacters("é😀a\xffb"), []string{"é", "😀", "a", "\uFFFD", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TFSplitCharacters = %q, want %q", got, want)
	}
	// e + combining acute: two code points.
	if got := TFSplitCharacters("e\u0301"); len(got) != 2 {
		t.Errorf("combining mark: %q", got)
	}
}

func TestTFNgrams(t *testing.T) {
	got := TFNgrams([]string{"a", "b", "c"}, []int{1, 2, 3, 4})
	want := []string{"a", "b", "c", "a b", "b c", "a b c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := TFNgrams([]string{"a", "b"}, []int{2}); !reflect.DeepEqual(got, []string{"a b"}) {
		t.Errorf("bigrams only: %q", got)
	}
}

// TestTFHashBuckets checks the hashes against the examples of
// TensorFlow's and Keras' documentation (computed by TensorFlow): the
// tf.strings.to_hash_bucket_fast and _strong docstrings and the four
// examples of Keras 3's Hashing docstring, and SipHash-2-4 against its
// reference vectors.
func TestTFHashBuckets(t *testing.T) {
	fast := func(xs []string, n int) []int {
		var out []int
		for _, x := range xs {
			out = append(out, TFHashBucketFast(x, n))
		}
		return out
	}
	strong := func(xs []string, n int, k [2]uint64) []int {
		var out []int
		for _, x := range xs {
			out = append(out, TFHashBucketStrong(x, n, k))
		}
		return out
	}
	abcde := []string{"A", "B", "C", "D", "E"}
	for _, c := range []struct {
		name      string
		got, want []int
	}{
		{"to_hash_bucket_fast doc", fast([]string{"Hello", "TensorFlow", "2.x"}, 3), []int{0, 2, 2}},
		{"to_hash_bucket_strong doc", strong([]string{"Hello", "TF"}, 3, [2]uint64{1, 2}), []int{2, 0}},
		{"Hashing(num_bins=3)", fast(abcde, 3), []int{1, 0, 1, 1, 2}},
		// mask_value='': 2 bins for non-mask values, then +1.
		{"Hashing(num_bins=3, mask_value='')", fast([]string{"A", "B", "C", "D"}, 2), []int{0, 0, 1, 1}},
		{"Hashing(salt=[133, 137])", strong(abcde, 3, [2]uint64{133, 137}), []int{1, 2, 1, 0, 2}},
		{"Hashing(salt=133)", strong(abcde, 3, [2]uint64{133, 133}), []int{0, 0, 2, 1, 0}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	k0, k1 := uint64(0x0706050403020100), uint64(0x0f0e0d0c0b0a0908)
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	if got := sipHash24(k0, k1, nil); got != 0x726fdb47dd0e0e31 {
		t.Errorf("SipHash-2-4 of the empty message: %#x", got)
	}
	if got := sipHash24(k0, k1, msg); got != 0xa129ca6149be45e5 {
		t.Errorf("SipHash-2-4 of 00..0e: %#x", got)
	}
}
