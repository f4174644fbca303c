"""One article, one path through the stages: read -> clean/convert -> segment -> extract.

`process_file` is the per-article function every engine runs (local, worker
processes, Dask). It never raises for bad input: an unreadable file becomes
an `ArticleResult` with status `error` and a message.
"""
from __future__ import annotations

import traceback
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

import regex

from .outputs import FIGURE_KINDS, KINDS, MAX_META
from .rules import Rules
from .stages import base_units, segment
from .stages import context as context_stage
from .stages.clean import Cleaned, clean
from .stages.extract import Candidate, candidates, context, resolve
from .stages.intervals import interval
from .stages.read import Decoded, ReadError, decode, read_file, readable_path

# Sentence ends: the mention's sentence runs between two of these.
SENTENCE_END = regex.compile(r"[。！？!?；;\n]")
# Cells a spreadsheet can show (Excel holds at most 32,767 characters in a cell): a
# "sentence" longer than settings.toml's max_sentence (a crawl without punctuation) is cut
# to the mention and sentence_context characters each side, a title to outputs.MAX_META,
# each cut marked with …; the warnings cell lists each distinct warning once, with its
# count, MAX_WARNINGS at most.
MAX_WARNINGS = 20

@dataclass
class ArticleResult:
    article: str
    status: str = "ok"
    error: str = ""
    rows: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    clean_text: str = ""
    warnings: list[str] = field(default_factory=list)

    def article_row(self) -> dict:
        counts = {f"n_{k}": 0 for k in KINDS}
        for r in self.rows:
            counts[f"n_{r['kind']}"] += 1
        m = self.meta
        return {"article": self.article, "title": m.get("title", ""), "source": m.get("source", ""),
                "reporter": m.get("reporter", ""), "editor": m.get("editor", ""), "date": m.get("date", ""),
                "published": m.get("published", ""),
                "chars": len(self.clean_text) if self.status == "ok" else "", **counts, "status": self.status,
                "error": self.error, "warnings": summarise_warnings(self.warnings)}


def summarise_warnings(warnings: list[str]) -> str:
    """One cell: each distinct warning once, in order of first occurrence, `(×n)` when repeated."""
    counts: dict[str, int] = {}
    for w in warnings:
        counts[w] = counts.get(w, 0) + 1
    parts = [w if n == 1 else f"{w} (×{n})" for w, n in counts.items()]
    if len(parts) > MAX_WARNINGS:
        more = sum(list(counts.values())[MAX_WARNINGS:])
        parts = parts[:MAX_WARNINGS] + [f"… and {more} more"]
    return "; ".join(parts)


def clip(text: str, limit: int) -> str:
    """text, or its first `limit` characters and … when longer."""
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Analysis:
    """Everything the stages produced for one text: for rows, explain and stats."""
    cleaned: Cleaned
    tokens: segment.Tokens        # segmented on demand; .all() for every token
    kept: list[Candidate]
    lost: list[Candidate]
    rejected: list[Candidate]
    warnings: list[str]
    units: dict = field(default_factory=dict)     # quantity unit -> (base unit, factor), for value_base
    settings: dict = field(default_factory=dict)  # rules.settings: the cell limits of its rows
    context_rules: object = None                  # rules.context (stages/context.py), None: no context


def article_year(date: str) -> int | None:
    """The year of the article's own date (`2024-04-16`), None when it has none (`--04-16`)."""
    return int(date[:4]) if date[:4].isdigit() else None


def article_month(date: str) -> int | None:
    """The month of the article's own date (`2024-04-16`, `--04-16`), None when it has none."""
    m = regex.match(r"(?:\d{4}|-)-(\d{2})", date)
    return int(m.group(1)) if m else None


def analyse(raw: str, rules: Rules) -> Analysis:
    """Clean, segment and extract one decoded text."""
    cleaned = clean(raw, rules.boilerplate)
    warnings = list(cleaned.warnings)
    user_dict = str(rules.dir / "jieba_user.dict")
    toks = segment.lazy_tokens(cleaned.text, user_dict, rules.segment_words)
    ctx = context(rules, article_year(cleaned.meta.date), article_month(cleaned.meta.date))
    skip = list(cleaned.meta.datelines) + list(cleaned.meta.skips)
    found, rejected = candidates(cleaned.text, rules, ctx, skip, toks, warnings)
    kept, lost = resolve(found)
    units = base_units.factors(rules.lists.get(base_units.LIST_NAME, []))
    return Analysis(cleaned, toks, kept, lost, rejected, warnings, units, rules.settings, rules.context)


def sentence_ends(text: str) -> list[int]:
    """Positions of every sentence end of text, in order (for `sentence_of`)."""
    return [m.start() for m in SENTENCE_END.finditer(text)]


def sentence_of(text: str, start: int, end: int, ends: list[int] | None, max_sentence: int, context: int) -> str:
    """The sentence holding [start, end): from after the previous sentence end to the next one, included.

    `ends` (from `sentence_ends(text)`, or None) makes it O(log n) per mention instead of a
    walk through the sentence; a sentence over max_sentence characters is cut to
    the mention with `context` characters each side (settings.toml [output]).
    """
    if ends is None:
        ends = sentence_ends(text)
    i = bisect_left(ends, start)
    s = ends[i - 1] + 1 if i > 0 else 0
    j = bisect_left(ends, end)
    e = len(text) if j == len(ends) else ends[j] + (text[ends[j]] != "\n")
    if e - s > max_sentence:
        a, b = max(s, start - context), min(e, end + context)
        return ("…" if a > s else "") + text[a:b].strip() + ("…" if b < e else "")
    return text[s:e].strip()


def rows_of(article: str, a: Analysis) -> list[dict]:
    """CSV rows of the kept candidates, in order of start."""
    rows = []
    text = a.cleaned.text
    ends = sentence_ends(text)
    cut = (a.settings["max_sentence"], a.settings["sentence_context"])
    for c in a.kept:
        rs, re_ = a.cleaned.raw_span(c.start, c.end)
        f = c.fields
        rows.append({"article": article, "kind": c.kind, "text": c.text, "value": f.get("value", ""),
                     "value_max": f.get("value_max", ""), "unit": f.get("unit", ""),
                     "qualifier": f.get("qualifier", ""), "category": f.get("category", ""),
                     "start": c.start, "end": c.end, "raw_start": rs, "raw_end": re_,
                     "sentence": sentence_of(text, c.start, c.end, ends, *cut), "rule": c.rule})
    if a.context_rules is not None:     # the context of each figure, before derived reads its period
        context_stage.apply(rows, context_stage.contexts(text, rows, a.context_rules, a.cleaned.meta.datelines))
    for r in rows:                  # last: the columns derived from the others (period included)
        r.update(derived(r, a.units))
    return rows


def derived(row: dict, units: dict) -> dict:
    """The columns computed from a row's others: `value_base`, `unit_base` of a quantity, and
    `date_from`, `date_to` of a date's value..value_max or of a figure's period..period_max."""
    out = {}
    kind = row["kind"]
    if kind == "quantity":
        out["value_base"], out["unit_base"] = base_units.to_base(row["value"], row["unit"], units)
    if kind == "date":
        out["date_from"], out["date_to"] = interval(row["value"], row["value_max"], row["qualifier"])
    elif kind in FIGURE_KINDS:
        out["date_from"], out["date_to"] = interval(row.get("period", ""), row.get("period_max", ""))
    return out


def process_text(article: str, raw: str, rules: Rules, warnings: list[str] | None = None) -> ArticleResult:
    a = analyse(raw, rules)
    m = a.cleaned.meta
    meta = {"title": clip(m.title, MAX_META), "source": m.source, "reporter": m.reporter, "editor": m.editor,
            "date": m.date, "published": m.published}
    return ArticleResult(article, rows=rows_of(article, a), meta=meta, clean_text=a.cleaned.text,
                         warnings=(warnings or []) + a.warnings)


def process_decoded(article: str, name: str, d: Decoded, rules: Rules) -> ArticleResult:
    """process_text on a decoded file; a failure of the stages becomes an error row, never a traceback."""
    try:
        return process_text(article, d.text, rules, d.warnings)
    except RecursionError:
        return ArticleResult(article, status="error", error=f"{name}: text too deeply nested to process")
    except MemoryError:
        return ArticleResult(article, status="error", error=f"{name}: too large to process in the memory "
                                                            f"available; split it into articles")
    except Exception as e:      # a bug, not bad input: keep the run going, say where
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return ArticleResult(article, status="error", error=(
            f"{name}: could not be processed (internal error {type(e).__name__}: {e} at "
            f"{Path(tb.filename).name}:{tb.lineno}); the other files are fine; please report this file"))


def process_bytes(article: str, data: bytes, rules: Rules, name: str = "") -> ArticleResult:
    """The per-article function on bytes already read: never raises for bad input."""
    name = name or article
    try:
        d = decode(data, name)
    except ReadError as e:
        return ArticleResult(article, status="error", error=str(e))
    return process_decoded(article, name, d, rules)


def process_file(article: str, path: Path, rules: Rules) -> ArticleResult:
    """The per-article function: never raises for bad input."""
    try:
        d = read_file(path)
    except ReadError as e:
        return ArticleResult(article, status="error", error=str(e))
    return process_decoded(article, readable_path(path), d, rules)
