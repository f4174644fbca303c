"""The report step: `report.html` to review the rows, its data folder, and `leftovers.csv`.

The page (`report_template.html`) shows an index of the articles and, for an
opened article, its cleaned text with every mention highlighted, the numbers
no row covers (leftovers), a details box and a sortable, filterable table of
its rows; where a golden file exists, missed and unexpected rows are marked
and P/R/F1 is given per kind. A reviewer marks rows right or wrong and adds
missed mentions there; `golden accept --verdicts` turns the exported file
into golden files. A second view lists the rows of every article.

Memory stays bounded at archive scale: articles are read one at a time
(extractions.csv is grouped by article, in the order of articles.csv), and
their data (text, rows, leftovers) goes into chunk files of about
CHUNK_CHARS characters, `report-data/<build>/<n>.js`, which the page loads
only when an article of the chunk is opened. The page itself embeds only the
index (one small entry per article), as JSON in a
`<script type="application/json">` element with `<`, `>` and `&` escaped so
no text can close the element; the page's script puts every piece of article
data on the page through `textContent`, never as HTML.

Outputs are never half-written: the chunks go to a temporary folder renamed
to `<build>` (the digest of their bytes), then the page and leftovers.csv
are replaced atomically, then older builds are removed. The page records
what it was built from (`sources_stamp`), so an unchanged re-run can keep it
(`report_is_current`) and a changed golden file or folder rebuilds it.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import tempfile
import time
from collections import Counter
from importlib import resources
from operator import itemgetter
from urllib.parse import quote

from .. import article as _article
from ..outputs import (  # read_csv: the exact inverse of the writer, every column
    CONTEXT_COLUMNS,
    FORMULA_START,
    KINDS,
    LEFTOVER_COLUMNS,
    PLAIN_VALUE,
    TEXT_COLUMNS,
    VERDICT_COLUMNS,
    CsvStream,
    atomic_write,
    csv_lines,
    file_mode,
    iter_cells,
    iter_csv,
    read_csv,
)
from ..rules import Rules, default_rules_dir, load_rules
from . import leftovers
from .evaluate import match_key  # the same matching as `pipeline eval`

# Columns of a row as the page receives them; `status` (match / unexpected / offset) last. The
# sentence is left out: the page cuts it from the text (article.SENTENCE_END) for `explain`.
ROW_COLUMNS = ("kind", "text", "value", "value_max", "unit", "qualifier", "category", *CONTEXT_COLUMNS,
               "start", "end", "raw_start", "raw_end", "rule", "status")
GOLD_COLUMNS = ("kind", "text", "value", "value_max", "unit", "qualifier", "category", *CONTEXT_COLUMNS,
                "start", "end")
_START = ROW_COLUMNS.index("start")     # start, end: ints (or None) in the page's rows
# What the index holds of articles.csv (the rest of the meta is in the article's chunk), and the
# longest error or warnings cell it shows (the article view shows all of it).
INDEX_FIELDS = ("article", "title", "status", "chars")
META_FIELDS = ("source", "reporter", "editor", "date", "published", "error", "warnings")
INDEX_NOTE_CHARS = 300
# Characters of article data per chunk file: an article opens by loading one chunk (parsed in
# milliseconds), and the chunks of 500 ordinary articles fit in a few files.
CHUNK_CHARS = 1_000_000
DATA_PLACEHOLDER = "__REPORT_DATA__"
SOURCES_PLACEHOLDER = "__REPORT_SOURCES__"
# The page's record of what it was built from: <meta name="report-sources" content="STAMP BUILD">.
SOURCES_META = re.compile(r'<meta name="report-sources" content="([0-9a-f]+) ([0-9a-f]+)">')
# Where the chunk file names come from: the folder of a build, and a temporary one being written.
BUILD_DIR = re.compile(r"[0-9a-f]{16}")
BUILD_TEMP = re.compile(r"\.build\..+\.tmp")
# A temporary build folder older than this is left over by a killed build (a running one is younger).
STALE_BUILD_SECONDS = 3600


class NotGrouped(Exception):
    """extractions.csv does not hold each article's rows together (a hand-edited file)."""


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


def inside(root: pathlib.Path, article: str, suffix: str) -> pathlib.Path | None:
    """root/<article><suffix> when it is a file inside root: an id like `../x` or `/x` never leaves it."""
    parts = pathlib.PurePosixPath(article.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        return None
    path = pathlib.Path(root) / f"{article}{suffix}"
    return path if path.is_file() else None


def read_clean(out_dir: pathlib.Path, article: str) -> str | None:
    """The cleaned text of an article, or None when missing or outside `clean/`."""
    path = inside(pathlib.Path(out_dir) / "clean", article, ".txt")
    return path.read_text(encoding="utf-8") if path else None


def read_gold(gold_dir: pathlib.Path | None, article: str) -> tuple[list[dict[str, str]] | None, str]:
    """The golden rows of an article (None when it has no golden file) and the SHA-256 of the file
    (empty without one): a verdict given on the page carries it (`golden accept --verdicts`)."""
    path = inside(gold_dir, article, ".csv") if gold_dir is not None else None
    return (read_csv(path), hashlib.sha256(path.read_bytes()).hexdigest()) if path else (None, "")


class RowLayout:
    """Where the columns the page reads are in a row of extractions.csv (from its header): rows
    are read as lists of cells, not dicts (a report reads every row of a run). Each row gets one
    empty cell more, at index `width`, where a column the file lacks is read ('' as
    `dict.get(column, "")` gives it)."""

    def __init__(self, header: list[str]):
        self.header, self.width = header, len(header)
        pos = {c: i for i, c in enumerate(header)}       # a repeated name: its last cell, as in a dict

        def at(column: str) -> int:
            return pos.get(column, self.width)
        self.article, self.kind, self.text, self.start, self.end = map(at, ("article", "kind", "text", "start", "end"))
        self.before = itemgetter(*map(at, ROW_COLUMNS[:_START]))          # the columns before start, end
        self.after = itemgetter(*map(at, ROW_COLUMNS[_START + 2:-1]))     # after them, status left out

    def row(self, cells: list[str]) -> list[str]:
        """A row of the file (as iter_cells gives it) with the empty cell at `width` added."""
        if len(cells) != self.width:
            cells = cells[:self.width]                   # a longer row: its extra cells are nobody's
        cells.append("")
        return cells

    def as_dict(self, cells: list[str]) -> dict[str, str]:
        """The row as iter_csv gives it (for the golden comparison)."""
        return dict(zip(self.header, cells))

    def offsets(self, cells: list[str]) -> tuple[int | None, int | None]:
        """(start, end) of a row as ints, None where empty or not a number."""
        return to_offset(cells[self.start]), to_offset(cells[self.end])


def row_cells(cells: list[str], start: int | None, end: int | None, layout: RowLayout, matched: bool | None,
              clean: str | None) -> list:
    """A produced row (its cells, its offsets) as the page gets it (ROW_COLUMNS). Its status is
    `match` or `unexpected` (empty without a golden file), plus `offset` when start/end miss its text."""
    status = "" if matched is None else ("match" if matched else "unexpected")
    if clean is not None and start is not None and end is not None and clean[start:end] != cells[layout.text]:
        status = (status + " offset").strip()
    return [*layout.before(cells), start, end, *layout.after(cells), status]


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


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def article_entry(meta: dict[str, str], rows: list[list[str]], offsets: list[tuple], layout: RowLayout,
                  clean: str | None, gold: list[dict[str, str]] | None,
                  left: list[leftovers.Leftover]) -> tuple[dict, dict]:
    """(index entry, chunk entry) of one article: what the index shows, and what its view needs.
    rows: the article's rows (RowLayout.row), offsets: (start, end) of each."""
    # by start offset, rows without one last; equal starts keep the file's order
    order = sorted(range(len(rows)), key=lambda i: (offsets[i][0] is None, offsets[i][0] or 0))
    produced_ok: list = [None] * len(rows)
    kinds = Counter(rows[i][layout.kind] for i in order)
    summary = {k: meta.get(k, "") for k in INDEX_FIELDS}
    summary.update(error=clip(meta.get("error", ""), INDEX_NOTE_CHARS),
                   warnings=clip(meta.get("warnings", ""), INDEX_NOTE_CHARS), gold=gold is not None,
                   counts=[kinds[k] for k in KINDS], rows=len(rows),
                   missed=0, unexpected=0, leftovers=len(left), prf={})
    detail = {"article": meta.get("article", ""), **{k: meta.get(k, "") for k in META_FIELDS},
              "text": clean, "missed": [], "left": [[x.start, x.end] for x in left]}
    if gold is not None:
        as_dicts = [layout.as_dict(rows[i]) for i in order]
        produced_ok, gold_ok = match_rows(as_dicts, gold)
        missed = [g for g, ok in zip(gold, gold_ok) if not ok]
        detail["missed"] = missed_cells(clean, as_dicts, produced_ok, missed)
        summary.update(missed=len(missed), unexpected=produced_ok.count(False),
                       prf=prf_counts(as_dicts, produced_ok, gold))
    detail["rows"] = [row_cells(rows[i], *offsets[i], layout, ok, clean) for i, ok in zip(order, produced_ok)]
    return summary, detail


# --- reading the outputs one article at a time -----------------------------------------------

def _runs(layout: RowLayout, cells):
    """(article, rows) for each run of consecutive rows of one article in extractions.csv
    (cells: the rows of iter_cells after the header)."""
    current, rows, at = None, [], layout.article
    for row in cells:
        row = layout.row(row)
        art = row[at]
        if rows and art != current:
            yield current, rows
            rows = []
        current = art
        rows.append(row)
    if rows:
        yield current, rows


def rows_by_article(runs, order: list[str], grouped: bool = True):
    """(article, rows) for each id of `order`, then for the articles only extractions.csv names
    (runs: `_runs` of the file).

    With `grouped`, extractions.csv is streamed: it holds each article's rows together, in the
    order of articles.csv (as `run` writes it), so only one article is in memory at a time
    (rows out of order are held until their turn). An article whose rows come back after it was
    given out raises NotGrouped; without `grouped`, the whole file is read first.
    """
    if not grouped:
        by: dict[str, list] = {}
        for art, rows in runs:
            by.setdefault(art, []).extend(rows)
        for art in order:
            yield art, by.pop(art, [])
        yield from by.items()
        return
    pos = {a: i for i, a in enumerate(order)}
    held, done = {}, set()
    nxt = next(runs, None)
    for i, art in enumerate(order):
        # take the runs of this article and of any article listed before it or not listed at all
        while nxt is not None and pos.get(nxt[0], -1) <= i:
            if nxt[0] in done:
                raise NotGrouped(nxt[0])
            held.setdefault(nxt[0], []).extend(nxt[1])
            nxt = next(runs, None)
        done.add(art)
        yield art, held.pop(art, [])
    while nxt is not None:
        if nxt[0] in done:
            raise NotGrouped(nxt[0])
        held.setdefault(nxt[0], []).extend(nxt[1])
        nxt = next(runs, None)
    yield from held.items()


def articles(out_dir: pathlib.Path, grouped: bool = True):
    """(layout of extractions.csv, iterator of (meta, rows) of every article): articles.csv gives
    the order and the meta; rows of an article missing there come last, with a meta of their own."""
    metas = list(iter_csv(out_dir / "articles.csv")) if (out_dir / "articles.csv").is_file() else []
    meta_of = {m.get("article", ""): m for m in metas}
    path = out_dir / "extractions.csv"
    cells = iter_cells(path) if path.is_file() else iter(())
    layout = RowLayout(next(cells, []))

    def each():
        for art, rows in rows_by_article(_runs(layout, cells), list(meta_of), grouped):
            yield meta_of.get(art, {"article": art, "status": "ok"}), rows
    return layout, each()


# --- writing ---------------------------------------------------------------------------------

class Chunks:
    """Chunk files `<n>.js` in a folder, each `REVIEW_CHUNK(n, [article data...]);`, with the
    digest of all their bytes (the build's name)."""

    def __init__(self, folder: pathlib.Path):
        self.folder, self.digest = folder, hashlib.sha256()
        self.parts: list[str] = []
        self.size, self.count = 0, 0

    def add(self, detail: dict) -> int:
        """Put one article's data in the current chunk; return the chunk's number."""
        part = embed_json(detail)
        if self.parts and self.size + len(part) > CHUNK_CHARS:
            self.flush()
        self.parts.append(part)
        self.size += len(part)
        return self.count

    def flush(self) -> None:
        if not self.parts:
            return
        data = f"REVIEW_CHUNK({self.count},[{','.join(self.parts)}]);\n".encode("utf-8", "backslashreplace")
        (self.folder / f"{self.count}.js").write_bytes(data)
        self.digest.update(data)
        self.parts, self.size, self.count = [], 0, self.count + 1


def embed_json(data) -> str:
    """JSON safe inside a `<script>` element: `<`, `>`, `&` and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def render(data: dict, sources: str) -> str:
    """The page: the template with the index data embedded once and its sources recorded."""
    template = resources.files(__package__).joinpath("report_template.html").read_text(encoding="utf-8")
    head, sep, tail = template.partition(DATA_PLACEHOLDER)
    assert sep and SOURCES_PLACEHOLDER in head, "report_template.html lacks a placeholder"
    return head.replace(SOURCES_PLACEHOLDER, sources) + embed_json(data) + tail


def data_folder(dest: pathlib.Path) -> pathlib.Path:
    """The folder of a page's chunks: report.html -> report-data/."""
    return dest.with_name(f"{dest.stem}-data")


def rule_places(rules: Rules) -> dict[str, str]:
    """Rule id -> `rules/<file>:<line>`, relative to the rules folder's parent (the same wherever run from)."""
    root = pathlib.Path(rules.dir)
    out = {}
    for r in rules.rules:
        try:
            where = (pathlib.Path(root.name) / pathlib.Path(r.file).relative_to(root)).as_posix()
        except ValueError:
            where = str(r.file)
        out[r.id] = f"{where}:{r.line}"
    return out


def sources_stamp(out_dir: pathlib.Path, gold_dir: pathlib.Path | None, rules: Rules) -> str:
    """A digest of everything a page is built from: the CSVs (size and time; the run that writes
    them writes the clean texts too), the golden folder's path and every file in it at any depth,
    the rules and the report code. A page whose stamp differs is rebuilt."""
    h = hashlib.sha256()

    def add(*parts) -> None:
        h.update("\0".join(map(str, parts)).encode("utf-8", "backslashreplace") + b"\n")

    for name in ("extractions.csv", "articles.csv"):
        p = pathlib.Path(out_dir) / name
        st = p.stat() if p.is_file() else None
        add(name, st.st_size if st else -1, st.st_mtime_ns if st else -1)
    if gold_dir is not None and pathlib.Path(gold_dir).is_dir():
        root = pathlib.Path(gold_dir).resolve()
        add("gold", root)
        for p in sorted(root.rglob("*")):
            if p.is_file():
                st = p.stat()
                add(p.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns)
    else:
        add("gold", None if gold_dir is None else pathlib.Path(gold_dir).resolve())
    add("rules", rules.digest, pathlib.Path(rules.dir).resolve())
    for name in ("report.py", "report_template.html", "leftovers.py"):
        h.update(pathlib.Path(__file__).with_name(name).read_bytes())
    return h.hexdigest()[:32]


def report_is_current(out_dir: pathlib.Path, gold_dir: pathlib.Path | None, rules: Rules | None = None,
                      dest: pathlib.Path | None = None) -> bool:
    """True when the page (out_dir/report.html or dest) was built from exactly the current sources
    (`sources_stamp`) and its chunks and leftovers.csv are there. A re-run that changed no output
    then need not rebuild a page that takes seconds on a big archive."""
    dest = pathlib.Path(dest) if dest is not None else pathlib.Path(out_dir) / "report.html"
    try:
        with open(dest, encoding="utf-8") as f:
            m = SOURCES_META.search(f.read(4096))
    except (OSError, UnicodeDecodeError):
        return False
    rules = rules or load_rules()
    return bool(m) and m.group(1) == sources_stamp(out_dir, gold_dir, rules) and \
        (data_folder(dest) / m.group(2)).is_dir() and (dest.parent / "leftovers.csv").is_file()


def index_data(out_dir: pathlib.Path, rules: Rules, build: str, dest: pathlib.Path, index: list[dict],
               chunks: int) -> dict:
    """What the page embeds: the schema it reads the chunks with, the index and where the chunks are."""
    return {"kinds": list(KINDS), "columns": list(ROW_COLUMNS), "gold_columns": list(GOLD_COLUMNS),
            "verdict_columns": VERDICT_COLUMNS, "text_columns": sorted(TEXT_COLUMNS),
            "formula_start": list(FORMULA_START), "plain_value": PLAIN_VALUE.pattern,
            "out_dir": str(out_dir), "store": str(pathlib.Path(out_dir).resolve()),
            "rules": rule_places(rules),
            "sentence": {"end": _article.SENTENCE_END.pattern, "max": rules.settings["max_sentence"],
                         "context": rules.settings["sentence_context"]},
            "rules_option": "" if pathlib.Path(rules.dir).resolve() == default_rules_dir().resolve()
            else str(rules.dir),
            "data_dir": f"{quote(data_folder(dest).name)}/{build}", "chunks": chunks, "articles": index}


def remove_old_builds(folder: pathlib.Path, keep: str) -> None:
    """Remove the builds of earlier pages and temporary folders left by killed builds."""
    for p in folder.iterdir():
        try:
            old = BUILD_DIR.fullmatch(p.name) and p.name != keep
            stale = BUILD_TEMP.fullmatch(p.name) and p.stat().st_mtime < time.time() - STALE_BUILD_SECONDS
            if p.is_dir() and not p.is_symlink() and (old or stale):
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def _build(out_dir: pathlib.Path, gold_dir: pathlib.Path | None, dest: pathlib.Path, rules: Rules,
           grouped: bool) -> pathlib.Path:
    folder = data_folder(dest)
    folder.mkdir(parents=True, exist_ok=True)
    sources = sources_stamp(out_dir, gold_dir, rules)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=".build.", suffix=".tmp", dir=folder))
    os.chmod(tmp, file_mode() | 0o111)      # a folder like any the user makes (mkdtemp's is 0700)
    left_csv = CsvStream(dest.parent / "leftovers.csv", list(LEFTOVER_COLUMNS))
    try:
        chunks, index = Chunks(tmp), []
        layout, each = articles(out_dir, grouped)
        for meta, rows in each:
            art = meta.get("article", "")
            clean = read_clean(out_dir, art)
            offsets = [layout.offsets(r) for r in rows]
            spans = [(s, e) for s, e in offsets if s is not None and e is not None]
            left = leftovers.find(clean, spans, rules) if clean is not None else []
            left_csv.write_lines(csv_lines(LEFTOVER_COLUMNS, leftovers.csv_rows(art, clean or "", left,
                                                                                rules.settings)))
            gold, gold_sha256 = read_gold(gold_dir, art)
            summary, detail = article_entry(meta, rows, offsets, layout, clean, gold, left)
            summary.update(chunk=chunks.add(detail), golden_sha256=gold_sha256)
            index.append(summary)
        chunks.flush()
        build = chunks.digest.hexdigest()[:16]
        final = folder / build
        if final.is_dir():            # the same bytes as this build: keep them
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, final)
        page = render(index_data(out_dir, rules, build, dest, index, chunks.count), f"{sources} {build}")
        atomic_write(dest, page.encode("utf-8", "backslashreplace"))
        left_csv.commit()
    except BaseException:
        left_csv.discard()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    remove_old_builds(folder, build)
    return dest


def write_report(out_dir: pathlib.Path, gold_dir: pathlib.Path | None = None,
                 dest: pathlib.Path | None = None, rules: Rules | None = None) -> pathlib.Path:
    """Build out_dir/report.html (or dest), its data folder and leftovers.csv beside it from the
    CSVs and clean texts in out_dir; return the page's path. `rules` (default: the default rules)
    give the number grammar of the leftovers and the rules' `file:line`."""
    out_dir = pathlib.Path(out_dir)
    dest = pathlib.Path(dest) if dest is not None else out_dir / "report.html"
    gold = pathlib.Path(gold_dir) if gold_dir is not None else None
    rules = rules or load_rules()
    try:
        return _build(out_dir, gold, dest, rules, grouped=True)
    except NotGrouped:               # a hand-edited extractions.csv: read it whole instead
        return _build(out_dir, gold, dest, rules, grouped=False)
