"""The project holds itself to the standard it sets for generated code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_and_format() -> None:
    check = _run("ruff", "check", "generator", "tests", "docs", "benchmarks")
    assert check.returncode == 0, check.stdout
    fmt = _run("ruff", "format", "--check", "generator", "tests", "docs", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout


def test_mypy() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout


def test_templates_ship_inside_the_wheel() -> None:
    """pyproject force-includes templates/ as generator/templates in the wheel."""
    text = (ROOT / "pyproject.toml").read_text()
    assert '"templates" = "generator/templates"' in text
    assert (ROOT / "templates" / "module.py.jinja").is_file()
