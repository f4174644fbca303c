"""Organisation names: from an org rule's match to a name and its category.

`org.named` matches a suffix (人民政府, 研究院, 有限公司...). The name's start
is found by walking left over jieba tokens while they can be part of a name,
then taking the leftmost proper prefix (place, head such as 中国/中共/国家,
anchor, gazetteer name) in that stretch. Company suffixes need no prefix. The
walk is what keeps `兰州市持续推进甘肃省同位素重点实验室` from being one name:
`推进` is a stop word, so the name is `甘肃省同位素重点实验室`.

Every decision is data: the word lists `rules/lists/org_*.txt` (and
`place.txt`), the thresholds and tags of `rules/org_settings.toml`. A rule
names its interpreter (`interpret = "named"`, `"quoted"`, `"gazetteer"`).
Each Drop message and each kept name's `_why` names the list or setting
that decided it, so `explain` tells a user where to edit.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import regex

from .values import Drop

# The interpreters an org rule may name (`interpret = ...` in rules/org.toml).
INTERPRETERS = ("named", "quoted", "gazetteer", "listed")
SETTINGS_FILE = "org_settings.toml"
# Keys of rules/org_settings.toml and their types.
SETTINGS = {"stop_tags": list, "inner_single_tags": list, "verb_tag": str, "holder_stop_tag_starts": list,
            "holder_max_body": int,
            "person_tag": str, "common_freq": int, "max_name": int, "max_suffix": int, "title_min_len": int,
            "rare_word_min_body": int, "titled_categories": list, "whole_stretch_categories": list,
            "unanchored_categories": list, "unanchored_min_body": int, "coordinators": list,
            "inner_conjunctions": list, "verb_suffix_name_followers": str, "name_token": str,
            "number_token": str, "ordinal": str, "ranking_end": str, "open_brackets": str, "close_brackets": str,
            "foreign_strip_categories": list, "listed_word_freq": int, "listed_word_tags": list,
            "not_plain_tags": list, "outlet_categories": list, "outlet_after": str, "outlet_before": str,
            "outlet_window": int, "min_name": int, "cutting_verb_min_len": int, "short_suffix_min_word": int,
            "titled_min_token": int, "place_tags": list}
# Where each list of the lexicon lives (for messages that tell a user where to edit).
LIST_FILES = {k: f"rules/lists/{k}.txt" for k in (
    "place", "org_head", "org_anchor", "org_gazetteer", "org_generic", "org_name_verb", "org_title",
    "org_not_name_end", "org_stop", "org_suffix", "org_company_suffix", "org_needs_body", "org_place_needs_body",
    "org_rare_word_suffix", "org_verb_suffix", "org_title_prefix", "org_category_prefix", "org_descriptor",
    "org_foreign_place", "org_list_noun", "org_outlet")}
SETTINGS_PATH = f"rules/{SETTINGS_FILE}"


class Lexicon(dict):
    """The lists and settings org rules use, built once by `load_rules` (Rules.org).

    jieba's tags and frequencies are looked up on first use (`tags`, `freq`)
    and not pickled (a worker gets them from its own jieba); so are `stop_reasons`,
    the reason (or '') of each token seen so far (stop_reason), and `word_facts`, what
    the walk tests of each token seen so far (word_facts), filled as tokens come.
    """
    LAZY = ("tags", "freq", "stop_reasons", "word_facts")

    def __missing__(self, key):
        if key in ("stop_reasons", "word_facts"):
            value = {}
        elif key == "tags":
            from .segment import word_tags
            value = word_tags(self["user_dict"])
        elif key == "freq":
            from .segment import tokenizer
            value = tokenizer(self["user_dict"], self["segment_words"]).FREQ
        else:
            raise KeyError(key)
        self[key] = value
        return value

    def __reduce__(self):
        return (Lexicon, ({k: v for k, v in self.items() if k not in self.LAZY},))


def load_settings(rules_dir: Path, problems: list[str]) -> dict:
    """rules/org_settings.toml as a dict; a missing file, key or wrong type is a problem."""
    path = Path(rules_dir) / SETTINGS_FILE
    if not path.exists():
        problems.append(f"{path}:1: missing (the org settings: {', '.join(SETTINGS)})")
        return {}
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}:1: bad TOML: {e}")
        return {}
    for key, typ in SETTINGS.items():
        if key not in data:
            problems.append(f"{path}:1: missing setting {key!r}")
        elif not isinstance(data[key], typ) or isinstance(data[key], bool):
            problems.append(f"{path}:1: setting {key!r} must be a {typ.__name__}")
    for key in set(data) - set(SETTINGS):
        problems.append(f"{path}:1: unknown setting {key!r} (known: {', '.join(SETTINGS)})")
    for key in ("name_token", "number_token", "outlet_after", "outlet_before"):
        try:
            data[key] = regex.compile(data.get(key, "(?!)"))
        except (regex.error, TypeError) as e:
            problems.append(f"{path}:1: setting {key!r} does not compile: {e}")
            data[key] = regex.compile("(?!)")
    return data


def _first_index(words) -> dict[str, int]:
    """Each word -> its first place in the list (to name the first listed word that applies)."""
    index: dict[str, int] = {}
    for i, w in enumerate(words):
        index.setdefault(w, i)
    return index


def _first_two_index(words) -> dict[str, tuple[str, ...]]:
    """Words of 2+ characters indexed by their first two characters (one dict lookup per position),
    each key's words as a tuple (for one `str.startswith(words, pos)` test)."""
    index: dict[str, set] = {}
    for w in words:
        if len(w) >= 2:
            index.setdefault(w[:2], set()).add(w)
    return {k: tuple(sorted(v)) for k, v in index.items()}


def _alternation(words) -> object:
    """A compiled alternation of literal words, longest first ('(?!)' when there are none)."""
    uniq = sorted(set(words), key=lambda w: (-len(w), w))
    return regex.compile("|".join(regex.escape(w) for w in uniq) or "(?!)")


def build_lexicon(rules_dir: Path, lists: dict, segment_words: tuple, problems: list[str]) -> Lexicon:
    """The org lexicon of these lists and settings (called by load_rules)."""
    def words(name):
        return [row[0] for row in lists.get(name, [])]

    def mapping(name):
        return {row[0]: (row[1] if len(row) > 1 else "") for row in lists.get(name, [])}
    st = load_settings(rules_dir, problems)
    if any(k not in st for k in SETTINGS):
        return Lexicon()
    titles = words("org_title")
    lex = Lexicon({
        "settings": st,
        "user_dict": str(Path(rules_dir) / "jieba_user.dict"),
        "segment_words": tuple(segment_words),
        "heads": set(words("org_head")),
        "head_lengths": sorted({len(w) for w in words("org_head")}, reverse=True),
        "places": set(words("place")),
        "gazetteer_set": set(words("org_gazetteer")),
        "generic": set(words("org_generic")),
        "name_verbs": set(words("org_name_verb")),
        "titles": set(titles),
        "title_pattern": regex.compile("|".join(regex.escape(t) for t in sorted(titles, key=len, reverse=True)
                                                if len(t) >= st["title_min_len"]) or "(?!)"),
        "not_end_order": _first_index(words("org_not_name_end")),
        "not_end_lengths": sorted({len(w) for w in words("org_not_name_end")}),
        "stop": set(words("org_stop")),
        "suffix": mapping("org_suffix"),
        "gazetteer": mapping("org_gazetteer"),
        "company_suffix": set(words("org_company_suffix")),
        "needs_body": set(words("org_needs_body")),
        "place_needs_body": set(words("org_place_needs_body")),
        "rare_word_suffix": set(words("org_rare_word_suffix")),
        "verb_suffix": set(words("org_verb_suffix")),
        "title_prefix": words("org_title_prefix"),
        "title_prefixes": tuple(words("org_title_prefix")),
        "category_prefix": sorted(mapping("org_category_prefix").items(), key=lambda kv: -len(kv[0])),
        "descriptor": _alternation(words("org_descriptor")),
        "foreign": sorted(set(words("org_foreign_place")), key=len, reverse=True),
        "max_anchor": max((len(w) for w in words("place") + words("org_anchor")), default=1),
    })
    anchors = lex["anchors"] = set(words("org_anchor"))
    lex["index_heads"] = _first_two_index(lex["heads"])
    lex["index_foreign"] = _first_two_index(lex["foreign"])
    lex["index_places"] = _first_two_index(lex["places"] | lex["gazetteer_set"] | anchors)
    return lex


def lexicon(rules) -> Lexicon:
    """The org lexicon of these loaded rules (built by load_rules)."""
    return rules.org


def category(name: str, lex: dict) -> str:
    """Category of a name: by its start (lists/org_category_prefix.txt: 中共… is party); else the longest
    suffix it ends with (lists/org_suffix.txt); else its gazetteer category; else other."""
    for prefix, cat in lex["category_prefix"]:
        if name.startswith(prefix):
            return cat
    best = ""
    for n in range(min(len(name), lex["settings"]["max_suffix"]), 0, -1):
        if name[-n:] in lex["suffix"]:
            best = lex["suffix"][name[-n:]]
            break
    if not best and name in lex["gazetteer"]:
        best = lex["gazetteer"][name]
    return best or "other"


def stop_reason(word: str, lex: dict) -> str:
    """Why a token cannot be inside a name, naming the list or setting ('' when it can be).

    An ordinal 第二 can be (兰州市第一人民医院), a ranking 第三大 cannot. The walk asks
    for the same tokens again and again: each word's reason is worked out once (`stop_reasons`).
    """
    reasons = lex["stop_reasons"]
    reason = reasons.get(word)
    if reason is None:
        reason = reasons[word] = _stop_reason(word, lex)
    return reason


def _stop_reason(word: str, lex: dict) -> str:
    """stop_reason() worked out from the lists, settings and jieba's tags."""
    st = lex["settings"]
    if word in lex["stop"]:
        return f"{word} is in {LIST_FILES['org_stop']}"
    if not st["name_token"].fullmatch(word):
        return f"{word!r} is no name token (name_token in {SETTINGS_PATH})"
    if word.startswith(st["ordinal"]):
        return f"{word} is a ranking (ranking_end in {SETTINGS_PATH})" if word.endswith(st["ranking_end"]) else ""
    if word in lex["places"] or word in lex["heads"] or word in lex["anchors"]:
        return ""      # a listed place is a name whatever jieba tags it (大连 d)
    tag = lex["tags"].get(word)
    if len(word) == 1 and tag in st["inner_single_tags"]:
        return ""      # 草种, 久有: single characters inside names (a number before them stops anyway)
    if tag and tag in st["stop_tags"]:
        return f"{word} has jieba tag {tag} (stop_tags in {SETTINGS_PATH})"
    return ""


def word_facts(word: str, lex: dict) -> tuple[bool, str, bool, bool, bool, bool]:
    """What the walk tests of a token, worked out once per lexicon (`word_facts`): the walk meets
    the same tokens again and again. (number token, stop_reason, a single character of
    inner_single_tags, a verb that cuts names (_cuts), a verb not of lists/org_name_verb.txt,
    a name token.)"""
    facts = lex["word_facts"].get(word)
    if facts is None:
        st = lex["settings"]
        tag = lex["tags"].get(word, "")
        facts = lex["word_facts"][word] = (
            st["number_token"].fullmatch(word) is not None, stop_reason(word, lex),
            len(word) == 1 and lex["tags"].get(word) in st["inner_single_tags"], _cuts(word, lex),
            tag[:1] == st["verb_tag"] and word not in lex["name_verbs"], st["name_token"].fullmatch(word) is not None)
    return facts


def _is_stop(word: str, lex: dict) -> bool:
    """A token that cannot be inside a name."""
    return bool(stop_reason(word, lex))


def _cuts(word: str, lex: dict) -> bool:
    """A two-character verb not known inside names: the name starts after it."""
    return len(word) >= lex["settings"]["cutting_verb_min_len"] \
        and lex["tags"].get(word, "") == lex["settings"]["verb_tag"] \
        and word not in lex["name_verbs"]


def _anchor_in(text: str, start: int, end: int, index: dict) -> int | None:
    """Leftmost position in [start, end) where a word (2+ characters) of an index starts and ends.

    The words are indexed by their first two characters (Lexicon `index_*`),
    so a position costs one dict lookup: several times faster than a regex
    alternation of the 3,000 place names.
    """
    for p in range(start, end - 1):
        words = index.get(text[p:p + 2])
        if words is not None and text.startswith(words, p, end):
            return p
    return None


def _anchor_at(text: str, pos: int, lex: dict) -> bool:
    """True when a place, head or anchor (2+ characters) starts at pos."""
    for index in (lex["index_places"], lex["index_heads"]):
        words = index.get(text[pos:pos + 2])
        if words is not None and text.startswith(words, pos):
            return True
    return False


def walk_left(text: str, suffix_start: int, toks, lex: dict) -> tuple[int, int]:
    """(start, cut) of the stretch of name tokens that ends at suffix_start (see `walk`)."""
    start, cut, _, _ = walk(text, suffix_start, toks, lex)
    return start, cut


def walk(text: str, suffix_start: int, toks, lex: dict) -> tuple[int, int, str, str]:
    """(start, cut, why start, why cut) of the stretch of name tokens that ends at suffix_start.

    start: where the walk stopped (punctuation, number, stop word, or a
    conjunction after a complete name); cut: the end of the last verb that
    cuts names (the name starts at or after it). The whys name the list or
    setting that stopped or cut. The token before the current one is only
    asked for when a test needs it, so a walk that stops at punctuation never
    segments the clause before it.
    """
    st = lex["settings"]
    tok = toks.at(suffix_start - 1) if suffix_start > 0 else None
    start = cut = suffix_start
    why, why_cut = "the text starts", ""
    while tok is not None:
        w, s, e = tok
        number, reason, single_inner, cuts, verb, _ = word_facts(w, lex)
        if suffix_start - s > st["max_name"]:
            why = f"longer than max_name {st['max_name']} ({SETTINGS_PATH})"
            break
        if w in st["close_brackets"]:
            prev = toks.before(tok)
            prev2 = toks.before(prev) if prev is not None else None
            if prev2 is not None and prev2[0] in st["open_brackets"] \
                    and (prev[0] in lex["places"] or prev[0] in lex["heads"] or prev[0] in lex["suffix"]):
                start = prev2[1]              # 网易(兰州)…, 某某控股(集团)有限公司, 某某(中国)有限公司
                tok = toks.before(prev2)
                continue
        if number:
            prev = toks.before(tok)
            if prev is not None and prev[0] == st["ordinal"]:
                start = s                     # 第940医院
                tok = prev
                continue
        if w in st["inner_conjunctions"] and not _anchor_at(text, e, lex):
            # 文化和旅游局; not 大连某某和|广州某某俱乐部: a place after it starts a new name
            prev = toks.before(tok)
            if prev is not None and not _ends_with_suffix(prev[0], lex) \
                    and prev[0] not in lex["places"] and prev[0] not in lex["titles"] \
                    and st["name_token"].fullmatch(prev[0]) and not _is_stop(prev[0], lex):
                start = s                     # 文化和旅游局, 草种创新与草地农业…实验室
                tok = prev
                continue
        if not reason and w.startswith(st["ordinal"]) and text.startswith(st["ranking_end"], e):
            reason = f"{w}{st['ranking_end']} is a ranking (ranking_end in {SETTINGS_PATH})"
        if reason:
            why = reason
            break
        prev = toks.before(tok)
        if single_inner and prev is not None and not word_facts(prev[0], lex)[5]:
            why = f"{w} is a measure word after a number (inner_single_tags in {SETTINGS_PATH})"
            break                             # 35家航空公司
        # a verb that cuts names, or any verb (not of lists/org_name_verb.txt) right after a complete name
        if cut == suffix_start and (cuts or verb and prev is not None and _ends_with_suffix(prev[0], lex)):
            cut = e                           # 兰州新区应急管理局|联合|兰州市消防救援支队
            why_cut = f"{w} is a verb not in {LIST_FILES['org_name_verb']}"
        start = s
        tok = prev
    if cut >= suffix_start:                   # a verb right before the suffix is part of the name (联合创新中心)
        cut, why_cut = start, why
    return start, cut, why, why_cut


def _ends_with_suffix(word: str, lex: dict) -> bool:
    """True when a token looks like a complete name's end (管理局, 示范区), not a bare 省部."""
    suffixes = lex["suffix"]
    short = lex["settings"]["short_suffix_min_word"]
    return any(word[-n:] in suffixes and (n >= 2 or len(word) >= short)
               for n in range(1, min(len(word), lex["settings"]["max_suffix"]) + 1)) \
        or word in lex["gazetteer"]


def _is_company_suffix(suffix: str, lex: dict) -> bool:
    """A suffix of lists/org_company_suffix.txt."""
    return suffix in lex["company_suffix"]


def interpret(rule, m, text: str, rules, tokens) -> dict:
    """Fields of an org match, with `_span` the name's span and `_why` how its start was found;
    Drop (naming the list or setting that decided) when it is not a name.

    The rule's `interpret` says how: "quoted" (the `name` group is the name),
    "gazetteer" (a listed name), "named" (a suffix: walk left for the start),
    "listed" (an item of a list of companies: walk left from its end).
    tokens: the text's `segment.Tokens`.
    """
    fields = _interpret(rule, m, text, tokens, lexicon(rules))
    if fields["category"] in lexicon(rules)["settings"]["outlet_categories"]:
        _not_outlet(text, *fields["_span"], lexicon(rules))
    return fields


def _not_outlet(text: str, s: int, e: int, lex: dict) -> None:
    """Drop an outlet written as a dateline or a source line (metadata, not a mention)."""
    st = lex["settings"]
    if st["outlet_after"].match(text[e:e + st["outlet_window"]]):
        raise Drop(f"{text[s:e]!r} is the outlet of a dateline (outlet_after in {SETTINGS_PATH})")
    if st["outlet_before"].search(text[max(0, s - st["outlet_window"]):s]):
        raise Drop(f"{text[s:e]!r} is the outlet of a source line (outlet_before in {SETTINGS_PATH})")


def _interpret(rule, m, text: str, tokens, lex: dict) -> dict:
    """interpret() before the outlet check."""
    how = rule.interpret or "named"
    if how == "quoted":
        s, e = m.span("name") if "name" in rule.regex.groupindex else m.span()
        return _fields(text[s:e], s, e, lex, rule, f"the quoted or titled name (rule {rule.id}, {rule.where})")
    if how == "listed":
        return _listed(rule, m, text, tokens, lex)
    s, e = m.span()
    if not tokens.ends_at(e):
        word, ws, we = tokens.at(e - 1)
        if text[e:we] not in lex["titles"] or how == "gazetteer":
            raise Drop(f"{text[s:e]!r} ends inside the word {word!r} (jieba; a title glued to it would be in "
                       f"{LIST_FILES['org_title']})")
        titled = True                         # 司法部长: the title is glued to the suffix
    else:
        titled = lex["title_pattern"].match(text, e) is not None
    if how == "gazetteer":
        if not tokens.starts_at(s):
            raise Drop(f"not at a word boundary (jieba; {LIST_FILES['org_gazetteer']})")
        before = tokens.before(tokens.at(s))
        why = f"the name is in {LIST_FILES['org_gazetteer']}"
        if before is not None and before[0] in lex["places"]:
            s = before[1]                     # 兰州兰泵: place + short name
            why += f", after the place {before[0]} ({LIST_FILES['place']})"
        fields = _fields(text[s:e], s, e, lex, rule, why)
        fields["category"] = rule.category or lex["gazetteer"].get(m.group(0)) or fields["category"]
        return fields
    return _named(rule, text, s, e, tokens, lex, titled)


def _listed(rule, m, text: str, tokens, lex: dict) -> dict:
    """interpret() of an item of a list of companies (甲乙科技、丙丁能源等企业): the walk's cut to its end."""
    s, e = m.span("name") if "name" in rule.regex.groupindex else m.span()
    if not tokens.ends_at(e) or not tokens.starts_at(s) and tokens.at(s)[1] < s and tokens.at(s)[2] > e:
        raise Drop(f"{text[s:e]!r} ends inside a word (jieba)")
    start, cut, why_start, why_cut = walk(text, e, tokens, lex)
    start = max(cut, s)
    why = f"an item of a list closed by a noun of {LIST_FILES['org_list_noun']}; starts after: {why_cut}"
    while start < e and not tokens.starts_at(start):
        start = tokens.at(start)[2]           # from a token boundary
    name = text[start:e]
    st = lex["settings"]
    if len(name) < st["min_name"]:
        raise Drop(f"{name!r}: too short for a name (min_name in {SETTINGS_PATH})")
    if _all_common(text, start, e, tokens, lex):
        raise Drop(f"{name!r}: common words only (jieba frequency >= common_freq in {SETTINGS_PATH})")
    if tokens.at(start)[2] == e and (lex["freq"].get(name) or 0) >= st["listed_word_freq"] \
            and lex["tags"].get(name, "") in st["listed_word_tags"]:
        raise Drop(f"{name!r} is one frequent dictionary word (纺织、煤炭等企业: a trade, not a name): "
                   f"listed_word_freq and listed_word_tags in {SETTINGS_PATH}")
    if name in lex["places"] or _leading_place(name + "。", lex) == name:
        raise Drop(f"{name!r} is a place ({LIST_FILES['place']})")
    if _generic(name, lex) or lex["descriptor"].fullmatch(name):
        raise Drop(f"{name!r} is a generic phrase ({LIST_FILES['org_generic']} or {LIST_FILES['org_descriptor']})")
    return _fields(name, start, e, lex, rule, why)


def _named(rule, text: str, s: int, e: int, tokens, lex: dict, titled: bool) -> dict:
    """interpret() of a suffix match: the name's start from the walk and the anchors."""
    st = lex["settings"]
    suffix = text[s:e]
    if text.endswith(lex["title_prefixes"], 0, s):
        p = next(p for p in lex["title_prefix"] if text.endswith(p, 0, s))
        raise Drop(f"{suffix!r} starts a title: {p} is in {LIST_FILES['org_title_prefix']}")
    if text.endswith(suffix, 0, s):
        raise Drop(f"{suffix!r} starts a title (研究所所长: the suffix twice; rule {rule.id}, {rule.where})")
    holder = tokens.at(s)
    # a verb only as a word of its own (组织|开展), not inside a dictionary name (石油输出国组织)
    as_verb = suffix in lex["verb_suffix"] and holder[1] == s and st["name_token"].fullmatch(text[e:e + 1] or "。") \
        and not any(text.startswith(t, e) for t in lex["titles"]) \
        and text[e:e + 1] not in st["verb_suffix_name_followers"]
    if holder[1] < s:
        # the suffix ends a longer token (兰州大学, 控制中心): fine for names, not for 签署, 院所
        if holder[0] in lex["generic"]:
            raise Drop(f"suffix {suffix!r} inside {holder[0]}, which is in {LIST_FILES['org_generic']}")
        if (_cuts(holder[0], lex) or lex["tags"].get(holder[0], "n")[:1] in st["holder_stop_tag_starts"]) \
                and s - holder[1] <= st["holder_max_body"]:
            raise Drop(f"suffix {suffix!r} inside the word {holder[0]!r} (jieba tag "
                       f"{lex['tags'].get(holder[0])}: holder_stop_tag_starts and holder_max_body in "
                       f"{SETTINGS_PATH}, or a verb not "
                       f"in {LIST_FILES['org_name_verb']})")
    start, cut, why_start, why_cut = walk(text, s, tokens, lex)
    if start >= s:
        raise Drop(f"bare suffix {suffix!r}: nothing name-like before it ({why_start})")
    verb = tokens.at(s - 1)
    if verb[2] == s and _cuts(verb[0], lex) and (verb[1] == start or _is_company_suffix(suffix, lex)
                                                  and _ends_with_suffix(tokens.at(verb[1] - 1)[0], lex)):
        # 促使|银行, 市政府|促使|银行: a verb alone, or after a name before a company suffix (not 某公司|飞行|部)
        raise Drop(f"the verb {verb[0]} before {suffix!r} (a verb not in {LIST_FILES['org_name_verb']})")
    place = _anchor_in(text, cut, s, lex["index_places"])
    if place is None:
        place = _tagged_place(text, cut, s, tokens, lex)
    head = _anchor_in(text, cut, s, lex["index_heads"])
    before = tokens.at(s - 1) if s > 0 else None
    if as_verb and (head is None or before is not None and before[2] == s and _ends_with_suffix(before[0], lex)):
        raise Drop(f"{suffix!r} is used as a verb here (组织了…): it is in {LIST_FILES['org_verb_suffix']}, and "
                   f"no head of {LIST_FILES['org_head']} (世界卫生组织) is before it, or a name is "
                   f"(基金会组织…)")
    category_of_suffix = lex["suffix"].get(suffix)
    where = text[start:e]
    if _is_company_suffix(suffix, lex):
        # a company is named by the whole stretch (中化兰州新材料有限公司), not from its place on,
        # but never across a conjunction (上海邮电与深圳华为公司)
        conj = [i + 1 for i in range(cut, s) if text[i] in st["inner_conjunctions"]]
        anchor = max([cut] + conj)
        why = f"company suffix {suffix} ({LIST_FILES['org_company_suffix']}): the stretch after " + (
            f"the conjunction {text[anchor - 1]} (inner_conjunctions in {SETTINGS_PATH})" if conj and anchor > cut
            else why_cut)
        if place is not None and place > anchor and (head is None or head >= place) \
                and _all_common(text, anchor, place, tokens, lex):
            anchor = place                    # 航线|阿根廷航空公司: common words before the place
            why = f"the place {_anchor_word(text, place, s, lex)} after common words (common_freq in {SETTINGS_PATH})"
        if place is None and head is None and _all_common(text, anchor, e, tokens, lex):
            raise Drop(f"{text[anchor:e]!r}: a kind of company, not a name: common words only (jieba frequency "
                       f">= common_freq in {SETTINGS_PATH}; no place, head or anchor of {LIST_FILES['place']}, "
                       f"{LIST_FILES['org_head']}, {LIST_FILES['org_anchor']})")
    elif place is not None and (head is None or place <= head):
        anchor = place
        why = f"starts at {_anchor_word(text, place, s, lex)}, the leftmost anchor after: {why_cut}"
    elif head is not None:
        # only a head (国家, 中国…): 固体润滑国家重点实验室 is named by the whole stretch
        anchor = cut if category_of_suffix in st["whole_stretch_categories"] else head
        why = f"starts at the head {_anchor_word(text, head, s, lex)}" if anchor == head \
            else f"whole stretch: {category_of_suffix} is in whole_stretch_categories ({SETTINGS_PATH}); {why_cut}"
        if anchor == cut and _generic(text[cut:e], lex) and start < cut:
            anchor = start                    # 固体润滑国家重点实验室: a verb inside a lab's name
            why = f"whole stretch: the part after the verb is in {LIST_FILES['org_generic']}"
    elif category_of_suffix in st["unanchored_categories"] and s - start >= st["unanchored_min_body"]:
        anchor = start                        # 离子加速器及质量检验检测工程实验室
        why = f"{category_of_suffix} needs no anchor (unanchored_categories in {SETTINGS_PATH}); {why_start}"
    elif suffix in lex["rare_word_suffix"] and s - cut >= st["rare_word_min_body"] \
            and _plain_nouns(cut, s, tokens, lex) and not _all_common(text, cut, s, tokens, lex):
        anchor = cut                          # 复旦大学, 密执安州立大学, 光明日报: a rare word names it
        why = f"a rare word before {suffix} ({LIST_FILES['org_rare_word_suffix']}); {why_cut}"
    elif titled and s - cut >= st["rare_word_min_body"] and category_of_suffix in st["titled_categories"] \
            and _plain_nouns(cut, s, tokens, lex, st["titled_min_token"]):
        anchor = cut                          # 司法部长: a title shows a name
        why = f"a title follows ({LIST_FILES['org_title']}, titled_categories in {SETTINGS_PATH}); {why_cut}"
    elif cut > 0 and text[cut - 1] in st["coordinators"] and _coordinated(text, cut - 1, suffix, lex):
        anchor = cut
        why = f"after {text[cut - 1]} an org of the same category (coordinators in {SETTINGS_PATH})"
    else:
        raise Drop(f"no place, head or proper name before {suffix!r} in {where!r} (add one to "
                   f"{LIST_FILES['place']}, {LIST_FILES['org_head']} or {LIST_FILES['org_anchor']}; "
                   f"the stretch starts after: {why_start})")
    anchor, why = _after_descriptor(text, anchor, s, tokens, lex, why)
    if s - anchor < 1:
        raise Drop(f"no body before {suffix!r}: {why}")
    anchor, why = _after_country(text, anchor, s, e, tokens, lex, why)
    name = text[anchor:e]
    w = _not_name_end(name, tokens.at(e - 1)[1] - (e - len(name)), lex)
    if w:
        raise Drop(f"{name!r} ends with {w}, which is in {LIST_FILES['org_not_name_end']}")
    if _generic(name, lex):
        raise Drop(f"{name!r} is a generic phrase ({_without_head(name, lex)} is in {LIST_FILES['org_generic']})")
    if suffix in lex["needs_body"] and suffix == _without_head(name, lex):
        raise Drop(f"{name!r}: a head and {suffix} make no name ({suffix} is in {LIST_FILES['org_needs_body']})")
    if suffix in lex["place_needs_body"] and suffix == name[len(_leading_place(name, lex)):]:
        raise Drop(f"{name!r}: a place and {suffix} make no name ({suffix} is in "
                   f"{LIST_FILES['org_place_needs_body']})")
    return _fields(name, anchor, e, lex, rule, why)


def _not_name_end(name: str, last_start: int, lex: dict) -> str:
    """The first word of lists/org_not_name_end.txt the name ends with, not inside its last token
    (which starts at last_start in name); '' when none. One set lookup per word length."""
    order = lex["not_end_order"]
    ends = [name[-n:] for n in lex["not_end_lengths"]
            if n <= len(name) and name[-n:] in order and last_start >= len(name) - n]
    return min(ends, key=order.__getitem__) if ends else ""


def _after_descriptor(text: str, anchor: int, s: int, tokens, lex: dict, why: str) -> tuple[int, str]:
    """The start after the last descriptor (外资企业, 龙头企业: lists/org_descriptor.txt) in text[anchor:s]."""
    last = None
    for m in lex["descriptor"].finditer(text, anchor, s):
        if tokens.ends_at(m.end()) or m.end() == s:
            last = m
    if last is None:
        return anchor, why
    return last.end(), f"after the descriptor {last.group()} ({LIST_FILES['org_descriptor']})"


def _after_country(text: str, anchor: int, s: int, e: int, tokens, lex: dict, why: str) -> tuple[int, str]:
    """The start after a leading foreign country (韩国|釜庆大学: lists/org_foreign_place.txt) when the rest
    is still a name (not common words only: 法国|雇主协会 keeps its country; not another country
    first: 美国哥伦比亚大学) of a category of foreign_strip_categories."""
    st = lex["settings"]
    for w in sorted(lex["index_foreign"].get(text[anchor:anchor + 2], ()), key=len, reverse=True):
        if text.startswith(w, anchor):
            rest = anchor + len(w)
            name = text[rest:e]
            if s - rest >= st["rare_word_min_body"] and category(name, lex) in st["foreign_strip_categories"] \
                    and not _generic(name, lex) and text[rest:s] not in lex["heads"] \
                    and not _all_common(text, rest, s, tokens, lex) \
                    and not any(name.startswith(c) for c in lex["foreign"]):
                return rest, f"after the foreign country {w} ({LIST_FILES['org_foreign_place']}, " \
                             f"foreign_strip_categories in {SETTINGS_PATH})"
            break
    return anchor, why


def _tagged_place(text: str, start: int, end: int, tokens, lex: dict) -> int | None:
    """Start of the first token in text[start:end] that jieba tags as a place (place_tags: 琉璃河 ns),
    for places lists/place.txt lacks."""
    st = lex["settings"]
    pos = start
    while pos < end:
        w, ws, we = tokens.at(pos)
        if ws >= start and we <= end and len(w) >= st["min_name"] and lex["tags"].get(w) in st["place_tags"]:
            return ws
        pos = we
    return None


def _anchor_word(text: str, pos: int, end: int, lex: dict) -> str:
    """The longest listed anchor word at text[pos:], with the list that holds it (for messages)."""
    for n in range(min(end - pos, lex["max_anchor"]), 1, -1):
        w = text[pos:pos + n]
        for key, name in (("places", "place"), ("heads", "org_head"), ("gazetteer_set", "org_gazetteer"),
                          ("anchors", "org_anchor")):
            if w in lex[key]:
                return f"{w} ({LIST_FILES[name]})"
    return text[pos:pos + 2]


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
    st = lex["settings"]
    pos = start
    if pos < end:
        _, s, e = toks.at(pos)
        if s < start:
            pos = e                           # the token holding start began before it: not inside
    while pos < end:
        w, s, e = toks.at(pos)
        if e <= end:
            tag = lex["tags"].get(w, "")
            if tag[:1] == st["verb_tag"] and w not in lex["name_verbs"] or tag.startswith(st["person_tag"]) \
                    or tag in st["not_plain_tags"] or len(w) < min_len:
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
    common = lex["settings"]["common_freq"]
    return bool(pieces) and all((lex["freq"].get(p) or 0) >= common for p in pieces)


def _without_suffix(word: str, lex: dict) -> str:
    """The word less the longest org suffix it ends with (保险公司 -> 保险, 公司 -> '')."""
    for n in range(min(len(word), lex["settings"]["max_suffix"]), 0, -1):
        if word[-n:] in lex["suffix"]:
            return word[:-n]
    return word


def _coordinated(text: str, conj: int, suffix: str, lex: dict) -> bool:
    """True when the text before the conjunction ends with a suffix of the same category (A示范区和B试验区)."""
    cat = lex["suffix"].get(suffix)
    for n in range(lex["settings"]["max_suffix"], 1, -1):
        before = text[max(0, conj - n):conj]
        if len(before) == n and before in lex["suffix"] and lex["suffix"][before] == cat \
                and conj - n > 0 and lex["settings"]["name_token"].fullmatch(text[conj - n - 1]):
            return True
    return False


def _fields(name: str, s: int, e: int, lex: dict, rule, why: str = "") -> dict:
    if len(name) < lex["settings"]["min_name"]:
        raise Drop(f"{name!r}: too short for a name (min_name in {SETTINGS_PATH}; {why})")
    return {"value": name, "value_max": "", "unit": "", "qualifier": "",
            "category": rule.category or category(name, lex), "_span": (s, e), "_why": why}
