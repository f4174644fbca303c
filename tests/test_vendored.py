"""The test data copied from ../shared into tests/data/ are current, and no test reads the
user's corpus/: a fresh clone without ../shared runs every test, and articles a user adds to
corpus/ (as the README says) change no test."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared"
# The articles copied from ../shared/corpus-dev (tests/data/corpus may hold more: golden tests added later).
DEV = ("000_02898c15ca762943", "dev01", "dev02", "dev03", "dev04", "dev05", "dev06")
# each copy under tests/data -> its source under ../shared
COPIES = {**{f"corpus/{a}.txt": f"corpus-dev/raw/{a}.txt" for a in DEV},
          "gold/000_02898c15ca762943.clean.txt": "corpus-dev/gold/000_02898c15ca762943.clean.txt",
          **{f"meta/{a}.meta.json": f"corpus-dev/{'gold' if a.startswith('000_') else 'src'}/{a}.meta.json"
             for a in DEV},
          **{f"external/{n}": f"external/{n}" for n in ("amount.jsonl", "percent.jsonl", "date.jsonl",
                                                        "score_external.py", "README.md")}}


def test_the_copies_are_there():
    """Every copy the tests read is in tests/data, and every golden file's article."""
    assert [k for k in COPIES if not (DATA / k).is_file()] == []
    golden = sorted(p.stem for p in (ROOT / "tests" / "golden").glob("*.csv"))
    assert [a for a in golden if not (DATA / "corpus" / f"{a}.txt").is_file()] == []


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside the checkout (a fresh clone)")
def test_the_copies_are_current():
    """Where ../shared is present, each copy is byte-equal to its source."""
    gone = [COPIES[c] for c in sorted(COPIES) if not (SHARED / COPIES[c]).is_file()]
    assert gone == [], f"sources gone from {SHARED}: remove their copies and the tests that read them"
    stale = [c for c in sorted(COPIES) if (DATA / c).read_bytes() != (SHARED / COPIES[c]).read_bytes()]
    assert stale == [], f"stale copies in tests/data (copy each from ../shared again): {stale}"


def test_articles_added_to_corpus_change_no_test(tmp_path):
    """A checkout whose corpus/ holds an article more (corpus/extra/x.txt, as a user adds one):
    the tests that used to count corpus/ (golden, cache, parallel runs) still pass."""
    clone = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (clone / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, clone / f)
    (clone / "corpus" / "extra").mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "corpus" / "dev03.txt", clone / "corpus" / "extra" / "x.txt")
    tests = ["tests/test_golden.py", "tests/test_cache.py::test_second_run_comes_from_the_cache",
             "tests/test_parallel.py::test_cli_jobs", "tests/test_clean.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                          cwd=clone, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
