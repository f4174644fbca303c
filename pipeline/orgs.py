"""Organisation names: from an org rule's match to a name and its category.

`org.named` matches a suffix (人民政府, 研究院, 有限公司...). The name's start
is found by walking left over jieba tokens while they can be part of a name,
then taking the leftmost proper prefix (place, head such as 中国/中共/国家,
anchor, gazetteer name) in that stretch. Company suffixes need no prefix. The
walk is what keeps `兰州市持续推进甘肃省同位素重点实验室` from being one name:
`推进` is a stop word, so the name is `甘肃省同位素重点实验室`.
"""
from __future__ import annotations

from bisect import bisect_left
import regex

from .values import Drop

# Parts of speech (jieba tags) that never occur inside a name: prepositions,
# conjunctions, particles, pronouns, adverbs, numerals, measure words, time
# words, modal particles, interjections, onomatopoeia.
STOP_TAGS = ("p", "c", "u", "r", "d", "m", "q", "t", "y", "e", "o", "z", "ul", "uj", "ud", "ug", "uv", "uz")
# Suffixes after which a name needs no place or head to be one.
COMPANY_SUFFIXES = ("公司", "集团", "股份", "有限公司", "有限责任公司", "股份有限公司", "集团公司", "控股")
# Conjunctions after which an unanchored name may share the prefix of the org before it.
COORDINATORS = ("和", "、", "与", "及")
# A name token: Han characters, or · (张江·兰白), or an ordinal 第 + number (第940医院).
NAME_TOKEN = regex.compile(r"[\p{Han}·]+|第")
NUMBER_TOKEN = regex.compile(r"[0-9一二三四五六七八九十百]+")
# Longest a name may be, in characters.
MAX_NAME = 40


class TokenIndex:
    """Token starts/ends of one text for quick boundary checks and walks."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.starts = [s for _, s, _ in tokens]
        self.ends = {e for _, _, e in tokens}

    def token_ending_at(self, pos: int) -> int | None:
        """Index of the token that ends at pos, or None."""
        i = bisect_left(self.starts, pos) - 1
        if 0 <= i < len(self.tokens) and self.tokens[i][2] == pos:
            return i
        return None

    def token_at(self, pos: int) -> int:
        """Index of the token holding position pos."""
        return max(0, bisect_left(self.starts, pos + 1) - 1)


_INDEX: dict[int, TokenIndex] = {}


def _index(tokens) -> TokenIndex:
    key = id(tokens)
    idx = _INDEX.get(key)
    if idx is None or idx.tokens is not tokens:
        _INDEX.clear()
        idx = _INDEX[key] = TokenIndex(tokens)
    return idx


_LEXICONS: dict[int, tuple] = {}


def _lexicon(rules) -> dict:
    """The lists org rules use, as sets and dicts (cached per loaded Rules)."""
    from .segment import word_tags
    return {
        "anchors": set(rules.words("place")) | set(rules.words("org_head")) | set(rules.words("org_anchor"))
        | set(rules.words("org_gazetteer")),
        "heads": set(rules.words("org_head")),
        "stop": set(rules.words("org_stop")),
        "suffix": rules.mapping("org_suffix"),
        "gazetteer": rules.mapping("org_gazetteer"),
        "tags": word_tags(str(rules.dir / "jieba_user.dict")),
        "max_anchor": max((len(w) for w in rules.words("place") + rules.words("org_anchor")), default=1),
    }


def lexicon(rules) -> dict:
    """The lexicon of these rules, built once per loaded Rules object."""
    hit = _LEXICONS.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = _LEXICONS[id(rules)] = (rules, _lexicon(rules))
    return hit[1]


def category(name: str, lex: dict) -> str:
    """Category of a name: 中共… is party; else the longest suffix it ends with; else other."""
    if name.startswith("中共"):
        return "party"
    best = ""
    for n in range(min(len(name), 12), 0, -1):
        if name[-n:] in lex["suffix"]:
            best = lex["suffix"][name[-n:]]
            break
    if not best and name in lex["gazetteer"]:
        best = lex["gazetteer"][name]
    return best or "other"


def _is_stop(word: str, lex: dict) -> bool:
    if word in lex["stop"]:
        return True
    if not NAME_TOKEN.fullmatch(word):
        return True
    tag = lex["tags"].get(word)
    return tag in STOP_TAGS if tag else False


def _anchor_in(text: str, start: int, end: int, lex: dict) -> int | None:
    """Leftmost position in [start, end) where a place/head/anchor word starts."""
    longest = lex["max_anchor"]
    anchors = lex["anchors"]
    for i in range(start, end):
        for n in range(min(longest, end - i), 1, -1):
            if text[i:i + n] in anchors:
                return i
    return None


def walk_left(text: str, suffix_start: int, idx: TokenIndex, lex: dict) -> tuple[int, list[tuple[int, str]]]:
    """Start of the stretch of name tokens that ends at suffix_start, and its tokens (start, word)."""
    i = idx.token_at(suffix_start)
    if idx.tokens[i][1] < suffix_start:
        # the suffix begins inside a token (兰州大学 as one token): that token is part of the name
        pass
    else:
        i -= 1
    start = idx.tokens[i + 1][1] if i + 1 < len(idx.tokens) else suffix_start
    start = min(start, suffix_start)
    words = []
    while i >= 0:
        w, s, e = idx.tokens[i]
        if suffix_start - s > MAX_NAME:
            break
        if NUMBER_TOKEN.fullmatch(w) and i > 0 and idx.tokens[i - 1][0] == "第":
            words.append((s, w))          # 第940医院: the number after 第 is part of the name
            start = s
            i -= 1
            continue
        if _is_stop(w, lex) and w != "第":
            break
        words.append((s, w))
        start = s
        i -= 1
    return start, words


def interpret(rule, m, text: str, rules, tokens) -> dict:
    """Fields of an org match, with `_span` the name's span; Drop when it is not a name."""
    lex = lexicon(rules)
    idx = _index(tokens)
    if rule.id == "org.quoted" or "name" in rule.regex.groupindex:
        s, e = m.span("name")
        name = text[s:e]
        return _fields(name, s, e, lex, rule)
    s, e = m.span()
    if e not in idx.ends:
        raise Drop(f"{text[s:e]!r} ends inside the word {tokens[idx.token_at(e - 1)][0]!r}")
    if rule.id == "org.gazetteer" or text[s:e] in lex["gazetteer"] and rule.pattern == "{ORG_GAZETTEER}":
        if s not in set(idx.starts) and idx.token_ending_at(e) is None:
            raise Drop("not at a word boundary")
        return _fields(text[s:e], s, e, lex, rule)
    suffix = text[s:e]
    # a suffix token glued to more text on its left (局长 has 局 at its end only if the token ends here)
    start, words = walk_left(text, s, idx, lex)
    if start >= s:
        raise Drop(f"bare suffix {suffix!r}")
    anchor = _anchor_in(text, start, s, lex)
    if anchor is None:
        if suffix in COMPANY_SUFFIXES and s - start >= 2:
            anchor = start
        elif start > 0 and text[start - 1] in COORDINATORS and _coordinated(text, start - 1, suffix, lex):
            anchor = start
        else:
            raise Drop(f"no place, head or proper name before {suffix!r} in {text[start:e]!r}")
    if s - anchor < 1:
        raise Drop("no body")
    return _fields(text[anchor:e], anchor, e, lex, rule)


def _coordinated(text: str, conj: int, suffix: str, lex: dict) -> bool:
    """True when the text before the conjunction ends with a suffix of the same category (A示范区和B试验区)."""
    cat = lex["suffix"].get(suffix)
    for n in range(8, 0, -1):
        before = text[max(0, conj - n):conj]
        if len(before) == n and before in lex["suffix"] and lex["suffix"][before] == cat:
            return True
    return False


def _fields(name: str, s: int, e: int, lex: dict, rule) -> dict:
    if len(name) < 2:
        raise Drop("too short")
    return {"value": name, "value_max": "", "unit": "", "qualifier": "",
            "category": rule.category or category(name, lex), "_span": (s, e)}
