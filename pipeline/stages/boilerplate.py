"""Cut the tail boilerplate into metadata and read the dateline.

The tail of an article (byline, editor line, copyright notice) is not
article text: it is cut off and becomes `source`, `reporter`, `editor` in
articles.csv. A dateline at the start of the first paragraph stays in the
text but is reported as a span that extraction skips, and gives the
article's own date. The patterns live in `rules/boilerplate.toml`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import regex

from .align import Edit


@dataclass
class Meta:
    title: str = ""
    source: str = ""
    reporter: str = ""
    editor: str = ""
    date: str = ""
    dateline: tuple[int, int] | None = None   # the first paragraph's dateline (gives the article's date)
    datelines: list[tuple[int, int]] = field(default_factory=list)   # every dateline: extraction skips them
    notes: list[str] = field(default_factory=list)


@dataclass
class BoilerplateRules:
    tail_lines: int
    tail: list[dict]        # {"id", "pattern": compiled, "cuts_rest": bool, "source_pattern": compiled|None}
    dateline: list[dict]    # {"id", "pattern": compiled}


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the newline."""
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _clean_name(s: str) -> str:
    return regex.sub(r"[\s　]+", " ", s).strip()


def cut_tail(text: str, rules: BoilerplateRules, meta: Meta) -> list[Edit]:
    """Find the tail block, fill `meta` from it, return the edit that cuts it."""
    spans = _lines(text)
    nonempty = [i for i, (s, e) in enumerate(spans) if text[s:e].strip()]
    window = nonempty[-rules.tail_lines:]
    cut_at = None
    found: dict = {}
    i_line = 0
    # walk forward through the window; the block starts at the first marker
    # line after which every line is a marker or inside a copyright notice
    for idx in window:
        s, e = spans[idx]
        line = text[s:e].strip()
        rule, m = _match_tail(line, rules)
        if rule is None:
            if cut_at is not None and not found.get("_rest"):
                cut_at, found = None, {}
            continue
        if cut_at is None:
            cut_at = idx
        if rule.get("cuts_rest"):
            found["_rest"] = True
            sp = rule.get("source_pattern")
            rest = text[s:]
            sm = sp.search(rest) if sp is not None else None
            if sm and "copyright_source" not in found:
                found["copyright_source"] = sm.group("source")
            break
        for key, val in m.groupdict().items():
            if val and key not in found:
                found[key] = _clean_name(val)
    if cut_at is None:
        return []
    meta.source = meta.source or found.get("source", "") or found.get("copyright_source", "")
    meta.reporter = meta.reporter or found.get("reporter", "")
    meta.editor = found.get("editor", "")
    start = spans[cut_at][0]
    # also drop the newline that ended the last kept line
    if start > 0 and text[start - 1] == "\n":
        start -= 1
    while start > 0 and text[start - 1] in " \t\n":
        start -= 1
    return [Edit(start, len(text), "", "cut_boilerplate", f"tail of {len(text) - start} characters")]


def _match_tail(line: str, rules: BoilerplateRules):
    for rule in rules.tail:
        m = rule["pattern"].search(line)
        if m:
            return rule, m
    return None, None


def read_head(text: str, rules: BoilerplateRules, meta: Meta) -> None:
    """Title from the first line; datelines (outlet, date, reporter) at the start of paragraphs.

    The first paragraph's dateline gives the article's outlet, reporter and
    date. A news roundup has more datelines, one per item; every dateline
    span is listed in `meta.datelines` so extraction skips them all.
    """
    spans = _lines(text)
    nonempty = [(s, e) for s, e in spans if text[s:e].strip()]
    if not nonempty:
        return
    s, e = nonempty[0]
    meta.title = text[s:e].strip()
    first_paragraph = True
    for s, e in nonempty[1:]:
        line = text[s:e]
        m = next((m for rule in rules.dateline if (m := rule["pattern"].match(line))), None)
        if m and first_paragraph:
            g = m.groupdict()
            src = g.get("source") or ""
            if src not in ("本报", "本网"):
                meta.source = meta.source or src
            if g.get("reporter"):
                meta.reporter = _clean_name(g["reporter"])
            if g.get("month") and g.get("day"):
                md = f"{int(g['month']):02d}-{int(g['day']):02d}"
                meta.date = f"{g['year']}-{md}" if g.get("year") else f"--{md}"
            meta.dateline = (s + m.start(), s + m.end())
        if m:
            meta.datelines.append((s + m.start(), s + m.end()))
        if m or e - s > 40:
            first_paragraph = False           # headings (short lines) may come before the first paragraph
