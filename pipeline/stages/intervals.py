"""The calendar days an ISO partial date covers: `date_from`, `date_to` of a row.

A date row's `value` (`2024-Q1`, `2023-H2`, `2022-03`, `2018`) is a span of
days, not a day, and spreadsheets and pandas misread most of these shapes
(`2024-Q1` parses as nothing, `2023-03` as NaT beside a bare year). The
interval makes every date comparable: `2024-Q1` -> 2024-01-01..2024-03-31, a
range `2016`..`2020` -> 2016-01-01..2020-12-31. A qualifier opens one side:
`until` (截至2023年底) keeps only the end, `since` (2018年以来) only the start.
A date without a year (`--10-25`) covers no known day: both sides empty.

The same function gives a figure's `period`..`period_max` its days (called
with no qualifier: a figure's qualifier is about the number, not the time).
"""
from __future__ import annotations

import calendar
import datetime
from functools import lru_cache

import regex

# The ISO partial dates of SPEC "date" that carry a year: YYYY, YYYY-MM, YYYY-MM-DD,
# a quarter YYYY-Qn and a half YYYY-Hn. A yearless --MM-DD / --MM does not match: it has no days.
ISO_PARTIAL = regex.compile(r"(?P<y>[0-9]{4})(?:-(?:Q(?P<q>[1-4])|H(?P<h>[12])|(?P<m>[0-9]{2})(?:-(?P<d>[0-9]{2}))?))?")


def days(iso: str) -> tuple[datetime.date, datetime.date] | None:
    """First and last day of one ISO partial date, or None when it has no year or is no calendar date.

    >>> days("2023-H2")
    (datetime.date(2023, 7, 1), datetime.date(2023, 12, 31))
    >>> days("--10-25") is None, days("2023-02-30") is None
    (True, True)
    """
    m = ISO_PARTIAL.fullmatch(iso or "")
    if not m:
        return None
    y = int(m["y"])
    if y == 0:                                    # no year 0 in the calendar datetime knows
        return None
    if m["q"]:
        first = 3 * int(m["q"]) - 2
        months = (first, first + 2)
    elif m["h"]:
        months = (1, 6) if m["h"] == "1" else (7, 12)
    elif m["m"]:
        months = (int(m["m"]),) * 2
    else:
        months = (1, 12)
    if not all(1 <= mo <= 12 for mo in months):
        return None
    last = calendar.monthrange(y, months[1])[1]
    if m["d"]:
        d = int(m["d"])
        if not 1 <= d <= last:
            return None
        return datetime.date(y, months[0], d), datetime.date(y, months[0], d)
    return datetime.date(y, months[0], 1), datetime.date(y, months[1], last)


@lru_cache(maxsize=4096)
def interval(value: str, value_max: str = "", qualifier: str = "") -> tuple[str, str]:
    """(`date_from`, `date_to`): the first day of `value` and the last of `value_max` (or of `value`
    when there is no upper bound), as `YYYY-MM-DD`; a side is empty when its bound has no year,
    and `until` / `since` leave the start / the end open.

    >>> interval("2024-Q1", "2024-Q3")
    ('2024-01-01', '2024-09-30')
    >>> interval("2023", "", "until"), interval("2018", "", "since")
    (('', '2023-12-31'), ('2018-01-01', ''))

    Cached: most rows have no period, and the dates of an article repeat (2023, 2024-Q1).
    """
    lo = days(value)
    hi = days(value_max) if value_max else lo
    date_from = lo[0].isoformat() if lo else ""
    date_to = hi[1].isoformat() if hi else ""
    if qualifier == "until":
        date_from = ""
    elif qualifier == "since":
        date_to = ""
    return date_from, date_to
