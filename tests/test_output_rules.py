"""Every command writes files under the same rules: nothing of the user's is lost, nothing is
half-written, and an exit of 1 or 2 means that nothing was written at all."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from cases import build_case
from click.testing import CliRunner

from generator.cli import main
from generator.errors import VerificationError
from generator.output.writing import TEMP_PREFIX


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "mlp.keras"
    build_case("sequential_mlp").save(path)
    return path


@pytest.fixture()
def work(tmp_path: Path, model_file: Path) -> Path:
    """A directory holding only a copy of the model, with a fixed umask."""
    (tmp_path / "mlp.keras").write_bytes(model_file.read_bytes())
    previous = os.umask(0o022)
    yield tmp_path
    os.umask(previous)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _listing(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b""
        for p in sorted(directory.rglob("*"))
    }


def test_report_json_needs_force_and_never_replaces_the_model(work: Path) -> None:
    model, report = work / "mlp.keras", work / "report.json"
    original = model.read_bytes()
    report.write_text("mine\n")
    code, output = _run(
        "convert", str(model), "-o", str(work / "m.py"), "--report-json", str(report)
    )
    assert code == 1 and "already exists; pass --force" in output
    assert report.read_text() == "mine\n" and not (work / "m.py").exists()
    for args in (["convert", str(model)], ["verify", str(model), str(work / "m.py")]):
        code, output = _run(*args, "--report-json", str(model), "--force")
        assert code == 2 and "also an input" in output
        assert model.read_bytes() == original
    code, output = _run(
        "convert", str(model), "-o", str(work / "m.py"), "--report-json", str(report), "--force"
    )
    assert code == 0, output
    assert json.loads(report.read_text())["verdict"] == "equivalent"
    generated = work / "m.py"
    code, output = _run(
        "verify", str(model), str(generated), "--report-json", str(generated), "--force"
    )
    assert code == 2 and "also an input" in output
    assert "class M(" in generated.read_text()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--weights", "{d}/same.py"], "both -o and --weights"),
        (["--weights", "{d}/w.h5"], "weights files must end in .weights.h5"),
        (["--emit-test", "{d}/same.py"], "both -o and --emit-test"),
        (["--weights", "{d}/w.weights.h5", "--report-json", "{d}/w.weights.h5"], "both"),
    ],
)
def test_conflicting_outputs_write_nothing(work: Path, extra: list[str], message: str) -> None:
    before = _listing(work)
    args = [a.format(d=work) for a in extra]
    code, output = _run("convert", str(work / "mlp.keras"), "-o", str(work / "same.py"), *args)
    assert code == 2 and message in output
    assert _listing(work) == before


def test_a_failed_verification_writes_nothing(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.verify

    def cannot_build(*args: object, **kwargs: object) -> None:
        raise VerificationError("cannot build M: broken", where="m.py")

    monkeypatch.setattr(generator.verify, "verify_source", cannot_build)
    before = _listing(work)
    code, output = _run(
        "convert",
        str(work / "mlp.keras"),
        "-o",
        str(work / "m.py"),
        "--weights",
        str(work / "m.weights.h5"),
        "--emit-test",
        str(work / "test_m.py"),
        "--report-json",
        str(work / "r.json"),
    )
    assert code == 1 and "cannot build M" in output
    assert _listing(work) == before  # no module, weights, test, report or temporary file


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_special_files_are_never_written(work: Path, force: list[str]) -> None:
    fifo = work / "pipe.py"
    os.mkfifo(fifo)
    dangling = work / "dangling.py"
    dangling.symlink_to(work / "gone" / "x.py")
    for target, message in (
        (fifo, "FIFO"),
        (Path("/dev/null"), "device"),
        (work, "is a directory"),
        (dangling, "leads nowhere"),
    ):
        for command in (["convert", str(work / "mlp.keras"), "--no-verify"], ["new", "X"]):
            code, output = _run(*command, "-o", str(target), *force)
            assert code == 1 and message in output, output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and dangling.is_symlink()
    assert not (work / "gone").exists()


def test_a_path_ending_in_a_slash_is_no_file(work: Path) -> None:
    """``-o newdir/`` means a directory: ``Path`` dropped the slash, and a file named
    ``newdir`` was written. Found by a sweep of the CLI."""
    before = _listing(work)
    for command in (["convert", str(work / "mlp.keras"), "--no-verify"], ["new", "X"]):
        for option in ("-o", "--report-json", "--emit-test"):
            if option != "-o" and command[0] == "new":
                continue
            code, output = _run(*command, option, str(work / "newdir") + "/")
            assert code == 2 and "ends with '/', a directory; give a file" in output, output
    assert _listing(work) == before


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux's /proc")
def test_a_directory_that_takes_no_new_file_is_named(work: Path) -> None:
    """/proc/version is a regular file, but /proc takes no new file: the temporary
    sibling fails, and the message said ``cannot write it: No such file or directory``
    of a file that plainly exists. Found by a sweep of the CLI."""
    code, output = _run(
        "convert", str(work / "mlp.keras"), "--no-verify", "-o", "/proc/version", "--force"
    )
    assert code == 1, output
    assert "/proc/version: cannot create a file in '/proc' to write it: " in output, output


def test_modes_follow_the_umask_or_the_existing_file(work: Path) -> None:
    out, weights = work / "m.py", work / "m.weights.h5"
    code, output = _run(
        "convert", str(work / "mlp.keras"), "-o", str(out), "--weights", str(weights), "--no-verify"
    )
    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(weights.stat().st_mode) == 0o644
    out.chmod(0o640)
    weights.chmod(0o600)
    code, output = _run(
        "convert",
        str(work / "mlp.keras"),
        "-o",
        str(out),
        "--weights",
        str(weights),
        "--no-verify",
        "--force",
    )
    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert stat.S_IMODE(weights.stat().st_mode) == 0o600
    assert not [p for p in work.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_new_module_follows_the_same_rules(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("input_shape: 4\nlayers: Dense(2)\n")
    code, output = _run("new", "X", "--spec", str(spec), "-o", str(spec), "--force")
    assert code == 2 and "also an input" in output
    assert spec.read_text() == "input_shape: 4\nlayers: Dense(2)\n"


def test_the_model_module_and_custom_objects_are_inputs(tmp_path: Path) -> None:
    factory = tmp_path / "tiny_factory.py"
    factory.write_text(
        "import keras\n\n"
        "def build():\n"
        "    x = keras.Input((3,))\n"
        "    return keras.Model(x, keras.layers.Dense(2)(x))\n"
    )
    layers = tmp_path / "my_layers.py"
    layers.write_text("# registers nothing\n")
    sys.path.insert(0, str(tmp_path))
    try:
        for extra, target in (([], factory), (["--custom-objects", "my_layers"], layers)):
            code, output = _run(
                "convert", "tiny_factory:build", "-o", str(target), "--force", "--no-verify", *extra
            )
            assert code == 2 and "also an input" in output, output
    finally:
        sys.path.remove(str(tmp_path))
    assert "def build" in factory.read_text() and layers.read_text() == "# registers nothing\n"


def test_report_json_needs_verification(work: Path) -> None:
    code, output = _run(
        "convert", str(work / "mlp.keras"), "--no-verify", "--report-json", str(work / "r.json")
    )
    assert code == 2 and "drop --no-verify" in output


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    from generator.output.writing import FileSet, destination

    def disk_full(temp: Path) -> None:
        raise OSError(28, "No space left on device")

    files = FileSet()
    with pytest.raises(Exception, match="cannot write it: No space left on device"):
        files.write_with(destination(tmp_path / "m.py", force=False), disk_full)
    files.discard()
    assert list(tmp_path.iterdir()) == []
