"""Golden files: accept the pipeline's current rows of an article as its expected rows.

`tests/golden/<article>.csv` holds the columns of `outputs.GOLD_COLUMNS`
(no offsets, no rule: they survive rule refactoring), UTF-8 with BOM, rows in
order of start, written by `outputs.csv_bytes` / `outputs.atomic_write`.
`python -m pipeline golden accept ARTICLE...` rewrites them from a fresh run
(or from an earlier run's outputs with `--from DIR`) and prints what changed;
`pytest --update-golden` does the same for every article through the
`update_golden` fixture of tests/conftest.py and `write_golden`.
"""
from __future__ import annotations

from pathlib import Path

from ..outputs import GOLD_COLUMNS, atomic_write, csv_bytes, read_csv
from ..rules import Rules
from .checkrules import display_path
from .diff import changes, compare, current_rows, outputs_rows
from .evaluate import show


def golden_path(golden_dir: Path, article: str) -> Path:
    """Where the golden file of an article lives."""
    return Path(golden_dir) / f"{article}.csv"


def golden_rows(article: str, rows: list[dict]) -> list[dict]:
    """Rows reduced to the golden columns, ordered by start (as the pipeline wrote them)."""
    ordered = sorted(rows, key=lambda r: (int(r["start"]), int(r["end"]))) if all(
        str(r.get("start", "")).isdigit() for r in rows) else list(rows)
    return [{c: (article if c == "article" else r.get(c, "")) for c in GOLD_COLUMNS} for r in ordered]


def write_golden(golden_dir: Path, article: str, rows: list[dict]) -> list[str]:
    """Write an article's golden file from pipeline rows; return the lines saying what changed."""
    path = golden_path(golden_dir, article)
    existed = path.exists()
    old = read_csv(path) if existed else []
    new = golden_rows(article, rows)
    added, removed, changed = compare(new, old)
    atomic_write(path, csv_bytes(GOLD_COLUMNS, new))
    head = f"{article}: {display_path(path)} " + ("written" if existed else "created") + \
        f" ({len(new)} rows: +{len(added)} -{len(removed)} ~{len(changed)})"
    return [head, *(f"  + {show(r)}" for r in added), *(f"  - {show(r)}" for r in removed),
            *(f"  ~ {show(n)}   ({changes(o, n)})" for o, n in changed)]


def article_ids(names: list[str], roots: list[Path]) -> list[str]:
    """Article ids from what the user typed: an id, or the path of its .txt under an input root."""
    out = []
    for name in names:
        p, aid = Path(name), (name[:-4] if name.endswith(".txt") else name)
        if p.suffix == ".txt" and p.is_file():
            for root in roots:
                try:
                    aid = p.resolve().relative_to(root.resolve()).with_suffix("").as_posix()
                    break
                except ValueError:
                    continue
        out.append(aid)
    return out


def accept(names: list[str], inputs: list[Path], rules: Rules, golden_dir: Path,
           from_dir: Path | None = None) -> tuple[list[str], bool]:
    """Write the golden files of the named articles; (report lines, ok). Nothing is written on error."""
    ids = article_ids(names, inputs)
    if from_dir is not None:
        if not (from_dir / "extractions.csv").exists():
            return [f"error: {from_dir / 'extractions.csv'} not found; run `python -m pipeline run --out "
                    f"{from_dir}` first"], False
        have, problems = outputs_rows(from_dir), []
        articles_csv = from_dir / "articles.csv"
        known = {r["article"] for r in read_csv(articles_csv)} if articles_csv.exists() else set(have)
        have = {a: have.get(a, []) for a in known}
    else:
        have, problems = current_rows(inputs, rules, set(ids))
    unknown = [a for a in ids if a not in have]
    if unknown:
        where = from_dir or ", ".join(map(str, inputs))
        return [f"error: no article {a!r} in {where}" for a in unknown] + \
            [f"  ({p})" for p in problems] + ["nothing written"], False
    lines = []
    for a in ids:
        lines += write_golden(golden_dir, a, have[a])
    return lines, True
