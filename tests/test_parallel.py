"""`--jobs N` gives the same bytes as `--jobs 1`, whatever the order of files or of finished work.

Also: rows are streamed (CsvStream writes what write.csv_bytes would), a
failed run leaves the previous outputs whole, and the outputs equal those
of the plain loop the pipeline started with (process_file on every article,
rows sorted by article).
"""
from __future__ import annotations

import codecs
import random
import re
import shutil
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from pipeline.run import runner as run_mod
from pipeline.article import process_file
from pipeline.outputs import ARTICLE_COLUMNS, EXTRACTION_COLUMNS, CsvStream, csv_lines, render
from pipeline.commands.cli import main
from pipeline.stages.read import read_file
from pipeline.rules import load_rules
from pipeline.run.inputs import Job, discover
from pipeline.run.runner import Stats, ordered_results, run
from pipeline.outputs import csv_bytes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"          # the golden files' articles (never the user's corpus/)


# --- a small corpus: corpus/ + generated articles + awkward files -----------------------

def _vary(text: str, rng: random.Random) -> str:
    return re.sub(r"\d", lambda m: str(rng.randint(0, 9)), text)


def make_corpus(dest: Path, n_generated: int = 20, seed: int = 1) -> Path:
    """corpus/ copied, n_generated articles shuffled from its paragraphs (digits varied, several
    encodings and line ends, nested folders), an empty, a UTF-16, a binary and a `=formula` file."""
    rng = random.Random(seed)
    shutil.copytree(CORPUS, dest)
    paras, tails = [], []
    for p in sorted(CORPUS.glob("*.txt")):
        lines = [ln for ln in read_file(p).text.replace("\r\n", "\n").split("\n") if ln.strip()]
        cut = next((i for i, ln in enumerate(lines) if i and re.match(r"□|責任編輯|责任编辑", ln)), len(lines))
        paras += lines[1:cut]
        tails.append(lines[cut:])
    for i in range(n_generated):
        text = "\n".join([f"第{i}篇 " + _vary(rng.choice(paras)[:20], rng)]
                         + [_vary(p, rng) for p in rng.sample(paras, rng.randint(3, 8))] + rng.choice(tails)) + "\n"
        kind = i % 5
        data = (text.encode("gb18030") if kind == 1 else codecs.BOM_UTF8 + text.encode() if kind == 2
                else text.replace("\n", "\r\n").encode() if kind == 3 else text.encode())
        p = dest / ("gen" if kind else "gen/nested/deeper") / f"g{i:03d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (dest / "odd").mkdir()
    (dest / "odd" / "empty.txt").write_bytes(b"")
    (dest / "odd" / "utf16.txt").write_bytes("兰州新区投资12亿元，增长5%。\n".encode("utf-16"))
    (dest / "odd" / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (dest / "odd" / "=formula.txt").write_text("=SUM(A1) 兰州高新区新增企业30家。\n", encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("par") / "in")


def tree(out: Path) -> dict[str, bytes]:
    """Every output file (the cache excluded) by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(out).parts}


@pytest.fixture(scope="module")
def one_process(corpus_dir, rules, tmp_path_factory):
    out = tmp_path_factory.mktemp("par") / "j1"
    s = run([corpus_dir], out, rules, n_jobs=1, progress=False, cache=False)
    return out, s


# --- tests --------------------------------------------------------------------------------

def test_jobs_2_byte_identical_to_jobs_1(corpus_dir, rules, one_process, tmp_path):
    out1, s1 = one_process
    s2 = run([corpus_dir], tmp_path / "j2", rules, n_jobs=2, progress=False, cache=False)
    assert (s2.articles, s2.errors, s2.rows) == (s1.articles, s1.errors, s1.rows)
    assert s1.articles == 7 + 20 + 4 and s1.errors == 1          # the binary file
    assert tree(tmp_path / "j2") == tree(out1)
    assert len([k for k in tree(out1) if k.startswith("clean/")]) == s1.articles - 1


def test_same_as_the_plain_loop(corpus_dir, rules, tmp_path):
    """Streaming, chunks and merging of discovery errors change nothing: the old in-memory loop's bytes."""
    dup = tmp_path / "dup"
    dup.mkdir()
    (dup / "dev01.txt").write_text("重复的文章。\n", encoding="utf-8")     # same id as corpus/dev01
    inputs = [corpus_dir, dup]      # (a missing input stops the run: tests/test_safe_inputs.py)
    jobs, errors = discover(inputs)
    results = [process_file(j.article, j.path, rules) for j in jobs]
    art_rows = [r.article_row() for r in results] + [e.article_row() for e in errors]
    art_rows.sort(key=lambda r: r["article"])
    ex_rows = [row for r in results for row in r.rows]
    s = run(inputs, tmp_path / "out", rules, n_jobs=2, progress=False, cache=False)
    assert (tmp_path / "out" / "extractions.csv").read_bytes() == csv_bytes(EXTRACTION_COLUMNS, ex_rows)
    assert (tmp_path / "out" / "articles.csv").read_bytes() == csv_bytes(ARTICLE_COLUMNS, art_rows)
    assert s.errors == 1 + len(errors) == 2


def test_file_creation_order_does_not_matter(corpus_dir, rules, one_process, tmp_path):
    """The same files created in reverse order (other inode and directory order) under the same path."""
    out1, _ = one_process
    files = sorted(p for p in corpus_dir.rglob("*.txt"))
    data = {p.relative_to(corpus_dir): p.read_bytes() for p in files}
    copy = tmp_path / "in"
    for rel in reversed(list(data)):
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_bytes(data[rel])
    run([copy], tmp_path / "out", rules, n_jobs=2, progress=False, cache=False)
    a, b = tree(out1), tree(tmp_path / "out")
    # the binary file's error message names its path, which differs: compare everything else
    strip = lambda t: {k: v.replace(str(corpus_dir).encode(), b"").replace(str(copy).encode(), b"") for k, v in t.items()}
    assert strip(a) == strip(b)


class ShuffledEngine:
    """Finishes chunks in random order (threads with random delays), as busy workers would."""
    capacity = 3

    def __init__(self, rules, seed=3):
        self.rules, self.rng, self.submitted = rules, random.Random(seed), 0

    def submit(self, tasks):
        from pipeline.run.engines import process_tasks
        f = Future()
        results, delay = process_tasks(tasks, self.rules), self.rng.random() * 0.05
        self.submitted += 1

        def finish():
            time.sleep(delay)
            f.set_result(results)
        threading.Thread(target=finish).start()
        return f

    def close(self, cancel=False):
        pass


def test_completion_order_does_not_matter(corpus_dir, rules):
    jobs, _ = discover([corpus_dir])
    expected = [render(process_file(j.article, j.path, rules)) for j in jobs]
    eng = ShuffledEngine(rules)
    got = list(ordered_results(jobs, rules, eng, chunk=2))
    assert [j.article for j, _ in got] == [j.article for j in jobs]
    assert [r for _, r in got] == expected
    assert eng.submitted == (len(jobs) + 1) // 2


def test_unreadable_file_is_an_error_row(rules, tmp_path):
    good = tmp_path / "in" / "a.txt"
    good.parent.mkdir()
    good.write_text("兰州新区投资12亿元。\n", encoding="utf-8")
    broken = tmp_path / "in" / "b.txt"
    broken.symlink_to(tmp_path / "nowhere.txt")
    jobs = [Job("a", good), Job("b", broken)]
    stats = Stats()
    got = list(ordered_results(jobs, rules, ShuffledEngine(rules), stats=stats))
    assert got[1][1] == render(process_file("b", broken, rules)) and not got[1][1].ok
    assert b"nowhere.txt" in got[1][1].article_line and stats.processed == 2


def test_stream_writes_what_csv_bytes_writes(corpus_dir, rules, tmp_path):
    rows = [{"article": "=a", "text": "+1", "value": "-5", "sentence": 'say "hi",\nbye', "start": 3, "end": None},
            {"article": "b", "text": None, "rule": "@x", "value_max": "", "unit": "\t"},
            {"article": "c", "text": "'=x", "value": "-12.6", "value_max": "--07-24", "sentence": "''", "start": 1.5},
            {}]
    s = CsvStream(tmp_path / "x.csv", EXTRACTION_COLUMNS)
    s.write(rows[0])
    s.write_lines(csv_lines(EXTRACTION_COLUMNS, rows[1:]))
    s.commit()
    assert (tmp_path / "x.csv").read_bytes() == csv_bytes(EXTRACTION_COLUMNS, rows)
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
    # what workers render is what csv_bytes makes of the result
    for job in discover([corpus_dir])[0][:8]:
        res = process_file(job.article, job.path, rules)
        r = render(res)
        header = len(csv_bytes(EXTRACTION_COLUMNS, []))
        assert r.extractions == csv_bytes(EXTRACTION_COLUMNS, res.rows)[header:]
        assert r.article_line == csv_bytes(ARTICLE_COLUMNS, [res.article_row()])[len(
            csv_bytes(ARTICLE_COLUMNS, [])):]


def test_failed_run_keeps_previous_outputs(corpus_dir, rules, one_process, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(one_process[0], out)
    before = tree(out)
    calls = []

    def boom(out_dir, article, text, cache=None):
        calls.append(article)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return False
    monkeypatch.setattr(run_mod, "write_clean_if_changed", boom)
    with pytest.raises(KeyboardInterrupt):
        run([corpus_dir], out, rules, n_jobs=2, progress=False, cache=False)
    assert tree(out) == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_cli_jobs(corpus_dir, one_process, tmp_path, capsys):
    rc = main(["run", str(corpus_dir), "--out", str(tmp_path / "cli"), "--jobs", "2", "--no-report", "--quiet",
               "--no-cache"])
    assert rc == 1                                      # the binary file is an error row
    assert tree(tmp_path / "cli") == tree(one_process[0])
    assert "31 articles" in capsys.readouterr().err
