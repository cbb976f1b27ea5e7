package layers

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// BenchmarkTextVectorization vectorizes 10,000 review-length texts (about
// 230 words each, a 20,000-word vocabulary, output_sequence_length 250) in
// one batch, as a TextVectorization layer at the front of a sentiment
// model does.
func BenchmarkTextVectorization(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	words := make([]any, 20000)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	texts := make([]string, 10000)
	var sb strings.Builder
	for i := range texts {
		sb.Reset()
		for j := 0; j < 230; j++ {
			if j > 0 {
				sb.WriteByte(' ')
			}
			w := words[int(float64(len(words))*rng.Float64()*rng.Float64())].(string)
			if j%9 == 0 {
				w = strings.ToUpper(w) + ","
			}
			sb.WriteString(w)
		}
		texts[i] = sb.String()
	}
	reg := Standard()
	l, err := reg.Build(&convert.Layer{Name: "tv", ClassName: "TextVectorization",
		Config: convert.Config{"vocabulary": words, "output_sequence_length": 250.0}}, &Env{Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	x := &runtime.Tensor{Shape: []int{len(texts)}, Strings: texts}
	b.ResetTimer()
	for range b.N {
		if _, err := callLayer(b, l, x); err != nil {
			b.Fatal(err)
		}
	}
}
