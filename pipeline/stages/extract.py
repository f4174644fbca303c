"""Stage 5, extract: every rule over the cleaned text, then one overlap policy.

Every rule of every kind proposes candidates (a span, its rule, its fields).
Overlapping candidates are resolved by ONE policy, the same for all kinds:
higher rule `priority` first, then the longer span, then the earlier start,
then the rule id (so the result never depends on rule order). A candidate
that overlaps one already kept is dropped; `explain` shows who beat whom.
"""
from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from ..rules import Rules
from ..stages import orgs
from .values import INTERPRET, Context, Drop


@dataclass(slots=True)
class Candidate:
    kind: str
    start: int
    end: int
    text: str
    rule: str
    priority: int
    fields: dict = field(default_factory=dict)
    dropped: str = ""          # why it was not kept (explain)

    def sort_key(self):
        return (-self.priority, -(self.end - self.start), self.start, self.rule)


def context(rules: Rules, article_year: int | None, article_month: int | None = None) -> Context:
    """Everything interpretation needs from the lists, plus the article's year and month."""
    quals = {name: rules.mapping(name) for name in ("qualifier_pre", "qualifier_mid", "qualifier_post",
                                                    "date_qualifier_pre", "date_qualifier_post")}
    return Context(quals, rules.words("qualifier_order"), rules.mapping("currency"), rules.mapping("relative_year"),
                   article_year, rules.settings["year_pivot"], article_month)


def time_limit(n_chars: int, settings: dict) -> float:
    """Seconds a rule (or trigger) may spend scanning n_chars characters: settings.toml's
    match_timeout per timeout_chars characters, never less than once (a plain linear scan of a
    long article takes long too, and must not be stopped as if it were a pattern that backtracks)."""
    return settings["match_timeout"] * max(1.0, n_chars / settings["timeout_chars"])


def _stopped(what: str, limit: float, settings: dict) -> str:
    """The warning of a rule or trigger stopped by its time limit."""
    return (f"{what} stopped after {limit:.3g} s ({settings['match_timeout']:g} s per "
            f"{settings['timeout_chars']:,} characters scanned, settings.toml), far longer than a scan of this "
            f"text needs: a pattern that backtracks?")


def candidates(text: str, rules: Rules, ctx: Context, skip: list[tuple[int, int]] = (),
               tokens=None, warnings: list[str] | None = None, rule_ids=None) -> tuple[list[Candidate], list[Candidate]]:
    """All candidates of all rules: (interpreted ones, ones dropped by interpretation)."""
    found, rejected = [], []
    windows: dict[object, list[tuple[int, int]]] = {}      # trigger pattern -> its windows (rules share them)
    for rule in rules.rules:
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        key = rule.trigger.pattern if rule.trigger is not None else None
        if key not in windows:
            windows[key] = _rule_windows(text, rule, rules.settings, warnings)
        matches = _matches(text, rule, windows[key], rules.settings, warnings)
        if matches:
            _interpret(matches, text, rule, rules, ctx, skip, tokens, found, rejected)
    return found, rejected


def _rule_windows(text: str, rule, settings: dict, warnings: list[str] | None) -> list[tuple[int, int]]:
    """trigger_windows of the rule's trigger under its time limit; the whole text (and a warning) when stopped."""
    try:
        return trigger_windows(text, rule.trigger, time_limit(len(text), settings),
                               settings["before_trigger"], settings["after_trigger"])
    except TimeoutError:               # a trigger is a speed-up: without it, the rule scans all
        if warnings is not None:
            warnings.append(_stopped(f"trigger of rule {rule.id} ({rule.where})",
                                     time_limit(len(text), settings), settings)
                            + "; its rules scanned the whole text")
        return [(0, len(text))]


def _matches(text: str, rule, windows: list[tuple[int, int]], settings: dict, warnings: list[str] | None) -> list:
    """The rule's matches in the windows, each window under its time limit; none (and a warning) when stopped."""
    limit = 0.0
    try:
        matches = []
        for ws, we in windows:
            limit = time_limit(we - ws, settings)
            matches += scan(rule.regex, text, ws, we, limit)
        return matches
    except TimeoutError:
        if warnings is not None:
            warnings.append(_stopped(f"rule {rule.id} ({rule.where})", limit, settings)
                            + "; its matches in this article are lost")
        return []


def _interpret(matches: list, text: str, rule, rules: Rules, ctx: Context, skip, tokens,
               found: list[Candidate], rejected: list[Candidate]) -> None:
    """Candidates of one rule's matches, appended to found (interpreted) or rejected (Drop, with its reason).

    Empty matches and matches overlapping a skipped span (a dateline) make none."""
    kind, rule_id, priority = rule.kind, rule.id, rule.priority
    is_org = kind == "org"
    interpret = None if is_org else INTERPRET[kind]
    for m in matches:
        s, e = m.span()
        if s == e or skip and any(a < e and s < b for a, b in skip):
            continue
        try:
            if is_org:
                fields = orgs.interpret(rule, m, text, rules, tokens)
                start, end = fields.pop("_span", (s, e))
            else:
                fields = interpret(rule, m, ctx)
                start, end = s, e
        except Drop as why:
            rejected.append(Candidate(kind, s, e, text[s:e], rule_id, priority, dropped=str(why)))
            continue
        found.append(Candidate(kind, start, end, text[start:end], rule_id, priority, fields))


def trigger_windows(text: str, trigger, timeout: float | None = None, before: int = 0,
                    after: int = 0) -> list[tuple[int, int]]:
    """Disjoint spans of text around the matches of a kind's trigger (the whole text without one).

    A rule with a `trigger` (a currency word for amounts, a measure word for
    counts...) has it in every mention, so it need not scan text far from
    one: a speed-up only, the rows are the same. A rule without one scans all.
    A window keeps `before` characters before a match and `after` after it
    (settings.toml: before_trigger, after_trigger).
    """
    if trigger is None:
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    for m in scan(trigger, text, 0, len(text), timeout):
        s, e = max(0, m.start() - before), min(len(text), m.end() + after)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], e))
        else:
            spans.append((s, e))
    return spans


# What a pattern holds besides words once its (?:…) groups and | are taken out, if it is more
# than a plain alternation of words; and the flags a pattern compiled without any has.
_SYNTAX = frozenset("\\.^$*+?{}[]()")
_DEFAULT_FLAGS = regex.compile("").flags


def scan(pattern, text: str, pos: int, endpos: int, timeout: float | None):
    """pattern.finditer(text, pos, endpos) under the time limit, or by `re` when the pattern is a
    plain alternation of words (see plain_words): the same matches."""
    plain = plain_words(pattern.pattern, pattern.flags)
    if plain is not None:
        return plain.finditer(text, pos, endpos)
    return pattern.finditer(text, pos, endpos, timeout=timeout)


@lru_cache(maxsize=None)
def plain_words(pattern: str, flags: int) -> re.Pattern | None:
    """The pattern compiled by the standard library's `re` when it is a plain alternation of words
    (literal characters, `|` and `(?:…)` groups only, no empty word, no flag); None otherwise.

    Such a pattern cannot backtrack: trying it at a position costs at most the length of its
    words, so its scan is linear and within any time limit (time_limit grows with the text).
    `re` finds the same matches (the leftmost, and there the first word of the alternation
    that matches) about 3x faster than `regex`: org.named's 170 suffixes, org.gazetteer's
    names and the unit and currency triggers are such patterns.
    """
    words_only = pattern.replace("(?:", "").replace(")", "").replace("|", "")
    if flags != _DEFAULT_FLAGS or _SYNTAX & set(words_only):
        return None
    compiled = re.compile(pattern)
    return None if compiled.fullmatch("") else compiled


def resolve(cands: list[Candidate]) -> tuple[list[Candidate], list[Candidate]]:
    """Apply the overlap policy: (kept sorted by start, lost with the winner named in `dropped`)."""
    kept: list[Candidate] = []
    lost: list[Candidate] = []
    # owner[p]: index in kept of the (non-empty) kept span covering position p, -1 if none;
    # empty spans (none come from the rules) in `points`. The overlap test then costs the
    # candidate's length, so resolving a huge article stays linear, not O(n^2).
    owner = array("i", [-1]) * (max((c.end for c in cands), default=0) + 1)
    points: dict[int, list[int]] = {}
    for c in sorted(cands, key=Candidate.sort_key):
        if c.end > c.start:
            rivals = set(owner[c.start:c.end])
            rivals.discard(-1)
            if points:
                for p in range(c.start + 1, c.end):
                    rivals.update(points.get(p, ()))
        else:   # an empty span overlaps a span holding the characters on both sides of it
            o = owner[c.start]
            rivals = {o} if o >= 0 and c.start > 0 and owner[c.start - 1] == o else set()
        # the winner named is the first kept (highest in the policy) that overlaps
        winner = kept[min(rivals)] if rivals else None
        if winner is None:
            if c.end > c.start:
                owner[c.start:c.end] = array("i", [len(kept)]) * (c.end - c.start)
            else:
                points.setdefault(c.start, []).append(len(kept))
            kept.append(c)
        else:
            c.dropped = (f"overlaps {winner.rule} {winner.text!r} [{winner.start},{winner.end}) which wins on "
                         + ("priority" if winner.priority != c.priority else
                            "length" if winner.end - winner.start != c.end - c.start else "position"))
            lost.append(c)
    kept.sort(key=lambda c: (c.start, c.end, c.kind))
    return kept, lost
