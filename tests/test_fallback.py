"""``scaffold convert`` falls back to the flat module when structure recovery fails.

The defects are injected: structure recovery raising, or its module computing something
else (a block's result doubled). The flat module must then be what is written, and
the user told why; a failure structure recovery is not to blame for is not retried.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cases import build_case
from click.testing import CliRunner

import generator.convert
import generator.core.structure
from generator.cli import main
from generator.errors import ScaffoldError

WARNING = "Warning: structure recovery failed"


@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "blocks.keras"
    build_case("repeated_blocks").save(path)
    return path


def _flat_source(model_file: Path, tmp_path: Path) -> str:
    """What ``--flat`` writes to a ``model.py``."""
    (tmp_path / "flat").mkdir()
    out = tmp_path / "flat" / "model.py"
    result = CliRunner().invoke(
        main, ["convert", str(model_file), "-o", str(out), "--flat", "--no-verify"]
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def _convert(model_file: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, ["convert", str(model_file), "-o", str(out), *extra])


def _counting(
    monkeypatch: pytest.MonkeyPatch, change: Any = None, flat_change: Any = None
) -> list[bool]:
    """Wrap ``generator.convert.convert`` so that ``change(source)`` alters what a
    factored conversion renders and ``flat_change(source)`` what a flat one does (None:
    nothing); returns the ``flat`` flag of every call."""
    real = generator.convert.convert
    calls: list[bool] = []

    def convert(model: Any, options: Any, *args: Any) -> Any:
        calls.append(options.flat)
        done = real(model, options, *args)
        edit = flat_change if options.flat else change
        if edit is None:
            return done
        return type(done)(done.module, edit(done.source), done.options)

    monkeypatch.setattr(generator.convert, "convert", convert)
    return calls


@pytest.mark.parametrize(
    ("defect", "reason"),
    [
        (
            IndexError("list index out of range"),
            "internal error: IndexError: list index out of range",
        ),
        # What the IR's own consistency check raises: a defect too, not the user's error.
        (ScaffoldError("duplicate class name 'Block'", where="module"), "module: duplicate class"),
    ],
)
def test_a_defect_in_structure_recovery_writes_the_flat_module(
    model_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    defect: Exception,
    reason: str,
) -> None:
    expected = _flat_source(model_file, tmp_path)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise defect

    monkeypatch.setattr(generator.convert, "recover_structure", broken)
    out = tmp_path / "model.py"
    result = _convert(model_file, out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == expected
    warning = next(line for line in result.stderr.splitlines() if line.startswith(WARNING))
    assert reason in warning, warning
    assert "Traceback" not in result.output
    assert "EQUIVALENT" in result.stderr  # the flat module was verified

    # --check compares against the same module, rather than failing on the defect.
    again = _convert(model_file, out, "--check")
    assert again.exit_code == 0, again.output


def test_a_factored_module_that_computes_otherwise_gives_way_to_the_flat_one(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _flat_source(model_file, tmp_path)
    factored = tmp_path / "factored" / "model.py"
    factored.parent.mkdir()
    assert _convert(model_file, factored, "--no-verify").exit_code == 0
    assert "(tf.keras.layers.Layer):" in factored.read_text(encoding="utf-8")  # a block

    def doubled_block(source: str) -> str:
        """The first ``return x``, the block's, returns twice its result."""
        assert source.index("        return x\n") < source.index("tf.keras.Model):")
        return source.replace("        return x\n", "        return x * 2.0\n", 1)

    calls = _counting(monkeypatch, doubled_block)
    out = tmp_path / "model.py"
    weights = tmp_path / "model.weights.h5"
    result = _convert(model_file, out, "--weights", str(weights))
    assert result.exit_code == 0, result.output
    assert calls == [False, True]
    assert out.read_text(encoding="utf-8") == expected
    assert weights.is_file()
    warning = next(line for line in result.stderr.splitlines() if line.startswith(WARNING))
    assert "its module is not equivalent: layer 'conv2d_3' is the first" in warning, warning
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".scaffold-")]
    assert leftovers == []

    # --check and --diff compare against what convert wrote: the flat module.
    del calls[:]
    again = _convert(model_file, out, "--check")
    assert again.exit_code == 0, again.output
    assert "up to date" in again.stderr
    assert calls == [False, False, True]  # the factored module differs, so it is verified
    assert WARNING in again.stderr
    assert _convert(model_file, out, "--diff").stdout == ""


def test_a_current_factored_module_is_checked_without_verifying(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "model.py"
    assert _convert(model_file, out, "--no-verify").exit_code == 0
    import generator.commands

    def no_verification(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("verified")

    monkeypatch.setattr(generator.commands, "_verify", no_verification)
    result = _convert(model_file, out, "--check")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stderr


def _one_weight_fewer(source: str) -> str:
    bn = "tf.keras.layers.BatchNormalization("
    assert bn in source
    return source.replace(bn, bn + "center=False, ")


def _doubled(source: str) -> str:
    return source.replace("        return x\n", "        return x * 2.0\n", 1)


def _raises(source: str) -> str:
    raise IndexError("list index out of range")


@pytest.mark.parametrize(
    ("factored", "flat", "reported"),
    [
        (_one_weight_fewer, _one_weight_fewer, "with 1 trainable weights in the generated layer"),
        (_doubled, _raises, "MISMATCH"),
    ],
    ids=["both diverge", "the flat conversion raises"],
)
def test_a_factored_module_that_diverges_stays_when_the_flat_one_is_no_better(
    model_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    factored: Any,
    flat: Any,
    reported: str,
) -> None:
    """The module asked for is written with its mismatch report (exit 3), to inspect,
    as for any mismatch; no warning blames structure recovery."""
    _counting(monkeypatch, factored, flat)
    out = tmp_path / "model.py"
    result = _convert(model_file, out)
    assert result.exit_code == 3, result.output
    assert WARNING not in result.output
    assert "(tf.keras.layers.Layer):" in out.read_text(encoding="utf-8")
    assert reported in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".scaffold-")] == []


def test_an_original_model_that_fails_is_not_converted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original failing on the inputs verification made is no fault of structure
    recovery: one conversion, the error, exit 1."""
    import keras
    import numpy as np

    indices = keras.Input((3,), dtype="int32", name="idx")
    table = keras.ops.take(keras.ops.convert_to_tensor(np.arange(5, dtype="float32")), indices)
    model = keras.Model(indices, keras.layers.Dense(2, name="d")(table), name="takes")
    path = tmp_path / "takes.keras"
    model.save(path)
    calls = _counting(monkeypatch, lambda source: source)
    result = _convert(path, tmp_path / "model.py")
    assert result.exit_code == 1, result.output
    assert "the original model fails" in result.output
    assert calls == [False]
    assert WARNING not in result.output


def test_recovery_raising_then_the_flat_module_diverging_shows_the_divergence(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flat module's mismatch is the conversion's, not structure recovery's: it is
    written with its report (exit 3), and the warning still says recovery failed."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise IndexError("list index out of range")

    monkeypatch.setattr(generator.convert, "recover_structure", broken)

    def flat_doubled(source: str) -> str:
        call_returns = "        return dense\n"  # what the flat model's call returns
        assert call_returns in source
        return source.replace(call_returns, "        return dense * 2.0\n")

    _counting(monkeypatch, flat_change=flat_doubled)
    out = tmp_path / "model.py"
    result = _convert(model_file, out)
    assert result.exit_code == 3, result.output
    assert "internal error: IndexError" in result.stderr
    assert "return dense * 2.0" in out.read_text(encoding="utf-8")
    assert "Traceback" not in result.output
