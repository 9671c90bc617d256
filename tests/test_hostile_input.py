"""Hostile and broken input: bounded time and memory, one-line errors, nothing written.

Each known case has its own test; two Hypothesis tests then mutate a valid ``.keras`` file
and a valid YAML spec at random (bytes and structure) and hold every run to the same
rules: exit 0, 1, 2 or 3; a failure says so in at most two lines without a traceback and
writes nothing; no run takes long or grows memory much.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from cases import build_case
from click.testing import CliRunner
from conftest import FULL
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
KERAS_EXAMPLES = 600 if FULL else 150
SPEC_EXAMPLES = 2000 if FULL else 300
SECONDS_PER_RUN = 60  # a hang detector, not a speed target (those live in benchmarks/)
VALID_SPEC = """\
name: tiny
input_shape: [8]
params:
  units: {default: 4, type: int, doc: width}
layers:
  - Dense(units, activation='relu')
  - layer: Dropout(0.1)
    name: drop
  - Dense(2)
"""


def _measured_run(args: list[str], cwd: Path) -> tuple[int, str, float, int]:
    """Run the CLI in a fresh process; its exit code, stderr, seconds and peak RSS (KiB)."""
    # VmHWM is this process's own peak (ru_maxrss would include the forked pytest's).
    code = (
        "import re, sys\n"
        "from generator.cli import run\n"
        "try:\n"
        "    run()\n"
        "finally:\n"
        "    status = open('/proc/self/status').read()\n"
        "    rss = re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)\n"
        "    print(f'MAXRSS {rss}', file=sys.stderr)\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_RUN,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = result.stderr.strip().splitlines()
    rss = int(lines[-1].split()[1])
    return result.returncode, "\n".join(lines[:-1]), time.monotonic() - started, rss


def _zip(members: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def valid_keras(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "mlp.keras"
    build_case("sequential_mlp").save(path)
    return path.read_bytes()


def _members(archive_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# -- known cases ------------------------------------------------------------------------------


def test_config_bomb_is_refused_before_it_inflates(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("config.json", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(128):  # 128 MiB of JSON whitespace: about 130 KiB on disk
                member.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    code, stderr, seconds, rss = _measured_run(
        ["convert", str(bomb), "-o", str(tmp_path / "out.py")], tmp_path
    )
    assert code == 1 and stderr.startswith("Error: ") and len(stderr.splitlines()) == 1
    assert "config.json inflates to 128.0 MiB (limit 64.0 MiB)" in stderr
    assert rss < 400 * 1024  # KiB: the JSON was never read (TensorFlow was not even loaded)
    assert not (tmp_path / "out.py").exists()


def test_expanding_member_is_refused(tmp_path: Path, valid_keras: bytes) -> None:
    members = _members(valid_keras)
    members["assets/padding.bin"] = b"\0" * (32 << 20)  # 32 MiB of zeros deflate ~1000:1
    path = _zip(members, tmp_path / "padded.keras")
    result = CliRunner().invoke(main, ["convert", str(path)])
    assert result.exit_code == 1
    assert "'assets/padding.bin' inflates from" in result.output
    assert "decompression bomb" in result.output


def test_deeply_nested_config_is_one_line(tmp_path: Path, valid_keras: bytes) -> None:
    members = _members(valid_keras)
    for depth in (300, 200_000):
        members["config.json"] = b"[" * depth + b"]" * depth
        path = _zip(members, tmp_path / f"deep{depth}.keras")
        result = CliRunner().invoke(main, ["convert", str(path)])
        assert result.exit_code == 1, result.output
        assert "nests deeper than 256 levels" in result.output
        assert "Traceback" not in result.output


def test_billion_laughs_spec_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["name: *a8", "input_shape: 3", "layers: Dense(1)"]
    spec = tmp_path / "laughs.yaml"
    spec.write_text("\n".join(lines) + "\n")
    code, stderr, seconds, rss = _measured_run(
        ["new", "X", "--spec", str(spec), "-o", str(tmp_path / "out.py")], tmp_path
    )
    assert code == 2 and "expands to more than 20,000 YAML nodes" in stderr
    assert seconds < SECONDS_PER_RUN and rss < 300 * 1024
    assert not (tmp_path / "out.py").exists()


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    spec = tmp_path / "tag.yaml"
    spec.write_text(
        f"name: !!python/object/apply:pathlib.Path.touch [{str(marker)!r}]\n"
        "input_shape: 3\nlayers: Dense(1)\n"
    )
    result = CliRunner().invoke(
        main, ["new", "X", "--spec", str(spec), "-o", str(tmp_path / "out.py")]
    )
    assert result.exit_code == 2
    assert "unsupported YAML tag '!!python/object/apply:pathlib.Path.touch'" in result.output
    assert "tag.yaml:1:7" in result.output
    assert not marker.exists()


def test_deeply_nested_yaml_is_one_line(tmp_path: Path) -> None:
    for depth in (60, 100_000):
        spec = tmp_path / f"deep{depth}.yaml"
        spec.write_text("layers: " + "[" * depth + "]" * depth + "\n")
        result = CliRunner().invoke(
            main, ["new", "X", "--spec", str(spec), "-o", str(tmp_path / "out.py")]
        )
        assert result.exit_code == 2, result.output
        assert "nests deeper than 50 levels" in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_an_oversized_spec_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("# " + "x" * 2_000_000 + "\ninput_shape: 3\nlayers: Dense(1)\n")
    result = CliRunner().invoke(
        main, ["new", "X", "--spec", str(spec), "-o", str(tmp_path / "out.py")]
    )
    assert result.exit_code == 2 and "limit 1,000,000" in result.output


def test_sys_exit_in_user_code_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n")
    for reference, message in (
        ("sys:exit", "calling exit() failed: it called sys.exit(None)"),
        ("exits_on_import:build", "cannot import module 'exits_on_import': it called sys.exit(3)"),
    ):
        sys.path.insert(0, str(tmp_path))
        try:
            result = CliRunner().invoke(main, ["convert", reference, "-o", str(tmp_path / "o.py")])
        finally:
            sys.path.remove(str(tmp_path))
        assert result.exit_code == 1 and message in result.output, result.output
        assert not (tmp_path / "o.py").exists()


def test_a_nul_in_a_layer_name_names_the_hdf5_limit(tmp_path: Path) -> None:
    (tmp_path / "nul_model.py").write_text(
        "import keras\n\n"
        "def build():\n"
        "    x = keras.Input((3,))\n"
        "    return keras.Model(x, keras.layers.Dense(2, name='a\\x00b')(x))\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        result = CliRunner().invoke(
            main, ["convert", "nul_model:build", "-o", str(tmp_path / "out.py")]
        )
        weights = CliRunner().invoke(
            main, ["convert", "nul_model:build", "--weights", str(tmp_path / "w.weights.h5")]
        )
    finally:
        sys.path.remove(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "skipped: save/load: HDF5 cannot store the NUL character in layer name" in result.output
    assert "'a\\x00b'" in result.output and "\x00" not in result.output
    assert weights.exit_code == 1 and "HDF5 cannot store the NUL character" in weights.output
    assert not (tmp_path / "w.weights.h5").exists()


# -- fuzzing ------------------------------------------------------------------------------------


def _check_run(result, workdir: Path, before: set[str]) -> None:
    event(f"exit {result.exit_code}")  # pytest --hypothesis-show-statistics shows the mix
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    if result.exit_code in (1, 2):
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert 1 <= len(lines) <= 2 and lines[-1].startswith("Error: "), result.output
        assert "internal error" not in result.output, result.output
        assert set(os.listdir(workdir)) == before, "a failed run left files behind"


byte_mutations = st.lists(
    st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
    min_size=1,
    max_size=8,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _replace_somewhere(config: object, path: list[int], value: object) -> object:
    """Replace the subtree reached by following ``path`` (indices modulo sizes)."""
    if not path or not isinstance(config, (dict, list)) or not config:
        return value
    if isinstance(config, dict):
        key = sorted(config)[path[0] % len(config)]
        return {**config, key: _replace_somewhere(config[key], path[1:], value)}
    index = path[0] % len(config)
    return [
        *config[:index],
        _replace_somewhere(config[index], path[1:], value),
        *config[index + 1 :],
    ]


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(
    max_examples=KERAS_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    kind=st.sampled_from(["bytes", "json"]),
    mutations=byte_mutations,
    path=st.lists(st.integers(min_value=0, max_value=50), max_size=8),
    value=json_values,
)
def test_mutated_keras_files(
    valid_keras: bytes,
    fuzz_dir: Path,
    kind: str,
    mutations: list[tuple[int, int]],
    path: list[int],
    value: object,
) -> None:
    workdir = fuzz_dir / "keras"
    workdir.mkdir(exist_ok=True)
    for leftover in workdir.iterdir():
        leftover.unlink()
    if kind == "bytes":
        data = bytearray(valid_keras)
        for position, byte in mutations:
            data[position % len(data)] = byte
        model = bytes(data)
    else:
        members = _members(valid_keras)
        config = json.loads(members["config.json"])
        members["config.json"] = json.dumps(_replace_somewhere(config, path, value)).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, member in members.items():
                archive.writestr(name, member)
        model = buffer.getvalue()
    (workdir / "model.keras").write_bytes(model)
    before = set(os.listdir(workdir))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["convert", str(workdir / "model.keras"), "-o", str(workdir / "out.py")]
    )
    assert time.monotonic() - started < SECONDS_PER_RUN
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 512 * 1024
    _check_run(result, workdir, before)


yaml_noise = st.text(alphabet=list(" \n\t-:[]{}&*!|>'\"#%@`,?0123456789abcDense()=_."), max_size=12)


@settings(
    max_examples=SPEC_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    mutations=byte_mutations,
    insertions=st.lists(st.tuples(st.integers(min_value=0), yaml_noise), max_size=4),
)
def test_mutated_specs(
    fuzz_dir: Path, mutations: list[tuple[int, int]], insertions: list[tuple[int, str]]
) -> None:
    workdir = fuzz_dir / "spec"
    workdir.mkdir(exist_ok=True)
    for leftover in workdir.iterdir():
        leftover.unlink()
    text = VALID_SPEC
    for position, noise in insertions:
        index = position % (len(text) + 1)
        text = text[:index] + noise + text[index:]
    data = bytearray(text.encode())
    for position, byte in mutations:
        data[position % len(data)] = byte
    (workdir / "spec.yaml").write_bytes(bytes(data))
    before = set(os.listdir(workdir))
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["new", "X", "--spec", str(workdir / "spec.yaml"), "-o", str(workdir / "out.py")]
    )
    assert time.monotonic() - started < SECONDS_PER_RUN
    _check_run(result, workdir, before)
    assert result.exit_code in (0, 1, 2)


def test_archives_with_too_many_members_and_special_model_paths(tmp_path: Path) -> None:
    many = tmp_path / "many.keras"
    with zipfile.ZipFile(many, "w") as archive:
        for index in range(100_001):
            archive.writestr(f"m{index}", b"")
    result = CliRunner().invoke(main, ["convert", str(many)])
    assert result.exit_code == 1
    assert "the archive has 100,001 members (limit 100,000)" in result.output
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    result = CliRunner().invoke(main, ["convert", str(fifo)])  # must not block reading it
    assert result.exit_code == 1 and "is not a regular file" in result.output
