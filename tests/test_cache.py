"""The result cache: unchanged articles come from `<out>/.cache/`, and the outputs never differ.

Hits and misses are asserted through the run's counters (Summary.cached /
processed), never through timing.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.run import cache as cache_mod
from pipeline.run import runner as run_mod
from pipeline.run.cache import CACHE_DIR, DB_NAME, Cache, env_key
from pipeline.commands.cli import main
from pipeline.rules import load_rules
from pipeline.run import run
from test_parallel import make_corpus, tree

ROOT = Path(__file__).resolve().parent.parent
N = 7 + 6 + 4          # corpus/, generated, odd files


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def inputs(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("cache") / "in", n_generated=6, seed=2)


def fresh(inputs: Path, out: Path, rules) -> dict[str, bytes]:
    """The outputs of a run without any cache."""
    run([inputs], out, rules, n_jobs=1, progress=False, cache=False)
    return tree(out)


class NoEngine:
    """Fails the test if anything is sent for processing."""
    capacity = 1

    def __init__(self, *a, **k):
        pass

    def submit(self, tasks):
        raise AssertionError(f"processed although cached: {[t[0] for t in tasks]}")

    def close(self, cancel=False):
        pass


def test_second_run_comes_from_the_cache(inputs, rules, tmp_path, monkeypatch):
    out = tmp_path / "out"
    s1 = run([inputs], out, rules, n_jobs=2, progress=False)
    assert (s1.articles, s1.cached, s1.processed) == (N, 0, N)
    first = tree(out)
    monkeypatch.setattr(run_mod, "make_engine", NoEngine)
    s2 = run([inputs], out, rules, n_jobs=2, progress=False)
    assert (s2.articles, s2.cached, s2.processed) == (N, N, 0)
    assert "(17 unchanged, from the cache)" in s2.line()
    assert (s2.rows, s2.errors) == (s1.rows, s1.errors)
    monkeypatch.undo()
    assert tree(out) == first == fresh(inputs, tmp_path / "fresh", rules)


def test_changed_file_is_reprocessed(inputs, rules, tmp_path):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    f = inputs / "dev03.txt"
    f.write_bytes(f.read_bytes().replace(b"9.6%", b"7.5%"))
    (inputs / "gen" / "new.txt").write_text("兰州新区新增投资3亿元。\n", encoding="utf-8")
    s = run([inputs], out, rules, n_jobs=2, progress=False)
    assert (s.cached, s.processed) == (N - 1, 2)
    assert tree(out) == fresh(inputs, tmp_path / "fresh", rules)
    assert b"7.5" in (out / "extractions.csv").read_bytes()


def test_changed_rules_reprocess_everything(inputs, rules, tmp_path):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    copy = tmp_path / "rules"
    shutil.copytree(rules.dir, copy)
    lst = sorted((copy / "lists").glob("*.txt"))[0]
    lst.write_text(lst.read_text(encoding="utf-8") + "\n# a comment changes the digest\n", encoding="utf-8")
    other = load_rules(copy)
    assert other.digest != rules.digest
    s = run([inputs], out, other, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (0, N)
    s = run([inputs], out, other, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (N, 0)


def test_changed_code_or_path_reprocess(inputs, rules, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    monkeypatch.setattr(cache_mod, "code_version", lambda: "9.9.9+other")
    s = run([inputs], out, rules, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (0, N)
    moved = tmp_path / "moved"
    shutil.copytree(inputs, moved)          # same ids, other paths (messages quote the path)
    s = run([moved], out, rules, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (0, N)


def test_code_version_follows_the_source():
    v = cache_mod.code_version()
    assert "+" in v and env_key("abc").endswith(v) and "abc" in env_key("abc")


def test_force(inputs, rules, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(inputs), "--out", str(out), "--jobs", "1", "--no-report", "--quiet"]
    assert main(args) == 1                   # the binary file
    first = tree(out)
    assert main(args) == 1
    assert "(17 unchanged, from the cache)" in capsys.readouterr().err
    assert main(args + ["--force"]) == 1
    assert "unchanged" not in capsys.readouterr().err
    assert tree(out) == first
    assert main(args + ["--no-cache", "--out", str(tmp_path / "nc")]) == 1
    assert not (tmp_path / "nc" / CACHE_DIR).exists()
    assert tree(tmp_path / "nc") == first


def test_interrupted_run_leaves_a_usable_cache(inputs, rules, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real, calls = run_mod.write_clean_if_changed, []

    def crash(out_dir, article, text, cache=None):
        calls.append(article)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(out_dir, article, text, cache)
    monkeypatch.setattr(run_mod, "write_clean_if_changed", crash)
    with pytest.raises(KeyboardInterrupt):
        run([inputs], out, rules, n_jobs=2, progress=False)
    monkeypatch.undo()
    assert not (out / "extractions.csv").exists()
    with Cache(out / CACHE_DIR, env_key(rules.digest)) as c:
        assert len(c) >= 5
    s = run([inputs], out, rules, n_jobs=2, progress=False)
    assert s.cached >= 5 and s.cached + s.processed == N
    assert tree(out) == fresh(inputs, tmp_path / "fresh", rules)


def test_damaged_cache_is_recomputed(inputs, rules, tmp_path, capsys):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    db = sqlite3.connect(out / CACHE_DIR / DB_NAME)
    db.execute("UPDATE results SET result = x'00ff' WHERE article = 'dev01'")
    db.commit()
    db.close()
    os.utime(out / "extractions.csv")       # outputs no longer as recorded: the run rewrites them
    s = run([inputs], out, rules, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (N - 1, 1)
    for p in (out / CACHE_DIR).iterdir():
        p.unlink()
    (out / CACHE_DIR / DB_NAME).write_bytes(b"this is not a database" * 100)
    s = run([inputs], out, rules, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (0, N)
    assert "unreadable" in capsys.readouterr().err
    assert tree(out) == fresh(inputs, tmp_path / "fresh", rules)


def test_cache_follows_the_inputs(inputs, rules, tmp_path):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    (inputs / "dev02.txt").unlink()
    run([inputs], out, rules, n_jobs=1, progress=False)
    with Cache(out / CACHE_DIR, env_key(rules.digest)) as c:
        assert len(c) == N - 1            # dev02 gone (the binary file's error result is cached too)
        assert c.get("dev02", str(inputs / "dev02.txt"), "x") is None


def test_all_cached_run_loads_no_jieba(inputs, tmp_path):
    """In a fresh interpreter: an all-cached run never builds a jieba tokenizer nor starts a worker."""
    out = tmp_path / "out"
    code = ("import json, resource, sys; sys.path.insert(0, sys.argv[1]); from pipeline.commands.cli import main; "
            "rc = main(['run', sys.argv[2], '--out', sys.argv[3], '--no-report', '--quiet', '--jobs', sys.argv[4]]); "
            "import pipeline.stages.segment as s; "
            "print(json.dumps([rc, s._tokenizer.cache_info().currsize, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0]))")

    def cli(jobs):
        p = subprocess.run([sys.executable, "-c", code, str(ROOT), str(inputs), str(out), jobs],
                           capture_output=True, text=True, check=True)
        return json.loads(p.stdout), p.stderr
    assert cli("1")[0] == [1, 1, False]        # tokenizer built here
    (result, err) = cli("1")
    assert result == [1, 0, False] and "(17 unchanged, from the cache)" in err
    assert cli("2")[0] == [1, 0, False]        # no worker process either


def test_sigkill_mid_run_leaves_a_consistent_cache(rules, tmp_path):
    """A run killed with SIGKILL (no cleanup at all): the cache opens, holds only whole entries, and serves them."""
    import os
    import signal
    import time
    inputs = make_corpus(tmp_path / "in", n_generated=30, seed=4)
    out = tmp_path / "out"
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); import pipeline.run.cache as c; c.Cache.COMMIT_EVERY = 0; "
            "import pipeline.run.engines as e; f = e.process_data; "
            "e.process_data = lambda *a: (time.sleep(0.05), f(*a))[1]; "        # slow enough to be caught mid-way
            "from pipeline.commands.cli import main; main(['run', sys.argv[2], '--out', sys.argv[3], '--no-report', "
            "'--quiet', '--jobs', '1'])")
    p = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(inputs), str(out)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db_path, stored = out / CACHE_DIR / DB_NAME, 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
        try:
            db = sqlite3.connect(db_path, timeout=1)
            try:
                stored = db.execute("SELECT count(*) FROM results").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            continue
        if stored >= 5:
            break
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert stored >= 5, "the run ended before it could be killed mid-way"
    assert not (out / "extractions.csv").exists()          # the CSVs were not replaced by a partial run
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    s = run([inputs], out, rules, n_jobs=1, progress=False)
    assert s.cached >= 5 and s.cached + s.processed == s.articles == 7 + 30 + 4
    assert tree(out) == fresh(inputs, tmp_path / "fresh", rules)


def test_clean_texts_are_put_back(inputs, rules, tmp_path):
    """A clean text edited, replaced by one of the same size, or deleted is rewritten by a cached run."""
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    first = tree(out)
    (out / "clean" / "dev01.txt").write_text("edited", encoding="utf-8")
    (out / "clean" / "dev02.txt").unlink()
    same_size = out / "clean" / "dev03.txt"
    same_size.write_bytes(same_size.read_bytes()[::-1])
    s = run([inputs], out, rules, n_jobs=1, progress=False)
    assert (s.cached, s.processed) == (N, 0)
    assert tree(out) == first


# --- an unchanged re-run writes nothing ------------------------------------------------------

class NoWriting:
    """Fails the test if the run opens a CSV for writing."""

    def __init__(self, path, columns):
        raise AssertionError(f"rewrote {path.name} although nothing changed")


def stamps(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(out).parts}


def test_unchanged_rerun_leaves_the_outputs_untouched(inputs, rules, tmp_path, monkeypatch):
    """Same inputs, rules and code, outputs as the last run wrote them: nothing is processed or written."""
    out = tmp_path / "out"
    s1 = run([inputs], out, rules, n_jobs=1, progress=False)
    before = stamps(out)
    monkeypatch.setattr(run_mod, "make_engine", NoEngine)
    monkeypatch.setattr(run_mod, "CsvStream", NoWriting)
    monkeypatch.setattr(run_mod, "write_clean_if_changed", NoWriting)
    s2 = run([inputs], out, rules, n_jobs=1, progress=False)
    assert (s2.articles, s2.errors, s2.rows) == (s1.articles, s1.errors, s1.rows)
    assert (s2.cached, s2.processed) == (N, 0)
    assert s2.line().split(" errors")[0] == s1.line().split(" errors")[0].replace(
        "17 articles", "17 articles (17 unchanged, from the cache)")
    assert stamps(out) == before


def _edit_csv(out, inputs):
    (out / "extractions.csv").write_bytes(b"edited in a spreadsheet\n")


def _delete_clean(out, inputs):
    (out / "clean" / "dev01.txt").unlink()


def _touch_clean(out, inputs):
    p = out / "clean" / "dev02.txt"
    p.write_bytes(p.read_bytes()[::-1])       # same size, other bytes, new mtime


def _edit_input(out, inputs):
    p = inputs / "dev03.txt"
    p.write_bytes(p.read_bytes().replace("兰州".encode(), "蘭州".encode(), 1))


def _add_input(out, inputs):
    shutil.copy(inputs / "dev04.txt", inputs / "zz_new.txt")


def _remove_input(out, inputs):
    (inputs / "dev05.txt").unlink()            # its clean text goes too


def _break_input(out, inputs):
    (inputs / "dev06.txt").write_bytes(b"\x00\x01" * 50)     # now an error row: no clean text


@pytest.mark.parametrize("change", [_edit_csv, _delete_clean, _touch_clean, _edit_input, _add_input, _remove_input,
                                    _break_input])
def test_outputs_rewritten_when_they_or_the_inputs_changed(change, inputs, rules, tmp_path):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    change(out, inputs)
    run([inputs], out, rules, n_jobs=1, progress=False)
    assert tree(out) == fresh(inputs, tmp_path / "fresh", rules)


def test_a_clean_text_not_written_by_the_pipeline_is_left_alone(inputs, rules, tmp_path):
    out = tmp_path / "out"
    (out / "clean").mkdir(parents=True)
    (out / "clean" / "notes.txt").write_text("mine")
    run([inputs], out, rules, n_jobs=1, progress=False)
    assert (out / "clean" / "notes.txt").read_text() == "mine"


def test_force_and_changed_rules_rewrite(inputs, rules, tmp_path):
    out = tmp_path / "out"
    run([inputs], out, rules, n_jobs=1, progress=False)
    (out / "extractions.csv").write_bytes(b"x")
    os.utime(out / "extractions.csv", ns=(1, 1))
    st = run_mod.file_stats(out)
    with Cache(out / CACHE_DIR, env_key(rules.digest)) as c:     # pretend the CSV is as recorded
        state = c.outputs_state()
        c.set_outputs_state({**{k: v for k, v in state.items() if k != "env"}, "files": st})
    s = run([inputs], out, rules, n_jobs=1, progress=False, force=True)
    assert s.processed == N and tree(out) == fresh(inputs, tmp_path / "fresh", rules)
    other = load_rules()
    other.digest = "another-rules-digest"
    s = run([inputs], out, other, n_jobs=1, progress=False)
    assert s.processed == N


def test_unchanged_rerun_keeps_a_current_report(inputs, tmp_path):
    """`run` rebuilds report.html unless nothing changed: outputs, golden files, the report code."""
    out, gold = tmp_path / "out", tmp_path / "gold"
    shutil.copytree(ROOT / "tests" / "golden", gold)
    args = ["run", str(inputs), "--out", str(out), "--quiet", "--jobs", "1", "--gold", str(gold)]
    page = out / "report.html"
    main(args)
    built = page.stat().st_mtime_ns
    main(args)
    assert page.stat().st_mtime_ns == built                # nothing changed: the page is kept
    later = built + 10**9
    os.utime(gold / "dev01.csv", ns=(later, later))        # a golden file edited after the page
    main(args)
    assert page.stat().st_mtime_ns > built
    rebuilt = page.stat().st_mtime_ns
    (out / "extractions.csv").write_bytes((out / "extractions.csv").read_bytes())   # outputs touched
    main(args)
    assert page.stat().st_mtime_ns > rebuilt
