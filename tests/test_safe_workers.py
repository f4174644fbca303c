"""Workers that die, a main process that dies, dependencies that changed, long texts, hidden state.

Each test reproduces a finding of the reliability review
(../shared/repro/FINDINGS.md) or of the maintainability review
(../shared/review/MAINTAINABILITY.md).
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.article import process_text
from pipeline.run import engines
from pipeline.rules import load_rules
from pipeline.stages.read import read_file
from safe_helpers import CORPUS, QUIET, ROOT, cli, copy_corpus, one_line_error, outputs


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def rows(out: Path) -> list[dict]:
    with open(out / "articles.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --- B8: a local worker killed by the system ---------------------------------------------------

def test_a_killed_worker_loses_no_article(tmp_path, monkeypatch):
    """`poison` kills every worker that processes it; `flaky` kills the first one only. The run goes on:
    flaky's rows are as usual, poison is an error row (not cached), every other article is as usual."""
    inp = copy_corpus(tmp_path / "in", [f"dev0{i}" for i in range(1, 7)])
    for name in ("flaky", "poison"):
        (inp / f"{name}.txt").write_bytes((CORPUS / "dev01.txt").read_bytes())
    marker = tmp_path / "flaky-died-once"
    real = engines.process_data

    def deadly(article, path, data, rules):
        if article == "poison" or (article == "flaky" and not marker.exists()):
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)        # as the out-of-memory killer does
        return real(article, path, data, rules)
    monkeypatch.setattr(engines, "process_data", deadly)       # inherited by the forked workers
    out = tmp_path / "out"
    rc, _, err = cli("run", inp, "--out", out, "--quiet", "--no-report", "--jobs", "2")
    assert rc == 1 and "Traceback" not in err, err
    arts = {r["article"]: r for r in rows(out)}
    assert arts["poison"]["status"] == "error" and "worker process processing it died twice" in arts["poison"]["error"]
    assert all(r["status"] == "ok" for a, r in arts.items() if a != "poison")
    monkeypatch.undo()
    fresh = tmp_path / "fresh"
    assert cli("run", inp, "--out", fresh, *QUIET, "--no-cache")[0] == 0
    rc, _, err = cli("run", inp, "--out", out, *QUIET)
    assert rc == 0, (err, rows(out))
    assert outputs(out) == outputs(fresh)
    assert "(7 unchanged, from the cache)" in err     # poison's error row was not cached, the others were


# --- B13: workers end with the main process ------------------------------------------------------

def children(pid: int) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (d / "stat").read_text().split(") ")[1].split()[1] == str(pid):
                found.append(int(d.name))
        except (OSError, IndexError):
            pass
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_end_when_the_main_process_is_killed(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    text = "".join(read_file(p).text for p in sorted(CORPUS.glob("dev0[1-4].txt")))
    for i in range(20):
        (inp / f"a{i:02d}.txt").write_text(text * 4, encoding="utf-8")
    main = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(inp), "--out", str(tmp_path / "out"),
                             *QUIET[:2], "--jobs", "2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and main.poll() is None:
        time.sleep(0.1)
        workers = children(main.pid)
    assert len(workers) >= 2, "the workers never started"
    main.kill()                                      # kill -9, the OOM killer
    main.wait()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "workers outlived the main process"


# --- a dependency whose data changed: checked once, one message ---------------------------------

def test_a_changed_dependency_is_one_message_naming_it(tmp_path, monkeypatch):
    from pipeline.run import dependencies
    from pipeline.stages import convert

    def changed():
        raise RuntimeError("unexpected t2s conversion chain: [...]")
    monkeypatch.setattr(dependencies, "_PASSED", [])
    monkeypatch.setattr(convert, "_tables", changed)
    out = tmp_path / "out"
    rc, _, err = cli("run", copy_corpus(tmp_path / "in"), "--out", out, *QUIET)
    assert rc == 2
    line = one_line_error(err)
    import importlib.metadata
    assert f"opencc-python-reimplemented {importlib.metadata.version('opencc-python-reimplemented')}" in line
    assert "unexpected t2s conversion chain" in line and err.count("opencc") == 1
    assert not (out / "articles.csv").exists()       # no article blamed itself


# --- A5: a long text is not a backtracking rule -------------------------------------------------

def test_the_time_limit_grows_with_the_text(rules, monkeypatch):
    """org.named (no trigger) scans the whole text: on a long one that takes longer than match_timeout,
    and must not be stopped for it; a limit per million characters scanned keeps its rows."""
    text = "".join(read_file(p).text for p in sorted(CORPUS.glob("dev0[1-4].txt"))) * 20     # 170,000 characters
    rule = next(r for r in rules.rules if r.id == "org.named")
    t0 = time.process_time()
    list(rule.regex.finditer(text))
    scan = time.process_time() - t0
    expected = process_text("big", text, rules)
    assert not any("stopped" in w for w in expected.warnings)
    monkeypatch.setitem(rules.settings, "match_timeout", scan / 5)          # a plain scan takes 5 times that
    monkeypatch.setitem(rules.settings, "timeout_chars", len(text) // 50)   # the text gets 10 scans' time
    got = process_text("big", text, rules)
    assert not any("stopped" in w for w in got.warnings), got.warnings
    assert got.rows == expected.rows


def test_a_stopped_rule_is_not_blamed_on_backtracking_by_default(rules, monkeypatch, tmp_path):
    monkeypatch.setitem(rules.settings, "match_timeout", 1e-9)
    got = process_text("x", "标题\n" + "兰州新区管委会投资1亿元。" * 200 + "\n", rules)
    stopped = [w for w in got.warnings if "stopped" in w]
    assert stopped and all("characters scanned" in w and "catastrophic" not in w for w in stopped)


# --- hidden state: the per-user cache folder -----------------------------------------------------

def test_repair_tables_live_in_the_user_cache_folder(tmp_path, monkeypatch):
    """The GBK-repair tables are kept under $XDG_CACHE_HOME/cn-news-facts, built from the dictionary
    segment.py names; repair.py opens neither jieba's global dictionary nor OpenCC's files."""
    import builtins

    from pipeline.stages import repair, segment
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *a, **k):
        opened.append(os.fspath(file) if isinstance(file, (str, os.PathLike)) else "")
        return real_open(file, *a, **k)
    monkeypatch.setattr(builtins, "open", spy)
    import jieba
    monkeypatch.setattr(jieba.dt, "get_dict_file", lambda: (_ for _ in ()).throw(AssertionError("jieba.dt")))
    repair._jieba_tables.cache_clear()
    try:
        chars, words = repair._jieba_tables()
    finally:
        repair._jieba_tables.cache_clear()
    assert chars and words
    assert str(segment.main_dict_path()) in opened
    assert not [p for p in opened if "opencc" in p]
    assert (tmp_path / "xdg" / "cn-news-facts" / "repair-tables.marshal").is_file()
    assert repair._t2s("蘭州") == "兰州"
