"""The output files, in one place: their columns, how they are written, how they are read back.

Every module that writes or reads `extractions.csv`, `articles.csv`, a golden
file or a clean text goes through here: the schema (KINDS and the column
lists), the rendering of rows as CSV lines (done by the workers), the
streamed and the atomic writers, and `read_csv`, the exact inverse.

All CSVs are UTF-8 with BOM (Excel and WPS then open Chinese correctly),
fixed column order, rows ordered by article then start. Every file is
written to a temporary file in the same folder (`.<name>.<random>.tmp`) and
renamed into place, so a run killed at any moment, SIGKILL included, leaves
the previous file whole: a reader sees the old bytes or the new ones, never
a mix. A temporary file left by a killed run is removed by the next
complete run (`sweep_temp_files`).

Spreadsheet safety (OWASP CSV injection): a cell that starts with `=`, `+`,
`-`, `@`, a tab or a CR gets a leading `'` so Excel and WPS show it as text
instead of running it (`'` + a cell that would be read back as neutralised
gets one too, so `unneutralise` restores every cell exactly). Plain numbers
(`-12.6`) and ISO dates (`--07-24`) are left alone: they are values we wrote
ourselves, and `value` must stay a number.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# --- the schema ---------------------------------------------------------------

KINDS = ("amount", "count", "percent", "quantity", "date", "org")
FIGURE_KINDS = ("amount", "count", "percent", "quantity")      # the kinds that carry a context

# extractions.csv: the mention, its value, the context of a figure (SPEC "Context of a figure"),
# the value in a common unit and the calendar interval of its date or period, offsets, provenance.
EXTRACTION_COLUMNS = ["article", "kind", "text", "value", "value_max", "unit", "qualifier", "category",
                      "indicator", "entity", "period", "period_max", "change",
                      "value_base", "unit_base", "date_from", "date_to",
                      "start", "end", "raw_start", "raw_end", "sentence", "rule"]
ARTICLE_COLUMNS = ["article", "title", "source", "reporter", "editor", "date", "published", "chars"] + \
                  [f"n_{k}" for k in KINDS] + ["status", "error", "warnings"]
# Golden files: what a person checked (no offsets, no rule id, nothing derived from other columns).
GOLD_COLUMNS = ["article", "kind", "text", "value", "value_max", "unit", "qualifier", "category",
                "indicator", "entity", "period", "period_max", "change"]
CONTEXT_COLUMNS = ["indicator", "entity", "period", "period_max", "change"]
# leftovers.csv: every number of the cleaned text that no row covers (commands/leftovers.py).
LEFTOVER_COLUMNS = ["article", "text", "next_word", "start", "end", "sentence"]
# verdicts.csv, exported by the review page (report_template.html builds it from this list) and read
# by `golden accept --verdicts`: a reviewer's right/wrong per row, and the mentions they added, each
# with the SHA-256 of the golden file the page compared with then (empty: none), so that a verdict is
# applied to that version only, once.
VERDICTS = ("right", "wrong", "added")
VERDICT_COLUMNS = ["article", "verdict"] + GOLD_COLUMNS[1:] + ["start", "end", "rule", "golden_sha256"]

# Columns whose cells may hold text from the article, its path or its file: neutralised.
TEXT_COLUMNS = {"text", "sentence", "title", "source", "reporter", "editor", "error", "warnings", "article",
                "value", "value_max", "unit", "date", "indicator", "entity", "period", "period_max",
                "unit_base", "published", "next_word"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Cells that start like a formula but are plain values we wrote: a signed decimal, an ISO month-day.
PLAIN_VALUE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|--[0-9]{2}-[0-9]{2}")
# Temporary files of atomic_write and of the streamed CSVs: `.<name>.<random>.tmp`.
TEMP_FILE = re.compile(r"\..+\.[A-Za-z0-9_]+\.tmp")
# Longest file name most file systems take, in bytes; a temporary name is cut to fit in it.
NAME_MAX = 255
# The most characters a spreadsheet shows in a cell (Excel: 32,767); longer cells are cut, marked with ….
MAX_CELL = 32767
# Cells of articles.csv taken from the article's header or tail lines (a byline without end can run on
# for pages): cut like the title.
META_COLUMNS = ("title", "source", "reporter", "editor")
MAX_META = 200


def _needs_quote(s: str) -> bool:
    """Starts like a formula (after any `'`s, so that unneutralise is exact) and is not a plain value."""
    t = s.lstrip("'")
    return t.startswith(FORMULA_START) and not PLAIN_VALUE.fullmatch(t)


def neutralise(value) -> str:
    """A cell a spreadsheet will not run as a formula.

    >>> neutralise("=HYPERLINK(\\"x\\")"), neutralise("-12.6%"), neutralise("-12.6"), neutralise("'=1")
    ('\\'=HYPERLINK("x")', "'-12.6%", '-12.6', "''=1")
    """
    s = "" if value is None else str(value)
    return "'" + s if _needs_quote(s) else s


def unneutralise(cell: str) -> str:
    """The cell as it was before `neutralise` (one leading `'` dropped where neutralise added it)."""
    return cell[1:] if cell.startswith("'") and _needs_quote(cell[1:]) else cell


def csv_bytes(columns: list[str], rows) -> bytes:
    """The CSV (BOM, header, LF line ends) of rows, text columns neutralised."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(columns)
    return ("\ufeff" + header.getvalue()).encode("utf-8", "backslashreplace") + csv_lines(columns, rows)


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write data to path through a temporary file in the same folder and a rename.

    Readers see the old file or the new one, never a part. With `durable`, the
    data and the rename are fsynced (the CSVs); clean texts skip that (one
    `os.sync()` at the end of a run is far cheaper than one fsync per file).
    Files get mode 0644 like any file a user writes (mkstemp's default is 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)


def temp_prefix(name: str) -> str:
    """`.<name>.` for the temporary file of `name`, the name cut so that the whole temporary name
    (prefix, 8 random characters, `.tmp`) fits in NAME_MAX bytes: a file whose own name fits can be written."""
    room = NAME_MAX - len(".") - len(".") - 8 - len(".tmp")
    while len(name.encode("utf-8", "surrogateescape")) > room:
        name = name[:-1]
    return f".{name}."


_FILE_MODE: list[int] = []


def file_mode() -> int:
    """Mode of every output file: 0644 less the user's umask, as for a file the user writes.

    Read once, at the first write (reading the umask means setting it: never at import)."""
    if not _FILE_MODE:
        mask = os.umask(0o22)
        os.umask(mask)
        _FILE_MODE.append(0o644 & ~mask)
    return _FILE_MODE[0]


def _fsync_dir(folder: Path) -> None:
    """Make a rename in folder durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_temp_file(path: Path) -> bool:
    """True for a temporary file of atomic_write or a streamed CSV (`.<name>.<random>.tmp`)."""
    return bool(TEMP_FILE.fullmatch(Path(path).name))


def sweep_temp_files(out_dir: Path, older_than: float | None = None) -> list[Path]:
    """Remove temporary files left in out_dir (and clean/) by killed runs; return them.

    Only files last written before `older_than` (a time.time() value; default:
    an hour ago) are removed, so a run still going in the same folder keeps its own.
    Call it after a complete run with that run's start time.
    """
    limit = time.time() - 3600 if older_than is None else older_than
    out_dir = Path(out_dir)
    found = [p for p in out_dir.glob(".*.tmp")]
    clean = out_dir / "clean"
    if clean.is_dir():
        found += clean.rglob(".*.tmp")
    removed = []
    for p in found:
        try:
            if is_temp_file(p) and p.is_file() and not p.is_symlink() and p.stat().st_mtime < limit:
                p.unlink()
                removed.append(p)
        except OSError:
            pass
    return sorted(removed)


# --- rendering rows (in the workers) and streaming them (in the main process) ----------------

# The first characters of a string cell that neutralise may quote (FORMULA_START, and `'`):
# a text cell starting otherwise is written as it is, without a call.
MAY_QUOTE = frozenset(FORMULA_START) | {"'"}


def csv_lines(columns: list[str], rows) -> bytes:
    """The CSV lines of rows, exactly as `csv_bytes` writes them (UTF-8, LF ends, text columns
    neutralised, a stray surrogate backslash-escaped)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    text = [i for i, c in enumerate(columns) if c in TEXT_COLUMNS]
    empty = [""] * len(columns)
    for row in rows:
        cells = list(map(row.get, columns, empty))      # row.get(column, "") for each column
        for i in text:
            v = cells[i]
            if v.__class__ is not str or v[:1] in MAY_QUOTE:     # else neutralise(v) is v
                cells[i] = neutralise(v)
        w.writerow(cells)
    return buf.getvalue().encode("utf-8", "backslashreplace")


@dataclass
class Rendered:
    """An article's result as the outputs hold it: what the main process writes and the cache keeps.

    Bytes, as they go into the files: no encoding or decoding in the main process."""
    article: str
    ok: bool
    extractions: bytes          # its lines of extractions.csv (rows, in order of start)
    article_line: bytes         # its line of articles.csv (meta, counts, status, error, warnings)
    clean: bytes                # clean/<article>.txt, UTF-8 (status ok only)
    kinds: dict[str, int]       # rows per kind, for the summary


def clip_cell(value, limit: int = MAX_CELL):
    """value, or its first `limit` characters and … when it is a longer string."""
    return value[:limit] + "…" if isinstance(value, str) and len(value) > limit else value


def article_line(row: dict) -> bytes:
    """The line of articles.csv of one article row: header and tail cells cut to MAX_META characters,
    every other cell to MAX_CELL, so a spreadsheet shows each whole."""
    row = {k: clip_cell(v, MAX_META if k in META_COLUMNS else MAX_CELL) for k, v in row.items()}
    return csv_lines(ARTICLE_COLUMNS, [row])


def render(res) -> Rendered:
    """The Rendered form of an `article.ArticleResult`."""
    kinds: dict[str, int] = {}
    for r in res.rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    return Rendered(res.article, res.status == "ok", csv_lines(EXTRACTION_COLUMNS, res.rows),
                    article_line(res.article_row()), res.clean_text.encode("utf-8"), kinds)


class CsvStream:
    """A CSV written piece by piece to a temporary file beside `path`, renamed into place by `commit`.

    Same bytes as `csv_bytes(columns, rows)` of all the rows written:
    BOM, header, LF line ends, text columns neutralised.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        fd, self.tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
        self.f = os.fdopen(fd, "wb")
        self.f.write(csv_bytes(columns, []))

    def write(self, row: dict) -> None:
        self.f.write(csv_lines(self.columns, [row]))

    def write_lines(self, lines: bytes) -> None:
        """Lines rendered by `csv_lines` for the same columns."""
        self.f.write(lines)

    def commit(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.chmod(self.tmp, file_mode())           # mkstemp makes 0600; outputs are ordinary files
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        try:
            self.f.close()
        except OSError:                 # a full disk fails the flush too; the file goes anyway
            pass
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


# --- reading back ------------------------------------------------------------------

class CsvReadError(ValueError):
    """An output or golden CSV that cannot be read back; str() says which and what to do."""


def iter_csv(path: Path):
    """Rows of one of our CSVs (outputs or golden files), one at a time, cells exactly as the
    pipeline produced them: spreadsheet quoting undone in every column. A file that is not UTF-8
    (re-saved from a spreadsheet as GBK, say) raises CsvReadError naming it."""
    cells = iter_cells(path)
    header = next(cells, [])
    for row in cells:
        yield dict(zip(header, row))


def iter_cells(path: Path):
    """The header of one of our CSVs, then each row as a list of cells (what `iter_csv` makes a
    dict of: spreadsheet quoting undone, a short row padded with empty cells, blank lines
    skipped). For readers of many rows that need no dict per row (the report)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            yield header
            width = len(header)
            for cells in reader:
                if not cells:
                    continue                                     # a blank line, as csv.DictReader skips it
                if len(cells) < width:
                    cells += [""] * (width - len(cells))         # a short row: the missing cells empty
                # only a cell starting with ' can be neutralised, and a row holds one only if its cells
                # joined by line ends start with ' or hold a line end and ': the rest are taken as they are
                joined = "\n".join(cells)
                if joined[:1] == "'" or "\n'" in joined:
                    cells = [unneutralise(c) if c[:1] == "'" else c for c in cells]
                yield cells
    except UnicodeDecodeError as e:
        raise CsvReadError(f"{path} is not UTF-8 (byte 0x{e.object[e.start]:02x} at {e.start}): was it saved "
                           f"from a spreadsheet? Save it as 'CSV UTF-8', or run the pipeline again to rewrite it")\
            from None


def read_csv(path: Path) -> list[dict]:
    """Every row of one of our CSVs (`iter_csv`)."""
    return list(iter_csv(path))
