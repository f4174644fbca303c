"""What a rules edit changed on the corpus: rows added, removed and changed.

The corpus is run with the current rules and compared, per article, with the
golden files (`tests/golden/<article>.csv`, no rule column: their side is
grouped under "(golden)") or with the `extractions.csv` of an earlier run.
Rows are matched as multisets: first on every field, then the rest on the
mention (kind and text; plus start and end when both sides have them). A
matched pair whose value, value_max, unit, qualifier or category differ is
"changed"; what is left is "added" (new side) or "removed" (old side).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..article import process_file
from ..outputs import CONTEXT_COLUMNS, KINDS, neutralise, read_csv
from ..rules import Rules
from ..run import discover
from .checkrules import display_path
from .evaluate import load_golden, show

ATTRS = ("value", "value_max", "unit", "qualifier", "category", *CONTEXT_COLUMNS)
GOLDEN_GROUP = "(golden)"


def current_rows(inputs: list[Path], rules: Rules, only: set[str] | None = None) -> tuple[dict, list[str]]:
    """article id -> rows with the current rules (only the ids named, if any), and error messages."""
    jobs, errors = discover(inputs)
    out, problems = {}, [f"{e.article}: {e.error}" for e in errors]
    for job in jobs:
        if only is not None and job.article not in only:
            continue
        res = process_file(job.article, job.path, rules)
        if res.status != "ok":
            problems.append(f"{job.article}: {res.error}")
            continue
        out[job.article] = res.rows
    return out, problems


def outputs_rows(out_dir: Path) -> dict[str, list[dict]]:
    """article id -> rows of an earlier run's extractions.csv."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for r in read_csv(out_dir / "extractions.csv"):
        rows[r["article"]].append(r)
    return dict(rows)


def _key(row: dict, span: bool, full: bool) -> tuple:
    """Matching key of a row: the mention, plus every attribute when full.

    The text is compared as the CSV writer stores it (`-12.6%` is written `'-12.6%`), so rows read back
    from a CSV match fresh ones.
    """
    k = (row["kind"], neutralise(row["text"])) + ((str(row["start"]), str(row["end"])) if span else ())
    return k + tuple(str(row.get(a, "") or "") for a in ATTRS) if full else k


def _pair(new: list[dict], old: list[dict], key) -> tuple[list, list, list]:
    """Pair rows with equal keys, in order: (pairs as (old, new), unpaired new, unpaired old)."""
    pool: dict[tuple, list[dict]] = defaultdict(list)
    for r in old:
        pool[key(r)].append(r)
    pairs, rest = [], []
    for r in new:
        bucket = pool.get(key(r))
        if bucket:
            pairs.append((bucket.pop(0), r))
        else:
            rest.append(r)
    left = {id(r) for bucket in pool.values() for r in bucket}
    return pairs, rest, [r for r in old if id(r) in left]


def compare(new: list[dict], old: list[dict], span: bool = False):
    """(added, removed, changed as (old, new) pairs) between two rows lists of one article."""
    _, new, old = _pair(new, old, lambda r: _key(r, span, True))
    changed, added, removed = _pair(new, old, lambda r: _key(r, span, False))
    return added, removed, changed


def changes(old: dict, new: dict) -> str:
    """`value 510 -> 5100; unit 所 -> 个`: the attributes that differ."""
    return "; ".join(f"{a} {old.get(a, '') or '∅'} -> {new.get(a, '') or '∅'}" for a in ATTRS
                     if str(old.get(a, "") or "") != str(new.get(a, "") or ""))


@dataclass
class ArticleDiff:
    """The differences of one article, as lines grouped by rule id."""
    article: str
    groups: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter = field(default_factory=Counter)    # (kind, "+"|"-"|"~") -> n


def diff_article(article: str, new: list[dict], old: list[dict], span: bool) -> ArticleDiff:
    """Added, removed and changed rows of one article, grouped by the rule that made them."""
    d = ArticleDiff(article)
    added, removed, changed = compare(new, old, span)
    for r in added:
        d.groups[r.get("rule") or "?"].append(f"+ {show(r)}")
        d.counts[r["kind"], "+"] += 1
    for r in removed:
        d.groups[r.get("rule") or GOLDEN_GROUP].append(f"- {show(r)}")
        d.counts[r["kind"], "-"] += 1
    for o, n in changed:
        d.groups[n.get("rule") or "?"].append(f"~ {show(n)}   ({changes(o, n)})")
        d.counts[n["kind"], "~"] += 1
    return d


def summary(diffs: list[ArticleDiff]) -> list[str]:
    """One line per kind, and one for all kinds: +added -removed ~changed."""
    total = Counter()
    for d in diffs:
        total.update(d.counts)
    lines = []
    for kind in list(KINDS) + ["ALL"]:
        n = {s: (sum(v for (k, t), v in total.items() if t == s) if kind == "ALL" else total[kind, s]) for s in "+-~"}
        lines.append(f"  {kind:9} +{n['+']} -{n['-']} ~{n['~']}")
    return lines


def format_diffs(diffs: list[ArticleDiff], header: str, notes: list[str]) -> str:
    """The diff as text: per article, per rule id, then the summary."""
    out = [header]
    changed = [d for d in diffs if d.counts]
    for d in changed:
        out.append(f"\n{d.article}")
        for group in sorted(d.groups, key=lambda g: (g == GOLDEN_GROUP, g)):
            out.append(f"  {group}")
            out += [f"    {line}" for line in d.groups[group]]
    if not changed:
        out.append("no differences")
    out += [f"note: {n}" for n in notes]
    out += ["", f"summary ({len(changed)} of {len(diffs)} articles differ):", *summary(diffs)]
    return "\n".join(out)


def run_diff(inputs: list[Path], rules: Rules, against: str, golden_dir: Path) -> str:
    """Run the inputs and compare with the golden files (against='golden') or an outputs folder."""
    new, notes = current_rows(inputs, rules)
    if against == "golden":
        old, span = load_golden(golden_dir), False
        missing = sorted(set(new) - set(old))
        if missing:
            notes.append(f"{len(missing)} article(s) without a golden file, not compared: {', '.join(missing[:10])}"
                         + (" …" if len(missing) > 10 else ""))
        gone = sorted(set(old) - set(new))
        if gone:
            notes.append(f"golden file(s) without an article in the inputs: {', '.join(gone)}")
        ids = sorted(set(old) & set(new))
        where = f"the golden files in {display_path(golden_dir)}"
    else:
        old, span = outputs_rows(Path(against)), True
        ids = sorted(set(old) | set(new))
        where = display_path(Path(against) / "extractions.csv")
    diffs = [diff_article(a, new.get(a, []), old.get(a, []), span) for a in ids]
    return format_diffs(diffs, f"diff of the current rules against {where} ({len(ids)} articles)", notes)


def diff_command(rules: Rules, inputs: list[Path], against: str, golden_dir: Path) -> tuple[str, int]:
    """diff: the text and the exit code (2 when the other side is missing)."""
    if against == "golden" and not golden_dir.is_dir():
        return f"error: golden folder {golden_dir} not found", 2
    if against != "golden" and not (Path(against) / "extractions.csv").exists():
        return (f"error: {Path(against) / 'extractions.csv'} not found; `--against` takes 'golden' or the "
                f"folder of an earlier `python -m pipeline run --out DIR`"), 2
    return run_diff(inputs, rules, against, golden_dir), 0
