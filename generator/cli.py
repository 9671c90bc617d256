"""The ``scaffold`` command line: the only module that reads arguments, prints and exits.

Exit codes (the one table, also in the README): 0 ok; 1 failure (cannot load, import or
write; ``--check`` found a difference); 2 usage error, bad spec, pack or settings; 3
verification mismatch; 4 ``update`` merged with conflicts to resolve; 130 interrupted by
SIGINT, 143 by SIGTERM.

Every file a command writes goes through one ``FileSet``: staged first, moved into place
together at the end. Errors and interrupts before that point leave the disk as it was,
and every message says which files, if any, were written.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import keyword
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from generator import __version__, interrupts
from generator.errors import ScaffoldError, one_line, reported
from generator.interrupts import Interrupted
from generator.output.writing import FileSet

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_MISMATCH, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # 128 + the signal's number

F = TypeVar("F", bound=Callable[..., Any])


class _Session:
    """The files of the command that runs now (one per process)."""

    files = FileSet()


class _ExitError(click.ClickException):
    """A one-line ``Error: ...`` with the exit code of the library error behind it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def _interrupted_message(files: FileSet) -> str:
    if not files.committed:
        return "Interrupted; no file was written."
    return f"Interrupted after writing {_names(files.committed)}; nothing else was written."


def _names(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def _reports_errors(command: F) -> F:
    """One-line messages and exit codes for library errors, interrupts and surprises.

    Once the command body has returned or raised, signals are ignored (``interrupts``):
    what follows only cleans up and reports, and must say what happened in full.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        files = _Session.files = FileSet()
        try:
            return command(*args, **kwargs)
        except BaseException as exc:
            interrupts.ignore_from_now()
            files.discard()
            _raise_reported(exc, files)
        finally:
            interrupts.ignore_from_now()

    return wrapper  # type: ignore[return-value]


def _raise_reported(exc: BaseException, files: FileSet) -> None:
    """Re-raise ``exc`` as click reports it: one line, the right exit code."""
    signum = interrupts.received()
    if signum is not None and isinstance(exc, Exception):
        # The interrupt came first; some library swallowed it and failed after it
        # (``matplotlib`` half imported). What happened is the interrupt.
        exc = Interrupted(signum)
    if isinstance(exc, ScaffoldError):
        raise _ExitError(reported(exc), exc.exit_code) from None
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        click.echo(_interrupted_message(files), err=True)
        sys.exit(exc.exit_code if isinstance(exc, Interrupted) else EXIT_SIGINT)
    if isinstance(exc, (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit)):
        raise exc
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        raise exc  # stdout closed early (``| head``): click exits quietly
    if os.environ.get("SCAFFOLD_DEBUG") == "1" or not isinstance(exc, Exception):
        raise exc
    # A bug (ours or Keras's), not a user mistake: one line, the traceback on request.
    raise _ExitError(
        f"internal error: {type(exc).__name__}: {one_line(exc, 200)} (set SCAFFOLD_DEBUG=1 "
        "for the traceback and please report it)",
        EXIT_FAILURE,
    ) from None


def _commit(files: FileSet) -> None:
    """Move the staged files into place: the command's last piece of work. A signal
    that arrives meanwhile waits, and then changes nothing."""
    with interrupts.deferred():
        files.commit()
        interrupts.ignore_from_now()


def _note(message: str) -> None:
    """A message after the work is done: a closed or full stderr must not fail the run."""
    with contextlib.suppress(OSError):
        click.echo(message, err=True)


def run() -> None:
    """The console entry point: ``main`` with SIGINT and SIGTERM handled (``interrupts``)."""
    interrupts.install()
    try:
        main.main(prog_name="scaffold")
        code = EXIT_OK
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else 1)
    except Interrupted as exc:  # while click parsed options, or as the command returned
        interrupts.ignore_from_now()
        _Session.files.discard()
        click.echo(_interrupted_message(_Session.files), err=True)
        code = exc.exit_code
    interrupts.ignore_from_now()  # the work is done: a late signal changes nothing
    if code in (EXIT_SIGINT, EXIT_SIGTERM):
        # Interrupted mid-work: skip interpreter shutdown. TensorFlow threads caught
        # mid-call can abort it ("Fatal Python error: PyThreadState_Get"), which would
        # turn exit 130 into a crash. The files are already discarded; flush and go.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _class_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not value.isidentifier() or keyword.iskeyword(value):
        raise click.BadParameter(f"{value!r} is not a valid Python class name")
    return value


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


# Outputs are checked by output.writing.destination, whose messages say more than click's.


class _FilePath(click.Path):
    """A file to write: ``newdir/`` names a directory, though ``Path`` drops the slash
    (a file named ``newdir`` was written)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and value.endswith(("/", os.sep)):
            self.fail(f"{value!r} ends with '/', a directory; give a file, such as {value}model.py")
        return super().convert(value, param, ctx)


_OUTPUT_PATH = _FilePath(path_type=Path, readable=False)
_import_style_option = click.option(
    "--import-style",
    type=click.Choice(["tf", "keras"]),
    default="tf",
    help="'tf' (default, or [tool.scaffold] import_style): import tensorflow as tf, "
    "tf.keras.*; 'keras': backend-agnostic import keras.",
)
_compare_options = _options(
    click.option(
        "--check", is_flag=True, help="Exit 1 if the output differs from what would be generated."
    ),
    click.option(
        "--diff",
        "show_diff",
        is_flag=True,
        help="Print a unified diff against the output instead of writing.",
    ),
)
_report_json_option = click.option(
    "--report-json",
    type=_OUTPUT_PATH,
    help="Also write the verification report as JSON (for CI).",
)
_verification_options = _options(
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
        "--inputs",
        "given_inputs",
        metavar="FILE.npz|MODULE:FUNCTION",
        help="Compare on these inputs instead of generated ones (one array per input name).",
    ),
    _report_json_option,
)


_profile_option = click.option(
    "--profile",
    metavar="NAME",
    help="Use the settings of [tool.scaffold.profiles.NAME] in pyproject.toml.",
)
_pack_options = _options(
    click.option(
        "--template",
        metavar="PACK",
        help="Template pack: a directory, an installed pack's name, or 'builtin' "
        "(default: SCAFFOLD_TEMPLATE, then [tool.scaffold] template).",
    ),
    click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        help="A variable of the template pack (repeatable; see scaffold templates show).",
    ),
    _profile_option,
)


def _settings(profile: str | None, **options: Any) -> Any:
    """The effective settings: options given on the command line over the environment
    over ``[tool.scaffold]`` (and ``--profile``) over defaults."""
    from click.core import ParameterSource

    from generator.settings import load_settings

    ctx = click.get_current_context()
    given = {
        key: value
        for key, value in options.items()
        if ctx.get_parameter_source(key) not in (None, ParameterSource.DEFAULT)
    }
    return load_settings(profile=profile).with_command_line(given)


def _training_options(default_loop: str | None) -> Callable[[Any], Any]:
    """--loop, --strategy and --mixed-precision: how a project's train.py trains."""
    project = "the project's" if default_loop else "a project's (with -o DIR)"
    options = [
        click.option(
            "--loop",
            type=click.Choice(["fit", "train-step", "custom"]),
            default=default_loop,
            help=f"How {project} train.py trains: compile()/fit(), fit() with the class's "
            "own train_step(), or an explicit compiled loop with checkpoints "
            "(docs/training.md)"
            + (f"; default {default_loop}, or [tool.scaffold] loop." if default_loop else "."),
        ),
        click.option(
            "--strategy",
            type=click.Choice(["default", "mirrored", "multiworker"]),
            default="default",
            show_default=True,
            help="train.py's default tf.distribute strategy (multiworker: --loop custom).",
        ),
        click.option(
            "--mixed-precision",
            is_flag=True,
            help="train.py computes in float16 by default (mixed_float16, loss scaling).",
        ),
    ]

    def apply(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def _check_training_options(loop: str | None, strategy: str) -> None:
    if strategy == "multiworker" and loop != "custom":
        raise click.UsageError(
            "--strategy multiworker needs --loop custom: in Keras 3, fit() under "
            "MultiWorkerMirroredStrategy fails on its first batch (docs/training.md)"
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keras-scaffold")
def main() -> None:
    """Write clean tf.keras.Model subclasses from Keras models and short specs."""


@main.command()
@click.argument("model", metavar="MODEL")
@click.option(
    "-o",
    "--output",
    type=_OUTPUT_PATH,
    help="Write the module to this file (atomically) instead of stdout.",
)
@click.option("--class-name", callback=_class_name, help="Name of the generated class.")
@_import_style_option
@click.option("--package", help="Package name used to register the class (default: module name).")
@click.option("--force", is_flag=True, help="Overwrite output files that exist.")
@_compare_options
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
    type=_OUTPUT_PATH,
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
    type=_OUTPUT_PATH,
    help="Also write a pytest file that keeps checking equivalence after you edit the class.",
)
@click.option(
    "--flat",
    is_flag=True,
    help="One statement per graph node: no block classes, loops or renamed variables.",
)
@click.option(
    "--weightless-layers",
    is_flag=True,
    help="Keep Add, Concatenate, Activation and the like as layers, not operators "
    "(x + shortcut, keras.activations.relu(x)).",
)
@_training_options(None)
@_verification_options
@_pack_options
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
    flat: bool,
    weightless_layers: bool,
    atol: float | None,
    rtol: float | None,
    batches: int,
    seed: int,
    given_inputs: str | None,
    report_json: Path | None,
    loop: str | None,
    strategy: str,
    mixed_precision: bool,
    template: str | None,
    variables: tuple[str, ...],
    profile: str | None,
) -> None:
    """Convert a Sequential or Functional MODEL into an equivalent subclass.

    MODEL is a .keras file, a legacy .h5 file, or package.module:attr naming a model or a
    zero-argument function that returns one. With --loop, -o names a project directory:
    the module, a train.py with the original compile() arguments, tests and a README.
    """
    _check_training_options(loop, strategy)
    if loop is None and (strategy != "default" or mixed_precision):
        raise click.UsageError("--strategy and --mixed-precision shape train.py: give --loop")
    if loop is not None and (output is None or output.suffix == ".py"):
        raise click.UsageError("--loop writes a project: give -o DIR (a directory, not FILE.py)")
    if loop is not None and emit_test is not None:
        raise click.UsageError("--emit-test is for a module alone: the project has its tests")
    if (check or show_diff) and output is None:
        raise click.UsageError("--check and --diff compare against a file: give -o FILE")
    if emit_test is not None and output is None:
        raise click.UsageError("--emit-test checks a generated file: give -o FILE")
    if report_json is not None and not run_verification:
        raise click.UsageError("--report-json reports the verification: drop --no-verify")
    from generator.commands import ConvertJob, Verification, conversion_files, convert_to_files
    from generator.output.project import TrainingOptions
    from generator.settings import choose_pack

    settings = _settings(
        profile,
        template=template,
        import_style=import_style,
        package=package,
        atol=atol,
        rtol=rtol,
    )
    pack, pack_variables = choose_pack(settings, variables)
    import_style, package = settings["import_style"], settings["package"]
    atol, rtol = settings["atol"], settings["rtol"]
    verification = Verification(atol, rtol, batches, seed, report_json, given_inputs)
    job = ConvertJob(
        model,
        output=output,
        emit_test=emit_test,
        weights=weights_path,
        force=force,
        class_name=class_name,
        package=package,
        import_style=import_style,
        unsafe=unsafe,
        custom_objects=custom_objects,
        verification=verification if run_verification else None,
        project=TrainingOptions(loop, strategy, mixed_precision) if loop else None,
        flat=flat,
        weightless_layers=weightless_layers,
        pack=pack,
        variables=pack_variables,
    )
    if check or show_diff:
        assert output is not None
        expected = conversion_files(job)
        if expected.fallback:
            _note(_fallback_warning(expected.fallback))
        _compare(expected.files, output, check=check, show_diff=show_diff)
        return
    files = _Session.files
    done = convert_to_files(job, files, _progress_printer())
    _commit(files)
    if output is None:
        click.echo(done.source, nl=False)
    notes = {
        "-o": f"({done.class_name})",
        "--emit-test": f"(pytest {emit_test})",
        "--weights": f"(load with {done.class_name}.from_weights(path))",
        "--report-json": "(verification report)",
        "assets": "(constants too large for source; keep it beside the module)",
    }
    if done.fallback:
        _note(_fallback_warning(done.fallback))
    if done.project is not None:
        _note(done.project.describe())
    for option, dest in done.written.items():
        _note(f"Wrote {dest.path} {notes[option]}")
    if done.report is None:
        _note("Not verified (--no-verify).")
    else:
        _finish_report(done.report, files.committed)


@main.command()
@click.argument("model", metavar="MODEL")
@click.argument("generated", metavar="GENERATED.py", type=click.Path(path_type=Path))
@click.option(
    "--class-name", callback=_class_name, help="Class to check (default: the last model class)."
)
@click.option("--unsafe", is_flag=True, help="Load the model outside Keras safe mode.")
@click.option("--custom-objects", metavar="MODULE", help="Import MODULE first (custom layers).")
@click.option("--force", is_flag=True, help="Overwrite the --report-json file if it exists.")
@_verification_options
@_profile_option
@_reports_errors
def verify(
    model: str,
    generated: Path,
    class_name: str | None,
    unsafe: bool,
    custom_objects: str | None,
    force: bool,
    atol: float | None,
    rtol: float | None,
    batches: int,
    seed: int,
    given_inputs: str | None,
    report_json: Path | None,
    profile: str | None,
) -> None:
    """Check that GENERATED.py (possibly hand-edited) computes what MODEL computes.

    Compares outputs and every layer's output in inference and training mode, gradients,
    and a save/load round trip. Exit 0 if equivalent, 3 on a mismatch.
    """
    from generator.commands import Verification, VerifyJob, verify_generated

    settings = _settings(profile, atol=atol, rtol=rtol)
    atol, rtol = settings["atol"], settings["rtol"]
    verification = Verification(atol, rtol, batches, seed, report_json, given_inputs)
    job = VerifyJob(model, generated, class_name, unsafe, custom_objects, force, verification)
    files = _Session.files
    report = verify_generated(job, files, _progress_printer())
    _commit(files)
    for path in files.committed:
        _note(f"Wrote {path} (verification report)")
    _finish_report(report, [])


@main.command()
@click.argument("name", required=False)
@click.option(
    "-o",
    "--output",
    type=_OUTPUT_PATH,
    help="Write only the model module to FILE (default: a project directory NAME/).",
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML architecture spec (see docs/spec.md).",
)
@click.option("--preset", help="A shipped spec, or one of the template pack's: see --list-presets.")
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
@click.option(
    "--custom-objects",
    multiple=True,
    metavar="MODULE",
    help="A module of your own layer classes the spec may call (imports it; repeatable).",
)
@click.option("--class-name", callback=_class_name, help="Class name (default: from NAME).")
@_import_style_option
@click.option(
    "--force", is_flag=True, help="Replace the files scaffold generates (never any other file)."
)
@click.option(
    "--merge",
    is_flag=True,
    help="Write the project into an existing directory that scaffold did not make.",
)
@_compare_options
@click.option(
    "--smoke-test",
    is_flag=True,
    help="Also build the model with TensorFlow and run a forward pass on dummy data.",
)
@_training_options("fit")
@click.option(
    "--list-presets",
    is_flag=True,
    help="List the presets (shipped, and the template pack's) and exit.",
)
@_pack_options
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
    custom_objects: tuple[str, ...],
    class_name: str | None,
    import_style: str,
    force: bool,
    merge: bool,
    check: bool,
    show_diff: bool,
    smoke_test: bool,
    loop: str,
    strategy: str,
    mixed_precision: bool,
    list_presets: bool,
    template: str | None,
    variables: tuple[str, ...],
    profile: str | None,
) -> None:
    """Write a starter tf.keras.Model subclass (and a small project) from a spec.

    NAME names the class (MyModel, or my_model -> MyModel) and the project directory.
    Never imports TensorFlow unless --smoke-test is given.
    """
    from generator import new as pipeline
    from generator.packs.pack import pack_presets
    from generator.settings import choose_pack

    settings = _settings(profile, template=template, import_style=import_style, loop=loop)
    import_style, loop = settings["import_style"], settings["loop"]
    pack, pack_variables = choose_pack(settings, variables)
    presets = pack_presets(pack)
    if list_presets:
        for found in pipeline.available_presets(presets).values():
            summary = pipeline.preset_summary(found.name, presets)
            click.echo(f"{found.name:<12} {summary}  [{found.origin}]")
        return
    if not name:
        raise click.UsageError("give a NAME (or --list-presets)")
    if merge and output is not None:
        raise click.UsageError("--merge writes a project directory; it does not go with -o")
    if output is not None and (loop == "custom" or strategy != "default" or mixed_precision):
        raise click.UsageError(
            "--loop custom, --strategy and --mixed-precision shape the project's train.py; "
            "they do not go with -o (a module alone takes --loop train-step)"
        )
    _check_training_options(loop, strategy)
    from generator.output.project_write import stage_project
    from generator.output.writing import destination

    files = _Session.files
    inputs = (spec_path,) if spec_path is not None else ()
    comparing = check or show_diff
    dest = None
    if output is not None and not comparing:  # checked before any work is done
        dest = destination(output, force=force, inputs=inputs, option="-o")
    source = pipeline.SpecSource(
        spec_path, preset, layers, input_shape, params, dtype, custom_objects, presets
    )
    spec = pipeline.resolve_spec(source)
    training = pipeline.TrainingOptions(loop, strategy, mixed_precision)
    made = pipeline.generate(
        spec,
        name,
        output=output,
        class_name=class_name,
        style=import_style,
        training=training,
        pack=pack,
        variables=pack_variables,
    )
    if smoke_test:
        from generator.verify.smoke import smoke_test as run_smoke_test

        click.echo(run_smoke_test(made.source, made.module), err=True)
    target = output or Path(name)
    expected: dict[Path, str | bytes]
    if output is not None:
        expected = {output: made.source}
    else:
        expected = {target / rel: text for rel, text in pipeline.project_files(made).items()}
    if comparing:
        _compare(expected, target, check=check, show_diff=show_diff)
        return
    if dest is not None:
        files.write_text(dest, made.source)
        message = f"Wrote {output} ({made.module.main.class_name})"
    else:
        project = pipeline.project_files(made)
        record, spec_text = pipeline.provenance(made, source, target)
        written = stage_project(
            target,
            project,
            files,
            force=force,
            merge=merge,
            inputs=inputs,
            provenance=record,
            spec_text=spec_text,
        )
        message = written.describe()
    _commit(files)
    _note(message)


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path), default=".")
@click.option(
    "--dry-run", is_flag=True, help="Show what would change (a diff per file); write nothing."
)
@click.option(
    "--template",
    metavar="PACK",
    help="Render with this template pack instead of the one the project records.",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a variable of the template pack (repeatable).",
)
@_reports_errors
def update(
    directory: Path, dry_run: bool, template: str | None, variables: tuple[str, ...]
) -> None:
    """Render the project in DIRECTORY (default: here) again and merge it with your edits.

    Uses the current templates (the recorded pack, or --template) and the spec the project
    keeps in .scaffold/spec.yaml. Where you and the templates changed the same lines, the
    file gets conflict markers (<<<<<<< yours / >>>>>>> scaffold) and the exit code is 4.
    """
    from generator.errors import ConflictError
    from generator.output.merge import UNCHANGED
    from generator.update import plan_update, stage_update

    plan = plan_update(directory, template, variables)
    changes = plan.changes
    if plan.without_base:
        _note(
            f"No merge base (.scaffold/base/) for {', '.join(plan.without_base)}: your edits "
            "and the new version are marked as one conflict each"
        )
    if dry_run:
        from generator.output.writing import unified_diff

        for merge in plan.merges:
            if merge.outcome != UNCHANGED:
                click.echo(f"{merge.outcome:<20} {merge.relative}")
        for merge in changes:
            assert merge.content is not None
            click.echo(unified_diff(directory / merge.relative, merge.content), nl=False)
        _note(f"Dry run: {len(changes)} files would change; nothing was written.")
        if plan.conflicts:
            raise ConflictError(
                f"conflicts would be left in {', '.join(plan.conflicts)} (nothing was written)"
            )
        return
    files = _Session.files
    stage_update(plan, files)
    _commit(files)
    for merge in plan.merges:
        if merge.outcome != UNCHANGED:
            _note(f"{merge.outcome:<20} {merge.relative}")
    _note(f"Updated {directory}/ with template pack {plan.pack!r}: {len(changes)} files changed")
    if plan.conflicts:
        raise ConflictError(
            f"conflicts in {', '.join(plan.conflicts)}: both you and the templates changed the "
            "same lines; resolve the <<<<<<< yours / >>>>>>> scaffold markers"
        )


@main.command("config")
@_profile_option
@_reports_errors
def config_command(profile: str | None) -> None:
    """Print the effective settings and where each comes from.

    Settings come from [tool.scaffold] in the nearest pyproject.toml (looking upwards from
    here, not past a .git directory), a --profile, and SCAFFOLD_TEMPLATE; options given on
    a command line override them all.
    """
    from generator.settings import describe, load_settings

    for line in describe(load_settings(profile=profile)):
        click.echo(line)


@main.group()
def templates() -> None:
    """Template packs: list them, show one, or start your own."""


@templates.command("list")
@_reports_errors
def templates_list() -> None:
    """List the built-in templates and every pack found, with where each comes from."""
    from generator.packs.discovery import installed_packs, load_installed
    from generator.packs.pack import builtin_pack
    from generator.settings import choose_pack, load_settings

    rows = [builtin_pack()]
    settings = load_settings()
    if settings["template"] != "builtin":
        rows.append(choose_pack(settings)[0])
    for installed in installed_packs():
        if all(row.reference != installed.name for row in rows):
            rows.append(load_installed(installed))
    for pack in rows:
        version = f" {pack.version}" if pack.version else ""
        click.echo(f"{pack.name}{version}  [{pack.origin}]  {pack.manifest.description}")


@templates.command("show")
@click.argument("pack_name", metavar="PACK")
@_reports_errors
def templates_show(pack_name: str) -> None:
    """Show a pack's variables, templates and the blocks it can override.

    PACK is a directory, an installed pack's name, or 'builtin'.
    """
    from generator.packs.discovery import find_pack
    from generator.packs.inspection import MODULE_TEMPLATES, builtin_blocks, pack_templates

    pack = find_pack(pack_name, "PACK", Path.cwd())
    infos, presets, builtin = pack_templates(pack), pack.presets(), builtin_blocks()
    where = pack.origin if pack.installed or pack.root is None else str(pack.root)
    click.echo(f"{pack.name} {pack.version}".rstrip() + f"  [{where}]")
    if pack.manifest.description:
        click.echo(pack.manifest.description)
    if pack.manifest.variables:
        click.echo("\nVariables (--var NAME=VALUE):")
        for variable in pack.manifest.variables:
            extra = f"; one of {', '.join(map(repr, variable.choices))}" if variable.choices else ""
            if variable.pattern:
                extra += f"; matches {variable.pattern!r}"
            click.echo(
                f"  {variable.name} ({variable.type}, default {variable.default!r}{extra})"
                + (f": {variable.help}" if variable.help else "")
            )
    if infos:
        click.echo("\nTemplates:")
        for info in infos:
            blocks = f" (blocks: {', '.join(info.blocks)})" if info.blocks else ""
            click.echo(f"  {info.name}: {info.role}{blocks}")
    if presets:
        click.echo(f"\nPresets (--preset NAME): {', '.join(presets)}")
    click.echo('\nBlocks a pack can override (extend "builtin/NAME"):')
    for name in MODULE_TEMPLATES:
        click.echo(f"  {name}: {', '.join(builtin[name])}")
    project = sorted(name for name in builtin if name.startswith("project/"))
    click.echo(f"  project files (override by name, or add your own): {', '.join(project)}")


@templates.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@_reports_errors
def templates_init(directory: Path) -> None:
    """Write a starter template pack into DIRECTORY (new, or empty)."""
    from generator.errors import OutputError
    from generator.output.writing import destination
    from generator.packs.starter import starter_files

    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError("exists and is not an empty directory", where=str(directory))
    files = _Session.files
    content = starter_files(directory.resolve().name)
    if directory.exists():
        from generator.output.project_write import stage_files

        stage_files(directory, content, files)
    else:
        files.make_directories(directory.parent)
        files.stage_directory(destination(directory, force=False, option="DIRECTORY"), content)
    _commit(files)
    _note(
        f"Wrote {directory}/ ({len(content)} files): {', '.join(sorted(content))}; try "
        f"scaffold new demo --template {directory} --preset mlp"
    )


def _compare(
    expected: dict[Path, str] | dict[Path, str | bytes],
    label: Path,
    *,
    check: bool,
    show_diff: bool,
) -> None:
    """``--diff`` prints what would change; ``--check`` exits 1 if anything would."""
    from generator.output.writing import is_up_to_date, unified_diff

    differing = [path for path, text in expected.items() if not is_up_to_date(path, text)]
    if show_diff:
        for path in differing:
            click.echo(unified_diff(path, expected[path]), nl=False)
    elif differing:
        which = "" if differing == [label] else f" ({_names(differing)})"
        raise _ExitError(
            f"{label}: out of date{which}; --diff instead of --check shows what would "
            "change, --force replaces it (edits made by hand are lost)",
            EXIT_FAILURE,
        )
    else:
        click.echo(f"{label}: up to date", err=True)
    if check and differing:
        sys.exit(EXIT_FAILURE)


def _fallback_warning(reason: str) -> str:
    return (
        f"Warning: structure recovery failed ({reason}); the module is the flat one, "
        "what --flat writes. Please report this model."
    )


def _progress_printer() -> Callable[[str], None] | None:
    """Progress on one line of stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        click.echo(f"\r\x1b[K{message}...", nl=False, err=True)

    return show


def _finish_report(report: Any, written: list[Path]) -> None:
    from generator.verify.report import format_report

    if sys.stderr.isatty():
        click.echo("\r\x1b[K", nl=False, err=True)
    _note(format_report(report))
    if not report.ok:
        were, it = ("was", "it") if len(written) == 1 else ("were", "them")
        suffix = f"; {_names(written)} {were} written so you can inspect {it}" if written else ""
        raise _ExitError(f"not equivalent: {report.divergence}{suffix}", EXIT_MISMATCH)


if __name__ == "__main__":  # python -m generator.cli, as python -m generator
    run()
