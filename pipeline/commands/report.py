"""Build `report.html`: one self-contained page to review extracted rows.

The page shows an index of the articles and, for an opened article, its
cleaned text with every mention highlighted, a details box and a sortable,
filterable table of its rows; where a golden file exists, missed and
unexpected rows are marked and P/R/F1 is given per kind.

All data goes into the page once, as JSON in a `<script type="application/json">`
element (with `<`, `>` and `&` escaped so no text can close the element);
the page's own script (in `report_template.html`) renders an article only
when it is opened, always through `textContent`, never as HTML.
"""
from __future__ import annotations

import json
import pathlib
from collections import Counter
from importlib import resources

from ..outputs import (  # read_csv: the exact inverse of the writer, every column
    KINDS,
    atomic_write,
    read_csv,
)
from .evaluate import match_key  # the same matching as `pipeline eval`

# Columns of a row as the page receives them (`sentence` is left out: the
# page shows the mention in its text, and the column would double the size).
ROW_COLUMNS = ("kind", "text", "value", "value_max", "unit", "qualifier", "category",
               "start", "end", "raw_start", "raw_end", "rule", "status")
GOLD_COLUMNS = ("kind", "text", "value", "value_max", "unit", "qualifier", "category",
                "start", "end")

META_FIELDS = ("article", "title", "source", "reporter", "editor", "date", "chars", "status", "error",
               "warnings")
DATA_PLACEHOLDER = "__REPORT_DATA__"



def match_rows(produced: list[dict[str, str]], gold: list[dict[str, str]]) -> tuple[list[bool], list[bool]]:
    """Multiset match of one article's rows against its golden rows.

    Returns (matched flag per produced row, matched flag per golden row); the
    first produced rows in order take the golden ones with the same key.
    """
    def take(rows: list[dict[str, str]], pool: Counter) -> list[bool]:
        flags = []
        for row in rows:
            key = match_key(row)
            flags.append(pool[key] > 0)
            pool[key] -= flags[-1]
        return flags

    produced_ok = take(produced, Counter(match_key(g) for g in gold))
    gold_ok = take(gold, Counter(match_key(r) for r, ok in zip(produced, produced_ok) if ok))
    return produced_ok, gold_ok


def place_missed(text: str, missed: list[dict[str, str]], used: list[tuple[int, int, str]]) -> list[int]:
    """Start offset of each missed golden mention in `text`, or -1 when not found.

    A missed mention goes to the first occurrence of its text that overlaps no
    matched produced row of the same kind and no missed mention placed before.
    `used` holds (start, end, kind) of the matched produced rows.
    """
    taken = list(used)
    starts = []
    for g in missed:
        needle, kind, found = g.get("text", ""), g.get("kind", ""), -1
        pos = text.find(needle) if needle else -1
        while pos >= 0:
            end = pos + len(needle)
            if not any(k == kind and s < end and pos < e for s, e, k in taken):
                found = pos
                taken.append((pos, end, kind))
                break
            pos = text.find(needle, pos + 1)
        starts.append(found)
    return starts


def to_offset(cell: str | None) -> int | None:
    """An offset cell as int, or None when it is empty or not a number."""
    try:
        return int(cell) if cell not in (None, "") else None
    except ValueError:
        return None


def read_clean(out_dir: pathlib.Path, article: str) -> str | None:
    """The cleaned text of an article, or None when missing or outside `clean/`."""
    root = (out_dir / "clean").resolve()
    path = (root / f"{article}.txt").resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def start_of(row: dict[str, str]) -> tuple[bool, int]:
    """Sort key: rows by start offset, rows without one last."""
    start = to_offset(row.get("start"))
    return (start is None, start or 0)


def row_cells(row: dict[str, str], matched: bool | None, clean: str | None) -> list:
    """A produced row as the page gets it (ROW_COLUMNS). Its status is `match` or
    `unexpected` (empty without a golden file), plus `offset` when start/end miss its text."""
    start, end = to_offset(row.get("start")), to_offset(row.get("end"))
    status = "" if matched is None else ("match" if matched else "unexpected")
    if clean is not None and start is not None and end is not None and clean[start:end] != row.get("text", ""):
        status = (status + " offset").strip()
    cells = {c: row.get(c, "") for c in ROW_COLUMNS}
    cells.update(start=start, end=end, status=status)
    return [cells[c] for c in ROW_COLUMNS]


def missed_cells(clean: str | None, rows: list[dict[str, str]], produced_ok: list[bool],
                 missed: list[dict[str, str]]) -> list[list]:
    """The missed golden rows as the page gets them (GOLD_COLUMNS), placed in the text."""
    used = []  # spans of the matched rows: a missed mention is not put there
    for r, ok in zip(rows, produced_ok):
        start, end = to_offset(r.get("start")), to_offset(r.get("end"))
        if ok and start is not None and end is not None:
            used.append((start, end, r.get("kind", "")))
    out = []
    for g, start in zip(missed, place_missed(clean or "", missed, used)):
        cells = {c: g.get(c, "") for c in GOLD_COLUMNS}
        if start >= 0:
            cells.update(start=start, end=start + len(g.get("text", "")))
        else:
            cells.update(start=None, end=None)
        out.append([cells[c] for c in GOLD_COLUMNS])
    return out


def prf_counts(rows: list[dict[str, str]], produced_ok: list[bool], gold: list[dict[str, str]]) -> dict:
    """Per kind [matched, produced, golden]: the page computes P/R/F1 from these."""
    return {kind: [sum(1 for r, ok in zip(rows, produced_ok) if ok and r.get("kind") == kind),
                   sum(1 for r in rows if r.get("kind") == kind),
                   sum(1 for g in gold if g.get("kind") == kind)] for kind in KINDS}


def article_entry(meta: dict[str, str], rows: list[dict[str, str]], clean: str | None,
                  gold: list[dict[str, str]] | None) -> dict:
    """Everything the page needs about one article, as plain JSON-able data."""
    rows = sorted(rows, key=start_of)
    entry = {k: meta.get(k, "") for k in META_FIELDS}
    entry.update(text=clean, gold=gold is not None, missed=[], prf={})
    produced_ok: list = [None] * len(rows)
    if gold is not None:
        produced_ok, gold_ok = match_rows(rows, gold)
        missed = [g for g, ok in zip(gold, gold_ok) if not ok]
        entry.update(missed=missed_cells(clean, rows, produced_ok, missed),
                     prf=prf_counts(rows, produced_ok, gold))
    entry["rows"] = [row_cells(r, ok, clean) for r, ok in zip(rows, produced_ok)]
    return entry


def collect(out_dir: pathlib.Path, gold_dir: pathlib.Path | None) -> dict:
    """Read articles.csv, extractions.csv, clean texts and golden files into the page's data."""
    metas = read_csv(out_dir / "articles.csv") if (out_dir / "articles.csv").is_file() else []
    extractions = read_csv(out_dir / "extractions.csv") if (out_dir / "extractions.csv").is_file() else []
    by_article: dict[str, list[dict[str, str]]] = {}
    for row in extractions:
        by_article.setdefault(row.get("article", ""), []).append(row)
    # articles.csv gives the order; rows of an article missing there come last
    order = list(dict.fromkeys([m.get("article", "") for m in metas] + list(by_article)))
    meta_of = {m.get("article", ""): m for m in metas}
    articles = []
    for art in order:
        gold_path = gold_dir / f"{art}.csv" if gold_dir is not None else None
        gold = read_csv(gold_path) if gold_path is not None and gold_path.is_file() else None
        meta = meta_of.get(art, {"article": art, "status": "ok"})
        articles.append(article_entry(meta, by_article.get(art, []), read_clean(out_dir, art), gold))
    return {"kinds": list(KINDS), "columns": list(ROW_COLUMNS), "gold_columns": list(GOLD_COLUMNS),
            "out_dir": str(out_dir), "articles": articles}


def embed_json(data: dict) -> str:
    """JSON safe inside a `<script>` element: `<`, `>`, `&` and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def render(data: dict) -> str:
    """The page: the template with the data embedded once."""
    template = resources.files(__package__).joinpath("report_template.html").read_text(encoding="utf-8")
    head, sep, tail = template.partition(DATA_PLACEHOLDER)
    assert sep, "report_template.html lacks the data placeholder"
    return head + embed_json(data) + tail


def report_is_current(out_dir: pathlib.Path, gold_dir: pathlib.Path | None) -> bool:
    """True when out_dir/report.html is newer than everything it is built from: the CSVs (the run
    that wrote them also wrote the clean texts), the golden files and this module with its template.
    A re-run that changed no output then need not rebuild a page that takes seconds on a big archive."""
    page = pathlib.Path(out_dir) / "report.html"
    try:
        built = page.stat().st_mtime_ns
        sources = [pathlib.Path(out_dir) / "extractions.csv", pathlib.Path(out_dir) / "articles.csv",
                   pathlib.Path(__file__), pathlib.Path(__file__).with_name("report_template.html")]
        if gold_dir is not None and pathlib.Path(gold_dir).is_dir():
            sources += [pathlib.Path(gold_dir), *pathlib.Path(gold_dir).iterdir()]
        return all(p.stat().st_mtime_ns <= built for p in sources)
    except OSError:
        return False


def write_report(out_dir: pathlib.Path, gold_dir: pathlib.Path | None = None,
                 dest: pathlib.Path | None = None) -> pathlib.Path:
    """Build out_dir/report.html (or dest) from the CSVs and clean texts in out_dir; return its path.
    Written atomically (outputs.atomic_write)."""
    out_dir = pathlib.Path(out_dir)
    dest = pathlib.Path(dest) if dest is not None else out_dir / "report.html"
    page = render(collect(out_dir, pathlib.Path(gold_dir) if gold_dir is not None else None))
    atomic_write(dest, page.encode("utf-8"))
    return dest
