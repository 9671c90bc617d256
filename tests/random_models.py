"""Random Functional models for property-based tests.

A Hypothesis strategy draws a *recipe* (plain data: inputs, a list of steps, outputs);
``build_model`` turns a recipe into a Keras model deterministically. Recipes print as
plain Python, so a failing example (shrunk by Hypothesis) can be pasted into
``tests/test_robustness.py`` as a regression case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from hypothesis import strategies as st
from keras import layers, ops

# Tensor kinds and their fixed shapes (without batch): "tok" are token ids, "cat" one
# categorical id, "str" one categorical string (structured data: wide & deep).
SHAPES = {"vec": (6,), "seq": (5, 4), "img": (8, 8, 3), "tok": (5,), "cat": (1,), "str": (1,)}
DTYPES = {"tok": "int32", "cat": "int64", "str": "string"}
VOCAB = 12
# Every string lookup draws from these words, so one input can feed several: a lookup
# without OOV indices (which refuses other words) gets them all.
WORDS = ("red", "green", "blue", "cyan", "plum", "teal")

UNARY = {
    "vec": [
        "repeated_block",
        "staged_blocks",
        "dense",
        "dense_relu",
        "batchnorm",
        "layernorm",
        "dropout",
        "activation_tanh",
        "op_scale",
        "op_negative",
        "op_add_const",
        "op_add_array",
        "op_square",
        "gaussian_noise",
        "shared_dense",
        "nested_sequential",
        "fresh_sequential",
        "nested_functional",
        "reshape_seq",
        "repeat_vector",
        "unit_norm",
        "leaky_relu",
        "prelu",
        "softmax",
    ],
    "seq": [
        "repeated_block",
        "conv1d",
        "lstm_seq",
        "lstm_last",
        "gru_seq",
        "bilstm",
        "time_distributed",
        "self_attention",
        "gap1d",
        "flatten",
        "permute",
        "slice_last",
        "op_mean",
        "layernorm",
        "dropout",
        "maxpool1d_same",
        "op_scale",
        "spatial_dropout1d",
    ],
    "img": [
        "repeated_block",
        "staged_blocks",
        "conv2d",
        "conv2d_strided",
        "maxpool2d",
        "batchnorm",
        "gap2d",
        "flatten",
        "depthwise",
        "separable",
        "upsample_then_pool",
        "zero_pad_crop",
        "reverse_channels",
        "op_subtract_mean",
    ],
    "tok": ["embedding", "embedding_masked"],
    "cat": ["integer_lookup", "integer_lookup_embed", "category_encoding", "hashing"],
    "str": ["string_lookup", "string_lookup_embed", "hashing", "text_vectorization"],
}
BINARY = ["add", "multiply", "subtract", "concatenate", "op_concatenate", "average", "maximum"]


@dataclass(frozen=True)
class Recipe:
    inputs: tuple[str, ...]  # kinds
    steps: tuple[tuple[str, int, int, int], ...]  # (op, operand a, operand b, variant)
    outputs: tuple[int, ...]
    structure: str  # "single", "list", "dict"


@st.composite
def recipes(draw: Any, max_steps: int = 10) -> Recipe:
    inputs = tuple(draw(st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=3)))
    kinds = list(inputs)
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        if len(kinds) >= 2 and draw(st.integers(0, 4)) == 0:
            op = draw(st.sampled_from(BINARY))
            a = draw(st.integers(0, len(kinds) - 1))
            b = draw(st.integers(0, len(kinds) - 1))
            steps.append((op, a, b, draw(st.integers(0, 3))))
            kinds.append(_binary_kind(kinds, a, b))
        else:
            a = draw(st.integers(0, len(kinds) - 1))
            op = draw(st.sampled_from(UNARY[kinds[a]]))
            steps.append((op, a, a, draw(st.integers(0, 3))))
            kinds.append(_unary_kind(op, kinds[a]))
    low = len(inputs) if len(kinds) > len(inputs) else 0
    count = draw(st.integers(1, min(3, len(kinds) - low)))
    outputs = tuple(
        draw(
            st.lists(st.integers(low, len(kinds) - 1), min_size=count, max_size=count, unique=True)
        )
    )
    shapes = ["single", "list", "dict"] if len(outputs) == 1 else ["list", "dict"]
    structure = draw(st.sampled_from(shapes))
    return Recipe(inputs, tuple(steps), outputs, structure)


def _unary_kind(op: str, kind: str) -> str:
    if op in ("embedding", "embedding_masked", "reshape_seq", "repeat_vector"):
        return "seq"
    if op in ("lstm_last", "gap1d", "flatten", "slice_last", "op_mean", "gap2d"):
        return "vec"
    if kind in ("cat", "str"):  # every lookup and encoding gives a float vector
        return "vec"
    return kind


def _binary_kind(kinds: list[str], a: int, b: int) -> str:
    # Ids and strings are embedded first (``_float``): tokens give a float sequence,
    # a categorical id or string a vector.
    return {"tok": "seq", "cat": "vec", "str": "vec"}.get(kinds[a], kinds[a])


class _Builder:
    def __init__(self) -> None:
        self.count = 0
        self.shared: dict[int, Any] = {}
        self.nested: Any = None
        self.nested_functional: Any = None

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}{self.count}"  # never one of Keras's own names (``dense_1``)

    def repeated_block(self, x: Any, variant: int) -> Any:
        """The same small block ``2 + variant % 3`` times, its layers named by Keras
        itself (``dense_3``, ``layer_normalization_1``): structure recovery must find it
        without names to help. Odd variants widen the block each time, so every instance
        projects its shortcut and the widths become a parameter."""
        conv = len(x.shape) == 4
        for index in range(2 + variant % 3):
            width = x.shape[-1] + index if variant % 2 else x.shape[-1]
            if conv:
                y = layers.Conv2D(width, 3, padding="same")(x)
                y = layers.BatchNormalization()(y)
            else:
                y = layers.Dense(width)(x)
                y = layers.LayerNormalization()(y)
            y = layers.Dropout(0.1)(y)
            shortcut = x
            if width != x.shape[-1]:
                shortcut = layers.Conv2D(width, 1)(x) if conv else layers.Dense(width)(x)
            x = layers.Add()([shortcut, y])
            x = layers.Activation("relu")(x)
        return x

    def staged_blocks(self, x: Any, variant: int) -> Any:
        """DenseNet's layout, small: ``3 + variant % 2`` stages of two or three dense
        blocks (each concatenates a narrow branch to its input, as DenseNet's
        ``conv_block``) with a transition between each two (normalization, ReLU, a layer
        halving the width, and for images pooling). Names made up by Keras on even
        variants, DenseNet's own scheme on odd ones."""
        conv = len(x.shape) == 4

        def name(text: str) -> str | None:
            return f"s{self.count}_{text}" if variant % 2 else None

        self.count += 1
        for stage in range(3 + variant % 2):
            if stage:
                x = layers.BatchNormalization(name=name(f"pool{stage}_bn"))(x)
                x = layers.Activation("relu", name=name(f"pool{stage}_relu"))(x)
                width = max(1, x.shape[-1] // 2)
                if conv:
                    x = layers.Conv2D(width, 1, use_bias=False, name=name(f"pool{stage}_conv"))(x)
                    x = layers.AveragePooling2D(2, padding="same", name=name(f"pool{stage}_pool"))(
                        x
                    )
                else:
                    x = layers.Dense(width, use_bias=False, name=name(f"pool{stage}_dense"))(x)
            for index in range(2 + (stage + variant) % 2):
                block = f"conv{stage}_block{index}"
                y = x
                for part, width in enumerate((8, 2)):
                    y = layers.BatchNormalization(name=name(f"{block}_{part}_bn"))(y)
                    y = layers.Activation("relu", name=name(f"{block}_{part}_relu"))(y)
                    if conv:
                        y = layers.Conv2D(
                            width,
                            3 if part else 1,
                            padding="same",
                            name=name(f"{block}_{part}_conv"),
                        )(y)
                    else:
                        y = layers.Dense(width, name=name(f"{block}_{part}_dense"))(y)
                x = layers.Concatenate(name=name(f"{block}_concat"))([x, y])
        return x

    def unary(self, op: str, x: Any, variant: int) -> Any:
        n = self.name
        last = x.shape[-1]
        if op == "repeated_block":
            return self.repeated_block(x, variant)
        if op == "staged_blocks":
            return self.staged_blocks(x, variant)
        if op == "dense":
            return layers.Dense(4 + variant, name=n("dense"))(x)
        if op == "dense_relu":
            return layers.Dense(6, activation="relu", use_bias=variant % 2 == 0, name=n("dense"))(x)
        if op == "batchnorm":
            return layers.BatchNormalization(
                momentum=0.9, epsilon=1e-3 * (1 + variant), name=n("bn")
            )(x)
        if op == "layernorm":
            return layers.LayerNormalization(name=n("ln"))(x)
        if op == "dropout":
            return layers.Dropout(0.1 * (1 + variant), name=n("dropout"))(x)
        if op == "activation_tanh":
            return layers.Activation(["tanh", "gelu", "swish", "sigmoid"][variant], name=n("act"))(
                x
            )
        if op == "op_scale":
            return x * (2.0 + variant)
        if op == "op_negative":
            return -x
        if op == "op_add_const":
            return ops.add(x, 1.0 + variant)
        if op == "op_add_array":  # a captured constant: inline, or a module constant
            if variant % 2:  # a matrix: more values than fit in place
                matrix = (np.eye(last) * 0.5 + 0.1 * variant).astype("float32")
                return ops.matmul(x, matrix)
            return x + ops.convert_to_tensor(np.linspace(-1.0, 1.0, last).astype("float32"))
        if op == "reverse_channels":
            return x[..., ::-1]
        if op == "op_subtract_mean":  # as keras.applications' preprocess_input does
            means = np.linspace(-0.5, 1.0 + variant, last).astype("float32")
            return ops.subtract(x, means)
        if op == "op_square":
            return ops.square(x) if variant % 2 else x**2
        if op == "gaussian_noise":
            return layers.GaussianNoise(0.1, name=n("noise"))(x)
        if op == "shared_dense":
            layer = self.shared.get(last)
            if layer is None:
                layer = self.shared[last] = layers.Dense(last, name=n("shared"))
            return layer(x)
        if op == "nested_sequential":
            if self.nested is None or self.nested.inputs[0].shape[-1] != last:
                self.nested = keras.Sequential(
                    [
                        keras.Input((last,)),
                        layers.Dense(5, name=n("inner")),
                        layers.Dropout(0.2, name=n("inner_drop")),
                    ],
                    name=n("seq_block"),
                )
            return self.nested(x)
        if op == "fresh_sequential":
            # A new look-alike nested model each time (ConvNeXt's downsampling blocks):
            # written out as tf.keras.Sequential, or one block class when that is shorter.
            stack = [layers.LayerNormalization(name=n("stack_norm"))]
            stack += [layers.Dense(4, activation="relu", name=n("stack_mid"))] * (variant % 2)
            stack.append(layers.Dense(3 + variant, name=n("stack_out")))
            return keras.Sequential(stack, name=n("stack"))(x)
        if op == "nested_functional":
            if self.nested_functional is None or self.nested_functional.inputs[0].shape[-1] != last:
                inner_in = keras.Input((last,), name=n("sub_in"))
                h = layers.Dense(3, activation="relu", name=n("sub_dense"))(inner_in)
                self.nested_functional = keras.Model(
                    inner_in, layers.Add(name=n("sub_add"))([h, h * 0.5]), name=n("sub_model")
                )
            return self.nested_functional(x)
        if op == "reshape_seq":
            return layers.Reshape((last, 1), name=n("reshape"))(x)
        if op == "repeat_vector":
            return layers.RepeatVector(3, name=n("repeat"))(x)
        if op == "unit_norm":
            return layers.UnitNormalization(name=n("unitnorm"))(x)
        if op == "leaky_relu":
            return layers.LeakyReLU(negative_slope=0.1 * (1 + variant), name=n("leaky"))(x)
        if op == "prelu":
            return layers.PReLU(name=n("prelu"))(x)
        if op == "softmax":
            return layers.Softmax(name=n("softmax"))(x)
        if op == "conv1d":
            return layers.Conv1D(4, 2 + variant % 2, padding="same", name=n("conv1d"))(x)
        if op == "lstm_seq":
            return layers.LSTM(4, return_sequences=True, name=n("lstm"))(x)
        if op == "lstm_last":
            return layers.LSTM(3, name=n("lstm"))(x)
        if op == "gru_seq":
            return layers.GRU(
                4, return_sequences=True, reset_after=variant % 2 == 0, name=n("gru")
            )(x)
        if op == "bilstm":
            return layers.Bidirectional(
                layers.LSTM(2, return_sequences=True),
                merge_mode=["concat", "sum", "ave", "mul"][variant],
                name=n("bilstm"),
            )(x)
        if op == "time_distributed":
            return layers.TimeDistributed(layers.Dense(3), name=n("td"))(x)
        if op == "self_attention":
            return layers.MultiHeadAttention(num_heads=2, key_dim=2, name=n("mha"))(x, x)
        if op == "gap1d":
            return layers.GlobalAveragePooling1D(name=n("gap1d"))(x)
        if op == "flatten":
            return layers.Flatten(name=n("flatten"))(x)
        if op == "permute":
            return layers.Permute((2, 1), name=n("permute"))(x)
        if op == "slice_last":
            return x[:, -1]
        if op == "op_mean":
            return ops.mean(x, axis=1)
        if op == "maxpool1d_same":
            return layers.MaxPooling1D(2, strides=1, padding="same", name=n("pool1d"))(x)
        if op == "spatial_dropout1d":
            return layers.SpatialDropout1D(0.2, name=n("sdrop"))(x)
        if op == "conv2d":
            return layers.Conv2D(4, 3, padding="same", activation="relu", name=n("conv2d"))(x)
        if op == "conv2d_strided":
            return layers.Conv2D(3, 2, strides=2, padding="same", name=n("conv2d"))(x)
        if op == "maxpool2d":
            return layers.MaxPooling2D(pool_size=3, strides=1, padding="same", name=n("pool2d"))(x)
        if op == "gap2d":
            return layers.GlobalAveragePooling2D(name=n("gap2d"))(x)
        if op == "depthwise":
            return layers.DepthwiseConv2D(3, padding="same", name=n("dw"))(x)
        if op == "separable":
            return layers.SeparableConv2D(4, 3, padding="same", name=n("sep"))(x)
        if op == "upsample_then_pool":
            return layers.AveragePooling2D(2, name=n("avgpool"))(
                layers.UpSampling2D(2, name=n("up"))(x)
            )
        if op == "zero_pad_crop":
            return layers.Cropping2D(1, name=n("crop"))(layers.ZeroPadding2D(1, name=n("pad"))(x))
        if op == "embedding":
            return layers.Embedding(VOCAB, 4, name=n("embed"))(x)
        if op == "embedding_masked":
            return layers.Embedding(VOCAB, 4, mask_zero=True, name=n("embed"))(x)
        return self.categorical(op, x, variant)

    def categorical(self, op: str, x: Any, variant: int) -> Any:
        """Adapted lookups and encodings of one id or string per sample: the layers
        whose state lives outside their config (vocabularies, idf weights)."""
        n = self.name
        strings = x.dtype == "string"
        # No "one_hot" for lookups: on one id per sample Keras's symbolic shape keeps the
        # 1 that the computed tensor drops, so the original model cannot run.
        modes = ["multi_hot", "count", "tf_idf", "multi_hot"]
        if op in ("integer_lookup", "string_lookup"):
            lookup = layers.StringLookup if strings else layers.IntegerLookup
            layer = lookup(
                num_oov_indices=0 if variant == 0 else 1, output_mode=modes[variant], name=n(op)
            )
            layer.adapt(_adapt_data(strings, full=variant == 0))
            # Eagerly a multi-hot or count lookup gives int64 (symbolically float32), and
            # float layers refuse it: structured-data models cast, as here.
            return ops.cast(layer(x), "float32")
        if op in ("integer_lookup_embed", "string_lookup_embed"):
            lookup = layers.StringLookup if strings else layers.IntegerLookup
            layer = lookup(name=n(op))
            layer.adapt(_adapt_data(strings, full=False))
            embedded = layers.Embedding(layer.vocabulary_size(), 4, name=n("embed"))(layer(x))
            return layers.Flatten(name=n("flatten"))(embedded)
        if op == "category_encoding":
            encoding = ["multi_hot", "one_hot", "count"][variant % 3]
            return layers.CategoryEncoding(VOCAB, output_mode=encoding, name=n(op))(x)
        if op == "hashing":
            return layers.Hashing(
                8, salt=[None, 7, 1234][variant % 3], output_mode="multi_hot", name=n(op)
            )(x)
        if op == "text_vectorization":
            layer = layers.TextVectorization(output_mode=modes[variant], name=n(op))
            layer.adapt(np.array([" ".join(WORDS[k : k + 3]) for k in range(len(WORDS))]))
            # One sentence per sample, as text datasets give it: on (batch, 1) Keras's
            # symbolic shape keeps a 1 that the computed tensor drops.
            return ops.cast(layer(x[:, 0]), "float32")
        raise ValueError(op)

    def binary(self, op: str, a: Any, b: Any) -> Any:
        n = self.name
        if tuple(a.shape) != tuple(b.shape):
            b = self.adapt(b, a)
        if op == "add":
            return layers.Add(name=n("add"))([a, b])
        if op == "multiply":
            return layers.Multiply(name=n("multiply"))([a, b])
        if op == "subtract":
            return layers.Subtract(name=n("subtract"))([a, b])
        if op == "average":
            return layers.Average(name=n("average"))([a, b])
        if op == "maximum":
            return layers.Maximum(name=n("maximum"))([a, b])
        if op == "concatenate":
            return layers.Dense(a.shape[-1], name=n("squeeze"))(
                layers.Concatenate(name=n("concat"))([a, b])
            )
        if op == "op_concatenate":
            return layers.Dense(a.shape[-1], name=n("squeeze"))(ops.concatenate([a, b], axis=-1))
        raise ValueError(op)

    def adapt(self, b: Any, a: Any) -> Any:
        """Bring ``b`` to ``a``'s shape: pool/flatten to a vector, then project."""
        n = self.name
        if len(b.shape) == 4:
            b = layers.GlobalAveragePooling2D(name=n("adapt_gap"))(b)
        elif len(b.shape) == 3:
            b = layers.GlobalAveragePooling1D(name=n("adapt_gap"))(b)
        size = 1
        for d in a.shape[1:]:
            size *= d
        b = layers.Dense(size, name=n("adapt_dense"))(b)
        if len(a.shape) > 2:
            b = layers.Reshape(tuple(a.shape[1:]), name=n("adapt_reshape"))(b)
        return b


def build_model(recipe: Recipe) -> Any:
    """The Keras model a recipe describes (same recipe → same architecture and names)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    builder = _Builder()
    inputs = []
    for index, kind in enumerate(recipe.inputs):
        dtype = DTYPES.get(kind, "float32")
        inputs.append(keras.Input(SHAPES[kind], dtype=dtype, name=f"in_{index}_{kind}"))
    tensors = list(inputs)
    for op, a, b, variant in recipe.steps:
        if op in BINARY:
            tensors.append(
                builder.binary(op, _float(tensors[a], builder), _float(tensors[b], builder))
            )
        else:
            tensors.append(builder.unary(op, tensors[a], variant))
    chosen = [_float(tensors[i], builder) for i in recipe.outputs]
    # Every input must reach an output: fold unused ones into the first output.
    used = _reachable_inputs(chosen)
    for tensor in inputs:
        if id(tensor) not in used:
            chosen[0] = builder.binary("add", chosen[0], _float(tensor, builder))
    if recipe.structure == "single":
        outputs: Any = chosen[0]
    elif recipe.structure == "list":
        outputs = chosen
    else:
        outputs = {f"out-{i}": t for i, t in enumerate(chosen)}
    structure: Any = inputs[0] if len(inputs) == 1 else {t.name: t for t in inputs}
    return keras.Model(structure, outputs, name="random_model")


def _float(tensor: Any, builder: _Builder) -> Any:
    if tensor.dtype == "string":
        tensor = layers.Hashing(VOCAB, name=builder.name("hash_adapt"))(tensor)
    if "int" in str(tensor.dtype):
        embedded = layers.Embedding(VOCAB, 3, name=builder.name("embed_adapt"))(tensor)
        if len(tensor.shape) == 2 and tensor.shape[1] == 1:  # one id: a vector
            return layers.Flatten(name=builder.name("flatten_adapt"))(embedded)
        return embedded
    return tensor


def _adapt_data(strings: bool, *, full: bool) -> np.ndarray:
    """What a lookup learns its vocabulary from: every word (or id), or most of them,
    with repeats so the order (by frequency) and the idf weights mean something."""
    tokens = list(WORDS) if strings else [1, 4, 7, 9, 10, 11]
    chosen = tokens if full else tokens[:4]
    return np.array([[t] for k, t in enumerate(chosen) for _ in range(k + 1)])


def _reachable_inputs(outputs: list[Any]) -> set[int]:
    found: set[int] = set()
    stack = list(outputs)
    seen: set[int] = set()
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if node.is_input:
            found.add(id(tensor))
        stack.extend(node.input_tensors)
    return found
