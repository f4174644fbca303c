"""What can go wrong with the output folder, and how the earlier outputs survive it.

A damaged or foreign cache, a full disk, two runs into one `--out`, a
read-only or wrong `--out`, CSVs re-saved by a spreadsheet: one-line errors
(exit 2) or a warning and the run goes on; the previous outputs are never
replaced by a failed run and no temporary file is left. Each test reproduces
a finding of the reliability review (../shared/repro/FINDINGS.md).
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.outputs import is_temp_file
from pipeline.run.cache import CACHE_DIR, DB_NAME, Cache, env_key
from pipeline.run import runner as run_mod
from pipeline.run.engines import InlineEngine
from safe_helpers import CORPUS, QUIET, ROOT, as_user, cli, copy_corpus, one_line_error, outputs


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if is_temp_file(p)]


@pytest.fixture
def done(tmp_path):
    """An input folder and an output folder a run filled: (inputs, out, its outputs)."""
    inp, out = copy_corpus(tmp_path / "in"), tmp_path / "out"
    assert cli("run", inp, "--out", out, *QUIET)[0] == 0
    return inp, out, outputs(out)


# --- B2: a damaged page of the cache --------------------------------------------------------------

def damage_page(db: Path, page: int) -> None:
    with open(db, "r+b") as f:
        f.seek(4096 * page)
        f.write(os.urandom(4096))


@pytest.fixture
def done7(tmp_path):
    """As done, with the six corpus articles (a cache of many pages)."""
    inp, out = copy_corpus(tmp_path / "in", [f"dev0{i}" for i in range(1, 7)]), tmp_path / "out"
    assert cli("run", inp, "--out", out, *QUIET)[0] == 0
    return inp, out, outputs(out)


@pytest.mark.parametrize("page", [1, 2, 3, 5])
def test_a_damaged_cache_page_is_moved_aside(done7, page):
    inp, out, before = done7
    damage_page(out / CACHE_DIR / DB_NAME, page)
    (out / "extractions.csv").unlink()
    for extra in ([], ["--force"]):
        rc, _, err = cli("run", inp, "--out", out, *QUIET, *extra)
        assert rc == 0 and "Traceback" not in err, err
    assert outputs(out) == before


class FlakyConnection:
    """An sqlite3 connection whose n-th execute fails as a damaged database does."""

    def __init__(self, db, n):
        self.db, self.n = db, n

    def execute(self, *a):
        self.n -= 1
        if self.n == 0:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return self.db.execute(*a)

    def __getattr__(self, name):
        return getattr(self.db, name)


@pytest.mark.parametrize("n", [1, 3, 6, 9, 13])   # outputs state, get, put, clean text, prune
def test_a_cache_damaged_during_the_run_is_moved_aside(done, monkeypatch, n):
    """Any sqlite DatabaseError, at any use of the cache: moved aside, the run goes on."""
    inp, out, before = done
    (out / "extractions.csv").unlink()
    (inp / "dev02.txt").write_bytes((inp / "dev02.txt").read_bytes() + "新的一段。\n".encode())
    real, opened = Cache._connect, []

    def connect(self):
        db = real(self)
        opened.append(db)
        return FlakyConnection(db, n) if len(opened) == 1 else db
    monkeypatch.setattr(Cache, "_connect", connect)
    rc, _, err = cli("run", inp, "--out", out, *QUIET)
    assert rc == 0 and "Traceback" not in err, err
    assert "moved to results.sqlite.broken-" in err and len(opened) == 2
    monkeypatch.undo()
    fresh = out.parent / "fresh"
    assert cli("run", inp, "--out", fresh, *QUIET, "--no-cache")[0] == 0
    assert outputs(out) == outputs(fresh)


def test_force_does_not_trust_the_cache(done):
    """--force rewrites a clean text the cache's records would call current (same size and time)."""
    inp, out, before = done
    clean = out / "clean" / "dev01.txt"
    st = clean.stat()
    data = clean.read_bytes()
    clean.write_bytes(data.replace("兰".encode(), "州".encode()))     # same length in UTF-8
    os.utime(clean, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert clean.read_bytes() != data
    rc, _, err = cli("run", inp, "--out", out, *QUIET, "--force")
    assert rc == 0, err
    assert outputs(out) == before


# --- B10: another layout, a file where a folder should be, a read-only --out ----------------------

def test_a_cache_of_another_layout_is_moved_aside(done):
    inp, out, before = done
    with sqlite3.connect(out / CACHE_DIR / DB_NAME) as db:
        db.execute("DROP TABLE results")
        db.execute("CREATE TABLE results (article TEXT PRIMARY KEY, path TEXT, content TEXT, env TEXT, "
                   "run INTEGER, result BLOB, extra TEXT)")
    (out / "extractions.csv").unlink()
    rc, _, err = cli("run", inp, "--out", out, *QUIET, "--force")
    assert rc == 0 and "made by another version" in err and "Traceback" not in err
    assert outputs(out) == before


def test_cache_folder_that_is_a_file(done):
    inp, out, before = done
    for p in (out / CACHE_DIR).iterdir():
        p.unlink()
    (out / CACHE_DIR).rmdir()
    (out / CACHE_DIR).write_text("not a folder")
    rc, _, err = cli("run", inp, "--out", out, *QUIET)
    assert rc == 2 and "is a file, not the result cache folder" in one_line_error(err)
    assert outputs(out) == before
    assert cli("run", inp, "--out", out, *QUIET, "--no-cache")[0] == 0


def test_out_that_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    rc, _, err = cli("run", CORPUS / "dev01.txt", "--out", tmp_path / "afile", *QUIET)
    assert rc == 2 and "is a file, not a folder" in one_line_error(err)


def test_read_only_out(done):
    inp, out, before = done
    for p in [out, *out.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        p = as_user("run", inp, "--out", out, *QUIET)                 # nothing changed: nothing to write
        assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
        assert "(3 unchanged, from the cache)" in p.stderr
        p = as_user("run", inp, "--out", out, *QUIET, "--no-cache")
        assert p.returncode == 2 and "cannot write to" in one_line_error(p.stderr) and "permission denied" in p.stderr
        (inp / "dev01.txt").write_bytes((inp / "dev01.txt").read_bytes() + "新的一段。\n".encode())
        p = as_user("run", inp, "--out", out, *QUIET)                 # changed: cannot be written
        assert p.returncode == 2 and "cannot write to" in one_line_error(p.stderr)
    finally:
        for p in [out, *out.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert outputs(out) == before and not temp_files(out)


# --- B3: a full disk --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 300 kB file system (tmpfs; needs root), unmounted afterwards."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs (needs root)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_disk_keeps_the_previous_outputs_and_no_temporary_file(small_disk):
    out = small_disk / "o"
    assert cli("run", CORPUS / "dev06.txt", "--out", out, *QUIET)[0] == 0
    before = outputs(out)
    rc, _, err = cli("run", CORPUS, "--out", out, *QUIET)
    assert rc == 2 and "no space left on the device" in one_line_error(err) and "previous outputs are kept" in err
    assert not temp_files(out)
    csvs = {name: (out / name).read_bytes() for name in ("extractions.csv", "articles.csv")}
    assert csvs == {name: before[name] for name in csvs}
    rc, _, err = cli("run", CORPUS / "dev06.txt", "--out", out, *QUIET)      # fits again
    assert rc == 0, err
    assert {name: (out / name).read_bytes() for name in csvs} == csvs


def test_full_disk_while_closing_the_cache_still_removes_temporary_files(done, monkeypatch):
    """The CSV write fails (ENOSPC) and so does closing the cache: the temporary CSVs go first."""
    import errno
    inp, out, before = done
    (inp / "dev01.txt").write_bytes((inp / "dev01.txt").read_bytes() + "新的一段。\n".encode())

    def full(self, lines):
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self, prune=False):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(run_mod.CsvStream, "write_lines", full)
    monkeypatch.setattr(Cache, "close", close)
    rc, _, err = cli("run", inp, "--out", out, *QUIET)
    assert rc == 2 and "no space left" in one_line_error(err)
    assert not temp_files(out) and outputs(out) == before


# --- B4/B5: two runs into one --out ---------------------------------------------------------------

SLOW_RUN = ("import sys, time; sys.path.insert(0, sys.argv[1]); import pipeline.run.engines as e; "
            "f = e.process_data; e.process_data = lambda *a: (time.sleep(1.0), f(*a))[1]; "
            "from pipeline.commands.cli import main; "
            "sys.exit(main(['run', sys.argv[2], '--out', sys.argv[3], '--quiet', '--no-report', '--jobs', '1']))")


def test_a_second_run_into_the_same_out_is_refused_naming_the_first(tmp_path):
    inp, out = copy_corpus(tmp_path / "in", ["dev01", "dev02", "dev03", "dev04", "dev05"]), tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(ROOT), str(inp), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not temp_files(out) and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)                        # the first run is writing its temporary CSVs
        assert temp_files(out), "the first run never started writing"
        rc, _, err = cli("run", copy_corpus(tmp_path / "other", ["dev06"]), "--out", out, *QUIET)
        assert rc == 2
        assert f"another run is writing {out} (pid {first.pid})" in one_line_error(err)
        _, first_err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, first_err      # the first run was not disturbed
    assert cli("run", inp, "--out", tmp_path / "fresh", *QUIET, "--no-cache")[0] == 0
    assert outputs(out) == outputs(tmp_path / "fresh")


class LockProbe(InlineEngine):
    """Processes in this process; before each chunk, checks that the cache's write lock is free."""
    locked: list = []

    def __init__(self, rules, *a, **k):
        super().__init__(rules)
        self.db = None

    def submit(self, tasks):
        probe = sqlite3.connect(self.db, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError as e:
            LockProbe.locked.append(str(e))
        finally:
            probe.close()
        return super().submit(tasks)


def test_no_cache_write_lock_is_held_while_articles_are_processed(tmp_path, monkeypatch):
    inp, out = copy_corpus(tmp_path / "in", [f"dev0{i}" for i in range(1, 7)]), \
        tmp_path / "out"
    for i in range(10):
        (inp / f"x{i}.txt").write_text(f"第{i}篇\n兰州新区投资{i}亿元。\n", encoding="utf-8")
    LockProbe.locked = []

    def engine(rules, *a, **k):
        e = LockProbe(rules)
        e.db = out / CACHE_DIR / DB_NAME
        return e
    monkeypatch.setattr(run_mod, "make_engine", engine)
    assert cli("run", inp, "--out", out, *QUIET)[0] == 0
    assert LockProbe.locked == []


def test_a_cache_locked_by_another_program_is_a_message(done, monkeypatch):
    inp, out, before = done
    monkeypatch.setattr("pipeline.run.cache.LOCK_TIMEOUT", 0.2)
    (inp / "dev01.txt").write_bytes((inp / "dev01.txt").read_bytes() + "新的一段。\n".encode())
    holder = sqlite3.connect(out / CACHE_DIR / DB_NAME)
    holder.execute("BEGIN IMMEDIATE")
    try:
        rc, _, err = cli("run", inp, "--out", out, *QUIET)
    finally:
        holder.rollback()
        holder.close()
    assert rc == 2 and "is locked by another program" in one_line_error(err)
    assert outputs(out) == before and not temp_files(out)


# --- B12: CSVs re-saved as GBK by a spreadsheet ----------------------------------------------------

def resave_as_gbk(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    path.write_bytes(text.replace("\n", "\r\n").encode("gbk", "replace"))


@pytest.mark.parametrize("command", [
    lambda out, gold: ["report", "--out", out],
    lambda out, gold: ["diff", CORPUS / "dev01.txt", "--against", out],
    lambda out, gold: ["golden", "accept", "dev01", "--from", out, "--golden-dir", gold],
    lambda out, gold: ["eval", CORPUS / "dev01.txt", "--gold", gold],
    lambda out, gold: ["diff", CORPUS / "dev01.txt", "--golden-dir", gold],
], ids=["report", "diff-against", "golden-accept-from", "eval", "diff-golden"])
def test_csvs_saved_as_gbk_are_a_one_line_error(command, tmp_path):
    out, gold = tmp_path / "out", tmp_path / "gold"
    assert cli("run", CORPUS / "dev01.txt", "--out", out, *QUIET)[0] == 0
    gold.mkdir()
    (gold / "dev01.csv").write_bytes((ROOT / "tests" / "golden" / "dev01.csv").read_bytes())
    for p in (out / "extractions.csv", out / "articles.csv", gold / "dev01.csv"):
        resave_as_gbk(p)
    rc, _, err = cli(*command(out, gold))
    assert rc == 2 and "is not UTF-8" in one_line_error(err) and "spreadsheet" in err


def test_an_unchanged_rerun_keeps_the_cache_for_the_next_one(done):
    """The unchanged re-run reads no cache entry; it must not prune them all (the next run with one new
    article would recompute everything)."""
    inp, out, before = done
    assert "(3 unchanged, from the cache)" in cli("run", inp, "--out", out, *QUIET)[2]
    (inp / "new.txt").write_text("新文章\n兰州新区投资1亿元。\n", encoding="utf-8")
    rc, _, err = cli("run", inp, "--out", out, *QUIET)
    assert rc == 0 and "(3 unchanged, from the cache)" in err
