"""The training code ``scaffold new`` writes, run the way users run it.

train.py runs for every preset and a two-output spec with each loop kind; one optimizer
step of the train_step override and of the custom loop equals one step of plain fit();
BatchNormalization's statistics move only in training; an interrupted custom run
resumes to the same weights; two replicas (MirroredStrategy on two logical CPUs) and two
worker processes (MultiWorkerMirroredStrategy on localhost) train like one device.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from generator.cli import main
from generator.from_spec.sources import preset_names
from generator.tomlfiles import tomllib

LOOPS = ("fit", "train-step", "custom")
TWO_HEADS = """\
doc: One trunk, two heads - a classifier and a regressor.
input_shape: [16]
params:
  num_classes: {default: 3, type: int, doc: number of classes.}
layers:
  - {name: trunk, layer: "Dense(32, activation='relu')"}
  - {name: logits, layer: Dense(num_classes), inputs: trunk}
  - {name: value, layer: Dense(1), inputs: trunk}
outputs: {logits: logits, value: value}
task: {logits: classification, value: regression}
"""
# Keep the child processes quiet and on one thread pool each.
CHILD_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}


def _project(tmp_path: Path, name: str, source: str, loop: str) -> Path:
    """A generated project; ``source`` is a preset name or the text of a spec."""
    directory = tmp_path / name
    if source in preset_names():
        spec_args = ["--preset", source]
    else:
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(source)
        spec_args = ["--spec", str(spec)]
    result = CliRunner().invoke(main, ["new", str(directory), *spec_args, "--loop", loop])
    assert result.exit_code == 0, result.output
    return directory


def _run_train(project: Path, *options: str, script: str | None = None) -> str:
    command = [sys.executable, script or str(project / "train.py"), *options]
    result = subprocess.run(
        command, cwd=project, capture_output=True, text=True, timeout=900, env=CHILD_ENV
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def _losses(project: Path) -> list[float]:
    with (project / "logs" / "history.csv").open() as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]


def _import_train(project: Path) -> ModuleType:
    """The project's train.py as a module (it puts the project's src/ on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"train_{project.name}", project / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model_class(project: Path) -> type:
    if str(project / "src") not in sys.path:
        sys.path.insert(0, str(project / "src"))
    package = project.name.replace("-", "_")
    module = importlib.import_module(f"{package}.model")
    return next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, keras.Model) and value is not keras.Model
    )


def _weights(project: Path, path: Path) -> list[np.ndarray]:
    _model_class(project)  # registers the class that the file names
    return keras.models.load_model(path).get_weights()


def _assert_same_weights(a: list[np.ndarray], b: list[np.ndarray], atol: float) -> None:
    assert len(a) == len(b)
    worst = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))
    assert worst <= atol, f"weights differ by {worst}"


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("source", [*preset_names(), "two_heads"])
def test_train_script_runs_for_every_preset_and_loop(
    source: str, loop: str, tmp_path: Path
) -> None:
    """1 epoch on tiny data; the MLP classifier and the two-head model train for about
    60 steps on their learnable synthetic task, and the loss must fall."""
    spec = TWO_HEADS if source == "two_heads" else source
    project = _project(tmp_path, f"{source}_{loop.replace('-', '_')}", spec, loop)
    learnable = source in ("mlp", "two_heads")
    size = ["--epochs", "6", "--examples", "192", "--batch-size", "16"] if learnable else []
    size = size or ["--epochs", "1", "--examples", "24", "--batch-size", "8"]
    output = _run_train(project, *size, "--save", "trained.keras")
    assert "final loss" in output
    losses = _losses(project)
    assert all(np.isfinite(losses))
    if learnable:
        assert losses[-1] < 0.8 * losses[0], losses
    cls = _model_class(project)  # registers the class the file names
    assert isinstance(keras.models.load_model(project / "trained.keras"), cls)


def _one_batch(train: ModuleType, count: int = 16):
    inputs = train.load_data(count, seed=3)
    return inputs, train.make_targets(inputs)


@pytest.mark.parametrize("source", ["two_heads", "resnet"])
def test_one_step_of_train_step_and_of_the_custom_loop_equals_fit(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same initial weights, same batch, SGD: the weights after one step agree."""
    spec = TWO_HEADS if source == "two_heads" else source
    projects = {
        loop: _project(tmp_path, f"{source}_step_{loop.replace('-', '_')}", spec, loop)
        for loop in LOOPS
    }
    trains = {loop: _import_train(project) for loop, project in projects.items()}
    inputs, targets = _one_batch(trains["fit"])

    reference = _model_class(projects["fit"])()
    reference.build(None)
    initial = reference.get_weights()
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss=trains["fit"].make_losses())
    reference.fit(inputs, targets, batch_size=16, epochs=1, shuffle=False, verbose=0)
    expected = reference.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(initial, expected, strict=True))

    overridden = _model_class(projects["train-step"])()
    assert "train_step" in vars(type(overridden))
    overridden.build(None)
    overridden.set_weights(initial)
    overridden.compile(optimizer=keras.optimizers.SGD(0.1), loss=trains["train-step"].make_losses())
    overridden.fit(inputs, targets, batch_size=16, epochs=1, shuffle=False, verbose=0)
    _assert_same_weights(overridden.get_weights(), expected, atol=1e-6)

    custom = _model_class(projects["custom"])()
    custom.build(None)
    custom.set_weights(initial)
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(custom.trainable_variables)
    train = trains["custom"]
    step = train.make_train_step(
        tf.distribute.get_strategy(),
        custom,
        optimizer,
        train.make_losses(reduction=None),
        train.make_metrics(),
        keras.metrics.Mean(),
    )
    step((inputs, targets))
    _assert_same_weights(custom.get_weights(), expected, atol=1e-6)


def _moving_statistics(model: keras.Model) -> list[np.ndarray]:
    return [
        variable.numpy().copy()
        for variable in model.non_trainable_variables
        if "moving_" in variable.path
    ]


def _all_changed(after: list[np.ndarray], before: list[np.ndarray]) -> bool:
    return all(not np.allclose(a, b) for a, b in zip(after, before, strict=True))


def test_batch_normalization_statistics_move_only_in_training_steps(tmp_path: Path) -> None:
    """training=True reaches BatchNormalization in training steps, training=False in
    validation: in the custom loop and in the train_step override."""
    custom_project = _project(tmp_path, "bn_custom", "resnet", "custom")
    train = _import_train(custom_project)
    inputs, targets = _one_batch(train, count=8)
    model = _model_class(custom_project)()
    model.build(None)
    optimizer = keras.optimizers.SGD(0.01)
    optimizer.build(model.trainable_variables)
    strategy = tf.distribute.get_strategy()
    losses, metrics = train.make_losses(reduction=None), train.make_metrics()
    before = _moving_statistics(model)
    assert before
    train.make_validation_step(strategy, model, losses, metrics, keras.metrics.Mean())(
        (inputs, targets)
    )
    _assert_same_weights(_moving_statistics(model), before, atol=0.0)
    train.make_train_step(strategy, model, optimizer, losses, metrics, keras.metrics.Mean())(
        (inputs, targets)
    )
    assert all(
        not np.allclose(a, b) for a, b in zip(_moving_statistics(model), before, strict=True)
    )

    step_project = _project(tmp_path, "bn_train_step", "resnet", "train-step")
    step_train = _import_train(step_project)
    model = _model_class(step_project)()
    model.build(None)
    model.compile(optimizer="sgd", loss=step_train.make_losses())
    before = _moving_statistics(model)
    model.evaluate(inputs, targets, verbose=0)
    _assert_same_weights(_moving_statistics(model), before, atol=0.0)
    model.fit(inputs, targets, epochs=1, verbose=0)
    assert all(
        not np.allclose(a, b) for a, b in zip(_moving_statistics(model), before, strict=True)
    )


def test_an_interrupted_custom_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    """Stopped after 5 steps (mid-epoch) and run again: weights, optimizer state and the
    step counter continue from the checkpoint, on the same batches, to the same end."""
    project = _project(tmp_path, "resume_custom", "mlp", "custom")
    common = ["--epochs", "2", "--examples", "64", "--batch-size", "16"]
    first = _run_train(project, *common, "--max-steps", "5", "--save", "resumed.keras")
    assert "stopped at step 5" in first
    second = _run_train(project, *common, "--save", "resumed.keras")
    assert "resumed from" in second and "ckpt-5" in second
    straight = _run_train(
        project, *common, "--checkpoint-dir", "other", "--log-dir", "other", "--save", "one.keras"
    )
    assert "resumed" not in straight
    _assert_same_weights(
        _weights(project, project / "resumed.keras"),
        _weights(project, project / "one.keras"),
        atol=0.0,
    )


TWO_CPUS = """\
import sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, ".")
import train

strategy = train.make_strategy(sys.argv[1])
print("replicas", strategy.num_replicas_in_sync)
train.main(["--strategy", *sys.argv[1:]])
"""


def test_two_mirrored_replicas_train_like_one_device(tmp_path: Path) -> None:
    """The custom loop on two replicas (MirroredStrategy, two logical CPUs) and on one
    device, same global batches, no Dropout or BatchNormalization: the same weights
    after two epochs, within float tolerance."""
    project = _project(tmp_path, "mirrored_custom", TWO_HEADS, "custom")
    script = tmp_path / "two_cpus.py"
    script.write_text(TWO_CPUS)
    common = ["--epochs", "2", "--examples", "80", "--batch-size", "16"]
    mirrored = _run_train(
        project, "mirrored", *common, "--log-dir", "m", "--checkpoint-dir", "m",
        "--save", "mirrored.keras", script=str(script),
    )  # fmt: skip
    assert "replicas 2" in mirrored
    single = _run_train(
        project, "default", *common, "--log-dir", "d", "--checkpoint-dir", "d",
        "--save", "single.keras", script=str(script),
    )  # fmt: skip
    assert "replicas 1" in single
    _assert_same_weights(
        _weights(project, project / "mirrored.keras"),
        _weights(project, project / "single.keras"),
        atol=1e-5,
    )


ONE_FIT_STEP_ON_TWO_CPUS = """\
import sys
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, ".")
import train

inputs = train.load_data(16, seed=3)
targets = train.make_targets(inputs)
weights = []
for strategy in (tf.distribute.get_strategy(), tf.distribute.MirroredStrategy()):
    with strategy.scope():
        tf.keras.utils.set_random_seed(0)
        model = train.{cls}()
        model.build(None)
        model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss=train.make_losses())
    model.fit(inputs, targets, batch_size=16, epochs=1, shuffle=False, verbose=0)
    weights.append((strategy.num_replicas_in_sync, model.get_weights()))
(one, single), (two, mirrored) = weights
print("replicas", one, two)
print("difference", max(float(np.abs(a - b).max()) for a, b in zip(single, mirrored)))
"""


def test_one_train_step_on_two_mirrored_replicas_equals_one_device(tmp_path: Path) -> None:
    """The train_step override inside fit(): one step on a global batch of 16 split over
    two replicas equals the step on one device. (Whole fit() runs differ in batch order:
    under a strategy, fit() draws one batch of the shuffled dataset before training.)"""
    project = _project(tmp_path, "mirrored_step", TWO_HEADS, "train-step")
    script = tmp_path / "one_step.py"
    script.write_text(ONE_FIT_STEP_ON_TWO_CPUS.replace("{cls}", _model_class(project).__name__))
    output = _run_train(project, script=str(script))
    assert "replicas 1 2" in output
    difference = float(output.split("difference")[1])
    assert difference <= 1e-6, output


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_workers_train_the_same_weights(tmp_path: Path) -> None:
    """MultiWorkerMirroredStrategy with two worker processes on localhost (TF_CONFIG),
    started and stopped by the test: both finish, with identical weights."""
    project = _project(tmp_path, "workers_custom", TWO_HEADS, "custom")
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        directory = tmp_path / f"worker{index}"
        directory.mkdir()
        env = {
            **CHILD_ENV,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        }
        command = [sys.executable, str(project / "train.py"), "--strategy", "multiworker"]
        command += ["--epochs", "2", "--examples", "64", "--batch-size", "16"]
        command += ["--save", "model.keras"]
        workers.append(
            subprocess.Popen(
                command,
                cwd=directory,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        results = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (stdout, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 0, stderr[-4000:]
        assert "final loss" in stdout
    chief = tmp_path / "worker0" / "model.keras"
    other = tmp_path / "worker1" / "model.keras.worker.keras"
    assert (tmp_path / "worker0" / "checkpoints").is_dir()
    assert not (tmp_path / "worker1" / "checkpoints").exists()  # one writer
    _assert_same_weights(_weights(project, chief), _weights(project, other), atol=0.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--loop", "fit", "--strategy", "multiworker"], "--strategy multiworker needs --loop"),
        (["--loop", "custom", "-o", "m.py"], "do not go with -o"),
        (["--strategy", "mirrored", "-o", "m.py"], "do not go with -o"),
    ],
)
def test_loop_options_that_do_not_fit_are_usage_errors(
    arguments: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "proj", "--preset", "mlp", *arguments])
    assert result.exit_code == 2 and message in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("task: clasification", "unknown task 'clasification' (did you mean 'classification'?)"),
        ("task: {logit: classification}", "task names output 'logit', which the model does"),
        ("loss: MeanSquareError()", "unknown loss 'MeanSquareError' (did you mean"),
        ("loss: Huber(delta=num_classes)", "losses and metrics take literal values"),
        ("metrics: [AUC(curve='PR'), Acuracy()]", "unknown metric 'Acuracy'"),
        ("metrics: [BinaryAccuracy(treshold=0.0)]", "BinaryAccuracy has no argument 'treshold'"),
        ("task: [classification, regression]", "a list gives one per output of list outputs"),
        ("task: {logits: none, value: none}", "no output trains"),
    ],
)
def test_training_section_mistakes_are_one_line_errors(
    section: str, message: str, tmp_path: Path
) -> None:
    spec = tmp_path / "heads.yaml"
    spec.write_text(TWO_HEADS.replace("task: {logits: classification, value: regression}", section))
    out = tmp_path / "heads.py"
    result = CliRunner().invoke(main, ["new", "Heads", "--spec", str(spec), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()
    assert result.output.startswith("Error: heads.yaml:")


@pytest.mark.parametrize("loop", LOOPS)
def test_mixed_precision_trains(loop: str, tmp_path: Path) -> None:
    """mixed_float16 with loss scaling: the loss stays finite and the saved model loads."""
    project = _project(tmp_path, f"mixed_{loop.replace('-', '_')}", TWO_HEADS, loop)
    output = _run_train(
        project, "--mixed-precision", "--epochs", "2", "--examples", "48", "--batch-size", "8"
    )
    assert "final loss" in output
    assert all(np.isfinite(_losses(project)))
    if loop == "custom":
        train = _import_train(project)
        assert "LossScaleOptimizer" in Path(train.__file__).read_text()


def test_explicit_losses_and_metrics_reach_train_py(tmp_path: Path) -> None:
    spec = TWO_HEADS.replace(
        "task: {logits: classification, value: regression}",
        "task: {logits: classification, value: regression}\n"
        "loss: {value: Huber(delta=0.5)}\n"
        "metrics: {logits: [\"SparseTopKCategoricalAccuracy(k=2, name='top2')\"], value: []}",
    )
    project = _project(tmp_path, "explicit", spec, "fit")
    text = (project / "train.py").read_text()
    assert '"value": tf.keras.losses.Huber(delta=0.5)' in text
    assert 'tf.keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")' in text
    assert '"logits": tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)' in text
    output = _run_train(project, "--epochs", "1", "--examples", "24", "--batch-size", "8")
    assert "final loss" in output


@pytest.mark.parametrize("loop", LOOPS)
def test_train_script_golden(loop: str, tmp_path: Path) -> None:
    """train.py of the MLP preset for each loop kind, and the train_step override, as
    reviewable files (`make golden` regenerates them)."""
    from test_new import _golden

    project = _project(tmp_path, "golden", "mlp", loop)
    _golden(f"train_{loop.replace('-', '_')}", (project / "train.py").read_text())
    if loop == "train-step":
        _golden("preset_mlp_train_step", (project / "src" / "golden" / "model.py").read_text())


def _compiled_two_heads(path: Path, compiled: bool = True) -> None:
    features = keras.Input((12,), name="features")
    trunk = keras.layers.Dense(16, activation="relu", name="trunk")(features)
    trunk = keras.layers.Dropout(0.2, name="drop")(trunk)
    outputs = {
        "kind": keras.layers.Dense(4, name="kind")(trunk),
        "score": keras.layers.Dense(1, name="score")(trunk),
    }
    model = keras.Model(features, outputs, name="heads")
    if compiled:
        model.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss={
                "kind": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                "score": "mse",
            },
            metrics={"kind": ["accuracy"], "score": ["mae"]},
            loss_weights={"kind": 1.0, "score": 10.0},
        )
    model.save(path)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_converted_model_trains_with_its_compile_arguments(loop: str, tmp_path: Path) -> None:
    """convert --loop writes a project around the verified module; train.py uses the
    original optimizer, losses and metrics (strings resolved for the custom loop)."""
    model_path = tmp_path / "heads.keras"
    _compiled_two_heads(model_path)
    project = tmp_path / f"heads_{loop.replace('-', '_')}"
    result = CliRunner().invoke(
        main, ["convert", str(model_path), "-o", str(project), "--loop", loop]
    )
    assert result.exit_code == 0, result.output
    assert "EQUIVALENT" in result.output and f"Wrote {project}/" in result.output
    text = (project / "train.py").read_text()
    assert "compile_config  # noqa: E402" in text or ", compile_config" in text
    assert 'compile_config().get("optimizer"' in text
    if loop == "custom":
        assert '"score": tf.keras.losses.get("mse")' in text
        assert 'SparseCategoricalAccuracy(name="accuracy")' in text
    else:
        assert '"score": "mse"' in text and '"kind": ["accuracy"]' in text
    model_text = (project / "src" / project.name / "model.py").read_text()
    assert ("def train_step(self, data):" in model_text) == (loop == "train-step")
    output = _run_train(project, "--epochs", "3", "--examples", "96", "--batch-size", "16")
    assert "final loss" in output
    losses = _losses(project)
    assert losses[-1] < losses[0], losses
    again = CliRunner().invoke(
        main, ["convert", str(model_path), "-o", str(project), "--loop", loop, "--check"]
    )
    assert again.exit_code == 0, again.output


def test_an_uncompiled_converted_model_trains_as_regression(tmp_path: Path) -> None:
    model_path = tmp_path / "plain.keras"
    _compiled_two_heads(model_path, compiled=False)
    project = tmp_path / "plain"
    result = CliRunner().invoke(
        main, ["convert", str(model_path), "-o", str(project), "--loop", "custom", "--no-verify"]
    )
    assert result.exit_code == 0, result.output
    text = (project / "train.py").read_text()
    assert "MeanSquaredError(reduction=reduction)" in text and "compile_config" not in text
    assert "final loss" in _run_train(project, "--epochs", "1", "--examples", "24")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--loop", "fit"], "--loop writes a project: give -o DIR"),
        (["--loop", "fit", "-o", "m.py"], "--loop writes a project: give -o DIR"),
        (["--loop", "fit", "-o", "proj", "--emit-test", "t.py"], "the project has its tests"),
        (["-o", "m.py", "--strategy", "mirrored"], "give --loop"),
        (["-o", "proj", "--loop", "fit", "--strategy", "multiworker"], "needs --loop custom"),
    ],
)
def test_convert_loop_options_that_do_not_fit_are_usage_errors(
    arguments: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compiled_two_heads(tmp_path / "heads.keras")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["convert", "heads.keras", *arguments])
    assert result.exit_code == 2 and message in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["heads.keras"]


@pytest.mark.parametrize("frozen", [False, True], ids=["weightless", "frozen"])
def test_a_model_with_nothing_to_train_gets_no_training_project(
    frozen: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its project's tests could only fail (no weight moves): refused, nothing written."""
    keras.backend.clear_session()
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Flatten()(inputs)
    if frozen:
        x = keras.layers.Dense(3, trainable=False)(x)
    keras.Model(inputs, keras.layers.Activation("softmax")(x)).save(tmp_path / "still.keras")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["convert", "still.keras", "-o", "proj", "--loop", "fit"])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        "Error: still.keras: the model has no trainable weights, so a training project "
        "would train nothing; convert it without --loop"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["still.keras"]
    result = CliRunner().invoke(main, ["convert", "still.keras", "-o", "still.py"])
    assert result.exit_code == 0, result.output


def test_an_unbuilt_model_is_refused_for_being_unbuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: --loop said "no trainable weights" for a model not built yet."""
    (tmp_path / "unbuilt_models.py").write_text(
        "import keras\nunbuilt = keras.Sequential([keras.layers.Dense(3)])\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(
        main, ["convert", "unbuilt_models:unbuilt", "-o", "proj", "--loop", "fit"]
    )
    assert result.exit_code == 1, result.output
    assert "the Sequential model is not built" in result.output, result.output


def test_whole_model_metrics_go_to_the_outputs_that_train(tmp_path: Path) -> None:
    spec = tmp_path / "ae.yaml"
    preset = (
        Path(__file__).parent.parent / "generator/from_spec/presets/autoencoder.yaml"
    ).read_text()
    spec.write_text(
        preset.replace("params:", "metrics: [MeanSquaredError(name='mse')]\nparams:", 1)
    )
    project = _project(tmp_path, "ae_metrics", spec.read_text(), "custom")
    text = (project / "train.py").read_text()
    assert '"reconstruction": [tf.keras.metrics.MeanSquaredError(name="mse")]' in text
    assert '"code": [' not in text


def test_a_converted_project_keeps_its_large_constants_beside_the_module(tmp_path: Path) -> None:
    """The assets file goes to src/<package>/model.assets.npz, is listed in the project's
    record (so --force replaces it like any file scaffold wrote), ships in the wheel's
    package data, and train.py runs with it."""
    features = keras.Input((32, 40), name="features")
    shifted = keras.ops.add(features, np.linspace(-1, 1, 32 * 40, dtype="float32").reshape(32, 40))
    head = keras.layers.Dense(2, name="head")(keras.layers.Flatten(name="flat")(shifted))
    model_path = tmp_path / "shifted.keras"
    keras.Model(features, head, name="shifted").save(model_path)
    project = tmp_path / "shifted"
    command = ["convert", str(model_path), "-o", str(project), "--loop", "fit"]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    assets = project / "src" / "shifted" / "model.assets.npz"
    assert assets.is_file()
    record = tomllib.loads((project / ".scaffold.toml").read_text())
    assert "src/shifted/model.assets.npz" in record["files"]
    assert '"*" = ["*.assets.npz"]' in (project / "pyproject.toml").read_text()
    before = assets.read_bytes()
    assets.write_bytes(b"stale")
    again = CliRunner().invoke(main, [*command, "--force"])
    assert again.exit_code == 0, again.output
    assert assets.read_bytes() == before
    assert "final loss" in _run_train(project, "--epochs", "1", "--examples", "24")
