"""Stage 6, write: CSVs and clean texts, atomically, byte-identical on a re-run.

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
from pathlib import Path

# Columns whose cells may hold text from the article, its path or its file: neutralised.
TEXT_COLUMNS = {"text", "sentence", "title", "source", "reporter", "editor", "error", "warnings", "article",
                "value", "value_max", "unit", "date"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Cells that start like a formula but are plain values we wrote: a signed decimal, an ISO month-day.
PLAIN_VALUE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|--[0-9]{2}-[0-9]{2}")
# Temporary files of atomic_write and of the streamed CSVs: `.<name>.<random>.tmp`.
TEMP_FILE = re.compile(r"\..+\.[A-Za-z0-9_]+\.tmp")


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
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([neutralise(row.get(c, "")) if c in TEXT_COLUMNS else row.get(c, "") for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8", "backslashreplace")


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write data to path through a temporary file in the same folder and a rename.

    Readers see the old file or the new one, never a part. With `durable`, the
    data and the rename are fsynced (the CSVs); clean texts skip that (one
    `os.sync()` at the end of a run is far cheaper than one fsync per file).
    Files get mode 0644 like any file a user writes (mkstemp's default is 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Mode of every output file: 0644 less the user's umask, as for a file the user writes.
FILE_MODE = 0o644 & ~_current_umask()


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


def write_clean_text(out_dir: Path, article: str, text: str) -> None:
    atomic_write(out_dir / "clean" / f"{article}.txt", text.encode("utf-8"))


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
