"""One article, one path through the stages: read -> clean/convert -> segment -> extract.

`process_file` is the per-article function every engine runs (local, worker
processes, Dask). It never raises for bad input: an unreadable file becomes
an `ArticleResult` with status `error` and a message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import regex

from . import segment
from .clean import Cleaned, clean
from .extract import Candidate, candidates, context, resolve
from .read import ReadError, decode, read_file
from .rules import KINDS, Rules

# Sentence ends: the mention's sentence runs between two of these.
SENTENCE_END = regex.compile(r"[。！？!?；;\n]")

EXTRACTION_COLUMNS = ["article", "kind", "text", "value", "value_max", "unit", "qualifier", "category",
                      "start", "end", "raw_start", "raw_end", "sentence", "rule"]
ARTICLE_COLUMNS = ["article", "title", "source", "reporter", "editor", "date", "chars"] + \
                  [f"n_{k}" for k in KINDS] + ["status", "error", "warnings"]


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
                "chars": len(self.clean_text) if self.status == "ok" else "", **counts, "status": self.status,
                "error": self.error, "warnings": "; ".join(self.warnings)}


@dataclass
class Analysis:
    """Everything the stages produced for one text: for rows, explain and stats."""
    cleaned: Cleaned
    tokens: list
    kept: list[Candidate]
    lost: list[Candidate]
    rejected: list[Candidate]
    warnings: list[str]


def article_year(date: str) -> int | None:
    return int(date[:4]) if date[:4].isdigit() else None


def analyse(raw: str, rules: Rules) -> Analysis:
    """Clean, segment and extract one decoded text."""
    cleaned = clean(raw, rules.boilerplate)
    warnings = list(cleaned.warnings)
    user_dict = str(rules.dir / "jieba_user.dict")
    toks = segment.tokens(cleaned.text, user_dict, rules.segment_words)
    ctx = context(rules, article_year(cleaned.meta.date))
    skip = [cleaned.meta.dateline] if cleaned.meta.dateline else []
    found, rejected = candidates(cleaned.text, rules, ctx, skip, toks, warnings)
    kept, lost = resolve(found)
    return Analysis(cleaned, toks, kept, lost, rejected, warnings)


def sentence_of(text: str, start: int, end: int) -> str:
    """The sentence holding [start, end): from after the previous sentence end to the next one, included."""
    s = start
    while s > 0 and not SENTENCE_END.match(text, s - 1):
        s -= 1
    m = SENTENCE_END.search(text, end)
    e = m.end() if m and m.group(0) != "\n" else (m.start() if m else len(text))
    return text[s:e].strip()


def rows_of(article: str, a: Analysis) -> list[dict]:
    """CSV rows of the kept candidates, in order of start."""
    rows = []
    text = a.cleaned.text
    for c in a.kept:
        rs, re_ = a.cleaned.raw_span(c.start, c.end)
        f = c.fields
        rows.append({"article": article, "kind": c.kind, "text": c.text, "value": f.get("value", ""),
                     "value_max": f.get("value_max", ""), "unit": f.get("unit", ""),
                     "qualifier": f.get("qualifier", ""), "category": f.get("category", ""),
                     "start": c.start, "end": c.end, "raw_start": rs, "raw_end": re_,
                     "sentence": sentence_of(text, c.start, c.end), "rule": c.rule})
    return rows


def process_text(article: str, raw: str, rules: Rules, warnings: list[str] | None = None) -> ArticleResult:
    a = analyse(raw, rules)
    m = a.cleaned.meta
    meta = {"title": m.title, "source": m.source, "reporter": m.reporter, "editor": m.editor, "date": m.date}
    return ArticleResult(article, rows=rows_of(article, a), meta=meta, clean_text=a.cleaned.text,
                         warnings=(warnings or []) + a.warnings)


def process_bytes(article: str, data: bytes, rules: Rules, name: str = "") -> ArticleResult:
    try:
        d = decode(data, name or article)
    except ReadError as e:
        return ArticleResult(article, status="error", error=str(e))
    return process_text(article, d.text, rules, d.warnings)


def process_file(article: str, path: Path, rules: Rules) -> ArticleResult:
    """The per-article function: never raises for bad input."""
    try:
        d = read_file(path)
    except ReadError as e:
        return ArticleResult(article, status="error", error=str(e))
    try:
        return process_text(article, d.text, rules, d.warnings)
    except RecursionError:
        return ArticleResult(article, status="error", error=f"{path}: text too deeply nested to process")
