"""The file rules every command follows (generator/output/writing.py), unit by unit."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from generator.errors import InvalidOutputError, OutputError
from generator.interrupts import Interrupted
from generator.output.writing import TEMP_PREFIX, FileSet, destination, require_distinct


@pytest.fixture()
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.startswith(TEMP_PREFIX))


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    for umask, expected in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        previous = os.umask(umask)
        try:
            target = tmp_path / f"m{umask:o}.py"
            files = FileSet()
            files.write_text(destination(target, force=False), "x = 1\n")
            files.commit()
        finally:
            os.umask(previous)
        assert _mode(target) == expected
        assert target.read_text() == "x = 1\n"


def test_force_keeps_the_existing_mode(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "m.py"
    target.write_text("old\n")
    target.chmod(0o640)
    files = FileSet()
    files.write_text(destination(target, force=True), "new\n")
    files.commit()
    assert target.read_text() == "new\n" and _mode(target) == 0o640


def test_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text("mine\n")
    with pytest.raises(OutputError, match="already exists; pass --force"):
        destination(target, force=False)


@pytest.mark.parametrize("force", [False, True])
def test_never_a_directory_fifo_or_device(tmp_path: Path, force: bool) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = [(tmp_path, "is a directory"), (fifo, "FIFO"), (Path("/dev/null"), "device")]
    for path, message in cases:
        with pytest.raises(OutputError, match=message):
            destination(path, force=force)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("force", [False, True])
def test_dangling_symlink_counts_as_existing_and_is_never_followed(
    tmp_path: Path, force: bool
) -> None:
    link = tmp_path / "link.py"
    link.symlink_to(tmp_path / "elsewhere" / "target.py")
    with pytest.raises(OutputError, match="symbolic link that leads nowhere"):
        destination(link, force=force)
    assert not (tmp_path / "elsewhere").exists()


def test_symlink_to_a_file_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text("old\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    with pytest.raises(OutputError, match="already exists"):
        destination(link, force=False)
    files = FileSet()
    files.write_text(destination(link, force=True), "new\n")
    files.commit()
    assert link.is_symlink() and real.read_text() == "new\n"


def test_never_an_input_even_with_force(tmp_path: Path) -> None:
    model = tmp_path / "model.keras"
    model.write_bytes(b"PK")
    alias = tmp_path / "alias.keras"
    alias.symlink_to(model)
    for path in (model, alias, tmp_path / "." / "model.keras"):
        with pytest.raises(InvalidOutputError, match="also an input"):
            destination(path, force=True, inputs=(model,))
    assert model.read_bytes() == b"PK"


def test_the_same_file_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    a = destination(tmp_path / "a.py", force=False, option="-o")
    same = destination(tmp_path / "sub" / ".." / "a.py", force=False, option="--emit-test")
    with pytest.raises(InvalidOutputError, match="both -o and --emit-test"):
        require_distinct([a, same])
    require_distinct([a, destination(tmp_path / "b.py", force=False, option="--emit-test")])


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        destination(tmp_path / "nope" / "m.py", force=False)


def test_discard_leaves_the_disk_as_it_was(tmp_path: Path) -> None:
    existing = tmp_path / "keep.py"
    existing.write_text("mine\n")
    files = FileSet()
    files.write_text(destination(existing, force=True), "new\n")
    files.make_directories(tmp_path / "a" / "b")
    files.write_text(destination(tmp_path / "a" / "b" / "new.py", force=False), "x\n")
    files.stage_directory(destination(tmp_path / "proj", force=False), {"src/m.py": "y\n"})
    assert _leftovers(tmp_path)
    files.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.py"]
    assert existing.read_text() == "mine\n"


def test_commit_moves_everything_and_a_signal_waits_for_it(tmp_path: Path) -> None:
    """A real SIGTERM sent in the middle of a commit is raised only after the last file."""
    from generator import interrupts

    files = FileSet()
    targets = [tmp_path / f"f{i}.py" for i in range(5)]
    for target in targets:
        files.write_text(destination(target, force=False), target.name)
    original_link = os.link
    moved = []

    def link_then_signal(src: str, dst: str) -> None:  # new files are linked into place
        original_link(src, dst)
        moved.append(dst)
        if len(moved) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    saved = {signum: signal.getsignal(signum) for signum in interrupts.HANDLED}
    interrupts.install()
    try:
        with mock.patch("os.link", link_then_signal), pytest.raises(Interrupted) as caught:
            files.commit()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert caught.value.exit_code == 143
    assert all(t.read_text() == t.name for t in targets)  # every file, then the signal
    assert files.committed == targets
    assert _leftovers(tmp_path) == []


def test_weights_style_writer_sees_a_temp_path_with_the_same_suffix(tmp_path: Path) -> None:
    seen = []

    def write(temp: Path) -> None:
        seen.append(temp)
        assert temp.exists() and temp.name.endswith("model.weights.h5")
        temp.write_bytes(b"h5")

    files = FileSet()
    files.write_with(destination(tmp_path / "model.weights.h5", force=False), write)
    files.commit()
    assert (tmp_path / "model.weights.h5").read_bytes() == b"h5"
    assert not seen[0].exists()


def test_a_file_that_appears_meanwhile_is_never_replaced(tmp_path: Path) -> None:
    files = FileSet()
    first, late = tmp_path / "a.py", tmp_path / "b.py"
    files.write_text(destination(first, force=False), "a\n")
    files.write_text(destination(late, force=False), "b\n")
    late.write_text("written by someone else meanwhile\n")
    with pytest.raises(OutputError, match="appeared while scaffold was working"):
        files.commit()
    files.discard()
    assert not first.exists()
    assert late.read_text() == "written by someone else meanwhile\n"
    assert _leftovers(tmp_path) == []


def test_a_failed_move_puts_back_what_was_moved(tmp_path: Path) -> None:
    old, new = tmp_path / "old.py", tmp_path / "new.py"
    old.write_text("mine\n")
    old.chmod(0o640)
    blocked = tmp_path / "blocked.py"
    files = FileSet()
    files.write_text(destination(old, force=True), "generated\n")
    files.write_text(destination(new, force=False), "generated\n")
    files.write_text(destination(blocked, force=False), "generated\n")
    original_link, original_replace = os.link, os.replace

    def refusing(original):  # type: ignore[no-untyped-def]
        def move(src: str, dst: str) -> None:
            if str(dst) == str(blocked):  # e.g. a sticky directory owned by someone else
                raise PermissionError(1, "Operation not permitted")
            original(src, dst)

        return move

    with (
        mock.patch("os.link", refusing(original_link)),
        mock.patch("os.replace", refusing(original_replace)),
        pytest.raises(OutputError) as caught,
    ):
        files.commit()
    files.discard()
    assert "nothing was written" in str(caught.value)
    assert old.read_text() == "mine\n" and _mode(old) == 0o640
    assert not new.exists() and not blocked.exists()
    assert files.committed == []
    assert _leftovers(tmp_path) == []


def test_temporary_names_fit_the_file_system(tmp_path: Path) -> None:
    long_name = "m" * 240 + ".weights.h5"
    files = FileSet()
    files.write_text(destination(tmp_path / long_name, force=False), "x")
    files.commit()
    assert (tmp_path / long_name).read_text() == "x"


def test_project_files_never_lead_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "train.py").symlink_to(outside)
    with pytest.raises(OutputError, match="leads outside the project"):
        destination(project / "train.py", force=True, within=project.resolve())
    assert outside.read_text() == "precious\n"
