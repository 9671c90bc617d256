"""What each command does, apart from the terminal: ``cli`` builds a job, runs it, prints.

Every file goes through the caller's ``FileSet``: destinations are checked before any
work, files are staged while the work runs, and the caller commits them at the end.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.errors import (
    LoadError,
    OriginalModelFails,
    ScaffoldError,
    UnsupportedModelError,
    one_line,
)
from generator.from_keras.loading import input_files
from generator.output.writing import Destination, FileSet, destination, require_distinct

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class Verification:
    """Options of the numerical check (``scaffold verify``; ``convert`` by default)."""

    atol: float | None = None
    rtol: float | None = None
    batches: int = 1
    seed: int = 0
    report_json: Path | None = None
    inputs: str | None = None  # --inputs: a .npz file or module:function


@dataclass(frozen=True)
class ConvertJob:
    model: str
    output: Path | None = None
    emit_test: Path | None = None
    weights: Path | None = None
    force: bool = False
    class_name: str | None = None
    package: str | None = None
    import_style: str = "tf"
    unsafe: bool = False
    custom_objects: str | None = None
    verification: Verification | None = field(default_factory=Verification)  # None: skip
    project: Any = None  # TrainingOptions: write a project into the -o directory (--loop)
    flat: bool = False  # no structure recovery (--flat)
    weightless_layers: bool = False  # no operators for weightless layers (--weightless-layers)
    pack: Any = None  # packs.pack.Pack (None: the built-in templates)
    variables: dict[str, Any] = field(default_factory=dict)  # the pack's, checked


@dataclass(frozen=True)
class Converted:
    source: str
    class_name: str
    written: dict[str, Destination]  # option → where it goes, once committed
    report: Any = None  # verify.report.Report, or None when not verified
    project: Any = None  # output.project_write.ProjectWrite, for a project (--loop)
    fallback: str = ""  # why the flat module was written instead of the factored one


def convert_to_files(job: ConvertJob, files: FileSet, progress: Progress = None) -> Converted:
    """Convert ``job.model``, verify (unless asked not), and stage every output in ``files``.

    Structure recovery is checked like everything else. If it fails, or its module does
    not verify, the flat module (``--flat``) is converted and verified instead, and
    staged when it passes; ``Converted.fallback`` then says why. The user gets code that
    computes what their model computes, and a warning, rather than nothing.

    Raises:
        ScaffoldError: any failure; ``files`` then holds staged files the caller discards.
    """
    from generator.convert import check_weights_path

    dests, inputs = _convert_destinations(job)
    if job.weights is not None:
        check_weights_path(job.weights)
    loaded = _load(job.model, job.unsafe, job.custom_objects)
    chosen = _choose(job, loaded, progress)
    job = replace(job, flat=chosen.flat)
    staged = _stage(job, loaded, chosen.conversion, chosen.report, dests, inputs, files)
    return replace(staged, fallback=chosen.fallback)


@dataclass(frozen=True)
class _Choice:
    """The conversion ``convert`` writes, its ``Report`` (None: not verified), and why
    it is the flat one when structure recovery was asked for ("": it is not)."""

    conversion: Any
    report: Any
    flat: bool
    fallback: str = ""


def _choose(job: ConvertJob, loaded: Any, progress: Progress) -> _Choice:
    """The factored module, or the flat one where structure recovery fails: raises
    anything (a defect, whatever its type) or writes a module that does not verify,
    while the flat module converts and verifies.

    Every error of the flat conversion too is the user's (their model, their files) or
    not structure recovery's doing, so the first failure is raised or the module that
    diverges is returned with its report, for the user to inspect.
    """
    failure: Exception | None = None
    conversion = report = None
    try:
        conversion, report = _checked_conversion(job, loaded, progress)
    except OriginalModelFails:
        raise  # the flat module would fare no better
    except Exception as exc:
        if job.flat:
            raise
        failure = exc
    if failure is None and (job.flat or report is None or report.ok):
        return _Choice(conversion, report, job.flat)
    if progress is not None:
        progress("converting again without structure recovery")
    try:
        flat_conversion, flat_report = _checked_conversion(
            replace(job, flat=True), loaded, progress
        )
    except Exception as flat_failure:
        if failure is not None:
            raise failure from flat_failure
        return _Choice(conversion, report, False)  # it diverges: the user sees how
    if failure is None:
        assert report is not None  # it was verified and diverged
        if flat_report is not None and not flat_report.ok:
            return _Choice(conversion, report, False)  # both diverge: not recovery's doing
        reason = f"its module is not equivalent: {report.divergence}"
    elif isinstance(failure, ScaffoldError):
        reason = str(failure)
    else:
        reason = f"internal error: {type(failure).__name__}: {one_line(failure, 200)}"
    return _Choice(flat_conversion, flat_report, True, reason)


def _convert_destinations(job: ConvertJob) -> tuple[dict[str, Destination], tuple[Path, ...]]:
    """Every output's checked destination, by option, and the files the job reads."""
    # A project's directory is checked file by file when the project is staged.
    module_output = job.output if job.project is None else None
    outputs = {"-o": module_output, "--emit-test": job.emit_test, "--weights": job.weights}
    if job.verification is not None:
        outputs["--report-json"] = job.verification.report_json
    inputs = input_files(job.model, job.custom_objects)
    if job.verification is not None and job.verification.inputs is not None:
        inputs = (*inputs, Path(job.verification.inputs))
    dests = {
        option: destination(path, force=job.force, inputs=inputs, option=option)
        for option, path in outputs.items()
        if path is not None
    }
    require_distinct(dests.values())
    return dests, inputs


def _module_name(job: ConvertJob) -> Path | None:
    """What the generated module is called where it lands (a project's: ``model.py``)."""
    if job.project is not None and job.output is not None:
        return Path("model.py")
    return job.output


def _checked_conversion(job: ConvertJob, loaded: Any, progress: Progress) -> tuple[Any, Any]:
    """The ``Conversion`` of the loaded model and its verification ``Report`` (None when
    not verified)."""
    conversion = _convert(job, loaded)
    if job.verification is None:
        return conversion, None
    assets = conversion.assets
    with _module_home(_module_name(job), conversion.module.assets_file, assets) as module_file:
        where = str(job.output) if job.output else "generated module"
        report = _verify(
            loaded.model,
            conversion.source,
            conversion.class_name,
            job.verification,
            progress,
            where,
            module_file,
        )
    return conversion, report


def _stage(
    job: ConvertJob,
    loaded: Any,
    conversion: Any,
    report: Any,
    dests: dict[str, Destination],
    inputs: tuple[Path, ...],
    files: FileSet,
) -> Converted:
    """Stage every output of a checked conversion at its destination."""
    from generator.convert import export_weights

    dests = dict(dests)
    source, cls, assets = conversion.source, conversion.class_name, conversion.assets
    written = None
    if job.project is not None and job.output is not None:
        from generator.output.project_write import stage_project

        project = _project_files(job, conversion)
        record = _convert_provenance(job, conversion, loaded)
        written = stage_project(
            job.output, project, files, force=job.force, merge=False, provenance=record
        )
    elif assets is not None and job.output is not None:
        assets_path = job.output.with_name(conversion.module.assets_file)
        dests["assets"] = destination(assets_path, force=job.force, inputs=inputs, option="-o")
        require_distinct(dests.values())
        files.write_bytes(dests["assets"], assets)
    if "-o" in dests:
        files.write_text(dests["-o"], source)
    if "--emit-test" in dests and job.emit_test is not None and job.output is not None:
        from generator.output.render import equivalence_test_source

        test = equivalence_test_source(
            job.emit_test, job.model, job.output, cls, job.pack, job.variables
        )
        files.write_text(dests["--emit-test"], test)
    if "--weights" in dests:
        model = loaded.model
        home = _module_name(job)
        with _module_home(home, conversion.module.assets_file, assets) as module_file:
            files.write_with(
                dests["--weights"],
                lambda temp: export_weights(model, source, cls, temp, module_file),
            )
    if "--report-json" in dests and report is not None:
        from generator.verify.report import report_json

        files.write_text(dests["--report-json"], report_json(report))
    return Converted(source, cls, dests, report, written)


@dataclass(frozen=True)
class Expected:
    """What ``-o`` would write, by path, and why it is the flat module ("": it is not)."""

    files: dict[Path, str | bytes]
    fallback: str = ""


def conversion_files(job: ConvertJob) -> Expected:
    """What ``convert`` would write at ``-o`` (``--check``, ``--diff``), nothing written.

    That includes its fallback to the flat module, which can depend on verification:
    the factored module is verified (the costly part) only when it is not already
    what the files hold.
    """
    from generator.output.writing import is_up_to_date

    assert job.output is not None
    loaded = _load(job.model, job.unsafe, job.custom_objects)
    if not job.flat and job.verification is not None:
        try:
            expected = _module_files(job, _convert(job, loaded))
        except Exception:  # structure recovery's defect: decided below, as convert does
            expected = {}
        if expected and all(is_up_to_date(path, text) for path, text in expected.items()):
            return Expected(expected)
    else:
        job = replace(job, verification=None)  # convert writes the module either way
    chosen = _choose(job, loaded, None)
    return Expected(_module_files(job, chosen.conversion), chosen.fallback)


def _module_files(job: ConvertJob, conversion: Any) -> dict[Path, str | bytes]:
    """The files a conversion puts at ``-o``: the module and its assets, or a project."""
    assert job.output is not None
    if job.project is not None:
        project = _project_files(job, conversion)
        return {job.output / relative: content for relative, content in project.items()}
    expected: dict[Path, str | bytes] = {job.output: conversion.source}
    if conversion.assets is not None:
        expected[job.output.with_name(conversion.module.assets_file)] = conversion.assets
    return expected


@contextlib.contextmanager
def _module_home(
    output: Path | None, assets_file: str, assets: bytes | None
) -> Iterator[Path | None]:
    """Where the generated module is imported from while it is checked: a private
    directory holding its assets file under the final name (None: it has none)."""
    if assets is None or output is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="scaffold-module-") as home:
        (Path(home) / assets_file).write_bytes(assets)
        yield Path(home) / output.name


def _convert(job: ConvertJob, loaded: Any) -> Any:
    """Convert the loaded model (``loading.Loaded``): the ``Conversion``."""
    from generator.convert import ConvertOptions, convert

    output = job.output
    if job.project is not None and output is not None:  # named after the directory
        output = output.resolve().with_suffix(".py")
    options = ConvertOptions.for_output(
        output, loaded.model.name, job.class_name, job.package, job.import_style, job.unsafe
    )
    options = replace(
        options,
        flat=job.flat,
        weightless_layers=job.weightless_layers,
        pack=job.pack,
        variables=job.variables,
    )
    if job.project is not None:
        options = replace(
            options, assets_file="model.assets.npz", train_step=job.project.loop == "train-step"
        )
    conversion = convert(loaded.model, options, loaded.source_name, loaded.sha256)
    # After converting: an unbuilt model has no weights yet, and converting says why.
    if job.project is not None and not loaded.model.trainable_weights:
        raise UnsupportedModelError(
            "the model has no trainable weights, so a training project would train "
            "nothing; convert it without --loop",
            where=loaded.source_name,
        )
    return conversion


def _convert_provenance(job: ConvertJob, conversion: Any, loaded: Any) -> dict[str, Any]:
    """What made a converted project, for its ``.scaffold.toml``."""
    from generator.new import pack_reference, recorded_origin
    from generator.packs.pack import builtin_pack

    assert job.output is not None and job.project is not None
    pack = job.pack or builtin_pack()
    return {
        "command": "convert",
        "project": {
            "name": job.output.resolve().name,
            "class_name": conversion.class_name,
            "import_style": job.import_style,
            "loop": job.project.loop,
            "strategy": job.project.strategy,
            "mixed_precision": job.project.mixed_precision,
        },
        "model": {
            "source": job.model,
            "sha256": loaded.sha256,
            "flat": job.flat,
            "weightless_layers": job.weightless_layers,
        },
        "template": {
            "name": pack.name,
            "version": pack.version,
            "reference": pack_reference(pack, job.output),
            "origin": recorded_origin(pack.origin),
        },
        "variables": dict(job.variables),
    }


def _project_files(job: ConvertJob, conversion: Any) -> dict[str, str | bytes]:
    """The project around a converted module: train.py trains with the original
    ``compile()`` arguments (docs/training.md)."""
    from generator.convert import render_options
    from generator.from_keras.training import compiled_training
    from generator.output.project import render_project

    assert job.output is not None
    module = replace(conversion.module, training=compiled_training(conversion.module))
    name = job.output.resolve().name
    render = render_options(conversion.options)
    files: dict[str, str | bytes] = dict(
        render_project(module, conversion.source, name, job.import_style, job.project, render)
    )
    if conversion.assets is not None:  # beside src/<package>/model.py
        model_path = next(path for path in files if path.endswith("/model.py"))
        files[model_path.replace("/model.py", "/model.assets.npz")] = conversion.assets
    return files


@dataclass(frozen=True)
class VerifyJob:
    model: str
    generated: Path
    class_name: str | None = None
    unsafe: bool = False
    custom_objects: str | None = None
    force: bool = False  # for the report file
    verification: Verification = field(default_factory=Verification)


def verify_generated(job: VerifyJob, files: FileSet, progress: Progress = None) -> Any:
    """Verify ``job.generated`` against ``job.model``; stage the JSON report if asked."""
    inputs = (*input_files(job.model, job.custom_objects), job.generated)
    if job.verification.inputs is not None:
        inputs = (*inputs, Path(job.verification.inputs))
    report_path = job.verification.report_json
    json_dest = None
    if report_path is not None:
        json_dest = destination(report_path, force=job.force, inputs=inputs, option="--report-json")
    if not job.generated.is_file():
        raise LoadError("no such file", where=str(job.generated))
    try:
        source = job.generated.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read it: {one_line(exc)}", where=str(job.generated)) from exc
    loaded = _load(job.model, job.unsafe, job.custom_objects)
    report = _verify(
        loaded.model,
        source,
        job.class_name,
        job.verification,
        progress,
        str(job.generated),
        job.generated.resolve(),
    )
    if json_dest is not None:
        from generator.verify.report import report_json

        files.write_text(json_dest, report_json(report))
    return report


def _load(model: str, unsafe: bool, custom_objects: str | None) -> Any:
    from generator.from_keras.loading import import_custom_objects, load_model

    if custom_objects:
        import_custom_objects(custom_objects)
    return load_model(model, safe_mode=not unsafe)


def _verify(
    model: Any,
    source: str,
    class_name: str | None,
    options: Verification,
    progress: Progress,
    where: str,
    module_file: Path | None = None,
) -> Any:
    from generator.verify import verify_source

    return verify_source(
        model,
        source,
        class_name,
        atol=options.atol,
        rtol=options.rtol,
        batches=options.batches,
        seed=options.seed,
        progress=progress,
        where=where,
        inputs=options.inputs,
        module_file=module_file,
    )
