"""Models used by the golden and numeric tests: small, seeded, every layer named.

Each builder returns a built Keras model. ``keras.backend.clear_session()`` runs before
each build (see ``build_case``), so automatic names are stable too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import layers, ops

CASES: dict[str, Callable[[], Any]] = {}


def case(fn: Callable[[], Any]) -> Callable[[], Any]:
    CASES[fn.__name__] = fn
    return fn


def build_case(name: str) -> Any:
    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    return CASES[name]()


@case
def sequential_mlp():
    return keras.Sequential(
        [
            keras.Input((20,), name="features"),
            layers.Dense(64, activation="relu", name="fc1"),
            layers.BatchNormalization(name="bn1"),
            layers.Dropout(0.3, name="drop1"),
            layers.Dense(32, activation="relu", name="fc2"),
            layers.Dropout(0.3, name="drop2"),
            layers.Dense(10, name="logits"),
        ],
        name="mlp",
    )


@case
def cnn():
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.Conv2D(16, (3, 3), strides=(2, 2), use_bias=False, name="conv2")(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name="bn2")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="cnn")


@case
def dict_io():
    user = keras.Input((1,), dtype="int32", name="user-id")
    klass = keras.Input((4,), name="class")
    history = keras.Input((6,), name="history")
    u = layers.Flatten(name="flatten")(layers.Embedding(50, 8, name="user_embedding")(user))
    h = layers.Dense(8, activation="tanh", name="history_dense")(history)
    merged = layers.Concatenate(name="merge")([u, klass, h])
    hidden = layers.Dense(16, activation="relu", name="hidden")(merged)
    return keras.Model(
        {"user-id": user, "class": klass, "history": history},
        {
            "score": layers.Dense(1, name="score")(hidden),
            "class": layers.Dense(3, name="klass")(hidden),
        },
        name="recommender",
    )


@case
def shared_layer():
    left = keras.Input((12,), name="left")
    right = keras.Input((12,), name="right")
    encoder = layers.Dense(8, activation="relu", name="shared_encoder")
    a, b = encoder(left), encoder(right)
    distance = layers.Subtract(name="difference")([a, b])
    out = layers.Dense(1, activation="sigmoid", name="similarity")(
        layers.Multiply(name="product")([distance, distance])
    )
    return keras.Model([left, right], out, name="siamese")


@case
def nested_sequential():
    block = keras.Sequential(
        [
            keras.Input((16,)),
            layers.Dense(16, activation="gelu", name="inner_dense"),
            layers.LayerNormalization(name="inner_norm"),
        ],
        name="block",
    )
    inputs = keras.Input((16,), name="x")
    x = block(inputs)
    x = layers.Add(name="residual")([x, inputs])
    return keras.Model(inputs, layers.Dense(4, name="head")(x), name="with_block")


@case
def nested_functional_twice():
    tower_in = keras.Input((10,), name="tower_in")
    t = layers.Dense(12, activation="relu", name="tower_dense")(tower_in)
    t = layers.Dropout(0.1, name="tower_dropout")(t)
    tower = keras.Model(tower_in, layers.Dense(6, name="tower_out")(t), name="tower")
    query = keras.Input((10,), name="query")
    doc = keras.Input((10,), name="doc")
    q, d = tower(query), tower(doc)
    score = layers.Dot(axes=1, normalize=True, name="cosine")([q, d])
    return keras.Model([query, doc], score, name="two_tower")


@case
def ops_graph():
    inputs = keras.Input((6, 8), name="sequence")
    x = layers.Dense(8, name="proj")(inputs)
    last = x[:, -1]
    first = x[:, 0, :4]
    scaled = (last * 2.0 - 1.0) / 3.0
    both = ops.concatenate([scaled, ops.mean(x, axis=1)], axis=-1)
    gated = ops.sigmoid(both) * -both
    expanded = ops.expand_dims(first, axis=1)
    flat = ops.reshape(expanded, (-1, 4))
    return keras.Model(inputs, [gated, flat**2], name="ops_model")


@case
def masked_bilstm():
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    x = layers.Embedding(30, 8, mask_zero=True, name="embed")(tokens)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True, name="lstm"), name="bilstm")(x)
    x = layers.GRU(5, name="gru")(x)
    return keras.Model(tokens, layers.Dense(2, name="out")(x), name="tagger")


@case
def attention_block():
    inputs = keras.Input((10, 16), name="tokens")
    attn = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1, name="mha")(
        inputs, inputs
    )
    x = layers.LayerNormalization(epsilon=1e-6, name="ln1")(layers.Add(name="add1")([inputs, attn]))
    ff = layers.Dense(32, activation="relu", name="ff1")(x)
    ff = layers.Dense(16, name="ff2")(ff)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln2")(layers.Add(name="add2")([x, ff]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    return keras.Model(inputs, layers.Dense(3, name="logits")(x), name="transformer_block")


@case
def regularized():
    inputs = keras.Input((8,), name="x")
    x = layers.Dense(
        16,
        kernel_initializer=keras.initializers.HeNormal(seed=7),
        bias_initializer=keras.initializers.Constant(0.1),
        kernel_regularizer=keras.regularizers.L2(1e-4),
        activity_regularizer=keras.regularizers.L1(1e-5),
        kernel_constraint=keras.constraints.MaxNorm(3.0),
        name="dense_reg",
    )(inputs)
    x = layers.Dense(4, kernel_initializer="lecun_uniform", use_bias=False, name="dense_plain")(x)
    return keras.Model(inputs, x, name="regularized")


@case
def hostile_names():
    # TensorFlow only runs layers whose names match ^[A-Za-z0-9_.\\/>-]*$; input names and
    # output keys may hold anything. test_naming.py covers quotes in layer names.
    canary = "x\\n'); open('PWNED', 'w'); ('"
    a = keras.Input((3,), name=canary)
    b = keras.Input((3,), name="class")
    x = layers.Dense(4, name="1st-layer")(a)
    y = layers.Dense(4, name="layers")(b)
    z = layers.Dense(4, name="weights")(b)
    w = layers.Dense(4, name="__init__")(b)
    s = layers.Add(name="input")([x, y, z, w])
    t = layers.Dense(2, name="Input")(s)
    return keras.Model({canary: a, "class": b}, {"def": s, "a-b.c": t}, name="self")


@case
def mc_dropout():
    inputs = keras.Input((5,), name="x")
    x = layers.Dense(8, name="dense")(inputs)
    x = layers.Dropout(0.5, name="always_on")(x, training=True)
    return keras.Model(inputs, layers.Dense(1, name="out")(x), name="mc_dropout")


@case
def repeated_blocks():
    """A residual block written out six times in two stages, every layer named by Keras
    itself: structure recovery must find the block, its widths and strides, and the
    stage's shortcut convolution, without names to help."""
    inputs = keras.Input((12, 12, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    for stage, (filters, depth) in enumerate([(8, 3), (16, 3)]):
        for index in range(depth):
            strides = 2 if stage > 0 and index == 0 else 1
            shortcut = x
            if index == 0 and stage > 0:
                shortcut = layers.Conv2D(filters, 1, strides=strides)(x)
                shortcut = layers.BatchNormalization()(shortcut)
            y = layers.Conv2D(filters, 3, strides=strides, padding="same")(x)
            y = layers.BatchNormalization()(y)
            y = layers.ReLU()(y)
            y = layers.Conv2D(filters, 3, padding="same")(y)
            y = layers.BatchNormalization()(y)
            y = layers.Dropout(0.1)(y)
            x = layers.Add()([shortcut, y])
            x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(5)(x)
    return keras.Model(inputs, outputs, name="repeated_blocks")
