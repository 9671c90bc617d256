"""State that preprocessing layers keep outside ``get_config()``.

An adapted ``StringLookup``, ``IntegerLookup`` or ``TextVectorization`` stores its
vocabulary (and, in ``tf_idf`` mode, its idf weights) in the ``.keras`` file's assets; its
config says ``vocabulary=None``. Written from the config alone, the generated layer would
have no vocabulary ("Table not initialized"). Both go into the constructor instead, so the
generated model carries them. (``Normalization`` and ``Discretization`` keep theirs in
weights or config.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generator.from_keras.internals import text_vectorization_lookup


def adapted_state(layer: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Config entries that reproduce ``layer``'s adapted state (empty if there is none)."""
    get_vocabulary = getattr(layer, "get_vocabulary", None)
    if get_vocabulary is None or config.get("vocabulary") is not None:
        return {}
    try:
        vocabulary = get_vocabulary(include_special_tokens=False)
    except TypeError:
        vocabulary = get_vocabulary()
    if not len(vocabulary):
        return {}
    state = {"vocabulary": [v.item() if hasattr(v, "item") else v for v in vocabulary]}
    if config.get("output_mode") == "tf_idf":
        state["idf_weights"] = _idf_weights(layer, len(vocabulary))
    return state


def _idf_weights(layer: Any, vocabulary_size: int) -> list[float]:
    """The adapted idf weight of each vocabulary token (the constructor's ``idf_weights``).

    The layer's own array also holds the weights of its special tokens (mask, OOV) in
    front; the constructor takes the tokens' weights only and derives the rest again.
    """
    lookup = text_vectorization_lookup(layer) or layer
    weights = np.asarray(lookup.idf_weights, dtype="float32")
    tokens = weights[len(weights) - vocabulary_size :]
    return [float(str(weight)) for weight in tokens]  # shortest text that rounds back
