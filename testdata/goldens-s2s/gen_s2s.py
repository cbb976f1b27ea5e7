"""Goldens for package seq2seq, computed by real Keras 3 (numpy backend).

Run from the repository root with the oracle environment
(../shared/oracle/README.md):

    . ../shared/oracle/env.sh
    /usr/bin/python3 testdata/goldens-s2s/gen_s2s.py

Cases (each a folder here):
  s2s_char_gru      character seq2seq as the Keras lstm_seq2seq example, with
                    GRU layers (one state h); vocab.json, decoded.json, beam.json
  s2s_token_lstm    token-level seq2seq: Embedding(mask_zero) + LSTM encoder,
                    Embedding + LSTM decoder with initial_state, Dense softmax;
                    Keras Tokenizer.to_json() for source and target
  s2s_two_decoders  one encoder whose LSTM states initialize two decoders
                    (inputs dec_a and dec_b, outputs out_a and out_b): the pattern
                    is ambiguous until the decoder input is named; decoded.json
                    is greedy decoding through dec_a
  s2s_stacked_bilstm  a Bidirectional LSTM encoder whose concatenated
                    forward/backward states initialize the first of two stacked
                    decoder LSTMs, and a second encoder LSTM (on the encoder's
                    sequence output) initializing the second decoder LSTM: four
                    carried states; greedy and beam
  s2s_simplernn_td  SimpleRNN encoder and decoder (one state), the decoder's
                    Dense wrapped in TimeDistributed after a Dropout; greedy only
  s2s_attention     an LSTM seq2seq whose decoder attends to the encoder's
                    sequence output (Attention + Concatenate): not decodable from
                    the previous token and the states alone, which rnnkit must
                    say (model.keras only, no decodings)
  s2s_logits_gru    a GRU char seq2seq whose Dense has no activation (logits, as
                    models trained with from_logits=True end); the reference
                    decoder model adds Keras' Softmax layer; greedy and beam
  s2s_char_lstm_pad the shared case's model translating sources padded to 16
                    rows with the space character, as the current Keras example
                    builds encoder_input_data (vocab.json adds max_encoder_len and
                    source_pad); greedy
  s2s_char_lstm_beam  beam search over the shared case
                    goldens-text/s2s_char_lstm_translate (its model is copied in
                    testdata/goldens-text by the Go tests' setup)

Greedy: the encoder model (encoder input -> the decoder RNN's initial states)
and the decoder-step model (decoder input + state inputs -> Dense output and the
new states) are built from the trained layers as in the Keras example; each
step feeds the argmax (numpy's, first on ties); decoding ends at the stop token
(not part of the result) or after max_decoder_len tokens.

Beam search is not a Keras function; this is the reference rnnkit implements
(seq2seq.Model.BeamSearch), run on Keras' own predict of the same two models:
  live = [([], 0.0, encoder states)], finished = []
  while live:
      if finished and max(finished scores) >= live[0].score: break
      predict the decoder step on all live hypotheses as one batch
      candidates = (score + log(p[k]), beam rank, k) for every live beam, token
      sort by score descending, then beam rank, then token id; keep `width`
      a kept candidate whose token is stop is finished (stop not in its ids);
      one reaching max_decoder_len tokens is finished; the rest live, in order
  result: the finished hypothesis with the highest score, the first on ties.
Logs are float64 natural logs of the float32 probabilities. `min_gap` records
the smallest score gap at a selection boundary (the width-th vs the next
candidate) and between the best and the second-best finished hypothesis.
"""
import json, math, os, shutil
import numpy as np
import keras
from keras import layers
from keras.src.legacy.preprocessing.text import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def set_weights(model, seed, scale):
    rng = np.random.default_rng(seed)
    for l in model.layers:
        ws = l.get_weights()
        if not ws:
            continue
        l.set_weights([(rng.standard_normal(w.shape) * scale).astype("float32") for w in ws])


def step_models(model, enc_in, dec_in, enc_rnn, dec_rnn, dense, nstates, dec_shape, units):
    m = model
    enc_states = m.get_layer(enc_rnn).output[1:]
    encoder = keras.Model(m.get_layer(enc_in).output, enc_states)
    di = keras.Input(dec_shape)
    sins = [keras.Input((units,)) for _ in range(nstates)]
    x = di
    for l in dense[0]:  # layers before the decoder RNN (Embedding)
        x = m.get_layer(l)(x)
    outs = m.get_layer(dec_rnn)(x, initial_state=sins if nstates > 1 else sins[0])
    y = outs[0]
    for l in dense[1]:
        y = m.get_layer(l)(y)
    decoder = keras.Model([di] + sins, [y] + list(outs[1:]))
    return encoder, decoder


def onehot_step(tokens, dim):
    x = np.zeros((len(tokens), 1, dim), "float32")
    for b, t in enumerate(tokens):
        x[b, 0, t] = 1
    return x


def id_step(tokens):
    return np.array(tokens, "float32").reshape(len(tokens), 1)


def greedy(encoder, decoder, x, start, stop, max_len, step_input):
    states = encoder.predict(x, verbose=0)
    if not isinstance(states, list):
        states = [states]
    tok, ids, margin, score = start, [], math.inf, 0.0
    while True:
        outs = decoder.predict([step_input([tok])] + states, verbose=0)
        p = outs[0].reshape(1, -1)[0, -outs[0].shape[-1]:]
        k = int(np.argmax(p))
        s = np.sort(p)
        margin = min(margin, float(s[-1]) - float(s[-2]))
        score += math.log(float(p[k]))
        if k == stop:
            break
        ids.append(k)
        if len(ids) >= max_len:
            break
        tok, states = k, list(outs[1:])
    return ids, margin, score


def beam(encoder, decoder, x, start, stop, max_len, width, step_input):
    states = encoder.predict(x, verbose=0)
    if not isinstance(states, list):
        states = [states]
    live = [([], 0.0, states)]
    finished = []
    min_gap = math.inf
    while live:
        if finished and max(f[1] for f in finished) >= live[0][1]:
            break
        tokens = [h[0][-1] if h[0] else start for h in live]
        batch = [np.concatenate([h[2][i] for h in live], axis=0) for i in range(len(states))]
        outs = decoder.predict([step_input(tokens)] + batch, verbose=0)
        V = outs[0].shape[-1]
        probs = outs[0].reshape(len(live), -1)[:, -V:]
        cands = []
        for b, h in enumerate(live):
            for k in range(V):
                cands.append((h[1] + math.log(float(probs[b, k])) if probs[b, k] > 0 else -math.inf, b, k))
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        if len(cands) > width:
            min_gap = min(min_gap, cands[width - 1][0] - cands[width][0])
        nxt = []
        for sc, b, k in cands[:width]:
            ids = live[b][0]
            if k == stop:
                finished.append((ids, sc))
                continue
            ids = ids + [k]
            if len(ids) >= max_len:
                finished.append((ids, sc))
                continue
            nxt.append((ids, sc, [o[b:b + 1] for o in outs[1:]]))
        live = nxt
    best = 0
    for i, f in enumerate(finished):
        if f[1] > finished[best][1]:
            best = i
    scores = sorted((f[1] for f in finished), reverse=True)
    if len(scores) > 1:
        min_gap = min(min_gap, scores[0] - scores[1])
    return finished[best][0], finished[best][1], min_gap


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def char_onehot(text, chars):
    idx = {c: i for i, c in enumerate(chars)}
    x = np.zeros((1, len(text), len(chars)), "float32")
    for t, ch in enumerate(text):
        if ch in idx:
            x[0, t, idx[ch]] = 1
    return x


def char_case(name, model, vocab, texts, enc_in, dec_in, enc_rnn, dec_rnn, dense, nstates, units, widths, save=True):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    if save:
        model.save(os.path.join(d, "model.keras"))
        if name != "s2s_two_decoders":
            model.save(os.path.join(d, "model.h5"))
        write(os.path.join(d, "vocab.json"), vocab)
        write(os.path.join(d, "texts.json"), texts)
    tgt = vocab["target_chars"]
    nt = len(tgt)
    start, stop = tgt.index(vocab["start"]), tgt.index(vocab["stop"])
    enc, dec = step_models(model, enc_in, dec_in, enc_rnn, dec_rnn, dense, nstates, (None, nt), units)
    step = lambda toks: onehot_step(toks, nt)
    greedy_out, beam_out = [], []
    for s in texts:
        x = char_onehot(s, vocab["source_chars"])
        ids, margin, score = greedy(enc, dec, x, start, stop, vocab["max_decoder_len"], step)
        if save:
            greedy_out.append({"input": s, "decoded": "".join(tgt[i] for i in ids), "score": score, "min_margin": margin})
        for w in widths:
            ids, sc, gap = beam(enc, dec, x, start, stop, vocab["max_decoder_len"], w, step)
            beam_out.append({"input": s, "beam": w, "decoded": "".join(tgt[i] for i in ids), "score": sc, "min_gap": gap})
    if save:
        write(os.path.join(d, "decoded.json"), greedy_out)
    if widths:
        write(os.path.join(d, "beam.json"), beam_out)
    return greedy_out, beam_out


def gru_char():
    src = sorted(set(" .!?abcdefghilmnorstuwy"))
    tgt = sorted(set("\t\n .!?'abcdeilmnopqrstuvàéê"))
    units = 10
    ei = keras.Input((None, len(src)), name="encoder_inputs")
    _, h = layers.GRU(units, return_state=True, name="encoder_gru")(ei)
    di = keras.Input((None, len(tgt)), name="decoder_inputs")
    seq, _ = layers.GRU(units, return_sequences=True, return_state=True, name="decoder_gru")(di, initial_state=h)
    out = layers.Dense(len(tgt), activation="softmax", name="decoder_dense")(seq)
    model = keras.Model([ei, di], out)
    set_weights(model, 11, 0.6)
    # A higher bias on the stop character, so that some translations end
    # before max_decoder_len.
    w, b = model.get_layer("decoder_dense").get_weights()
    b[tgt.index("\n")] += 1.8
    model.get_layer("decoder_dense").set_weights([w, b])
    vocab = {"source_chars": src, "target_chars": tgt, "start": "\t", "stop": "\n", "max_decoder_len": 16}
    texts = ["go.", "run!", "who?", "hello.", "i see.", "thank you.", "stay calm!", "xyz?", "a"]
    return char_case("s2s_char_gru", model, vocab, texts, "encoder_inputs", "decoder_inputs",
                     "encoder_gru", "decoder_gru", ([], ["decoder_dense"]), 1, units, [2, 3])


def token_lstm():
    src_texts = ["i am cold", "she is happy", "we are here", "they run fast", "he is cold", "you are happy", "i run"]
    tgt_texts = ["sos j'ai froid eos", "sos elle est heureuse eos", "sos nous sommes ici eos",
                 "sos ils courent vite eos", "sos il a froid eos", "sos tu es heureux eos", "sos je cours eos"]
    st = Tokenizer(oov_token="<unk>")
    st.fit_on_texts(src_texts)
    tt = Tokenizer(filters='!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n')
    tt.fit_on_texts(tgt_texts)
    sv = len(st.word_index) + 1
    tv = len(tt.word_index) + 1
    units = 9
    ei = keras.Input((None,), name="enc_tokens")
    e = layers.Embedding(sv, 6, mask_zero=True, name="enc_embedding")(ei)
    _, h, c = layers.LSTM(units, return_state=True, name="enc_lstm")(e)
    di = keras.Input((None,), name="dec_tokens")
    de = layers.Embedding(tv, 6, mask_zero=True, name="dec_embedding")(di)
    seq, _, _ = layers.LSTM(units, return_sequences=True, return_state=True, name="dec_lstm")(de, initial_state=[h, c])
    out = layers.Dense(tv, activation="softmax", name="dec_dense")(seq)
    model = keras.Model([ei, di], out)
    set_weights(model, 23, 0.7)
    w, b = model.get_layer("dec_dense").get_weights()
    b[tt.word_index["eos"]] += 1.2
    model.get_layer("dec_dense").set_weights([w, b])
    d = os.path.join(HERE, "s2s_token_lstm")
    os.makedirs(d, exist_ok=True)
    # Only .keras: Keras 3's legacy .h5 writer records the mask_zero
    # Embedding's NotEqual op without its module, and Keras 3 itself cannot
    # load that file back ("Unknown layer: 'NotEqual'").
    model.save(os.path.join(d, "model.keras"))
    with open(os.path.join(d, "source_tokenizer.json"), "w") as f:
        f.write(st.to_json())
    with open(os.path.join(d, "target_tokenizer.json"), "w") as f:
        f.write(tt.to_json())
    max_len = 8
    texts = ["i am cold", "she is here", "they are happy", "we run", "you are very cold", "he is"]
    write(os.path.join(d, "texts.json"), texts)
    write(os.path.join(d, "decoding.json"), {"start": "sos", "stop": "eos", "max_decoder_len": max_len})
    start, stop = tt.word_index["sos"], tt.word_index["eos"]
    enc, dec = step_models(model, "enc_tokens", "dec_tokens", "enc_lstm", "dec_lstm",
                           (["dec_embedding"], ["dec_dense"]), 2, (None,), units)
    greedy_out, beam_out = [], []
    for s in texts:
        seq_ids = st.texts_to_sequences([s])[0]
        x = np.array([seq_ids], "float32")
        ids, margin, score = greedy(enc, dec, x, start, stop, max_len, id_step)
        greedy_out.append({"input": s, "source_ids": seq_ids, "ids": ids, "decoded": tt.sequences_to_texts([ids])[0],
                           "score": score, "min_margin": margin})
        for wd in [2, 4]:
            ids, sc, gap = beam(enc, dec, x, start, stop, max_len, wd, id_step)
            beam_out.append({"input": s, "beam": wd, "ids": ids, "decoded": tt.sequences_to_texts([ids])[0],
                             "score": sc, "min_gap": gap})
    write(os.path.join(d, "decoded.json"), greedy_out)
    write(os.path.join(d, "beam.json"), beam_out)
    return greedy_out, beam_out


def two_decoders():
    src = sorted(set(" .!?abcdefghilmnorstuwy"))
    tgt = sorted(set("\t\n .!?'abcdeilmnopqrstuvàéê"))
    units = 7
    ei = keras.Input((None, len(src)), name="enc_in")
    _, h, c = layers.LSTM(units, return_state=True, name="enc_lstm")(ei)
    outs, ins = [], []
    for k in "ab":
        di = keras.Input((None, len(tgt)), name="dec_" + k)
        seq, _, _ = layers.LSTM(units, return_sequences=True, return_state=True, name="dec_lstm_" + k)(di, initial_state=[h, c])
        outs.append(layers.Dense(len(tgt), activation="softmax", name="out_" + k)(seq))
        ins.append(di)
    model = keras.Model([ei] + ins, outs)
    set_weights(model, 5, 0.8)
    w, b = model.get_layer("out_a").get_weights()
    b[tgt.index("\n")] -= 1.0
    model.get_layer("out_a").set_weights([w, b])
    vocab = {"source_chars": src, "target_chars": tgt, "start": "\t", "stop": "\n", "max_decoder_len": 12}
    texts = ["go.", "hello world!", "who is it?"]
    return char_case("s2s_two_decoders", model, vocab, texts, "enc_in", "dec_a",
                     "enc_lstm", "dec_lstm_a", ([], ["out_a"]), 2, units, [])


def stacked_bilstm():
    src = sorted(set(" .!?abcdefghilmnorstuwy"))
    tgt = sorted(set("\t\n .!?'abcdeilmnopqrstuvàéê"))
    u = 5
    ei = keras.Input((None, len(src)), name="source")
    seq, fh, fc, bh, bc = layers.Bidirectional(layers.LSTM(u, return_sequences=True, return_state=True), name="enc_bi")(ei)
    h1 = layers.Concatenate(name="enc_h")([fh, bh])
    c1 = layers.Concatenate(name="enc_c")([fc, bc])
    _, h2, c2 = layers.LSTM(2 * u, return_state=True, name="enc_top")(seq)
    di = keras.Input((None, len(tgt)), name="target")
    d1, _, _ = layers.LSTM(2 * u, return_sequences=True, return_state=True, name="dec_1")(di, initial_state=[h1, c1])
    d2, _, _ = layers.LSTM(2 * u, return_sequences=True, return_state=True, name="dec_2")(d1, initial_state=[h2, c2])
    out = layers.Dense(len(tgt), activation="softmax", name="probs")(d2)
    model = keras.Model([ei, di], out)
    set_weights(model, 31, 0.7)
    w, b = model.get_layer("probs").get_weights()
    b[tgt.index("\n")] += 0.8
    model.get_layer("probs").set_weights([w, b])
    vocab = {"source_chars": src, "target_chars": tgt, "start": "\t", "stop": "\n", "max_decoder_len": 15}
    texts = ["go.", "run!", "hello world!", "who is it?", "stay."]
    d = os.path.join(HERE, "s2s_stacked_bilstm")
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "model.h5"))
    write(os.path.join(d, "vocab.json"), vocab)
    write(os.path.join(d, "texts.json"), texts)
    encoder = keras.Model(ei, [h1, c1, h2, c2])
    nt = len(tgt)
    tin = keras.Input((None, nt))
    sins = [keras.Input((2 * u,)) for _ in range(4)]
    o1, s1h, s1c = model.get_layer("dec_1")(tin, initial_state=sins[:2])
    o2, s2h, s2c = model.get_layer("dec_2")(o1, initial_state=sins[2:])
    decoder = keras.Model([tin] + sins, [model.get_layer("probs")(o2), s1h, s1c, s2h, s2c])
    step = lambda toks: onehot_step(toks, nt)
    start, stop = tgt.index("\t"), tgt.index("\n")
    greedy_out, beam_out = [], []
    for t in texts:
        x = char_onehot(t, src)
        ids, margin, score = greedy(encoder, decoder, x, start, stop, 15, step)
        greedy_out.append({"input": t, "decoded": "".join(tgt[i] for i in ids), "score": score, "min_margin": margin})
        for wd in [2, 4]:
            ids, sc, gap = beam(encoder, decoder, x, start, stop, 15, wd, step)
            beam_out.append({"input": t, "beam": wd, "decoded": "".join(tgt[i] for i in ids), "score": sc, "min_gap": gap})
    write(os.path.join(d, "decoded.json"), greedy_out)
    write(os.path.join(d, "beam.json"), beam_out)
    return greedy_out, beam_out


def simplernn_td():
    src = sorted(set(" .!?abcdefghilmnorstuwy"))
    tgt = sorted(set("\t\n .!?'abcdeilmnopqrstuvàéê"))
    u = 8
    ei = keras.Input((None, len(src)), name="src")
    _, h = layers.SimpleRNN(u, return_state=True, name="enc_rnn")(ei)
    di = keras.Input((None, len(tgt)), name="tgt")
    seq, _ = layers.SimpleRNN(u, return_sequences=True, return_state=True, name="dec_rnn")(di, initial_state=[h])
    seq = layers.Dropout(0.3, name="drop")(seq)
    out = layers.TimeDistributed(layers.Dense(len(tgt), activation="softmax"), name="td_dense")(seq)
    model = keras.Model([ei, di], out)
    set_weights(model, 41, 0.6)
    vocab = {"source_chars": src, "target_chars": tgt, "start": "\t", "stop": "\n", "max_decoder_len": 10}
    texts = ["go.", "run!", "hello world!", "who?"]
    d = os.path.join(HERE, "s2s_simplernn_td")
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "model.h5"))
    write(os.path.join(d, "vocab.json"), vocab)
    write(os.path.join(d, "texts.json"), texts)
    encoder = keras.Model(ei, h)
    nt = len(tgt)
    tin = keras.Input((None, nt))
    sin = keras.Input((u,))
    o, sh = model.get_layer("dec_rnn")(tin, initial_state=[sin])
    o = model.get_layer("drop")(o)
    decoder = keras.Model([tin, sin], [model.get_layer("td_dense")(o), sh])
    step = lambda toks: onehot_step(toks, nt)
    out_cases = []
    for t in texts:
        ids, margin, score = greedy(encoder, decoder, char_onehot(t, src), tgt.index("\t"), tgt.index("\n"), 10, step)
        out_cases.append({"input": t, "decoded": "".join(tgt[i] for i in ids), "score": score, "min_margin": margin})
    write(os.path.join(d, "decoded.json"), out_cases)
    return out_cases, []


def attention():
    u, vs, vt = 6, 9, 11
    ei = keras.Input((None, vs), name="src")
    eseq, h, c = layers.LSTM(u, return_sequences=True, return_state=True, name="enc")(ei)
    di = keras.Input((None, vt), name="tgt")
    dseq, _, _ = layers.LSTM(u, return_sequences=True, return_state=True, name="dec")(di, initial_state=[h, c])
    ctx = layers.Attention(name="attn")([dseq, eseq])
    out = layers.Dense(vt, activation="softmax", name="out")(layers.Concatenate(name="cat")([dseq, ctx]))
    model = keras.Model([ei, di], out)
    set_weights(model, 3, 0.5)
    d = os.path.join(HERE, "s2s_attention")
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    return [], []


def logits_gru():
    src = sorted(set(" .!?abcdefghilmnorstuwy"))
    tgt = sorted(set("\t\n .!?'abcdeilmnopqrstuvàéê"))
    u = 9
    ei = keras.Input((None, len(src)), name="encoder_inputs")
    _, h = layers.GRU(u, return_state=True, name="encoder_gru")(ei)
    di = keras.Input((None, len(tgt)), name="decoder_inputs")
    seq, _ = layers.GRU(u, return_sequences=True, return_state=True, name="decoder_gru")(di, initial_state=[h])
    out = layers.Dense(len(tgt), name="logits")(seq)
    model = keras.Model([ei, di], out)
    set_weights(model, 77, 0.9)
    vocab = {"source_chars": src, "target_chars": tgt, "start": "\t", "stop": "\n", "max_decoder_len": 12}
    texts = ["go.", "run!", "hello world!", "who?", "stay calm."]
    d = os.path.join(HERE, "s2s_logits_gru")
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "model.h5"))
    write(os.path.join(d, "vocab.json"), vocab)
    write(os.path.join(d, "texts.json"), texts)
    encoder = keras.Model(ei, h)
    nt = len(tgt)
    tin = keras.Input((None, nt))
    sin = keras.Input((u,))
    o, sh = model.get_layer("decoder_gru")(tin, initial_state=[sin])
    probs = layers.Softmax()(model.get_layer("logits")(o))
    decoder = keras.Model([tin, sin], [probs, sh])
    step = lambda toks: onehot_step(toks, nt)
    start, stop = tgt.index("\t"), tgt.index("\n")
    greedy_out, beam_out = [], []
    for t in texts:
        x = char_onehot(t, src)
        ids, margin, score = greedy(encoder, decoder, x, start, stop, 12, step)
        greedy_out.append({"input": t, "decoded": "".join(tgt[i] for i in ids), "score": score, "min_margin": margin})
        for wd in [3]:
            ids, sc, gap = beam(encoder, decoder, x, start, stop, 12, wd, step)
            beam_out.append({"input": t, "beam": wd, "decoded": "".join(tgt[i] for i in ids), "score": sc, "min_gap": gap})
    write(os.path.join(d, "decoded.json"), greedy_out)
    write(os.path.join(d, "beam.json"), beam_out)
    return greedy_out, beam_out


def shared_lstm_pad():
    src = os.path.join(HERE, "..", "goldens-text", "s2s_char_lstm_translate")
    model = keras.saving.load_model(os.path.join(src, "model.keras"))
    with open(os.path.join(src, "vocab.json")) as f:
        vocab = json.load(f)
    vocab["max_encoder_len"] = 16
    vocab["source_pad"] = " "
    with open(os.path.join(src, "decoded.json")) as f:
        texts = [c["input"] for c in json.load(f)]
    d = os.path.join(HERE, "s2s_char_lstm_pad")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "vocab.json"), vocab)
    sc, tgt = vocab["source_chars"], vocab["target_chars"]
    enc, dec = step_models(model, "encoder_inputs", "decoder_inputs", "encoder_lstm", "decoder_lstm",
                           ([], ["decoder_dense"]), 2, (None, len(tgt)), 12)
    step = lambda toks: onehot_step(toks, len(tgt))
    out = []
    for t in texts:
        x = np.zeros((1, 16, len(sc)), "float32")
        x[0] = char_onehot(t + " " * (16 - len(t)), sc)[0]
        ids, margin, score = greedy(enc, dec, x, tgt.index("\t"), tgt.index("\n"), vocab["max_decoder_len"], step)
        out.append({"input": t, "decoded": "".join(tgt[i] for i in ids), "score": score, "min_margin": margin})
    write(os.path.join(d, "decoded.json"), out)
    return out, []


def shared_lstm_beam():
    src = os.path.join(HERE, "..", "goldens-text", "s2s_char_lstm_translate")
    model = keras.saving.load_model(os.path.join(src, "model.keras"))
    with open(os.path.join(src, "vocab.json")) as f:
        vocab = json.load(f)
    with open(os.path.join(src, "decoded.json")) as f:
        texts = [c["input"] for c in json.load(f)]
    return char_case("s2s_char_lstm_beam", model, vocab, texts, "encoder_inputs", "decoder_inputs",
                     "encoder_lstm", "decoder_lstm", ([], ["decoder_dense"]), 2, 12, [2, 3, 5], save=False)


if __name__ == "__main__":
    for f in (gru_char, token_lstm, two_decoders, stacked_bilstm, simplernn_td, attention, logits_gru, shared_lstm_pad, shared_lstm_beam):
        g, b = f()
        for r in g:
            print(f.__name__, "greedy", repr(r["input"]), repr(r["decoded"]), "margin %.2g" % r["min_margin"])
        for r in b:
            print(f.__name__, "beam", r["beam"], repr(r["input"]), repr(r["decoded"]), "gap %.2g" % r["min_gap"])
