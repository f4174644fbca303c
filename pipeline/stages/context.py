"""Stage 6, context: what each figure measures, whose it is, when, and whether it is a change.

SPEC "Context of a figure": every amount, count, percent and quantity row gets
`indicator`, `entity`, `period`, `period_max` and `change`, read from its
clause as written; where the text does not say, the field stays empty (a
wrong context is worse than none). The stage reads the cleaned text and the
rows already found: date rows give periods, org rows give entities.

A sentence ends at 。！？ or a line end (；and ，do not end it); its clauses
at ，；：. For each clause the stage reads its subject (an org row, a place or
reference word, or the words before a value verb) and carries it to the
following clauses of the sentence that have none. For each figure it reads
the `gap` (the clause text between the subject or the figure before, and the
figure) and the `tail` (the text after it): the patterns of
`rules/context.toml`, tried in file order, decide the indicator and change.
Every choice names its rule, for `explain`.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import regex

from ..outputs import FIGURE_KINDS

CONTEXT_FILE = "context.toml"
TOP_FIELDS = {"pattern", "max_gap"}
PATTERN_FIELDS = {"id", "on", "pattern", "note", "examples", "negatives", "no_period", "requires"}
PARTS = ("gap", "tail", "clause")
# The lists the stage reads (rules/lists/<name>.txt, one word a line).
LISTS = {"head": "context_head", "lead": "context_lead", "stop": "context_stop",
         "preposition": "context_preposition", "reference": "context_reference", "opener": "context_opener",
         "modal": "context_modal",
         "time_word": "context_time_word", "same_time": "context_same_time", "year_word": "context_year_word",
         "place": "place", "classifier": "context_classifier", "measure": "measure_word",
         "rate_end": "context_rate_end", "do_verb": "context_do_verb", "link": "context_link_verb"}
VERB_LIST = "context_value_verb"
FRAGMENT_NAME = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")
# Sentence ends (SPEC: ；and ，do not end a sentence) and clause ends inside a sentence.
SENTENCE_END = regex.compile(r"[。！？!?\n]")
CLAUSE_END = regex.compile(r"[，,；;：:]")
# A date row right after one of these, or right before one of those, is a comparison base, not the
# figure's period (较2018年提高…, 与2020年相比, 恢复到2019年同期的…).
BASE_BEFORE = regex.compile(r"(?:较|比|与|同|相对于|恢复到|恢复至)$")
BASE_AFTER = regex.compile(r"(?:同期|相比|末相比|底相比|水平|的[0-9.]+倍)")
BASE_WINDOW = 8        # characters after a date searched for BASE_AFTER
# Punctuation right after a figure: no noun follows it.
PUNCT = set("，,；;。：:、！？!?）)】」”\n")
# Characters trimmed off the ends of an indicator or entity; an indicator holding a digit is a
# piece of another figure and is dropped.
TRIM = " \t　的了及和与、"
DIGIT = regex.compile(r"(?<![A-Za-z0-9.])[0-9０-９](?![0-9]*(?:[A-Za-z]|强))")   # 4A级景区, PM2.5浓度, 世界500强企业
                                                                               # are names, 3家 is a figure
WORD = regex.compile(r"[\p{Han}A-Za-z]")              # a name holds a word (not "/" of 200MW/800MWh)
YEAR_PREFIX = regex.compile(r"(?:19|20)\d{2}(?=\p{Han})(?!年)")   # 2024郑州马拉松: a year opening a name
# A name holding 等 (甲、乙等生物医药企业) is what follows it.
ETC_WORD = "等"
# An indicator or entity longer than this is not a name but a clause read wrong: left empty.
MAX_NAME = 24
# At most this many characters extend an org or place into a longer subject (兰州市 + 财政).
MAX_EXTENSION = 12
# Conjunctions between two figures of one indicator (完成21.4亿元和16.2亿元).
JOIN = regex.compile(r"^[和及、/／]$")
# A value verb right before a head is part of a facility's name after at least this many characters
# of it (…至忠和段|改扩建|工程), not after fewer (新|开工|项目 is what is counted).
NAME_BEFORE_VERB = 4
# 所在 (where it is: 项目所在园区) holds 在 but is no preposition.
LOCATED = "所在"
# A new thing a clause ends with is a topic only when named: quoted, an org row, or at least this long
# (设立研发中心 is no topic, 推出普惠型商业补充医疗保险 is).
MIN_FOUNDED = 5
# A clause opening with this word names a new subject after 的 (由甲、乙共同主办的这一赛事已…).
AGENT = "由"
# A clause opening with this word reads a new subject before its verb (其中高校院所输出…).
SUBJECT_OPENER = "其中"
# After a list of names, 等 and what they are (甲医院、乙医院等6家医院): part of the subject.
ETC = regex.compile(r"等(?:[0-9一二三四五六七八九十两]+[家个所座名])?(?=\p{Han})")
MAX_ETC_NOUN = 12
OPEN_QUOTE = {"“", '"', "「"}
OPEN_QUOTE_MARK = ("“", '"', "「")
# The rule name of a reference word (全市, 园区): a whole reference, never the start of a longer name.
REFERENCE_RULE = "lists/context_reference.txt"
# A clause with this word gives the i-th of a list of subject names to its i-th figure (甲、乙分别完成3亿元和2亿元).
RESPECTIVELY = "分别"
# Org rows joined by these form one entity (甲大学、乙大学共建…).
ORG_JOIN = regex.compile(r"^[、和及]$")     # not 与: 甲大学与乙公司合作… is 甲大学's
# …but after a list of two or more (甲大学、乙大学与驻地医院共建…) 与 adds one more partner to it
LIST_PARTNER = "与"


@dataclass
class Pattern:
    """One named pattern of rules/context.toml."""
    id: str
    on: str                  # gap | tail | clause
    regex: object
    file: str
    line: int
    note: str = ""
    no_period: bool = False
    examples: list = field(default_factory=list)
    negatives: list = field(default_factory=list)
    known_failures: list = field(default_factory=list)
    kind: str = "context"
    requires: tuple = ()     # the pattern is tried only on a text holding one of these (speed only)

    def __post_init__(self):
        words = sorted(set(self.requires), key=len, reverse=True)
        self.requires_re = re.compile("|".join(map(re.escape, words))) if words else None
        self.where = f"{self.file}:{self.line}"


@dataclass
class ContextRules:
    patterns: dict[str, Pattern]
    words: dict[str, object]          # list key of LISTS -> Words
    list_files: dict[str, str]        # list key -> its file, for explain
    verbs: object = None              # Words of lists/context_value_verb.txt
    max_gap: int = 40                 # context.toml `max_gap`: characters of a gap or clause read


@dataclass
class Choice:
    """One context field of one figure: its value, the rule or list that chose it, and why."""
    value: str = ""
    rule: str = ""
    why: str = ""
    owner: str = ""          # a subject read after 的: the org that did it (甲集团研发的品种…), if written


class _WordMatch:
    """The longest word of a Words list found at a position (shaped like a regex match)."""
    __slots__ = ("word", "_end")

    def __init__(self, word: str, end: int):
        self.word, self._end = word, end

    def group(self) -> str:
        return self.word

    def end(self) -> int:
        return self._end


class Words:
    """A word list matched at a position, longest word first, by set look-ups (a regex alternation of
    the 2,800 places costs ~15 µs a try, this ~1 µs)."""

    def __init__(self, words: list[str]):
        self.words = {w for w in words if w}
        self.lengths = sorted({len(w) for w in self.words}, reverse=True)
        self.first = {w[0] for w in self.words}

    def match(self, text: str, pos: int = 0, end: int | None = None) -> _WordMatch | None:
        end = len(text) if end is None else end
        if pos >= end or text[pos] not in self.first:
            return None
        for n in self.lengths:
            if pos + n <= end and text[pos:pos + n] in self.words:
                return _WordMatch(text[pos:pos + n], pos + n)
        return None


def _ends_with(s: str, words: "Words | None") -> bool:
    """Does s end with a word of `words`?"""
    return words is not None and any(len(s) > n and s[-n:] in words.words for n in words.lengths)


def strip_end(s: str, words: "Words | None") -> str:
    """s without the words of `words` it ends with (游客将 -> 游客, 收入有望 -> 收入)."""
    if words is None:
        return s
    changed = True
    while changed and s:
        changed = False
        for n in words.lengths:
            if len(s) > n and s[-n:] in words.words:
                s, changed = s[:-n], True
                break
    return s


def _starts(words: list[str]) -> Words | None:
    """The words as a Words matcher, or None when there are none."""
    w = Words(words)
    return w if w.words else None


def trie_alternation(words: list[str]) -> str:
    """A regex matching the same words as `rules._alternation` (the longest at a position first), as a
    trie: 达(?:到)? for 达, 达到. The `regex` module tries a flat alternation of a hundred words one by
    one at each position; the trie halves the cost of the context patterns."""
    root: dict = {}
    for w in set(words):
        if not w:
            continue
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        kids = [(c, k) for c, k in sorted(node.items()) if c]
        if not kids:
            return ""
        alts = [regex.escape(c) + emit(k) for c, k in kids]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + emit(root) + ")" if root else "(?!)"


def load(rules_dir: Path, lists: dict, fragments: dict, expand, problems: list[str]) -> ContextRules:
    """Read rules_dir/context.toml (patterns with {FRAGMENT}s expanded) and the context lists."""
    import tomllib
    # the context lists' fragments as tries: the same matches, faster
    fragments = {**fragments, **{name.upper(): trie_alternation([r[0] for r in rows])
                                 for name, rows in lists.items() if name.startswith("context_")}}
    path = rules_dir / CONTEXT_FILE
    patterns: dict[str, Pattern] = {}
    words = {k: _starts([r[0] for r in lists.get(name, [])]) for k, name in LISTS.items()}
    files = {k: str(rules_dir / "lists" / f"{name}.txt") for k, name in LISTS.items()}
    verbs = _starts([r[0] for r in lists.get(VERB_LIST, [])])
    if not path.exists():
        return ContextRules(patterns, words, files, verbs, max_gap)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: not valid TOML: {e}")
        return ContextRules(patterns, words, files, verbs, max_gap)
    unknown = set(data) - TOP_FIELDS
    if unknown:
        problems.append(f"{path}: unknown top-level key(s) {sorted(unknown)}; allowed: {', '.join(sorted(TOP_FIELDS))}")
    max_gap = data.get("max_gap", ContextRules.max_gap)
    if not isinstance(max_gap, int) or max_gap < 1:
        problems.append(f"{path}: max_gap must be a positive integer")
        max_gap = ContextRules.max_gap
    starts = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip() == "[[pattern]]"]
    for i, entry in enumerate(data.get("pattern", []) or []):
        line = starts[i] if i < len(starts) else 1
        where = f"{path}:{line}"
        pid = entry.get("id")
        if not pid:
            problems.append(f"{where}: pattern #{i + 1} has no id")
            continue
        unknown = set(entry) - PATTERN_FIELDS
        if unknown:
            problems.append(f"{where}: [{pid}] unknown field(s) {sorted(unknown)}")
        if pid in patterns:
            problems.append(f"{where}: [{pid}] duplicate id")
            continue
        if entry.get("on") not in PARTS:
            problems.append(f"{where}: [{pid}] `on` must be one of {', '.join(PARTS)}")
            continue
        pat = entry.get("pattern")
        if not isinstance(pat, str) or not pat:
            problems.append(f"{where}: [{pid}] missing field 'pattern'")
            continue
        try:
            compiled = regex.compile(expand(pat, fragments, f"{where}: [{pid}]", problems))
        except regex.error as e:
            problems.append(f"{where}: [{pid}] regex does not compile: {e}")
            continue
        requires = []
        for w in entry.get("requires", []) or []:     # a word, or {LIST}: every word of rules/lists/list.txt
            m = FRAGMENT_NAME.fullmatch(str(w))
            if m and m.group(1).lower() not in lists:
                problems.append(f"{where}: [{pid}] requires {w}: no list rules/lists/{m.group(1).lower()}.txt")
            requires += [r[0] for r in lists.get(m.group(1).lower(), [])] if m else [str(w)]
        patterns[pid] = Pattern(pid, entry["on"], compiled, str(path), line, entry.get("note", ""),
                                bool(entry.get("no_period", False)), list(entry.get("examples", [])),
                                list(entry.get("negatives", [])), requires=tuple(requires))
    return ContextRules(patterns, words, files, verbs, max_gap)


def spans(text: str, start: int, end: int, ends) -> list[tuple[int, int]]:
    """The pieces of text[start:end] between the matches of `ends` (each end kept in its piece)."""
    out, s = [], start
    for m in ends.finditer(text, start, end):
        out.append((s, m.end()))
        s = m.end()
    if s < end:
        out.append((s, end))
    return out


def clean_name(s: str) -> str:
    """An indicator or entity as written, its edges trimmed; '' when it is no name (digits, too long)."""
    s = s.strip(TRIM)
    if ETC_WORD in s and len(s.rsplit(ETC_WORD, 1)[1]) >= 2:
        s = s.rsplit(ETC_WORD, 1)[1]
    if len(s) >= 2 and s[0] in "“\"「" and s[-1] in "”\"」" and s.count("“") <= 1:
        s = s[1:-1]
    y = YEAR_PREFIX.match(s)
    if not s or DIGIT.search(s, y.end() if y else 0) or len(s) > MAX_NAME or not WORD.search(s):
        return ""
    return s


def skip_words(text: str, p: int, end: int, *res) -> int:
    """p moved past any run of words of the given start-regexes (and blanks)."""
    moved = True
    while moved and p < end:
        moved = False
        while p < end and text[p] in " \t　":
            p += 1
        for r in res:
            m = r.match(text, p, end) if r is not None else None
            if m and m.end() > p:
                p, moved = m.end(), True
    return p


class _Article:
    """The rows of one article indexed by position, and the words of the rules."""

    def __init__(self, text: str, rows: list[dict], cr: ContextRules):
        self.text, self.rows, self.cr = text, rows, cr
        self.dates = sorted((r["start"], r["end"], r) for r in rows if r["kind"] == "date")
        self.date_starts = [d[0] for d in self.dates]
        self.eligible = {d[0]: self._eligible(d[2]) for d in self.dates}   # start -> not a comparison base
        self.orgs = {r["start"]: r for r in rows if r["kind"] == "org"}
        self.counts = {r["start"]: r for r in rows if r["kind"] == "count"}
        self.owner: tuple[Choice, int] | None = None   # (entity, end) for a count inside the subject (全市12个…)
        self.parts: list[tuple[int, int]] = []     # the names of the last subject read, when a list

    def eligible_date(self, d: dict) -> bool:
        """A date row that can be a period: not a comparison base."""
        return self.eligible[d["start"]]

    def _eligible(self, d: dict) -> bool:
        t = self.text
        return not (BASE_BEFORE.search(t, max(0, d["start"] - 4), d["start"]) or
                    BASE_AFTER.match(t, d["end"], min(len(t), d["end"] + BASE_WINDOW)))

    def last_date(self, lo: int, hi: int) -> dict | None:
        """The last eligible date row starting in [lo, hi)."""
        i = bisect_left(self.date_starts, hi) - 1
        while i >= 0 and self.dates[i][0] >= lo:
            d = self.dates[i][2]
            if self.eligible_date(d):
                return d
            i -= 1
        return None

    def last_any_date(self, lo: int, hi: int) -> dict | None:
        """The last date row lying inside [lo, hi)."""
        i = bisect_left(self.date_starts, hi) - 1
        if i >= 0 and self.dates[i][0] >= lo and self.dates[i][1] <= hi:
            return self.dates[i][2]
        return None

    def date_at(self, p: int) -> dict | None:
        i = bisect_left(self.date_starts, p)
        return self.dates[i][2] if i < len(self.dates) and self.dates[i][0] == p else None

    def subject_at(self, p: int, end: int, verb_subject: bool = True,
                   fresh: bool = False, named_only: bool = False) -> tuple[Choice, int] | None:
        """The clause subject written at p: org rows (joined by 、/和), a reference or place word, or
        (verb_subject) the words before a value verb (context.subject_before_verb); where the
        sentence has no subject yet (fresh), a project or facility ending in a head word."""
        t = self.text
        end = min(end, p + self.cr.max_gap)
        for pid in ("context.subject_numbered", "context.subject_each"):
            if pid == "context.subject_each" and not verb_subject:     # 单个项目 under a subject: its part
                continue
            pat = self.cr.patterns.get(pid)
            m = pat.regex.match(t[p:end]) if pat is not None else None
            if m:
                return Choice(m.group("entity"), pat.id, f"a counted or numbered subject ({pat.where})"), p + m.end("entity")
        listed = self._noun_list(p, end) if verb_subject else None    # (集聚甲、乙等企业: an object)
        if listed:
            return listed
        lead_in = t[p:end].rstrip().endswith(("：", ":"))    # 全市…的主要预期目标是：… names no subject after 的
        if (verb_subject or t.startswith(AGENT, p) or self._name_at(p, end) is not None) and "的" in t[p:end] \
                and not lead_in:
            for pid in ("context.subject_of_noun", "context.subject_of_noun_end"):
                pat = self.cr.patterns.get(pid)
                m = pat.regex.match(t[p:end]) if pat is not None else None
                noun = clean_name(strip_end(m.group("entity"), self.cr.words.get("modal"))) if m else ""
                if noun and not _ends_with(noun, self.cr.words.get("rate_end")):    # …的大棚占比: an indicator
                    doer = self.orgs.get(p)
                    return Choice(noun, pat.id, f"the noun after 的 before the verb ({pat.where})",
                                  owner=t[p:doer["end"]] if doer else ""), p + m.end("entity")
        first = self._name_at(p, end)
        if first is None and not verb_subject:
            return None
        if first is None:
            prep = self.cr.words.get("preposition")
            h = self._head_end(p, end, MAX_NAME) if fresh and not (prep and prep.match(t, p, end)) else None
            if h and clean_name(t[p:h]) == t[p:h]:      # 某某产业园项目总投资58亿元: the project
                return Choice(t[p:h], "lists/context_head.txt", "a project or facility opening the clause"), h
            bv = self._before_verb(p, end)
            if bv and named_only and not (bv[0].value.startswith(OPEN_QUOTE_MARK) or
                                          _ends_with(bv[0].value, self.cr.words.get("head"))):
                return None                   # …；失业保险基金累计结余…: an indicator, not a new subject
            return bv
        how, q = first
        if how == REFERENCE_RULE and q in self.orgs:     # 该所 + 固体润滑国家重点实验室: a unit of the body
            how, q = "org rows", self.orgs[q]["end"]
        elif how == REFERENCE_RULE and self._classified(q):   # 全市 + 12个 + 特色夜市: the things counted
            c = self.counts[q]["end"]
            n = self._noun_end(c, end)
            if n is not None and clean_name(t[c:n]):
                self.owner = (Choice(t[p:q], how, "the reference word before the count of the subject"), q)
                return Choice(t[c:n], how, "the things counted after a reference word opening the clause"), n
        parts = [(p, q)]
        while q + 1 < end and ORG_JOIN.match(t[q]) and (nxt := self._name_at(q + 1, end)) is not None:
            parts.append((q + 1, nxt[1]))
            q = nxt[1]
        etc = self._etc(q, end) if len(parts) > 1 else None
        if etc:                              # 甲医院、乙医院等6家医院: the list and what it is
            q = etc
        if len(parts) > 1 and q < end and t[q] == LIST_PARTNER:    # 甲、乙等医院与丙医院共建…: all of them
            q = self._noun_end(q + 1, end) or q
        elif len(parts) == 1 and how != REFERENCE_RULE and self._may_extend(q, end):   # 全市 is whole
            h = self._head_end(q, end)
            if h:                             # a facility of the name: 银川 + 河东国际机场
                return Choice(t[p:h], "lists/context_head.txt", "a name and a facility head opening the clause"), h
            before_verb = self._before_verb(p, end)
            if before_verb and before_verb[1] > q and self._extends(q, before_verb[1]):
                return before_verb            # the name's own part: 兰州市财政, 甲大学第二医院新院区工程
        self.parts = parts if len(parts) > 1 else []
        return Choice(t[p:q], how, "the org row(s) or place words opening the clause"), q

    def _classified(self, q: int) -> bool:
        """Is a count row at q, its measure word one that needs a noun (12个…, not 9城)?"""
        c, w = self.counts.get(q), self.cr.words.get("classifier")
        return c is not None and w is not None and c["text"][-1:] in w.words

    def _noun_list(self, p: int, end: int) -> tuple[Choice, int] | None:
        """A list of plain nouns, 等 and what they are (中山桥、白塔山等景点, 甲鼓、乙鼓等非遗项目) opening
        the clause: the whole list (context.subject_list), org rows among its names or not (科伦药业、
        百利天恒等12家上市公司); after a reference word (后者将在甲、乙等领域…) there is no list."""
        pat = self.cr.patterns.get("context.subject_list")
        ref = self.cr.words.get("reference")
        if pat is None or (ref is not None and ref.match(self.text, p, end)):
            return None
        m = pat.regex.match(self.text[p:end])
        if not m:
            return None
        q = p + m.end() if self.text.startswith(RESPECTIVELY, p + m.end()) else self._etc(p + m.end(), end)
        if q is None:
            return None
        if q < end and self.text[q] == LIST_PARTNER:     # 甲、乙等医院与丙医院共建…: all of them
            q = self._noun_end(q + 1, end) or q
        self.parts = [(p + a, p + b) for a, b in _items(m.group())]
        return Choice(self.text[p:q], pat.id, f"a list of names, 等 and what they are ({pat.where})"), q

    def _etc(self, q: int, end: int) -> int | None:
        """The end of `等[count]noun` at q, the noun running up to a verb, adverb or preposition."""
        t, w = self.text, self.cr.words
        m = ETC.match(t, q, end)
        return self._noun_end(m.end(), end) if m else None

    def _noun_end(self, a: int, end: int) -> int | None:
        """The end of a noun of at most MAX_ETC_NOUN characters at a: where a verb, adverb or
        preposition of the lists starts (None when none starts within reach)."""
        t, w = self.text, self.cr.words
        stops = [w.get(k) for k in ("modal", "preposition", "stop")] + [self.cr.verbs]
        for i in range(a + 1, min(end, a + MAX_ETC_NOUN) + 1):
            if any(r is not None and r.match(t, i, end) for r in stops):
                return i
        heads = w.get("head")         # no verb within reach (…非物质文化遗产项目进景区): the first head noun
        for i in range(a + 2, min(end, a + MAX_ETC_NOUN) + 1):
            if heads is not None and any(i - n >= a and t[i - n:i] in heads.words for n in heads.lengths):
                return i
        return None

    def _name_at(self, p: int, end: int) -> tuple[str, int] | None:
        """(rule, end) of an org row, a reference word or a place word at p."""
        org = self.orgs.get(p)
        if org is not None:
            return "org rows", org["end"]
        for key in ("reference", "place"):
            r = self.cr.words.get(key)
            m = r.match(self.text, p, end) if r is not None else None
            if m:
                return f"lists/{LISTS[key]}.txt", m.end()
        return None

    def _head_end(self, q: int, end: int, reach: int = MAX_EXTENSION) -> int | None:
        """The end of the longest run of at most `reach` Han characters at q that ends with a word
        of lists/context_head.txt (附属中学新校区), no date, value verb (but one right before a head:
        改扩建工程) or 的 in it, or None; Latin letters and digits count (G30连霍高速…工程)."""
        heads = self.cr.words.get("head")
        if heads is None:
            return None
        t, best = self.text, None
        stop = min(end, q + reach)
        i, verbs, prep = q, self.cr.verbs, self.cr.words.get("preposition")
        while i < stop and ("\u4e00" <= t[i] <= "\u9fff" or (t[i].isascii() and t[i].isalnum())):
            v = verbs.match(t, i, end) if verbs is not None else None
            if t[i] == "的" or self.date_at(i) is not None or \
                    (v and (i - q < NAME_BEFORE_VERB or not heads.match(t, v.end(), end))):
                break                      # 某区一季度签约项目, 位于某地的电站: a date, verb or 的 ends the name
                                           # (a verb right before a head, after a name, is part of it:
                                           # …清水驿至忠和段改扩建工程; not 新开工项目)
            if best is not None and prep is not None and prep.match(t, i, end) and t[i - 1:i + 1] != LOCATED:
                break                      # 某公司三期项目|在某新区投产: after a head, a preposition ends it
            for n in heads.lengths:
                if i - n + 1 >= q and t[i - n + 1:i + 1] in heads.words:
                    best = i + 1
                    break
            i += 1
        return best

    def _may_extend(self, q: int, end: int) -> bool:
        """Can the name ending at q go on (a Han character that starts no verb, adverb or preposition)?"""
        t, w = self.text, self.cr.words
        if q >= end or not ("\u4e00" <= t[q] <= "\u9fff"):
            return False
        return not any(r is not None and r.match(t, q, end) for r in (self.cr.verbs, w.get("modal"), w.get("preposition")))

    def _extends(self, a: int, b: int) -> bool:
        """text[a:b] can go on a name opening a subject (兰州市|财政, 兰州|地区): short, no verb or preposition."""
        r = self.cr.words.get("preposition")
        return b - a <= MAX_EXTENSION and not (r is not None and r.match(self.text, a, b))

    def _before_verb(self, p: int, end: int) -> tuple[Choice, int] | None:
        """The words at p before a value verb that has its own object (context.subject_before_verb)."""
        pat = self.cr.patterns.get("context.subject_before_verb")
        m = pat.regex.match(self.text[p:end]) if pat is not None else None
        if not m:
            return None
        e = p + m.end("entity")
        d = self.last_any_date(p + 1, e)      # 某区一季度签约…: the subject ends at its date
        if d is not None:
            e = d["start"]
            e = p + len(strip_end(self.text[p:e], self.cr.words.get("modal")))   # 某公司计划|今年投资…
        name = clean_name(self.text[p:e])
        return (Choice(name, pat.id, f"the words before the verb ({pat.where})"), e) if name else None


def _items(s: str) -> list[tuple[int, int]]:
    """The (start, end) of each name of a list written with 、."""
    out, a = [], 0
    for i, ch in enumerate(s + "、"):
        if ch == "、":
            out.append((a, i))
            a = i + 1
    return out


def _period(a: _Article, d: dict | None, rule: str, why: str) -> tuple[Choice, Choice]:
    if d is None:
        return Choice("", rule, why), Choice("", rule, why)
    return (Choice(d["value"], rule, f"{why}: {d['text']}"),
            Choice(d.get("value_max", ""), rule, f"{why}: {d['text']}"))


def paragraph_date(a: _Article, para_start: int, para_end: int) -> dict | None:
    """A date opening a paragraph (its first clause is a date, 截至2023年末，…), for its later sentences
    that go on about the same thing (they open without a subject of their own)."""
    t = a.text
    source = a.cr.patterns.get("context.source")
    p = skip_words(t, para_start, para_end, source.regex if source else None)
    if p > para_start and t[p:p + 1] in "，,":       # 记者11月20日从某海关获悉，今年前10个月，…
        p += 1
    p = skip_words(t, p, para_end, a.cr.words.get("lead"))
    d = a.date_at(p)
    if d is None:
        return None
    phrase = a.cr.patterns.get("context.time_phrase")
    q = skip_words(t, d["end"], para_end, phrase.regex if phrase else None)    # 今年前10个月，
    return d if q < para_end and t[q] in "，," and a.eligible_date(d) else None


def contexts(text: str, rows: list[dict], cr: ContextRules,
             skips: list[tuple[int, int]] = ()) -> list[dict[str, Choice]]:
    """For each row (same order), its context fields as Choices; {} for a date or org row.

    `skips` are the datelines (中新网西宁11月2日电 (记者 某某)): a sentence opening with one is read
    after it, so the outlet's place is no subject."""
    out: list[dict[str, Choice]] = [{} for _ in rows]
    figures = sorted((r["start"], i) for i, r in enumerate(rows) if r["kind"] in FIGURE_KINDS)
    if not figures:
        return out
    a = _Article(text, rows, cr)
    fig_starts = [s for s, _ in figures]
    para_start, para_date, para_first = 0, None, True
    dateline_end = {x: y for x, y in skips}
    for s, e in spans(text, 0, len(text), SENTENCE_END):
        starts_paragraph = s == 0 or text[s - 1] == "\n"
        b = dateline_end.get(s + len(text[s:e]) - len(text[s:e].lstrip()))
        if b is not None and b <= e:         # a dateline opens the sentence: read after it
            s = b
        if starts_paragraph:
            para_end = text.find("\n", s)
            para_end = len(text) if para_end < 0 else para_end
            para_start, para_date, para_first = s, paragraph_date(a, s, para_end), True
        lo, hi = bisect_left(fig_starts, s), bisect_left(fig_starts, e)
        if lo < hi:
            carried = None if para_first else para_date
            _sentence(a, s, e, [figures[k][1] for k in range(lo, hi)], carried, out, para_start)
        if text[s:e].strip():
            para_first = False
    return out


def _sentence(a: _Article, s: int, e: int, idx: list[int], para_date: dict | None,
              out: list[dict[str, Choice]], para_start: int = 0) -> None:
    """The context of the figures (row indexes idx) of the sentence text[s:e]."""
    t, cr, P = a.text, a.cr, a.cr.patterns
    no_subject = Choice("", "", "no subject in the sentence before the figure")
    subject = no_subject
    last_ind = Choice()
    k = 0
    period_from = s
    same_time = None         # 同日…: the figures after it in the sentence take the paragraph's last date
    opened_sentence = False  # a clause with content was read (its subject decides the paragraph date)
    after_semicolon = False
    source = P["context.source"].regex if "context.source" in P else None   # 据某报报道, 记者从…获悉: skipped
    time_phrase = P["context.time_phrase"].regex if "context.time_phrase" in P else None
    topic = None             # a new thing the clause before brought in (context.subject_founded)
    for cs, ce in spans(t, s, e, CLAUSE_END):
        if k >= len(idx):         # no figure left in the sentence
            break
        lead = cr.words.get("lead")
        q = skip_words(t, cs, ce, lead)
        opened = t.startswith(SUBJECT_OPENER, q)
        p = skip_words(t, cs, ce, cr.words.get("opener"), source)
        own_time = year_word = None
        while True:
            d = a.date_at(p)          # a date row may hold its lead word (截至2023年底)
            if d is None:
                p = skip_words(t, p, ce, lead)
                d = a.date_at(p)
            if d is not None:
                p = skip_words(t, d["end"], ce, cr.words.get("opener"), lead, source)
                continue
            kind, m = next(((kw, w.match(t, p, ce)) for kw in ("time_word", "same_time", "year_word")
                            if (w := cr.words.get(kw)) is not None and w.match(t, p, ce)), (None, None))
            if m is None and time_phrase is not None:      # 春运期间，…: a time of its own, no date row
                kind, m = "time_word", time_phrase.match(t, p, ce)
            if m is None:
                break
            if kind == "time_word":
                own_time = m.group()
                para_date = None          # the sentence says its own time: the paragraph's date is not it
            elif kind == "same_time":
                same_time = m.group()
            else:
                year_word = m.group()
            p = skip_words(t, m.end(), ce, cr.words.get("opener"), lead, source)
        st = cr.words.get("same_time")
        if same_time is None and st is not None:      # 兰州市科协同日公布…: anywhere in the clause
            same_time = next((w for w in st.words if w in t[cs:ce]), None)
        p = skip_words(t, p, ce, cr.words.get("modal"))
        if t[p:p + 1] in OPEN_QUOTE and (p + 1) in a.orgs:     # “兰州高新区…入选…”，集聚…: the org in quotes
            p += 1
        a.parts, a.owner = [], None
        subj = a.subject_at(p, ce, verb_subject=not subject.value or opened or after_semicolon,
                            fresh=not subject.value,
                            named_only=after_semicolon and bool(subject.value) and not opened)
        parts = a.parts
        if subj is not None:
            subject, p = subj
            topic = None
            if not opened_sentence:   # a sentence with its own subject is about something else: no paragraph date
                para_date = None
        elif topic is not None and _opens_with_verb(a, p, ce):
            topic = None              # 推出某保险，累计赔付…: the subject's doing again
        clause_subject = topic or subject
        has_content = bool(t[p:ce].strip("，,；;：: "))
        after_semicolon = t[ce - 1:ce] in "；;" or (after_semicolon and not has_content)
        if has_content:
            opened_sentence = True
        prev_end, prev_ind, prev_change = p, None, Choice()
        in_clause = None          # the figures of the clause after its subject (for 分别), when needed
        while k < len(idx) and a.rows[idx[k]]["start"] < ce:
            r = a.rows[idx[k]]
            nxt = a.rows[idx[k + 1]]["start"] if k + 1 < len(idx) and a.rows[idx[k + 1]]["start"] < ce else ce
            # a figure inside the subject (甲公司投资5亿元建设的公园已开园) reads its gap from the clause start
            g0 = prev_end if prev_end <= r["start"] else cs
            d = a.last_any_date(g0, r["start"])
            pre_date = ""
            if d is not None:             # 到2025年产值超过…, 兰州市2023年收入增长…: the gap starts after the date
                pre_date = t[max(g0, d["start"] - cr.max_gap):d["start"]]   # 羊肉产量|去年|达到…: read if need be
                g0 = d["end"]
            gap = t[max(g0, r["start"] - cr.max_gap):r["start"]]
            tail = t[r["end"]:nxt]
            subj_here = clause_subject
            if parts and in_clause is None:
                in_clause = [i for i in idx if cs <= a.rows[i]["start"] < ce and a.rows[i]["start"] >= p]
            if parts and RESPECTIVELY in t[cs:ce] and len(in_clause) == len(parts) and idx[k] in in_clause:
                ps, pe = parts[in_clause.index(idx[k])]
                subj_here = Choice(t[ps:pe], subject.rule, f"name {in_clause.index(idx[k]) + 1} of the "
                                                           f"subject, {RESPECTIVELY}")
            elif r["start"] < p:         # a figure inside the subject is not its own entity…
                owner = a.owner             # …but the place before it may own it (全市12个特色夜市)
                subj_here = owner[0] if owner and owner[1] <= r["start"] else no_subject
            ctx = _figure(a, r, gap, tail, subj_here, last_ind if prev_ind is None else prev_ind,
                          joined=prev_ind is not None, last_change=prev_change, pre_date=pre_date)
            # period: the last date before the figure in its sentence, unless the clause has its own time
            owner = ctx.pop("_owner", None)
            if owner is not None:          # the rest of the sentence is the org's (…，国产种子市场占有率…)
                subject = clause_subject = owner
            no_period = ctx.pop("_no_period", None)
            if no_period:
                per = _period(a, None, no_period, "an old level, of an earlier time")
            elif own_time and a.last_date(cs, r["start"]) is None:
                per = _period(a, None, "lists/context_time_word.txt",
                              f"the clause has its own time word {own_time}")
            else:
                d = a.last_date(period_from, r["start"])
                if same_time and d is None:
                    d = a.last_date(para_start, r["start"])
                    per = _period(a, d, "lists/context_same_time.txt",
                                  f"{same_time}: the last date of the paragraph before it")
                elif d is not None and year_word and len(d["value"]) >= 4 and d["value"][:4].isdigit():
                    per = (Choice(d["value"][:4], "lists/context_year_word.txt",
                                  f"{year_word}: the year of {d['text']}"), Choice("", "lists/context_year_word.txt",
                                                                                   f"{year_word}: one year"))
                elif d is not None:
                    per = _period(a, d, "sentence date", "the last date before the figure in its sentence")
                elif para_date is not None:
                    per = _period(a, para_date, "paragraph date", "the date opening the paragraph")
                else:
                    per = _period(a, None, "", "no date before the figure in its sentence or paragraph")
            ctx["period"], ctx["period_max"] = per
            out[idx[k]] = ctx
            if ctx["indicator"].value:
                last_ind = prev_ind = ctx["indicator"]
            prev_change = ctx["change"]
            prev_end = r["end"]
            k += 1
        topic = _founded(a, p, ce) or topic


def _founded(a: _Article, p: int, ce: int) -> Choice | None:
    """The new thing a clause ends with (…合作推出惠民保险，): context.subject_founded's object."""
    pat = a.cr.patterns.get("context.subject_founded")
    text = a.text[p:ce]
    if pat is None or (pat.requires_re is not None and not pat.requires_re.search(text)):
        return None
    m = pat.regex.search(text)
    name = clean_name(m.group("entity")) if m else ""
    named = name and (m.group("entity").startswith("“") or (p + m.start("entity")) in a.orgs
                      or len(name) >= MIN_FOUNDED)
    return Choice(name, pat.id, f"the new thing the clause before brought in ({pat.where})") if named else None


def _opens_with_verb(a: _Article, p: int, ce: int) -> bool:
    """Does the clause at p open with a value verb or a preposition (累计投入…, 向…)? (Adverbs are
    skipped before p.)"""
    w = a.cr.words
    return any(r is not None and r.match(a.text, p, ce) for r in (a.cr.verbs, w.get("preposition")))


def _nominal_verb(a: _Article, before: str, verb: str, name) -> str:
    """The thing done, when the verb right before a figure follows a verb of lists/context_do_verb.txt
    and its object (共完成|老旧小区改造|286个: 老旧小区改造), else ''."""
    v = a.cr.words.get("do_verb")
    if v is None:
        return ""
    for i in range(len(before) - 1, -1, -1):
        m = v.match(before, i)
        if m and m.end() < len(before):
            return name(before[m.end():] + verb)
    return ""


def _whole_verb(before: str, verb: str, verbs: "Words | None") -> str:
    """`before` without the start of a longer verb that ends with `verb` (年综合能耗下|降至 is
    年综合能耗|下降至: the last verb is read as the longest word)."""
    for n in (verbs.lengths if verbs is not None else ()):
        k = n - len(verb)
        if 0 < k <= len(before) and before[-k:] + verb in verbs.words:
            return before[:-k]
    return before


def _counted_before(a: _Article, gap: str) -> bool:
    """A count whose noun is written before it, after its verb (集聚生物医药企业200多家, 选派医师30名赴港):
    the words between the last value verb and the figure are a name (not ending in 的 or 等)."""
    p = a.cr.patterns.get("context.value_verb")
    m = p.regex.search(gap) if p is not None else None
    if not m:
        return False
    rest = m.group("indicator").strip()
    return bool(clean_name(rest)) and not rest.endswith(("的", "等"))


def _strip_subject(s: str, subject: Choice) -> str:
    if subject.value and s.startswith(subject.value):
        return s[len(subject.value):]
    return s


def _figure(a: _Article, r: dict, gap: str, tail: str, subject: Choice, last_ind: Choice,
            joined: bool = False, last_change: Choice = Choice(), pre_date: str = "") -> dict:
    """indicator, entity and change of one figure from its gap and tail (joined: a figure of the same
    clause stands before it; pre_date: the clause's words before a date inside the gap)."""
    P = a.cr.patterns
    modal = a.cr.words.get("modal")
    opener = a.cr.words.get("opener")

    time_phrase = P["context.time_phrase"].regex if "context.time_phrase" in P else None

    link = a.cr.words.get("link")

    rate_end = a.cr.words.get("rate_end")

    def name(s: str) -> str:
        s = _strip_subject(s.strip(TRIM), subject)
        q = skip_words(s, 0, len(s), modal, opener, time_phrase)
        s = strip_end(s[q:].strip(TRIM), modal)
        if link is not None and s[-1:] in link.words:      # 累计|有, 比例为: a link verb is no indicator
            s = s[:-1]
        return clean_name(s)

    def pat(pid: str, on: str):
        p = P.get(pid)
        if p is None or (p.requires_re is not None and not p.requires_re.search(on)):
            return p, None
        return p, p.regex.search(on)

    ind = Choice("", "", "no pattern of rules/context.toml read an indicator")
    ent = subject
    change = Choice("", "", "no change word before the figure")
    ctx: dict = {}
    obj_p = P.get("context.object")
    obj_cache: list[str] = []

    def object_name() -> str:
        """The noun after the figure (context.object), read once when first needed."""
        if not obj_cache:
            m = pat("context.object", tail)[1] if tail and tail[0] not in PUNCT else None
            obj_cache.append(clean_name(m.group("noun")) if m else "")
        return obj_cache[0]

    of_cache: list = []

    def of_noun() -> str:
        """The noun after 的 right after the figure (context.of_noun), read once when first needed."""
        if not of_cache:
            m = pat("context.of_noun", tail)[1]
            of_cache.append(clean_name(m.group("noun")) if m else "")
        return of_cache[0]

    g = gap.strip()
    measure = a.cr.words.get("measure")
    if r["kind"] == "count" and measure is not None and r.get("unit") and r["unit"] not in measure.words:
        ind = Choice("", "lists/measure_word.txt", f"a count of {r['unit']} itself (no measure word): "
                                                   f"nothing else is counted")
    elif JOIN.match(g) and last_ind.value and joined:
        ind = Choice(last_ind.value, "join", f"joined by {g} to the figure before")
        if last_change.value:          # 分别增长5.1%和6.3%: the second rises too
            change = Choice(last_change.value, "join", f"joined by {g} to the figure before, {last_change.why}")
    elif r["kind"] == "count" and object_name() and not _counted_before(a, g):
        obj_name = object_name()
        ind = Choice(obj_name, obj_p.id, f"the noun after the measure word ({obj_p.where})")
    else:
        for pid in ("context.from_level", "context.base_level", "context.growth", "context.compare",
                    "context.change_object", "context.share",
                    "context.capacity", "context.verb_noun", "context.value_verb", "context.link_verb"):
            p, m = pat(pid, g)
            if not m:
                continue
            gd = m.groupdict()
            if pid in ("context.capacity", "context.verb_noun"):
                ind = Choice(m.group("indicator"), p.id, p.where)
                if pid == "context.capacity" and object_name():
                    ent = Choice(object_name(), p.id, f"the noun after the capacity ({p.where})")
                break
            if pid in ("context.value_verb", "context.link_verb"):
                gd["before"] = _whole_verb(gd.get("before") or "", m.group("verb"), a.cr.verbs)
                v = name(gd.get("indicator") or "")
                if v:
                    ind = Choice(v, p.id, f"after the verb {m.group('verb')} ({p.where})")
                elif r["kind"] != "percent" and object_name():
                    ind = Choice(object_name(), obj_p.id, f"nothing between {m.group('verb')} and the figure: "
                                                     f"the noun after it ({obj_p.where})")
                elif of_noun():     # 提供300亿元的融资支持: the noun after 的 is what it measures (below)
                    pass
                elif nominal := _nominal_verb(a, gd.get("before") or "", m.group("verb"), name):
                    ind = Choice(nominal, p.id, f"{m.group('verb')} names the thing done, after an earlier "
                                                f"verb ({p.where})")       # 完成老旧小区改造286个
                elif name(gd.get("before") or "") in (rate_end.words if rate_end else ()) and last_ind.value:
                    ind = Choice(last_ind.value, p.id, f"a bare {name(gd['before'])}: the share of the indicator "
                                                       f"of the figure before ({p.where})")    # …，占比达51.2%
                elif name(gd.get("before") or ""):
                    ind = Choice(name(gd["before"]), p.id, f"before the verb {m.group('verb')} ({p.where})")
                elif last_ind.value and not DIGIT.search(gd.get("before") or "") and not name(gd.get("before") or ""):
                    ind = Choice(last_ind.value, p.id, "the indicator of the figure before in the sentence")
                break
            v = name(gd.get("indicator") or "")
            if v:
                ind = Choice(v, p.id, p.where)
            elif last_ind.value:
                ind = Choice(last_ind.value, p.id, f"the indicator of the figure before ({p.where})")
            if gd.get("up"):
                change = Choice("up", p.id, f"{gd['up']} before the figure ({p.where})")
            elif gd.get("down"):
                change = Choice("down", p.id, f"{gd['down']} ({p.where})")
            if p.no_period:
                ctx["_no_period"] = p.id
            break
        else:
            v = name(g)
            if v:
                ind = Choice(v, "gap", "the words before the figure in its clause")
            elif r["kind"] != "percent" and object_name():
                ind = Choice(object_name(), obj_p.id, f"the noun after the figure ({obj_p.where})")
    if not ind.value and pre_date and name(pre_date):     # 全县羊肉产量去年达到1.8万吨
        ind = Choice(name(pre_date), "gap", "the words before the date inside the clause")
    if not ind.value and subject.owner and (r["kind"] != "count" or not object_name()):
        # 甲集团研发的蔬菜品种已达到178个: the noun after 的 is what the figure counts, the org did it
        ind = Choice(subject.value, subject.rule, "the subject after 的 is what the figure measures")
        ent = Choice(subject.owner, "org rows", f"the org that {subject.value} is of (before the verb and 的)")
        ctx["_owner"] = ent
    gr_p, gr = pat("context.grant", tail)
    if gr and clean_name(gr.group("noun")) and r["kind"] == "percent":
        ind = Choice(clean_name(gr.group("noun")), gr_p.id, f"the noun granted after the figure ({gr_p.where})")
    of_p = P.get("context.of_noun")
    if of_noun():
        noun = of_noun()
        if ind.value:
            ent = Choice(noun, of_p.id, f"the figure is of the noun after 的 ({of_p.where})")
        else:
            ind = Choice(noun, of_p.id, f"the noun after 的, no indicator before ({of_p.where})")
    ctx.update(indicator=ind, entity=ent, change=change)
    return ctx


def describe(name: str, c: Choice) -> str:
    """One context field as explain shows it: how it was chosen, or why it is empty."""
    if c.value:
        return f"{name}: {c.value} by {c.rule or 'context'} ({c.why})"
    return f"{name}: (empty) " + (f"[{c.rule}] " if c.rule else "") + c.why


def apply(rows: list[dict], chosen: list[dict[str, Choice]]) -> None:
    """Write the chosen values into the rows' context columns (figures only)."""
    for r, c in zip(rows, chosen):
        for k, v in c.items():
            r[k] = v.value
