"""Build, briefly train and save the small Functional model that `make demo` converts."""

from __future__ import annotations

import sys

from generator.from_keras.environment import import_keras

keras = import_keras()  # Keras 3 on TensorFlow, without TensorFlow's start-up chatter
import numpy as np  # noqa: E402

layers = keras.layers


def build() -> keras.Model:
    image = keras.Input((28, 28, 1), name="image")
    meta = keras.Input((4,), name="meta")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv")(image)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    m = layers.Dense(8, activation="relu", name="meta_dense")(meta)
    x = layers.Concatenate(name="merge")([x, m])
    x = layers.Dropout(0.3, name="dropout")(x)
    return keras.Model(
        {"image": image, "meta": meta},
        {"digit": layers.Dense(10, name="digit")(x), "score": layers.Dense(1, name="score")(x)},
        name="demo_model",
    )


def main(path: str) -> None:
    keras.utils.set_random_seed(0)
    model = build()
    rng = np.random.default_rng(0)
    x = {
        "image": rng.standard_normal((64, 28, 28, 1)).astype("float32"),
        "meta": rng.standard_normal((64, 4)).astype("float32"),
    }
    y = {"digit": rng.integers(0, 10, 64), "score": rng.standard_normal((64, 1)).astype("float32")}
    model.compile(
        optimizer="adam",
        loss={
            "digit": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "score": "mse",
        },
    )
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(path)
    print(f"Built and trained {model.name} ({model.count_params()} parameters) -> {path}")


if __name__ == "__main__":
    main(sys.argv[1])
