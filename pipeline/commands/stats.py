"""Per-rule statistics over the corpus: which rules do the work, which lose, which never fire.

For every rule: hits (final rows), candidates it lost in overlaps (and to
which rules), candidates its interpretation rejected, and how many examples,
negatives and known failures it carries. Rules with no candidate at all are
listed at the end: dead, or waiting for an article that needs them. Then the
leftover numbers (numbers no row covers, `leftovers.py`) counted by the word
that follows them: the shapes worth a rule (`倍` ×12, `成` ×5). With a
`ContextStats`, the context of the figures too: how many of each field are
filled, which rule or list filled them, the commonest indicators and entities.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..article import analyse, rows_of
from ..outputs import CONTEXT_COLUMNS
from ..stages import context as context_stage
from ..rules import Rules
from ..run import discover
from ..stages.read import ReadError, read_file
from .checkrules import display_path
from .leftovers import WordCounts
from .leftovers import find as find_leftovers


@dataclass
class RuleStats:
    """Counts of one rule over the corpus."""
    hits: int = 0
    lost: int = 0
    rejected: int = 0
    lost_to: Counter = field(default_factory=Counter)      # winning rule id -> n
    reasons: Counter = field(default_factory=Counter)      # rejection reason (shortened) -> n


@dataclass
class ContextStats:
    """The context of the figures over the corpus."""
    figures: int = 0
    filled: Counter = field(default_factory=Counter)       # context column -> figures with it filled
    by_rule: Counter = field(default_factory=Counter)      # (column, rule or list) -> n filled
    values: dict = field(default_factory=lambda: defaultdict(Counter))   # indicator/entity -> value -> n

    def add(self, rows: list[dict], chosen: list[dict]) -> None:
        for r, c in zip(rows, chosen):
            if not c:
                continue
            self.figures += 1
            for k in CONTEXT_COLUMNS:
                if c[k].value:
                    self.filled[k] += 1
                    self.by_rule[(k, c[k].rule)] += 1
            for k in ("indicator", "entity"):
                if c[k].value:
                    self.values[k][c[k].value] += 1

    def format(self, top: int = 10) -> str:
        n = self.figures or 1
        out = [f"\ncontext of {self.figures} figures (filled, and by which rule or list):"]
        for k in CONTEXT_COLUMNS:
            rules_ = "; ".join(f"{rule or '?'}×{m}" for (col, rule), m in self.by_rule.most_common() if col == k)
            out.append(f"  {k:10} {self.filled[k]:5} ({self.filled[k] / n:.0%})  {rules_}")
        for k in ("indicator", "entity"):
            out.append(f"  commonest {k} values: " + ", ".join(f"{v}×{m}" for v, m in self.values[k].most_common(top)))
        return "\n".join(out)


def collect(inputs: list[Path], rules: Rules,
            leftovers: WordCounts | None = None, context: ContextStats | None = None) -> tuple[dict[str, RuleStats], int, list[str]]:
    """Stats per rule id over every article of the inputs, the number of articles, and read errors;
    the leftover numbers of each article go into `leftovers` when given."""
    stats: dict[str, RuleStats] = defaultdict(RuleStats)
    jobs, errors = discover(inputs)
    problems = [f"{e.article}: {e.error}" for e in errors]
    n = 0
    for job in jobs:
        try:
            a = analyse(read_file(job.path).text, rules)
        except ReadError as e:
            problems.append(f"{job.article}: {e}")
            continue
        n += 1
        if leftovers is not None:
            leftovers.add(job.article, find_leftovers(a.cleaned.text, [(c.start, c.end) for c in a.kept], rules))
        if context is not None and a.context_rules is not None:
            rows = rows_of(job.article, a)
            context.add(rows, context_stage.contexts(a.cleaned.text, rows, a.context_rules, a.cleaned.meta.datelines))
        for c in a.kept:
            stats[c.rule].hits += 1
        for c in a.lost:
            stats[c.rule].lost += 1
            stats[c.rule].lost_to[c.dropped.split()[1] if c.dropped.startswith("overlaps ") else "?"] += 1
        for c in a.rejected:
            stats[c.rule].rejected += 1
            stats[c.rule].reasons[c.dropped.split(" in ")[0][:60]] += 1
    return stats, n, problems


def format_stats(rules: Rules, stats: dict[str, RuleStats], n_articles: int, problems: list[str]) -> str:
    """The table, the overlap losers with their winners, and the rules that never fire."""
    out = [f"rules over {n_articles} articles",
           f"{'rule':28} {'kind':8} {'hits':>5} {'lost':>5} {'rejected':>8} {'examples':>8} {'negatives':>9} "
           f"{'known_fail':>10}"]
    for r in rules.rules:
        s = stats.get(r.id, RuleStats())
        out.append(f"{r.id:28} {r.kind:8} {s.hits:5} {s.lost:5} {s.rejected:8} {len(r.examples):8} "
                   f"{len(r.negatives):9} {len(r.known_failures):10}")
    losers = [(r.id, stats[r.id]) for r in rules.rules if r.id in stats and (stats[r.id].lost or stats[r.id].rejected)]
    if losers:
        out.append("\nlost to / rejected because:")
        for rid, s in losers:
            parts = [f"lost to {w}×{k}" for w, k in s.lost_to.most_common(4)]
            parts += [f"rejected: {why}×{k}" for why, k in s.reasons.most_common(3)]
            out.append(f"  {rid:28} " + "; ".join(parts))
    dead = [r for r in rules.rules if r.id not in stats]
    out.append(f"\nnever fire (no candidate in any article): {len(dead)}")
    out += [f"  {r.id:28} {display_path(r.file)}:{r.line}" for r in dead]
    out += [f"note: {p}" for p in problems]
    return "\n".join(out)
