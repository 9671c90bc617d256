"""Real SIGINT and SIGTERM at any moment: the message always matches the files on disk.

The contract (README, "Interrupts"): until a command moves its files into place, an
interrupt removes every temporary file and says "Interrupted; no file was written." (exit
130 for SIGINT, 143 for SIGTERM); the files move together, with signals held, so a later
interrupt names exactly the files that were written; once the work is done a signal
changes nothing. Each child gets default signal handling explicitly: a test runner or a
background job may have started us with SIGINT ignored.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cases import build_case

from generator.output.writing import TEMP_PREFIX

pytestmark = pytest.mark.slow

OUTPUTS = ("out.py", "out.weights.h5", "test_out.py", "report.json")


def _default_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def _ignore_sigint() -> None:
    _default_signals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _convert(work: Path, preexec=_default_signals) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "generator",
        "convert",
        "mlp.keras",
        "-o",
        "out.py",
        "--weights",
        "out.weights.h5",
        "--emit-test",
        "test_out.py",
        "--report-json",
        "report.json",
    ]
    return subprocess.Popen(
        command,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("model") / "mlp.keras"
    build_case("sequential_mlp").save(path)
    return path.read_bytes()


def _fresh(tmp_path: Path, model_bytes: bytes, name: str) -> Path:
    work = tmp_path / name
    work.mkdir()
    (work / "mlp.keras").write_bytes(model_bytes)
    return work


def _check_truthful(work: Path, code: int, stderr: str, signum: int) -> str:
    """The exit code and the last line agree with what is on disk; returns the case."""
    assert "Traceback" not in stderr, stderr
    assert not [p.name for p in work.iterdir() if p.name.startswith(TEMP_PREFIX)]
    present = {name for name in OUTPUTS if (work / name).exists()}
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if code == 0:
        assert present == set(OUTPUTS) and "Interrupted" not in stderr, stderr
        return "finished"
    assert code == 128 + signum, (code, stderr)
    if last == "Interrupted; no file was written.":
        assert present == set(), present
        return "before writing"
    match = re.fullmatch(r"Interrupted after writing (.*); nothing else was written\.", last)
    assert match, stderr
    assert present == set(match.group(1).split(", ")), (present, last)
    return "after writing"


def test_signals_at_every_moment_tell_the_truth(tmp_path: Path, model_bytes: bytes) -> None:
    work = _fresh(tmp_path, model_bytes, "baseline")
    started = time.monotonic()
    baseline = _convert(work)
    _, stderr = baseline.communicate(timeout=300)
    duration = time.monotonic() - started
    assert baseline.returncode == 0, stderr
    _check_truthful(work, 0, stderr, signal.SIGINT)

    cases = []
    for index, fraction in enumerate((0.15, 0.4, 0.6, 0.75, 0.85, 0.95)):
        signum = signal.SIGINT if index % 2 == 0 else signal.SIGTERM
        work = _fresh(tmp_path, model_bytes, f"run{index}")
        process = _convert(work)
        time.sleep(duration * fraction)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=300)
        cases.append(_check_truthful(work, process.returncode, stderr, signum))
    assert "before writing" in cases, cases  # the early signals did interrupt


def test_a_late_signal_changes_nothing(tmp_path: Path, model_bytes: bytes) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        work = _fresh(tmp_path, model_bytes, f"late{signum}")
        process = _convert(work)
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if line.startswith("EQUIVALENT"):  # the last thing the command does
                process.send_signal(signum)
                break
        _, rest = process.communicate(timeout=120)
        stderr = "".join(lines) + rest
        # Usually the command has returned ("finished"); in the microseconds before, the
        # files are already in place and the message names all of them.
        outcome = _check_truthful(work, process.returncode, stderr, signum)
        assert outcome in ("finished", "after writing"), stderr
        assert all((work / name).exists() for name in OUTPUTS)


def test_slow_load_interrupted_by_sigint_and_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    (tmp_path / "slow_factory.py").write_text(
        "import pathlib, time\n"
        "def build():\n"
        f"    pathlib.Path({str(marker)!r}).write_text('x')\n"
        "    time.sleep(60)\n"
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        marker.unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{Path.cwd()}"}
        process = subprocess.Popen(
            [sys.executable, "-m", "generator", "convert", "slow_factory:build", "-o", "never.py"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_default_signals,
        )
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), process.communicate()[1]
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 128 + signum
        assert stderr.strip().splitlines()[-1] == "Interrupted; no file was written."
        assert "Traceback" not in stderr
        assert not (tmp_path / "never.py").exists()


def test_an_ignored_sigint_stays_ignored(tmp_path: Path, model_bytes: bytes) -> None:
    """Started in the background (SIGINT ignored), a Ctrl-C meant for the shell does not
    stop the conversion."""
    work = _fresh(tmp_path, model_bytes, "background")
    process = _convert(work, preexec=_ignore_sigint)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert _check_truthful(work, 0, stderr, signal.SIGINT) == "finished"


def test_an_interrupt_a_library_swallowed_is_still_the_interrupt(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A signal landing inside a library's import can be caught by its bare ``except``
    (seen: ``matplotlib`` half imported, then ``AttributeError: ... get_data_path``). The
    failure that follows is reported as what it is, the interrupt: 130, not an internal
    error with exit 1."""
    from generator import cli, interrupts
    from generator.output.writing import FileSet

    saved = {signum: signal.getsignal(signum) for signum in interrupts.HANDLED}
    try:
        # Default handling first: a background job or CI runner may start with SIGINT
        # ignored, and install() leaves an ignored signal ignored.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        interrupts.install()
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the handler runs here and raises
        except BaseException:  # noqa: BLE001, S110 - what the library does
            pass
        with pytest.raises(SystemExit) as exit_info:
            cli._raise_reported(AttributeError("module has no attribute"), FileSet())
        assert exit_info.value.code == 130
        assert capsys.readouterr().err.strip() == "Interrupted; no file was written."
    finally:
        interrupts.ignore_from_now()
        interrupts._State.received = None  # later in-process commands saw no signal
        for signum, handler in saved.items():
            signal.signal(signum, handler)
