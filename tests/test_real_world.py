"""Graph classes that public Keras examples use, each as the smallest model that shows it:
converted, saved/loaded as a user would, and verified (max abs diff 0 unless stated)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from keras import layers, ops

from generator.cli import main
from generator.convert import ConvertOptions, convert_model
from generator.verify import verify_source


def _round_trip(model: keras.Model, tmp_path: Path) -> keras.Model:
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    return keras.models.load_model(path)


def _convert_and_verify(model: keras.Model, name: str) -> str:
    source = convert_model(model, ConvertOptions(class_name=name, package=name.lower()))
    report = verify_source(model, source, name)
    assert report.ok, report.verdict()
    worst = max(c.max_abs for c in report.checks if c.status == "ok")
    assert worst == 0.0, report.verdict()
    return source


def test_ellipsis_and_constants_keep_dtype_and_shape(tmp_path: Path) -> None:
    """``preprocess_input`` inside a graph (DeepLabV3+): ``x[..., ::-1]`` and constants."""
    x = keras.Input((4, 4, 3), name="image")
    y = x[..., ::-1]
    y = y - ops.convert_to_tensor([103.939, 116.779, 123.68])
    y = ops.multiply(y, np.array([0.5, 0.25, 2.0], dtype="float32"))
    y = layers.Conv2D(2, 1, name="conv")(y)
    offsets = np.arange(32, dtype="float32").reshape(4, 4, 2)
    y = ops.add(y, offsets) + ops.convert_to_tensor(offsets)  # one constant, used twice
    model = _round_trip(keras.Model(x, y, name="preprocessed"), tmp_path)
    source = _convert_and_verify(model, "Preprocessed")
    assert "inputs[..., ::-1]" in source
    assert '[103.939, 116.779, 123.68], dtype="float32"' in source
    # Keras numbers op names per session ("add", "add_3"): match whatever it chose.
    defined = re.findall(r"^(ADD\w*_CONSTANT) = tf\.keras\.ops\.convert_to_tensor\(", source, re.M)
    assert len(defined) == 1, source
    # One constant, read twice: by the sum after the convolution and after the add.
    assert len(re.findall(rf"= \w+ \+ {defined[0]}\b", source)) == 2


def test_adapted_lookup_layers_carry_their_vocabulary(tmp_path: Path) -> None:
    """Structured-data models (wide & deep): adapted lookups, string inputs."""
    city = keras.Input((1,), dtype="string", name="city")
    code = keras.Input((1,), dtype="int64", name="code")
    strict = layers.StringLookup(num_oov_indices=0, output_mode="one_hot", name="city_lookup")
    strict.adapt(np.array([["paris"], ["rome"], ["oslo"], ["rome"]]))
    codes = layers.IntegerLookup(output_mode="multi_hot", name="code_lookup")
    codes.adapt(np.array([[3], [5], [7], [5]]))
    words = layers.StringLookup(name="word_lookup")
    words.adapt(np.array([[f"word{k}"] for k in range(50)]))
    merged = layers.Concatenate(name="merged")(
        [strict(city), codes(code), layers.Flatten()(ops.cast(words(city), "float32"))]
    )
    model = keras.Model(
        {"city": city, "code": code}, layers.Dense(2, name="head")(merged), name="lookups"
    )
    source = _convert_and_verify(_round_trip(model, tmp_path), "Lookups")
    assert 'vocabulary=["rome", "paris", "oslo"]' in source
    assert "vocabulary=[5, 7, 3]" in source
    assert "vocabulary=WORD_LOOKUP_VOCABULARY" in source  # 50 tokens: a module constant


def test_adapted_tf_idf_layers_carry_their_idf_weights(tmp_path: Path) -> None:
    """TF-IDF text and categorical features: the idf weights live in the assets, too.
    The verification batch holds tokens the layers never saw (their weight is derived)."""
    text = keras.Input((), dtype="string", name="text")
    vectorize = layers.TextVectorization(output_mode="tf_idf", name="tfidf")
    vectorize.adapt(np.array(["a b a", "b c", "c d d d"]))
    tags = layers.StringLookup(output_mode="tf_idf", name="tags")
    tags.adapt(np.array([["x", "y", "x"], ["z", "x", "y"]]))
    ids = layers.IntegerLookup(output_mode="tf_idf", num_oov_indices=2, name="ids")
    ids.adapt(np.array([[1, 2, 1], [3, 1, 9]]))
    tag_in = keras.Input((3,), dtype="string", name="tag")
    id_in = keras.Input((3,), dtype="int64", name="id")
    merged = layers.Concatenate(name="merged")([vectorize(text), tags(tag_in), ids(id_in)])
    model = keras.Model({"text": text, "tag": tag_in, "id": id_in}, merged, name="tfidf")
    source = _convert_and_verify(_round_trip(model, tmp_path), "Tfidf")
    assert source.count("idf_weights=[") == 3

    generated = {}
    exec(compile(source, "<tfidf>", "exec"), generated)
    rebuilt = generated["Tfidf"]()
    batch = {
        "text": np.array(["a zz b", "never seen"]),
        "tag": np.array([["x", "q", "q"], ["z", "z", "y"]]),
        "id": np.array([[1, 7, 7], [9, 3, 3]]),
    }
    np.testing.assert_array_equal(model(batch), rebuilt(batch))


def test_a_lambda_holding_a_registered_function_converts_in_safe_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lambda_functions.py").write_text(
        "import keras\n\n"
        "@keras.saving.register_keras_serializable(package='lambda_functions')\n"
        "def double(t):\n"
        "    return t * 2\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import lambda_functions

    x = keras.Input((3,), name="x")
    model = keras.Model(x, layers.Lambda(lambda_functions.double, name="dbl")(x), name="dbl")
    path = tmp_path / "dbl.keras"
    model.save(path)
    out = tmp_path / "dbl_model.py"
    result = CliRunner().invoke(
        main, ["convert", str(path), "-o", str(out), "--custom-objects", "lambda_functions"]
    )
    assert result.exit_code == 0, result.output
    assert "tf.keras.layers.Lambda(lambda_functions.double" in out.read_text()
    sys.modules.pop("lambda_functions", None)


def test_inputs_that_cannot_be_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Indices into a table of 5 (CTC labels alike): random ones make the original fail."""
    x = keras.Input((3,), dtype="int32", name="idx")
    y = ops.take(ops.convert_to_tensor(np.arange(5, dtype="float32")), x)
    model = keras.Model(x, layers.Dense(2, name="d")(y), name="takes")
    path = tmp_path / "takes.keras"
    model.save(path)
    out = tmp_path / "takes_model.py"
    guessed = CliRunner().invoke(main, ["convert", str(path), "-o", str(out)])
    assert guessed.exit_code == 1
    assert "the original model fails to run" in guessed.output
    assert "--inputs FILE.npz" in guessed.output and not out.exists()

    np.savez(tmp_path / "good.npz", idx=np.array([[0, 1, 4], [2, 3, 0]], dtype="int32"))
    given = CliRunner().invoke(
        main, ["convert", str(path), "-o", str(out), "--inputs", str(tmp_path / "good.npz")]
    )
    assert given.exit_code == 0, given.output
    assert "EQUIVALENT" in given.output and "1 batch of 2 samples" in given.output

    (tmp_path / "takes_inputs.py").write_text(
        "import numpy as np\n\n"
        "def batch():\n"
        "    return np.array([[4, 4, 4], [0, 2, 1]], dtype='int32')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    hooked = CliRunner().invoke(
        main, ["verify", str(path), str(out), "--inputs", "takes_inputs:batch"]
    )
    assert hooked.exit_code == 0, hooked.output

    np.savez(tmp_path / "wrong.npz", other=np.zeros((2, 3), dtype="int32"))
    wrong = CliRunner().invoke(
        main, ["verify", str(path), str(out), "--inputs", str(tmp_path / "wrong.npz")]
    )
    assert wrong.exit_code == 1
    assert "needs one array per input, keyed 'idx'" in wrong.output


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_sequences_of_unknown_length_are_long_enough_for_strided_convolutions(
    tmp_path: Path, kind: str
) -> None:
    """keras.io's text classifier: two unpadded Conv1D(kernel 7, stride 3) over a
    sequence of unknown length. A length of 7 leaves the second nothing to convolve, so
    verification picks a length the graph accepts; where none is, the error says which
    length it tried."""
    tokens = keras.Input((None,), dtype="int64", name="tokens")
    chain = [
        layers.Embedding(100, 8),
        layers.Dropout(0.5),
        layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3),
        layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3),
        layers.GlobalMaxPooling1D(),
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid", name="predictions"),
    ]
    if kind == "sequential":
        built = keras.Sequential([tokens, *chain], name="text_cnn")
    else:
        x = tokens
        for layer in chain:
            x = layer(x)
        built = keras.Model(tokens, x, name="text_cnn")
    model = _round_trip(built, tmp_path)
    source = _convert_and_verify(model, "TextCnn")
    # The docstring's example runs as written: 8 steps are too few, 32 are not.
    example = 'outputs = model(tf.keras.ops.zeros((2, 32), dtype="int64"))'
    assert example in source, source
    namespace: dict = {}
    exec(compile(source, "text_cnn.py", "exec"), namespace)  # noqa: S102 (our own output)
    exec(f"model = TextCnn()\n{example}", namespace)  # noqa: S102
    assert tuple(namespace["outputs"].shape) == (2, 1)
    if kind == "sequential":
        return

    indices = keras.Input((None,), dtype="int32", name="idx")
    table = ops.take(ops.convert_to_tensor(np.arange(5, dtype="float32")), indices)
    takes = keras.Model(indices, layers.Dense(2, name="d")(table[:, :, None]), name="takes")
    path = tmp_path / "takes.keras"
    takes.save(path)
    result = CliRunner().invoke(main, ["convert", str(path), "-o", str(tmp_path / "t.py")])
    assert result.exit_code == 1
    assert "every unknown (None) dimension of size 7;" in result.output


ENDPOINT_LAYERS = '''
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="endpoint_layers")
class EndpointLoss(keras.layers.Layer):
    """Adds a loss and passes the predictions through, as the OCR example's CTC layer."""

    def call(self, labels, predictions):
        self.add_loss(ops.mean(ops.square(labels - predictions)))
        return predictions
'''


def test_added_losses_are_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OCR with CTC: a layer that adds a loss; regularizers add losses too."""
    (tmp_path / "endpoint_layers.py").write_text(ENDPOINT_LAYERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import endpoint_layers

    x = keras.Input((4,), name="x")
    labels = keras.Input((2,), name="labels")
    dense = layers.Dense(2, kernel_regularizer="l2", name="dense")(x)
    out = endpoint_layers.EndpointLoss(name="endpoint")(labels, dense)
    model = _round_trip(keras.Model({"x": x, "labels": labels}, out, name="ocr"), tmp_path)
    source = convert_model(model, ConvertOptions(class_name="Ocr", package="ocr"))
    report = verify_source(model, source, "Ocr")
    assert report.ok, report.verdict()
    assert len([c for c in report.checks if c.kind == "loss"]) == 2  # add_loss + regularizer

    assert "kernel_regularizer=tf.keras.regularizers.L2()" in source
    mutant = source.replace("regularizers.L2()", "regularizers.L2(0.02)")
    report = verify_source(model, mutant, "Ocr")  # same outputs, another penalty
    assert not report.ok
    assert "added loss" in report.divergence and "differs" in report.divergence
    dropped = source.replace("kernel_regularizer=tf.keras.regularizers.L2(), ", "")
    report = verify_source(model, dropped, "Ocr")
    assert "different numbers of losses" in report.divergence
    sys.modules.pop("endpoint_layers", None)


def test_large_constants_and_vocabularies_go_beside_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past 1,024 values a constant or vocabulary goes into FILE.assets.npz, which the
    module loads from beside itself: wherever it is imported from, verified, emitted
    test included; stdout alone cannot hold it."""
    words = keras.Input((2,), dtype="string", name="words")
    image = keras.Input((32, 32, 3), name="image")
    lookup = layers.StringLookup(name="big_lookup")
    lookup.adapt(np.array([f"token{k}" for k in range(2_000)]))
    offsets = np.linspace(-1.0, 1.0, 32 * 32 * 3, dtype="float32").reshape(32, 32, 3)
    shifted = layers.Flatten(name="flat")(ops.add(image, offsets))
    looked = ops.cast(lookup(words), "float32")
    merged = layers.Concatenate(name="merged")([shifted, looked])
    model = keras.Model({"words": words, "image": image}, layers.Dense(2, name="head")(merged))
    path = tmp_path / "big.keras"
    model.save(path)
    out = tmp_path / "big_model.py"
    test_file = tmp_path / "test_big_model.py"
    monkeypatch.chdir(tmp_path)  # relative -o: the assets path must still resolve

    result = CliRunner().invoke(
        main, ["convert", "big.keras", "-o", "big_model.py", "--emit-test", test_file.name]
    )
    assert result.exit_code == 0, result.output
    assets = tmp_path / "big_model.assets.npz"
    assert (
        f"Wrote {Path('big_model.assets.npz')}" in result.output and "EQUIVALENT" in result.output
    )
    source = out.read_text()
    assert 'with np.load(Path(__file__).with_name("big_model.assets.npz")) as assets:' in source
    assert 'BIG_LOOKUP_VOCABULARY = assets["BIG_LOOKUP_VOCABULARY"].tolist()' in source
    constant = re.search(r'assets\["(ADD\w*_CONSTANT)"\], dtype="float32"', source)
    assert constant is not None, source
    assert len(source) < 10_000  # 5,072 values stayed out of the source
    with np.load(assets) as stored:
        assert sorted(stored.files) == sorted([constant[1], "BIG_LOOKUP_VOCABULARY"])
        np.testing.assert_array_equal(stored[constant[1]], offsets)
        assert stored["BIG_LOOKUP_VOCABULARY"].tolist() == lookup.get_vocabulary()[1:]

    stored_bytes = assets.read_bytes()
    again = CliRunner().invoke(main, ["convert", "big.keras", "-o", "big_model.py", "--check"])
    assert again.exit_code == 0, again.output  # same bytes: deterministic
    assets.write_bytes(assets.read_bytes() + b"stale")
    stale = CliRunner().invoke(main, ["convert", "big.keras", "-o", "big_model.py", "--check"])
    assert stale.exit_code == 1 and "big_model.assets.npz" in stale.output

    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    forced = CliRunner().invoke(
        main, ["convert", "../big.keras", "-o", "../big_model.py", "--force", "--no-verify"]
    )
    assert forced.exit_code == 0 and assets.read_bytes() == stored_bytes
    verified = CliRunner().invoke(main, ["verify", str(path), str(out)])
    assert verified.exit_code == 0, verified.output
    emitted = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=moved,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert emitted.returncode == 0, emitted.stdout[-2000:]

    refused = CliRunner().invoke(main, ["convert", str(path), "--no-verify"])
    assert refused.exit_code == 2
    assert "too large for source code" in refused.output and "-o FILE.py" in refused.output


def test_an_operator_on_a_tensor_whose_runtime_dtype_differs_stays_a_keras_op(
    tmp_path: Path,
) -> None:
    """A multi-hot ``IntegerLookup`` is float32 symbolically but int64 when it runs:
    Keras's multiply promotes it, Python's ``*`` on an int64 tensor and 2.0 fails (found
    by the random models)."""
    ids = keras.Input((1,), dtype="int64", name="ids")
    lookup = layers.IntegerLookup(output_mode="multi_hot", num_oov_indices=0, name="lookup")
    lookup.adapt(np.array([[1], [4], [7]]))
    model = keras.Model(ids, ops.multiply(lookup(ids), 2.0) + 1.0, name="scaled")
    source = _convert_and_verify(_round_trip(model, tmp_path), "Scaled")
    assert re.search(r"tf\.keras\.ops\.multiply\(\w+, 2\.0\)", source)


def test_a_recorded_training_flag_stays_on_a_layer_that_passes_it_on_unnamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MC dropout through a custom block whose call never names ``training``: Keras hands
    the recorded ``training=True`` to the Dropout inside through its call context, so the
    generated call must keep it (found in review)."""
    (tmp_path / "mc_blocks.py").write_text(
        "import keras\n\n"
        "@keras.saving.register_keras_serializable(package='mc_blocks')\n"
        "class Block(keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.drop = keras.layers.Dropout(0.5)\n\n"
        "    def call(self, x):\n"
        "        return self.drop(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import mc_blocks

    x = keras.Input((8,), name="x")
    y = layers.Dense(2, name="head")(mc_blocks.Block(name="block")(x, training=True))
    model = keras.Model(x, y, name="mc")
    source = convert_model(model, ConvertOptions(class_name="Mc", package="mc"))
    assert "self.block(inputs, training=True if training is None else training)" in source
    assert re.search(r"self\.head\(\w+\)", source)  # Dense ignores training: not passed
    report = verify_source(model, source, "Mc")
    assert report.ok, report.verdict()
    sys.modules.pop("mc_blocks", None)


def test_unknown_sizes_stop_before_samples_grow_too_large() -> None:
    """A sequence may need 512 steps; a volume of unknown depth, height and width at 512
    would be 134 million values a sample, so no size past the cap is tried."""
    from generator.from_keras.unknown_sizes import MAX_SAMPLE_VALUES, unknown_size

    steps = keras.Input((None, 1))
    sequence = keras.Model(steps, layers.Conv1D(1, 200)(steps))
    assert unknown_size(sequence) == 512

    volume = keras.Input((None, None, None, 1))
    deep = keras.Model(volume, layers.Conv3D(1, (200, 1, 1))(volume))
    assert 128**3 <= MAX_SAMPLE_VALUES < 512**3
    assert unknown_size(deep) == 7  # the first size: verification then says it failed
    shallow = keras.Model(volume, layers.Conv3D(1, (100, 1, 1))(volume))
    assert unknown_size(shallow) == 128
