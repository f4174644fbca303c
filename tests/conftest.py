"""Shared pytest options and fixtures.

`pytest --update-golden`: the golden test (tests/test_golden.py) rewrites
tests/golden/<article>.csv from the current output instead of failing. It
asks for the `update_golden` fixture (a bool) and, when it is true, writes
with `pipeline.commands.golden.write_golden(golden_dir, article, rows)`, which prints
nothing and returns the lines saying what changed (+added -removed ~changed).
Review the change with `git diff tests/golden` before committing.
"""
from pathlib import Path

import pytest
from hypothesis import settings

# The property tests draw the same examples on every run, so that a run passes or fails by the code,
# never by luck; `pytest --hypothesis-profile=explore` draws new ones each run.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")


def pytest_addoption(parser):
    """Register --update-golden."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/<article>.csv from the current output instead of comparing "
                          "(review the diff before committing)")


@pytest.fixture
def update_golden(request) -> bool:
    """True when pytest runs with --update-golden: golden tests write instead of compare."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """A private copy of rules/ for a test to break or edit."""
    import shutil
    from tests.helpers import RULES
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    return d
