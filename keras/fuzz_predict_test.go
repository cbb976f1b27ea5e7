package keras_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
)

// fuzzModels are the models FuzzPredict calls: token ids into an Embedding
// and BiLSTM, two inputs of which one is fixed, masked attention, a
// stateful model with a fixed batch, multi-head attention, a strided
// convolution and a shared LSTM.
var fuzzModels = []string{
	"sentiment_bilstm", "multi_input_multi_output", "attention_masked",
	"char_gru_generator_stateful", "mha_self", "conv1d_same_strides2", "shared_lstm_siamese",
}

var (
	fuzzOnce   sync.Once
	fuzzLoaded []*keras.Model
	fuzzErr    error
)

// fuzzBudget keeps each fuzzed call small, so that the fuzzer runs many:
// anything above it must be refused before it runs.
const fuzzBudget = 32 << 20

func loadFuzzModels() ([]*keras.Model, error) {
	fuzzOnce.Do(func() {
		for _, name := range fuzzModels {
			m, err := keras.Load("../testdata/goldens/"+name+"/model.keras", keras.WithMemoryBudget(fuzzBudget))
			if err != nil {
				fuzzErr = err
				return
			}
			fuzzLoaded = append(fuzzLoaded, m)
		}
	})
	return fuzzLoaded, fuzzErr
}

// fuzzDims are the sizes a fuzzed open dimension takes: ordinary ones,
// zero, and hostile ones (huge, overflowing when multiplied, negative).
var fuzzDims = []int{1, 2, 3, 7, 16, 0, 1 << 20, 1 << 32, 1 << 40, 1<<62 + 1, -1, math.MaxInt}

// FuzzPredict runs the whole predict path (input checks, the memory
// estimate, the graph) on inputs the fuzzer shapes and fills: shapes the
// model declares with open dimensions (and sometimes the rank, or a fixed
// dimension) chosen by the fuzzer, including hostile sizes, and values
// from its bytes (NaN, infinities, token ids out of range). A call must
// return outputs or an error, never panic, hang or allocate past the
// budget; a refused call must leave the model serving.
//
// Input layout: byte 0 picks the model; then per input, one byte per
// dimension (an index into fuzzDims when its high bit is set, else the
// size itself modulo 24), a byte of flags (bit 0: drop a dimension, bit
// 1: add one, bit 2: change a fixed dimension, bit 3: data one short,
// bit 4: raw floats for token ids); the rest fills the values: token ids
// one byte each modulo the vocabulary size + 1, floats 4 bytes each,
// cycling.
func FuzzPredict(f *testing.F) {
	f.Add([]byte{0, 2, 5, 0, 1, 0, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{0, 0x81, 0x88, 0})                // [2, 1<<40]: over the budget
	f.Add([]byte{0, 0x87, 0x87, 0})                // [1<<32, 1<<32]: overflows
	f.Add([]byte{1, 3, 4, 0, 3, 5, 0, 9, 9, 9, 9}) // two inputs
	f.Add([]byte{2, 2, 3, 0, 2, 4, 0, 0, 0, 0x80, 0x7f})
	f.Add([]byte{3, 1, 6, 0, 5, 0, 0, 0})
	f.Add([]byte{4, 2, 3, 5, 0, 0, 0, 0xc0, 0x7f})
	f.Add([]byte{5, 1, 9, 5, 4, 0, 0, 0, 1})
	f.Add([]byte{6, 2, 4, 5, 0, 2, 4, 5, 0})
	f.Add([]byte{0, 2, 5, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		models, err := loadFuzzModels()
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			return
		}
		m := models[int(data[0])%len(models)]
		data = data[1:]
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		specs := m.Inputs()
		shapes := make([][]int, len(specs))
		short := make([]bool, len(specs))
		raw := make([]bool, len(specs))
		for i, spec := range specs {
			shape := append([]int(nil), spec.Shape...)
			for j := range shape {
				if shape[j] >= 0 && j > 0 {
					continue
				}
				b := next()
				if b&0x80 != 0 {
					shape[j] = fuzzDims[int(b&0x7f)%len(fuzzDims)]
				} else {
					shape[j] = int(b) % 24
				}
			}
			flags := next()
			if flags&1 != 0 && len(shape) > 0 {
				shape = shape[:len(shape)-1]
			}
			if flags&2 != 0 {
				shape = append(shape, 2)
			}
			if flags&4 != 0 && len(shape) > 1 {
				shape[len(shape)-1]++
			}
			short[i] = flags&8 != 0
			raw[i] = flags&16 != 0 || !spec.TokenIDs
			shapes[i] = shape
		}
		inputs := make([]*keras.Tensor, len(specs))
		for i, shape := range shapes {
			n, err := runtime.ShapeSize(shape)
			if err != nil || n > 1<<16 {
				n = 0 // hostile: the shape says more than the data holds
			}
			if short[i] && n > 0 {
				n--
			}
			vals := make([]float32, n)
			vocab := specs[i].VocabularySize
			for k := range vals {
				if !raw[i] && len(data) > 0 {
					// Token ids, one in vocab+1 out of the vocabulary.
					vals[k] = float32(int(data[k%len(data)]) % (vocab + 1))
				} else if len(data) >= 4 {
					vals[k] = math.Float32frombits(binary.LittleEndian.Uint32(data[(4*k)%(len(data)-len(data)%4):]))
				} else if len(data) > 0 {
					vals[k] = float32(data[k%len(data)] % 8) // small token ids
				}
			}
			inputs[i] = &keras.Tensor{Shape: shape, Data: vals}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		outs, err := m.PredictContext(ctx, inputs...)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call on shapes %v did not finish in 20s", shapes)
		}
		if err != nil {
			if len(err.Error()) > 2000 {
				t.Errorf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		if len(outs) != len(m.Outputs()) {
			t.Fatalf("%d outputs, want %d", len(outs), len(m.Outputs()))
		}
		for _, o := range outs {
			if n, err := runtime.ShapeSize(o.Shape); err != nil || n != len(o.Data) {
				t.Fatalf("output shape %v holds %d values", o.Shape, len(o.Data))
			}
		}
	})
}
