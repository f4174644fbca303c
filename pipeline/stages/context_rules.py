"""The context stage's rules: the patterns of rules/context.toml and the context lists, loaded and
matched, and the names the stage reads cut to shape.

`load` reads rules_dir/context.toml (each pattern with its {FRAGMENT}s expanded, examples and
negatives kept for `check-rules`) and the lists of LISTS into `Words` (set look-ups, longest word
first). `clean_name` and `skip_words` are the shared text helpers of context_subject.py and
context.py; a `Choice` is one decided field with the rule that decided it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import regex

CONTEXT_FILE = "context.toml"
TOP_FIELDS = {"pattern", "max_gap", "min_indicator"}
PATTERN_FIELDS = {"id", "on", "pattern", "note", "examples", "negatives", "no_period", "requires"}
PARTS = ("gap", "tail", "clause")
# The lists the stage reads (rules/lists/<name>.txt, one word a line).
LISTS = {"head": "context_head", "lead": "context_lead", "stop": "context_stop",
         "preposition": "context_preposition", "reference": "context_reference", "opener": "context_opener",
         "modal": "context_modal",
         "time_word": "context_time_word", "same_time": "context_same_time", "year_word": "context_year_word",
         "place": "place", "classifier": "context_classifier", "measure": "measure_word",
         "rate_end": "context_rate_end", "do_verb": "context_do_verb", "link": "context_link_verb",
         "verb_noun": "context_verb_noun", "level_verb": "context_level_verb", "localizer": "context_localizer", "speaker": "context_speaker", "enumerator": "context_enumerator",
         "per_unit": "context_per_unit", "up": "context_up", "down": "context_down", "base": "context_base", "pronoun": "context_pronoun",
         "title": "org_title"}
VERB_LIST = "context_value_verb"
FRAGMENT_NAME = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")
# Characters trimmed off the ends of an indicator or entity (| and ｜ are the column bars of a table
# flattened into lines: 核心CPI同比涨幅 | 0.5%); an indicator holding a digit is a piece of another
# figure and is dropped.
TRIM = " \t　的了及和与、|｜"
DIGIT = regex.compile(r"(?<![A-Za-z0-9.])[0-9０-９](?![0-9]*(?:[A-Za-z]|强|岁|号[线楼院]))")   # 4A级景区, PM2.5浓度,
                                              # 世界500强企业, 60岁以上老年人口, 1号线 are names, 3家 a figure
WORD = regex.compile(r"[\p{Han}A-Za-z]")              # a name holds a word (not "/" of 200MW/800MWh)
YEAR_PREFIX = regex.compile(r"(?:19|20)\d{2}(?=\p{Han})(?!年)")   # 2024郑州马拉松: a year opening a name
# A note in brackets holding a number inside a name (a time, a date, a range): not part of it.
NUMBER_NOTE = regex.compile(r"[（(][^（()）]*[0-9０-９][^（()）]*[）)]")
# An indefinite 一 and a measure word opening a name (发现的一处明代石砌水渠): not part of it.
INDEFINITE = regex.compile(r"一[处座个家条台项所批]")
# A name holding 等 (甲、乙等生物医药企业) is what follows it.
ETC_WORD = "等"
# An indicator or entity longer than this is not a name but a clause read wrong: left empty.
MAX_NAME = 24


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

    def possible(self, text: str, start: int = 0, end: int | None = None) -> bool:
        """Can the pattern match in text[start:end]: does it hold one of the `requires` words?"""
        return self.requires_re is None or self.requires_re.search(text, start, len(text) if end is None else end) \
            is not None

    def match_at(self, text: str, start: int, end: int):
        """The pattern matched at the start of text[start:end] (its ^ is that start), or None."""
        return self.regex.match(text[start:end]) if self.possible(text, start, end) else None


@dataclass
class ContextRules:
    patterns: dict[str, Pattern]
    words: dict[str, object]          # list key of LISTS -> Words
    list_files: dict[str, str]        # list key -> its file, for explain
    verbs: object = None              # Words of lists/context_value_verb.txt
    max_gap: int = 40                 # context.toml `max_gap`: characters of a gap or clause read
    min_indicator: int = 2            # context.toml `min_indicator`: the fewest characters of an indicator
    _heads_re: object = None
    _sequences: dict = field(default_factory=dict)

    def sequence(self, ids: tuple[str, ...]) -> list[tuple]:
        """(id, Pattern, its requires regex or None, its regex) for the ids that are loaded, in order
        (built once per tuple of ids: the per-figure loop then does no look-ups)."""
        seq = self._sequences.get(ids)
        if seq is None:
            seq = self._sequences[ids] = [(i, self.patterns[i], self.patterns[i].requires_re, self.patterns[i].regex)
                                          for i in ids if i in self.patterns]
        return seq

    def heads_re(self):
        """A regex finding any word of lists/context_head.txt (built once): a quick test before the
        stage walks a name looking for one."""
        if self._heads_re is None:
            heads = self.words.get("head")
            words = sorted(heads.words, key=len, reverse=True) if heads is not None else []
            self._heads_re = re.compile("|".join(map(re.escape, words)) if words else "(?!)")
        return self._heads_re


@dataclass(slots=True)
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
        # first character -> the lengths of the words starting with it, longest first
        self.first: dict[str, tuple[int, ...]] = {}
        for w in self.words:
            self.first[w[0]] = self.first.get(w[0], ()) + (len(w),)
        self.first = {c: tuple(sorted(set(ns), reverse=True)) for c, ns in self.first.items()}

    def length_at(self, text: str, pos: int, end: int) -> int:
        """The length of the longest word at pos (0 when none): match() without the match object."""
        if pos >= end:
            return 0
        for n in self.first.get(text[pos], ()):
            if pos + n <= end and text[pos:pos + n] in self.words:
                return n
        return 0

    def match(self, text: str, pos: int = 0, end: int | None = None) -> _WordMatch | None:
        n = self.length_at(text, pos, len(text) if end is None else end)
        return _WordMatch(text[pos:pos + n], pos + n) if n else None


def holds_word(words: "Words | None", text: str, start: int = 0, end: int | None = None, shortest: int = 1) -> bool:
    """Does text[start:end] hold a word of `words` of at least `shortest` characters?"""
    end = len(text) if end is None else end
    return words is not None and any(words.length_at(text, i, end) >= shortest for i in range(start, end))


def ends_with(s: str, words: "Words | None", whole: bool = False) -> bool:
    """Does s end with a word of `words` (whole: or is s that word)?"""
    return words is not None and any(len(s) - (not whole) >= n and s[-n:] in words.words for n in words.lengths)


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
        return ContextRules(patterns, words, files, verbs)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: not valid TOML: {e}")
        return ContextRules(patterns, words, files, verbs)
    unknown = set(data) - TOP_FIELDS
    if unknown:
        problems.append(f"{path}: unknown top-level key(s) {sorted(unknown)}; allowed: {', '.join(sorted(TOP_FIELDS))}")
    limits = {}
    for key in ("max_gap", "min_indicator"):
        limits[key] = data.get(key, getattr(ContextRules, key))
        if not isinstance(limits[key], int) or limits[key] < 1:
            problems.append(f"{path}: {key} must be a positive integer")
            limits[key] = getattr(ContextRules, key)
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
    return ContextRules(patterns, words, files, verbs, **limits)


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
    """An indicator or entity as written, its edges trimmed and a note in brackets with a number taken
    out (早高峰（7:00—9:00）进站量 -> 早高峰进站量); '' when it is no name (digits, too long)."""
    s = s.strip(TRIM)
    if "（" in s or "(" in s:
        s = NUMBER_NOTE.sub("", s).strip(TRIM)
    if s[:1] == "一" and (m := INDEFINITE.match(s)):   # 一处明代石砌水渠: the canal
        s = s[m.end():]
    if ETC_WORD in s and len(s.rsplit(ETC_WORD, 1)[1]) >= 2:
        s = s.rsplit(ETC_WORD, 1)[1]
    if len(s) >= 2 and s[0] in "“\"「" and s[-1] in "”\"」" and s.count("“") <= 1:
        s = s[1:-1]
    elif s[:1] == "“" and "”" not in s:        # a quote opened before the name and closed after it
        s = s[1:]
    y = YEAR_PREFIX.match(s)
    if not s or DIGIT.search(s, y.end() if y else 0) or len(s) > MAX_NAME or not WORD.search(s):
        return ""
    return s


def skip_words(text: str, p: int, end: int, *res) -> int:
    """p moved past any run of words of the given Words lists or start-regexes (and blanks)."""
    moved = True
    while moved and p < end:
        moved = False
        while p < end and text[p] in " \t　":
            p += 1
        if p >= end:
            break
        for r in res:
            if r is None:
                continue
            if isinstance(r, Words):
                n = r.length_at(text, p, end) if text[p] in r.first else 0    # the common miss, no call
                if n:
                    p, moved = p + n, True
            else:
                m = r.match(text, p, end)
                if m and m.end() > p:
                    p, moved = m.end(), True
            if p >= end:
                break
    return p


