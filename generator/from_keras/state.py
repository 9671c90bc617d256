"""State that preprocessing layers keep outside ``get_config()``.

An adapted ``StringLookup``, ``IntegerLookup`` or ``TextVectorization`` stores its
vocabulary in the ``.keras`` file's assets; its config says ``vocabulary=None``. Written
from the config alone, the generated layer would have no vocabulary ("Table not
initialized"). The vocabulary goes into the constructor instead, so the generated model
carries it. (``Normalization`` and ``Discretization`` keep theirs in weights or config.)
"""

from __future__ import annotations

from typing import Any

from generator.errors import UnsupportedModelError


def adapted_state(layer: Any, config: dict[str, Any], *, where: str) -> dict[str, Any]:
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
    if config.get("output_mode") == "tf_idf":
        raise UnsupportedModelError(
            "an adapted TF-IDF layer keeps its idf weights outside its config, and scaffold "
            "does not carry them over yet; build the model with vocabulary= and idf_weights=",
            where=where,
        )
    return {"vocabulary": [v.item() if hasattr(v, "item") else v for v in vocabulary]}
