"""Benchmarks, side by side with what users would use instead (``make bench``).

Each pair is measured in one run, alternating A and B, after a warm-up; medians (and the
spread) of at least 5 runs are reported with their ratio. Writes ``benchmarks/results.md``
and ``benchmarks/conversion_scaling.svg``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results.md"
PLOT = ROOT / "benchmarks" / "conversion_scaling.svg"


def alternate(
    a: Callable[[], Any], b: Callable[[], Any], runs: int = 5, warmup: int = 1
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately; return both lists of seconds."""
    for _ in range(warmup):
        a()
        b()
    times_a, times_b = [], []
    for _ in range(runs):
        for fn, bucket in ((a, times_a), (b, times_b)):
            started = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - started)
    return times_a, times_b


def summary(times: list[float]) -> str:
    median = statistics.median(times)
    return f"{median * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"


def seconds(times: list[float]) -> str:
    median = statistics.median(times)
    return f"{median:.3f} s (min {min(times):.3f}, max {max(times):.3f})"


def ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(a) / statistics.median(b)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import keras
    import tensorflow as tf

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )


# -- 1. start-up ------------------------------------------------------------------------------


def startup(rows: list[str]) -> None:
    work = Path(tempfile.mkdtemp())
    template = work / "template"
    (template / "{{cookiecutter.module}}").mkdir(parents=True)
    (template / "cookiecutter.json").write_text(
        json.dumps({"module": "my_model", "class_name": "MyModel", "num_classes": 10})
    )
    seed = subprocess.run(
        [str(BIN / "scaffold"), "new", "MyModel", "--preset", "mlp", "-o", str(work / "seed.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    del seed
    text = (work / "seed.py").read_text().replace("MyModel", "{{cookiecutter.class_name}}")
    (template / "{{cookiecutter.module}}" / "model.py").write_text(text)

    def run(args: list[str]) -> Callable[[], None]:
        return lambda: subprocess.run(args, capture_output=True, check=True)

    python_pass = run([sys.executable, "-c", "pass"])
    help_ = run([str(BIN / "scaffold"), "--help"])
    new = run(
        [
            str(BIN / "scaffold"),
            "new",
            "MyModel",
            "--preset",
            "mlp",
            "-o",
            str(work / "out.py"),
            "--force",
        ]
    )
    cookie = run(
        [str(BIN / "cookiecutter"), "--no-input", "-f", "-o", str(work / "cc"), str(template)]
    )
    a, b = alternate(help_, python_pass, runs=7)
    rows.append(
        f"| `scaffold --help` vs `python -c pass` | {summary(a)} | {summary(b)} | {ratio(a, b):.2f} | help < 150 ms: {'met' if statistics.median(a) < 0.15 else 'MISSED'} |"
    )
    a, b = alternate(new, cookie, runs=7)
    rows.append(
        f"| `scaffold new --preset mlp -o` vs cookiecutter (one-file template) | {summary(a)} | {summary(b)} | {ratio(a, b):.2f} | ≤ 1.0: {'met' if ratio(a, b) <= 1.0 else 'MISSED'} |"
    )


# -- 2. conversion cost -----------------------------------------------------------------------


def conversion(rows: list[str], plot_points: list[tuple[str, int, float]]) -> None:
    import keras
    from applications_catalog import build_application

    from generator.convert import ConvertOptions, model_to_ir
    from generator.output.formatting import format_source
    from generator.output.render import RenderOptions, in_black_style, render_module

    for name, size in [("ResNet50", 64), ("EfficientNetB0", 32), ("InceptionResNetV2", 75)]:
        model = build_application(name, size)
        json_config = model.to_json()
        shares: dict[str, list[float]] = {"read": [], "render": [], "black": []}

        def ours() -> None:
            t0 = time.perf_counter()
            module = model_to_ir(model, ConvertOptions(class_name="Converted"))
            t1 = time.perf_counter()
            text = render_module(module, RenderOptions())
            t2 = time.perf_counter()
            format_source(text, black_style=in_black_style(module, RenderOptions()))
            t3 = time.perf_counter()
            shares["read"].append(t1 - t0)
            shares["render"].append(t2 - t1)
            shares["black"].append(t3 - t2)

        a, b = alternate(ours, lambda: keras.models.model_from_json(json_config), runs=5)
        black = statistics.median(shares["black"][1:])
        read = statistics.median(shares["read"][1:])
        started = time.perf_counter()
        format_source(render_module(model_to_ir(model, ConvertOptions()), RenderOptions()))
        all_black = time.perf_counter() - started
        r = ratio(a, b)
        rows.append(
            f"| {name} ({len(model.layers)} layers) | {seconds(a)} | {seconds(b)} | {r:.2f} | "
            f"read {read:.2f} s, formatting {black:.2f} s ({black / statistics.median(a):.0%}; "
            f"Black on the whole file instead: {all_black:.2f} s); ≤ 1.0: {'met' if r <= 1.0 else 'MISSED'} |"
        )
        plot_points.append((name, len(model.layers), statistics.median(a)))


# -- 3. scaling ---------------------------------------------------------------------------------


def synthetic(layers_count: int, skips: bool) -> Any:
    import keras
    from keras import layers

    # Keras maps a Functional graph recursively: a 5,000-layer chain needs a deeper stack.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))

    keras.backend.clear_session()
    inputs = keras.Input((8,), name="x")
    x = inputs
    previous = inputs
    for i in range(layers_count):
        if skips and i % 3 == 2:
            x = layers.Add(name=f"add_{i}")([x, previous])
            previous = x
        else:
            x = layers.Dense(8, name=f"dense_{i}")(x)
    return keras.Model(inputs, x, name=f"synthetic_{layers_count}")


def scaling(rows: list[str], plot_points: list[tuple[str, int, float]]) -> None:
    from generator.convert import ConvertOptions, convert_model

    per_layer: dict[str, dict[int, float]] = {"chain": {}, "dag": {}}
    for kind in ("chain", "dag"):
        for count in (100, 1000, 5000):
            model = synthetic(count, skips=kind == "dag")
            # Building the model leaves garbage; collect it now rather than inside a timing.
            gc.collect()
            runs = 15 if count == 100 else 5  # the small model is the noisiest
            times, _ = alternate(
                lambda: convert_model(model, ConvertOptions(class_name="Synthetic")),
                lambda: None,
                runs=runs,
            )
            median = statistics.median(times)
            per_layer[kind][count] = median / count
            plot_points.append((f"{kind} {count}", count, median))
            rows.append(
                f"| {kind}, {count} layers ({runs} runs) | {seconds(times)} | {median / count * 1e3:.2f} ms/layer |"
            )
    for kind, values in per_layer.items():
        growth = values[5000] / values[100]
        rows.append(
            f"| {kind}: per-layer time at 5,000 / at 100 | {growth:.2f} | goal ≤ 1.5: {'met' if growth <= 1.5 else 'MISSED'} |"
        )


# -- 4. generated model speed -------------------------------------------------------------------


def model_speed(rows: list[str]) -> None:
    import keras
    import numpy as np
    import tensorflow as tf
    from applications_catalog import build_application
    from cases import build_case

    from generator.convert import ConvertOptions, convert_model
    from generator.verify import import_source, transfer_weights

    for label, original, batch_shape in [
        ("ResNet50 64x64", build_application("ResNet50", 64), (32, 64, 64, 3)),
        ("transformer block", build_case("attention_block"), (32, 10, 16)),
    ]:
        source = convert_model(original, ConvertOptions(class_name="Converted"))
        cls = import_source(source, "bench_generated").Converted
        generated = cls()
        generated.build(None)
        transfer_weights(original, generated)
        x = np.random.default_rng(0).standard_normal(batch_shape).astype("float32")
        a, b = alternate(
            lambda: generated(x, training=False),
            lambda: original(x, training=False),
            runs=20,
            warmup=2,
        )
        rows.append(
            f"| {label}: eager forward, batch 32 | {summary(a)} | {summary(b)} | {ratio(a, b):.3f} |"
        )
        gf = tf.function(lambda t: generated(t, training=False))
        of = tf.function(lambda t: original(t, training=False))
        a, b = alternate(lambda: gf(x), lambda: of(x), runs=20, warmup=2)
        rows.append(
            f"| {label}: tf.function forward, batch 32 | {summary(a)} | {summary(b)} | {ratio(a, b):.3f} |"
        )
        ours, theirs = kernel_counts(gf, x), kernel_counts(of, x)
        same = "identical" if ours == theirs else f"DIFFERENT: {(ours - theirs) + (theirs - ours)}"
        rows.append(
            f"| {label}: operations in the traced graph | {sum(ours.values())} | "
            f"{sum(theirs.values())} | {same} |"
        )
        json_config = original.to_json()

        def build_generated() -> None:
            # A fixed name, as model_from_json reuses the saved one: TensorFlow caches an
            # eager kernel per variable name, and fresh names (converted_1, converted_2, …)
            # would make every run pay ~1 ms per variable that model_from_json does not.
            model = cls(name="generated")
            model.build(None)

        a, b = alternate(
            build_generated, lambda: keras.models.model_from_json(json_config), runs=20
        )
        rows.append(
            f"| {label}: instantiate + build vs model_from_json | {summary(a)} | {summary(b)} | {ratio(a, b):.3f} |"
        )


def kernel_counts(function: Any, x: Any) -> Any:
    """How many of each operation a traced forward pass runs (inputs and no-ops aside)."""
    from collections import Counter

    import tensorflow as tf

    graph = function.get_concrete_function(tf.TensorSpec(x.shape, x.dtype)).graph
    skip = {"Placeholder", "NoOp", "Identity"}
    return Counter(op.type for op in graph.get_operations() if op.type not in skip)


# -- 5. verification ------------------------------------------------------------------------------


def verification(rows: list[str]) -> None:
    import numpy as np
    import tensorflow as tf
    from applications_catalog import build_application

    from generator.convert import ConvertOptions, convert_model
    from generator.verify import verify_source

    model = build_application("ResNet50", 64)
    source = convert_model(model, ConvertOptions(class_name="Converted"))
    # The same batch size as the verifier runs (its default: one batch of 4 samples).
    x = np.random.default_rng(0).standard_normal((4, 64, 64, 3)).astype("float32")

    def forward_backward() -> None:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x, training=False))
        tape.gradient(loss, model.trainable_weights)

    phases: list[float] = []

    def verify_once() -> None:
        stamps: list[tuple[str, float]] = []
        report = verify_source(
            model, source, "Converted", progress=lambda m: stamps.append((m, time.perf_counter()))
        )
        save_start = next(t for m, t in stamps if m.startswith("save/load"))
        phases.append(report.seconds - (time.perf_counter() - save_start))

    a, b = alternate(verify_once, forward_backward, runs=5)
    without = statistics.median(phases[1:])
    fb = statistics.median(b)
    rows.append(
        f"| ResNet50 64x64: verify (defaults: 1 batch of 4 samples, all checks) vs one forward+backward on 4 samples | {seconds(a)} | {seconds(b)} | {ratio(a, b):.1f} | goal ≤ 10: {'met' if ratio(a, b) <= 10 else 'MISSED'} |"
    )
    rows.append(
        f"| same, without the save/load round trip | {without:.2f} s | {fb:.3f} s | {without / fb:.1f} | goal ≤ 6: {'met' if without / fb <= 6 else 'MISSED'} |"
    )


# -- 6. peak memory -------------------------------------------------------------------------------


def memory(rows: list[str]) -> None:
    from applications_catalog import build_application

    work = Path(tempfile.mkdtemp())
    path = work / "irv2.keras"
    build_application("InceptionResNetV2", 75).save(path)

    def peak(args: list[str]) -> float:
        """Peak resident memory of one command, in MiB, from GNU time."""
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *args], capture_output=True, text=True, check=True
        )
        return int(result.stderr.strip().splitlines()[-1]) / 1024

    load = [sys.executable, "-c", f"import keras; keras.saving.load_model({str(path)!r})"]
    convert = [
        str(BIN / "scaffold"),
        "convert",
        str(path),
        "--no-verify",
        "-o",
        str(work / "x.py"),
        "--force",
    ]
    verify = [str(BIN / "scaffold"), "convert", str(path), "-o", str(work / "y.py"), "--force"]
    load_mib, convert_mib, verify_mib = peak(load), peak(convert), peak(verify)
    rows.append(
        f"| InceptionResNetV2: `scaffold convert --no-verify` vs loading the model | {convert_mib:.0f} MiB | {load_mib:.0f} MiB | {convert_mib / load_mib:.2f} | goal ≤ 1.3: {'met' if convert_mib / load_mib <= 1.3 else 'MISSED'} |"
    )
    rows.append(
        f"| InceptionResNetV2: `scaffold convert` with verification | {verify_mib:.0f} MiB | {load_mib:.0f} MiB | {verify_mib / load_mib:.2f} | |"
    )


def plot(points: list[tuple[str, int, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for label, count, secs in points:
        marker = "o" if label.startswith(("chain", "dag")) else "s"
        axes.scatter(count, secs, marker=marker)
        axes.annotate(label, (count, secs), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("layers in the model")
    axes.set_ylabel("conversion time (s), median")
    axes.set_title("scaffold convert: time against model size")
    figure.tight_layout()
    figure.savefig(PLOT, metadata={"Date": None})


# -- 7. training steps --------------------------------------------------------------------------


def training_speed(rows: list[str]) -> None:
    """One optimizer step of the generated train_step override and of the custom loop's
    compiled step against Keras's own fit() step, same model (resnet preset) and batch.
    fit()'s step is timed through ``train_on_batch``: the same compiled train function
    that fit() calls once per batch, without fit()'s epoch and callback bookkeeping."""
    import importlib.util

    import keras
    import numpy as np
    import tensorflow as tf
    from click.testing import CliRunner

    from generator.cli import main as scaffold

    work = Path(tempfile.mkdtemp(prefix="bench-training-"))
    trains = {}
    for loop in ("fit", "train-step", "custom"):
        name = f"bench_{loop.replace('-', '_')}"
        result = CliRunner().invoke(
            scaffold, ["new", str(work / name), "--preset", "resnet", "--loop", loop]
        )
        assert result.exit_code == 0, result.output
        spec = importlib.util.spec_from_file_location(name, work / name / "train.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        trains[loop] = module
    inputs = trains["fit"].load_data(32)
    targets = np.random.default_rng(1).integers(0, 10, size=32)

    def model_of(loop: str) -> Any:
        cls = next(
            value
            for value in vars(trains[loop]).values()
            if isinstance(value, type) and issubclass(value, keras.Model)
        )
        model = cls()
        model.build(None)
        return model

    for jit in (False, True):
        keras.utils.set_random_seed(0)
        steps = {}
        for loop in ("fit", "train-step"):
            model = model_of(loop)
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3),
                loss=trains[loop].make_losses(),
                jit_compile=jit,
            )
            steps[loop] = lambda model=model: model.train_on_batch(inputs, targets)
        model = model_of("custom")
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(model.trainable_variables)
        step = trains["custom"].make_train_step(
            tf.distribute.get_strategy(),
            model,
            optimizer,
            trains["custom"].make_losses(reduction=None),
            {"output": []},
            keras.metrics.Mean(),
        )
        if jit:
            step = tf.function(step.python_function, jit_compile=True)
        batch = (tf.constant(inputs), tf.constant(targets))
        steps["custom"] = lambda step=step: float(step(batch))
        label = "XLA (jit_compile=True)" if jit else "graph (tf.function)"
        for loop in ("train-step", "custom"):
            a, b = alternate(steps[loop], steps["fit"], runs=30, warmup=3)
            rows.append(
                f"| {loop} vs fit()'s own step, {label} | {summary(a)} | {summary(b)} | "
                f"{ratio(a, b):.3f} | <= 1.05 |"
            )


# -- 8. structure recovery --------------------------------------------------------------------


LINE_GOALS = {
    "ResNet50": 150,
    "EfficientNetB0": 260,
    "MobileNetV2": 200,
    "ConvNeXtTiny": 180,
    "InceptionResNetV2": 400,
    "DenseNet121": 150,
}


def structure_recovery(rows: list[str]) -> None:
    """Conversion with structure recovery (the default) against ``--flat``: time and the
    generated module's length after Black, on applications and the synthetic models."""
    import keras

    from generator.convert import ConvertOptions, convert_model

    def both(model: Any, label: str, runs: int, timed: bool = True) -> None:
        gc.collect()
        factored_source = convert_model(model, ConvertOptions(class_name="Converted"))
        flat_source = convert_model(model, ConvertOptions(class_name="Converted", flat=True))
        factored, flat = alternate(
            lambda: convert_model(model, ConvertOptions(class_name="Converted")),
            lambda: convert_model(model, ConvertOptions(class_name="Converted", flat=True)),
            runs=runs,
        )
        r = ratio(factored, flat)
        lines = factored_source.count("\n")
        goal = LINE_GOALS.get(label.split(" ")[0])
        line_note = f"{lines} lines (flat {flat_source.count(chr(10))})"
        if goal is not None:
            line_note += f"; goal ≤ {goal}: {'met' if lines <= goal else 'MISSED'}"
        time_goal = f"≤ 1.5: {'met' if r <= 1.5 else 'MISSED'}" if timed else "none"
        rows.append(
            f"| {label} | {seconds(factored)} | {seconds(flat)} | {r:.2f} | "
            f"{time_goal} | {line_note} |"
        )

    for name in LINE_GOALS:
        keras.backend.clear_session()
        model = getattr(keras.applications, name)(weights=None)
        # The time goal names InceptionResNetV2 and the synthetic models only.
        timed = name == "InceptionResNetV2"
        both(model, f"{name} ({len(model.layers)} layers)", runs=5, timed=timed)
    per_layer: dict[str, dict[int, float]] = {"chain": {}, "dag": {}}
    for kind in ("chain", "dag"):
        for count in (100, 5000):
            model = synthetic(count, skips=kind == "dag")
            gc.collect()
            times, _ = alternate(
                lambda: convert_model(model, ConvertOptions(class_name="Synthetic")),
                lambda: None,
                runs=5,
            )
            per_layer[kind][count] = statistics.median(times) / count
            if count == 5000:
                both(model, f"synthetic {kind}, 5,000 layers", runs=3)
    for kind, values in per_layer.items():
        growth = values[5000] / values[100]
        rows.append(
            f"| synthetic {kind}: per-layer time at 5,000 / at 100, with recovery | "
            f"{growth:.2f} | | | goal ≤ 1.5: {'met' if growth <= 1.5 else 'MISSED'} | |"
        )


SECTIONS: list[tuple[str, str, str, Callable[..., None]]] = [
    (
        "1",
        "Start-up",
        "| pair (A vs B) | A median | B median | A/B | goal |\n| --- | --- | --- | --- | --- |",
        startup,
    ),
    (
        "2",
        "Conversion cost (excluding TensorFlow import and model loading)",
        "| model | scaffold (read + render + format) | model_from_json | ratio | notes |\n"
        "| --- | --- | --- | --- | --- |",
        conversion,
    ),
    (
        "3",
        "Scaling on synthetic models",
        "| model | conversion (median) | per layer |\n| --- | --- | --- |",
        scaling,
    ),
    (
        "4",
        "The generated model's speed against the original (20 alternating runs)",
        "| measurement | generated | original | ratio |\n| --- | --- | --- | --- |",
        model_speed,
    ),
    (
        "5",
        "Verification time",
        "| measurement | verification | forward+backward | ratio | goal |\n"
        "| --- | --- | --- | --- | --- |",
        verification,
    ),
    (
        "6",
        "Peak memory",
        "| measurement | A | B | A/B | goal |\n| --- | --- | --- | --- | --- |",
        memory,
    ),
    (
        "7",
        "Training step: generated train_step and custom loop against fit() "
        "(resnet preset, batch 32, 30 alternating runs)",
        "| pair (A vs B) | A median | B median | A/B | goal |\n| --- | --- | --- | --- | --- |",
        training_speed,
    ),
    (
        "8",
        "Structure recovery: conversion with blocks (the default) against --flat "
        "(224 px applications; median of alternating runs)",
        "| model | with recovery | --flat | ratio | time goal | lines after Black |\n"
        "| --- | --- | --- | --- | --- | --- |",
        structure_recovery,
    ),
]
PLOTTED = {"2", "3"}  # sections that also add points to the scaling plot


def rerun_section(number: str) -> None:
    """Measure one section again and replace (or add) its rows in the existing results.md."""
    _, title, header, fill = next(entry for entry in SECTIONS if entry[0] == number)
    rows: list[str] = []
    fill(rows)
    lines = RESULTS.read_text().splitlines()
    found = [i for i, line in enumerate(lines) if line.startswith(f"## {number}.")]
    if not found:  # a section added since the last full run: before the analysis
        at = next((i for i, line in enumerate(lines) if line == "## Analysis"), len(lines))
        block = [f"## {number}. {title}", "", *header.splitlines(), *rows, ""]
        RESULTS.write_text("\n".join([*lines[:at], *block, *lines[at:]]) + "\n")
        return
    header_end = found[0] + 4  # title, blank, header, separator
    end = next(
        (i for i in range(header_end, len(lines)) if not lines[i].startswith("|")), len(lines)
    )
    RESULTS.write_text("\n".join([*lines[:header_end], *rows, *lines[end:]]) + "\n")


def main() -> None:
    from generator.from_keras.environment import import_keras

    import_keras()
    if sys.argv[1:]:  # e.g. `run.py 5 6`: measure those sections again, keep the rest
        alone = [number for number, *_ in SECTIONS if number not in PLOTTED]
        for number in sys.argv[1:]:
            if number not in alone:
                raise SystemExit(f"sections that can be rerun alone: {', '.join(alone)}")
            rerun_section(number)
        return
    sections: list[tuple[str, str, list[str]]] = []
    points: list[tuple[str, int, float]] = []
    for number, title, header, fill in SECTIONS:
        print(f"running: {number}. {title}", flush=True)
        rows: list[str] = []
        try:
            fill(rows, points) if number in PLOTTED else fill(rows)
        except Exception as exc:  # a failed section is reported, not hidden
            rows.append(f"| failed: {type(exc).__name__}: {exc} |")
        sections.append((f"{number}. {title}", header, rows))
    plot(points)
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        "",
        "Produced by `make bench` (`benchmarks/run.py`); pairs alternate A and B after a warm-up;",
        "medians with min and max. Plot: [conversion_scaling.svg](conversion_scaling.svg).",
        "",
    ]
    for title, header, rows in sections:
        lines += [f"## {title}", "", header, *rows, ""]
    # The hand-written analysis of missed goals survives a re-run.
    previous = RESULTS.read_text() if RESULTS.exists() else ""
    if "\n## Analysis" in previous:
        lines.append(previous[previous.index("\n## Analysis") + 1 :].rstrip())
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
