"""Cut the metadata lines of an article and read its dateline.

Metadata is not article text: a publication line (`金城晚报 2023-05-16 09:12`,
`发布时间:2024/03/21 16:05`), a source, author or editor line, 原标题, 导读,
a location bar (in the header or the tail), and the tail's byline, editor
line and copyright notice are cut off and become `source`, `reporter`,
`editor`, `published` and the article's `date` in articles.csv. A dateline at
the start of a paragraph and a photo credit stay in the text but are spans
that extraction skips. The patterns live in `rules/boilerplate.toml` and run
under the extraction rules' time limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import regex

from .align import Edit
from .numbers import parse_number

# Where an article's source may be named, in the order preferred: a 来源 line names
# the outlet best, then the tail's byline, the copyright notice, the dateline, and
# last an outlet printed beside a publication date.
SOURCE_ORDER = ("source", "byline", "copyright", "dateline", "outlet")
# Dateline outlets that name no outlet (the paper the article was printed in).
OWN_PAPER = ("本报", "本网")


@dataclass
class MetaRule:
    """One pattern of rules/boilerplate.toml."""
    id: str
    section: str            # line | tail | field | dateline | credit
    pattern: object         # compiled
    lines: int = 1          # line rules: how many lines the pattern matches, joined by \n
    cuts_rest: bool = False
    source_pattern: object = None
    note: str = ""
    examples: list = field(default_factory=list)
    negatives: list = field(default_factory=list)
    known_failures: list = field(default_factory=list)
    file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Meta:
    title: str = ""
    source: str = ""
    reporter: str = ""
    editor: str = ""
    date: str = ""
    published: str = ""
    dateline: tuple[int, int] | None = None   # the first paragraph's dateline (gives the article's date)
    datelines: list[tuple[int, int]] = field(default_factory=list)   # every dateline: extraction skips them
    skips: list[tuple[int, int]] = field(default_factory=list)       # photo credits: extraction skips them
    sources: dict = field(default_factory=dict)   # where a source was named (SOURCE_ORDER) -> name
    notes: list[str] = field(default_factory=list)   # warnings (a pattern stopped by its time limit)
    matched: list[str] = field(default_factory=list)  # ids of the rules that matched (check-rules)


@dataclass
class BoilerplateRules:
    tail_lines: int
    tail: list = field(default_factory=list)
    dateline: list = field(default_factory=list)
    line: list = field(default_factory=list)
    fields: list = field(default_factory=list)
    credit: list = field(default_factory=list)
    head_lines: int = 8
    max_line_chars: int = 160
    max_title_chars: int = 64       # a longer line that is no metadata is the first paragraph
    split_line_chars: int = 24      # the first line of a metadata block of several lines is no longer
    settings: dict = field(default_factory=dict)   # settings.toml: the patterns' time limit
    _union: object = field(default=None, init=False, repr=False, compare=False)

    def all(self) -> list[MetaRule]:
        return [*self.line, *self.tail, *self.fields, *self.dateline, *self.credit]

    def line_limit(self) -> float:
        """The time limit of a pattern on a short text (a line): once, whatever its length."""
        return _timeout(0, self.settings)

    def one_line_union(self) -> MetaRule | None:
        """Every one-line metadata pattern in one alternation: a line it does not match whole is no
        metadata line, found with one match instead of one per rule (speed only)."""
        if self._union is None:
            pats = [r.pattern.pattern for r in self.line if r.lines == 1]
            union = regex.compile("|".join(f"(?:{p})" for p in pats), regex.M) if pats else None
            self._union = MetaRule("one-line metadata patterns", "line", union) if union else False
        return self._union or None


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the newline."""
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _int(s: str) -> int:
    """A dateline's month or day, in Arabic or Chinese numerals (十一月二十三日电)."""
    return int(s) if s.isdigit() else int(parse_number(s))


def _clean_name(s: str) -> str:
    return regex.sub(r"[\s　]+", " ", s).strip()


def _run(rules: "BoilerplateRules", rule: MetaRule, how: str, text: str, meta: Meta, *args):
    """rule.pattern.<how>(text, *args) under the time limit; None (and a warning) when stopped."""
    limit = rules.line_limit() if len(text) < 1000 else _timeout(len(text), rules.settings)
    try:
        out = getattr(rule.pattern, how)(text, *args, timeout=limit)
        return list(out) if how == "finditer" else out
    except TimeoutError:
        meta.notes.append(_extract()._stopped(f"boilerplate rule {rule.id} ({rule.where})", limit, _limits(rules.settings))
                          + "; its matches in this article are lost")
        return None


def _timeout(n_chars: int, settings: dict) -> float:
    """The extraction rules' time limit for a scan of n_chars (settings.toml [extract])."""
    return _extract().time_limit(n_chars, _limits(settings))


def _limits(settings: dict) -> dict:
    """The time-limit settings, with settings.toml's defaults when the rules gave none (tests)."""
    if "match_timeout" in settings and "timeout_chars" in settings:
        return settings
    return {"match_timeout": 2.0, "timeout_chars": 1_000_000, **settings}


def _extract():
    """pipeline.stages.extract, imported on first use: it imports the rules, which import this module."""
    global _EXTRACT
    if _EXTRACT is None:
        from . import extract
        _EXTRACT = extract
    return _EXTRACT


_EXTRACT = None


def _iso_published(g: dict) -> str:
    """ISO 8601 date (and time) of a publication line's groups; '' without a full date."""
    if not (g.get("year") and g.get("month") and g.get("day")):
        return ""
    year = int(g["year"])
    year += 2000 if year < 100 else 0               # 23-05-06 09:22
    out = f"{year:04d}-{int(g['month']):02d}-{int(g['day']):02d}"
    if g.get("hour") and g.get("minute"):
        out += f"T{int(g['hour']):02d}:{int(g['minute']):02d}"
        if g.get("second"):
            out += f":{int(g['second']):02d}"
    return out


def _take(meta: Meta, g: dict) -> None:
    """Fill meta from the named groups of a metadata match (first value of each field wins)."""
    for key in ("source", "outlet"):
        if g.get(key) and key not in meta.sources:
            meta.sources[key] = _clean_name(g[key])
    if g.get("reporter") and not meta.reporter:
        meta.reporter = _clean_name(g["reporter"])
    if g.get("editor") and not meta.editor:
        meta.editor = _clean_name(g["editor"])
    published = _iso_published(g)
    # the first publication date wins; a later line may add its time (2023-06-08, then 2023-06-08 15:30:55)
    if published and (not meta.published or published.startswith(meta.published)):
        meta.published = published


def _groups(m) -> dict:
    return {k: v for k, v in m.groupdict().items() if v}


def metadata_line(text: str, start: int, end: int, rules: BoilerplateRules, meta: Meta,
                  one_line: bool = False) -> int | None:
    """End of the metadata line(s) starting at line [start, end), or None when it is text.

    A line rule must match the whole line (stripped), or its `lines` lines (not
    when `one_line`: the tail is read line by line); the line's fields (source,
    reporter, editor, published) fill meta.
    """
    first = text[start:end].strip()
    if not first or len(first) > rules.max_line_chars:
        return None                         # article text (or nothing), whatever it starts with
    union = rules.one_line_union()
    # one match of every one-line pattern at once tells whether any of them may take the line
    single = union is None or _run(rules, union, "fullmatch", first, meta) is not None
    for rule in rules.line:
        if (rule.lines == 1 and not single) or (rule.lines > 1 and (one_line or len(first) > rules.split_line_chars)):
            continue
        stop = end
        for _ in range(rule.lines - 1):
            nxt = text.find("\n", stop + 1)
            stop = len(text) if nxt < 0 else nxt
        chunk = text[start:stop]
        if len(chunk.strip()) > rules.max_line_chars * rule.lines or not chunk.strip():
            continue
        body = chunk.strip()
        m = _run(rules, rule, "fullmatch", body, meta)
        if m is None:
            continue
        meta.matched.append(rule.id)
        _take(meta, _groups(m))
        for f in rules.fields:
            for fm in (_run(rules, f, "finditer", body, meta) or []):
                _take(meta, _groups(fm))
        return stop
    return None


def cut_head(text: str, rules: BoilerplateRules, meta: Meta, end: int | None = None) -> list[Edit]:
    """Edits cutting the metadata lines of the header: the first `head_lines` lines, up to the first
    paragraph (a line longer than `max_title_chars` that is no metadata), and before `end` (where the
    tail's cut starts). Short lines that are no metadata (the title, a site's name above it: 大公网)
    do not end the header."""
    edits = []
    spans = [(s, e) for s, e in _lines(text) if end is None or e <= end]
    seen = 0
    i = 0
    while i < len(spans) and seen < rules.head_lines:
        s, e = spans[i]
        if not text[s:e].strip():
            i += 1
            continue
        seen += 1
        stop = metadata_line(text, s, e, rules, meta)
        if stop is None:
            if e - s > rules.max_title_chars:
                break                       # the first paragraph: the header is over
            i += 1                          # the title, or a short line of the page around it
            continue
        cut_end = min(stop + 1, len(text))  # the line and its line break
        edits.append(Edit(s, cut_end, "", "cut_boilerplate", f"metadata line {text[s:stop].strip()[:40]!r}"))
        while i < len(spans) and spans[i][0] < cut_end:
            i += 1
    return edits


def cut_tail(text: str, rules: BoilerplateRules, meta: Meta) -> list[Edit]:
    """Find the tail block, fill `meta` from it, return the edit that cuts it."""
    spans = _lines(text)
    nonempty = [i for i, (s, e) in enumerate(spans) if text[s:e].strip()]
    window = nonempty[-rules.tail_lines:] if rules.tail_lines else []
    cut_at, rest = None, False
    found = Meta()
    # walk forward through the window; the block starts at the first marker
    # line after which every line is a marker or inside a copyright notice
    for idx in window:
        s, e = spans[idx]
        line = text[s:e].strip()
        rule, m = _match_tail(line, rules, meta)
        probe = Meta()
        is_line = rule is None and metadata_line(text, s, e, rules, probe, one_line=True) is not None
        if rule is None and not is_line:
            if cut_at is not None and not rest:
                cut_at, found = None, Meta()
            continue
        if cut_at is None:
            cut_at = idx
        if is_line:
            _merge(found, probe)
            continue
        found.matched.append(rule.id)
        if rule.cuts_rest:
            rest = True
            sm = _run(rules, MetaRule(rule.id, "tail", rule.source_pattern, file=rule.file, line=rule.line), "search",
                      text[s:], meta) if rule.source_pattern is not None else None
            if sm:
                found.sources.setdefault("copyright", sm.group("source"))
            break
        g = _groups(m)
        if g.get("source"):
            found.sources.setdefault("byline", _clean_name(g.pop("source")))
        _take(found, g)
    if cut_at is None:
        return []
    _merge(meta, found)
    start = spans[cut_at][0]
    # also drop the newline that ended the last kept line
    if start > 0 and text[start - 1] == "\n":
        start -= 1
    while start > 0 and text[start - 1] in " \t\n":
        start -= 1
    return [Edit(start, len(text), "", "cut_boilerplate", f"tail of {len(text) - start} characters")]


def _merge(meta: Meta, other: Meta) -> None:
    """Fill meta's empty fields from other's."""
    for key, val in other.sources.items():
        meta.sources.setdefault(key, val)
    meta.reporter = meta.reporter or other.reporter
    meta.editor = meta.editor or other.editor
    meta.published = meta.published or other.published
    meta.matched += other.matched
    meta.notes += other.notes


def _match_tail(line: str, rules: BoilerplateRules, meta: Meta):
    for rule in rules.tail:
        m = _run(rules, rule, "search", line, meta)
        if m:
            return rule, m
    return None, None


def read_head(text: str, rules: BoilerplateRules, meta: Meta) -> None:
    """Title from the first line (unless it is a dateline); datelines at the start of paragraphs.

    The first paragraph's dateline gives the article's outlet, reporter and
    date. A news roundup has more datelines, one per item; every dateline
    span is listed in `meta.datelines` so extraction skips them all.
    """
    spans = _lines(text)
    nonempty = [(s, e) for s, e in spans if text[s:e].strip()]
    if not nonempty:
        return
    first_paragraph = True
    for k, (s, e) in enumerate(nonempty):
        line = text[s:e]
        lead = len(line) - len(line.lstrip())
        # the first line is the title, unless it opens with a dateline and text follows or it is long
        # (an excerpt without its title); a short text of one line is its title
        m = None if k == 0 and len(nonempty) == 1 and e - s <= rules.max_title_chars else \
            next((m for rule in rules.dateline if (m := _run(rules, rule, "match", line, meta, lead))), None)
        if k == 0 and not m:
            meta.title = line.strip()
            continue
        if m and first_paragraph:
            meta.matched.append("dateline")
            g = _groups(m)
            src = g.get("source", "")
            if src and src not in OWN_PAPER:
                meta.sources.setdefault("dateline", src)
            if g.get("source_line"):        # 来源:X before the dateline, on its line
                meta.sources.setdefault("source", g["source_line"])
            if g.get("reporter"):
                meta.reporter = _clean_name(g["reporter"])
            if g.get("month") and g.get("day"):
                md = f"{_int(g['month']):02d}-{_int(g['day']):02d}"
                meta.date = f"{g['year']}-{md}" if g.get("year") else f"--{md}"
            meta.dateline = (s + m.start(), s + m.end())
        if m:
            meta.datelines.append((s + m.start(), s + m.end()))
        if m or e - s > 40:
            first_paragraph = False           # headings (short lines) may come before the first paragraph
    for rule in rules.credit:
        for cm in (_run(rules, rule, "finditer", text, meta) or []):
            if cm.end() > cm.start():
                meta.skips.append(cm.span())


def settle(meta: Meta) -> None:
    """The article's source and date from everything the metadata said.

    The source: a 来源 line, else the tail's byline, the copyright
    notice, the dateline, an outlet beside a publication date. The date: the dateline's, its
    year from the publication line when it has none; without a dated dateline,
    the publication line's date.
    """
    for key in SOURCE_ORDER:
        if meta.sources.get(key):
            meta.source = meta.sources[key]
            break
    pub_day = meta.published[:10]
    if meta.date.startswith("--") and pub_day:
        meta.date = pub_day[:4] + meta.date[1:]
    elif not meta.date and pub_day:
        meta.date = pub_day
