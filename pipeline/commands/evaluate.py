"""Score extracted rows against golden files: precision, recall, F1 per kind.

Matching (per article and kind, as multisets): numeric kinds on (value,
value_max, unit); dates on (value, value_max); orgs on text. Qualifier and
category are scored separately on the matched rows, so a wrong qualifier
shows up without hiding the match; so is the context of each matched figure
(SPEC "Context of a figure"), per field: the share right, and the share of
the fields we filled that are wrong.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..outputs import FIGURE_KINDS, KINDS, read_csv


def match_key(row: dict) -> tuple:
    kind = row["kind"]
    if kind == "org":
        return (kind, row["text"])
    if kind == "date":
        return (kind, row["value"], row.get("value_max", ""))
    return (kind, row["value"], row.get("value_max", ""), row.get("unit", ""))


# The context fields scored on matched figures; `period` is the pair period..period_max.
CONTEXT_FIELDS = ("indicator", "entity", "period", "change")
# An indicator is right when it equals the gold or one ends with the other and the shorter has at
# least this many characters (企业 for 生物医药企业: the head noun is right, the modifier missing).
MIN_INDICATOR_SUFFIX = 2


def context_value(row: dict, name: str) -> str:
    """A context field of a row as scored: period..period_max for `period`."""
    if name == "period":
        return row.get("period", "") + (".." + row["period_max"] if row.get("period_max") else "")
    return row.get(name, "")


def context_right(name: str, want: str, got: str) -> bool:
    """Is a predicted context field right? Equal; an indicator may also be a suffix of the other."""
    if want == got:
        return True
    if name == "indicator" and want and got:
        short, long_ = sorted((want, got), key=len)
        return len(short) >= MIN_INDICATOR_SUFFIX and long_.endswith(short)
    return False


def load_golden(gold_dir: Path) -> dict[str, list[dict]]:
    """article id -> golden rows, from gold_dir/<article>.csv (recursive)."""
    out = {}
    for p in sorted(gold_dir.rglob("*.csv")):
        aid = p.relative_to(gold_dir).with_suffix("").as_posix()
        out[aid] = read_csv(p)
    return out


def scored_articles(given: list[str], golden: dict[str, list[dict]]) -> tuple[list[str], list[str]]:
    """(the articles given that have a golden file, those that have none), in the order given."""
    return [a for a in given if a in golden], [a for a in given if a not in golden]


@dataclass
class Score:
    tp: Counter = field(default_factory=Counter)
    pred: Counter = field(default_factory=Counter)
    gold: Counter = field(default_factory=Counter)
    attr_ok: Counter = field(default_factory=Counter)     # qualifier (numbers/dates) or category (org) right
    missed: list = field(default_factory=list)            # (article, gold row)
    unexpected: list = field(default_factory=list)        # (article, predicted row)
    wrong_attr: list = field(default_factory=list)        # (article, gold row, predicted row)
    figures: int = 0                                      # matched figure rows (context scored on them)
    ctx_ok: Counter = field(default_factory=Counter)      # context field -> right on matched figures
    ctx_filled: Counter = field(default_factory=Counter)  # context field -> filled by us on matched figures
    ctx_wrong_filled: Counter = field(default_factory=Counter)  # ... of which wrong
    wrong_context: list = field(default_factory=list)     # (article, field, gold row, predicted row)

    def prf(self, kind: str | None = None):
        tp = sum(self.tp.values()) if kind is None else self.tp[kind]
        p_n = sum(self.pred.values()) if kind is None else self.pred[kind]
        g_n = sum(self.gold.values()) if kind is None else self.gold[kind]
        p = tp / p_n if p_n else 1.0
        r = tp / g_n if g_n else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def attr(row: dict) -> str:
    return row.get("category", "") if row["kind"] == "org" else row.get("qualifier", "")


def score(golden: dict[str, list[dict]], predicted: dict[str, list[dict]]) -> Score:
    """Multiset match of predicted rows against golden rows, for the articles that have golden files."""
    s = Score()
    for aid, gold_rows in golden.items():
        pred_rows = predicted.get(aid, [])
        by_key = defaultdict(list)
        for r in pred_rows:
            by_key[match_key(r)].append(r)
            s.pred[r["kind"]] += 1
        for g in gold_rows:
            s.gold[g["kind"]] += 1
            cands = by_key.get(match_key(g))
            if cands:
                # prefer a candidate that also agrees on qualifier/category and text
                best = max(cands, key=lambda r: (attr(r) == attr(g), r["text"] == g["text"],
                                                 context_agreement(g, r)))
                cands.remove(best)
                s.tp[g["kind"]] += 1
                if attr(best) == attr(g):
                    s.attr_ok[g["kind"]] += 1
                else:
                    s.wrong_attr.append((aid, g, best))
                if g["kind"] in FIGURE_KINDS:
                    score_context(s, aid, g, best)
            else:
                s.missed.append((aid, g))
        for rows in by_key.values():
            s.unexpected += [(aid, r) for r in rows]
    return s


def context_agreement(g: dict, r: dict) -> int:
    """How many context fields of r are right for g (to pick among equal candidates)."""
    return sum(context_right(n, context_value(g, n), context_value(r, n)) for n in CONTEXT_FIELDS)


def score_context(s: Score, aid: str, g: dict, p: dict) -> None:
    """Count the context fields of one matched figure into s."""
    s.figures += 1
    for name in CONTEXT_FIELDS:
        want, got = context_value(g, name), context_value(p, name)
        ok = context_right(name, want, got)
        s.ctx_ok[name] += ok
        if got:
            s.ctx_filled[name] += 1
            s.ctx_wrong_filled[name] += not ok
        if not ok:
            s.wrong_context.append((aid, name, g, p))


def context_table(s: Score) -> str:
    """Per context field: share right on matched figures, share of our filled fields that are wrong."""
    lines = [f"\ncontext of {s.figures} matched figures:",
             f"{'field':10} {'right':>6} {'filled':>6} {'wrong':>6} {'share right':>11} {'filled wrong':>12}"]
    for name in CONTEXT_FIELDS:
        ok, filled, bad = s.ctx_ok[name], s.ctx_filled[name], s.ctx_wrong_filled[name]
        lines.append(f"{name:10} {ok:6} {filled:6} {bad:6} {(ok / s.figures if s.figures else 1):11.3f} "
                     f"{(bad / filled if filled else 0):12.3f}")
    ok, filled, bad = (sum(c.values()) for c in (s.ctx_ok, s.ctx_filled, s.ctx_wrong_filled))
    n = s.figures * len(CONTEXT_FIELDS)
    lines.append(f"{'ALL':10} {ok:6} {filled:6} {bad:6} {(ok / n if n else 1):11.3f} {(bad / filled if filled else 0):12.3f}")
    return "\n".join(lines)


def show(row: dict) -> str:
    """One row as a person reads it: kind text = value..value_max unit qualifier/category [rule]."""
    v = row.get("value", "")
    if row.get("value_max"):
        v += ".." + row["value_max"]
    extra = " ".join(x for x in (row.get("unit", ""), attr(row)) if x)
    rule = f" [{row['rule']}]" if row.get("rule") else ""
    return f"{row['kind']:8} {row['text']}" + (f" = {v}" if row["kind"] != "org" else "") + \
           (f" {extra}" if extra else "") + rule


def table(s: Score) -> str:
    """The per-kind table, plus all kinds together."""
    lines = [f"{'kind':9} {'gold':>5} {'pred':>5} {'tp':>5} {'P':>6} {'R':>6} {'F1':>6} {'qual/cat':>9}"]
    for kind in list(KINDS) + [None]:
        p, r, f = s.prf(kind)
        tp = sum(s.tp.values()) if kind is None else s.tp[kind]
        ok = sum(s.attr_ok.values()) if kind is None else s.attr_ok[kind]
        g = sum(s.gold.values()) if kind is None else s.gold[kind]
        pr = sum(s.pred.values()) if kind is None else s.pred[kind]
        lines.append(f"{kind or 'ALL':9} {g:5} {pr:5} {tp:5} {p:6.3f} {r:6.3f} {f:6.3f} "
                     f"{(ok / tp if tp else 1):9.3f}")
    return "\n".join(lines)


def report(s: Score, limit: int | None = None) -> str:
    """Missed, unexpected and wrong-qualifier rows, grouped by article."""
    out = []
    for title, items in (("missed (in golden, not produced)", s.missed),
                         ("unexpected (produced, not in golden)", s.unexpected)):
        out.append(f"\n{title}: {len(items)}")
        for aid, row in items[:limit]:
            out.append(f"  {aid}: {show(row)}")
    out.append(f"\nmatched with a different qualifier/category: {len(s.wrong_attr)}")
    for aid, g, p in s.wrong_attr[:limit]:
        out.append(f"  {aid}: want {show(g)}\n  {' ' * len(aid)}  got  {show(p)}")
    out.append(f"\nmatched figures with a different context field: {len(s.wrong_context)}")
    for aid, name, g, p in s.wrong_context[:limit]:
        out.append(f"  {aid}: {g['text']} {name}: want {context_value(g, name) or '(empty)'}, "
                   f"got {context_value(p, name) or '(empty)'}")
    return "\n".join(out)
