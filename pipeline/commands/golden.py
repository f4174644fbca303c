"""Golden files: accept rows a person checked as an article's expected rows.

`tests/golden/<article>.csv` holds the columns of `outputs.GOLD_COLUMNS`
(no offsets, no rule: they survive rule refactoring), UTF-8 with BOM, rows in
order of the text, written by `outputs.csv_bytes` / `outputs.atomic_write`.

`python -m pipeline golden accept` writes them in two ways, and prints what
changed (+ added, - removed, ~ changed):
- `ARTICLE...`: the pipeline's current rows (a fresh run, or an earlier run's
  outputs with `--from DIR`) replace the file; with `--kind`, only the rows
  of those kinds are replaced, the others kept as they are.
- `--verdicts verdicts.csv` (exported by the review page): rows marked right
  are kept (or added), rows marked wrong dropped, mentions the reviewer added
  get their value from that kind's rules run on exactly the selected text
  (`interpret_added`; where no rule reads it, the reviewer's value is written
  and listed for completion). A right row matching a golden row fills only
  its empty cells. Golden rows no verdict mentions stay. Each
  verdict carries the SHA-256 of the golden file it was given against and is
  applied to that version only: accepting the same file again changes nothing.

Hand edits are never overwritten silently: every file accept writes has its
SHA-256 recorded in `<golden folder>/.accepted.sha256` (the `sha256sum`
format; the golden files stay plain CSV). A file whose bytes differ from its
record was edited by hand since (or never written by accept): accepting the
current rows refuses to write it without `--force`. Verdicts need no such
guard: they apply to the file they were given against only, drop only rows
marked wrong, and never change a golden cell (a right row fills the empty
ones). `--dry-run` prints the changes, writes nothing.
"""
from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..outputs import (
    GOLD_COLUMNS,
    KINDS,
    VERDICT_COLUMNS,
    VERDICTS,
    CsvReadError,
    atomic_write,
    csv_bytes,
    read_csv,
)
from ..rules import Rules
from .checkrules import display_path
from .diff import changes, compare, current_rows, outputs_rows
from .evaluate import match_key, show

# Beside the golden files: the digest of each file as `golden accept` last wrote it.
MANIFEST = ".accepted.sha256"


def golden_path(golden_dir: Path, article: str) -> Path:
    """Where the golden file of an article lives."""
    return Path(golden_dir) / f"{article}.csv"


def safe_id(golden_dir: Path, article: str) -> bool:
    """True when the article's golden file lies inside the golden folder (an id like `../x` does not)."""
    root = Path(golden_dir).resolve()
    return bool(article) and root in golden_path(root, article).resolve().parents


def gold_row(article: str, row: dict) -> dict:
    """A row reduced to the golden columns."""
    return {c: (article if c == "article" else str(row.get(c, "") or "")) for c in GOLD_COLUMNS}


def golden_rows(article: str, rows: list[dict]) -> list[dict]:
    """Rows reduced to the golden columns, ordered by start (as the pipeline wrote them)."""
    ordered = sorted(rows, key=lambda r: (int(r["start"]), int(r["end"]))) if all(
        str(r.get("start", "")).isdigit() for r in rows) else list(rows)
    return [gold_row(article, r) for r in ordered]


def in_text_order(rows: list[dict], known: list[dict]) -> list[dict]:
    """Golden rows (no offsets) in the order of the text, as far as `known` (rows with `start`) tells:
    a row takes the start of a known row with the same match key, else the place after the row
    before it."""
    starts: dict[tuple, list[int]] = defaultdict(list)
    for k in sorted((k for k in known if str(k.get("start", "")).isdigit()), key=lambda k: int(k["start"])):
        starts[match_key(k)].append(int(k["start"]))
    placed, last = [], -1
    for i, r in enumerate(rows):
        free = starts.get(match_key(r))
        last = free.pop(0) if free else last
        placed.append((last, i, r))
    return [r for _, _, r in sorted(placed, key=lambda x: (x[0], x[1]))]


# --- hand edits ---------------------------------------------------------------------------------

def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(golden_dir: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of each golden file as accept last wrote it."""
    path = Path(golden_dir) / MANIFEST
    out = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            hexdigest, sep, name = line.partition("  ")
            if sep and len(hexdigest) == 64:
                out[name] = hexdigest
    return out


def write_manifest(golden_dir: Path, manifest: dict[str, str]) -> None:
    """The manifest, atomically, one `<sha256>  <path>` line per file (`sha256sum -c` checks it)."""
    text = "".join(f"{h}  {name}\n" for name, h in sorted(manifest.items()))
    atomic_write(Path(golden_dir) / MANIFEST, text.encode("utf-8"))


def hand_edited(golden_dir: Path, article: str, manifest: dict[str, str]) -> bool:
    """True when the article's golden file exists and is not byte for byte what accept last wrote."""
    path = golden_path(golden_dir, article)
    return path.is_file() and manifest.get(f"{article}.csv") != digest(path.read_bytes())


# --- one article's change -----------------------------------------------------------------------

@dataclass
class Change:
    """What accept would write for one article: the old and the new rows, and notes for the user."""
    article: str
    old: list[dict]
    new: list[dict]
    existed: bool
    notes: list[str] = field(default_factory=list)

    def lines(self, path: Path, dry_run: bool) -> list[str]:
        added, removed, changed = compare(self.new, self.old)
        verb = ("would be written" if self.existed else "would be created") if dry_run else \
            ("written" if self.existed else "created")
        head = f"{self.article}: {display_path(path)} {verb} ({len(self.new)} rows: " \
               f"+{len(added)} -{len(removed)} ~{len(changed)})"
        return [head, *(f"  + {show(r)}" for r in added), *(f"  - {show(r)}" for r in removed),
                *(f"  ~ {show(n)}   ({changes(o, n)})" for o, n in changed), *(f"  ! {n}" for n in self.notes)]


def old_rows(golden_dir: Path, article: str) -> tuple[list[dict], bool]:
    path = golden_path(golden_dir, article)
    return (read_csv(path), True) if path.is_file() else ([], False)


def write_changes(golden_dir: Path, todo: list[Change], dry_run: bool = False,
                  force: bool = False, guard: bool = True) -> tuple[list[str], bool]:
    """Write the changed golden files (or say what would change); with `guard`, refuse, writing
    nothing, when a file was edited by hand since accept last wrote it, unless force."""
    manifest = read_manifest(golden_dir)
    edited = [c.article for c in todo if guard and hand_edited(golden_dir, c.article, manifest)]
    if edited and not force and not dry_run:
        return [f"error: {display_path(golden_path(golden_dir, a))} was edited by hand since `golden accept` "
                f"last wrote it (or was never written by it): accepting would replace those edits" for a in edited] + \
            ["  see what would change with --dry-run; keep the edits by reviewing on the page and accepting "
             "with --verdicts (it changes only the rows reviewed), or overwrite with --force", "nothing written"], False
    lines = []
    for c in todo:
        path = golden_path(golden_dir, c.article)
        lines += c.lines(path, dry_run)
        if c.article in edited:
            lines.append("  (edited by hand since accept last wrote it" +
                         (": --force overwrites it)" if dry_run and not force else "; overwritten: --force)"))
        if not dry_run:
            data = csv_bytes(GOLD_COLUMNS, c.new)
            atomic_write(path, data)
            manifest[f"{c.article}.csv"] = digest(data)
    if dry_run:
        lines.append("dry run: nothing written")
    elif todo:
        write_manifest(golden_dir, manifest)
    return lines, True


def write_golden(golden_dir: Path, article: str, rows: list[dict]) -> list[str]:
    """Write an article's golden file from pipeline rows (whatever it held); return the lines saying
    what changed. For `pytest --update-golden` and scripts."""
    old, existed = old_rows(golden_dir, article)
    lines, _ = write_changes(golden_dir, [Change(article, old, golden_rows(article, rows), existed)], force=True)
    return lines


# --- accepting the current rows -------------------------------------------------------------------

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


def replaced(article: str, old: list[dict], current: list[dict], kinds: list[str] | None) -> list[dict]:
    """The new golden rows: the current ones, or with `kinds` the current rows of those kinds and the
    old rows of the others, in the order of the text."""
    new = golden_rows(article, current)
    if not kinds:
        return new
    keep = [r for r in old if r.get("kind") not in kinds]
    return in_text_order(keep + [r for r in new if r["kind"] in kinds], current)


def accept(names: list[str], inputs: list[Path], rules: Rules, golden_dir: Path,
           from_dir: Path | None = None, kinds: list[str] | None = None, dry_run: bool = False,
           force: bool = False) -> tuple[list[str], bool]:
    """Write the golden files of the named articles from their current rows; (report lines, ok).
    Nothing is written on error."""
    ids = article_ids(names, inputs)
    bad = [a for a in ids if not safe_id(golden_dir, a)]
    if bad:
        return [f"error: article id {a!r} would put its golden file outside {golden_dir}" for a in bad] + \
            ["nothing written"], False
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
    todo = []
    for a in ids:
        old, existed = old_rows(golden_dir, a)
        todo.append(Change(a, old, replaced(a, old, have[a], kinds), existed))
    return write_changes(golden_dir, todo, dry_run, force)


# --- accepting a reviewer's verdicts --------------------------------------------------------------

def read_verdicts(path: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """article -> its verdict rows (the last verdict on a row wins), and the problems of the file."""
    try:
        rows = read_csv(path)
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    except (OSError, CsvReadError) as e:
        return {}, [f"error: {e}"]
    missing = [c for c in ("article", "verdict", "kind", "text") if c not in header]
    if missing:
        return {}, [f"error: {path} has no column {', '.join(missing)} (verdicts.csv columns: "
                    f"{','.join(VERDICT_COLUMNS)})"]
    out: dict[str, dict[tuple, dict]] = {}
    problems = []
    for line, r in enumerate(rows, start=2):
        if r["verdict"] not in VERDICTS or r["kind"] not in KINDS or not r["article"]:
            problems.append(f"error: {path}:{line}: verdict must be one of {', '.join(VERDICTS)} and kind one of "
                            f"{', '.join(KINDS)}, with an article (got {r['verdict']!r}, {r['kind']!r})")
            continue
        if r["verdict"] == "added" and not (str(r.get("start", "")).isdigit() and r["text"]):
            problems.append(f"error: {path}:{line}: an added mention needs its text and start")
            continue
        key = (r["kind"], r.get("start", ""), r.get("end", ""), r["text"]) if r.get("start") else \
            (r["kind"], r["text"], r.get("value", ""), r.get("value_max", ""), r.get("unit", ""), line)
        by = out.setdefault(r["article"], {})
        by.pop(key, None)
        by[key] = r
    return {a: list(v.values()) for a, v in out.items()}, problems


def interpret_added(text: str, kind: str, rules: Rules, year: int | None) -> dict | None:
    """The fields that this kind's rules give exactly `text` (a candidate spanning all of it, the
    overlap policy picking among several), or None when no rule reads it so."""
    from ..stages import segment
    from ..stages.extract import candidates, context, resolve
    ids = {r.id for r in rules.rules if r.kind == kind}
    tokens = segment.lazy_tokens(text, str(Path(rules.dir) / "jieba_user.dict"), rules.segment_words)
    found, _ = candidates(text, rules, context(rules, year), (), tokens, [], rule_ids=ids)
    whole = [c for c in found if c.start == 0 and c.end == len(text)]
    if not whole:
        return None
    best = resolve(whole)[0][0]
    return {"text": text, **{k: str(best.fields.get(k, "") or "") for k in
                             ("value", "value_max", "unit", "qualifier", "category")}, "rule": best.rule}


def apply_verdicts(article: str, old: list[dict], verdicts: list[dict], rules: Rules,
                   year: int | None) -> tuple[list[dict], list[str]]:
    """The golden rows after the verdicts, and notes: a right row is kept (replacing the golden row it
    matches, or added), a wrong one drops the golden row it matches, an added mention is interpreted
    by its kind's rules. Golden rows no verdict matches stay where they are."""
    rows: list[dict | None] = [dict(r) for r in old]
    claimed: set[int] = set()
    notes = []

    def claim(v: dict) -> int | None:
        key = match_key(v)
        i = next((i for i, r in enumerate(rows) if r is not None and i not in claimed and match_key(r) == key), None)
        if i is not None:
            claimed.add(i)
        return i

    known = []
    for v in verdicts:
        v = dict(v)
        if v["verdict"] == "added":
            got = interpret_added(v["text"], v["kind"], rules, year)
            if got is None:
                notes.append(f"complete by hand: {v['kind']} {v['text']!r} (at {v.get('start')}): no {v['kind']} rule "
                             f"reads exactly this text, so the value and unit are the reviewer's "
                             f"({v.get('value') or '∅'} {v.get('unit') or '∅'})")
            else:
                given = {k: v.get(k, "") for k in ("value", "unit") if v.get(k)}
                if any(got[k] != x for k, x in given.items()):
                    notes.append(f"{v['kind']} {v['text']!r}: {got['rule']} reads value {got['value']} {got['unit']}; "
                                 f"the reviewer gave {given.get('value', '∅')} {given.get('unit', '∅')}")
                v.update({k: x for k, x in got.items() if k != "rule"})
        known.append(v)
        i = claim(v)
        if v["verdict"] == "wrong":
            if i is not None:
                rows[i] = None
            continue
        if i is None:
            rows.append(gold_row(article, v))
            claimed.add(len(rows) - 1)
        else:
            rows[i], kept = merged(rows[i], gold_row(article, v))
            notes += [f"{v['kind']} {v['text']!r}: kept the golden {c} {rows[i][c]!r} (the reviewed row has "
                      f"{x!r}); edit the file if the review is right" for c, x in kept]
    return in_text_order([r for r in rows if r is not None], known), notes


def merged(golden: dict, reviewed: dict) -> tuple[dict, list[tuple[str, str]]]:
    """A golden row a right verdict matched, with the reviewed row's cells where it has none (the
    context of a figure, say); a cell both fill differently keeps the golden one (it may be a hand
    correction the page did not show). Returns the row and the (column, reviewed value) kept out."""
    row = {c: golden.get(c) or reviewed[c] for c in GOLD_COLUMNS}
    return row, [(c, reviewed[c]) for c in GOLD_COLUMNS if golden.get(c) and reviewed[c] and golden[c] != reviewed[c]]


def article_years(from_dir: Path | None) -> dict[str, int | None]:
    """The year of each article's own date, from an outputs folder's articles.csv (for 今年, 去年)."""
    path = from_dir / "articles.csv" if from_dir is not None else None
    if path is None or not path.is_file():
        return {}
    return {r["article"]: int(r["date"][:4]) if r.get("date", "")[:4].isdigit() else None for r in read_csv(path)}


def accept_verdicts(verdicts_path: Path, rules: Rules, golden_dir: Path, only: list[str] | None = None,
                    from_dir: Path | None = None, dry_run: bool = False,
                    force: bool = False) -> tuple[list[str], bool]:
    """Update the golden files of the articles in a verdicts file (only those named, if any)."""
    by_article, problems = read_verdicts(verdicts_path)
    if problems:
        return problems + ["nothing written"], False
    if only:
        unknown = [a for a in only if a not in by_article]
        if unknown:
            return [f"error: {verdicts_path} has no verdict on article {a!r}" for a in unknown] + \
                ["nothing written"], False
        by_article = {a: by_article[a] for a in only}
    bad = [a for a in by_article if not safe_id(golden_dir, a)]
    if bad:
        return [f"error: article id {a!r} would put its golden file outside {golden_dir}" for a in bad] + \
            ["nothing written"], False
    if not by_article:
        return [f"{verdicts_path}: no verdicts; nothing to write"], True
    years = article_years(from_dir)
    todo = []
    for a, verdicts in by_article.items():
        old, existed = old_rows(golden_dir, a)
        current, stale = current_verdicts(golden_dir, a, verdicts)
        new, notes = apply_verdicts(a, old, current, rules, years.get(a))
        if stale:
            notes.append(f"{len(stale)} verdict(s) skipped: given against another version of "
                         f"{display_path(golden_path(golden_dir, a))} (accepted already, or the file changed "
                         f"since); review them again on a page built from the current golden files")
        todo.append(Change(a, old, new, existed, notes))
    # no hand-edit guard: a verdict applies to the file it was given against only, and changes
    # nothing but the rows it names (a golden cell it would change is kept, and said)
    return write_changes(golden_dir, todo, dry_run, force, guard=False)


def current_verdicts(golden_dir: Path, article: str, verdicts: list[dict]) -> tuple[list[dict], list[dict]]:
    """(verdicts given against the golden file as it is now, the others). Each verdict carries the
    SHA-256 of the golden file the page compared with (empty: none), so that accepting the same
    verdicts again changes nothing, and a verdict on rows since changed is not applied blindly.
    A verdicts file without the column is taken as it is."""
    path = golden_path(golden_dir, article)
    now = digest(path.read_bytes()) if path.is_file() else ""
    fresh = [v for v in verdicts if "golden_sha256" not in v or v["golden_sha256"] == now]
    return fresh, [v for v in verdicts if "golden_sha256" in v and v["golden_sha256"] != now]
