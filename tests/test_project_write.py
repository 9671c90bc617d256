"""``scaffold new NAME``: --force replaces only what scaffold generated; --merge, --check,
--diff; an existing directory is never removed (generator/output/project.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from generator.cli import main
from generator.output.project_write import RECORD_NAME
from generator.output.writing import TEMP_PREFIX
from generator.tomlfiles import tomllib

GENERATED = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "src/proj/__init__.py",
    "src/proj/model.py",
    "tests/test_model.py",
    "train.py",
}
# The files, scaffold's record, the merge base of ``scaffold update`` and the spec's copy.
PROJECT_FILES = {
    *GENERATED,
    RECORD_NAME,
    *(f".scaffold/base/{name}" for name in GENERATED),
    ".scaffold/spec.yaml",
}


def _new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _files(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): p.read_text(errors="replace")
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    target = tmp_path / "proj"
    code, output = _new(str(target), "--preset", "mlp")
    assert code == 0, output
    assert set(_files(target)) == PROJECT_FILES
    return target


def test_record_lists_what_scaffold_wrote(project: Path) -> None:
    record = tomllib.loads((project / RECORD_NAME).read_text())
    assert record["generator"] == "keras-scaffold"
    assert set(record["files"]) == PROJECT_FILES - {RECORD_NAME}


def test_force_replaces_only_generated_files(project: Path) -> None:
    (project / "notes.md").write_text("my notes\n")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "data").mkdir()
    (project / "data" / "train.csv").write_text("1,2\n")
    (project / "train.py").write_text((project / "train.py").read_text() + "# my change\n")
    code, output = _new(str(project), "--preset", "cnn")
    assert code == 1 and "--force" in output and "kept" in output
    assert "# my change" in (project / "train.py").read_text()

    code, output = _new(str(project), "--preset", "cnn", "--force")
    assert code == 0, output
    assert "train.py (had changes not made by scaffold)" in output
    assert "every other file was kept" in output
    files = _files(project)
    assert files["notes.md"] == "my notes\n"
    assert files[".git/HEAD"] == "ref: refs/heads/main\n"
    assert files["data/train.csv"] == "1,2\n"
    assert "# my change" not in files["train.py"]
    assert "Conv2D" in files["src/proj/model.py"]


def test_force_from_inside_the_project_keeps_the_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "notes.md").write_text("x\n")
    monkeypatch.chdir(project)
    for name in ("../proj", "."):
        code, output = _new(name, "--preset", "cnn", "--force")
        assert code == 0, output
        assert Path.cwd() == project and (project / "notes.md").read_text() == "x\n"
    assert "class Proj(" in (project / "src" / "proj" / "model.py").read_text()


def test_a_directory_scaffold_did_not_make_needs_merge(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    (target / "README.md").write_text("# my project\n")
    (target / "analysis.ipynb").write_text("{}")
    for flags in ([], ["--force"]):
        code, output = _new(str(target), "--preset", "mlp", *flags)
        assert code == 1 and "not made by scaffold new" in output and "--merge" in output
    code, output = _new(str(target), "--preset", "mlp", "--merge")
    assert code == 1 and "already has README.md" in output
    assert _files(target) == {"README.md": "# my project\n", "analysis.ipynb": "{}"}
    code, output = _new(str(target), "--preset", "mlp", "--merge", "--force")
    assert code == 0, output
    assert "README.md (had changes not made by scaffold)" in output
    assert set(_files(target)) == PROJECT_FILES | {"analysis.ipynb"}


def test_an_empty_directory_is_fine(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    code, output = _new(str(target), "--preset", "mlp")
    assert code == 0, output
    assert set(_files(target)) == PROJECT_FILES


def test_blocked_paths_write_nothing(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    (target / "src").write_text("a file where a directory goes\n")
    code, output = _new(str(target), "--preset", "mlp", "--merge", "--force")
    assert code == 1 and "src: exists and is not a directory" in output
    assert _files(target) == {"src": "a file where a directory goes\n"}
    (tmp_path / "file").write_text("x")
    code, output = _new(str(tmp_path / "file"), "--preset", "mlp", "--force")
    assert code == 1 and "not a directory" in output
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_check_and_diff_for_projects_and_modules(project: Path, tmp_path: Path) -> None:
    code, output = _new(str(project), "--preset", "mlp", "--check")
    assert code == 0 and "up to date" in output
    before = _files(project)
    code, output = _new(str(project), "--preset", "cnn", "--check")
    assert code == 1 and "out of date" in output and "src/proj/model.py" in output
    code, output = _new(str(project), "--preset", "cnn", "--diff")
    assert code == 0 and "+++ " in output and "Conv2D" in output
    code, output = _new(str(project), "--preset", "cnn", "--diff", "--check")
    assert code == 1 and "Conv2D" in output
    assert _files(project) == before  # neither writes

    module = tmp_path / "m.py"
    assert _new("M", "-o", str(module), "--preset", "mlp")[0] == 0
    assert _new("M", "-o", str(module), "--preset", "mlp", "--check")[0] == 0
    code, output = _new("M", "-o", str(module), "--preset", "rnn", "--check")
    assert code == 1 and "out of date" in output


def test_new_projects_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        code, output = _new(str(tmp_path / "proj"), "--preset", "mlp")
    finally:
        os.umask(previous)
    assert code == 0, output
    assert (tmp_path / "proj").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "proj" / "train.py").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "proj" / "src" / "proj").stat().st_mode & 0o777 == 0o750


def test_force_never_replaces_files_the_record_does_not_list(project: Path) -> None:
    record = tomllib.loads((project / RECORD_NAME).read_text())
    del record["files"]["train.py"]  # as if an older scaffold had not written it
    (project / RECORD_NAME).write_text(tomli_w.dumps(record))
    (project / "train.py").write_text("MY OWN TRAIN SCRIPT\n")
    code, output = _new(str(project), "--preset", "mlp", "--force")
    assert code == 1 and "already has train.py, which scaffold did not write" in output
    assert "--merge --force" in output
    assert (project / "train.py").read_text() == "MY OWN TRAIN SCRIPT\n"
    code, output = _new(str(project), "--preset", "mlp", "--force", "--merge")
    assert code == 0 and "train.py (had changes not made by scaffold)" in output


def test_a_broken_record_is_named(project: Path) -> None:
    (project / RECORD_NAME).write_text("{bad")
    code, output = _new(str(project), "--preset", "mlp", "--force")
    assert code == 1 and "its .scaffold.toml is not a scaffold record" in output


def test_a_project_of_an_earlier_version_is_still_ours(project: Path) -> None:
    """Projects written before .scaffold.toml kept a .scaffold.json of file hashes: --force
    still replaces what it lists, and the new record takes over."""
    record = tomllib.loads((project / RECORD_NAME).read_text())
    legacy = {"generator": "keras-scaffold", "version": "0.1.0", "files": record["files"]}
    for name in [RECORD_NAME, *(p for p in record["files"] if p.startswith(".scaffold/"))]:
        (project / name).unlink()
    (project / ".scaffold.json").write_text(json.dumps(legacy))
    code, output = _new(str(project), "--preset", "mlp")
    assert code == 1 and "pass --force to replace" in output
    code, output = _new(str(project), "--preset", "mlp", "--force")
    assert code == 0, output
    assert (project / RECORD_NAME).is_file() and (project / ".scaffold.json").is_file()


def test_symlinks_never_lead_project_files_outside(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (project / "train.py").unlink()
    (project / "train.py").symlink_to(outside)
    code, output = _new(str(project), "--preset", "mlp", "--force")
    assert code == 1 and "leads outside the project through a symbolic link" in output
    assert outside.read_text() == "precious\n"
    assert not [p for p in project.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    code, output = _new(str(tmp_path / "bad\udcffname"), "--preset", "mlp")
    assert code == 2 and "is not valid UTF-8 text" in output
