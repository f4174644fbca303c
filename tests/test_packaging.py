"""`pip install .` (not editable) ships the default rules: the package holds rules/ as
pipeline/default_rules/, and the installed package loads them with no rules/ beside it."""
from __future__ import annotations

import subprocess
import sys
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """What `pip install .` puts in site-packages: setuptools' build_py of a copy of the checkout
    (the same package-dir and package-data of pyproject.toml a built is made of; no network)."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("site")
    for name in ("pyproject.toml", "README.md", "pipeline", "rules"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    code = "import sys; from setuptools import setup; setup(script_args=['-q', 'build_py', '--build-lib', sys.argv[1]])"
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code, str(out)], cwd=src, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_package_holds_every_default_rules_file(built):
    """Every *.toml, *.dict and lists/*.txt of rules/ is in the package under pipeline/default_rules/."""
    names = {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
    want = {f"pipeline/default_rules/{p.relative_to(ROOT / 'rules').as_posix()}" for p in (ROOT / "rules").rglob("*")
            if p.is_file() and p.suffix in (".toml", ".dict", ".txt")}
    assert want and want <= names, sorted(want - names)


def test_the_installed_package_loads_its_rules(built, tmp_path):
    """The package unpacked elsewhere (no rules/ beside it) loads pipeline/default_rules/."""
    site = built
    code = ("import pipeline.rules as r; rules = r.load_rules(); "
            "print(r.PACKAGE_RULES.relative_to(r.Path(r.__file__).parent), len(rules.rules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": ""},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    from tests.helpers import rules
    assert done.stdout.split() == ["default_rules", str(len(rules().rules))]


def test_the_pinned_versions_are_those_installed():
    """jieba and OpenCC are pinned to the versions the re-implementations are tested equal to (installed here)."""
    import importlib.metadata
    import tomllib
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for dist in ("jieba", "opencc-python-reimplemented"):
        pin = next(d for d in deps if d.split("=")[0].split(">")[0] == dist)
        assert pin == f"{dist}=={importlib.metadata.version(dist)}", pin
