"""A quantity in the one unit of its dimension: `value_base`, `unit_base` of a row.

Articles write the same dimension in many units (5万千瓦, 50兆瓦, 0.05吉瓦);
`rules/lists/quantity_unit.txt` gives each unit its base unit and factor
(`兆瓦 kW 1000`), so that `value_base = value × factor` compares across rows.
The arithmetic is decimal, never float: 8573.9 stays 8573.9. A product is
rounded to BASE_DIGITS significant digits, which keeps every exact factor
exact (a news figure has far fewer digits) and drops only the tail of a
factor that is itself cut (亩 = 2000/3 m², written 666.666666666666666667:
1.2万亩 -> 8000000, not 8000000.000000000000004).

Amounts are not converted: a value is already in its currency's unit (yuan
for CNY) and keeps its currency (no exchange rates), so only quantity rows
get a base.
"""
from __future__ import annotations

import decimal
from decimal import Decimal
from functools import lru_cache

from .numbers import format_decimal

# Significant digits of value × factor (see the docstring: more than any exact product of a news figure).
BASE_DIGITS = 20
LIST_NAME = "quantity_unit"          # rules/lists/quantity_unit.txt: `unit base_unit factor`
FORMAT = "a line is `unit base_unit factor`, e.g. `兆瓦 kW 1000`"


def problems(rows: list[list[str]], where: str) -> list[str]:
    """What is wrong with the factor table's rows (each unit needs a base unit and a positive decimal factor)."""
    out = []
    for row in rows:
        if len(row) != 3:
            out.append(f"{where}: {' '.join(row)!r}: {len(row)} column(s); {FORMAT}")
            continue
        try:
            factor = Decimal(row[2])
        except decimal.InvalidOperation:
            out.append(f"{where}: {row[0]}: factor {row[2]!r} is not a decimal number; {FORMAT}")
            continue
        if not factor.is_finite() or factor <= 0:
            out.append(f"{where}: {row[0]}: factor {row[2]!r} must be a positive number; {FORMAT}")
    return out


@lru_cache(maxsize=8)
def _table(rows: tuple[tuple[str, ...], ...]) -> dict[str, tuple[str, Decimal]]:
    table = {}
    for row in rows:
        if not problems([list(row)], ""):
            table[row[0]] = (row[1], Decimal(row[2]))
    return table


def factors(rows: list[list[str]]) -> dict[str, tuple[str, Decimal]]:
    """unit -> (base unit, factor) from the rows of quantity_unit.txt (rows with problems left out;
    `problems` reports them when the rules load)."""
    return _table(tuple(tuple(r) for r in rows))


def to_base(value: str, unit: str, table: dict[str, tuple[str, Decimal]]) -> tuple[str, str]:
    """(`value_base`, `unit_base`) of a quantity's plain-decimal value in `unit`; empty when the unit
    has no factor or the value is no number.

    >>> to_base("500000", "千瓦", {"千瓦": ("kW", Decimal(1)), "兆瓦": ("kW", Decimal(1000))})
    ('500000', 'kW')
    >>> to_base("12000", "亩", {"亩": ("m²", Decimal("666.666666666666666667"))})
    ('8000000', 'm²')
    """
    entry = table.get(unit)
    if entry is None or not value:
        return "", ""
    base, factor = entry
    try:
        v = Decimal(value)
    except decimal.InvalidOperation:
        return "", ""
    if not v.is_finite():
        return "", ""
    with decimal.localcontext(prec=BASE_DIGITS, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN):
        return format_decimal(v * factor), base
