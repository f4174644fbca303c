"""The same article in any encoding gives the same rows.

Every corpus article is decoded, then re-encoded as UTF-8, UTF-8 with BOM,
UTF-16 LE/BE with BOM, UTF-16 LE without BOM, UTF-32, and GB18030 with CRLF
line ends; a Traditional version (OpenCC s2t, characters Big5 cannot encode
left out) is compared between UTF-8 and Big5. Rows must be identical: kind,
text, value, unit, qualifier, category, offsets into the cleaned text,
sentence, rule. Raw offsets index the decoded file, so they move with CRLF;
they must still cover the mention.
"""
from __future__ import annotations

import codecs
import csv
import re
from functools import lru_cache
from pathlib import Path

import pytest

from pipeline.article import process_bytes
from pipeline.commands.cli import main
from pipeline.stages.clean import clean
from pipeline.stages.read import decode, read_file
from pipeline.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "data" / "corpus").glob("*.txt"))
# Every column but the raw offsets (and the article id).
SAME = ("kind", "text", "value", "value_max", "unit", "qualifier", "category", "start", "end", "sentence", "rule")


@lru_cache(maxsize=1)
def rules():
    return load_rules()


def crlf(text: str) -> str:
    return re.sub(r"\r?\n|\r", "\r\n", text)


ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16-le-bom": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16-be-bom": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf-16-le-no-bom": lambda t: t.encode("utf-16-le"),
    "utf-32": lambda t: t.encode("utf-32"),
    "gb18030-crlf": lambda t: crlf(t).encode("gb18030"),
    "utf-8-crlf": lambda t: crlf(t).encode("utf-8"),
}
# what decode must call each
DECODED_AS = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "utf-16-le-bom": "utf-16", "utf-16-be-bom": "utf-16",
              "utf-16-le-no-bom": "utf-16-le", "utf-32": "utf-32", "gb18030-crlf": "gb18030", "utf-8-crlf": "utf-8"}


@lru_cache(maxsize=None)
def article_text(path: Path) -> str:
    return read_file(path).text


@lru_cache(maxsize=None)
def traditional_big5(path: Path) -> str:
    """The article in Traditional characters, without the characters Big5 cannot encode (or round-trip)."""
    import opencc
    trad = opencc.OpenCC("s2t").convert(article_text(path))

    def ok(c: str) -> bool:
        try:
            return c.encode("big5").decode("big5") == c
        except UnicodeError:
            return False
    return "".join(c for c in trad if ok(c))


def key(rows: list[dict]) -> list[tuple]:
    return [tuple(r[c] for c in SAME) for r in rows]


def check_raw_offsets(raw: str, rows: list[dict]) -> None:
    """The raw span, cleaned, gives the mention (a repaired span may give more before it)."""
    empty = rules().boilerplate.__class__(0, [], [])
    for r in rows:
        got = clean(raw[r["raw_start"]:r["raw_end"]], empty).text
        assert got == r["text"] or got.endswith(r["text"]), (r, got)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_same_rows_in_every_encoding(path):
    text = article_text(path)
    ref = process_bytes(path.stem, text.encode("utf-8"), rules())
    assert ref.status == "ok" and len(ref.rows) > 10
    for name, encode in ENCODINGS.items():
        data = encode(text)
        d = decode(data, name)
        assert d.encoding == DECODED_AS[name] and not d.warnings, (name, d.encoding, d.warnings)
        res = process_bytes(path.stem, data, rules())
        assert res.status == "ok" and res.warnings == ref.warnings, (name, res.warnings)
        assert res.clean_text == ref.clean_text, name
        assert res.meta == ref.meta, name
        assert key(res.rows) == key(ref.rows), name
        check_raw_offsets(d.text, res.rows)
        if "crlf" not in name:
            assert [(r["raw_start"], r["raw_end"]) for r in res.rows] == \
                   [(r["raw_start"], r["raw_end"]) for r in ref.rows], name


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_big5_gives_the_rows_of_the_same_text_in_utf8(path):
    text = traditional_big5(path)
    assert len(text) > 0.9 * len(article_text(path))
    d = decode(text.encode("big5"), "big5")
    assert d.encoding == "big5" and d.text == text
    ref = process_bytes(path.stem, text.encode("utf-8"), rules())
    res = process_bytes(path.stem, text.encode("big5"), rules())
    assert res.status == "ok" and len(ref.rows) > 10
    assert res.clean_text == ref.clean_text and res.warnings == ref.warnings
    assert res.rows == ref.rows            # same text: raw offsets equal too


def test_csv_rows_equal_across_encodings_end_to_end(tmp_path):
    """Through the CLI and the CSV files: one folder per encoding, same rows in every folder."""
    inp = tmp_path / "in"
    paths = CORPUS[:2]
    for name, encode in ENCODINGS.items():
        (inp / name).mkdir(parents=True)
        for p in paths:
            (inp / name / p.name).write_bytes(encode(article_text(p)))
    (inp / "big5").mkdir()
    (inp / "big5-as-utf-8").mkdir()
    for p in paths:
        (inp / "big5" / p.name).write_bytes(traditional_big5(p).encode("big5"))
        (inp / "big5-as-utf-8" / p.name).write_bytes(traditional_big5(p).encode("utf-8"))
    out = tmp_path / "out"
    assert main(["run", str(inp), "--out", str(out), "--jobs", "1", "--no-report", "--quiet", "--no-cache"]) == 0
    with open(out / "extractions.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    by: dict[tuple[str, str], list[tuple]] = {}
    for r in rows:
        enc, art = r["article"].split("/")
        by.setdefault((enc, art), []).append(tuple(r[c] for c in SAME))
    for p in paths:
        ref = by[("utf-8", p.stem)]
        assert len(ref) > 10
        for name in ENCODINGS:
            assert by[(name, p.stem)] == ref, (name, p.stem)
        assert by[("big5", p.stem)] == by[("big5-as-utf-8", p.stem)]
    for enc in [*ENCODINGS, "big5"]:
        for p in paths:
            a = (out / "clean" / enc / p.name).read_bytes()
            b = (out / "clean" / ("big5-as-utf-8" if enc == "big5" else "utf-8") / p.name).read_bytes()
            assert a == b, (enc, p.name)
