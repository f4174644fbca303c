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
# Conjunctions that may also join words INSIDE a name (文化和旅游局, 草种创新与草地农业…实验室).
INNER_CONJUNCTIONS = ("和", "与", "及")
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
        self.start_set = set(self.starts)
        self.start_set = set(self.starts)

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
        "places": set(rules.words("place")),
        "gazetteer_set": set(rules.words("org_gazetteer")),
        "anchor_set": set(rules.words("org_anchor")),
        "generic": set(rules.words("org_generic")),
        "name_verbs": set(rules.words("org_name_verb")),
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
    """A token that cannot be inside a name (an ordinal 第二 can: 兰州市第一人民医院)."""
    if word in lex["stop"]:
        return True
    if not NAME_TOKEN.fullmatch(word):
        return True
    if word.startswith("第") or len(word) == 1:
        return False      # single characters: only the stop list stops (久有, 草种 are name parts)
    tag = lex["tags"].get(word)
    return tag in STOP_TAGS if tag else False


def _cuts(word: str, lex: dict) -> bool:
    """A two-character verb not known inside names: the name starts after it."""
    return len(word) >= 2 and lex["tags"].get(word, "") == "v" and word not in lex["name_verbs"]


def _anchor_in(text: str, start: int, end: int, lex: dict, kinds=("anchors",)) -> int | None:
    """Leftmost position in [start, end) where a word of the given sets starts."""
    longest = lex["max_anchor"]
    for i in range(start, end):
        for n in range(min(longest, end - i), 1, -1):
            if any(text[i:i + n] in lex[k] for k in kinds):
                return i
    return None


def walk_left(text: str, suffix_start: int, idx: TokenIndex, lex: dict) -> tuple[int, int]:
    """(start, cut) of the stretch of name tokens that ends at suffix_start.

    start: where the walk stopped (punctuation, number, stop word, or a
    conjunction after a complete name); cut: the end of the last verb that
    cuts names (the name starts at or after it).
    """
    i = idx.token_at(suffix_start)
    if idx.tokens[i][1] >= suffix_start:
        i -= 1
    start = cut = suffix_start
    while i >= 0:
        w, s, e = idx.tokens[i]
        if suffix_start - s > MAX_NAME:
            break
        if w == ")" and i >= 2 and idx.tokens[i - 2][0] == "(" and idx.tokens[i - 1][0] in lex["places"]:
            start = idx.tokens[i - 2][1]       # 网易(兰州)联合创新中心: a place in brackets
            i -= 3
            continue
        if NUMBER_TOKEN.fullmatch(w) and i > 0 and idx.tokens[i - 1][0] == "第":
            start = s                         # 第940医院
            i -= 1
            continue
        if w in INNER_CONJUNCTIONS and i > 0 and not _ends_with_suffix(idx.tokens[i - 1][0], lex) \
                and NAME_TOKEN.fullmatch(idx.tokens[i - 1][0]) and not _is_stop(idx.tokens[i - 1][0], lex):
            start = s                         # 文化和旅游局, 草种创新与草地农业…实验室
            i -= 1
            continue
        if _is_stop(w, lex):
            break
        after_name = i > 0 and lex["tags"].get(w, "")[:1] == "v" and _ends_with_suffix(idx.tokens[i - 1][0], lex)
        if (_cuts(w, lex) or after_name) and cut == suffix_start:
            cut = e                           # 兰州新区应急管理局|联合|兰州市消防救援支队
        start = s
        i -= 1
    return start, (cut if cut < suffix_start else start)


def _ends_with_suffix(word: str, lex: dict) -> bool:
    """True when a token looks like a complete name's end (管理局, 示范区), not a bare 省部."""
    return any(word.endswith(suf) and (len(suf) >= 2 or len(word) >= 3) for suf in lex["suffix"]) \
        or word in lex["gazetteer"]


def interpret(rule, m, text: str, rules, tokens) -> dict:
    """Fields of an org match, with `_span` the name's span; Drop when it is not a name."""
    lex = lexicon(rules)
    idx = _index(tokens)
    if "name" in rule.regex.groupindex:
        s, e = m.span("name")
        return _fields(text[s:e], s, e, lex, rule)
    s, e = m.span()
    if e not in idx.ends:
        raise Drop(f"{text[s:e]!r} ends inside the word {tokens[idx.token_at(e - 1)][0]!r}")
    if rule.pattern == "{ORG_GAZETTEER}":
        if s not in idx.start_set:
            raise Drop("not at a word boundary")
        before = idx.token_ending_at(s)
        if before is not None and tokens[before][0] in lex["places"]:
            s = tokens[before][1]             # 兰州兰泵: place + short name
        fields = _fields(text[s:e], s, e, lex, rule)
        fields["category"] = rule.category or lex["gazetteer"].get(m.group(0)) or fields["category"]
        return fields
    suffix = text[s:e]
    holder = tokens[idx.token_at(s)]
    if holder[1] < s:
        # the suffix ends a longer token (兰州大学, 控制中心): fine for names, not for 签署, 院所
        if holder[0] in lex["generic"] or _cuts(holder[0], lex) or lex["tags"].get(holder[0], "n")[:1] in "vadr":
            raise Drop(f"suffix {suffix!r} inside the word {holder[0]!r}")
    start, cut = walk_left(text, s, idx, lex)
    if start >= s:
        raise Drop(f"bare suffix {suffix!r}")
    place = _anchor_in(text, cut, s, lex, ("places", "gazetteer_set", "anchor_set"))
    head = _anchor_in(text, cut, s, lex, ("heads",))
    if place is not None and (head is None or place <= head):
        anchor = place
    elif head is not None:
        # only a head (国家, 中国…): 固体润滑国家重点实验室 is named by the whole stretch
        anchor = cut if lex["suffix"].get(suffix) in ("lab", "institute", "zone") else head
    elif suffix in COMPANY_SUFFIXES and s - cut >= 2:
        anchor = cut
    elif lex["suffix"].get(suffix) == "lab" and s - cut >= 4:
        anchor = cut
    elif cut > 0 and text[cut - 1] in COORDINATORS and _coordinated(text, cut - 1, suffix, lex):
        anchor = cut
    else:
        raise Drop(f"no place, head or proper name before {suffix!r} in {text[start:e]!r}")
    name = text[anchor:e]
    bare = name
    for h in sorted(lex["heads"], key=len, reverse=True):
        if bare.startswith(h):
            bare = bare[len(h):]
            break
    if name in lex["generic"] or bare in lex["generic"]:
        raise Drop(f"{name!r} is a generic phrase (lists/org_generic.txt)")
    return _fields(name, anchor, e, lex, rule)


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
