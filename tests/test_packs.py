"""Template packs: a team's templates, variables and presets used by ``new`` and
``convert``; where packs come from; the sandbox and the project boundary
(generator/packs/, docs/templates.md)."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REGENERATE

from generator.cli import main
from generator.output.writing import comparable

PACKS = Path(__file__).parent / "data" / "packs"
ACME = PACKS / "acme"
GOLDEN = Path(__file__).parent / "data" / "golden" / "packs"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _golden(name: str, source: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    assert path.exists(), f"missing golden file; run `make golden` ({path})"
    assert comparable(source) == comparable(path.read_text(encoding="utf-8"))


def _pack(tmp_path: Path, files: dict[str, str], name: str = "team") -> Path:
    """A pack written for one test: a manifest plus ``files``."""
    root = tmp_path / name
    root.mkdir()
    (root / "scaffold-template.toml").write_text(f'name = "{name}"\nversion = "0.1"\n')
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def _tree(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# -- the sample team pack ---------------------------------------------------------------------


def test_new_project_in_the_team_style(tmp_path: Path) -> None:
    project = tmp_path / "churn"
    code, output = _run(
        "new", str(project), "--template", str(ACME), "--preset", "acme_classifier",
        "--var", "owner=ACME Labs", "--var", "log_level=10",
    )  # fmt: skip
    assert code == 0, output
    model = (project / "src" / "churn" / "model.py").read_text()
    _golden("new_acme_classifier.py", model)
    assert model.startswith("# SPDX-License-Identifier: Apache-2.0\n# Copyright ACME Labs.")
    assert "def describe(self):" in model
    assert (project / "CONTRIBUTING.md").read_text().startswith("# Contributing to churn")
    logging_config = (project / "src" / "churn" / "logging_config.py").read_text()
    assert "level=10" in logging_config
    assert "ACME Labs maintains this project" in (project / "README.md").read_text()
    record = (project / ".scaffold.toml").read_text()
    assert 'name = "acme"' in record and 'version = "1.2.0"' in record
    assert 'owner = "ACME Labs"' in record and "log_level = 10" in record


@pytest.mark.slow
def test_a_team_style_project_passes_its_own_tests(tmp_path: Path) -> None:
    """The generated project as its user runs it: its tests, train.py, and the pack's
    extra method on the trained model."""
    project = tmp_path / "churn"
    code, output = _run("new", str(project), "--template", str(ACME), "--preset", "acme_classifier")
    assert code == 0, output
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    check = (
        "import sys; sys.path.insert(0, 'src');"
        "from churn.model import Churn; from churn import logging_config;"
        "logging_config.configure(); m = Churn(); m.build(None); print(m.describe())"
    )
    described = subprocess.run(
        [sys.executable, "-c", check], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert described.returncode == 0, described.stderr[-2000:]
    assert described.stdout.strip() == "Churn: 804 parameters"  # (20*32 + 32) + (32*4 + 4)


def test_convert_in_the_team_style_still_verifies(tmp_path: Path) -> None:
    import keras

    keras.backend.clear_session()
    inputs = keras.Input((6,), name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="scores")(hidden), name="scorer")
    model.save(tmp_path / "scorer.keras")
    out = tmp_path / "scorer.py"
    emitted = tmp_path / "test_scorer.py"
    code, output = _run(
        "convert", str(tmp_path / "scorer.keras"), "-o", str(out), "--template", str(ACME),
        "--var", "license=MIT", "--emit-test", str(emitted),
    )  # fmt: skip
    assert code == 0, output
    assert "EQUIVALENT" in output
    assert emitted.read_text().startswith("# SPDX-License-Identifier: MIT\n# Copyright ACME")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(emitted)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout[-3000:]
    source = out.read_text()
    # The .keras file (and so its hash) differs from run to run.
    _golden("convert_scorer.py", re.sub(r"sha256: [0-9a-f]{64}", "sha256: HASH", source))
    assert source.startswith("# SPDX-License-Identifier: MIT\n")
    from generator.verify import import_source

    generated = import_source(source, "acme_scorer").Scorer()
    generated.build(None)
    assert generated.describe() == "Scorer: 83 parameters"


def test_a_converted_project_in_the_team_style(tmp_path: Path) -> None:
    import keras

    keras.backend.clear_session()
    inputs = keras.Input((5,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs), name="tiny")
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "tiny.keras")
    project = tmp_path / "tiny"
    code, output = _run(
        "convert", str(tmp_path / "tiny.keras"), "-o", str(project), "--loop", "fit",
        "--template", str(ACME),
    )  # fmt: skip
    assert code == 0, output
    assert (project / "CONTRIBUTING.md").is_file()
    assert (project / "src" / "tiny" / "logging_config.py").is_file()
    assert (project / "src" / "tiny" / "model.py").read_text().startswith("# SPDX")
    record = (project / ".scaffold.toml").read_text()
    assert 'command = "convert"' in record and 'name = "acme"' in record
    code, output = _run("update", str(project))
    assert code == 2 and "made by scaffold convert" in output


def test_presets_are_listed_with_where_they_come_from() -> None:
    code, output = _run("new", "--list-presets", "--template", str(ACME))
    assert code == 0, output
    lines = {line.split()[0]: line for line in output.splitlines()}
    assert lines["acme_classifier"].endswith("[template pack 'acme']")
    assert lines["mlp"].endswith("[built-in]")


def test_templates_show_lists_variables_templates_and_blocks() -> None:
    code, output = _run("templates", "show", str(ACME))
    assert code == 0, output
    assert "owner (str, default 'ACME Corp'; matches '[A-Z][A-Za-z0-9 .&-]*')" in output
    assert "model.py.jinja: extends builtin/model.py.jinja (blocks: extra_methods)" in output
    assert "project/CONTRIBUTING.md.jinja: extra project file" in output
    for block in ("header", "imports", "class_docstring", "init", "call", "get_config"):
        assert block in output


def test_templates_init_writes_a_pack_that_works(tmp_path: Path) -> None:
    pack = tmp_path / "house-style"
    code, output = _run("templates", "init", str(pack))
    assert code == 0, output
    manifest = (pack / "scaffold-template.toml").read_text()
    assert 'name = "house-style"' in manifest
    model_template = (pack / "model.py.jinja").read_text()
    for block in ("class_docstring", "init", "call", "get_config", "extra_methods"):
        assert block in model_template  # every block is documented
    project = tmp_path / "demo"
    code, output = _run("new", str(project), "--template", str(pack), "--preset", "house_style_mlp")
    assert code == 0, output
    source = (project / "src" / "demo" / "model.py").read_text()
    assert source.startswith("# Copyright Our team. License: Apache-2.0.")
    compile(source, "model.py", "exec")
    code, output = _run("templates", "init", str(pack))
    assert code == 1 and "not an empty directory" in output


# -- variables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("owner=acme", "does not match the pattern"),
        ("license=GPL", "is not one of 'Apache-2.0', 'MIT'"),
        ("log_level=loud", "log_level='loud' is not a int"),
        ("log_level=15", "is not one of 10, 20, 30"),
        ("color=red", "has no variable 'color'"),
        ("owner", "expected NAME=VALUE"),
    ],
)
def test_bad_variables_are_refused_before_anything_is_written(
    tmp_path: Path, given: str, message: str
) -> None:
    project = tmp_path / "p"
    code, output = _run(
        "new", str(project), "--template", str(ACME), "--preset", "mlp", "--var", given
    )
    assert code == 2, output
    assert message in output and len(output.strip().splitlines()) == 1
    assert not project.exists()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("name = 'x'\n[variables.a]\ntype = 'list'\ndefault = 1\n", "type 'list' is not one of"),
        ("name = 'x'\n[variables.a]\ntype = 'int'\n", "needs a 'default'"),
        ("name = 'x'\n[variables.a]\ndefault = 'b'\nchoices = ['c']\n", "is not one of 'c'"),
        ("name = 'x'\ncolour = 1\n", "unknown key 'colour'"),
        ("name = 'x y'\n", "'name' must be a word"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_bad_manifests_are_refused(tmp_path: Path, manifest: str, message: str) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "scaffold-template.toml").write_text(manifest)
    code, output = _run("templates", "show", str(tmp_path / "pack"))
    assert code == 2 and message in output, output
    assert "scaffold-template.toml" in output


# -- safety ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ cycler.__init__.__globals__.os }}", "is unsafe"),
        ("{{ os.system('touch pwned') }}", "'os' is undefined"),
        ("{{ vars.not_declared }}", "has no attribute 'not_declared'"),
        ("{% include '/etc/passwd' %}", "no template '/etc/passwd'"),
        ("{% include '../../../etc/passwd' %}", "no template '../../../etc/passwd'"),
        ("{% for %}", "template syntax error"),
    ],
)
def test_the_sandbox_refuses_with_template_and_line(
    tmp_path: Path, template: str, message: str
) -> None:
    module = '{% extends "builtin/module.py.jinja" %}\n{% block header %}\n' + template
    module += "\n{{ super() }}{% endblock %}\n"
    pack = _pack(tmp_path, {"module.py.jinja": module})
    out = tmp_path / "m.py"
    code, output = _run("new", "M", "-o", str(out), "--template", str(pack), "--preset", "mlp")
    assert code == 2, output
    assert message in output, output
    assert f"{pack / 'module.py.jinja'}:3" in output or "syntax error" in output
    assert not out.exists() and not (tmp_path / "pwned").exists()


def test_a_pack_cannot_write_outside_the_project(tmp_path: Path) -> None:
    for index, path in enumerate(["{{ '..' }}/evil.txt", "{{ '/tmp' }}/evil.txt", "{{ '' }}"]):
        pack = _pack(tmp_path, {f"project/{path}.jinja": "owned\n"}, name=f"bad{index}")
        project = tmp_path / f"p{index}"
        code, output = _run("new", str(project), "--template", str(pack), "--preset", "mlp")
        assert code == 2 and "outside the project" in output, output
        assert not project.exists()
    assert not (tmp_path / "evil.txt").exists()


def test_a_link_out_of_the_pack_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy\n")
    pack = _pack(tmp_path, {})
    (pack / "project").mkdir()
    (pack / "project" / "copied.txt").symlink_to(secret)
    project = tmp_path / "p"
    code, output = _run("new", str(project), "--template", str(pack), "--preset", "mlp")
    assert code == 2 and "leads outside the template pack" in output, output
    assert not project.exists()


def test_an_extra_file_may_not_replace_a_project_file(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {"project/train.py": "print('mine')\n"})
    code, output = _run("new", str(tmp_path / "p"), "--template", str(pack), "--preset", "mlp")
    assert code == 2 and "override the built-in template project/train_fit.py.jinja" in output


# -- where packs come from ---------------------------------------------------------------------


@pytest.fixture()
def installed_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The acme pack installed as a package that declares it (a hand-written dist-info on
    a temporary sys.path entry, as pip would leave it)."""
    site = tmp_path / "site"
    shutil.copytree(ACME, site / "acme_scaffold_pack")
    dist = site / "acme_scaffold_pack-1.2.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-scaffold-pack\nVersion: 1.2.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[keras_scaffold.templates]\nacme = acme_scaffold_pack\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return "acme"


def test_an_installed_pack_is_found_by_name(installed_pack: str, tmp_path: Path) -> None:
    code, output = _run("templates", "list")
    assert code == 0, output
    assert "acme 1.2.0  [entry point 'acme' of acme-scaffold-pack 1.2.0]" in output
    assert output.startswith("builtin  [built-in]")
    out = tmp_path / "m.py"
    code, output = _run("new", "M", "-o", str(out), "--template", installed_pack, "--preset", "mlp")
    assert code == 0, output
    assert out.read_text().startswith("# SPDX-License-Identifier: Apache-2.0\n")


def test_an_unknown_pack_name_is_a_usage_error(installed_pack: str) -> None:
    code, output = _run("new", "M", "--template", "acmee", "--preset", "mlp")
    assert code == 2 and "no template pack 'acmee'" in output and "did you mean 'acme'" in output


def test_the_environment_variable_chooses_a_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAFFOLD_TEMPLATE", str(ACME))
    out = tmp_path / "m.py"
    code, output = _run("new", "M", "-o", str(out), "--preset", "mlp")
    assert code == 0, output
    assert out.read_text().startswith("# SPDX")
    code, output = _run(
        "new", "M", "-o", str(out), "--preset", "mlp", "--force", "--template", "builtin"
    )
    assert code == 0 and out.read_text().startswith('"""'), output


# -- regressions from review --------------------------------------------------------------------


def test_a_packs_preset_may_not_import_modules(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.py").write_text("open('PWNED', 'w').close()\n")
    preset = "imports: [evil]\ninput_shape: [4]\nlayers: Dense(2)\n"
    pack = _pack(tmp_path, {"presets/house.yaml": preset})
    code, output = _run("new", "M", "-o", "m.py", "--template", str(pack), "--preset", "house")
    assert code == 2 and "may not import modules" in output, output
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "m.py").exists()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"model.py.jinja": "{% for %}"}, "template syntax error"),
        ({"model.py.jinja": b"\xff\xfe{{ x }}"}, "cannot read it"),
        ({"project/{{ '%d' % 'x' }}.txt": "x"}, "cannot render the path"),
        ({"project/{{ 'a\\x00b' }}.txt": "x"}, "outside the project"),
    ],
)
def test_broken_packs_are_one_line_errors(tmp_path: Path, files: dict, message: str) -> None:
    pack = _pack(tmp_path, {})
    for relative, content in files.items():
        (pack / relative).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (pack / relative).write_bytes(content)
        else:
            (pack / relative).write_text(content)
    new = ["new", str(tmp_path / "p"), "--template", str(pack), "--preset", "mlp"]
    for command in (["templates", "show", str(pack)], new):
        code, output = _run(*command)
        if command[0] == "templates" and "project/" in next(iter(files)):
            continue  # show does not render paths
        assert code == 2 and message in output, (command, output)
        assert len(output.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


def test_a_link_loop_in_a_pack_is_refused(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {"project/README.md.jinja": "x\n"})
    (pack / "project" / "loop").symlink_to(pack / "project" / "loop")
    code, output = _run("templates", "show", str(pack))
    assert code == 2 and "leads nowhere" in output, output


def test_builtin_names_always_name_the_builtin_templates(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {"builtin/module.py.jinja": "SHADOW\n"})
    out = tmp_path / "m.py"
    code, output = _run("new", "M", "-o", str(out), "--template", str(pack), "--preset", "mlp")
    assert code == 0, output
    assert "SHADOW" not in out.read_text()


def test_an_entry_point_package_is_located_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "evpkg").mkdir(parents=True)
    marker = tmp_path / "IMPORTED"
    (site / "evpkg" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    shutil.copytree(ACME, site / "evpkg" / "packdata")
    dist = site / "evpkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evpkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[keras_scaffold.templates]\nev = evpkg.packdata\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    code, output = _run("templates", "list")
    assert code == 0 and "entry point 'ev' of evpkg 1.0" in output, output
    assert not marker.exists()


def test_a_pack_that_writes_broken_python_is_named(tmp_path: Path) -> None:
    module = '{% extends "builtin/module.py.jinja" %}\n{% block header %}\n)\n{{ super() }}'
    pack = _pack(tmp_path, {"module.py.jinja": module + "{% endblock %}\n"})
    out = tmp_path / "m.py"
    code, output = _run("new", "M", "-o", str(out), "--template", str(pack), "--preset", "mlp")
    assert code == 2 and "template pack 'team'" in output and "does not parse" in output
    assert not out.exists()


def test_the_sandbox_bounds_what_a_template_may_build(tmp_path: Path) -> None:
    module = '{% extends "builtin/module.py.jinja" %}\n{% block header %}\n'
    module += '{{ "x" * 10**10 }}\n{{ super() }}{% endblock %}\n'
    pack = _pack(tmp_path, {"module.py.jinja": module})
    out = str(tmp_path / "m.py")
    code, output = _run("new", "M", "-o", out, "--template", str(pack), "--preset", "mlp")
    assert code == 2 and "more than 10,000,000 items is refused" in output, output


def test_templates_init_makes_the_parent_folders(tmp_path: Path) -> None:
    code, output = _run("templates", "init", str(tmp_path / "tools" / "acme"))
    assert code == 0, output
    assert (tmp_path / "tools" / "acme" / "scaffold-template.toml").is_file()


def test_a_pack_that_extends_init_keeps_it_where_the_builtin_leaves_it_out(
    tmp_path: Path,
) -> None:
    """A block whose layers are all made in ``build`` needs no ``__init__``; the built-in
    templates leave it out, but a pack that adds a line to it (``{{ super() }}`` then its
    own) keeps one that parses. Found in review."""
    import keras

    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 6))
    x = inputs
    for n, width in enumerate([6, 6, 6, 12, 12, 12]):
        if n == 3:
            x = keras.layers.Conv2D(width, 1, name="widen")(x)
        h = keras.layers.DepthwiseConv2D(3, padding="same", name=f"b{n}_dw")(x)
        h = keras.layers.LayerNormalization(name=f"b{n}_ln")(h)
        x = keras.layers.Add(name=f"b{n}_add")([x, keras.layers.Dense(width, name=f"b{n}_pw")(h)])
    keras.Model(inputs, x).save(tmp_path / "m.keras")
    pack = _pack(
        tmp_path,
        {
            "model.py.jinja": '{% extends "builtin/model.py.jinja" %}\n{% block init %}\n'
            '{{ super() }}\n        self.created_by = "team"\n{% endblock %}\n'
        },
    )
    plain, packed = tmp_path / "plain.py", tmp_path / "packed.py"
    code, output = _run("convert", str(tmp_path / "m.keras"), "-o", str(plain))
    assert code == 0, output
    code, output = _run(
        "convert", str(tmp_path / "m.keras"), "-o", str(packed), "--template", str(pack)
    )
    assert code == 0 and "EQUIVALENT" in output, output
    plain_text, packed_text = plain.read_text(), packed.read_text()
    assert plain_text.count("def __init__") == 1  # the model's; the block has none
    assert packed_text.count("def __init__") == 2 and packed_text.count('= "team"') == 2
