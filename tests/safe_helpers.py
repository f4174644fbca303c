"""Helpers of the reliability tests (tests/test_safe_*.py): a CLI run in-process or as a normal user."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"          # the golden files' articles (never the user's corpus/)
QUIET = ["--quiet", "--no-report", "--jobs", "1"]
# What a normal user gets when root runs a command (root ignores file permissions otherwise).
DROP_ROOT = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
             "--bounding-set=-dac_override,-dac_read_search", "--"]


def cli(*args) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `python -m pipeline ARGS`, in this process."""
    from pipeline.commands.cli import main
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main([str(a) for a in args])
    return rc, out.getvalue(), err.getvalue()


def as_user(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m pipeline ARGS` in a subprocess that file permissions apply to (root's bypass dropped)."""
    prefix = []
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        prefix = DROP_ROOT
    return subprocess.run(prefix + [sys.executable, "-m", "pipeline", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def one_line_error(err: str) -> str:
    """The error line of stderr, asserting there is no traceback."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def outputs(out: Path) -> dict[str, bytes]:
    """Every output file (CSVs, clean texts; not the cache, not the lock) by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(out).parts and p.name != ".lock"}


def copy_corpus(dest: Path, names=("dev01", "dev02", "dev03")) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copyfile(CORPUS / f"{n}.txt", dest / f"{n}.txt")
    return dest
