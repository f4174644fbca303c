"""Outputs are never half-written, and the same input gives the same bytes.

- A run killed at random moments (SIGKILL: no cleanup code runs) leaves
  every CSV of the output folder whole: the previous run's bytes or the new
  run's, each file parsing completely; clean texts likewise. Temporary files
  (`.<name>.<random>.tmp`) are the only leftovers, and the next complete run
  removes them.
- atomic_write keeps the old file when writing fails; sweep_temp_files
  removes only old temporary files.
- Determinism: the order in which files were created, or in which the inputs
  are named, does not change a byte of the outputs (the number of workers is
  tested in test_parallel.py).
"""
from __future__ import annotations

import csv
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.outputs import ARTICLE_COLUMNS, EXTRACTION_COLUMNS
from pipeline.commands.cli import main
from pipeline.stages.read import read_file
from pipeline.outputs import atomic_write, is_temp_file, sweep_temp_files
from pipeline.run.lock import LOCK_NAME

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"          # the golden files' articles (never the user's corpus/)
COLUMNS = {"extractions.csv": EXTRACTION_COLUMNS, "articles.csv": ARTICLE_COLUMNS}
RUN = ["--jobs", "1", "--no-report", "--quiet"]


def make_articles(dest: Path, n: int, seed: int = 7) -> Path:
    """n articles of 12 corpus paragraphs each (digits varied), about 8 KB each."""
    rng = random.Random(seed)
    paras = []
    for p in sorted(CORPUS.glob("*.txt")):
        paras += [ln for ln in read_file(p).text.replace("\r\n", "\n").split("\n") if len(ln.strip()) > 30]
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = [re.sub(r"\d", lambda m: str(rng.randint(0, 9)), q) for q in rng.sample(paras, 12)]
        (dest / f"b{i:03d}.txt").write_text(f"第{i}篇 生成的文章\n" + "\n".join(body) + "\n", encoding="utf-8")
    return dest


def snapshot(out: Path) -> dict[str, bytes]:
    """Every regular file under out except the cache and temporary files, by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(out).parts and not is_temp_file(p)}


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if is_temp_file(p) and ".cache" not in p.relative_to(out).parts]


def check_whole(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> str:
    """Every CSV parses completely and is the old or the new version; so is every clean text."""
    seen = []
    for name, columns in COLUMNS.items():
        data = (out / name).read_bytes()
        assert data.startswith("\ufeff".encode()) and data.endswith(b"\n"), name
        rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
        assert rows[0] == columns and all(len(r) == len(columns) for r in rows), name
        assert data in (old[name], new[name]), f"{name} is neither the old nor the new version"
        seen.append("new" if data == new[name] else "old")
    for rel, data in snapshot(out).items():
        if rel.startswith("clean/"):
            assert data == new.get(rel, old.get(rel)), rel
        elif rel == LOCK_NAME:
            assert data == b"", "the lock file is never written"
        else:
            assert rel in COLUMNS, f"unexpected file {rel}"
    return "/".join(seen)


def start_run(inp: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(inp), "--out", str(out), *RUN, *extra],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(proc: subprocess.Popen, ready, timeout: float = 60) -> bool:
    """SIGKILL proc as soon as ready() is true; False when it ended first."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.001)
    proc.kill()
    raise AssertionError("the run neither ended nor reached the moment to kill it")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_sigkill_at_any_moment_leaves_whole_outputs(tmp_path):
    out, ref = tmp_path / "out", tmp_path / "ref"
    assert main(["run", str(CORPUS), "--out", str(out), *RUN]) == 0
    old = snapshot(out)
    big = make_articles(tmp_path / "big", 80)
    t0 = time.monotonic()
    p = start_run(big, ref, "--no-cache")
    assert p.wait(120) == 0, p.stderr.read().decode()
    duration = time.monotonic() - t0
    new = snapshot(ref)
    assert set(new) - set(old) and old["extractions.csv"] != new["extractions.csv"]

    rng = random.Random(4)
    outcomes = []
    moments = [("at", rng.uniform(0.1, 1.0) * duration) for _ in range(5)]
    moments.append(("temp CSV appears", None))
    moments.append(("extractions.csv replaced", None))
    moments.append(("at (cache on)", rng.uniform(0.3, 0.9) * duration))
    ino = (out / "extractions.csv").stat().st_ino
    for what, at in moments:
        extra = () if "cache on" in what else ("--no-cache",)
        p = start_run(big, out, *extra)
        t_start = time.monotonic()
        if what == "temp CSV appears":
            killed = kill_when(p, lambda: any(out.glob(".extractions.csv.*.tmp")))
        elif what == "extractions.csv replaced":
            killed = kill_when(p, lambda: (out / "extractions.csv").stat().st_ino != ino)
        else:
            killed = kill_when(p, lambda: time.monotonic() - t_start >= at)
        outcomes.append((what, killed, check_whole(out, old, new)))
    # every kill left whole files; the kills landed mid-run at least sometimes
    assert sum(killed for _, killed, _ in outcomes) >= 5, outcomes
    assert any(state == "old/old" for _, killed, state in outcomes if killed), outcomes

    # the next complete run gives the new outputs and removes what the killed runs left
    assert main(["run", str(big), "--out", str(out), *RUN]) == 0
    assert check_whole(out, old, new) == "new/new"
    assert temp_files(out) == []
    assert {k: v for k, v in snapshot(out).items() if k in new} == new


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    atomic_write(path, b"old")

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        atomic_write(path, b"new" * 1000)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.csv"]           # no temporary file left
    monkeypatch.undo()
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["a.csv"]


def test_sweep_removes_only_old_temporary_files(tmp_path):
    stale = [tmp_path / ".extractions.csv.k2j3h4_a.tmp", tmp_path / "clean" / "2023" / ".a.txt.x8f9g0.tmp"]
    fresh = tmp_path / ".articles.csv.q1w2e3r4.tmp"
    keep = [tmp_path / "extractions.csv", tmp_path / ".hidden", tmp_path / "notes.tmp", fresh]
    for p in stale + keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    hour_ago = time.time() - 3700
    for p in stale + keep[:-1]:
        os.utime(p, (hour_ago, hour_ago))
    assert sweep_temp_files(tmp_path) == sorted(stale)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)


def test_a_complete_run_removes_temporary_files_of_killed_runs(tmp_path):
    out = tmp_path / "out"
    (out / "clean").mkdir(parents=True)
    left = [out / ".extractions.csv.abc123.tmp", out / ".articles.csv.def456.tmp", out / "clean" / ".x.txt.g7.tmp"]
    for p in left:
        p.write_bytes(b"half a CSV")
        os.utime(p, (time.time() - 60, time.time() - 60))
    running = out / ".extractions.csv.zzz999.tmp"        # another run writing now: kept
    running.write_bytes(b"x")
    os.utime(running, (time.time() + 600, time.time() + 600))
    assert main(["run", str(CORPUS / "dev06.txt"), "--out", str(out), *RUN]) == 0
    assert temp_files(out) == [running]


# --- the same input gives the same bytes ------------------------------------------------------------

def run_bytes(tmp_path: Path, name: str, *inputs: Path) -> dict[str, bytes]:
    out = tmp_path / name
    assert main(["run", *map(str, inputs), "--out", str(out), *RUN, "--no-cache"]) in (0, 1)
    return snapshot(out)


def test_file_creation_order_does_not_change_the_outputs(tmp_path):
    files = sorted(CORPUS.glob("*.txt"))
    for name, order in (("a", files), ("b", files[::-1]), ("c", files[3:] + files[:3])):
        d = tmp_path / f"in-{name}"
        (d / "sub").mkdir(parents=True)
        for i, p in enumerate(order):
            target = d / ("sub" if p.stem.endswith(("2", "4")) else ".") / p.name
            shutil.copyfile(p, target)
            os.utime(target, (1e9 + i * (1 if name == "a" else -1), 1e9))
    a = run_bytes(tmp_path, "out-a", tmp_path / "in-a")
    assert a["extractions.csv"].count(b"\n") > 100
    assert run_bytes(tmp_path, "out-b", tmp_path / "in-b") == a
    assert run_bytes(tmp_path, "out-c", tmp_path / "in-c") == a


def test_input_order_does_not_change_the_outputs(tmp_path):
    files = sorted(CORPUS.glob("*.txt"))
    first = run_bytes(tmp_path, "o1", *files)
    assert run_bytes(tmp_path, "o2", *files[::-1]) == first
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    for i, p in enumerate(files):
        shutil.copyfile(p, (one if i % 2 else two) / p.name)
    assert run_bytes(tmp_path, "o3", one, two) == run_bytes(tmp_path, "o4", two, one)
    # the same article id in two inputs: which one wins does not depend on the order either
    shutil.copyfile(files[0], two / "dev01.txt")     # dev01 is in one/
    x, y = run_bytes(tmp_path, "o5", one, two), run_bytes(tmp_path, "o6", two, one)
    assert x == y and b"same article id" in x["articles.csv"]
    # a file named twice is processed once
    assert run_bytes(tmp_path, "o7", files[0], files[0]) == run_bytes(tmp_path, "o8", files[0])
