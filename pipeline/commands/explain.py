"""Explain one text: every stage's output, every candidate, who won each overlap and why.

`python -m pipeline explain TEXT` (or `--file PATH`) prints, as plain text:
the cleaned Simplified text, the cleaning edits (fixer, span in the raw text,
old -> new, note), the Traditional->Simplified conversions, the article's
metadata, the jieba tokens, every candidate with its rule, span and fields
(kept, or lost to which winner and why), the candidates a rule's
interpretation rejected (with the reason), the final rows, and for each
figure how each context field was chosen (the rule or list) or why it is empty.
"""
from __future__ import annotations

import textwrap
from collections import Counter

from ..article import Analysis, analyse, rows_of
from ..rules import Rules
from ..stages import context as context_stage
from ..stages.align import apply_edits
from ..stages.convert import t2s
from ..stages.extract import Candidate
from .evaluate import show


def _short(s: str, n: int = 40) -> str:
    """repr of s, cut to n characters with an ellipsis."""
    return repr(s if len(s) <= n else s[:n] + "…")


def _visible(token: str) -> str:
    """A token with its whitespace made visible (line end ⏎, space ␣)."""
    return token.replace("\n", "⏎").replace(" ", "␣").replace("\u3000", "␣")


def _fields(c: Candidate) -> str:
    """The interpreted fields of a candidate, the empty ones left out."""
    return " ".join(f"{k}={v}" for k, v in c.fields.items() if v not in ("", None) and not k.startswith("_"))


def edit_lines(raw: str, a: Analysis) -> list[str]:
    """One line per cleaning edit: fixer, span in the raw text, old -> new, note."""
    steps = a.cleaned.chain.steps
    order: list[str] = []
    for name, _ in a.cleaned.edits:
        if name not in order:
            order.append(name)
    out = []
    for name, e in a.cleaned.edits:
        k = order.index(name) + (1 if name == "cut_boilerplate" else 0)   # the conversion step comes before the cut
        s, t = e.start, e.end
        for step in reversed(steps[:k]):
            s, t = step.span(s, t)
        out.append(f"  {name:20} raw [{s},{t}) {_short(raw[s:t])} -> {_short(e.replacement)}"
                   + (f"  ({e.note})" if e.note else ""))
    return out


def conversion_line(raw: str, a: Analysis) -> str:
    """Traditional->Simplified changes: how many characters, the commonest pairs."""
    text = raw
    for name in dict.fromkeys(n for n, _ in a.cleaned.edits if n != "cut_boilerplate"):
        text, _ = apply_edits(text, [e for n, e in a.cleaned.edits if n == name])
    pairs = Counter((x, y) for x, y in zip(text, t2s(text)) if x != y)   # t2s keeps the length
    if not pairs:
        return "  (nothing to convert)"
    shown = ", ".join(f"{x}→{y}" + (f"×{n}" if n > 1 else "") for (x, y), n in pairs.most_common(12))
    return f"  {sum(pairs.values())} characters: {shown}" + (" …" if len(pairs) > 12 else "")


def candidate_line(c: Candidate, status: str) -> str:
    """One candidate: span, kind, rule, text, fields, what became of it, and (orgs) how its start was
    found, naming the list or setting that decided."""
    why = c.fields.get("_why", "") if c.fields else ""
    if c.kind == "org" and status.startswith("lost"):
        status += " (each rule's priority: rules/org.toml)"
    return f"  [{c.start},{c.end}) {c.kind:8} {c.rule:24} {c.text!r} {_fields(c)}\n      -> {status}" \
        + (f"\n      name: {why}" if why else "")


def explain(raw: str, rules: Rules, rule_prefix: str = "") -> str:
    """The whole explanation of one decoded text as plain text."""
    a = analyse(raw, rules)
    m = a.cleaned.meta
    tokens = a.tokens.all()
    mine = (lambda c: c.rule.startswith(rule_prefix)) if rule_prefix else (lambda c: True)
    out = [f"== cleaned text ({len(a.cleaned.text)} characters) ==", a.cleaned.text, "",
           f"== cleaning edits ({len(a.cleaned.edits)}) ==", *(edit_lines(raw, a) or ["  (none)"]), "",
           "== Traditional -> Simplified ==", conversion_line(raw, a), "",
           "== article ==", f"  title: {m.title!r}", f"  date: {m.date or '(none)'}"
           + (f"  dateline [{m.dateline[0]},{m.dateline[1]}) skipped by extraction" if m.dateline else ""),
           f"  source: {m.source!r}  reporter: {m.reporter!r}  editor: {m.editor!r}"
           + (f"  published: {m.published}" if m.published else ""),
           *([f"  photo credits skipped by extraction: {len(m.skips)}"] if m.skips else []), "",
           f"== tokens ({len(tokens)}, jieba) ==",
           textwrap.fill(" / ".join(_visible(w) for w, _, _ in tokens), 100, initial_indent="  ",
                         subsequent_indent="  "), ""]
    cands = sorted([(c, "KEPT") for c in a.kept] + [(c, "lost: " + c.dropped) for c in a.lost],
                   key=lambda p: (p[0].start, p[0].end, p[0].rule))
    cands = [p for p in cands if mine(p[0])]
    out += [f"== candidates ({len(cands)}; overlaps: higher priority, then longer, then earlier, then rule id) ==",
            *([candidate_line(c, s) for c, s in cands] or ["  (none)"]), ""]
    rej = [c for c in a.rejected if mine(c)]
    out += [f"== rejected by interpretation ({len(rej)}) ==",
            *([candidate_line(c, "rejected: " + c.dropped) for c in rej] or ["  (none)"]), ""]
    rows = rows_of("", a)
    out += [f"== final rows ({len(rows)}) ==",
            *([f"  [{r['start']},{r['end']}) {show(r)}" for r in rows] or ["  (none)"])]
    if a.context_rules is not None:
        chosen = context_stage.contexts(a.cleaned.text, rows, a.context_rules, a.cleaned.meta.datelines)
        figs = [(r, c) for r, c in zip(rows, chosen) if c]
        out += ["", f"== context of each figure ({len(figs)}; rules/context.toml, rules/lists/context_*.txt) =="]
        for r, c in figs:
            out.append(f"  [{r['start']},{r['end']}) {r['kind']} {r['text']}")
            out += [f"      {context_stage.describe(k, c[k])}" for k in ("indicator", "entity", "period",
                                                                         "period_max", "change")]
    if a.warnings:
        out += ["", f"== warnings ({len(a.warnings)}) ==", *(f"  {w}" for w in a.warnings)]
    return "\n".join(out)


def explain_command(rules: Rules, text: str | None, path: str | None, rule_prefix: str = "") -> tuple[str, int]:
    """explain: the explanation of TEXT or of the file, and the exit code (2 on a usage or read error)."""
    from ..stages.read import ReadError, read_file
    if (text is None) == (path is None):
        return "error: give a TEXT or --file PATH (one of them)", 2
    if path is not None:
        try:
            text = read_file(path).text
        except ReadError as e:
            return f"error: {e}", 2
    return explain(text, rules, rule_prefix), 0
