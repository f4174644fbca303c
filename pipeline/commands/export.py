"""`export --xlsx`: the tables of a run as one Excel workbook, a sheet per kind plus `articles`.

The sheets are the frames of `pipeline.load` (same columns, less the float
twins of the exact numbers): numbers are number cells (written from the
exact decimals, shown with thousands separators and all their decimals),
calendar days are date cells, the header row is frozen and has filters, and
columns are as wide as their contents (up to MAX_WIDTH). Text cells are made
spreadsheet-safe as in the CSVs (`outputs.neutralise`: a leading `'` before
`=`, `+`, `-`, `@`); characters a workbook cannot hold (control characters)
become U+FFFD, and a cell longer than Excel's limit is cut with `…`.

openpyxl is an optional extra (`pip install -e '.[xlsx]'`); without it the
command says so. The workbook is written whole to a temporary file and
renamed into place, like the CSVs.
"""
from __future__ import annotations

import io
import unicodedata
from decimal import Decimal
from pathlib import Path

from ..outputs import KINDS, atomic_write, neutralise

SHEETS = KINDS + ("articles",)
MAX_ROWS = 1_048_575             # Excel's rows per sheet, less the header
MAX_CELL = 32_767                # Excel's characters per cell
MAX_WIDTH = 60                   # column width cap (characters): a longer cell shows in part, whole when selected
WIDTH_SAMPLE = 2000              # rows looked at to size a column
DAY_FORMAT, TIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
INSTALL = "pip install -e '.[xlsx]'"


class ExportError(RuntimeError):
    """The workbook cannot be written; str() says why and what to do."""


def write_xlsx(out_dir: Path, path: Path) -> Path:
    """Write the workbook of the run in out_dir to path; return path."""
    try:
        import openpyxl  # noqa: F401  (pandas' engine)
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    except ImportError:
        raise ExportError(f"--xlsx needs openpyxl, an optional extra: {INSTALL}") from None
    import pandas as pd

    from ..tables import load
    t = load(out_dir)
    sheets = {name: sheet_frame(getattr(t, name), ILLEGAL_CHARACTERS_RE) for name in SHEETS}
    for name, (df, _) in sheets.items():
        if len(df) > MAX_ROWS:
            raise ExportError(f"sheet {name} would have {len(df):,} rows; Excel holds {MAX_ROWS:,} rows under "
                              f"the header: export a smaller run, or use the CSVs or `pipeline.load` in pandas")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, (df, numbers) in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False, freeze_panes=(1, 0))
            _lay_out(xw.sheets[name], df, numbers)
    atomic_write(Path(path), buf.getvalue())
    return Path(path)


def sheet_frame(df, illegal):
    """(the frame as its sheet shows it, its number columns): exact numbers in place of their float
    twins, text cells made safe."""
    from ..tables import EXACT
    df = df.copy()
    numbers = [c[:-len(EXACT)] for c in df.columns if c.endswith(EXACT)]
    for c in numbers:
        df[c] = df.pop(c + EXACT)                 # in the float column's place
    for c in df.columns:
        if c not in numbers and (df[c].dtype == object or str(df[c].dtype) in ("str", "string", "category")):
            df[c] = df[c].astype(object).map(lambda v: _safe(v, illegal) if isinstance(v, str) else v)
    return df, numbers


def _safe(v: str, illegal) -> str:
    v = neutralise(illegal.sub("\ufffd", v))
    return v if len(v) <= MAX_CELL else v[:MAX_CELL - 1] + "…"


def _lay_out(ws, df, numbers: list[str]) -> None:
    """Filters on the header, number and date-time formats, column widths."""
    from openpyxl.utils import get_column_letter

    from ..tables import DAY_COLUMNS, TIME_COLUMNS
    ws.auto_filter.ref = ws.dimensions
    for j, c in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        fixed = DAY_FORMAT if c in DAY_COLUMNS else TIME_FORMAT if c in TIME_COLUMNS else None
        if fixed:
            for (cell,) in ws.iter_rows(min_row=2, max_row=len(df) + 1, min_col=j, max_col=j):
                cell.number_format = fixed
        elif c in numbers:           # set here: pandas 2 writes a Decimal as text, pandas 3 as a number
            for (cell,), d in zip(ws.iter_rows(min_row=2, max_row=len(df) + 1, min_col=j, max_col=j), df[c]):
                cell.value = d
                if d is not None:
                    cell.number_format = _number_format(d)
        ws.column_dimensions[letter].width = _width(c, df[c])


def _number_format(d: Decimal) -> str:
    """Thousands separators and every decimal the value has: 12,600,000,000; 9.6; 0.0000005."""
    places = max(0, -d.normalize().as_tuple().exponent) if d.is_finite() else 0
    return "#,##0" + ("." + "0" * places if places else "")


def _width(name: str, s) -> float:
    """Characters to show the header and the widest of the first WIDTH_SAMPLE cells (CJK count two)."""
    import pandas as pd
    cells = [name] + [_shown(v) for v in s.head(WIDTH_SAMPLE) if not pd.isna(v)]
    return min(MAX_WIDTH, max(_display_width(v) for v in cells) + 2)


def _shown(v) -> str:
    if isinstance(v, Decimal):
        return f"{v:,f}"
    if hasattr(v, "strftime"):
        return "0000-00-00 00:00:00" if (v.hour or v.minute or v.second) else "0000-00-00"
    return str(v)


def _display_width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)
