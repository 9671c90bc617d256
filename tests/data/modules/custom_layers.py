"""A user's registered custom layer, for ``--custom-objects`` tests."""

import keras


@keras.saving.register_keras_serializable(package="tests")
class Scale(keras.layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.alpha * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
