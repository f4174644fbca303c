"""Turn a rule's match into a row's normalised fields (SPEC: Normalisation).

Each kind reads the named groups its rules write (see the header of each
`rules/<kind>.toml`). A function returns the fields, or None to drop the
match with a reason (an invalid date, a relative date without article year,
a number that does not parse).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .numbers import format_decimal, parse_number

SCALES = {"万亿": Decimal(10) ** 12, "千万": Decimal(10) ** 7, "百万": Decimal(10) ** 6, "十万": Decimal(10) ** 5,
          "亿": Decimal(10) ** 8, "万": Decimal(10) ** 4, "千": Decimal(1000), "百": Decimal(100),
          "萬億": Decimal(10) ** 12, "億": Decimal(10) ** 8, "萬": Decimal(10) ** 4}
CN_SMALL = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


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


def _g(m, name: str) -> str:
    try:
        return m.group(name) or ""
    except IndexError:
        return ""


def _number(text: str) -> Decimal:
    """Value of a number with its own scale words; Drop if it is not a number."""
    if text in SCALES:          # 近百名: a bare 百/千/万 is a round number
        return SCALES[text]
    v = parse_number(text)
    if v is None:
        raise Drop(f"{text!r} is not a number")
    return v


def _ends_with_scale(text: str) -> bool:
    return any(text.endswith(s) for s in SCALES) and not text.isdigit()


def qualifier(m, ctx: Context, pre="qpre", mids=("qmid", "qmid2"), post="qpost", lists=("qualifier_pre",
              "qualifier_mid", "qualifier_post")) -> str:
    """The mention's qualifier: every qualifier word found, the first of qualifier_order wins."""
    found = set()
    for group, lst in ((pre, lists[0]), *((g, lists[1]) for g in mids), (post, lists[2])):
        word = _g(m, group)
        if word:
            q = ctx.qualifiers.get(lst, {}).get(word)
            if q:
                found.add(q)
    for q in ctx.qualifier_order:
        if q in found:
            return q
    return ""


def numeric(rule, m, ctx: Context) -> dict:
    """amount, count, percent, quantity: value (x scale), value_max, unit, qualifier."""
    num, num2 = _g(m, "num"), _g(m, "num2")
    value = _number(num) * SCALES.get(_g(m, "scale"), 1)
    value_max = ""
    if num2:
        upper = _number(num2) * SCALES.get(_g(m, "scale2"), 1)
        upper_scaled = _g(m, "scale2") or _ends_with_scale(num2)
        if upper_scaled and not (_g(m, "scale") or _ends_with_scale(num)):
            # 两到三万: the bare lower bound shares the upper bound's scale
            value = _number(num) * (upper / _number(num2))
        if upper <= value:
            raise Drop(f"range {num}..{num2} does not increase")
        value_max = format_decimal(upper)
    unit = rule.unit or _g(m, "unit")
    if rule.kind == "amount":
        unit = ctx.currency.get(unit, unit)
    return {"value": format_decimal(value), "value_max": value_max, "unit": unit,
            "qualifier": rule.qualifier or qualifier(m, ctx)}


def _small(text: str) -> int:
    """A month, day or quarter number: Arabic or Chinese up to 31."""
    if text.isdigit():
        return int(text)
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    v = parse_number(text)
    if v is None:
        raise Drop(f"{text!r} is not a number")
    return int(v)


def _year(text: str) -> int:
    if text[:1].isdigit():
        return int(text)
    return int("".join("0123456789"["〇一二三四五六七八九".index(c)] if c in "〇一二三四五六七八九" else
                       ("0" if c == "零" else c) for c in text))


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
    y = _g(m, "y") or _g(m, "y_")
    year = _year(y) if y else None
    rel = _g(m, "rel")
    if rel:
        if ctx.article_year is None:
            raise Drop(f"{rel!r} needs the article's year (no dated dateline)")
        year = ctx.article_year + int(ctx.relative_year.get(rel, "0"))
    if year is None and not (_g(m, "m") or _g(m, "m_")):
        raise Drop("no year")
    mo = _g(m, "m") or _g(m, "m_")
    d = _g(m, "d") or _g(m, "d_")
    month = _small(mo) if mo else None
    day = _small(d) if d else None
    if year is None and day is not None and ctx.article_year is not None:
        year = ctx.article_year
    q, q2, h = _g(m, "q"), _g(m, "q2"), _g(m, "h")
    value_max = ""
    if q:
        value = f"{year:04d}-Q{_small(q)}"
    elif q2:
        value, value_max = f"{year:04d}-Q1", f"{year:04d}-Q{_small(q2.replace('两', '二'))}"
    elif h:
        value = f"{year:04d}-H{1 if h == '上' else 2}"
    else:
        value = _iso(year, month, day)
    y2, m2, d2 = _g(m, "y2"), _g(m, "m2"), _g(m, "d2")
    if y2 or m2 or d2:
        year2 = _year(y2) if y2 else year
        month2 = _small(m2) if m2 else (month if d2 else None)
        day2 = _small(d2) if d2 else None
        value_max = _iso(year2, month2, day2)
        if value_max <= value if not value.startswith("--") else value_max <= value:
            raise Drop(f"range {value}..{value_max} does not increase")
    word_pre, word_post = _g(m, "dqpre"), _g(m, "dqpost")
    qual = (ctx.qualifiers.get("date_qualifier_post", {}).get(word_post)
            or ctx.qualifiers.get("date_qualifier_pre", {}).get(word_pre) or "")
    return {"value": value, "value_max": value_max, "unit": "", "qualifier": rule.qualifier or qual}


INTERPRET = {"amount": numeric, "count": numeric, "percent": numeric, "quantity": numeric, "date": date}
