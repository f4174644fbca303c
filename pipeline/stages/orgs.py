"""Organisation names: from an org rule's match to a name and its category.

`org.named` matches a suffix (人民政府, 研究院, 有限公司...). The name's start
is found by walking left over jieba tokens while they can be part of a name,
then taking the leftmost proper prefix (place, head such as 中国/中共/国家,
anchor, gazetteer name) in that stretch. Company suffixes need no prefix. The
walk is what keeps `兰州市持续推进甘肃省同位素重点实验室` from being one name:
`推进` is a stop word, so the name is `甘肃省同位素重点实验室`.
"""
from __future__ import annotations

import regex

from .values import Drop

# Parts of speech (jieba tags) that never occur inside a name: prepositions,
# conjunctions, particles, pronouns, adverbs, numerals, measure words, time
# words, modal particles, interjections, onomatopoeia.
STOP_TAGS = ("p", "c", "u", "r", "d", "m", "q", "t", "y", "e", "o", "z", "ul", "uj", "ud", "ug", "uv", "uz")
# Suffixes after which a name needs no place or head to be one.
COMPANY_SUFFIXES = ("公司", "集团", "股份", "有限公司", "有限责任公司", "股份有限公司", "集团公司", "控股", "银行")
# Suffixes that make no name with a head alone (中国大学, 国家中心), unlike 中国银行 or 中央电视台.
NEEDS_BODY = ("大学", "学院", "中心", "公司", "所", "部", "局", "厂")
# Suffixes that make no name with a place alone (美国公司, 印度所), unlike 兰州大学 or 兰州银行.
PLACE_NEEDS_BODY = ("公司", "所", "中心", "部", "厂")
# Suffixes whose names a rare word alone can make, without place or head (复旦大学, 光明日报).
RARE_WORD_SUFFIXES = ("大学", "学院", "日报", "晚报", "报社", "日报社")
# jieba frequency from which a word is a common word, not a name (保险 2635, 电脑 3427; 微软 1757, 携程 59).
COMMON_FREQ = 2000
# Suffixes that are also common verbs (组织了…): a name only when the sentence does not go on as a verb phrase.
VERB_SUFFIXES = ("组织",)
# Categories whose names a following title (部长, 社长) can confirm without a place.
TITLED_CATEGORIES = ("government", "media", "association", "party")
# Conjunctions after which an unanchored name may share the prefix of the org before it.
COORDINATORS = ("和", "、", "与", "及")
# Conjunctions that may also join words INSIDE a name (文化和旅游局, 草种创新与草地农业…实验室).
INNER_CONJUNCTIONS = ("和", "与", "及")
# A name token: Han characters, or · (张江·兰白), or an ordinal 第 + number (第940医院).
NAME_TOKEN = regex.compile(r"[\p{Han}·]+|第")
NUMBER_TOKEN = regex.compile(r"[0-9一二三四五六七八九十百]+")
# Longest a name may be, in characters.
MAX_NAME = 40


_LEXICONS: dict[int, tuple] = {}


def _lexicon(rules) -> dict:
    """The lists org rules use, as sets and dicts (cached per loaded Rules)."""
    from .segment import word_tags
    return {
        "anchors": set(rules.words("place")) | set(rules.words("org_head")) | set(rules.words("org_anchor"))
        | set(rules.words("org_gazetteer")),
        "heads": set(rules.words("org_head")),
        "head_lengths": sorted({len(w) for w in rules.words("org_head")}, reverse=True),
        "places": set(rules.words("place")),
        "gazetteer_set": set(rules.words("org_gazetteer")),
        "anchor_set": set(rules.words("org_anchor")),
        "generic": set(rules.words("org_generic")),
        "name_verbs": set(rules.words("org_name_verb")),
        "titles": set(rules.words("org_title")),
        "title_pattern": regex.compile("|".join(regex.escape(t) for t in sorted(rules.words("org_title"), key=len,
                                                                                   reverse=True) if len(t) >= 2)
                                       or "(?!)"),
        "not_end": rules.words("org_not_name_end"),
        "freq": segment_freq(rules),
        "stop": set(rules.words("org_stop")),
        "suffix": rules.mapping("org_suffix"),
        "gazetteer": rules.mapping("org_gazetteer"),
        "tags": word_tags(str(rules.dir / "jieba_user.dict")),
        "max_anchor": max((len(w) for w in rules.words("place") + rules.words("org_anchor")), default=1),
    }


def segment_freq(rules) -> dict:
    """jieba's word frequencies (with our dictionary), to tell common nouns from names."""
    from .segment import tokenizer
    return tokenizer(str(rules.dir / "jieba_user.dict"), rules.segment_words).FREQ


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
    if word.startswith("第"):
        return word.endswith("大")        # 第三大银行 is a ranking; 第二医院 a name
    tag = lex["tags"].get(word)
    if len(word) == 1 and tag in ("q", "m"):
        return False      # 草种, 久有: single characters inside names (a number before them stops anyway)
    return tag in STOP_TAGS if tag else False


def _cuts(word: str, lex: dict) -> bool:
    """A two-character verb not known inside names: the name starts after it."""
    return len(word) >= 2 and lex["tags"].get(word, "") == "v" and word not in lex["name_verbs"]


def _anchor_in(text: str, start: int, end: int, lex: dict, kinds=("anchors",)) -> int | None:
    """Leftmost position in [start, end) where a word (2+ characters) of the given sets starts and ends.

    The words are indexed by their first two characters (built once per lexicon and
    `kinds`), so a position costs one dict lookup: several times faster than a regex
    alternation of the 3,000 place names.
    """
    key = ("by_first_two",) + tuple(kinds)
    index = lex.get(key)
    if index is None:
        index = lex[key] = {}
        for w in {w for k in kinds for w in lex[k] if len(w) >= 2}:
            index.setdefault(w[:2], set()).add(w)
    for p in range(start, end - 1):
        words = index.get(text[p:p + 2])
        if words is not None and any(p + len(w) <= end and text.startswith(w, p) for w in words):
            return p
    return None


def walk_left(text: str, suffix_start: int, toks, lex: dict) -> tuple[int, int]:
    """(start, cut) of the stretch of name tokens that ends at suffix_start.

    start: where the walk stopped (punctuation, number, stop word, or a
    conjunction after a complete name); cut: the end of the last verb that
    cuts names (the name starts at or after it). The token before the current
    one is only asked for when a test needs it, so a walk that stops at
    punctuation never segments the clause before it.
    """
    tok = toks.at(suffix_start - 1) if suffix_start > 0 else None
    start = cut = suffix_start
    while tok is not None:
        w, s, e = tok
        if suffix_start - s > MAX_NAME:
            break
        if w == ")":
            prev = toks.before(tok)
            prev2 = toks.before(prev) if prev is not None else None
            if prev2 is not None and prev2[0] == "(" and prev[0] in lex["places"]:
                start = prev2[1]              # 网易(兰州)联合创新中心: a place in brackets
                tok = toks.before(prev2)
                continue
        if NUMBER_TOKEN.fullmatch(w):
            prev = toks.before(tok)
            if prev is not None and prev[0] == "第":
                start = s                     # 第940医院
                tok = prev
                continue
        if w in INNER_CONJUNCTIONS:
            prev = toks.before(tok)
            if prev is not None and not _ends_with_suffix(prev[0], lex) \
                    and prev[0] not in lex["places"] and prev[0] not in lex["titles"] \
                    and NAME_TOKEN.fullmatch(prev[0]) and not _is_stop(prev[0], lex):
                start = s                     # 文化和旅游局, 草种创新与草地农业…实验室
                tok = prev
                continue
        if _is_stop(w, lex):
            break
        prev = toks.before(tok)
        if len(w) == 1 and lex["tags"].get(w) in ("q", "m") and prev is not None \
                and not NAME_TOKEN.fullmatch(prev[0]):
            break                             # 35家航空公司: a measure word after a number
        after_name = prev is not None and lex["tags"].get(w, "")[:1] == "v" and w not in lex["name_verbs"] \
            and _ends_with_suffix(prev[0], lex)
        if (_cuts(w, lex) or after_name) and cut == suffix_start:
            cut = e                           # 兰州新区应急管理局|联合|兰州市消防救援支队
        start = s
        tok = prev
    return start, (cut if cut < suffix_start else start)


def _ends_with_suffix(word: str, lex: dict) -> bool:
    """True when a token looks like a complete name's end (管理局, 示范区), not a bare 省部."""
    suffixes = lex["suffix"]
    return any(word[-n:] in suffixes and (n >= 2 or len(word) >= 3) for n in range(1, min(len(word), 12) + 1)) \
        or word in lex["gazetteer"]


def interpret(rule, m, text: str, rules, tokens) -> dict:
    """Fields of an org match, with `_span` the name's span; Drop when it is not a name.

    tokens: the text's `segment.Tokens`.
    """
    lex = lexicon(rules)
    if "name" in rule.regex.groupindex:
        s, e = m.span("name")
        return _fields(text[s:e], s, e, lex, rule)
    s, e = m.span()
    if not tokens.ends_at(e):
        word, ws, we = tokens.at(e - 1)
        if text[e:we] not in lex["titles"] or rule.pattern == "{ORG_GAZETTEER}":
            raise Drop(f"{text[s:e]!r} ends inside the word {word!r}")
        titled = True                         # 司法部长: the title is glued to the suffix
    else:
        titled = lex["title_pattern"].match(text, e) is not None
    if rule.pattern == "{ORG_GAZETTEER}":
        if not tokens.starts_at(s):
            raise Drop("not at a word boundary")
        before = tokens.before(tokens.at(s))
        if before is not None and before[0] in lex["places"]:
            s = before[1]                     # 兰州兰泵: place + short name
        fields = _fields(text[s:e], s, e, lex, rule)
        fields["category"] = rule.category or lex["gazetteer"].get(m.group(0)) or fields["category"]
        return fields
    suffix = text[s:e]
    if text[max(0, s - len(suffix)):s] == suffix or text[s - 1:s] == "副" or text[s - 2:s] == "代理":
        raise Drop(f"{suffix!r} starts a title (研究所所长, 财政部副部长)")
    if suffix in VERB_SUFFIXES and NAME_TOKEN.fullmatch(text[e:e + 1] or "。") \
            and not any(text.startswith(t, e) for t in lex["titles"]) and text[e:e + 1] not in "的和与及、":
        raise Drop(f"{suffix!r} is used as a verb here (组织了…)")
    holder = tokens.at(s)
    if holder[1] < s:
        # the suffix ends a longer token (兰州大学, 控制中心): fine for names, not for 签署, 院所
        if holder[0] in lex["generic"] or _cuts(holder[0], lex) or lex["tags"].get(holder[0], "n")[:1] in "vadr":
            raise Drop(f"suffix {suffix!r} inside the word {holder[0]!r}")
    start, cut = walk_left(text, s, tokens, lex)
    if start >= s:
        raise Drop(f"bare suffix {suffix!r}")
    place = _anchor_in(text, cut, s, lex, ("places", "gazetteer_set", "anchor_set"))
    head = _anchor_in(text, cut, s, lex, ("heads",))
    category_of_suffix = lex["suffix"].get(suffix)
    if suffix in COMPANY_SUFFIXES or suffix.endswith("公司"):
        # a company is named by the whole stretch (中化兰州新材料有限公司), not from its place on,
        # but never across a conjunction (上海邮电与深圳华为公司)
        anchor = max([cut] + [i + 1 for i in range(cut, s) if text[i] in INNER_CONJUNCTIONS])
        if place is not None and place > anchor and (head is None or head >= place) \
                and _all_common(text, anchor, place, tokens, lex):
            anchor = place                    # 航线|阿根廷航空公司: common words before the place
        if place is None and head is None and _all_common(text, anchor, e, tokens, lex):
            raise Drop(f"{text[anchor:e]!r}: a kind of company, not a name (common words only)")
    elif place is not None and (head is None or place <= head):
        anchor = place
    elif head is not None:
        # only a head (国家, 中国…): 固体润滑国家重点实验室 is named by the whole stretch
        anchor = cut if category_of_suffix in ("lab", "institute", "zone") else head
        if anchor == cut and _generic(text[cut:e], lex) \
                and start < cut:
            anchor = start                    # 固体润滑国家重点实验室: a verb inside a lab's name
    elif category_of_suffix == "lab" and s - start >= 4:
        anchor = start                        # 离子加速器及质量检验检测工程实验室, 固体润滑国家重点实验室
    elif suffix in RARE_WORD_SUFFIXES and s - cut >= 2 and _plain_nouns(cut, s, tokens, lex) \
            and not _all_common(text, cut, s, tokens, lex):
        anchor = cut                          # 复旦大学, 密执安州立大学, 光明日报: a rare word names it
    elif titled and s - cut >= 2 and category_of_suffix in TITLED_CATEGORIES and _plain_nouns(cut, s, tokens, lex, 2):
        anchor = cut                          # 司法部长: a title shows a name
    elif cut > 0 and text[cut - 1] in COORDINATORS and _coordinated(text, cut - 1, suffix, lex):
        anchor = cut
    else:
        raise Drop(f"no place, head or proper name before {suffix!r} in {text[start:e]!r}")
    if s - anchor < 1:
        raise Drop("no body")
    name = text[anchor:e]
    last = tokens.at(e - 1)
    for w in lex["not_end"]:
        if name.endswith(w) and last[1] >= e - len(w):
            raise Drop(f"{name!r} ends with {w!r} (lists/org_not_name_end.txt)")
    bare = _without_head(name, lex)
    placeless = name[len(_leading_place(name, lex)):]
    if _generic(name, lex) or (suffix in NEEDS_BODY and suffix == bare) or \
            (suffix in PLACE_NEEDS_BODY and suffix == placeless):
        raise Drop(f"{name!r} is a generic phrase (lists/org_generic.txt)")
    return _fields(name, anchor, e, lex, rule)


def _leading_place(name: str, lex: dict) -> str:
    """The longest place name the name starts with ('' if none)."""
    for n in range(min(len(name) - 1, lex["max_anchor"]), 1, -1):
        if name[:n] in lex["places"]:
            return name[:n]
    return ""


def _generic(name: str, lex: dict) -> bool:
    """The name, or the name without its head (国家, 中国…), is in lists/org_generic.txt."""
    return name in lex["generic"] or _without_head(name, lex) in lex["generic"]


def _without_head(name: str, lex: dict) -> str:
    """The name less the longest head it starts with (国家重点实验室 -> 重点实验室)."""
    for n in lex["head_lengths"]:
        if name[:n] in lex["heads"]:
            return name[n:]
    return name


def _plain_nouns(start: int, end: int, toks, lex: dict, min_len: int = 1) -> bool:
    """True when the tokens inside text[start:end] hold no verb, no person's name, and none shorter than min_len."""
    pos = start
    if pos < end:
        _, s, e = toks.at(pos)
        if s < start:
            pos = e                           # the token holding start began before it: not inside
    while pos < end:
        w, s, e = toks.at(pos)
        if e <= end:
            tag = lex["tags"].get(w, "")
            if tag[:1] == "v" and w not in lex["name_verbs"] or tag[:2] == "nr" or len(w) < min_len:
                return False
        pos = e
    return True


def _all_common(text: str, start: int, end: int, toks, lex: dict) -> bool:
    """True when text[start:end], cut at token boundaries and without suffixes, is frequent words only
    (保险|公司, 航空|公司: kinds of company; 微软|公司, 携程|集团: names)."""
    pieces = []
    pos = toks.at(start)[1] if start < len(text) else start      # from the token holding start
    while pos < end:
        w, s, e = toks.at(pos)
        pieces.append(text[max(s, start):min(e, end)])
        pos = e
    pieces = [_without_suffix(p, lex) for p in pieces]
    pieces = [p for p in pieces if p]
    return bool(pieces) and all((lex["freq"].get(p) or 0) >= COMMON_FREQ for p in pieces)


def _without_suffix(word: str, lex: dict) -> str:
    """The word less the longest org suffix it ends with (保险公司 -> 保险, 公司 -> '')."""
    for n in range(min(len(word), 12), 0, -1):
        if word[-n:] in lex["suffix"]:
            return word[:-n]
    return word


def _coordinated(text: str, conj: int, suffix: str, lex: dict) -> bool:
    """True when the text before the conjunction ends with a suffix of the same category (A示范区和B试验区)."""
    cat = lex["suffix"].get(suffix)
    for n in range(8, 1, -1):
        before = text[max(0, conj - n):conj]
        if len(before) == n and before in lex["suffix"] and lex["suffix"][before] == cat \
                and conj - n > 0 and NAME_TOKEN.fullmatch(text[conj - n - 1]):
            return True
    return False


def _fields(name: str, s: int, e: int, lex: dict, rule) -> dict:
    if len(name) < 2:
        raise Drop("too short")
    return {"value": name, "value_max": "", "unit": "", "qualifier": "",
            "category": rule.category or category(name, lex), "_span": (s, e)}
