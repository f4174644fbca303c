"""The outputs of a run as typed pandas tables: one DataFrame per kind, and the articles.

`extractions.csv` is one table of text cells for every kind, so every analysis
would start by splitting it and parsing `value` (a number, an ISO partial date
or a name, by kind). `load` does that once, the same way for everybody:

- one frame per kind (`amount`, `count`, `percent`, `quantity`, `date`,
  `org`), with the columns that kind fills, each joined with its article's
  `title`, `source` and `article_date`; and `articles`;
- numbers as float64 for arithmetic (`value`, `value_max`, `value_base`),
  each with a `…_exact` column beside it holding the CSV's decimal as a
  `decimal.Decimal` (a float has 15-16 significant digits and no exact
  tenths: sums of money that must be exact use these);
- calendar days as datetimes (`date_from`, `date_to`, `article_date`;
  `published` with its time); an ISO partial date (`2024-Q1`, `--10-25`) is no
  single day, so a date's `value`, a figure's `period` and an article's
  `date` stay the CSV's text, their days are in `date_from`/`date_to`;
- columns of a small vocabulary as categoricals (`unit`, `qualifier`,
  `category`, `change`, `unit_base`, `rule`, `source`, `status`), offsets and
  counts as nullable integers (Int64), the rest as strings (pandas' `str`
  dtype, `string` under pandas 2);
- an empty cell is a missing value (NaN, NaT, <NA>): an empty `qualifier`
  (exact) and an empty `change` (not a change) included.

The CSVs are read with `outputs.read_csv`, so spreadsheet quoting is undone:
a cell is exactly what the pipeline extracted. pandas is imported here, and
this module only when `pipeline.load` is first called.
"""
from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from .outputs import FIGURE_KINDS, KINDS, read_csv
from .stages.intervals import interval

EXTRACTIONS, ARTICLES = "extractions.csv", "articles.csv"
NUMBER_COLUMNS = ("value", "value_max", "value_base")         # numbers on figure rows (text on date/org rows)
EXACT = "_exact"                                              # suffix of a number's Decimal column
DAY_COLUMNS = ("date_from", "date_to", "article_date")     # calendar days (article_date: joined, not read)
TIME_COLUMNS = ("published",)
INT_COLUMNS = ("start", "end", "raw_start", "raw_end", "chars") + tuple(f"n_{k}" for k in KINDS)
CATEGORY_COLUMNS = ("unit", "qualifier", "category", "change", "unit_base", "rule", "source", "status")
# Columns a kind never fills (SPEC): left out of its frame. `kind` is the frame itself.
NOT_FILLED = {
    "amount": ("category", "value_base", "unit_base"),
    "count": ("category", "value_base", "unit_base"),
    "percent": ("category", "value_base", "unit_base"),
    "quantity": ("category",),
    "date": ("unit", "category", "indicator", "entity", "period", "period_max", "change", "value_base",
             "unit_base"),
    "org": ("value_max", "unit", "qualifier", "indicator", "entity", "period", "period_max", "change",
            "value_base", "unit_base", "date_from", "date_to"),
}


class TablesError(ValueError):
    """Outputs that cannot be loaded; str() names the file and what to do."""


@dataclass
class Tables:
    """The typed tables of one outputs folder (see the module docstring for the types)."""
    amount: pd.DataFrame
    count: pd.DataFrame
    percent: pd.DataFrame
    quantity: pd.DataFrame
    date: pd.DataFrame
    org: pd.DataFrame
    articles: pd.DataFrame

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} {len(getattr(self, k))}" for k in KINDS + ("articles",))
        return f"Tables({sizes})"


def load(out_dir: str | Path = "outputs") -> Tables:
    """The typed tables of the run whose CSVs are in out_dir (`extractions.csv`, `articles.csv`)."""
    out_dir = Path(out_dir)
    rows = {name: _read(out_dir / name) for name in (EXTRACTIONS, ARTICLES)}
    articles = _articles(rows[ARTICLES], out_dir / ARTICLES)
    joined = articles[["article", "title", "source"]].assign(article_date=articles["date_from"])
    by_kind: dict[str, list[dict]] = {k: [] for k in KINDS}
    for r in rows[EXTRACTIONS]:
        by_kind.setdefault(r.get("kind", ""), []).append(r)
    unknown = {k: len(v) for k, v in by_kind.items() if k not in KINDS}
    if unknown:
        warnings.warn(f"{out_dir / EXTRACTIONS}: rows of no known kind left out: {unknown} "
                      f"(was the file edited?)", stacklevel=2)
    columns = _columns(out_dir / EXTRACTIONS)
    frames = {k: _kind(k, by_kind[k], columns, joined, out_dir / EXTRACTIONS) for k in KINDS}
    return Tables(**frames, articles=articles)


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        raise TablesError(f"{path} not found: run `python -m pipeline run --out {path.parent}` first")
    return read_csv(path)


def _columns(path: Path) -> list[str]:
    """The columns of the file, from its header (an older run's file may have fewer)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def _kind(kind: str, rows: list[dict], columns: list[str], joined: pd.DataFrame, path: Path) -> pd.DataFrame:
    keep = [c for c in columns if c != "kind" and c not in NOT_FILLED[kind]]
    df = pd.DataFrame(rows, columns=keep, dtype=object)
    numbers = NUMBER_COLUMNS if kind in FIGURE_KINDS else ()
    df = _typed(df, path, numbers)
    return df.merge(joined, on="article", how="left", validate="many_to_one")


def _articles(rows: list[dict], path: Path) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=_columns(path), dtype=object)
    if "date" in df:
        spans = [interval(d) for d in df["date"]]
        at = df.columns.get_loc("date") + 1
        df.insert(at, "date_to", [s[1] for s in spans])
        df.insert(at, "date_from", [s[0] for s in spans])
    return _typed(df, path, ())


def _typed(df: pd.DataFrame, path: Path, numbers: tuple[str, ...]) -> pd.DataFrame:
    """Each column in its type (module docstring); a cell that is not of it names the file and row."""
    out = {}
    for c in df.columns:
        cells = df[c]
        if c in numbers:
            exact = pd.Series([_decimal(v, c, i, path) for i, v in enumerate(cells)], index=df.index, dtype=object)
            out[c] = pd.Series([np.nan if d is None else float(d) for d in exact], index=df.index, dtype="float64")
            out[c + EXACT] = exact
        elif c in DAY_COLUMNS:
            out[c] = _days(cells, c, path)
        elif c in TIME_COLUMNS:
            out[c] = _times(cells, c, path)
        elif c in INT_COLUMNS:
            out[c] = pd.array([_int(v, c, i, path) for i, v in enumerate(cells)], dtype="Int64")
        elif c in CATEGORY_COLUMNS:
            out[c] = _missing(cells).astype("category")
        else:
            out[c] = _missing(cells).astype(STRING)
    return pd.DataFrame(out, index=df.index)


# Strings: pandas 3's "str" dtype (missing: NaN); under pandas 2 "string" (missing: <NA>), so that
# `.str` works on a column with no text at all (an object column of NaN has no `.str`).
STRING = "str" if int(pd.__version__.split(".")[0]) >= 3 else "string"


def _missing(cells: pd.Series) -> pd.Series:
    """Empty cells as NaN."""
    return cells.where(cells != "")


def _where(path: Path, column: str, i: int) -> str:
    return f"{path}: row {i + 2}, column {column}"          # +2: the header is line 1, rows count from 0


def _decimal(v: str, column: str, i: int, path: Path) -> Decimal | None:
    if v == "":
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        raise TablesError(f"{_where(path, column, i)}: {v!r} is not a number (was the file edited? "
                          f"run the pipeline again to rewrite it)")
    return d


def _int(v: str, column: str, i: int, path: Path) -> int | None:
    if v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise TablesError(f"{_where(path, column, i)}: {v!r} is not a whole number") from None


def _days(cells: pd.Series, column: str, path: Path) -> pd.Series:
    """YYYY-MM-DD cells as datetime64[s] (second resolution: any year fits, not only 1677-2262)."""
    try:
        days = np.array([v if v else "NaT" for v in cells], dtype="datetime64[D]")
    except ValueError:
        bad = next(i for i, v in enumerate(cells) if v and not _is_day(v))
        raise TablesError(f"{_where(path, column, bad)}: {cells.iloc[bad]!r} is not a YYYY-MM-DD date") from None
    return pd.Series(days.astype("datetime64[s]"), index=cells.index)


def _is_day(v: str) -> bool:
    try:
        np.datetime64(v, "D")
        return len(v) == 10
    except ValueError:
        return False


def _times(cells: pd.Series, column: str, path: Path) -> pd.Series:
    """ISO 8601 date-times; a cell of another shape becomes NaT with a warning naming the file."""
    given = _missing(cells)
    times = pd.to_datetime(given, format="ISO8601", errors="coerce")
    lost = given.notna() & times.isna()
    if lost.any():
        i = int(np.flatnonzero(lost.to_numpy())[0])
        warnings.warn(f"{_where(path, column, i)}: {cells.iloc[i]!r} is not an ISO 8601 date-time; "
                      f"{int(lost.sum())} such cell(s) are NaT in the table", stacklevel=3)
    return times
