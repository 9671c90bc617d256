"""What synthetic targets a Keras loss needs: class indices, one-hot rows, 0/1, or real
values. Shared by a spec's ``loss:`` and a converted model's ``compile()`` loss."""

from __future__ import annotations

_BY_LOSS = {
    "SparseCategoricalCrossentropy": "labels",
    "CategoricalCrossentropy": "onehot",
    "CategoricalFocalCrossentropy": "onehot",
    "CategoricalHinge": "onehot",
    "KLDivergence": "onehot",
    "BinaryCrossentropy": "binary",
    "BinaryFocalCrossentropy": "binary",
    "Hinge": "binary",
    "SquaredHinge": "binary",
}


def targets_for_loss(class_name: str) -> str:
    """The targets that the loss class ``class_name`` compares outputs with."""
    return _BY_LOSS.get(class_name, "values")
