"""``scaffold update``: a project rendered again with the current templates and merged
three ways with the user's edits; conflicts are marked, never lost (generator/update.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

ACME = Path(__file__).parent / "data" / "packs" / "acme"
DESCRIBE_DOC = '"""One line for {{ vars.owner }}\'s logs: the class and its parameter count."""'


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def team(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the acme pack (the tests change it, as a team would) and a project made
    with it."""
    pack = tmp_path / "acme"
    shutil.copytree(ACME, pack)
    project = tmp_path / "churn"
    code, output = _run("new", str(project), "--template", str(pack), "--preset", "acme_classifier")
    assert code == 0, output
    return pack, project


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_nothing_changed_nothing_written(team: tuple[Path, Path]) -> None:
    _, project = team
    before = _tree(project)
    code, output = _run("update", str(project))
    assert code == 0, output
    assert "0 files changed" in output
    assert _tree(project) == before


def test_user_edits_and_template_changes_merge(team: tuple[Path, Path]) -> None:
    pack, project = team
    train = project / "train.py"
    _edit(train, "def main(", "# Our data loader goes here.\n\n\ndef main(")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur notes.\n")
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "Run `make check`")
    _edit(pack / "model.py.jinja", 'parameters"', 'trainable and frozen parameters"')
    code, output = _run("update", str(project))
    assert code == 0, output
    assert "# Our data loader goes here." in train.read_text()  # yours, kept
    assert readme.read_text().endswith("\nOur notes.\n")
    assert "Run `make check`" in (project / "CONTRIBUTING.md").read_text()  # theirs
    model = (project / "src" / "churn" / "model.py").read_text()
    assert "trainable and frozen parameters" in model
    assert "updated              src/churn/model.py" in output
    # The new base is the new render: a second update has nothing to do.
    code, output = _run("update", str(project))
    assert code == 0 and "0 files changed" in output, output


def test_a_real_conflict_is_marked_not_lost(team: tuple[Path, Path]) -> None:
    pack, project = team
    model = project / "src" / "churn" / "model.py"
    _edit(model, "the class and its parameter count.", "what we log per run.")
    _edit(pack / "model.py.jinja", "the class and its parameter count.", "its size.")
    code, output = _run("update", str(project))
    assert code == 4, output
    assert "conflicts in src/churn/model.py" in output
    text = model.read_text()
    assert "<<<<<<< yours\n" in text and "=======\n" in text and ">>>>>>> scaffold\n" in text
    assert "what we log per run." in text and "its size." in text
    mine, theirs = (
        text.split("<<<<<<< yours\n")[1].split(">>>>>>> scaffold\n")[0].split("=======\n")
    )
    assert "what we log per run." in mine and "its size." in theirs


def test_dry_run_shows_and_writes_nothing(team: tuple[Path, Path]) -> None:
    pack, project = team
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "Run `make check`")
    before = _tree(project)
    code, output = _run("update", str(project), "--dry-run")
    assert code == 0, output
    assert "updated              CONTRIBUTING.md" in output
    assert "+Owned by ACME Corp (Apache-2.0). Run `make check` before you push." in output
    assert "nothing was written" in output
    assert _tree(project) == before


def test_new_builtin_templates_reach_an_old_project(tmp_path: Path) -> None:
    """What users hit most: a new version of the tool renders differently. Simulated by
    a project whose base (and untouched files) are an older rendering."""
    project = tmp_path / "proj"
    code, output = _run("new", str(project), "--preset", "mlp")
    assert code == 0, output
    old = "# Written by an older keras-scaffold.\n"
    for path in (project / "train.py", project / ".scaffold" / "base" / "train.py"):
        path.write_text(old + path.read_text())
    tests = project / "tests" / "test_model.py"
    for path in (tests, project / ".scaffold" / "base" / "tests" / "test_model.py"):
        path.write_text(old + path.read_text())
    tests.write_text(tests.read_text() + "\n\ndef test_mine():\n    assert True\n")
    code, output = _run("update", str(project))
    assert code == 0, output
    assert not (project / "train.py").read_text().startswith(old)  # brought up to date
    merged = tests.read_text()
    assert not merged.startswith(old) and merged.endswith("def test_mine():\n    assert True\n")


def test_variables_change_on_update(team: tuple[Path, Path]) -> None:
    _, project = team
    code, output = _run("update", str(project), "--var", "license=MIT")
    assert code == 0, output
    assert (
        (project / "src" / "churn" / "model.py")
        .read_text()
        .startswith("# SPDX-License-Identifier: MIT\n")
    )
    assert 'license = "MIT"' in (project / ".scaffold.toml").read_text()


def test_the_spec_copy_changes_the_architecture(team: tuple[Path, Path]) -> None:
    _, project = team
    _edit(project / ".scaffold" / "spec.yaml", "Dense(32,", "Dense(48,")
    code, output = _run("update", str(project))
    assert code == 0, output
    assert "Dense(48" in (project / "src" / "churn" / "model.py").read_text()


def test_a_deleted_file_stays_deleted(team: tuple[Path, Path]) -> None:
    pack, project = team
    (project / "CONTRIBUTING.md").unlink()
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "Run `make check`")
    code, output = _run("update", str(project))
    assert code == 0, output
    assert "kept deleted         CONTRIBUTING.md" in output
    assert not (project / "CONTRIBUTING.md").exists()


@pytest.mark.parametrize("case", ["no record", "legacy record", "not a directory"])
def test_update_refuses_what_it_cannot_render(tmp_path: Path, case: str) -> None:
    target = tmp_path / "p"
    if case != "not a directory":
        target.mkdir()
    if case == "legacy record":
        (target / ".scaffold.json").write_text('{"generator": "keras-scaffold", "files": {}}')
    code, output = _run("update", str(target))
    assert code == 2, output
    assert len(output.strip().splitlines()) == 1 and str(target) in output


def test_a_failing_template_leaves_the_project_untouched(team: tuple[Path, Path]) -> None:
    pack, project = team
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "{{ os.getcwd() }}")
    _edit(pack / "model.py.jinja", 'parameters"', 'weights"')
    before = _tree(project)
    code, output = _run("update", str(project))
    assert code == 2 and "'os' is undefined" in output and "CONTRIBUTING.md.jinja:3" in output
    assert _tree(project) == before


# -- regressions from review --------------------------------------------------------------------


def test_update_never_writes_through_a_link(team: tuple[Path, Path]) -> None:
    pack, project = team
    (project / "docs").mkdir()
    notes = project / "docs" / "notes.md"
    notes.write_text("MY PRECIOUS NOTES\n")
    (project / "NOTES.md").symlink_to("docs/notes.md")
    (pack / "project" / "NOTES.md.jinja").write_text("# Notes of {{ vars.owner }}\n")
    code, output = _run("update", str(project))
    assert code == 0, output
    assert "kept (not a file)    NOTES.md" in output
    assert notes.read_text() == "MY PRECIOUS NOTES\n"


def test_update_makes_no_folder_outside_the_project(
    team: tuple[Path, Path], tmp_path: Path
) -> None:
    pack, project = team
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "docs").symlink_to(outside)
    (pack / "project" / "docs" / "sub").mkdir(parents=True)
    (pack / "project" / "docs" / "sub" / "x.md").write_text("x\n")
    code, output = _run("update", str(project))
    assert code == 1 and "leads outside the project" in output, output
    assert list(outside.iterdir()) == []


def test_copied_text_files_merge_like_templates(team: tuple[Path, Path], tmp_path: Path) -> None:
    pack, _ = team
    cfg = "[flake8]\nmax-line-length = {}\n\n[isort]\nprofile = black\n"
    (pack / "project" / "setup.cfg").write_text(cfg.format(100))
    project = tmp_path / "second"
    code, output = _run("new", str(project), "--template", str(pack), "--preset", "mlp")
    assert code == 0, output
    code, output = _run("update", str(project))
    assert code == 0 and "0 files changed" in output, output
    config = project / "setup.cfg"
    config.write_text(config.read_text() + "exclude = build\n")
    (pack / "project" / "setup.cfg").write_text(cfg.format(88))
    code, output = _run("update", str(project))
    assert code == 0, output
    assert config.read_text() == cfg.format(88) + "exclude = build\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            'loop = "fit"',
            "[project] loop = 'bogus' is not valid: expected fit, train-step or custom",
        ),
        ('import_style = "tf"', "[project] import_style = 'bogus' is not valid"),
        ("mixed_precision = false", "[project] mixed_precision = 'bogus' is not valid"),
        ('strategy = "default"', "[project] strategy = 'bogus' is not valid"),
        ("custom_objects = []", "[spec] custom_objects = 'bogus' is not valid"),
    ],
)
def test_an_edited_record_is_checked(team: tuple[Path, Path], edit: str, message: str) -> None:
    _, project = team
    key = edit.split(" = ")[0]
    _edit(project / ".scaffold.toml", edit, f'{key} = "bogus"')
    before = _tree(project)
    code, output = _run("update", str(project))
    assert code == 2 and message in output, output
    assert len(output.strip().splitlines()) == 1
    assert _tree(project) == before


def test_dry_run_says_when_conflicts_would_result(team: tuple[Path, Path]) -> None:
    pack, project = team
    _edit(project / "CONTRIBUTING.md", "Run `pytest`", "Run `tox`")
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "Run `make check`")
    before = _tree(project)
    code, output = _run("update", str(project), "--dry-run")
    assert code == 4 and "conflict             CONTRIBUTING.md" in output, output
    assert _tree(project) == before


@pytest.mark.parametrize(
    ("base", "yours", "new", "merged"),
    [
        ("a\nb\n", "a\nb", "a\nb\nc\n", "a\nb\nc"),  # you dropped the final newline: kept
        ("a\nb", "a\nb", "a\nb\nc\n", "a\nb\nc\n"),  # the templates added one: taken
        ("a\nb\n", "x\na\nb\n", "a\nb\nc\n", "x\na\nb\nc\n"),
    ],
)
def test_the_final_newline_merges_like_a_line(base: str, yours: str, new: str, merged: str) -> None:
    from generator.output.merge import merge_text

    assert merge_text(base, yours, new) == (merged, False)


# -- regressions from the second review ---------------------------------------------------------


def test_a_file_scaffold_never_wrote_is_kept_out(team: tuple[Path, Path]) -> None:
    pack, project = team
    (project / "EXTRA.md").write_text("my own data\n")
    (pack / "project" / "EXTRA.md").write_text("pack extra\n")
    code, output = _run("update", str(project))
    assert code == 0 and "kept (not scaffold's) EXTRA.md" in output, output
    assert (project / "EXTRA.md").read_text() == "my own data\n"
    assert "EXTRA.md" not in (project / ".scaffold.toml").read_text()  # --force won't take it


def test_a_lost_base_copy_of_an_untouched_file_still_updates(team: tuple[Path, Path]) -> None:
    pack, project = team
    (project / ".scaffold" / "base" / "CONTRIBUTING.md").unlink()
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "Run `make check`")
    code, output = _run("update", str(project))
    assert code == 0 and "updated              CONTRIBUTING.md" in output, output
    assert "Run `make check`" in (project / "CONTRIBUTING.md").read_text()


def test_markers_left_unresolved_stop_the_next_update(team: tuple[Path, Path]) -> None:
    pack, project = team
    _edit(project / "CONTRIBUTING.md", "Run `pytest`", "Run `tox`")
    _edit(pack / "project" / "CONTRIBUTING.md.jinja", "Run `pytest`", "Run `make check`")
    assert _run("update", str(project))[0] == 4
    before = _tree(project)
    code, output = _run("update", str(project))
    assert code == 4 and "CONTRIBUTING.md still has conflict markers" in output, output
    assert _tree(project) == before


def test_a_spec_error_names_the_copy_the_user_edits(team: tuple[Path, Path]) -> None:
    _, project = team
    _edit(project / ".scaffold" / "spec.yaml", "Dense(32,", "Dnse(32,")
    code, output = _run("update", str(project))
    assert code == 2 and f"{project / '.scaffold' / 'spec.yaml'}:" in output, output
    assert "unknown layer 'Dnse'" in output


def test_variables_survive_a_round_trip_through_another_pack(team: tuple[Path, Path]) -> None:
    pack, project = team
    assert _run("update", str(project), "--var", "owner=ACME Labs")[0] == 0
    assert _run("update", str(project), "--template", "builtin")[0] == 0
    code, output = _run("update", str(project), "--template", str(pack))
    assert code == 0, output
    model = (project / "src" / "churn" / "model.py").read_text()
    assert "Copyright ACME Labs." in model
