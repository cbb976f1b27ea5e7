#!/usr/bin/python3
"""Goldens for the options of issue 11's layers that ../goldens-wild leaves out.

Usage (from the repository root, after `. ../shared/oracle/env.sh`, with
Debian's /usr/bin/python3 and Keras 3.16.0 at $KERAS_SRC):

    testdata/goldens-wild-oracle/gen_wild_goldens.py testdata/goldens-wild-oracle --seed 11

It reuses the case runner of testdata/goldens/generator/gen_goldens.py (same
case.json layout, seeded weights, the three formats, and every saved format
reloaded by Keras and checked before it is kept) with its own registry:
ConvLSTM1D/2D/3D options (channels_first, strides, same/valid, go_backwards,
return_state, initial_state, masks, stateful, activations, use_bias, unroll),
Conv2D/Conv3D (channels_first, dilation, groups, strides), 2-D and 3-D
pooling (same/valid, strides, channels_first, keepdims), zero padding,
cropping and upsampling (asymmetric, 3-D, bilinear), transposed convolutions
(output_padding, dilation, 3-D), depthwise/separable depth_multiplier,
BatchNormalization on other axes, and TimeDistributed around each of them.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "goldens", "generator"))

import gen_goldens as G  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402

Spec = G.Spec


def reg(name, builder):
    G.register(name, "wild", builder)


def model1(shape, body, batch_size=None):
    return G.seq_model(shape, body, batch_size=batch_size)


def add_convlstm_cases():
    def cl2_cf_seq_state(c):
        inp = keras.Input((3, 2, 5, 6))
        seq, h, cc = L.ConvLSTM2D(3, (3, 2), padding="same", data_format="channels_first",
                                  return_sequences=True, return_state=True)(inp)
        m = keras.Model(inp, [seq, h, cc])
        return Spec(m, [c.floats(2, 3, 2, 5, 6)],
                    "ConvLSTM2D channels_first, same, kernel (3,2), return_sequences + return_state")

    reg("convlstm2d_cf_seq_state", cl2_cf_seq_state)

    def cl1_strides_back_state(c):
        inp = keras.Input((4, 11, 2))
        out, h, cc = L.ConvLSTM1D(3, 3, strides=2, padding="valid", go_backwards=True,
                                  return_state=True)(inp)
        m = keras.Model(inp, [out, h, cc])
        return Spec(m, [c.floats(2, 4, 11, 2)],
                    "ConvLSTM1D strides 2, valid, go_backwards, return_state")

    reg("convlstm1d_strides_backwards_state", cl1_strides_back_state)

    def cl1_cf_same_seq_back(c):
        m = model1((3, 2, 9), [L.ConvLSTM1D(2, 4, padding="same", data_format="channels_first",
                                            return_sequences=True, go_backwards=True)])
        return Spec(m, [c.floats(2, 3, 2, 9)],
                    "ConvLSTM1D channels_first, same (even kernel), return_sequences, go_backwards")

    reg("convlstm1d_cf_same_seq_backwards", cl1_cf_same_seq_back)

    def cl3_cf_seq(c):
        m = model1((2, 2, 3, 4, 3), [L.ConvLSTM3D(2, 2, padding="same", data_format="channels_first",
                                                  return_sequences=True)])
        return Spec(m, [c.floats(2, 2, 2, 3, 4, 3)],
                    "ConvLSTM3D channels_first, same, return_sequences")

    reg("convlstm3d_cf_same_seq", cl3_cf_seq)

    def cl3_strides_state(c):
        inp = keras.Input((2, 5, 4, 5, 1))
        out, h, cc = L.ConvLSTM3D(2, (2, 3, 2), strides=(2, 1, 2), padding="valid",
                                  return_state=True)(inp)
        m = keras.Model(inp, [out, h, cc])
        return Spec(m, [c.floats(2, 2, 5, 4, 5, 1)],
                    "ConvLSTM3D strides (2,1,2), valid, return_state")

    reg("convlstm3d_strides_state", cl3_strides_state)

    def cl2_same_strides(c):
        m = model1((3, 7, 6, 2), [L.ConvLSTM2D(3, 3, strides=2, padding="same", return_sequences=True),
                                  L.Flatten()])
        return Spec(m, [c.floats(2, 3, 7, 6, 2)], "ConvLSTM2D strides 2, same, return_sequences")

    reg("convlstm2d_same_strides", cl2_same_strides)

    def cl2_acts(c):
        m = model1((3, 5, 5, 2), [L.ConvLSTM2D(3, 3, activation="relu", recurrent_activation="hard_sigmoid",
                                               use_bias=False, padding="same", return_sequences=True),
                                  L.ConvLSTM2D(2, 2, activation="elu", padding="valid")])
        return Spec(m, [c.floats(2, 3, 5, 5, 2, scale=2.0)],
                    "ConvLSTM2D relu/hard_sigmoid without bias -> ConvLSTM2D elu")

    reg("convlstm2d_activations_nobias", cl2_acts)

    def cl2_initial_state(c):
        x = keras.Input((3, 5, 4, 2))
        h0 = keras.Input((5, 4, 3))
        c0 = keras.Input((5, 4, 3))
        y = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(x, initial_state=[h0, c0])
        m = keras.Model([x, h0, c0], y)
        return Spec(m, [c.floats(2, 3, 5, 4, 2), c.floats(2, 5, 4, 3), c.floats(2, 5, 4, 3)],
                    "ConvLSTM2D with initial_state [h0, c0] as model inputs")

    reg("convlstm2d_initial_state", cl2_initial_state)

    def cl2_cf_initial_state(c):
        x = keras.Input((3, 2, 5, 4))
        h0 = keras.Input((3, 3, 2))
        c0 = keras.Input((3, 3, 2))
        y = L.ConvLSTM2D(3, (3, 3), padding="valid", data_format="channels_first",
                         go_backwards=True)(x, initial_state=[h0, c0])
        m = keras.Model([x, h0, c0], y)
        return Spec(m, [c.floats(2, 3, 2, 5, 4), c.floats(2, 3, 3, 2), c.floats(2, 3, 3, 2)],
                    "ConvLSTM2D channels_first, valid, go_backwards, initial_state")

    reg("convlstm2d_cf_initial_state", cl2_cf_initial_state)

    def masked(unroll, zero, back, B):
        def b(c):
            T = 5
            x = keras.Input((T, 4, 4, 2))
            mk = keras.Input((T,))
            mask = keras.ops.not_equal(mk, 0)
            y = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, unroll=unroll,
                             zero_output_for_mask=zero, go_backwards=back)(x, mask=mask)
            m = keras.Model([x, mk], y)
            mv = np.ones((B, T), "float32")
            mv[0, 2] = 0
            mv[0, 4] = 0
            if B > 1:
                mv[1, 0] = 0
                mv[1, 3:] = 0
            if B > 2:
                mv[2, :] = 0
            return Spec(m, [c.floats(B, T, 4, 4, 2), mv],
                        "ConvLSTM2D(return_sequences, unroll=%s, zero_output_for_mask=%s, "
                        "go_backwards=%s) with an explicit [batch, time] mask, batch %d" % (unroll, zero, back, B),
                        notes=["Keras 3.16's numpy backend broadcasts the step mask [batch, 1] against the "
                               "[batch, h, w, filters] output, which is only right for batch 1 (or with "
                               "unroll=True): the scan-loop cases use batch 1"])
        return b

    reg("convlstm2d_mask_b1", masked(False, False, False, 1))
    reg("convlstm2d_mask_b1_zero_output_backwards", masked(False, True, True, 1))
    reg("convlstm2d_mask_unroll_b3", masked(True, False, False, 3))
    reg("convlstm2d_mask_unroll_b3_backwards", masked(True, False, True, 3))

    def cl2_stateful(c):
        m = model1((None, 4, 4, 1), [L.ConvLSTM2D(2, 3, padding="same", stateful=True)], batch_size=2)
        return Spec(m, calls=[[c.floats(2, 2, 4, 4, 1)], [c.floats(2, 2, 4, 4, 1)], [c.floats(2, 2, 4, 4, 1)]],
                    desc="stateful ConvLSTM2D, three calls carrying the states", stateful=True,
                    self_check="stateful_concat")

    reg("convlstm2d_stateful", cl2_stateful)

    def cl2_bidi(c):
        m = model1((3, 4, 4, 2), [L.Bidirectional(L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)),
                                  L.GlobalAveragePooling3D()])
        return Spec(m, [c.floats(2, 3, 4, 4, 2)], "Bidirectional(ConvLSTM2D(seq)) concat -> GlobalAveragePooling3D")

    reg("convlstm2d_bidirectional", cl2_bidi)


def add_conv_cases():
    def conv2d_cf(c):
        m = model1((4, 7, 8), [
            L.Conv2D(4, 3, dilation_rate=2, groups=2, data_format="channels_first"),
            L.Conv2D(3, (2, 3), strides=(2, 1), padding="same", activation="relu", data_format="channels_first"),
            L.Conv2D(2, 1, use_bias=False, data_format="channels_first")])
        return Spec(m, [c.floats(2, 4, 7, 8)],
                    "Conv2D channels_first: dilation 2 + groups 2 (valid) -> strides (2,1) same relu -> 1x1 no bias")

    reg("conv2d_cf_dilation_groups_strides", conv2d_cf)

    def conv2d_last(c):
        m = model1((7, 6, 3), [
            L.Conv2D(4, (3, 2), strides=(1, 2), padding="same", activation="tanh"),
            L.Conv2D(2, 2, dilation_rate=(2, 1), padding="same"),
            L.Conv2D(3, 3, strides=3)])
        return Spec(m, [c.floats(2, 7, 6, 3)],
                    "Conv2D strides (1,2) same tanh -> dilation (2,1) same (even kernel) -> strides 3 valid")

    reg("conv2d_strides_dilation_same", conv2d_last)

    def conv3d_cf(c):
        m = model1((2, 5, 6, 4), [
            L.Conv3D(3, (2, 3, 2), strides=2, padding="same", data_format="channels_first"),
            L.Conv3D(2, 2, dilation_rate=(1, 2, 1), data_format="channels_first", activation="sigmoid")])
        return Spec(m, [c.floats(2, 2, 5, 6, 4)],
                    "Conv3D channels_first strides 2 same -> dilation (1,2,1) valid sigmoid")

    reg("conv3d_cf_strides_dilation", conv3d_cf)

    def conv3d_groups(c):
        m = model1((4, 4, 5, 4), [L.Conv3D(6, 3, padding="same", groups=2)])
        return Spec(m, [c.floats(2, 4, 4, 5, 4)], "Conv3D groups 2 same")

    reg("conv3d_groups_same", conv3d_groups)

    def transpose(c):
        m = model1((4, 5, 2), [
            L.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
            L.Conv2DTranspose(2, (2, 3), strides=(2, 3), padding="valid", output_padding=(1, 2)),
            L.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", activation="relu")])
        return Spec(m, [c.floats(2, 4, 5, 2)],
                    "Conv2DTranspose strides 2 same output_padding 1 -> strides (2,3) valid output_padding (1,2) "
                    "-> dilation 2 same relu")

    reg("conv2d_transpose_output_padding", transpose)

    def transpose_default(c):
        m = model1((3, 4, 2), [
            L.Conv2DTranspose(3, (3, 4), strides=(2, 3), padding="same"),
            L.Conv2DTranspose(2, 2, strides=3, padding="valid", data_format="channels_last")])
        return Spec(m, [c.floats(2, 3, 4, 2)],
                    "Conv2DTranspose strides (2,3) same (even kernel) -> kernel 2 strides 3 valid")

    reg("conv2d_transpose_strides", transpose_default)

    def transpose_cf(c):
        m = model1((2, 4, 3), [L.Conv2DTranspose(3, 3, strides=2, padding="valid", data_format="channels_first"),
                               L.Conv2DTranspose(2, 2, padding="same", output_padding=0, data_format="channels_first")])
        return Spec(m, [c.floats(2, 2, 4, 3)],
                    "Conv2DTranspose channels_first strides 2 valid -> same output_padding 0")

    reg("conv2d_transpose_cf", transpose_cf)

    def transpose1d(c):
        m = model1((6, 3), [L.Conv1DTranspose(2, 3, dilation_rate=2, padding="same"),
                            L.Conv1DTranspose(3, 4, strides=3, padding="same", output_padding=2),
                            L.Conv1DTranspose(2, 2, strides=2, padding="valid", use_bias=False)])
        return Spec(m, [c.floats(2, 6, 3)],
                    "Conv1DTranspose dilation 2 same -> strides 3 same output_padding 2 -> strides 2 valid no bias")

    reg("conv1d_transpose_dilation_output_padding", transpose1d)

    def transpose3d(c):
        m = model1((2, 3, 2, 2), [L.Conv3DTranspose(2, (2, 3, 2), strides=(2, 1, 2), padding="valid"),
                                  L.Conv3DTranspose(2, 3, strides=2, padding="same", output_padding=(1, 0, 1))])
        return Spec(m, [c.floats(2, 2, 3, 2, 2)],
                    "Conv3DTranspose strides (2,1,2) valid -> strides 2 same output_padding (1,0,1)")

    reg("conv3d_transpose", transpose3d)

    def depthwise2d(c):
        m = model1((3, 7, 6), [
            L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=3, data_format="channels_first"),
            L.DepthwiseConv2D((2, 2), dilation_rate=(1, 2), depth_multiplier=1, use_bias=False,
                              data_format="channels_first", activation="relu")])
        return Spec(m, [c.floats(2, 3, 7, 6)],
                    "DepthwiseConv2D channels_first strides 2 same multiplier 3 -> dilation (1,2) no bias relu")

    reg("depthwise_conv2d_multiplier_cf", depthwise2d)

    def depthwise1d(c):
        m = model1((9, 3), [L.DepthwiseConv1D(3, dilation_rate=2, padding="same", depth_multiplier=2),
                            L.DepthwiseConv1D(2, strides=2, padding="valid", data_format="channels_last")])
        return Spec(m, [c.floats(2, 9, 3)], "DepthwiseConv1D dilation 2 same multiplier 2 -> strides 2 valid")

    reg("depthwise_conv1d_multiplier_dilation", depthwise1d)

    def separable(c):
        m = model1((7, 8, 3), [
            L.SeparableConv2D(4, 3, strides=2, padding="same", depth_multiplier=2, activation="relu"),
            L.SeparableConv2D(2, (2, 1), dilation_rate=(1, 1), use_bias=False)])
        return Spec(m, [c.floats(2, 7, 8, 3)],
                    "SeparableConv2D strides 2 same multiplier 2 relu -> kernel (2,1) no bias")

    reg("separable_conv2d_multiplier_strides", separable)

    def separable_cf(c):
        m = model1((3, 10), [L.SeparableConv1D(4, 3, dilation_rate=2, padding="same", depth_multiplier=2,
                                               data_format="channels_first"),
                             L.SeparableConv1D(2, 2, strides=2, data_format="channels_first")])
        return Spec(m, [c.floats(2, 3, 10)],
                    "SeparableConv1D channels_first dilation 2 same multiplier 2 -> strides 2 valid")

    reg("separable_conv1d_cf_dilation", separable_cf)

    def separable2d_cf(c):
        m = model1((2, 6, 5), [L.SeparableConv2D(3, 2, padding="same", depth_multiplier=3,
                                                 data_format="channels_first")])
        return Spec(m, [c.floats(2, 2, 6, 5)], "SeparableConv2D channels_first same multiplier 3")

    reg("separable_conv2d_cf", separable2d_cf)


def add_pool_reshape_cases():
    def pool2d(c):
        m = model1((7, 8, 3), [
            L.MaxPooling2D((3, 2), strides=(2, 1), padding="same"),
            L.AveragePooling2D(3, strides=2, padding="same"),
            L.AveragePooling2D((2, 1), padding="valid"),
            L.GlobalMaxPooling2D(keepdims=True)])
        return Spec(m, [c.floats(2, 7, 8, 3)],
                    "MaxPooling2D (3,2)/(2,1) same -> AveragePooling2D 3/2 same -> (2,1) valid -> "
                    "GlobalMaxPooling2D keepdims")

    reg("pooling2d_same_strides", pool2d)

    def pool2d_cf(c):
        inp = keras.Input((3, 7, 6))
        a = L.MaxPooling2D(2, strides=1, padding="valid", data_format="channels_first")(inp)
        b = L.AveragePooling2D((2, 3), padding="same", data_format="channels_first")(a)
        g1 = L.GlobalAveragePooling2D(data_format="channels_first")(b)
        g2 = L.GlobalMaxPooling2D(data_format="channels_first", keepdims=True)(a)
        g3 = L.GlobalAveragePooling2D(keepdims=True)(b)
        m = keras.Model(inp, [g1, g2, g3])
        return Spec(m, [c.floats(2, 3, 7, 6)],
                    "channels_first MaxPooling2D strides 1 -> AveragePooling2D (2,3) same; global avg/max "
                    "channels_first (keepdims) and a channels_last global average of the same tensor")

    reg("pooling2d_cf_global", pool2d_cf)

    def pool3d(c):
        inp = keras.Input((2, 5, 6, 5))
        a = L.MaxPooling3D((2, 2, 3), strides=(1, 2, 2), padding="same", data_format="channels_first")(inp)
        b = L.AveragePooling3D(2, padding="same", data_format="channels_first")(a)
        c3 = L.AveragePooling3D((1, 2, 2), strides=1)(inp)
        m = keras.Model(inp, [L.Flatten()(b), L.GlobalMaxPooling3D(keepdims=True)(c3),
                              L.GlobalAveragePooling3D(data_format="channels_first")(a)])
        return Spec(m, [c.floats(2, 2, 5, 6, 5)],
                    "MaxPooling3D/AveragePooling3D channels_first same, AveragePooling3D strides 1 valid, "
                    "global 3-D pooling")

    reg("pooling3d_cf_same", pool3d)

    def reshape2d(c):
        m = model1((4, 5, 2), [
            L.ZeroPadding2D(((1, 2), (0, 3))),
            L.Cropping2D(((2, 0), (1, 1))),
            L.UpSampling2D((2, 3)),
            L.ZeroPadding2D(1), L.Cropping2D(2), L.ZeroPadding2D((1, 0)), L.Cropping2D((0, 1))])
        return Spec(m, [c.floats(2, 4, 5, 2)],
                    "ZeroPadding2D/Cropping2D in every config form, UpSampling2D (2,3)")

    reg("reshaping2d_forms", reshape2d)

    def reshape2d_cf(c):
        m = model1((2, 4, 3), [
            L.ZeroPadding2D(((0, 1), (2, 1)), data_format="channels_first"),
            L.UpSampling2D(2, data_format="channels_first"),
            L.Cropping2D(((1, 2), (0, 3)), data_format="channels_first")])
        return Spec(m, [c.floats(2, 2, 4, 3)], "channels_first ZeroPadding2D -> UpSampling2D -> Cropping2D")

    reg("reshaping2d_cf", reshape2d_cf)

    def bilinear(c):
        inp = keras.Input((3, 4, 2))
        a = L.UpSampling2D((2, 3), interpolation="bilinear")(inp)
        b = L.UpSampling2D(2, interpolation="bilinear", data_format="channels_first")(
            L.Permute((3, 1, 2))(inp))
        m = keras.Model(inp, [a, b])
        return Spec(m, [c.floats(2, 3, 4, 2)], "UpSampling2D bilinear, channels_last (2,3) and channels_first 2")

    reg("upsampling2d_bilinear", bilinear)

    def reshape3d(c):
        inp = keras.Input((2, 3, 2, 2))
        a = L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))(inp)
        a = L.UpSampling3D((1, 2, 2))(a)
        a = L.Cropping3D(((0, 1), (1, 2), (2, 0)))(a)
        b = L.ZeroPadding3D(1, data_format="channels_first")(inp)
        b = L.UpSampling3D(2, data_format="channels_first")(b)
        b = L.Cropping3D((1, 2, 3), data_format="channels_first")(b)
        m = keras.Model(inp, [a, b])
        return Spec(m, [c.floats(2, 2, 3, 2, 2)], "ZeroPadding3D/UpSampling3D/Cropping3D, channels_last and first")

    reg("reshaping3d", reshape3d)

    def bn_axes(c):
        inp = keras.Input((3, 5, 4))
        a = L.BatchNormalization(axis=1)(inp)
        b = L.BatchNormalization(axis=2, epsilon=0.01, center=False)(inp)
        cc = L.BatchNormalization(axis=-2, scale=False)(inp)
        d = L.Conv2D(2, 2, data_format="channels_first")(L.Reshape((3, 5, 4))(inp))
        d = L.BatchNormalization(axis=1)(d)
        m = keras.Model(inp, [a, b, cc, d])
        return Spec(m, [c.floats(2, 3, 5, 4, scale=2.0)],
                    "BatchNormalization on axis 1, 2 (no center), -2 (no scale), and axis 1 after a "
                    "channels_first Conv2D")

    reg("batchnorm_axes", bn_axes)


def add_time_distributed_cases():
    def td_front(c):
        m = model1((3, 2, 8, 7), [
            L.TimeDistributed(L.Conv2D(3, 3, padding="same", data_format="channels_first", activation="relu")),
            L.TimeDistributed(L.BatchNormalization(axis=1)),
            L.TimeDistributed(L.MaxPooling2D(2, padding="same", data_format="channels_first")),
            L.TimeDistributed(L.SeparableConv2D(4, 2, data_format="channels_first")),
            L.TimeDistributed(L.GlobalAveragePooling2D(data_format="channels_first")),
            L.LSTM(3)])
        return Spec(m, [c.floats(2, 3, 2, 8, 7)],
                    "TimeDistributed channels_first Conv2D relu -> BatchNormalization(axis=1) -> MaxPooling2D same "
                    "-> SeparableConv2D -> GlobalAveragePooling2D, then LSTM")

    reg("td_conv2d_cf_bn_pool_separable_lstm", td_front)

    def td_misc(c):
        m = model1((2, 4, 5, 2), [
            L.TimeDistributed(L.ZeroPadding2D(((1, 0), (0, 1)))),
            L.TimeDistributed(L.DepthwiseConv2D(2, depth_multiplier=2)),
            L.TimeDistributed(L.Conv2DTranspose(2, 3, strides=2, padding="same")),
            L.TimeDistributed(L.UpSampling2D((1, 2))),
            L.TimeDistributed(L.Cropping2D(((1, 1), (2, 0)))),
            L.TimeDistributed(L.AveragePooling2D(3, strides=2)),
            L.TimeDistributed(L.GlobalMaxPooling2D()),
            L.GRU(3, return_sequences=True)])
        return Spec(m, [c.floats(2, 2, 4, 5, 2)],
                    "TimeDistributed ZeroPadding2D -> DepthwiseConv2D x2 -> Conv2DTranspose -> UpSampling2D -> "
                    "Cropping2D -> AveragePooling2D -> GlobalMaxPooling2D, then GRU(seq)")

    reg("td_padding_depthwise_transpose_gru", td_misc)

    def td_3d(c):
        m = model1((2, 3, 4, 4, 2), [
            L.TimeDistributed(L.Conv3D(2, 2, padding="same")),
            L.TimeDistributed(L.MaxPooling3D(2)),
            L.TimeDistributed(L.Flatten()),
            L.SimpleRNN(2)])
        return Spec(m, [c.floats(2, 2, 3, 4, 4, 2)], "TimeDistributed Conv3D -> MaxPooling3D -> Flatten, SimpleRNN")

    reg("td_conv3d_pool3d_rnn", td_3d)

    def td_1d(c):
        m = model1((3, 8, 2), [
            L.TimeDistributed(L.SeparableConv1D(3, 3, padding="same")),
            L.TimeDistributed(L.DepthwiseConv1D(2, strides=2)),
            L.TimeDistributed(L.Conv1DTranspose(2, 2, strides=2)),
            L.TimeDistributed(L.GlobalAveragePooling1D()),
            L.LSTM(2)])
        return Spec(m, [c.floats(2, 3, 8, 2)],
                    "TimeDistributed SeparableConv1D -> DepthwiseConv1D -> Conv1DTranspose -> "
                    "GlobalAveragePooling1D, LSTM")

    reg("td_conv1d_family_lstm", td_1d)


def build_registry():
    add_convlstm_cases()
    add_conv_cases()
    add_pool_reshape_cases()
    add_time_distributed_cases()


G.build_registry = build_registry

if __name__ == "__main__":
    sys.exit(G.main())
