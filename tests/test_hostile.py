"""Hostile input: clear errors, nothing lost, never a traceback, time in proportion to size.

A folder of hostile files (tests/hostile/, written by tests/hostile/make.py,
plus big and special ones generated here: a FIFO, dangling and looping
links, a folder named *.txt, a file over the size limit, adversarial texts)
goes through `python -m pipeline run` in-process. Every file gets its row
in articles.csv with the outcome asserted in CASES; the run exits 1.

Adversarial texts (a 20,000-digit number, 3,000 nested parentheses, runs of
50,000 多/、/亿, a single line of several MB) must finish in time
proportional to their size. The 30 MB line runs only with
PIPELINE_SLOW_TESTS=1 (about a minute and 3 GB of memory).
"""
from __future__ import annotations

import csv
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from pipeline.article import process_bytes
from pipeline.commands.cli import main
from pipeline.stages.clean import clean
from pipeline.stages.read import MAX_FILE_OPTION, ReadError, decode, max_file_bytes, read_bytes, read_file
from pipeline.rules import load_rules
from pipeline.outputs import FORMULA_START, PLAIN_VALUE, unneutralise

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile"
CORPUS = ROOT / "tests" / "data" / "corpus"          # the golden files' articles (never the user's corpus/)
SLOW = bool(os.environ.get("PIPELINE_SLOW_TESTS"))


@pytest.fixture(scope="module")
def rules():
    return load_rules()


# --- expected outcome of every hostile file ---------------------------------------------------
# article id -> (status, words the error must hold | words the warnings must hold, rows: None = any,
# 0 = none, "some" = at least one)
CASES = {
    # committed small files (tests/hostile/make.py)
    "empty": ("ok", [], 0),
    "whitespace": ("ok", [], 0),
    "bom-only": ("ok", [], 0),
    "random-bytes": ("error", ["random-bytes.txt", "not text", "re-save it as UTF-8"], 0),
    "nul-bytes": ("error", ["nul-bytes.txt", "binary"], 0),
    "image": ("error", ["image.txt", "PNG image", "remove it"], 0),
    "archive": ("error", ["archive.txt", "gzip", "decompress"], 0),
    "document": ("error", ["document.txt", "PDF document", "pdftotext"], 0),
    "latin1": ("error", ["latin1.txt", "not text", "UTF-8"], 0),
    "mixed-encodings": ("error", ["mixed-encodings.txt", "valid UTF-8 up to line", "different encodings"], 0),
    "utf8-bad-bytes": ("ok", ["3 undecodable byte sequence(s)", "utf-8"], "some"),
    "utf8-nul": ("ok", ["4 NUL character(s) removed"], "some"),
    "utf8-truncated": ("ok", ["1 undecodable byte sequence(s)"], "some"),
    "utf8-replacement-chars": ("ok", ["U+FFFD already in the file"], "some"),
    "control-chars": ("ok", ["2 control character(s) removed"], "some"),
    "utf16-truncated": ("ok", ["1 undecodable byte sequence(s)", "utf-16"], "some"),
    "utf16le-no-bom": ("ok", [], "some"),
    "utf32": ("ok", [], "some"),
    "gb18030-bad-bytes": ("ok", ["undecodable byte sequence(s)", "gb18030"], "some"),
    "old-mac-line-ends": ("ok", [], "some"),
    "html-page": ("ok", ["HTML page"], "some"),
    "formula": ("ok", [], "some"),
    "english-parens": ("ok", [], None),
    "readings-without-characters": ("ok", [], 0),
    # generated here (make_special)
    "dangling-link": ("error", ["dangling-link.txt", "symbolic link", "does not exist", "fix or remove"], 0),
    "link-loop": ("error", ["link-loop.txt", "cannot be opened"], 0),
    "fifo": ("error", ["fifo.txt", "named pipe (FIFO)", "not a regular file"], 0),
    "folder": ("error", ["folder.txt", "is a folder"], 0),
    "folder.txt/inside": ("ok", [], "some"),
    "too-large": ("error", ["too-large.txt", "MB an article may have", MAX_FILE_OPTION], 0),
    "digits-20000": ("ok", [], None),
    "parentheses-3000": ("ok", [], None),
    "duo-50000": ("ok", [], None),
    "dun-50000": ("ok", [], None),
    "yi-50000": ("ok", [], None),
    "one-long-line": ("ok", ["repaired"], "some"),
    "兰州新区": ("ok", [], "some"),                # a file name in GBK bytes, not UTF-8
    "\\xff\\xfe名": ("ok", [], "some"),          # a file name in no encoding at all
    "gbk-named-link": ("error", ["gbk-named-link.txt", "symbolic link to ", "/不存在.txt, which does not"], 0),
}


def adversarial_texts() -> dict[str, str]:
    """Texts built to confuse, about 50-150 KB each; each holds 12亿元, which must be found."""
    return {
        "digits-20000": "全年投资" + "9" * 20000 + "万元。兰州新区投资12亿元。",
        "parentheses-3000": "括号" + "(" * 3000 + "創(chuàng)新投资12亿元" + ")" * 3000 + "。",
        "duo-50000": "超过820" + "多" * 50000 + "个项目,投资12亿元。",
        "dun-50000": "三" + "、" * 50000 + "五个项目,投资12亿元。",
        "yi-50000": "1" + "亿" * 50000 + "元,投资12亿元。",
    }


def long_line(n_chars: int) -> str:
    """The corpus articles joined into one line of n_chars characters (no line break at all)."""
    base = "".join(read_file(p).text for p in sorted(CORPUS.glob("*.txt")))
    base = base.replace("\r", "").replace("\n", "")
    return (base * (n_chars // len(base) + 1))[:n_chars]


def make_special(folder: Path) -> None:
    """Files that cannot be committed (links, a FIFO, a folder) or are big."""
    (folder / "dangling-link.txt").symlink_to(folder / "no-such-file.txt")
    (folder / "link-loop.txt").symlink_to(folder / "link-loop.txt")
    os.mkfifo(folder / "fifo.txt")
    (folder / "folder.txt").mkdir()
    (folder / "folder.txt" / "inside.txt").write_text("兰州新区投资12亿元。\n", encoding="utf-8")
    (folder / "too-large.txt").write_bytes(b"x" * 1_100_000)        # the test sets the limit to 1 MB
    for name, text in adversarial_texts().items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / "one-long-line.txt").write_text(long_line(300_000), encoding="utf-8")   # 0.9 MB
    # file names whose bytes are not UTF-8 (GBK names from a Chinese zip archive, or junk)
    (folder / os.fsdecode("兰州新区.txt".encode("gbk"))).write_text("兰州新区投资12亿元。\n", encoding="utf-8")
    (folder / os.fsdecode(b"\xff\xfe" + "名.txt".encode())).write_text("兰州新区投资12亿元。\n", encoding="utf-8")
    (folder / "gbk-named-link.txt").symlink_to(folder / os.fsdecode("不存在.txt".encode("gbk")))


def read_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One run over every hostile file: (input folder, output folder, exit status, stderr)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs POSIX (FIFO, symlinks)")
    tmp = tmp_path_factory.mktemp("hostile")
    inp = tmp / "in"
    shutil.copytree(HOSTILE, inp, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    make_special(inp)
    out = tmp / "out"
    import io
    from contextlib import redirect_stderr
    err = io.StringIO()
    with redirect_stderr(err):
        t0 = time.perf_counter()
        rc = main(["run", str(inp), "--out", str(out), "--jobs", "1", "--no-report", "--quiet", "--no-cache",
                   "--max-file-mb", "1"])
        seconds = time.perf_counter() - t0
    return inp, out, rc, err.getvalue(), seconds


def test_every_hostile_file_is_committed():
    from importlib.util import module_from_spec, spec_from_file_location
    spec = spec_from_file_location("make_hostile", HOSTILE / "make.py")
    mod = module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, data in mod.files().items():
        assert (HOSTILE / name).read_bytes() == data, f"{name}: run python tests/hostile/make.py"
        assert name.removesuffix(".txt") in CASES


def test_run_exits_1_and_never_shows_a_traceback(hostile_run):
    _, out, rc, err, seconds = hostile_run
    assert rc == 1
    assert "Traceback" not in err and "internal error" not in err
    assert (out / "articles.csv").exists() and (out / "extractions.csv").exists()
    assert seconds < 60


def test_every_file_has_its_row_with_a_clear_outcome(hostile_run):
    _, out, _, _, _ = hostile_run
    rows = {r["article"]: r for r in read_rows(out / "articles.csv")}
    assert set(rows) == set(CASES), set(rows) ^ set(CASES)
    extractions = read_rows(out / "extractions.csv")
    for aid, (status, words, n_rows) in CASES.items():
        r = rows[aid]
        assert r["status"] == status, (aid, r)
        if status == "error":
            for w in words:
                assert w in r["error"], (aid, w, r["error"])
            assert r["warnings"] == "" and "internal error" not in r["error"]
            assert not (out / "clean" / f"{aid}.txt").is_file()
        else:
            assert r["error"] == ""
            for w in words:
                assert w in r["warnings"], (aid, w, r["warnings"])
            if not words:
                assert r["warnings"] == "", (aid, r["warnings"])
            assert int(r["chars"]) == len((out / "clean" / f"{aid}.txt").read_text(encoding="utf-8"))
        n = sum(1 for e in extractions if e["article"] == aid)
        if n_rows == "some":
            assert n > 0, aid
        elif n_rows is not None:
            assert n == n_rows, (aid, n)


def test_damaged_files_give_the_rows_of_the_undamaged_text(hostile_run):
    """A few bad bytes or NULs cost the characters they hit, not the article."""
    _, out, _, _, _ = hostile_run
    rows = read_rows(out / "extractions.csv")

    def mentions(aid):
        return {(r["kind"], r["text"], r["value"]) for r in rows if r["article"] == aid}

    whole = mentions("utf16le-no-bom")
    assert len(whole) >= 8
    for aid in ("utf32", "old-mac-line-ends", "utf8-nul", "control-chars"):
        assert mentions(aid) == whole, aid
    for aid in ("utf8-bad-bytes", "gb18030-bad-bytes", "utf16-truncated", "utf8-replacement-chars"):
        assert len(mentions(aid) & whole) >= len(whole) - 3, aid


def test_offsets_hold_in_every_processed_file(hostile_run):
    _, out, _, _, _ = hostile_run
    texts = {}
    for r in read_rows(out / "extractions.csv"):
        if r["article"] not in texts:
            texts[r["article"]] = (out / "clean" / f"{r['article']}.txt").read_text(encoding="utf-8")
        assert texts[r["article"]][int(r["start"]):int(r["end"])] == unneutralise(r["text"]), r


def test_spreadsheet_cells_never_start_a_formula(hostile_run):
    """OWASP CSV injection: every cell starting with = + - @ tab CR is a plain number or date, or quoted."""
    _, out, _, _, _ = hostile_run
    for name in ("articles.csv", "extractions.csv"):
        with open(out / name, encoding="utf-8-sig", newline="") as f:
            for row in csv.reader(f):
                for cell in row:
                    assert not cell.startswith(FORMULA_START) or PLAIN_VALUE.fullmatch(cell), (name, cell)
    art = {r["article"]: r for r in read_rows(out / "articles.csv")}["formula"]
    assert art["title"].startswith("'=HYPERLINK(")
    rows = [r for r in read_rows(out / "extractions.csv") if r["article"] == "formula"]
    pct = next(r for r in rows if r["kind"] == "percent")
    assert (pct["text"], pct["value"], pct["unit"]) == ("'-12.6%", "-12.6", "%")
    assert pct["sentence"].startswith("'-12.6%")
    sentences = {r["sentence"][:3] for r in rows}
    assert {"'+1", "'@S", "'=H"} <= sentences
    amounts = {r["value"] for r in rows if r["kind"] == "amount"}
    assert {"1200000000", "300000000"} <= amounts     # values stay plain numbers


def test_english_parentheses_are_not_readings(hostile_run):
    _, out, _, _, _ = hostile_run
    text = (out / "clean" / "english-parens.txt").read_text(encoding="utf-8")
    for kept in ("park (AI) opens", "Jack Ma (Ma)", "Leyen (de)", "人工智能(AI)", "德(de)国", "(Lanzhou)"):
        assert kept in text


def test_long_line_has_short_cells(hostile_run):
    """A line without sentence ends or a giant title still gives cells a spreadsheet can show."""
    _, out, _, _, _ = hostile_run
    art = {r["article"]: r for r in read_rows(out / "articles.csv")}["one-long-line"]
    assert len(art["title"]) <= 201 and len(art["warnings"]) < 5000
    assert "(×" in art["warnings"]      # repeated repairs are counted, not listed 100 times
    rows = [r for r in read_rows(out / "extractions.csv") if r["article"] == "one-long-line"]
    assert len(rows) > 1000 and max(len(r["sentence"]) for r in rows) <= 1500


# --- reading: every way a path can fail ----------------------------------------------------------

def test_read_errors_name_the_file_and_what_to_do(tmp_path, monkeypatch):
    link = tmp_path / "a.txt"
    link.symlink_to(tmp_path / "gone.txt")
    with pytest.raises(ReadError, match=r"a\.txt: file not found: it is a symbolic link to .*gone\.txt"):
        read_bytes(link)
    with pytest.raises(ReadError, match=r"b\.txt: file not found; check the path"):
        read_bytes(tmp_path / "b.txt")
    with pytest.raises(ReadError, match=r"b\.txt: file not found \(was it moved or deleted during the run\?\)"):
        read_bytes(tmp_path / "b.txt", listed=True)
    (tmp_path / "d.txt").mkdir()
    with pytest.raises(ReadError, match=r"d\.txt: is a folder"):
        read_bytes(tmp_path / "d.txt")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "f.txt")
        t0 = time.perf_counter()
        with pytest.raises(ReadError, match=r"f\.txt: is a named pipe \(FIFO\)"):
            read_bytes(tmp_path / "f.txt")
        assert time.perf_counter() - t0 < 1            # never blocks waiting for a writer
    if os.path.exists("/dev/zero"):
        (tmp_path / "z.txt").symlink_to("/dev/zero")
        with pytest.raises(ReadError, match=r"z\.txt: is a device"):
            read_bytes(tmp_path / "z.txt")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2_000_001)
    with pytest.raises(ReadError, match=r"big\.txt: is 2\.0 MB, more than the 2 MB.*--max-file-mb"):
        read_bytes(big, max_file_bytes(2))
    assert len(read_bytes(big, max_file_bytes(3))) == 2_000_001


def test_unreadable_mode_000_is_an_error_row_when_not_root(tmp_path):
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("root reads files of mode 000")
    p = tmp_path / "locked.txt"
    p.write_text("兰州", encoding="utf-8")
    p.chmod(0)
    with pytest.raises(ReadError, match="permission denied"):
        read_bytes(p)


@pytest.mark.parametrize("data, words", [
    (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, ["program"]),
    (b"PK\x03\x04" + bytes(range(256)) * 4, ["ZIP archive", ".docx"]),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4, ["Microsoft Office"]),
    (b"SQLite format 3\x00" + bytes(range(256)) * 4, ["SQLite database"]),
    (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, ["JPEG image"]),
])
def test_known_binary_formats_are_named(data, words):
    with pytest.raises(ReadError) as e:
        decode(data, "x.txt")
    assert all(w in str(e.value) for w in words) and str(e.value).startswith("x.txt: is ")


def test_a_text_that_starts_like_a_signature_is_still_text():
    d = decode("MZ是一家公司,投资12亿元。".encode("utf-8"), "mz.txt")
    assert d.text.startswith("MZ") and not d.warnings


def test_process_bytes_never_raises_and_reports_internal_errors(rules, monkeypatch):
    import pipeline.article as article

    def broken(*a, **k):
        raise ValueError("boom")

    monkeypatch.setattr(article, "analyse", broken)
    res = process_bytes("x", "兰州".encode(), rules, name="in/x.txt")
    assert res.status == "error" and res.error.startswith("in/x.txt: could not be processed (internal error "
                                                          "ValueError: boom at test_hostile.py:")


# --- adversarial text: time in proportion to size ------------------------------------------------

def _seconds(text: str, rules) -> tuple[float, object]:
    """CPU seconds of processing one text (CPU time, so that other load on the machine does not
    make a linear step look quadratic)."""
    t0 = time.process_time()
    res = process_bytes("t", text.encode("utf-8"), rules)
    return time.process_time() - t0, res


@pytest.mark.parametrize("name", sorted(adversarial_texts()))
def test_adversarial_text_is_linear(name, rules):
    """4x the text takes well under 16x the time (quadratic) and gives sensible rows."""
    _seconds("热身 兰州新区投资12亿元", rules)
    text = adversarial_texts()[name]
    small = text[:len(text) // 4]
    t_small, _ = _seconds(small, rules)
    t_big, res = _seconds(text, rules)
    assert res.status == "ok" and not any("stopped after" in w for w in res.warnings), res.warnings
    assert t_big < 2.0 and t_big < 8 * max(t_small, 0.05), (t_small, t_big)
    for r in res.rows:
        assert res.clean_text[r["start"]:r["end"]] == r["text"]
        assert len(r["text"]) <= 100, r            # no 20,000-digit "amount"
    assert {(r["kind"], r["value"]) for r in res.rows} >= {("amount", "1200000000")}


def test_nested_parentheses_keep_the_readings_rule(rules):
    res = process_bytes("t", adversarial_texts()["parentheses-3000"].encode(), rules)
    assert "创新投资12亿元" in res.clean_text and "(chuàng)" not in res.clean_text
    assert res.clean_text.count("(") == 3000


def test_3_mb_line_is_linear(rules):
    """A single line of corpus text, no line break: 3 MB takes about 10x the time of 0.3 MB
    (bound 25x: a quadratic step would be 100x, and a shared machine's caches vary).

    (0.3 s per 100,000 characters here; a quadratic step would make it 100x.)
    """
    _seconds(long_line(20_000), rules)                    # load the lazy tables first
    t_small, small = _seconds(long_line(100_000), rules)
    t_big, res = _seconds(long_line(1_000_000), rules)
    assert res.status == "ok" and len(res.rows) > 9 * len(small.rows) > 9 * 2000
    assert t_big < 25 * t_small and t_big < 30, (t_small, t_big)     # quadratic: 100x
    assert max(len(r["sentence"]) for r in res.rows) <= 1500
    assert len(res.article_row()["title"]) <= 201


@pytest.mark.skipif(not SLOW, reason="30 MB line: set PIPELINE_SLOW_TESTS=1 (about a minute, 3 GB memory)")
@pytest.mark.slow
def test_30_mb_line_is_linear(rules):
    t3, r3 = _seconds(long_line(1_000_000), rules)
    t30, r30 = _seconds(long_line(10_000_000), rules)
    assert r30.status == "ok" and len(r30.rows) > 9 * len(r3.rows)
    assert t30 < 15 * t3, (t3, t30)               # linear gives ~10x, quadratic 100x


def test_cleaning_a_long_line_is_linear(rules):
    """The cleaning stages alone (readings, repair, conversion, boilerplate) on 1 and 4 MB."""
    text = long_line(1_300_000)
    t0 = time.perf_counter()
    clean(text[:len(text) // 4], rules.boilerplate)
    t1 = time.perf_counter()
    clean(text, rules.boilerplate)
    t2 = time.perf_counter()
    assert t2 - t1 < 8 * max(t1 - t0, 0.1), (t1 - t0, t2 - t1)
