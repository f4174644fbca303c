"""Stage 6, write: CSVs and clean texts, atomically, byte-identical on a re-run.

All CSVs are UTF-8 with BOM (Excel and WPS then open Chinese correctly),
fixed column order, rows ordered by article then start. Every file is
written to a temporary file in the same folder and renamed into place, so a
run killed at any moment leaves the previous file whole.

Spreadsheet safety (OWASP CSV injection): a text cell that starts with
`=`, `+`, `-`, `@`, a tab or a CR gets a leading `'` so Excel and WPS show it
as text instead of running it; `value`, `value_max` and offsets are never
touched (they are numbers or ISO dates we wrote ourselves).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

# Columns that hold text taken from the article (or derived from it).
TEXT_COLUMNS = {"text", "sentence", "title", "source", "reporter", "editor", "error", "warnings", "article"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def csv_bytes(columns: list[str], rows) -> bytes:
    """The CSV (BOM, header, LF line ends) of rows, text columns neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([neutralise(row.get(c, "")) if c in TEXT_COLUMNS else row.get(c, "") for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def atomic_write(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_clean_text(out_dir: Path, article: str, text: str) -> None:
    atomic_write(out_dir / "clean" / f"{article}.txt", text.encode("utf-8"))
