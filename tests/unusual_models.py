"""64 small models of layers, ops, graph shapes, names and dtypes the other collections
miss (session 16's sweep): 1-D and 3-D convolutions, normalization wrappers, every RNN
state form, attention variants, preprocessing with vocabularies, augmentation, noise,
merges, ``keras.ops`` calls (einsum, top_k, segment_sum, slicing, constants), dict and
nested outputs, shared and nested models, a 200-layer chain, a 30-way fan-out, hostile
names, int, bool, float16, bfloat16 and float64 inputs, LoRA and int8 quantization.
``tests/test_unusual_models.py`` converts each in ``make test-full``."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from model_builders import Builders, fresh

BUILDERS = Builders()
builder = BUILDERS


# ---------------------------------------------------------------- unusual layers
@builder
def conv1d_family():
    fresh(1)
    i = keras.Input((16, 3))
    x = layers.Conv1DTranspose(4, 3, strides=2, padding="same")(i)
    x = layers.SeparableConv1D(4, 3, depth_multiplier=2, activation="relu")(x)
    x = layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same")(x)
    x = layers.AveragePooling1D(2, strides=1, padding="same")(x)
    x = layers.Cropping1D((1, 2))(x)
    x = layers.MaxPooling1D(3)(x)
    x = layers.GlobalAveragePooling1D(keepdims=True)(x)
    x = layers.Flatten()(x)
    return keras.Model(i, layers.Dense(2)(x))


@builder
def conv3d_family():
    fresh(2)
    i = keras.Input((6, 6, 6, 2))
    x = layers.Conv3D(3, 3, padding="same", dilation_rate=2)(i)
    x = layers.ZeroPadding3D(((1, 0), (0, 1), (1, 1)))(x)
    x = layers.Cropping3D(((0, 1), (1, 0), (1, 1)))(x)
    x = layers.UpSampling3D((2, 1, 2))(x)
    x = layers.Conv3DTranspose(2, 2, strides=(1, 2, 1))(x)
    x = layers.AveragePooling3D(2)(x)
    a = layers.GlobalMaxPooling3D()(x)
    b = layers.GlobalAveragePooling3D()(x)
    return keras.Model(i, layers.Dense(2)(layers.Concatenate()([a, b])))


@builder
def norm_wrappers():
    fresh(3)
    i = keras.Input((8, 8, 4))
    x = layers.GroupNormalization(groups=2, center=False)(i)
    x = layers.SpectralNormalization(layers.Conv2D(4, 3, padding="same"), power_iterations=2)(x)
    x = layers.LayerNormalization(axis=[1, 2])(x)
    x = layers.RMSNormalization(axis=-1)(x)
    x = layers.Identity()(x)
    x = layers.BatchNormalization(momentum=0.5, scale=False)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.UnitNormalization(axis=-1)(x)
    x = layers.SpectralNormalization(layers.Dense(3))(x)
    return keras.Model(i, x)


@builder
def reshape_permute():
    fresh(4)
    i = keras.Input((4, 6))
    x = layers.Reshape((-1, 3))(i)
    x = layers.Permute((2, 1))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(5)(x)
    x = layers.RepeatVector(3)(x)
    x = layers.Reshape((5, -1))(x)
    x = layers.Permute((2, 1))(x)
    x = layers.Reshape((15,))(x)
    return keras.Model(i, layers.Dense(2)(x))


@builder
def timedistributed_conv():
    fresh(5)
    i = keras.Input((3, 12, 12, 2))
    x = layers.TimeDistributed(layers.Conv2D(4, 3, activation="relu"))(i)
    x = layers.TimeDistributed(layers.MaxPooling2D())(x)
    x = layers.TimeDistributed(layers.GlobalAveragePooling2D())(x)
    x = layers.LSTM(6)(x)
    return keras.Model(i, layers.Dense(2)(x))


@builder
def bidir_merge_modes():
    fresh(6)
    i = keras.Input((5, 3))
    outs = []
    for mode in ["concat", "sum", "mul", "ave"]:
        outs.append(layers.Bidirectional(layers.GRU(4), merge_mode=mode)(i))
    fwd, bwd = layers.Bidirectional(layers.GRU(4, reset_after=False), merge_mode=None)(i)
    outs += [fwd, bwd]
    bi = layers.Bidirectional(
        layers.LSTM(3, return_sequences=True),
        backward_layer=layers.GRU(3, return_sequences=True, go_backwards=True),
    )(i)
    outs.append(layers.Flatten()(bi))
    return keras.Model(i, layers.Concatenate()(outs))


@builder
def convlstm1d_model():
    fresh(7)
    i = keras.Input((4, 10, 2))
    x = layers.ConvLSTM1D(3, 3, padding="same", return_sequences=True)(i)
    x = layers.ConvLSTM1D(2, 3, strides=2)(x)
    x = layers.Flatten()(x)
    return keras.Model(i, layers.Dense(2)(x))


@builder
def rnn_states():
    fresh(8)
    i = keras.Input((6, 3))
    seq, st = layers.SimpleRNN(4, return_sequences=True, return_state=True)(i)
    out, h, c = layers.LSTM(4, return_state=True)(seq)
    y = layers.LSTM(4)(seq, initial_state=[h, c])
    z = layers.GRU(4, go_backwards=True)(seq, initial_state=st)
    return keras.Model(i, [out, y, z, st])


@builder
def attention_layers():
    fresh(9)
    q = keras.Input((4, 6), name="q")
    v = keras.Input((5, 6), name="v")
    a = layers.Attention(use_scale=True, score_mode="concat")([q, v])
    b, scores = layers.AdditiveAttention()([q, v], return_attention_scores=True)
    c = layers.Attention()([q, v, v], use_causal_mask=False)
    x = layers.Concatenate()([a, b, c])
    return keras.Model([q, v], [layers.Dense(2)(x), scores])


@builder
def gqa_mha():
    fresh(10)
    q = keras.Input((4, 8))
    kv = keras.Input((6, 8))
    x = layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)(q, kv)
    y, s = layers.MultiHeadAttention(2, 3, attention_axes=(1,))(q, kv, return_attention_scores=True)
    return keras.Model([q, kv], [x, y, s])


@builder
def embed_mask_bidir():
    fresh(11)
    i = keras.Input((7,), dtype="int32")
    x = layers.Embedding(20, 6, mask_zero=True)(i)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    a = layers.GlobalAveragePooling1D()(x)
    b = layers.GlobalMaxPooling1D()(x)
    c = layers.GRU(3)(x)
    return keras.Model(i, layers.Concatenate()([a, b, c]))


@builder
def int_preprocessing():
    fresh(12)
    i = keras.Input((4,), dtype="int64", name="ids")
    f = keras.Input((3,), name="f")
    h = layers.Hashing(num_bins=8)(i)
    lk = layers.IntegerLookup(vocabulary=[3, 7, 11, 42], output_mode="int")(i)
    ce = layers.CategoryEncoding(num_tokens=8, output_mode="multi_hot")(h)
    ce2 = layers.CategoryEncoding(num_tokens=6, output_mode="count")(lk)
    d = layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5])(f)
    d = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(d)
    d = layers.Flatten()(d)
    x = layers.Concatenate()([ops.cast(ce, "float32"), ops.cast(ce2, "float32"), d])
    return keras.Model({"ids": i, "f": f}, layers.Dense(2)(x))


@builder
def string_lookup_text():
    fresh(13)
    s = keras.Input((3,), dtype="string", name="words")
    t = keras.Input((1,), dtype="string", name="text")
    ids = layers.StringLookup(vocabulary=["a", "b", "c'\"", "ü"], num_oov_indices=2)(s)
    e = layers.Flatten()(layers.Embedding(8, 3)(ids))
    tv = layers.TextVectorization(max_tokens=12, output_mode="tf_idf")
    tv.adapt(["the cat sat", "the dog ran fast", "a cat and a dog"])
    x = layers.Concatenate()([e, layers.Flatten()(tv(t))])
    return keras.Model({"words": s, "text": t}, layers.Dense(2)(x))


@builder
def normalization_uint8():
    fresh(14)
    i = keras.Input((8, 8, 3), dtype="uint8", name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1)(i)
    norm = layers.Normalization(axis=-1)
    norm.adapt(np.random.RandomState(0).rand(10, 8, 8, 3).astype("float32"))
    x = norm(x)
    x = layers.Conv2D(3, 3)(x)
    x = layers.Resizing(4, 4)(x)
    x = layers.CenterCrop(2, 2)(x)
    return keras.Model(i, layers.Flatten()(x))


@builder
def augmentation_inactive():
    fresh(15)
    i = keras.Input((16, 16, 3))
    x = layers.RandomFlip("horizontal")(i)
    x = layers.RandomRotation(0.1)(x)
    x = layers.RandomZoom(0.1)(x)
    x = layers.RandomContrast(0.2)(x)
    x = layers.RandomTranslation(0.1, 0.1)(x)
    x = layers.Conv2D(2, 3)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(i, layers.Dense(2)(x))


@builder
def noise_regularizers():
    fresh(16)
    i = keras.Input((8, 8, 3))
    x = layers.GaussianNoise(0.1)(i)
    x = layers.Conv2D(4, 3)(x)
    x = layers.SpatialDropout2D(0.3)(x)
    x = layers.ActivityRegularization(l1=0.01, l2=0.02)(x)
    x = layers.Reshape((36, 4))(x)
    x = layers.SpatialDropout1D(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.AlphaDropout(0.2)(x)
    x = layers.GaussianDropout(0.1)(x)
    x = layers.Dense(3, kernel_regularizer="l2", activity_regularizer="l1")(x)
    return keras.Model(i, x)


@builder
def activation_layers():
    fresh(17)
    i = keras.Input((6, 5))
    a = layers.LeakyReLU(negative_slope=0.2)(i)
    b = layers.PReLU(shared_axes=[1])(i)
    c = layers.ELU(alpha=0.5)(i)
    d = layers.Softmax(axis=1)(i)
    e = layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.3)(i)
    f = layers.Activation("selu")(i)
    g = layers.Activation("log_softmax")(i)
    x = layers.Concatenate(axis=1)([a, b, c, d, e, f, g])
    return keras.Model(i, layers.Dense(2)(x))


@builder
def merge_layers():
    fresh(18)
    a = keras.Input((5,))
    b = keras.Input((5,))
    c = keras.Input((5,))
    outs = [
        layers.Minimum()([a, b, c]),
        layers.Maximum()([a, b]),
        layers.Average()([a, b, c]),
        layers.Subtract()([a, c]),
        layers.Multiply()([a, b, c]),
        layers.Dot(axes=1, normalize=True)([a, b]),
        layers.Dot(axes=(1, 1))([b, c]),
    ]
    return keras.Model([a, b, c], layers.Concatenate()(outs))


# ---------------------------------------------------------------- keras.ops
@builder
def ops_split_stack_take():
    fresh(19)
    i = keras.Input((6, 4))
    p1, p2, p3 = ops.split(i, 3, axis=1)
    s = ops.stack([p1, p3], axis=1)
    t = ops.take(i, [0, 2, 5], axis=1)
    w = ops.where(t > 0.0, t, ops.zeros_like(t))
    x = ops.concatenate(
        [ops.reshape(s, (-1, 16)), ops.reshape(w, (-1, 12)), ops.sum(p2, axis=1)], -1
    )
    return keras.Model(i, layers.Dense(2)(x))


@builder
def ops_einsum_matmul():
    fresh(20)
    a = keras.Input((4, 3))
    b = keras.Input((3, 5))
    m = ops.matmul(a, b)
    e = ops.einsum("bij,bjk->bik", a, b)
    t = ops.transpose(m, (0, 2, 1))
    g = ops.einsum("bik,bki->b", m, t)
    x = ops.concatenate([ops.reshape(m - e, (-1, 20)), ops.expand_dims(g, -1)], -1)
    y = layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")(x)
    return keras.Model([a, b], y)


@builder
def ops_topk_argmax():
    fresh(21)
    i = keras.Input((10,))
    x = layers.Dense(8)(i)
    vals, idx = ops.top_k(x, k=3)
    am = ops.argmax(x, axis=-1)
    oh = ops.one_hot(am, 8)
    return keras.Model(i, {"vals": vals, "idx": idx, "argmax": am, "onehot": oh * x})


@builder
def ops_slicing_misc():
    fresh(22)
    i = keras.Input((6, 8))
    a = i[:, 1:3, ::2]
    b = i[..., -1]
    c = ops.squeeze(ops.expand_dims(i[:, 0, :], 1), axis=1)
    d = ops.clip(c, -0.5, 0.5)
    n = ops.norm(i, axis=-1)
    n2 = ops.norm(i, ord=1, axis=(1, 2), keepdims=False)
    x = ops.concatenate([ops.reshape(a, (-1, 8)), b, d, n, ops.expand_dims(n2, -1)], -1)
    return keras.Model(i, x)


@builder
def ops_segment_sum():
    fresh(23)
    i = keras.Input((6,))
    ids = ops.convert_to_tensor(np.array([0, 0, 1, 2, 2, 2], dtype="int32"))
    t = ops.transpose(i)
    s = ops.segment_sum(t, ids, num_segments=3)
    s2 = ops.segment_max(t, ids, num_segments=3)
    x = ops.concatenate([ops.transpose(s), ops.transpose(s2)], -1)
    return keras.Model(i, x)


@builder
def constants_scalars():
    fresh(24)
    i = keras.Input((4,))
    x = i + np.array([1.0, 2.0, 3.0, 4.0], dtype="float32")
    x = 1.0 - x
    x = x / 3.0
    x = 2.0**x
    x = x * ops.convert_to_tensor(np.linspace(0, 1, 40).reshape(10, 4).astype("float32"))[3]
    big = ops.convert_to_tensor(np.arange(48, dtype="float32").reshape(4, 12))
    y = ops.matmul(x, big)
    y = ops.maximum(y, 0.5) // 2.0
    z = -i % 1.5
    return keras.Model(i, ops.concatenate([y, z, ops.abs(i) ** 0.5], -1))


# ---------------------------------------------------------------- graph shapes
@builder
def dict_inputs_unused_nested_outputs():
    fresh(25)
    a = keras.Input((3,), name="a")
    b = keras.Input((4,), name="b")
    c = keras.Input((2,), name="c_unused")
    x = layers.Dense(4)(a)
    y = layers.Dense(2)(layers.Concatenate()([x, b]))
    return keras.Model(
        {"b": b, "a": a, "c_unused": c},
        {"head": {"y": y, "x": [x, layers.Dense(1)(y)]}, "z": y},
    )


@builder
def same_tensor_twice_passthrough():
    fresh(26)
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    y = layers.Dense(2)(a)
    return keras.Model([a, b], [y, b, y, a])


@builder
def shared_layer_3x():
    fresh(27)
    ins = [keras.Input((8, 8, 3), name=f"img{k}") for k in range(3)]
    conv = layers.Conv2D(4, 3, activation="relu")
    dense = layers.Dense(2)
    feats = [dense(layers.GlobalAveragePooling2D()(conv(t))) for t in ins]
    x = layers.Add()(feats)
    return keras.Model(ins, [x] + feats)


@builder
def nested_functional_twice():
    fresh(28)
    ii = keras.Input((6,))
    inner = keras.Model(ii, layers.Dense(4, activation="tanh")(layers.Dense(5)(ii)), name="inner")
    a = keras.Input((6,))
    b = keras.Input((6,))
    x = inner(a)
    y = inner(b)
    z = inner(layers.Dense(6)(layers.Concatenate()([x, y])))
    return keras.Model([a, b], [z, layers.Subtract()([x, y])])


@builder
def seq_in_func_in_func():
    fresh(29)
    seq = keras.Sequential(
        [keras.Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(4)], name="seq"
    )
    mi = keras.Input((4,))
    mid = keras.Model(mi, layers.Add()([seq(mi), mi]), name="mid")
    oi = keras.Input((4,))
    outer_inner = keras.Model(oi, mid(mid(oi)), name="outer_inner")
    i = keras.Input((4,))
    return keras.Model(i, layers.Dense(1)(outer_inner(i)), name="outer")


@builder
def deep_chain_200():
    fresh(30)
    i = keras.Input((4,))
    x = i
    for _ in range(200):
        x = layers.Dense(4, activation="tanh")(x)
    return keras.Model(i, x)


@builder
def wide_fanout_30():
    fresh(31)
    i = keras.Input((6,))
    branches = [layers.Dense(2, activation="relu")(i) for _ in range(30)]
    x = layers.Concatenate()(branches)
    return keras.Model(i, layers.Dense(3)(x))


@builder
def residual_stages_auto():
    fresh(32)
    i = keras.Input((16, 16, 3))
    x = layers.Conv2D(4, 3, padding="same")(i)
    for stage, (depth, f) in enumerate([(1, 4), (3, 8), (2, 12)]):
        for blk in range(depth):
            s = 2 if blk == 0 and stage > 0 else 1
            y = layers.Conv2D(f, 3, strides=s, padding="same")(x)
            y = layers.BatchNormalization()(y)
            y = layers.Activation("relu")(y)
            y = layers.Conv2D(f, 3, padding="same")(y)
            sc = x if (s == 1 and x.shape[-1] == f) else layers.Conv2D(f, 1, strides=s)(x)
            x = layers.Activation("relu")(layers.Add()([y, sc]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(i, layers.Dense(3)(x))


@builder
def sequential_exotic():
    fresh(33)
    m = keras.Sequential(
        [
            keras.Input((10, 3)),
            layers.ZeroPadding1D(2),
            layers.Conv1D(4, 3, dilation_rate=2, groups=1),
            layers.UpSampling1D(2),
            layers.LocallyConnected1D(2, 3)
            if hasattr(layers, "LocallyConnected1D")
            else layers.Identity(),
            layers.SimpleRNN(4, return_sequences=True, unroll=True),
            layers.Cropping1D(1),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, use_bias=False),
        ],
        name="seqx",
    )
    return m


@builder
def conv2d_groups_dilation():
    fresh(34)
    i = keras.Input((12, 12, 4))
    x = layers.Conv2D(4, 3, groups=2, dilation_rate=2, padding="same")(i)
    x = layers.DepthwiseConv2D(3, depth_multiplier=3, strides=2)(x)
    x = layers.SeparableConv2D(4, 3, padding="same", depthwise_initializer="ones")(x)
    x = layers.Conv2DTranspose(2, 3, strides=2, output_padding=1)(x)
    x = layers.ZeroPadding2D(((1, 2), (0, 1)))(x)
    x = layers.Cropping2D(((0, 1), (2, 0)))(x)
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(i, x)


@builder
def variable_length_conv1d():
    fresh(35)
    i = keras.Input((None, 3))
    x = layers.Conv1D(4, 3, strides=2, padding="same")(i)
    x = layers.Conv1D(4, 3, strides=2)(x)
    x = layers.GRU(4, return_sequences=True)(x)
    x = layers.Dense(2)(x)
    return keras.Model(i, [x, ops.mean(x, axis=1)])


@builder
def masking_layer():
    fresh(36)
    i = keras.Input((5, 3))
    x = layers.Masking(mask_value=0.0)(i)
    x = layers.LSTM(4, return_sequences=True)(x)
    x = layers.Dense(3)(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(i, x)


# ---------------------------------------------------------------- hostile names
@builder
def hostile_quotes_unicode():
    fresh(37)
    i = keras.Input((4,), name="in'put\"x")
    x = layers.Dense(3, name="d\"q'1")(i)
    x = layers.Dense(3, name="back\\slash\\n")(x)
    x = layers.Dense(3, name="üñïçødé_层")(x)
    x = layers.Dense(3, name="tab\tnew{x}")(x)
    y = layers.Dense(2, name="'''")(x)
    return keras.Model(i, {"o'ut": y, 'o"2': x}, name="m'\"\\")


@builder
def keyword_builtin_names():
    fresh(38)
    i = keras.Input((4,), name="inputs")
    t = keras.Input((4,), name="training")
    x = layers.Dense(3, name="class")(i)
    y = layers.Dense(3, name="print")(t)
    z = layers.Add(name="self")([x, y])
    z = layers.Dense(3, name="tf")(z)
    z = layers.Dense(3, name="super")(z)
    z = layers.Dense(3, name="keras")(z)
    z = layers.Dense(3, name="layers")(z)
    z = layers.Dense(3, name="None")(z)
    z = layers.Dense(3, name="call")(z)
    z = layers.Dense(2, name="build")(z)
    return keras.Model([i, t], {"outputs": z, "x": x}, name="tf")


@builder
def dotted_slashed_names():
    fresh(39)
    i = keras.Input((4,), name="in.put")
    x = layers.Dense(3, name="block.1.dense")(i)
    x = layers.Dense(3, name="a-b c")(x)
    x = layers.Dense(3, name="1leading_digit")(x)
    x = layers.Dense(3, name="__dunder__")(x)
    try:
        x = layers.Dense(3, name="a/b")(x)
    except Exception:
        pass
    return keras.Model(i, x, name="model.v2")


@builder
def hostile_names_in_blocks():
    fresh(40)
    i = keras.Input((8,))
    x = i
    for n in ["self", "x", "shortcut", "training"]:
        y = layers.Dense(8, activation="relu", name=f"{n}")(x)
        y = layers.Dense(8, name=f"{n}_2")(y)
        x = layers.Add(name=f"{n}_add")([x, y])
    return keras.Model(i, layers.Dense(2, name="inputs")(x), name="self")


# ---------------------------------------------------------------- dtypes
@builder
def int_bool_inputs():
    fresh(41)
    ids = keras.Input((5,), dtype="int64", name="ids")
    flags = keras.Input((5,), dtype="bool", name="flags")
    small = keras.Input((3,), dtype="int32", name="small")
    e = layers.Embedding(10, 4)(ids)
    e = ops.where(ops.expand_dims(flags, -1), e, -e)
    x = layers.Flatten()(e)
    s = ops.cast(small, "float32") * 0.5
    return keras.Model([ids, flags, small], layers.Dense(2)(ops.concatenate([x, s], -1)))


@builder
def mixed_float16_some_layers():
    fresh(42)
    i = keras.Input((8,))
    x = layers.Dense(6, dtype="mixed_float16")(i)
    x = layers.LayerNormalization(dtype="mixed_float16")(x)
    x = layers.Dense(6, dtype="float16")(x)
    x = layers.Activation("relu", dtype="float32")(x)
    x = layers.Dense(2, dtype="float32")(x)
    return keras.Model(i, x)


@builder
def mixed_float16_global():
    fresh(43)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        i = keras.Input((8, 8, 3))
        x = layers.Conv2D(4, 3)(i)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(3)(x)
        x = layers.Activation("softmax", dtype="float32")(x)
        return keras.Model(i, x)
    finally:
        keras.mixed_precision.set_global_policy("float32")


@builder
def bf16_and_float64():
    fresh(44)
    i = keras.Input((6,), dtype="float64")
    x = layers.Dense(4, dtype="float64")(i)
    x = layers.Dense(4, dtype="bfloat16")(x)
    x = layers.Dense(2)(x)
    return keras.Model(i, x)


@builder
def mha_attention_axes_2d():
    fresh(45)
    i = keras.Input((4, 4, 6))
    x = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2), output_shape=(5,))(i, i)
    x = layers.LayerNormalization()(x)
    return keras.Model(i, layers.GlobalAveragePooling2D()(x))


@builder
def repeated_seq_blocks_different_widths():
    fresh(46)
    i = keras.Input((6,))
    x = i
    for k, w in enumerate([4, 8, 8, 16]):
        blk = keras.Sequential(
            [layers.Dense(w, activation="relu"), layers.Dense(w)], name=f"blk{k}"
        )
        x = blk(x)
    return keras.Model(i, x)


# ---------------------------------------------------------------- batch 2
@builder
def ops_more_positional():
    fresh(47)
    i = keras.Input((4, 6))
    a = ops.pad(i, [[0, 0], [1, 2], [0, 0]], constant_values=0.5)
    b = ops.tile(i[:, :1], (1, 4, 1))
    c = ops.repeat(i[:, :, :3], 2, axis=-1)
    d = (
        ops.cumsum(i, axis=1, reverse=True)
        if "reverse" in ops.cumsum.__code__.co_varnames
        else ops.cumsum(i, axis=1)
    )
    e = ops.moveaxis(ops.swapaxes(i, 1, 2), 1, 2)
    f = ops.logsumexp(i, axis=-1, keepdims=True)
    g = ops.sort(i, axis=-1)
    h = ops.tril(ops.matmul(i, ops.transpose(i, (0, 2, 1))))
    x = ops.concatenate([a[:, :4], b, c[..., :6] + d + e + f + g, h[..., :1] * i], axis=2)
    return keras.Model(i, x)


@builder
def ops_constants_generated():
    fresh(48)
    i = keras.Input((5, 5))
    x = i + ops.eye(5)
    x = x * ops.arange(5, dtype="float32")
    x = ops.triu(x, k=1) - ops.ones((5, 5)) * 0.1
    y = ops.average(x, axis=1, weights=ops.linspace(0.1, 1.0, 5))
    return keras.Model(i, ops.concatenate([ops.reshape(x, (-1, 25)), y], -1))


@builder
def ops_nn_image():
    fresh(49)
    i = keras.Input((8, 8, 2))
    a = ops.image.resize(i, (4, 4), interpolation="nearest")
    b = ops.nn.gelu(a, approximate=False)
    c = ops.nn.softmax(b, axis=(1, 2)) if False else ops.nn.softmax(b, axis=1)
    d = ops.max_pool(i, 2, strides=2, padding="valid")
    k = ops.convert_to_tensor(np.ones((3, 3, 2, 3), dtype="float32") / 9.0)
    e = ops.conv(a, k, padding="same")
    p = ops.image.extract_patches(i, 2)
    x = ops.concatenate([c, d, e, p[..., :2]], -1)
    return keras.Model(i, x)


@builder
def ops_bool_logic():
    fresh(50)
    i = keras.Input((6,))
    m = keras.Input((6,), dtype="bool", name="m")
    pos = ops.greater(i, 0.0)
    both = ops.logical_and(pos, m)
    either = ops.logical_or(ops.logical_not(pos), m)
    x = ops.where(both, i, ops.zeros_like(i)) + ops.cast(either, "float32")
    y = ops.sum(ops.cast(ops.logical_xor(pos, m), "int32"), axis=-1)
    z = ops.any(both, axis=-1)
    return keras.Model([i, m], [x, y, z])


@builder
def float64_conv():
    fresh(51)
    i = keras.Input((8, 8, 2), dtype="float64")
    x = layers.Conv2D(3, 3, dtype="float64")(i)
    x = layers.BatchNormalization(dtype="float64")(x)
    x = layers.GlobalAveragePooling2D(dtype="float64")(x)
    return keras.Model(i, layers.Dense(2, dtype="float64")(x))


@builder
def dense_lora():
    fresh(52)
    i = keras.Input((6,))
    d = layers.Dense(4)
    x = d(i)
    d.enable_lora(2)
    e = layers.Embedding(10, 3)
    j = keras.Input((2,), dtype="int32")
    y = e(j)
    e.enable_lora(2)
    return keras.Model([i, j], [x, layers.Flatten()(y)])


@builder
def quantized_int8():
    fresh(53)
    i = keras.Input((6,))
    x = layers.Dense(8, activation="relu")(i)
    x = layers.Dense(4)(x)
    m = keras.Model(i, x)
    m.quantize("int8")
    return m


@builder
def preprocessing_adapted():
    fresh(54)
    rng = np.random.RandomState(0)
    f = keras.Input((3,), name="f")
    ids = keras.Input((2,), dtype="int64", name="ids")
    s = keras.Input((2,), dtype="string", name="s")
    disc = layers.Discretization(num_bins=4)
    disc.adapt(rng.randn(50, 3).astype("float32"))
    il = layers.IntegerLookup(output_mode="multi_hot")
    il.adapt(np.array([[1, 2], [2, 5], [9, 9]]))
    sl = layers.StringLookup(output_mode="tf_idf")
    sl.adapt(np.array([["x", "y"], ["y", "z"], ["q", "y"]]))
    hc = layers.HashedCrossing(num_bins=5, output_mode="one_hot")
    hs = layers.Hashing(num_bins=4, salt=7, output_mode="count")
    norm = layers.Normalization(mean=[0.5, 1.0, -1.0], variance=[1.0, 4.0, 0.25])
    x = layers.Concatenate()(
        [ops.cast(disc(f), "float32"), il(ids), sl(s), hc((ids[:, 0], ids[:, 1])), hs(ids), norm(f)]
    )
    return keras.Model({"f": f, "ids": ids, "s": s}, layers.Dense(2)(x))


@builder
def text_vectorization_int():
    fresh(55)
    t = keras.Input((1,), dtype="string")
    tv = layers.TextVectorization(
        max_tokens=20, output_sequence_length=6, ngrams=2, standardize="lower"
    )
    tv.adapt(["The Cat sat", "the dog ran Fast", "A cat and a dog"])
    x = layers.Embedding(20, 4, mask_zero=True)(tv(t))
    x = layers.GRU(3)(x)
    return keras.Model(t, x)


@builder
def fixed_batch_and_sparse():
    fresh(56)
    i = keras.Input(batch_shape=(4, 5), name="fixed")
    sp = keras.Input((6,), sparse=True, name="sp")
    x = layers.Dense(3)(i)
    y = layers.Dense(3)(sp)
    return keras.Model([i, sp], layers.Add()([x, y]))


@builder
def output_also_consumed():
    fresh(57)
    i = keras.Input((4,))
    h1 = layers.Dense(4, name="h1")(i)
    h2 = layers.Dense(4, name="h2")(h1)
    h3 = layers.Dense(4, name="h3")(layers.Add()([h1, h2]))
    return keras.Model(i, [h3, h1, h2, h1])


@builder
def names_colliding_after_sanitize():
    fresh(58)
    i = keras.Input((4,))
    x = layers.Dense(3, name="a-b")(i)
    x = layers.Dense(3, name="a_b")(x)
    x = layers.Dense(3, name="a b")(x)
    x = layers.Dense(3, name="A_B")(x)
    x = layers.Dense(3, name="a.b")(x)
    x = layers.Dense(3)(x)
    x = layers.Dense(3, name="dense_7")(x)
    x = layers.Dense(3, name="x" * 200)(x)
    x = layers.Dense(3, name="line\nbreak")(x)
    return keras.Model(i, x, name="")


@builder
def channels_first_convs():
    fresh(59)
    i = keras.Input((2, 8, 8))
    x = layers.Conv2D(3, 3, data_format="channels_first", padding="same")(i)
    x = layers.MaxPooling2D(data_format="channels_first")(x)
    x = layers.BatchNormalization(axis=1)(x)
    x = layers.UpSampling2D(data_format="channels_first")(x)
    x = layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    return keras.Model(i, x)


@builder
def dropout_variants_mc():
    fresh(60)
    i = keras.Input((5, 4))
    x = layers.Dropout(0.3, noise_shape=(None, 1, 4))(i)
    x = layers.Dense(4)(x)
    x = layers.Dropout(0.2)(x, training=True)
    x = layers.BatchNormalization()(x, training=False)
    x = layers.LSTM(3, dropout=0.1, recurrent_dropout=0.1)(x)
    return keras.Model(i, x)


@builder
def constraints_initializers():
    fresh(61)
    i = keras.Input((6,))
    x = layers.Dense(
        4,
        kernel_initializer=keras.initializers.Orthogonal(gain=0.5, seed=3),
        bias_initializer=keras.initializers.Constant(0.1),
        kernel_constraint=keras.constraints.MaxNorm(2.0),
        bias_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.001),
    )(i)
    x = layers.Dense(
        4, kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "uniform")
    )(x)
    x = layers.Dense(
        4, kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "uniform")
    )(x)
    x = layers.Dense(
        4, kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "uniform")
    )(x)
    return keras.Model(i, x)


@builder
def nested_model_multi_io():
    fresh(62)
    a0 = keras.Input((3,), name="p")
    b0 = keras.Input((3,), name="q")
    inner = keras.Model(
        {"p": a0, "q": b0}, {"s": layers.Add()([a0, b0]), "d": layers.Dense(2)(a0)}, name="inner"
    )
    a = keras.Input((3,))
    b = keras.Input((3,))
    o = inner({"p": a, "q": b})
    o2 = inner({"p": o["s"], "q": a})
    return keras.Model([a, b], [o["d"], o2["d"], o2["s"]])


@builder
def ops_topk_in_block_loop():
    fresh(63)
    i = keras.Input((8,))
    x = i
    for _ in range(3):
        y = layers.Dense(8)(x)
        v, _idx = ops.top_k(y, k=8)
        x = layers.Add()([x, v])
    return keras.Model(i, x)


@builder
def einsum_dense_variants():
    fresh(64)
    i = keras.Input((4, 6))
    x = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")(i)
    x = layers.Reshape((4, 6))(x)
    y = layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), activation="relu")(x)
    return keras.Model(i, y)
