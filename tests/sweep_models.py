"""Thirty-nine models shaped like more public Keras examples (keras.io: translation and NER
Transformers, PointNet, DeepLabV3+, RetinaNet's heads, OCR, EDSR, ESPCN, Zero-DCE,
CycleGAN, WGAN-GP, speaker recognition, WaveNet-like gates, ...), with repeated blocks
under automatic, explicit and hostile names, written for a sweep of models the test
suite had not seen (session 15). Each builder is seeded after ``clear_session`` so
automatic layer names are those of a fresh script; ``test_sweep_models.py`` converts
them all in ``make test-full``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from model_builders import Builders, fresh

BUILDERS = Builders()
builder = BUILDERS


# ---------------------------------------------------------------------------
@builder
def eng_spa_transformer():
    """keras.io English-to-Spanish translation: encoder-decoder, two int inputs of
    unknown length, masked embeddings, causal self-attention, cross-attention."""
    fresh(101)
    vocab, dim, ff, heads = 60, 16, 32, 2

    def pos_embed(tokens, prefix):
        tok = layers.Embedding(vocab, dim, mask_zero=True, name=prefix + "_token_emb")(tokens)
        positions = ops.cumsum(ops.ones_like(tokens), axis=1) - 1
        pos = layers.Embedding(32, dim, name=prefix + "_pos_emb")(positions)
        return tok + pos

    enc_in = keras.Input(shape=(None,), dtype="int64", name="encoder_inputs")
    x = pos_embed(enc_in, "enc")
    for _ in range(2):
        a = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)(x, x)
        x = layers.LayerNormalization()(x + a)
        f = layers.Dense(ff, activation="relu")(x)
        f = layers.Dense(dim)(f)
        x = layers.LayerNormalization()(x + f)
    enc_out = x

    dec_in = keras.Input(shape=(None,), dtype="int64", name="decoder_inputs")
    y = pos_embed(dec_in, "dec")
    for _ in range(2):
        a = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)(y, y, use_causal_mask=True)
        y = layers.LayerNormalization()(y + a)
        c = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)(
            query=y, value=enc_out, key=enc_out
        )
        y = layers.LayerNormalization()(y + c)
        f = layers.Dense(ff, activation="relu")(y)
        f = layers.Dense(dim)(f)
        y = layers.LayerNormalization()(y + f)
    y = layers.Dropout(0.5)(y)
    out = layers.Dense(vocab, activation="softmax")(y)
    return keras.Model([enc_in, dec_in], out, name="transformer")


@builder
def pointnet():
    """keras.io PointNet classification: TNet made of Dense/Reshape/Dot, orthogonal
    init bias as Constant(eye)."""
    fresh(102)
    num_points, num_classes = 32, 5

    def conv_bn(x, filters):
        x = layers.Conv1D(filters, kernel_size=1, padding="valid")(x)
        x = layers.BatchNormalization(momentum=0.0)(x)
        return layers.Activation("relu")(x)

    def dense_bn(x, filters):
        x = layers.Dense(filters)(x)
        x = layers.BatchNormalization(momentum=0.0)(x)
        return layers.Activation("relu")(x)

    def tnet(inputs, num_features):
        bias = keras.initializers.Constant(np.eye(num_features).flatten())
        x = conv_bn(inputs, 8)
        x = conv_bn(x, 16)
        x = conv_bn(x, 32)
        x = layers.GlobalMaxPooling1D()(x)
        x = dense_bn(x, 16)
        x = dense_bn(x, 8)
        x = layers.Dense(
            num_features * num_features, kernel_initializer="zeros", bias_initializer=bias
        )(x)
        feat_T = layers.Reshape((num_features, num_features))(x)
        return layers.Dot(axes=(2, 1))([inputs, feat_T])

    inputs = keras.Input(shape=(num_points, 3))
    x = tnet(inputs, 3)
    x = conv_bn(x, 8)
    x = conv_bn(x, 8)
    x = tnet(x, 8)
    x = conv_bn(x, 8)
    x = conv_bn(x, 16)
    x = conv_bn(x, 32)
    x = layers.GlobalMaxPooling1D()(x)
    x = dense_bn(x, 16)
    x = layers.Dropout(0.3)(x)
    x = dense_bn(x, 8)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="pointnet")


@builder
def deeplabv3plus():
    """keras.io Multiclass semantic segmentation DeepLabV3+: dilated ASPP with pooled
    branch, UpSampling2D (bilinear) and Concatenate; small conv backbone."""
    fresh(103)
    size, num_classes = 32, 4

    def conv_block(x, filters=16, kernel=3, dilation=1, use_bias=False):
        x = layers.Conv2D(
            filters,
            kernel,
            dilation_rate=dilation,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=keras.initializers.HeNormal(),
        )(x)
        x = layers.BatchNormalization()(x)
        return ops.nn.relu(x)

    def aspp(x):
        dims = x.shape
        p = layers.AveragePooling2D(pool_size=(dims[-3], dims[-2]))(x)
        p = conv_block(p, kernel=1, use_bias=True)
        out_pool = layers.UpSampling2D(
            size=(dims[-3] // p.shape[1], dims[-2] // p.shape[2]), interpolation="bilinear"
        )(p)
        out_1 = conv_block(x, kernel=1, dilation=1)
        out_6 = conv_block(x, kernel=3, dilation=6)
        out_12 = conv_block(x, kernel=3, dilation=12)
        out_18 = conv_block(x, kernel=3, dilation=18)
        x = layers.Concatenate(axis=-1)([out_pool, out_1, out_6, out_12, out_18])
        return conv_block(x, kernel=1)

    inputs = keras.Input(shape=(size, size, 3))
    c = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)  # /2
    low = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(c)  # /4
    high = layers.Conv2D(24, 3, strides=2, padding="same", activation="relu")(low)  # /8
    high = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(high)  # /16
    x = aspp(high)
    input_a = layers.UpSampling2D(
        size=(size // 4 // x.shape[1], size // 4 // x.shape[2]), interpolation="bilinear"
    )(x)
    input_b = conv_block(low, filters=8, kernel=1)
    x = layers.Concatenate(axis=-1)([input_a, input_b])
    x = conv_block(x)
    x = conv_block(x)
    x = layers.UpSampling2D(
        size=(size // x.shape[1], size // x.shape[2]), interpolation="bilinear"
    )(x)
    outputs = layers.Conv2D(num_classes, kernel_size=(1, 1), padding="same")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


@builder
def retinanet_fpn():
    """keras.io RetinaNet: FPN top-down pathway (Add of upsampled maps), P6/P7, and a
    shared Sequential box/class head applied to each level, reshaped and concatenated."""
    fresh(104)
    num_classes, num_anchors = 3, 2
    inputs = keras.Input(shape=(64, 64, 3), name="image")
    x = inputs
    feats = []
    for i, f in enumerate([8, 16, 16, 32, 32]):
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
        if i >= 2:
            feats.append(x)
    c3, c4, c5 = feats
    p3 = layers.Conv2D(16, 1, 1, "same")(c3)
    p4 = layers.Conv2D(16, 1, 1, "same")(c4)
    p5 = layers.Conv2D(16, 1, 1, "same")(c5)
    p4 = p4 + layers.UpSampling2D(2)(p5)
    p3 = p3 + layers.UpSampling2D(2)(p4)
    p3 = layers.Conv2D(16, 3, 1, "same")(p3)
    p4 = layers.Conv2D(16, 3, 1, "same")(p4)
    p5 = layers.Conv2D(16, 3, 1, "same")(p5)
    p6 = layers.Conv2D(16, 3, 2, "same")(c5)
    p7 = layers.Conv2D(16, 3, 2, "same")(ops.nn.relu(p6))

    def build_head(output_filters, bias_init):
        head = keras.Sequential([keras.Input(shape=[None, None, 16])])
        kernel_init = keras.initializers.RandomNormal(0.0, 0.01)
        for _ in range(2):
            head.add(layers.Conv2D(16, 3, padding="same", kernel_initializer=kernel_init))
            head.add(layers.ReLU())
        head.add(
            layers.Conv2D(
                output_filters,
                3,
                1,
                padding="same",
                kernel_initializer=kernel_init,
                bias_initializer=bias_init,
            )
        )
        return head

    prior = keras.initializers.Constant(-np.log((1 - 0.01) / 0.01))
    cls_head = build_head(num_anchors * num_classes, prior)
    box_head = build_head(num_anchors * 4, "zeros")
    cls_outputs, box_outputs = [], []
    for feature in [p3, p4, p5, p6, p7]:
        box_outputs.append(layers.Reshape([-1, 4])(box_head(feature)))
        cls_outputs.append(layers.Reshape([-1, num_classes])(cls_head(feature)))
    cls_outputs = ops.concatenate(cls_outputs, axis=1)
    box_outputs = ops.concatenate(box_outputs, axis=1)
    outputs = ops.concatenate([box_outputs, cls_outputs], axis=-1)
    return keras.Model(inputs, outputs, name="RetinaNet")


@builder
def ocr_captcha():
    """keras.io OCR captcha: Conv + MaxPool, Reshape, Dense, two BiLSTMs, Dense softmax
    (inference model, CTC layer dropped)."""
    fresh(105)
    img_width, img_height, n_chars = 40, 16, 10
    input_img = layers.Input(shape=(img_width, img_height, 1), name="image", dtype="float32")
    x = layers.Conv2D(
        8, (3, 3), activation="relu", kernel_initializer="he_normal", padding="same", name="Conv1"
    )(input_img)
    x = layers.MaxPooling2D((2, 2), name="pool1")(x)
    x = layers.Conv2D(
        16, (3, 3), activation="relu", kernel_initializer="he_normal", padding="same", name="Conv2"
    )(x)
    x = layers.MaxPooling2D((2, 2), name="pool2")(x)
    new_shape = ((img_width // 4), (img_height // 4) * 16)
    x = layers.Reshape(target_shape=new_shape, name="reshape")(x)
    x = layers.Dense(16, activation="relu", name="dense1")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True, dropout=0.25))(x)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True, dropout=0.25))(x)
    x = layers.Dense(n_chars + 2, activation="softmax", name="dense2")(x)
    return keras.models.Model(inputs=input_img, outputs=x, name="ocr_model_v1")


def _pixel_shuffle(x, r):
    """depth_to_space with Reshape/Permute only (no Lambda)."""
    h, w, c = x.shape[1], x.shape[2], x.shape[3] // (r * r)
    x = layers.Reshape((h, w, r, r, c))(x)
    x = layers.Permute((1, 3, 2, 4, 5))(x)
    return layers.Reshape((h * r, w * r, c))(x)


@builder
def edsr():
    """keras.io EDSR: 12 residual blocks scaled by a constant (x * 0.1 via ops), a
    Rescaling layer in and out, upsampling by pixel shuffle."""
    fresh(106)
    filters, num_res_blocks = 16, 12
    input_layer = layers.Input(shape=(12, 12, 3))
    x = layers.Rescaling(scale=1.0 / 255)(input_layer)
    x = x_new = layers.Conv2D(filters, 3, padding="same")(x)
    for _ in range(num_res_blocks):
        y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x_new)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        y = y * 0.1
        x_new = layers.Add()([x_new, y])
    x_new = layers.Conv2D(filters, 3, padding="same")(x_new)
    x = layers.Add()([x, x_new])
    x = layers.Conv2D(filters * 4, 3, padding="same")(x)
    x = _pixel_shuffle(x, 2)
    x = layers.Conv2D(3, 3, padding="same")(x)
    output_layer = layers.Rescaling(scale=255)(x)
    return keras.Model(input_layer, output_layer)


@builder
def edsr_rescaling_named():
    """Same EDSR but residual scaling with a Rescaling layer and explicit names
    (res_block_{i}_conv1 ...), 3 blocks."""
    fresh(107)
    filters = 16
    inp = layers.Input(shape=(12, 12, 3), name="lr")
    x = x_new = layers.Conv2D(filters, 3, padding="same", name="head_conv")(inp)
    for i in range(3):
        y = layers.Conv2D(
            filters, 3, padding="same", activation="relu", name=f"res_block_{i}_conv1"
        )(x_new)
        y = layers.Conv2D(filters, 3, padding="same", name=f"res_block_{i}_conv2")(y)
        y = layers.Rescaling(0.1, name=f"res_block_{i}_scale")(y)
        x_new = layers.Add(name=f"res_block_{i}_add")([x_new, y])
    x = layers.Add(name="global_skip")([x, x_new])
    out = layers.Conv2D(3, 3, padding="same", name="tail_conv")(x)
    return keras.Model(inp, out, name="edsr_named")


@builder
def espcn():
    """keras.io ESPCN super-resolution, Y channel, upscale 3, depth_to_space written as
    Reshape/Permute/Reshape."""
    fresh(108)
    upscale_factor, channels = 3, 1
    conv_args = {"activation": "relu", "kernel_initializer": "orthogonal", "padding": "same"}
    inputs = keras.Input(shape=(10, 10, channels))
    x = layers.Conv2D(16, 5, **conv_args)(inputs)
    x = layers.Conv2D(16, 3, **conv_args)(x)
    x = layers.Conv2D(8, 3, **conv_args)(x)
    x = layers.Conv2D(channels * (upscale_factor**2), 3, **conv_args)(x)
    outputs = _pixel_shuffle(x, upscale_factor)
    return keras.Model(inputs, outputs)


@builder
def zero_dce():
    """keras.io Zero-DCE: DCE-Net with symmetric concatenations, then the 8-iteration
    light-enhancement curve written with keras.ops slicing and arithmetic."""
    fresh(109)
    input_img = keras.Input(shape=[16, 16, 3])
    conv1 = layers.Conv2D(8, (3, 3), strides=(1, 1), activation="relu", padding="same")(input_img)
    conv2 = layers.Conv2D(8, (3, 3), strides=(1, 1), activation="relu", padding="same")(conv1)
    conv3 = layers.Conv2D(8, (3, 3), strides=(1, 1), activation="relu", padding="same")(conv2)
    conv4 = layers.Conv2D(8, (3, 3), strides=(1, 1), activation="relu", padding="same")(conv3)
    int_con1 = layers.Concatenate(axis=-1)([conv4, conv3])
    conv5 = layers.Conv2D(8, (3, 3), strides=(1, 1), activation="relu", padding="same")(int_con1)
    int_con2 = layers.Concatenate(axis=-1)([conv5, conv2])
    conv6 = layers.Conv2D(8, (3, 3), strides=(1, 1), activation="relu", padding="same")(int_con2)
    int_con3 = layers.Concatenate(axis=-1)([conv6, conv1])
    x_r = layers.Conv2D(24, (3, 3), strides=(1, 1), activation="tanh", padding="same")(int_con3)
    x = input_img
    for i in range(8):
        r = x_r[:, :, :, i * 3 : (i + 1) * 3]
        x = x + r * (ops.square(x) - x)
    return keras.Model(inputs=input_img, outputs=[x, x_r])


@builder
def cyclegan_generator():
    """keras.io CycleGAN ResNet generator: ZeroPadding instead of ReflectionPadding,
    instance norm as GroupNormalization(groups=-1), 2 down, 3 residual blocks, 2 up."""
    fresh(110)
    gamma_init = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
    kinit = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
    filters = 8

    def residual_block(x):
        dim = x.shape[-1]
        input_tensor = x
        x = layers.ZeroPadding2D(1)(input_tensor)
        x = layers.Conv2D(dim, 3, kernel_initializer=kinit, padding="valid", use_bias=False)(x)
        x = layers.GroupNormalization(groups=-1, gamma_initializer=gamma_init)(x)
        x = layers.Activation("relu")(x)
        x = layers.ZeroPadding2D(1)(x)
        x = layers.Conv2D(dim, 3, kernel_initializer=kinit, padding="valid", use_bias=False)(x)
        x = layers.GroupNormalization(groups=-1, gamma_initializer=gamma_init)(x)
        return layers.add([input_tensor, x])

    def downsample(x, f):
        x = layers.Conv2D(
            f, 3, strides=2, kernel_initializer=kinit, padding="same", use_bias=False
        )(x)
        x = layers.GroupNormalization(groups=-1, gamma_initializer=gamma_init)(x)
        return layers.Activation("relu")(x)

    def upsample(x, f):
        x = layers.Conv2DTranspose(
            f, 3, strides=2, padding="same", kernel_initializer=kinit, use_bias=False
        )(x)
        x = layers.GroupNormalization(groups=-1, gamma_initializer=gamma_init)(x)
        return layers.Activation("relu")(x)

    img_input = layers.Input(shape=(16, 16, 3), name="generator_G_img_input")
    x = layers.ZeroPadding2D(padding=(3, 3))(img_input)
    x = layers.Conv2D(filters, (7, 7), kernel_initializer=kinit, use_bias=False)(x)
    x = layers.GroupNormalization(groups=-1, gamma_initializer=gamma_init)(x)
    x = layers.Activation("relu")(x)
    for _ in range(2):
        filters *= 2
        x = downsample(x, filters)
    for _ in range(3):
        x = residual_block(x)
    for _ in range(2):
        filters //= 2
        x = upsample(x, filters)
    x = layers.ZeroPadding2D(padding=(3, 3))(x)
    x = layers.Conv2D(3, (7, 7), padding="valid")(x)
    x = layers.Activation("tanh")(x)
    return keras.models.Model(img_input, x, name="generator_G")


@builder
def wgan_critic():
    """keras.io WGAN-GP critic: ZeroPadding to 32x32, conv_block(use_bn, use_dropout)
    with LeakyReLU, Flatten, Dropout, Dense(1)."""
    fresh(111)

    def conv_block(
        x,
        filters,
        activation,
        kernel_size=(3, 3),
        strides=(1, 1),
        padding="same",
        use_bias=True,
        use_bn=False,
        use_dropout=False,
        drop_value=0.5,
    ):
        x = layers.Conv2D(
            filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias
        )(x)
        if use_bn:
            x = layers.BatchNormalization()(x)
        x = activation(x)
        if use_dropout:
            x = layers.Dropout(drop_value)(x)
        return x

    img_input = layers.Input(shape=(28, 28, 1))
    x = layers.ZeroPadding2D((2, 2))(img_input)
    for filters, use_dropout in ((8, False), (16, True), (32, True), (64, False)):
        x = conv_block(
            x,
            filters,
            kernel_size=(5, 5),
            strides=(2, 2),
            activation=layers.LeakyReLU(0.2),
            use_dropout=use_dropout,
            drop_value=0.3,
        )
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(1)(x)
    return keras.models.Model(img_input, x, name="discriminator")


@builder
def speaker_recognition():
    """keras.io Speaker recognition: Conv1D residual blocks with conv_num 2,2,3,3,3,
    shortcut Conv1D(1), Add, Activation, MaxPool1D."""
    fresh(112)

    def residual_block(x, filters, conv_num=3, activation="relu"):
        s = layers.Conv1D(filters, 1, padding="same")(x)
        for _ in range(conv_num - 1):
            x = layers.Conv1D(filters, 3, padding="same")(x)
            x = layers.Activation(activation)(x)
        x = layers.Conv1D(filters, 3, padding="same")(x)
        x = layers.Add()([x, s])
        x = layers.Activation(activation)(x)
        return layers.MaxPool1D(pool_size=2, strides=2)(x)

    inputs = layers.Input(shape=(64, 1), name="input")
    x = residual_block(inputs, 4, 2)
    x = residual_block(x, 8, 2)
    x = residual_block(x, 16, 3)
    x = residual_block(x, 16, 3)
    x = residual_block(x, 16, 3)
    x = layers.AveragePooling1D(pool_size=2, strides=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(16, activation="relu")(x)
    outputs = layers.Dense(3, activation="softmax", name="output")(x)
    return keras.models.Model(inputs=inputs, outputs=outputs)


@builder
def timeseries_anomaly_ae():
    """keras.io Timeseries anomaly detection: Sequential Conv1D / Conv1DTranspose AE."""
    fresh(113)
    return keras.Sequential(
        [
            layers.Input(shape=(32, 1)),
            layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Dropout(rate=0.2),
            layers.Conv1D(filters=8, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Conv1DTranspose(
                filters=8, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Dropout(rate=0.2),
            layers.Conv1DTranspose(
                filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
        ]
    )


@builder
def collab_filtering():
    """keras.io Collaborative filtering (RecommenderNet) as Functional: two int inputs,
    Embedding + Dot + Add of biases, sigmoid."""
    fresh(114)
    num_users, num_movies, emb = 30, 40, 8
    user = keras.Input(shape=(), dtype="int32", name="user")
    movie = keras.Input(shape=(), dtype="int32", name="movie")

    def embedded(ids, count):
        """The id's vector (regularized) and its bias, as RecommenderNet embeds both."""
        vector = layers.Embedding(
            count,
            emb,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )(ids)
        return vector, layers.Embedding(count, 1)(ids)

    user_vector, user_bias = embedded(user, num_users)
    movie_vector, movie_bias = embedded(movie, num_movies)
    dot_user_movie = layers.Dot(axes=1)([user_vector, movie_vector])
    x = layers.Add()([dot_user_movie, user_bias, movie_bias])
    out = layers.Activation("sigmoid")(x)
    return keras.Model({"user": user, "movie": movie}, out, name="recommender")


@builder
def ner_transformer():
    """keras.io NER with Transformers: token+position embedding, one transformer block,
    per-token Dense softmax; inputs of unknown length; positions via ops.arange of the
    runtime length."""
    fresh(115)
    vocab, maxlen, dim, heads, ff, num_tags = 50, 16, 16, 2, 16, 7
    inputs = keras.Input(shape=(None,), dtype="int32")
    tok = layers.Embedding(vocab, dim)(inputs)
    pos_ids = ops.cumsum(ops.ones_like(inputs), axis=-1) - 1
    pos = layers.Embedding(maxlen, dim)(pos_ids)
    x = tok + pos
    attn = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)(x, x)
    attn = layers.Dropout(0.1)(attn)
    out1 = layers.LayerNormalization(epsilon=1e-6)(x + attn)
    ffn = layers.Dense(ff, activation="relu")(out1)
    ffn = layers.Dense(dim)(ffn)
    ffn = layers.Dropout(0.1)(ffn)
    x = layers.LayerNormalization(epsilon=1e-6)(out1 + ffn)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(ff, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(num_tags, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="ner")


@builder
def keypoint_head():
    """keras.io Keypoint detection: small SeparableConv2D backbone, head of Dropout,
    SeparableConv2D(relu), SeparableConv2D(sigmoid) reshaped to keypoints."""
    fresh(116)
    num_keypoints = 24
    inputs = layers.Input((32, 32, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for f in [8, 16, 32]:
        x = layers.SeparableConv2D(f, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU(6.0)(x)
    x = layers.Dropout(0.3)(x)
    x = layers.SeparableConv2D(num_keypoints, kernel_size=3, strides=1, activation="relu")(x)
    outputs = layers.SeparableConv2D(num_keypoints, kernel_size=2, strides=1, activation="sigmoid")(
        x
    )
    outputs = layers.Reshape((num_keypoints,))(outputs)
    return keras.Model(inputs, outputs, name="keypoint_detector")


@builder
def multi_output_dict():
    """Face attributes: dict inputs and a dict of three heads (age regression, gender,
    race), each head a Dense-Dropout-Dense chain built in a loop with explicit names."""
    fresh(117)
    image = keras.Input((24, 24, 3), name="image")
    meta = keras.Input((3,), name="meta")
    x = image
    for f in [8, 16]:
        x = layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Concatenate()([x, meta])
    outs = {}
    for head, units, act in [("age", 1, None), ("gender", 2, "softmax"), ("race", 5, "softmax")]:
        h = layers.Dense(16, activation="relu", name=f"{head}_dense")(x)
        h = layers.Dropout(0.2, name=f"{head}_dropout")(h)
        outs[head] = layers.Dense(units, activation=act, name=head)(h)
    return keras.Model({"image": image, "meta": meta}, outs, name="face_attrs")


@builder
def blocks2_auto():
    """A Dense residual block repeated twice, automatic names."""
    fresh(118)
    inputs = keras.Input((12,))
    x = layers.Dense(16)(inputs)
    for _ in range(2):
        y = layers.LayerNormalization()(x)
        y = layers.Dense(32, activation="gelu")(y)
        y = layers.Dense(16)(y)
        x = layers.Add()([x, y])
    outputs = layers.Dense(3)(x)
    return keras.Model(inputs, outputs)


@builder
def vgg_blocks_named():
    """VGG-style stages of 2, 3 and 3 convs with explicit block{i}_conv{j} names."""
    fresh(119)
    inputs = keras.Input((32, 32, 3), name="input_image")
    x = inputs
    for b, (f, n) in enumerate([(8, 2), (16, 3), (16, 3)], start=1):
        for j in range(1, n + 1):
            x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"block{b}_conv{j}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(32, activation="relu", name="fc1")(x)
    x = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="vgg_small")


@builder
def bert_tiny_12():
    """BERT-like encoder: 12 pre-LN blocks with explicit names containing dots and colons
    (Keras forbids '/'), token-type input, [CLS] pooling via x[:, 0], tanh pooler."""
    fresh(120)
    vocab, dim, heads, L = 40, 8, 2, 12
    word_ids = keras.Input((None,), dtype="int32", name="input_word_ids")
    type_ids = keras.Input((None,), dtype="int32", name="input_type_ids")
    x = layers.Embedding(vocab, dim, name="embeddings:word")(word_ids)
    x = x + layers.Embedding(2, dim, name="embeddings:type")(type_ids)
    x = layers.LayerNormalization(epsilon=1e-12, name="embeddings:layer_norm")(x)
    for i in range(L):
        p = f"transformer.layer_{i}"
        a = layers.MultiHeadAttention(heads, dim // heads, name=p + ":self_attention")(x, x)
        a = layers.Dropout(0.1, name=p + ":self_attention_dropout")(a)
        x = layers.LayerNormalization(epsilon=1e-12, name=p + ":self_attention_layer_norm")(x + a)
        f = layers.Dense(4 * dim, activation="gelu", name=p + ":intermediate")(x)
        f = layers.Dense(dim, name=p + ":output")(f)
        f = layers.Dropout(0.1, name=p + ":output_dropout")(f)
        x = layers.LayerNormalization(epsilon=1e-12, name=p + ":output_layer_norm")(x + f)
    cls = x[:, 0]
    pooled = layers.Dense(dim, activation="tanh", name="pooler_transform")(cls)
    return keras.Model(
        [word_ids, type_ids], {"sequence_output": x, "pooled_output": pooled}, name="bert_tiny"
    )


@builder
def rnn_stack_masked():
    """Embedding(mask_zero=True) into LSTM/LSTM/GRU/GRU with return_sequences."""
    fresh(121)
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(30, 8, mask_zero=True)(inputs)
    x = layers.LSTM(16, return_sequences=True)(x)
    x = layers.LSTM(16, return_sequences=True)(x)
    x = layers.GRU(8, return_sequences=True)(x)
    x = layers.GRU(8)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@builder
def conv3d_ct():
    """keras.io 3D image classification from CT scans: Conv3D/MaxPool3D/BN x3."""
    fresh(122)
    inputs = keras.Input((16, 16, 8, 1))
    x = inputs
    for f in [4, 8, 8]:
        x = layers.Conv3D(filters=f, kernel_size=3, activation="relu", padding="same")(x)
        x = layers.MaxPool3D(pool_size=2)(x)
        x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling3D()(x)
    x = layers.Dense(units=16, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(units=1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="3dcnn")


@builder
def mha_mask_input():
    """MultiHeadAttention with attention_mask taken from a second (bool) input, twice,
    returning attention scores from the last."""
    fresh(123)
    L, dim = 6, 8
    x_in = keras.Input((L, dim), name="x")
    mask = keras.Input((L, L), dtype="bool", name="attention_mask")
    x = x_in
    for _ in range(2):
        a = layers.MultiHeadAttention(2, 4)(x, x, attention_mask=mask)
        x = layers.LayerNormalization()(x + a)
    a, scores = layers.MultiHeadAttention(2, 4)(
        x, x, attention_mask=mask, return_attention_scores=True
    )
    return keras.Model([x_in, mask], [a, scores])


@builder
def norms_mix():
    """GroupNormalization, LayerNormalization (axis list), UnitNormalization, BN."""
    fresh(124)
    inputs = keras.Input((16, 16, 8))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.GroupNormalization(groups=4)(x)
    x = layers.Activation("swish")(x)
    x = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.LayerNormalization(axis=[1, 2, 3])(x)
    x = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.BatchNormalization(center=False, scale=False)(x)
    x = layers.GroupNormalization(groups=2, epsilon=1e-5)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.UnitNormalization()(x)
    outputs = layers.Dense(4)(x)
    return keras.Model(inputs, outputs)


@builder
def ops_graph_mix():
    """keras.ops in a Functional graph: concatenate, mean, constants arithmetic, slicing
    x[:, 0], transpose, expand_dims, softmax, where."""
    fresh(125)
    seq = keras.Input((5, 6), name="seq")
    vec = keras.Input((6,), name="vec")
    first = seq[:, 0]
    last = seq[:, -1, :3]
    m = ops.mean(seq, axis=1)
    x = ops.concatenate([first, m, vec], axis=-1)
    x = layers.Dense(8)(x) * 2.0 + 1.0
    x = ops.where(x > 0, x, 0.1 * x)
    t = ops.transpose(seq, (0, 2, 1))
    t = layers.Dense(4)(t)
    t = ops.softmax(ops.max(t, axis=-1))
    y = ops.concatenate([x, t, last], axis=-1)
    y = ops.expand_dims(y, 1)
    y = layers.Dense(3)(y)
    return keras.Model([seq, vec], ops.squeeze(y, 1))


@builder
def hostile_names_blocks():
    """Repeated residual blocks whose explicit names contain spaces, unicode, keywords,
    colons and dots."""
    fresh(126)
    inputs = keras.Input((10,), name="in put")
    x = layers.Dense(8, name="for")(inputs)
    names = ["if", "ünï çödé", "while"]
    for n in names:
        y = layers.Dense(8, activation="relu", name=f"{n} dense.a")(x)
        y = layers.Dense(8, name=f"{n}:dense b")(y)
        x = layers.Add(name=f"{n}-add")([x, y])
    x = layers.Dense(2, name="yield")(x)
    return keras.Model(
        inputs, {"out put": x, "class": layers.Dense(1, name="lambda")(x)}, name="with"
    )


@builder
def nested_seq_twice():
    """A nested Sequential used twice in a chain and twice on two inputs, plus a nested
    Functional used twice."""
    fresh(127)
    enc = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(8)], name="shared_mlp")
    enc.build((None, 8))
    fin = keras.Input((8,))
    fout = layers.Dense(8, activation="tanh")(layers.LayerNormalization()(fin))
    fun = keras.Model(fin, fout, name="func_sub")
    a = keras.Input((8,), name="a")
    b = keras.Input((8,), name="b")
    ea = enc(enc(a))
    eb = enc(b)
    x = layers.Concatenate()([fun(ea), fun(eb)])
    return keras.Model([a, b], layers.Dense(1)(x))


@builder
def convnext_blocks():
    """ConvNeXt-style: DepthwiseConv 7x7, LayerNorm, Dense 4x gelu, Dense, layer scale
    by a constant via ops.multiply, Add; stages of 2 and 3 blocks with downsampling."""
    fresh(128)
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 4, strides=4)(inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    for stage, (dim, depth) in enumerate([(8, 2), (16, 3)]):
        if stage > 0:
            x = layers.LayerNormalization(epsilon=1e-6)(x)
            x = layers.Conv2D(dim, 2, strides=2)(x)
        for _ in range(depth):
            y = layers.DepthwiseConv2D(7, padding="same")(x)
            y = layers.LayerNormalization(epsilon=1e-6)(y)
            y = layers.Dense(4 * dim, activation="gelu")(y)
            y = layers.Dense(dim)(y)
            y = ops.multiply(y, 1e-6)
            x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return keras.Model(inputs, layers.Dense(10)(x))


@builder
def wavenet_like():
    """WaveNet: causal dilated Conv1D, gated tanh*sigmoid, residual and skip outputs
    summed; dilations 1,2,4,8 twice."""
    fresh(129)
    inputs = keras.Input((64, 1))
    x = layers.Conv1D(8, 2, padding="causal")(inputs)
    skips = []
    for _ in range(2):
        for d in [1, 2, 4, 8]:
            t = layers.Conv1D(8, 2, dilation_rate=d, padding="causal", activation="tanh")(x)
            s = layers.Conv1D(8, 2, dilation_rate=d, padding="causal", activation="sigmoid")(x)
            z = layers.Multiply()([t, s])
            skips.append(layers.Conv1D(8, 1)(z))
            x = layers.Add()([x, layers.Conv1D(8, 1)(z)])
    out = layers.Add()(skips)
    out = layers.Activation("relu")(out)
    out = layers.Conv1D(8, 1, activation="relu")(out)
    out = layers.Conv1D(4, 1, activation="softmax")(out)
    return keras.Model(inputs, out)


@builder
def bahdanau_attention_seq2seq():
    """keras.io-style NMT with attention in Functional form: GRU encoder/decoder,
    AdditiveAttention over encoder states, concatenate, TimeDistributed Dense."""
    fresh(130)
    enc_in = keras.Input((None,), dtype="int32", name="source")
    dec_in = keras.Input((None,), dtype="int32", name="target")
    e = layers.Embedding(40, 8)(enc_in)
    enc_seq, enc_state = layers.GRU(16, return_sequences=True, return_state=True)(e)
    d = layers.Embedding(45, 8)(dec_in)
    dec_seq = layers.GRU(16, return_sequences=True)(d, initial_state=enc_state)
    ctx = layers.AdditiveAttention()([dec_seq, enc_seq])
    ctx2 = layers.Attention(score_mode="dot")([dec_seq, enc_seq])
    x = layers.Concatenate()([dec_seq, ctx, ctx2])
    out = layers.TimeDistributed(layers.Dense(45, activation="softmax"))(x)
    return keras.Model([enc_in, dec_in], out)


@builder
def int_inputs_features():
    """keras.io structured data: many named scalar inputs (int and float), some with
    hostile names, CategoryEncoding / Normalization / Embedding, concatenate, MLP."""
    fresh(132)
    age = keras.Input((1,), name="age")
    chol = keras.Input((1,), name="chol")
    sex = keras.Input((1,), dtype="int64", name="sex")
    cp = keras.Input((1,), dtype="int64", name="cp")
    thal = keras.Input((1,), dtype="int64", name="def")
    norm = layers.Normalization(mean=50.0, variance=100.0)
    feats = [
        norm(age),
        layers.Normalization(mean=200.0, variance=400.0)(chol),
        layers.CategoryEncoding(2, output_mode="one_hot")(sex),
        layers.CategoryEncoding(5, output_mode="one_hot")(cp),
        layers.Flatten()(layers.Embedding(4, 3)(thal)),
    ]
    x = layers.concatenate(feats)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model([age, chol, sex, cp, thal], out)


@builder
def sequential_nested_seq2():
    """A Sequential of Sequential blocks (built in a loop, automatic names). Not one
    block appended twice: Keras itself cannot reload a Sequential holding one twice."""
    fresh(133)

    def blk(f):
        return keras.Sequential(
            [layers.Conv2D(f, 3, padding="same"), layers.BatchNormalization(), layers.ReLU()]
        )

    model = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(8, 1)])
    for f in [8, 16, 16, 16]:
        model.add(blk(f))
        model.add(layers.MaxPooling2D())
    model.add(layers.Flatten())
    model.add(layers.Dense(4))
    return model


@builder
def repro_shared_head_two_scales():
    """Minimal reproducer for the retinanet_fpn fallback: one Sequential head (Input
    shape (None, None, 4)) applied to two feature maps of different spatial sizes."""
    fresh(134)
    head = keras.Sequential(
        [
            keras.Input(shape=[None, None, 4]),
            layers.Conv2D(4, 3, padding="same"),
            layers.ReLU(),
            layers.Conv2D(2, 3, padding="same"),
        ]
    )
    inputs = keras.Input((8, 8, 3))
    p3 = layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    p4 = layers.Conv2D(4, 3, strides=2, padding="same")(p3)
    outs = [layers.Reshape((-1, 2))(head(p)) for p in (p3, p4)]
    return keras.Model(inputs, ops.concatenate(outs, axis=1))


@builder
def repro_zero_dce_nan():
    """Minimal reproducer for the zero_dce verification failure: the original itself
    overflows to NaN on the generated standard-normal inputs (x*x iterated)."""
    fresh(135)
    inputs = keras.Input((4,))
    x = layers.Dense(4)(inputs)
    for _ in range(8):
        x = x + ops.square(x)
    return keras.Model(inputs, x)


def _bert(seed, naming, dict_out=False):
    fresh(seed)
    vocab, dim, heads, L = 40, 8, 2, 12
    word_ids = keras.Input((None,), dtype="int32", name="input_word_ids")
    type_ids = keras.Input((None,), dtype="int32", name="input_type_ids")
    x = layers.Embedding(vocab, dim)(word_ids)
    x = x + layers.Embedding(2, dim)(type_ids)
    x = layers.LayerNormalization(epsilon=1e-12)(x)
    for i in range(L):
        nm = {
            "auto": lambda s: None,
            "underscore": lambda s, i=i: f"transformer_layer_{i}_{s}",
            "colon": lambda s, i=i: f"transformer.layer_{i}:{s}",
        }[naming]
        a = layers.MultiHeadAttention(heads, dim // heads, name=nm("self_attention"))(x, x)
        a = layers.Dropout(0.1, name=nm("self_attention_dropout"))(a)
        x = layers.LayerNormalization(epsilon=1e-12, name=nm("self_attention_layer_norm"))(x + a)
        f = layers.Dense(4 * dim, activation="gelu", name=nm("intermediate"))(x)
        f = layers.Dense(dim, name=nm("output"))(f)
        f = layers.Dropout(0.1, name=nm("output_dropout"))(f)
        x = layers.LayerNormalization(epsilon=1e-12, name=nm("output_layer_norm"))(x + f)
    pooled = layers.Dense(dim, activation="tanh")(x[:, 0])
    if dict_out:
        return keras.Model([word_ids, type_ids], {"sequence_output": x, "pooled_output": pooled})
    return keras.Model([word_ids, type_ids], pooled)


@builder
def bert12_auto_names():
    """Diagnostic variant of bert_tiny_12: automatic layer names, single output."""
    return _bert(136, "auto")


@builder
def bert12_underscore_names():
    """Diagnostic variant of bert_tiny_12: names transformer_layer_{i}_..., single output."""
    return _bert(137, "underscore")


@builder
def edsr_no_global_skip():
    """Diagnostic variant of edsr: the same 12 scaled residual blocks, no long skip."""
    fresh(138)
    inp = layers.Input(shape=(12, 12, 3))
    x = layers.Conv2D(16, 3, padding="same")(inp)
    for _ in range(12):
        y = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
        y = layers.Conv2D(16, 3, padding="same")(y)
        x = layers.Add()([x, y * 0.1])
    return keras.Model(inp, layers.Conv2D(3, 3, padding="same")(x))


@builder
def bert12_colon_names():
    """Diagnostic variant of bert_tiny_12: its names (transformer.layer_{i}:...), single output."""
    return _bert(139, "colon")


@builder
def bert12_dict_outputs():
    """Diagnostic variant of bert_tiny_12: underscore names, dict of sequence+pooled outputs."""
    return _bert(140, "underscore", dict_out=True)
