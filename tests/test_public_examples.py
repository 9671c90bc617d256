"""Models shaped like public Keras examples (keras.io and the Functional API guide),
converted with structure recovery on: whatever blocks and loops recovery finds, the
class it writes must compute exactly what the original does (max abs diff 0).

Each builder is the example at toy size (inputs of at most 32x32, a few filters), seeded
after ``clear_session`` so automatic layer names are those of a fresh script. ``make
test`` converts a representative few and checks one structural fact of each; ``make
test-full`` converts them all. Custom layers and Lambda functions are registered in
``tests/data/modules/public_examples_layers.py``, so no conversion needs ``--unsafe``.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from pathlib import Path

import keras
import pytest
from equivalence import converted_exactly
from keras import layers, ops
from model_builders import (
    Builders,
    fresh,
    inception_stack,
    resnet_block,
    unet_down_block,
)

MODULES = Path(__file__).parent / "data" / "modules"

BUILDERS = Builders()
builder = BUILDERS


@pytest.fixture(autouse=True)
def custom_layers_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(MODULES))


def custom() -> types.ModuleType:
    """The registered layers and functions (``custom_layers_on_path`` puts them on the
    path; the generated source imports them by this module's name)."""
    import public_examples_layers

    return public_examples_layers


@builder
def unet() -> keras.Model:
    """keras.io "Image segmentation with a U-Net-like architecture", two down and
    three up blocks."""
    fresh(1)
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for filters in [16, 32]:
        x = unet_down_block(x, previous_block_activation, filters)
        previous_block_activation = x
    for filters in [32, 16, 8]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous_block_activation = x
    outputs = layers.Conv2D(3, 3, activation="softmax", padding="same")(x)
    return keras.Model(inputs, outputs)


@builder
def transformer_functional() -> keras.Model:
    """keras.io "Text classification with Transformer", the block written inline with
    ``MultiHeadAttention``, three times. The position ``Embedding`` reads a constant, so
    Keras computes it once while building: both models add its result as a constant."""
    fresh(2)
    maxlen, vocab, dim, heads, ff = 16, 100, 16, 2, 32
    inputs = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
    tokens = layers.Embedding(vocab, dim, name="token_embedding")(inputs)
    positions = layers.Embedding(maxlen, dim, name="position_embedding")(ops.arange(0, maxlen))
    x = tokens + positions
    for _ in range(3):
        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)(x, x)
        attention = layers.Dropout(0.1)(attention)
        x = layers.LayerNormalization(epsilon=1e-6)(x + attention)
        ffn = layers.Dense(ff, activation="relu")(x)
        ffn = layers.Dense(dim)(ffn)
        ffn = layers.Dropout(0.1)(ffn)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, ffn]))
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="transformer_classifier")


@builder
def transformer_custom() -> keras.Model:
    """The same example with its registered ``TokenAndPositionEmbedding`` and
    ``TransformerBlock`` layers."""
    fresh(3)
    maxlen, vocab, dim, heads, ff = 16, 100, 16, 2, 32
    inputs = layers.Input(shape=(maxlen,))
    x = custom().TokenAndPositionEmbedding(maxlen, vocab, dim)(inputs)
    x = custom().TransformerBlock(dim, heads, ff)(x)
    x = custom().TransformerBlock(dim, heads, ff)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


@builder
def transformer_functional_pos() -> keras.Model:
    """Positions computed from the tokens (``cumsum(ones_like) - 1``), post-norm blocks."""
    fresh(4)
    maxlen, vocab, dim, heads, ff = 16, 100, 16, 2, 32
    inputs = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
    positions = ops.cumsum(ops.ones_like(inputs), axis=1) - 1
    tokens = layers.Embedding(vocab, dim, name="token_embedding")(inputs)
    x = layers.Add()([tokens, layers.Embedding(maxlen, dim, name="position_embedding")(positions)])
    for _ in range(2):
        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads)(x, x)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attention]))
        ffn = layers.Dense(ff, activation="relu")(x)
        ffn = layers.Dense(dim)(ffn)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, ffn]))
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@builder
def vit() -> keras.Model:
    """keras.io "Image classification with Vision Transformer": pre-norm blocks, gelu,
    positions embedded from a constant as in ``transformer_functional``."""
    fresh(5)
    image_size, patch, dim, heads = 16, 4, 16, 2
    num_patches = (image_size // patch) ** 2
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = layers.Conv2D(dim, patch, strides=patch, name="patch_projection")(inputs)
    x = layers.Reshape((num_patches, dim))(x)
    x = x + layers.Embedding(num_patches, dim)(ops.arange(num_patches))
    for _ in range(3):
        x1 = layers.LayerNormalization(epsilon=1e-6)(x)
        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=dim, dropout=0.1)(x1, x1)
        x2 = layers.Add()([attention, x])
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        x3 = layers.Dense(dim * 2, activation=keras.activations.gelu)(x3)
        x3 = layers.Dropout(0.1)(x3)
        x3 = layers.Dense(dim, activation=keras.activations.gelu)(x3)
        x3 = layers.Dropout(0.1)(x3)
        x = layers.Add()([x3, x2])
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(32, activation=keras.activations.gelu)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="vit")


@builder
def mlp_mixer() -> keras.Model:
    """keras.io "MLP-Mixer": token mixing between two ``Permute``s, then channel mixing."""
    fresh(6)
    image_size, patch, dim = 16, 4, 16
    num_patches = (image_size // patch) ** 2
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = layers.Conv2D(dim, patch, strides=patch)(inputs)
    x = layers.Reshape((num_patches, dim))(x)
    for _ in range(4):
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        y = layers.Permute((2, 1))(y)
        y = layers.Dense(num_patches, activation="gelu")(y)
        y = layers.Dense(num_patches)(y)
        y = layers.Permute((2, 1))(y)
        x = layers.Add()([x, y])
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        y = layers.Dense(dim, activation="gelu")(y)
        y = layers.Dense(dim)(y)
        y = layers.Dropout(0.2)(y)
        x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@builder
def convmixer() -> keras.Model:
    """keras.io "Image classification with ConvMixer"."""
    fresh(7)
    filters = 16
    inputs = keras.Input((16, 16, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)
    x = layers.Conv2D(filters, kernel_size=2, strides=2)(x)
    x = layers.Activation("gelu")(x)
    x = layers.BatchNormalization()(x)
    for _ in range(4):
        x0 = x
        x = layers.DepthwiseConv2D(kernel_size=3, padding="same")(x)
        x = layers.Activation("gelu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Add()([x, x0])
        x = layers.Conv2D(filters, kernel_size=1)(x)
        x = layers.Activation("gelu")(x)
        x = layers.BatchNormalization()(x)
    x = layers.GlobalAvgPool2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@builder
def siamese() -> keras.Model:
    """keras.io "Image similarity estimation using a Siamese Network with a contrastive
    loss": one embedding model called on both inputs."""
    fresh(8)
    image = keras.Input((28, 28, 1))
    x = layers.BatchNormalization()(image)
    x = layers.Conv2D(4, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(8, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(10, activation="tanh")(x)
    embedding_network = keras.Model(image, x, name="embedding")
    input_1 = layers.Input((28, 28, 1))
    input_2 = layers.Input((28, 28, 1))
    tower_1 = embedding_network(input_1)
    tower_2 = embedding_network(input_2)
    diff = layers.Subtract()([tower_1, tower_2])
    squared = layers.Multiply()([diff, diff])
    distance = layers.Dense(1, use_bias=False, name="sum_sq")(squared)
    normal_layer = layers.BatchNormalization()(distance)
    output_layer = layers.Dense(1, activation="sigmoid")(normal_layer)
    return keras.Model(inputs=[input_1, input_2], outputs=output_layer)


@builder
def vae_encoder() -> keras.Model:
    """keras.io "Variational AutoEncoder": the encoder with its ``Sampling`` layer."""
    fresh(9)
    latent_dim = 2
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = custom().Sampling()([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


@builder
def conv_autoencoder() -> keras.Model:
    """keras.io "Convolutional autoencoder for image denoising"."""
    fresh(10)
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, x, name="autoencoder")


@builder
def dcgan_generator() -> keras.Model:
    """keras.io "DCGAN to generate face images": the Sequential generator."""
    fresh(11)
    return keras.Sequential(
        [
            keras.Input(shape=(16,)),
            layers.Dense(4 * 4 * 32),
            layers.Reshape((4, 4, 32)),
            layers.Conv2DTranspose(32, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


@builder
def dcgan_discriminator() -> keras.Model:
    """The same example's Sequential discriminator."""
    fresh(12)
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )


@builder
def seq2seq() -> keras.Model:
    """keras.io "Character-level recurrent sequence-to-sequence model": the decoder LSTM
    starts from the encoder's states."""
    fresh(13)
    num_encoder_tokens, num_decoder_tokens, latent_dim = 12, 14, 16
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    _, state_h, state_c = layers.LSTM(latent_dim, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_outputs = layers.Dense(num_decoder_tokens, activation="softmax")(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


@builder
def bilstm() -> keras.Model:
    """keras.io "Bidirectional LSTM on IMDB"."""
    fresh(14)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(200, 16)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


@builder
def conv1d_timeseries() -> keras.Model:
    """keras.io "Timeseries classification from scratch": three Conv1D/BN/ReLU units."""
    fresh(15)
    input_layer = keras.layers.Input((50, 1))
    x = input_layer
    for _ in range(3):
        x = keras.layers.Conv1D(filters=8, kernel_size=3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    gap = keras.layers.GlobalAveragePooling1D()(x)
    output_layer = keras.layers.Dense(2, activation="softmax")(gap)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


@builder
def timedistributed_video() -> keras.Model:
    """Video classification: a Sequential frame CNN in ``TimeDistributed``, then a GRU."""
    fresh(16)
    frames = keras.Input(shape=(5, 16, 16, 3), name="frames")
    cnn = keras.Sequential(
        [
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
        ],
        name="frame_cnn",
    )
    x = layers.TimeDistributed(cnn)(frames)
    x = layers.GRU(8)(x)
    x = layers.Dense(8, activation="relu")(x)
    outputs = layers.Dense(4, activation="softmax")(x)
    return keras.Model(frames, outputs, name="video_classifier")


@builder
def convlstm() -> keras.Model:
    """keras.io "Next-frame video prediction with Convolutional LSTMs"."""
    fresh(17)
    inputs = layers.Input(shape=(None, 12, 12, 1))
    x = inputs
    for kernel_size in [(5, 5), (3, 3)]:
        x = layers.ConvLSTM2D(
            filters=4,
            kernel_size=kernel_size,
            padding="same",
            return_sequences=True,
            activation="relu",
        )(x)
        x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=4, kernel_size=(1, 1), padding="same", return_sequences=True, activation="relu"
    )(x)
    x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)
    return keras.models.Model(inputs, x)


@builder
def wide_deep() -> keras.Model:
    """keras.io "Structured data learning with Wide, Deep, and Cross networks"."""
    fresh(18)
    numeric = keras.Input(shape=(5,), name="numeric")
    cat_a = keras.Input(shape=(1,), dtype="int32", name="cat_a")
    cat_b = keras.Input(shape=(1,), dtype="int32", name="cat_b")
    wide = layers.Concatenate()(
        [
            numeric,
            layers.CategoryEncoding(num_tokens=6, output_mode="one_hot")(cat_a),
            layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(cat_b),
        ]
    )
    emb_a = layers.Flatten()(layers.Embedding(6, 3)(cat_a))
    emb_b = layers.Flatten()(layers.Embedding(4, 2)(cat_b))
    deep = layers.Concatenate()([numeric, emb_a, emb_b])
    for units in [32, 16]:
        deep = layers.Dense(units)(deep)
        deep = layers.BatchNormalization()(deep)
        deep = layers.ReLU()(deep)
        deep = layers.Dropout(0.1)(deep)
    merged = layers.concatenate([wide, deep])
    outputs = layers.Dense(1, activation="sigmoid")(merged)
    return keras.Model([numeric, cat_a, cat_b], outputs, name="wide_and_deep")


@builder
def multi_io() -> keras.Model:
    """The Functional API guide's ticket classifier: three inputs, a dict of two outputs."""
    fresh(19)
    num_tags, num_words, num_departments = 12, 100, 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.LSTM(16)(layers.Embedding(num_words, 8)(title_input))
    body_features = layers.LSTM(4)(layers.Embedding(num_words, 8)(body_input))
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    return keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )


@builder
def resnet_like() -> keras.Model:
    """keras.io-style ResNet: automatic names, a projected shortcut where the shape
    changes, an ``Activation`` after every ``Add``."""
    fresh(20)
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for stage, filters in enumerate([8, 16, 32]):
        for index in range(2):
            x = resnet_block(x, filters, 2 if index == 0 and stage > 0 else 1)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs)


@builder
def resnet_named() -> keras.Model:
    """The same ResNet with ``keras.applications``-style names (``conv2_block1_1_conv``)."""
    fresh(21)

    def block(
        x: keras.KerasTensor, filters: int, stride: int, name: str, conv_shortcut: bool
    ) -> keras.KerasTensor:
        if conv_shortcut:
            shortcut = layers.Conv2D(filters, 1, strides=stride, name=name + "_0_conv")(x)
            shortcut = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_0_bn")(shortcut)
        else:
            shortcut = x
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=name + "_1_conv")(x)
        x = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_1_bn")(x)
        x = layers.Activation("relu", name=name + "_1_relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", name=name + "_2_conv")(x)
        x = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_2_bn")(x)
        x = layers.Add(name=name + "_add")([shortcut, x])
        return layers.Activation("relu", name=name + "_out")(x)

    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", name="conv1_conv")(inputs)
    x = layers.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    for stage, filters in enumerate([8, 16, 32]):
        for index in range(2):
            first = index == 0 and stage > 0
            name = f"conv{stage + 2}_block{index + 1}"
            x = block(x, filters, 2 if first else 1, name, conv_shortcut=first)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet_named")


@builder
def toy_resnet_guide() -> keras.Model:
    """The Functional API guide's "toy ResNet model" for CIFAR10."""
    fresh(22)
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(16, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


@builder
def densenet_like() -> keras.Model:
    """DenseNet-style: each layer's output concatenated to its input, transitions halve."""
    fresh(23)
    growth = 4

    def dense_block(x: keras.KerasTensor, n: int) -> keras.KerasTensor:
        for _ in range(n):
            y = layers.BatchNormalization()(x)
            y = layers.Activation("relu")(y)
            y = layers.Conv2D(4 * growth, 1, use_bias=False)(y)
            y = layers.BatchNormalization()(y)
            y = layers.Activation("relu")(y)
            y = layers.Conv2D(growth, 3, padding="same", use_bias=False)(y)
            x = layers.Concatenate()([x, y])
        return x

    def transition(x: keras.KerasTensor) -> keras.KerasTensor:
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(x.shape[-1] // 2, 1, use_bias=False)(x)
        return layers.AveragePooling2D(2)(x)

    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = transition(dense_block(x, 3))
    x = transition(dense_block(x, 3))
    x = dense_block(x, 3)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="densenet_like")


@builder
def inception_like() -> keras.Model:
    """GoogLeNet-style modules of four branches; a strided pooling between the second
    and the third."""
    fresh(24)

    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
    x = inception_stack(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="inception_like")


@builder
def se_blocks() -> keras.Model:
    """EfficientNet-style squeeze-and-excitation: a gate multiplies the convolution."""
    fresh(25)

    def se_block(x: keras.KerasTensor, filters: int, ratio: int = 4) -> keras.KerasTensor:
        y = layers.Conv2D(filters, 3, padding="same", activation="swish")(x)
        s = layers.GlobalAveragePooling2D(keepdims=True)(y)
        s = layers.Conv2D(filters // ratio, 1, activation="swish")(s)
        s = layers.Conv2D(filters, 1, activation="sigmoid")(s)
        y = layers.Multiply()([y, s])
        return layers.Add()([x, y]) if x.shape[-1] == filters else y

    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    for filters in [8, 8, 16, 16]:
        x = se_block(x, filters)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3)(x)
    return keras.Model(inputs, outputs)


@builder
def nested_sequential() -> keras.Model:
    """keras.io image classifiers: augmentation, stem, down blocks and head as Sequentials
    inside a Functional model."""
    fresh(26)
    data_augmentation = keras.Sequential(
        [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)], name="data_augmentation"
    )
    stem = keras.Sequential(
        [layers.Conv2D(8, 3, padding="same"), layers.BatchNormalization(), layers.ReLU()],
        name="stem",
    )
    head = keras.Sequential(
        [layers.GlobalAveragePooling2D(), layers.Dense(16, activation="relu"), layers.Dense(5)],
        name="head",
    )
    inputs = keras.Input((24, 24, 3))
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = stem(x)
    for index, filters in enumerate([16, 32]):
        x = keras.Sequential(
            [layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.MaxPooling2D()],
            name=f"down_{index}",
        )(x)
    return keras.Model(inputs, head(x))


@builder
def shared_layer() -> keras.Model:
    """The Functional API guide's shared layers: one embedding, LSTM and Dense read
    both texts."""
    fresh(27)
    shared_embedding = layers.Embedding(50, 8, name="shared_embedding")
    shared_lstm = layers.LSTM(8, name="shared_lstm")
    text_a = keras.Input(shape=(None,), dtype="int32", name="text_a")
    text_b = keras.Input(shape=(None,), dtype="int32", name="text_b")
    shared_dense = layers.Dense(8, activation="relu")
    a = shared_dense(shared_lstm(shared_embedding(text_a)))
    b = shared_dense(shared_lstm(shared_embedding(text_b)))
    merged = layers.concatenate([a, b, layers.Dot(axes=1)([a, b])])
    outputs = layers.Dense(1, activation="sigmoid")(merged)
    return keras.Model([text_a, text_b], outputs)


@builder
def gru_dropout() -> keras.Model:
    """keras.io weather forecasting: stacked GRUs with ``dropout`` and
    ``recurrent_dropout``."""
    fresh(28)
    inputs = keras.Input((20, 6))
    x = layers.GRU(16, dropout=0.2, recurrent_dropout=0.2, return_sequences=True)(inputs)
    x = layers.GRU(8, dropout=0.1, recurrent_dropout=0.3)(x)
    x = layers.Dense(4, activation="relu")(x)
    outputs = layers.Dense(1)(x)
    return keras.Model(inputs, outputs)


@builder
def noise_mix() -> keras.Model:
    """Every training-only regularizer at once: noise, dropouts, batch statistics."""
    fresh(29)
    inputs = keras.Input((20,))
    x = layers.GaussianNoise(0.1)(inputs)
    x = layers.Dense(32)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.3)(x)
    x = layers.GaussianDropout(0.2)(x)
    x = layers.Dense(16)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.Activation("elu")(x)
    x = layers.AlphaDropout(0.1)(x)
    x = layers.SpatialDropout1D(0.1)(layers.Reshape((4, 4))(x))
    x = layers.Flatten()(x)
    x = layers.GaussianNoise(0.05)(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@builder
def mlp5() -> keras.Model:
    """A Sequential MLP built with ``add``, five hidden layers of falling width."""
    fresh(30)
    model = keras.Sequential(name="mlp")
    model.add(keras.Input((12,)))
    for width in [64, 48, 32, 32, 16]:
        model.add(layers.Dense(width, activation="relu"))
    model.add(layers.Dense(3, activation="softmax"))
    return model


@builder
def hostile_names() -> keras.Model:
    """Layer names that are keywords, builtins, Keras attributes, unicode or quoted."""
    fresh(31)
    inputs = keras.Input((8,), name="inputs")
    x = layers.Dense(8, name="class")(inputs)
    y = layers.Dense(8, name="lambda")(x)
    z = layers.Dense(8, name="self")(x)
    w = layers.Dense(8, name="x")(inputs)
    v = layers.Dense(8, name='we\'ird "name" with spaces')(y)
    u = layers.Dense(8, name="ünïcödé_层")(z)
    t = layers.Dense(8, name="1starts_with_digit")(w)
    s = layers.Dense(8, name="def")(layers.Add(name="return")([v, u, t]))
    r = layers.Dense(8, name="training")(s)
    q = layers.Dense(8, name="None")(r)
    p = layers.Activation("relu", name="call")(q)
    o = layers.Dense(8, name="build")(p)
    n = layers.Concatenate(name="tf")([o, layers.Dense(8, name="keras")(o)])
    outputs = layers.Dense(2, name="outputs")(n)
    return keras.Model(inputs, outputs, name="import")


@builder
def hostile_names2() -> keras.Model:
    """Names that collide with Keras's automatic names and with model attributes."""
    fresh(32)
    inputs = keras.Input((8,), name="layers")
    a = layers.Dense(8, name="dense")(inputs)
    b = layers.Dense(8, name="dense_1")(a)
    c = layers.Dense(8, name="weights")(a)
    d = layers.Dense(8, name="Dense-2")(layers.Add(name="add")([b, c]))
    e = layers.Dense(8, name="__init__")(d)
    f = layers.Dense(8, name="name")(e)
    g = layers.Dense(8, name="dense 3")(f)
    outputs = layers.Dense(2, name="output")(g)
    return keras.Model(inputs, outputs, name="model")


def _lambdas(seed: int, second: str) -> keras.Model:
    """Dense, the registered ``scale_shift`` Lambda, then the registered ``second``."""
    fresh(seed)
    inputs = keras.Input((10,))
    x = layers.Dense(8)(inputs)
    x = layers.Lambda(custom().scale_shift, name="scale_shift")(x)
    x = layers.Lambda(getattr(custom(), second))(x)
    outputs = layers.Dense(1)(x)
    return keras.Model(inputs, outputs)


@builder
def lambda_layers() -> keras.Model:
    """``Lambda`` layers holding registered functions: safe, no ``--unsafe``."""
    return _lambdas(33, "sqrt_abs")


@builder
def lambda_slicing() -> keras.Model:
    """A registered ``Lambda`` that slices, so the next layer sees fewer features."""
    return _lambdas(34, "first_four")


@builder
def text_cnn() -> keras.Model:
    """keras.io "Text classification from scratch": tokens of any length, two unpadded
    ``Conv1D(7, strides=3)``, so verification must pick a length they accept."""
    fresh(35)
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(100, 8)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return keras.Model(inputs, predictions)


def _call_of(source: str, class_name: str) -> list[str]:
    """The statements of ``class_name.call``, stripped, blank lines left out."""
    body = source.split(f"class {class_name}(", 1)[1]
    call = body.split("    def call(", 1)[1].split("\n    def ", 1)[0]
    return [line.strip() for line in call.splitlines()[1:] if line.strip()]


def _blocks(source: str) -> list[str]:
    return re.findall(r"^class (\w+)\(tf\.keras\.layers\.Layer\)", source, re.M)


def _flat(source: str) -> str:
    """``source`` on one line, so a check does not depend on where Black wraps."""
    return " ".join(source.split()).replace("( ", "(").replace(" )", ")")


def unet_blocks_keep_the_residual_aside(source: str) -> None:
    """Two Layer classes (down and up), each looped over; a block computes its short
    residual path first, as ``shortcut``, and adds it last."""
    blocks = _blocks(source)
    assert len(blocks) == 2, source
    for block in blocks:
        lines = _call_of(source, block)
        assert lines[0].startswith("shortcut = self."), lines
        assert lines[-2:] == ["x = x + shortcut", "return x"], lines
    assert sum(line.startswith("for block in self.") for line in _call_of(source, "M")) == 2


def text_cnn_keeps_its_unknown_length(source: str) -> None:
    """Tokens of any length: the input stays ``(None, None)`` and both convolutions keep
    ``strides=3`` with the default (valid) padding."""
    assert "input_shape = (None, None)" in source, source
    flat = _flat(source)
    assert flat.count('Conv1D(16, 7, strides=3, activation="relu", name=') == 2, source
    assert "padding=" not in flat, source


def seq2seq_names_the_returned_states(source: str) -> None:
    """The encoder's states are named for what they are and start the decoder."""
    assert "lstm_output, lstm_state_h, lstm_state_c = self.lstm(" in source, source
    assert "initial_state=[lstm_state_h, lstm_state_c]" in _flat(source), source


def resnet_blocks_open_with_the_shortcut(source: str) -> None:
    """One residual block class, its projection decided by shape; the model loops over
    stages of it."""
    (block,) = _blocks(source)
    assert _call_of(source, block)[0] == "if self.conv_shortcut:", source
    assert "stage_filters=(8, 16, 32)" in source, source


def inception_pooling_splits_the_modules(source: str) -> None:
    """Two modules in a loop, the strided pooling, then the third module on its own."""
    assert "self.conv_block_3 = ConvBlock(" in source, source
    lines = _call_of(source, "M")
    pool = lines.index("x = self.max_pool(x)")
    assert lines[pool - 2 : pool + 2] == [
        "for block in self.conv_blocks:",
        "x = block(x)",
        "x = self.max_pool(x)",
        "x = self.conv_block_3(x)",
    ], lines


def transformer_blocks_attend_to_their_input(source: str) -> None:
    """The three inline encoder blocks are one Layer class, called in a loop; its call
    opens with self-attention on the block's input."""
    (block,) = _blocks(source)
    assert _call_of(source, block)[0] == "x = self.attention(inputs, inputs, training=training)"
    assert "num_attention_blocks=3" in source, source
    assert "for block in self.attention_blocks:" in _call_of(source, "M"), source


QUICK: dict[str, Callable[[str], None]] = {
    "unet": unet_blocks_keep_the_residual_aside,
    "text_cnn": text_cnn_keeps_its_unknown_length,
    "seq2seq": seq2seq_names_the_returned_states,
    "resnet_like": resnet_blocks_open_with_the_shortcut,
    "inception_like": inception_pooling_splits_the_modules,
    "transformer_functional": transformer_blocks_attend_to_their_input,
}


@pytest.mark.parametrize("name", sorted(QUICK))
def test_representative_examples_convert_exactly_with_their_structure(name: str) -> None:
    source = converted_exactly(BUILDERS[name](), f"public_{name}")
    QUICK[name](source)


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_public_example_converts_exactly(name: str) -> None:
    converted_exactly(BUILDERS[name](), f"public_{name}")
