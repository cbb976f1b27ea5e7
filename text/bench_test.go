package text

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The benchmark corpus: bench/corpus.py builds the same 10,000 review-like
// texts in Python (a splitmix64 stream); bench/bench_tokenizer.py times
// Keras' legacy Tokenizer on them. TestReviewCorpusChecksum pins that the
// two corpora are the same.
//
//	go test ./text -run XXX -bench Tokenize -benchtime 10x
//	. ../shared/oracle/env.sh && /usr/bin/python3 text/bench/bench_tokenizer.py

const reviewCorpusSHA256 = "d348d865f5b377a39405eb952cce5ba395599b06e96c506ea9b61d2bf67c68ea"

var benchWords = strings.Fields(`the a an and but or of to in on at for with this that it is was were be been
movie film story plot acting actor actress director scene scenes ending music
character characters script dialogue camera effects cast performance time life
good great bad awful boring brilliant funny sad long short slow beautiful terrible
excellent amazing horrible predictable original wonderful stupid perfect worst best
i we you they he she me my our their his her really very too so just quite pretty
never always again ever not no yes don't it's isn't can't didn't wasn't i'm you're
love loved hate hated like liked watch watched see saw think thought feel felt
recommend recommended enjoy enjoyed waste wasted make made give gave
one two three first second last minutes hour hours year years people fans kids`)

var benchPunct = []string{".", ",", "!", "?", ";", ":", "...", ")"}

type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func benchReview(r *splitMix64) string {
	n := 60 + r.next()%340
	out := make([]string, 0, n)
	capNext := true
	nw := uint64(len(benchWords))
	for i := uint64(0); i < n; i++ {
		x := r.next()
		w := benchWords[min(x%nw, (x>>20)%nw)]
		if capNext || (x>>40)%23 == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		if (x>>46)%97 == 0 {
			w = strings.ToUpper(w)
		}
		capNext = false
		if (x>>52)%9 == 0 {
			p := benchPunct[(x>>58)%uint64(len(benchPunct))]
			w += p
			capNext = p == "." || p == "!" || p == "?" || p == "..."
		}
		if (x>>35)%211 == 0 {
			w += " <br /><br />"
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

var reviewCorpus = sync.OnceValue(func() []string {
	r := splitMix64(20261204)
	texts := make([]string, 10000)
	for i := range texts {
		texts[i] = benchReview(&r)
	}
	return texts
})

func TestReviewCorpusChecksum(t *testing.T) {
	sum := sha256.Sum256([]byte(strings.Join(reviewCorpus(), "\n")))
	if got := hex.EncodeToString(sum[:]); got != reviewCorpusSHA256 {
		t.Fatalf("corpus SHA-256 %s, bench/corpus.py gives %s", got, reviewCorpusSHA256)
	}
}

func benchTokenizer(b *testing.B) *Tokenizer {
	oov := "<OOV>"
	cfg := DefaultConfig()
	cfg.NumWords, cfg.OOVToken = 20000, &oov
	tok, err := NewTokenizer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := tok.FitOnTexts(reviewCorpus()); err != nil {
		b.Fatal(err)
	}
	return tok
}

// cpuNanos is the process's user+system CPU time: under a loaded machine
// it moves less than the wall clock (b.Elapsed) does.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkTokenize: one op is all 10,000 texts. cpu-ns/op is the CPU
// time per op (GC included), for comparison with bench_tokenizer.py's
// process_time figures on a busy machine.
func BenchmarkTokenize(b *testing.B) {
	texts := reviewCorpus()
	words := 0
	for _, s := range texts {
		words += len(strings.Fields(s))
	}
	b.Run("fit_on_texts", func(b *testing.B) {
		c0 := cpuNanos()
		for i := 0; i < b.N; i++ {
			benchTokenizer(b)
		}
		b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
	})
	tok := benchTokenizer(b)
	b.Run("texts_to_sequences", func(b *testing.B) {
		b.ReportAllocs()
		c0 := cpuNanos()
		for i := 0; i < b.N; i++ {
			if _, err := tok.TextsToSequences(texts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
	})
	b.Run("append_sequence_reused", func(b *testing.B) {
		b.ReportAllocs()
		c0 := cpuNanos()
		var dst []int
		var buf []byte
		for i := 0; i < b.N; i++ {
			for _, s := range texts {
				var err error
				if dst, err = tok.AppendSequence(dst[:0], s, &buf); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
	})
	seqs, _ := tok.TextsToSequences(texts)
	b.Run("sequences_to_texts", func(b *testing.B) {
		c0 := cpuNanos()
		for i := 0; i < b.N; i++ {
			if _, err := tok.SequencesToTexts(seqs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
	})
}
