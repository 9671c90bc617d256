"""Property-based robustness: random Functional models convert, verify and round-trip.

``make test`` runs 100 seeded examples, ``make test-full`` 500 (SCAFFOLD_FULL=1). Any
failing example is shrunk by Hypothesis; paste its recipe into REGRESSIONS below.
"""

from __future__ import annotations

import pytest
from conftest import FULL
from hypothesis import HealthCheck, given, settings
from random_models import Recipe, build_model, recipes

from generator.convert import ConvertOptions, convert_model
from generator.verify import verify_source

EXAMPLES = 500 if FULL else 100

REGRESSIONS: list[Recipe] = [
    # Look-alike nested Sequentials, fresh each time: written out or one class.
    Recipe(
        inputs=("vec",),
        steps=(
            ("fresh_sequential", 0, 0, 0),
            ("fresh_sequential", 1, 1, 2),
            ("fresh_sequential", 2, 2, 0),
            ("fresh_sequential", 3, 3, 1),
            ("fresh_sequential", 4, 4, 3),
            ("fresh_sequential", 5, 5, 1),
            ("fresh_sequential", 6, 6, 3),
        ),
        outputs=(7,),
        structure="single",
    ),
    # A one-element output list: Keras returns the bare tensor (found by this test).
    Recipe(inputs=("img",), steps=(("conv2d", 0, 0, 0),), outputs=(1,), structure="list"),
    # A shared layer that the generated code calls in another (valid) order than Keras:
    # the verifier pairs a shared layer's calls by their inputs, not by position.
    Recipe(
        inputs=("vec", "vec"),
        steps=(
            ("dense", 0, 0, 0),
            ("shared_dense", 1, 1, 0),
            ("add", 0, 0, 0),
            ("dense", 0, 0, 0),
            ("dense", 0, 0, 0),
            ("shared_dense", 0, 0, 0),
        ),
        outputs=(7, 3),
        structure="list",
    ),
    # The same with a nested Sequential holding Dropout: in training mode the calls must
    # also happen in Keras's order, or the shared seed state hands out other masks.
    Recipe(
        inputs=("vec", "vec"),
        steps=(
            ("dense", 0, 0, 0),
            ("nested_sequential", 1, 1, 0),
            ("add", 0, 0, 0),
            ("dense", 0, 0, 0),
            ("dense", 0, 0, 0),
            ("nested_sequential", 0, 0, 0),
        ),
        outputs=(7, 3),
        structure="list",
    ),
    # One string input feeding a strict lookup (no OOV index: any other word fails), a
    # TF-IDF lookup, a sentence vectorizer and an embedded lookup; one id input feeding
    # a lookup and an encoding: sample inputs must come from the vocabularies, and the
    # adapted state (vocabularies, idf weights) must reach the generated layers.
    Recipe(
        inputs=("str", "cat"),
        steps=(
            ("string_lookup", 0, 0, 0),
            ("string_lookup", 0, 0, 2),
            ("text_vectorization", 0, 0, 2),
            ("string_lookup_embed", 0, 0, 0),
            ("integer_lookup", 1, 1, 0),
            ("category_encoding", 1, 1, 1),
            ("concatenate", 2, 3, 0),
            ("add", 8, 4, 0),
            ("multiply", 6, 7, 0),
        ),
        outputs=(9, 10, 5),
        structure="dict",
    ),
]
# (A lookup's int64 output times 2.0, found by the 500-example run, is a regression case
# in tests/test_real_world.py: the recipes now cast lookups, as real models do.)


def check_recipe(recipe: Recipe) -> None:
    model = build_model(recipe)
    source = convert_model(model, ConvertOptions(class_name="RandomModel", package="random_model"))
    compile(source, "random_model.py", "exec")
    report = verify_source(model, source, "RandomModel", batches=1)
    assert report.ok, f"{recipe!r}: {report.verdict()}"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
@given(recipes())
def test_random_models_convert_and_verify(recipe: Recipe) -> None:
    check_recipe(recipe)


@pytest.mark.parametrize("recipe", REGRESSIONS, ids=lambda r: repr(r)[:60])
def test_regressions(recipe: Recipe) -> None:
    check_recipe(recipe)
