"""The ``scaffold`` command line: the only module that reads arguments, prints and exits.

Exit codes (the one table, also in the README): 0 ok; 1 failure (cannot load, import or
write; ``--check`` found a difference); 2 usage error or bad spec; 3 verification
mismatch; 130 interrupted.
"""

from __future__ import annotations

import functools
import keyword
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from generator import __version__
from generator.errors import ScaffoldError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_MISMATCH, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

F = TypeVar("F", bound=Callable[..., Any])


class _ExitError(click.ClickException):
    """A one-line ``Error: ...`` with the exit code of the library error behind it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def _reports_errors(command: F) -> F:
    """Turn library errors into one-line messages and exit codes; Ctrl-C into 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ScaffoldError as exc:
            raise _ExitError(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; no file was written.", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _class_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not value.isidentifier() or keyword.iskeyword(value):
        raise click.BadParameter(f"{value!r} is not a valid Python class name")
    return value


_import_style_option = click.option(
    "--import-style",
    type=click.Choice(["tf", "keras"]),
    default="tf",
    show_default=True,
    help="'tf': import tensorflow as tf, tf.keras.*; 'keras': backend-agnostic import keras.",
)


def _verification_options(command: F) -> F:
    """Options shared by ``convert`` (which verifies by default) and ``verify``."""
    options = [
        click.option(
            "--atol",
            type=click.FloatRange(min=0),
            help="Absolute tolerance (default 1e-5; 1e-2 for float16/bfloat16).",
        ),
        click.option(
            "--rtol",
            type=click.FloatRange(min=0),
            help="Relative tolerance (default 1e-4; 1e-2 for float16/bfloat16).",
        ),
        click.option(
            "--batches",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Seeded input batches (of 4 samples) to compare.",
        ),
        click.option(
            "--seed", type=int, default=0, show_default=True, help="Seed of the first input batch."
        ),
        click.option(
            "--report-json",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write the verification report as JSON (for CI).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keras-scaffold")
def main() -> None:
    """Write clean tf.keras.Model subclasses from Keras models and short specs."""


@main.command()
@click.argument("model", metavar="MODEL")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the module to this file (atomically) instead of stdout.",
)
@click.option("--class-name", callback=_class_name, help="Name of the generated class.")
@_import_style_option
@click.option("--package", help="Package name used to register the class (default: module name).")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option(
    "--check", is_flag=True, help="Exit 1 if the output file differs from what would be generated."
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print a unified diff against the output file instead of writing.",
)
@click.option(
    "--unsafe",
    is_flag=True,
    help="Load the model outside Keras safe mode (only for files you trust).",
)
@click.option(
    "--custom-objects",
    metavar="MODULE",
    help="Import MODULE first; it registers your custom layers.",
)
@click.option(
    "--weights",
    "weights_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the model's weights for the generated class (FILE.weights.h5).",
)
@click.option(
    "--verify/--no-verify",
    "run_verification",
    default=True,
    show_default=True,
    help="Check numerically that the generated model matches (exit 3 if not).",
)
@click.option(
    "--emit-test",
    "emit_test",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a pytest file that keeps checking equivalence after you edit the class.",
)
@_verification_options
@_reports_errors
def convert(
    model: str,
    output: Path | None,
    class_name: str | None,
    import_style: str,
    package: str | None,
    force: bool,
    check: bool,
    show_diff: bool,
    unsafe: bool,
    custom_objects: str | None,
    weights_path: Path | None,
    run_verification: bool,
    emit_test: Path | None,
    atol: float | None,
    rtol: float | None,
    batches: int,
    seed: int,
    report_json: Path | None,
) -> None:
    """Convert a Sequential or Functional MODEL into an equivalent subclass.

    MODEL is a .keras file, a legacy .h5 file, or package.module:attr naming a model or a
    zero-argument function that returns one.
    """
    if (check or show_diff) and output is None:
        raise click.UsageError("--check and --diff compare against a file: give -o FILE")
    if emit_test is not None and output is None:
        raise click.UsageError("--emit-test checks a generated file: give -o FILE")
    from generator.convert import ConvertOptions, convert, export_weights
    from generator.from_keras.loading import import_custom_objects, load_model
    from generator.output.writing import is_up_to_date, unified_diff, write_atomic

    if custom_objects:
        import_custom_objects(custom_objects)
    loaded = load_model(model, safe_mode=not unsafe)
    options = ConvertOptions.for_output(
        output, loaded.model.name, class_name, package, import_style, unsafe
    )
    conversion = convert(loaded.model, options, loaded.source_name, loaded.sha256)
    source = conversion.source
    if show_diff:
        click.echo(unified_diff(output, source), nl=False)  # type: ignore[arg-type]
        if check and not is_up_to_date(output, source):  # type: ignore[arg-type]
            sys.exit(EXIT_FAILURE)
        return
    if check:
        if not is_up_to_date(output, source):  # type: ignore[arg-type]
            raise _ExitError(
                f"{output}: out of date; run the same command without --check", EXIT_FAILURE
            )
        click.echo(f"{output}: up to date", err=True)
        return
    if output is None:
        click.echo(source, nl=False)
    else:
        write_atomic(output, source, force=force)
        click.echo(f"Wrote {output} ({conversion.class_name})", err=True)
    if emit_test is not None and output is not None:
        _write_equivalence_test(emit_test, model, output, conversion.class_name, force)
    if weights_path is not None:
        export_weights(loaded.model, source, conversion.class_name, weights_path, force=force)
        click.echo(
            f"Wrote {weights_path} (load with {conversion.class_name}.from_weights(path))",
            err=True,
        )
    if not run_verification:
        click.echo("Not verified (--no-verify).", err=True)
        return
    from generator.verify import verify_source

    report = verify_source(
        loaded.model,
        source,
        conversion.class_name,
        atol=atol,
        rtol=rtol,
        batches=batches,
        seed=seed,
        progress=_progress_printer(),
        where=str(output) if output else "generated module",
    )
    _finish_report(report, report_json, written=output)


@main.command()
@click.argument("model", metavar="MODEL")
@click.argument("generated", metavar="GENERATED.py", type=click.Path(path_type=Path))
@click.option(
    "--class-name", callback=_class_name, help="Class to check (default: the last model class)."
)
@click.option("--unsafe", is_flag=True, help="Load the model outside Keras safe mode.")
@click.option("--custom-objects", metavar="MODULE", help="Import MODULE first (custom layers).")
@_verification_options
@_reports_errors
def verify(
    model: str,
    generated: Path,
    class_name: str | None,
    unsafe: bool,
    custom_objects: str | None,
    atol: float | None,
    rtol: float | None,
    batches: int,
    seed: int,
    report_json: Path | None,
) -> None:
    """Check that GENERATED.py (possibly hand-edited) computes what MODEL computes.

    Compares outputs and every layer's output in inference and training mode, gradients,
    and a save/load round trip. Exit 0 if equivalent, 3 on a mismatch.
    """
    from generator.errors import LoadError
    from generator.from_keras.loading import import_custom_objects, load_model
    from generator.verify import verify_source

    if custom_objects:
        import_custom_objects(custom_objects)
    if not generated.is_file():
        raise LoadError("no such file", where=str(generated))
    source = generated.read_text(encoding="utf-8")
    loaded = load_model(model, safe_mode=not unsafe)
    report = verify_source(
        loaded.model,
        source,
        class_name,
        atol=atol,
        rtol=rtol,
        batches=batches,
        seed=seed,
        progress=_progress_printer(),
        where=str(generated),
    )
    _finish_report(report, report_json, written=None)


@main.command()
@click.argument("name", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write only the model module to FILE (default: a project directory NAME/).",
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML architecture spec (see docs/spec.md).",
)
@click.option("--preset", help="A shipped spec: see --list-presets.")
@click.option(
    "--layers",
    metavar="CHAIN",
    help='A chain of layer calls: "Conv2D(32, 3) > Flatten() > Dense(num_classes)".',
)
@click.option("--input-shape", metavar="DIMS", help="Input shape for --layers, e.g. 28,28,1.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A constructor parameter for --layers (repeatable), e.g. num_classes=10.",
)
@click.option("--dtype", default="float32", show_default=True, help="Input dtype for --layers.")
@click.option("--class-name", callback=_class_name, help="Class name (default: from NAME).")
@_import_style_option
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--smoke-test",
    is_flag=True,
    help="Also build the model with TensorFlow and run a forward pass on dummy data.",
)
@click.option("--list-presets", is_flag=True, help="List the shipped presets and exit.")
@_reports_errors
def new(
    name: str | None,
    output: Path | None,
    spec_path: Path | None,
    preset: str | None,
    layers: str | None,
    input_shape: str | None,
    params: tuple[str, ...],
    dtype: str,
    class_name: str | None,
    import_style: str,
    force: bool,
    smoke_test: bool,
    list_presets: bool,
) -> None:
    """Write a starter tf.keras.Model subclass (and a small project) from a spec.

    NAME names the class (MyModel, or my_model -> MyModel) and the project directory.
    Never imports TensorFlow unless --smoke-test is given.
    """
    from generator import new as pipeline

    if list_presets:
        for preset_name in pipeline.preset_names():
            click.echo(f"{preset_name:<12} {pipeline.preset_summary(preset_name)}")
        return
    if not name:
        raise click.UsageError("give a NAME (or --list-presets)")
    from generator.output.writing import write_atomic

    spec = pipeline.resolve_spec(
        pipeline.SpecSource(spec_path, preset, layers, input_shape, params, dtype)
    )
    made = pipeline.generate(spec, name, output=output, class_name=class_name, style=import_style)
    if smoke_test:
        from generator.verify.smoke import smoke_test as run_smoke_test

        click.echo(run_smoke_test(made.source, made.module), err=True)
    if output is not None:
        write_atomic(output, made.source, force=force)
        click.echo(f"Wrote {output} ({made.module.main.class_name})", err=True)
        return
    from generator.output.project import write_project

    files = pipeline.project_files(made)
    target = Path(name)
    write_project(target, files, force=force)
    click.echo(f"Wrote {target}/ ({len(files)} files): {', '.join(sorted(files))}", err=True)


def _progress_printer() -> Callable[[str], None] | None:
    """Progress on one line of stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        click.echo(f"\r\x1b[K{message}...", nl=False, err=True)

    return show


def _finish_report(report: Any, report_json: Path | None, written: Path | None) -> None:
    from generator.output.writing import write_atomic
    from generator.verify.report import format_report
    from generator.verify.report import report_json as to_json

    if sys.stderr.isatty():
        click.echo("\r\x1b[K", nl=False, err=True)
    click.echo(format_report(report), err=True)
    if report_json is not None:
        write_atomic(report_json, to_json(report), force=True)
    if not report.ok:
        suffix = f"; {written} was written so you can inspect it" if written else ""
        raise _ExitError(f"not equivalent: {report.divergence}{suffix}", EXIT_MISMATCH)


def _write_equivalence_test(
    path: Path, model: str, generated: Path, class_name: str, force: bool
) -> None:
    from generator.output.render import equivalence_test_source
    from generator.output.writing import write_atomic

    write_atomic(path, equivalence_test_source(path, model, generated, class_name), force=force)
    click.echo(f"Wrote {path} (pytest {path})", err=True)
