"""Turn a rule's match into a row's normalised fields (SPEC: Normalisation).

Each kind reads the named groups its rules write (see the header of each
`rules/<kind>.toml`; GROUPS below). A function returns the fields, or raises
Drop to drop the match with a reason (an invalid date, a relative date
without article year, a number that does not parse).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import regex

from .numbers import SCALES as NUMBER_SCALES
from .numbers import format_decimal, parse_number

# Scale words written after a number (10^12 for 万亿 and 兆, 1000 for 千 and 仟, ...): numbers.SCALES.
SCALES = {w: Decimal(v) for w, v in NUMBER_SCALES.items()}
BIG_UNITS = "万萬亿億兆"
# Blanks a spaced mention may hold (百 分 之 2.4, 新台币 177.1 亿元): dropped before parsing.
BLANKS = regex.compile(r"\s+")


class Drop(Exception):
    """The match is not a mention after all; the message says why (shown by explain)."""


@dataclass
class Context:
    """What a rule's interpretation may need beyond its match."""
    qualifiers: dict[str, dict[str, str]]   # list name -> word -> qualifier
    qualifier_order: list[str]
    currency: dict[str, str]
    relative_year: dict[str, str]
    article_year: int | None = None
    year_pivot: int = 50        # settings.toml [values] year_pivot: 08年 is 2008, 98年 1998
    article_month: int | None = None     # a bare day (13日) takes the article's month


def groups(m) -> dict[str, str]:
    """The match's named groups, "" for those that did not take part (and for any other name via .get)."""
    return m.groupdict("")


def _number(text: str) -> Decimal:
    """Value of a number with its own scale words; Drop if it is not a number."""
    text = BLANKS.sub("", text)
    if text in SCALES:          # 近百名: a bare 百/千/万 is a round number
        return SCALES[text]
    v = parse_number(text)
    if v is None:
        raise Drop(f"{text!r} is not a number")
    return v


def _carried_scale(lower: Decimal, upper_text: str, upper: Decimal) -> Decimal:
    """The scale a bare lower bound shares with the upper one (两到三万 -> 万): the trailing
    scale word of the upper bound that divides it exactly, longest first, and keeps
    lower x scale below the upper bound (一千到两千万 -> 万, not 千万; 十八至三十万 -> 万, not
    十万; 8500到3万 -> none). 1 when there is none."""
    for word, size in SCALES.items():
        if upper_text.endswith(word) and len(upper_text) > len(word):
            head = parse_number(upper_text[:-len(word)])
            if head is not None and head * size == upper and lower * size < upper:
                return size
    return Decimal(1)


def qualifier(g: dict[str, str], ctx: Context, pre="qpre", mids=("qmid", "qmid2"), post="qpost", lists=("qualifier_pre",
              "qualifier_mid", "qualifier_post")) -> str:
    """The mention's qualifier: every qualifier word found, the first of qualifier_order wins."""
    found = set()
    for group, lst in _qualifier_groups(pre, mids, post, lists):
        word = g.get(group, "")
        if word:
            q = ctx.qualifiers.get(lst, {}).get(word)
            if q:
                found.add(q)
    if not found:                   # most mentions have no qualifier word
        return ""
    for q in ctx.qualifier_order:
        if q in found:
            return q
    return ""


@lru_cache(maxsize=None)
def _qualifier_groups(pre: str, mids: tuple[str, ...], post: str, lists: tuple[str, str, str]) -> tuple:
    """(group, list name) of each group qualifier() reads, in order: built once per set of names."""
    return ((pre, lists[0]), *((g, lists[1]) for g in mids), (post, lists[2]))


def numeric(rule, m, ctx: Context) -> dict:
    """amount, count, percent, quantity: value (x scale), value_max, unit, qualifier."""
    g = groups(m)
    num, num2 = g.get("num", ""), g.get("num2", "")
    scale, scale2 = g.get("scale", ""), g.get("scale2", "")
    shared = _number(g["shared"]) if g.get("shared") else Decimal(1)   # 四五十: 十 scales both digits
    value = _number(num) * SCALES.get(scale, 1) * shared
    value_max = ""
    if num2:
        upper_text = BLANKS.sub("", num2 + scale2)
        upper = _number(num2) * SCALES.get(scale2, 1) * shared
        if not scale and not any(c in BIG_UNITS for c in num):
            # 两到三万: the bare lower bound shares the upper bound's scale
            value = value * _carried_scale(value, upper_text, upper)
        if upper <= value:
            raise Drop(f"range {num}..{num2} does not increase")
        value_max = format_decimal(upper)
    # sub-units of money: 五元三毛 (角/毛 x 0.1), 一角七分 (分 x 0.01), 两美元又三美分 (x 0.01)
    jiao, fen, cents = g.get("jiao", ""), g.get("fen", ""), g.get("cents", "")
    if jiao:
        value += _small(jiao) * Decimal("0.1")
    if fen:
        value += _small(fen) * Decimal("0.01")
    if cents:
        c = _small(cents)
        if not 0 < c < 100:
            raise Drop(f"{cents!r} cents is not below 100")
        value += c * Decimal("0.01")
    if g.get("bp"):                 # basis points: a hundredth of a percentage point
        value /= 100
        value_max = format_decimal(Decimal(value_max) / 100) if value_max else ""
    unit = rule.unit or g.get("unit", "")
    if rule.kind == "amount":
        unit = ctx.currency.get(unit, unit)
    return {"value": format_decimal(value), "value_max": value_max, "unit": unit,
            "qualifier": rule.qualifier or qualifier(g, ctx)}


def _small(text: str) -> int:
    """A month, day or quarter number, or a sub-unit digit: Arabic or Chinese up to 31."""
    text = BLANKS.sub("", text)
    if text.isdigit():
        return int(text)
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    v = parse_number(text)
    if v is None:
        raise Drop(f"{text!r} is not a number")
    return int(v)


def _year(text: str, pivot: int = 50) -> int:
    """A year: four digits or Chinese digits (二〇二三, 三六七), a number (两千零四), or two
    digits (08, 98, 零八, 九零), read as 20xx under `pivot` and 19xx from it on, as the
    peer suites and news write them (08年奥运会, 98年4月)."""
    text = BLANKS.sub("", text).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        year = int(text)
    elif any(c in "十百千" for c in text):
        v = parse_number(text)
        if v is None:
            raise Drop(f"{text!r} is not a year")
        return int(v)
    else:
        year = int("".join("0123456789"["〇一二三四五六七八九".index(c)] if c in "〇一二三四五六七八九" else
                           ("0" if c in "零○" else c) for c in text))
    if len(text) == 2:
        year += 2000 if year < pivot else 1900
    return year


def _iso(y: int | None, mo: int | None, d: int | None) -> str:
    import calendar
    if mo is not None and not 1 <= mo <= 12:
        raise Drop(f"month {mo}")
    if d is not None:
        last = calendar.monthrange(y if y is not None else 2000, mo)[1]   # 2000: Feb 29 allowed without year
        if not 1 <= d <= last:
            raise Drop(f"day {d} of month {mo}")
    if y is None:
        return f"--{mo:02d}-{d:02d}" if d is not None else f"--{mo:02d}"
    out = f"{y:04d}"
    if mo is not None:
        out += f"-{mo:02d}"
        if d is not None:
            out += f"-{d:02d}"
    return out


def date(rule, m, ctx: Context) -> dict:
    """date: ISO partial value, value_max for ranges, since/until."""
    g = groups(m)
    y = g.get("y", "")
    year = _year(y, ctx.year_pivot) if y else None
    rel = g.get("rel", "")
    if rel:
        if ctx.article_year is None:
            raise Drop(f"{rel!r} needs the article's year (no dated dateline)")
        year = ctx.article_year + int(ctx.relative_year.get(rel, "0"))
    mo, d = g.get("m", ""), g.get("d", "")
    q, q2, h = g.get("q", ""), g.get("q2", ""), g.get("h", "")
    month = _small(mo) if mo else None
    day = _small(d) if d else None
    if day is not None and month is None:           # a bare day (13日): the article's month (and year)
        if ctx.article_month is None:
            raise Drop(f"day {d!r} needs the article's month (no dated dateline or publication line)")
        month = ctx.article_month
    if year is None and (day is None or ctx.article_year is not None):
        # a yearless quarter, half, month or month range takes the article's year; a month-day
        # without one stays --MM-DD (SPEC: The article's own date)
        if ctx.article_year is None:
            raise Drop("no year (and no article's year to take)")
        year = ctx.article_year
    value_max = ""
    if q:
        value = f"{year:04d}-Q{_small(q)}"
    elif q2:
        value, value_max = f"{year:04d}-Q1", f"{year:04d}-Q{_small(q2.replace('两', '二'))}"
    elif h:
        value = f"{year:04d}-H{1 if h == '上' else 2}"
    else:
        value = _iso(year, month, day)
    y2, m2, d2 = g.get("y2", ""), g.get("m2", ""), g.get("d2", "")
    if y2 or m2 or d2:
        year2 = _year(y2, ctx.year_pivot) if y2 else year
        month2 = _small(m2) if m2 else (month if d2 else None)
        day2 = _small(d2) if d2 else None
        value_max = _iso(year2, month2, day2)
        if value_max <= value:
            raise Drop(f"range {value}..{value_max} does not increase")
    word_pre, word_post = g.get("dqpre", ""), g.get("dqpost", "")
    qual = (ctx.qualifiers.get("date_qualifier_post", {}).get(word_post)
            or ctx.qualifiers.get("date_qualifier_pre", {}).get(word_pre) or "")
    return {"value": value, "value_max": value_max, "unit": "", "qualifier": rule.qualifier or qual}


INTERPRET = {"amount": numeric, "count": numeric, "percent": numeric, "quantity": numeric, "date": date}

# The named groups each kind's interpretation reads (org: stages/orgs.py reads `name`). A rule's
# group outside these, and not referred to by the pattern itself ((?P=sep), (?(and)...)), is an
# error when the rules load: a misspelt name would silently read as empty.
NUMBER_GROUPS = frozenset({"num", "num2", "scale", "scale2", "unit", "jiao", "fen", "cents",
                           "qpre", "qmid", "qmid2", "qpost", "shared", "bp"})
DATE_GROUPS = frozenset({"y", "y2", "rel", "m", "m2", "d", "d2", "q", "q2", "h", "dqpre", "dqpost"})
GROUPS = {"amount": NUMBER_GROUPS, "count": NUMBER_GROUPS, "percent": NUMBER_GROUPS, "quantity": NUMBER_GROUPS,
          "date": DATE_GROUPS, "org": frozenset({"name"})}
# Groups a rule of the kind must have: without them every match is dropped.
REQUIRED_GROUPS = {"amount": ("num",), "count": ("num",), "percent": ("num",), "quantity": ("num",)}
