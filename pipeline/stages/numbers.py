"""Exact values of the numbers written in Chinese news text: Arabic, Chinese and mixed forms.

Used by the rule-based extractors (money, counts, percentages, quantities, dates).  Everything is
`decimal.Decimal` so that '8573.9万' is exactly 85739000; the patterns use the `regex` module and
are linear-time (no ambiguous nested repetition) so they can be embedded in bigger rules.
"""
from __future__ import annotations

import decimal
from decimal import Decimal

import regex

CN_DIGITS = '零〇○一二三四五六七八九两兩壹贰貳叁參叄肆伍陆陸柒捌玖'
_DIGIT_VALUE = {c: str(v) for v, chars in enumerate(
    ['零〇○', '一壹', '二两兩贰貳', '三叁參叄', '四肆', '五伍', '六陆陸', '七柒', '八捌', '九玖']) for c in chars}
_SMALL_UNIT = {'十': 10, '拾': 10, '百': 100, '佰': 100, '千': 1000, '仟': 1000, '廿': 20, '卅': 30}
_BIG_UNIT = {'万': 10**4, '萬': 10**4, '亿': 10**8, '億': 10**8, '兆': 10**12}
# Trailing scale words, longest first so that '1.2万亿' splits as ('1.2', '万亿'), not ('1.2万', '亿').
_SCALES = {'万亿': 10**12, '萬億': 10**12, '千万': 10**7, '千萬': 10**7, '百万': 10**6, '百萬': 10**6,
           '十万': 10**5, '十萬': 10**5, '兆': 10**12, '亿': 10**8, '億': 10**8, '万': 10**4, '萬': 10**4,
           '千': 1000, '仟': 1000, '百': 100, '佰': 100}
# Public: the scale words and their sizes, longest first (rules' scale groups are read with it).
SCALES = _SCALES
_ZEROS = '零〇○'
_SIGNS = '-－−负'
_FULLWIDTH = str.maketrans('０１２３４５６７８９．', '0123456789.')

_AD = '0-9０-９'  # Arabic digits, ASCII and full-width (a character-class body, not a regex)
# Arabic number.  Why: an ASCII comma is a thousands separator only inside whole 3-digit groups,
# so '1,468.3' is one number while '1,23' is not; the full-width '，' is always punctuation.
_ARABIC = rf'(?:[{_AD}]{{1,3}}(?:,[{_AD}]{{3}})+(?![{_AD}])|[{_AD}]+)(?:[.．][{_AD}]+)?'
# 兆 as 10^12.  Why: in 兆瓦/兆赫/兆字节... it means "mega", which is a unit prefix, not a scale.
_ZHAO = '兆(?![瓦赫字帕欧位比])'
# One unit character (十 百 千 廿 卅 and the big units).  Why: units separate digit groups.
_UNIT = rf'(?:[十拾百佰千仟廿卅万萬亿億]|{_ZHAO})'
_UNIT_CHARS = '十拾百佰千仟廿卅万萬亿億兆'
# Where a number may not start.  Why: never match the tail of a longer number ('23' in '123',
# '5' in '1.5' or '1,500', '一' in '万一'), which also keeps failing bigger rules linear.
_NO_START = rf'(?<![{_AD}]|[{_AD}][.．,]|[{CN_DIGITS}{_UNIT_CHARS}])'
# A unit after an Arabic number: a scale word's character (5百, 3千万, 8573.9万, 1.2万亿, 5十万).  Why:
# 3十, 5拾 and 9百一 are no way of writing a number, and the rules (SCALE) never take them.
_AR_UNIT = rf'(?:[百佰千仟万萬亿億]|十(?=[万萬])|{_ZHAO})'
# One number, greedy.  Why this shape: the first token is Arabic, a Chinese digit or a 十-like unit
# (a bare 万/百/千 is not a number).  After an Arabic number come scale units and Arabic digits
# right after a unit ('4亿5000万'); after a Chinese one, units, Chinese digits, and Arabic digits
# only right after a unit, never glued to a digit of the other script ('1两', '3五').  Every loop
# alternative starts with a different character class, so matching never backtracks badly.
# A Chinese decimal ('十二点五', '三点一四') may end with big units ('十二点五万').
NUMBER_PATTERN = (
    rf'{_NO_START}[{_SIGNS}]?(?:{_ARABIC}(?:{_AR_UNIT}|(?<=[{_UNIT_CHARS}]){_ARABIC})*'
    rf'|[{CN_DIGITS}十拾廿卅]'
    rf'(?:{_UNIT}|(?<=[{_UNIT_CHARS}]){_ARABIC}|(?<=[{CN_DIGITS}{_UNIT_CHARS}])[{CN_DIGITS}])*'
    rf'(?:(?<=[{CN_DIGITS}{_UNIT_CHARS}])点[{CN_DIGITS}]+(?:[万萬亿億]|{_ZHAO}){{0,2}})?)'
)
# The scale words, longest first.  Why: for rules such as "<number><scale>元" and range carrying.
SCALE_PATTERN = '(?:' + '|'.join(_ZHAO if w == '兆' else w for w in _SCALES) + ')'

# The same grammar as named fragments for the rules of rules/ (pipeline/rules.py adds them before
# rules/fragments.toml, which may not redefine them): a rule matches a number with exactly the
# characters this module reads.  Why: two copies of the digit tables drifted apart (叄, 貳 and 陸
# were digits here and not there; the 兆 look-ahead was written three times).
FRAGMENTS = {
    # One Chinese digit, all forms (二, 两, 貳, 叄, 〇, ○...).
    'CN_DIGIT': f'[{CN_DIGITS}]',
    # The first character of a Chinese numeral: a digit, or a 十-like unit (十二, 廿五).
    'CN_START': f'[{CN_DIGITS}十拾廿卅]',
    # Any unit character (十 百 千 廿 卅 万 亿 兆...), as a character class.
    'CN_UNIT': f'[{_UNIT_CHARS}]',
    # A character that continues a Chinese numeral: a digit or a unit (兆 not before 瓦, 赫...).
    'CN_CONT': f'(?:[{CN_DIGITS}{_UNIT_CHARS.replace("兆", "")}]|{_ZHAO})',
    # 兆 as 10^12, not the prefix of 兆瓦, 兆赫...
    'ZHAO': _ZHAO,
    # A scale word written after a number, longest first (万亿 before 万 and 亿).
    'SCALE': SCALE_PATTERN,
}

_NUMBER_RE = regex.compile(NUMBER_PATTERN)
# A plain ASCII number, the common case: parse_number's fast path gives the same value.
_PLAIN_RE = regex.compile(r'[0-9]+(?:\.[0-9]+)?')
# Tokens of a validated number body.  Why: parse_number walks tokens, not characters.
_TOKEN_RE = regex.compile(rf'({_ARABIC})|(点[{CN_DIGITS}]+)|([{CN_DIGITS}]+)|(.)')


def _digits(run: str) -> Decimal:
    """Value of a run of Chinese digits read digit by digit ('二〇二三' -> 2023); Decimal, not int,
    because int() refuses strings of more than 4300 digits."""
    return Decimal(''.join(_DIGIT_VALUE[c] for c in run) or '0')


def _evaluate(body: str) -> Decimal | None:
    """Value of a sign-less body already matched by NUMBER_PATTERN, or None if its units are out of
    order or its digits vague ('三五万', '一亿亿').  Big units are kept as a stack of (value, unit)
    groups so that a bigger unit multiplies the smaller groups before it ('一万亿' = 10^12)."""
    groups: list[tuple[Decimal, int]] = []
    section, pending, single, zero_gap, last_unit, prev_small = Decimal(0), None, False, False, 0, 10**13

    def tail() -> Decimal:
        """The pending digit; a lone Chinese digit right after 百/千/万/亿 is an abbreviation of the
        next lower unit ('三百三' = 330, '两万五' = 25000), as news text writes it."""
        if pending is None:
            return Decimal(0)
        return pending * last_unit / 10 if single and not zero_gap and last_unit > 10 else pending

    for m in _TOKEN_RE.finditer(body):
        arabic, frac, run, unit = m.groups()
        if arabic:
            pending, single = Decimal(arabic.translate(_FULLWIDTH).replace(',', '')), False
        elif run and m.start() == 0 and (m.end() == len(body) or body[m.end()] == '点'):
            pending, single = _digits(run), False  # the whole integer part: '二〇二三', '零', '三'
        elif run:
            digits = run.lstrip(_ZEROS)
            if len(digits) > 1:
                return None  # '三五万', '十一五': vague or not one number
            zero_gap = len(digits) < len(run)
            pending, single = (_digits(digits), True) if digits else (None, False)
        elif frac:
            pending = sum((g for g, _ in groups), section + tail()) + Decimal('0.' + ''.join(
                _DIGIT_VALUE[c] for c in frac[1:]))
            groups, section, single, last_unit, prev_small = [], Decimal(0), False, 0, 10**13
        elif unit in _SMALL_UNIT:
            size = 10 if unit in '廿卅' else _SMALL_UNIT[unit]
            if (size >= prev_small or (pending is None and size != 10)
                    or (pending is not None and size != _SMALL_UNIT[unit])):
                return None  # '一百一千', '百万' alone, '三廿'
            section += (pending if pending is not None else 1) * _SMALL_UNIT[unit]
            pending, single, zero_gap, last_unit, prev_small = None, False, False, size, size
        else:
            big = _BIG_UNIT[unit]
            value, has = section + tail(), pending is not None or prev_small < 10**13
            while groups and groups[-1][1] < big:
                value, has = value + groups.pop()[0], True
            if not has or (groups and groups[-1][1] <= big):
                return None  # '亿' with nothing before it, '一亿亿', '三亿四万五亿'
            groups.append((value * big, big))
            section, pending, single, zero_gap, last_unit, prev_small = Decimal(0), None, False, False, big, 10**13
    return sum((g for g, _ in groups), section + tail())


def parse_number(text: str) -> Decimal | None:
    """Value of a number written in any supported form (Arabic '1,468.3', Chinese '四十三亿七千万',
    mixed '8573.9万', signed '负3.9'), or None if `text` as a whole is not one exact number.
    The local decimal context is wide enough for the input so big numbers stay exact."""
    if not isinstance(text, str):
        return None
    if _PLAIN_RE.fullmatch(text):
        return Decimal(text)            # most numbers (2024, 8573.9): exact, no context needed
    if not _NUMBER_RE.fullmatch(text):
        return None
    negative = text[0] in _SIGNS
    with decimal.localcontext(prec=12 * len(text) + 40, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN):
        value = _evaluate(text[1:] if negative else text)
        return None if value is None else (-value if negative else value)


def format_decimal(d: Decimal) -> str:
    """Plain decimal string of `d` for the CSV output: no exponent, no thousands separator, no
    trailing zeros and no '.0'; '-0' becomes '0'.  Raises ValueError for NaN and infinities."""
    if not d.is_finite():
        raise ValueError(f'not a finite number: {d}')
    s = format(d, 'f')
    if '.' in s:
        s = s.rstrip('0').rstrip('.')
    return '0' if s == '-0' else s


def split_scale(text: str) -> tuple[str, str]:
    """Split a trailing scale word that applies to the whole number: '8573.9万' -> ('8573.9', '万'),
    '1.2万亿' -> ('1.2', '万亿').  A scale that only applies to the last group is part of the
    numeral: '四十三亿七千万' -> ('四十三亿七千万', '').  The test is exact: head * scale == whole."""
    value = parse_number(text)
    if value is not None:
        for word, size in _SCALES.items():
            if text.endswith(word) and len(text) > len(word):
                head = text[:-len(word)]
                head_value = parse_number(head)
                if head_value is not None:
                    with decimal.localcontext(prec=12 * len(text) + 40, Emax=decimal.MAX_EMAX):
                        if head_value * size == value:
                            return head, word
    return text, ''


def has_scale(text: str) -> bool:
    """True if the number ends with a scale word applied to all of it ('3千万', '5亿', '两万');
    lets a range carry its upper bound's scale to a bare lower bound ('两到三万' -> 2万..3万)."""
    return split_scale(text)[1] != ''


def scale_of(text: str) -> Decimal:
    """Multiplier of the number's trailing scale word: 10000 for '5万', 10^8 for '3亿', 1 for '150'."""
    return Decimal(_SCALES.get(split_scale(text)[1], 1))
