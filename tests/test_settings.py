"""``[tool.scaffold]`` settings: where they are found, profiles, precedence, and what
``scaffold config`` prints (generator/settings.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.settings import find_config, load_settings

ACME = Path(__file__).parent / "data" / "packs" / "acme"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A team repository: its pack beside a pyproject.toml that configures scaffold; the
    tests run in a subdirectory of it."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "tools").mkdir()
    (root / "tools" / "acme").symlink_to(ACME, target_is_directory=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'models'\n\n"
        "[tool.scaffold]\n"
        "template = 'tools/acme'\n"
        "import_style = 'keras'\n"
        "package = 'acme_models'\n"
        "rtol = 0.001\n"
        "[tool.scaffold.variables]\n"
        "owner = 'ACME Research'\n"
        "[tool.scaffold.profiles.research]\n"
        "import_style = 'tf'\n"
        "loop = 'custom'\n"
        "[tool.scaffold.profiles.research.variables]\n"
        "license = 'MIT'\n"
    )
    work = root / "experiments" / "today"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.delenv("SCAFFOLD_TEMPLATE", raising=False)
    return root


def test_the_nearest_pyproject_is_found_but_not_above_the_repository(
    repo: Path, tmp_path: Path
) -> None:
    assert find_config(Path.cwd()) == (repo / "pyproject.toml").resolve()
    (tmp_path / "pyproject.toml").write_text("[tool.scaffold]\ntemplate = 'outside'\n")
    inner = repo / "sub"
    inner.mkdir()
    (inner / ".git").mkdir()
    assert find_config(inner) is None  # its own repository, without a pyproject.toml


def test_config_prints_every_value_and_its_source(repo: Path) -> None:
    code, output = _run("config")
    assert code == 0, output
    config = f"{(repo / 'pyproject.toml').resolve()} [tool.scaffold]"
    lines = {line.split()[0]: line for line in output.splitlines() if not line.startswith("#")}
    assert lines["template"].startswith('template     = "tools/acme"')
    assert lines["template"].endswith(f"# {config}")
    assert lines["import_style"].endswith(f"# {config}")
    assert lines["loop"].endswith("# default")
    assert lines["rtol"].split("=")[1].split("#")[0].strip() == "0.001"
    assert "variables.owner" in lines


def test_a_profile_overrides_the_table(repo: Path) -> None:
    code, output = _run("config", "--profile", "research")
    assert code == 0, output
    assert "# profile: research" in output
    assert "[tool.scaffold.profiles.research]" in output
    settings = load_settings(profile="research")
    assert settings["import_style"] == "tf" and settings["loop"] == "custom"
    assert settings.variables["license"].value == "MIT"
    assert settings.variables["owner"].value == "ACME Research"


def test_new_follows_the_configuration_and_the_command_line_wins(repo: Path) -> None:
    code, output = _run("new", "Net", "-o", "net.py", "--preset", "mlp")
    assert code == 0, output
    source = Path("net.py").read_text()
    assert source.startswith("# SPDX-License-Identifier: Apache-2.0\n# Copyright ACME Research.")
    assert "import keras" in source and "import tensorflow" not in source
    code, output = _run(
        "new", "Net", "-o", "net.py", "--preset", "mlp", "--force", "--import-style", "tf",
        "--var", "owner=Someone Else",
    )  # fmt: skip
    assert code == 0, output
    source = Path("net.py").read_text()
    assert "import tensorflow as tf" in source and "Copyright Someone Else." in source


def test_a_profile_sets_the_default_loop_of_new(repo: Path) -> None:
    code, output = _run("new", "proj", "--preset", "mlp", "--profile", "research")
    assert code == 0, output
    record = Path("proj/.scaffold.toml").read_text()
    assert 'loop = "custom"' in record and 'license = "MIT"' in record
    # The same in every checkout: no absolute path, the pack relative to the project.
    assert 'origin = "[tool.scaffold]"' in record and str(repo) not in record
    assert 'reference = "../../../tools/acme"' in record
    assert "CheckpointManager" in Path("proj/train.py").read_text()


def test_the_environment_overrides_the_configured_template(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAFFOLD_TEMPLATE", "builtin")
    code, output = _run("config")
    assert "# environment SCAFFOLD_TEMPLATE" in output
    code, output = _run("new", "Net", "-o", "net.py", "--preset", "mlp")
    assert code == 0, output
    assert Path("net.py").read_text().startswith('"""')  # the configured variables stay unused


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("colour = 'red'", "unknown key 'colour'"),
        ("import_style = 'jax'", "import_style must be one of tf, keras"),
        ("atol = -1", "atol must be >= 0"),
        ("atol = 'small'", "atol must be a float"),
        ("package = 'my package'", "package must be a dotted Python name"),
        ("template = 'no/such/pack'", "no such template pack directory"),
    ],
)
def test_bad_settings_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, message: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(f"[tool.scaffold]\n{table}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCAFFOLD_TEMPLATE", raising=False)
    code, output = _run("new", "Net", "-o", "net.py", "--preset", "mlp")
    assert code == 2, output
    assert message in output and "pyproject.toml" in output
    assert len(output.strip().splitlines()) == 1
    assert not (tmp_path / "net.py").exists()


def test_an_unknown_profile_names_the_ones_there_are(repo: Path) -> None:
    code, output = _run("config", "--profile", "prod")
    assert code == 2 and "no profile 'prod'" in output and "(profiles: research)" in output


def test_verify_takes_its_tolerances_from_the_configuration(repo: Path, tmp_path: Path) -> None:
    import keras

    keras.backend.clear_session()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
    model.save(tmp_path / "m.keras")
    code, output = _run(
        "convert", str(tmp_path / "m.keras"), "-o", "m.py", "--template", "builtin",
        "--report-json", "report.json",
    )  # fmt: skip
    assert code == 0, output
    import json

    report = json.loads(Path("report.json").read_text())
    assert report["tolerance"]["rtol"] == 0.001
    assert "class M(keras.Model)" in Path("m.py").read_text()  # import_style from the table
