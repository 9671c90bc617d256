from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Every formatted output in the suite is also formatted by Black alone and must match.
os.environ.setdefault("SCAFFOLD_FORMAT_CHECK", "1")

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

FULL = os.environ.get("SCAFFOLD_FULL") == "1"
REGENERATE = os.environ.get("SCAFFOLD_REGENERATE_GOLDEN") == "1"


def assert_documented(doc_path: Path, heading: str, body: str) -> None:
    """The first ```python block after ``heading`` in ``doc_path`` must be ``body``: what
    the tool writes today (``make golden`` rewrites it)."""

    def shown() -> tuple[str, int, int]:
        text = doc_path.read_text(encoding="utf-8")
        start = text.index("```python\n", text.index(heading)) + len("```python\n")
        return text, start, text.index("\n```", start)

    text, start, stop = shown()
    if REGENERATE:
        doc_path.write_text(text[:start] + body + text[stop:], encoding="utf-8")
        text, start, stop = shown()
    assert text[start:stop] == body, f"{doc_path.name} is stale; run `make golden`"


def outputs_across_hash_seeds(script: str, seeds: tuple[str, ...]) -> set[str]:
    """What ``script`` prints under each ``PYTHONHASHSEED`` (one element: deterministic)."""
    outputs = set()
    for seed in seeds:
        env = {**os.environ, "PYTHONHASHSEED": seed, "TF_CPP_MIN_LOG_LEVEL": "3"}
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).parent.parent,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        outputs.add(result.stdout)
    return outputs
