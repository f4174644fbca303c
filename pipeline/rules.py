"""Load the tunable rules of `rules/`: fragments, lists, rule files, boilerplate.

Everything a user tunes is data. Loading validates all of it and reports
problems as `RulesError` lines of the form `file:line: [rule id] what is
wrong`, never a traceback: bad TOML, an unknown fragment, a regex that does
not compile, a duplicate id, a missing field.
"""
from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import regex

from .outputs import KINDS
from .stages import base_units, orgs
from .stages.boilerplate import BoilerplateRules

RULE_FILES = {k: f"{k}.toml" for k in KINDS}
RULE_FIELDS = {"id", "priority", "pattern", "note", "examples", "negatives", "known_failures", "unit",
               "qualifier", "category", "kind", "trigger", "interpret"}
# {NAME} in a pattern: a fragment reference (regex's own {m,n} never starts with a capital)
FRAGMENT_REF = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")
# Seconds one rule may spend on one text before it is stopped and reported.
MATCH_TIMEOUT = 2.0


def default_rules_dir() -> Path:
    """`$PIPELINE_RULES`, else the `rules/` folder beside the package."""
    env = os.environ.get("PIPELINE_RULES")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "rules"


class RulesError(Exception):
    """One or more problems in the rules; str() lists them one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Rule:
    id: str
    kind: str
    pattern: str            # as written, with {FRAGMENTS}
    regex: object           # compiled, fragments expanded
    priority: int
    file: str
    line: int
    note: str = ""
    unit: str = ""
    qualifier: str = ""
    category: str = ""
    examples: list = field(default_factory=list)
    negatives: list = field(default_factory=list)
    known_failures: list = field(default_factory=list)
    trigger: object = None  # compiled `trigger`: the rule is tried only near its matches (speed only)
    interpret: str = ""     # org rules: which interpreter reads a match (orgs.INTERPRETERS)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Rules:
    dir: Path
    rules: list[Rule]
    lists: dict[str, list[list[str]]]        # list name -> rows (columns split on whitespace)
    fragments: dict[str, str]                # expanded fragments
    boilerplate: BoilerplateRules
    digest: str                              # hash of every rules file, for caches
    org: dict = field(default_factory=dict)  # the org lexicon (lists and org_settings.toml), orgs.build_lexicon

    @property
    def segment_words(self) -> tuple[str, ...]:
        """Names jieba must not cut through: the org gazetteer, anchors and heads (added to its dictionary)."""
        return tuple(sorted(set(self.words("org_gazetteer")) | set(self.words("org_anchor"))
                            | set(self.words("org_head"))))

    def by_id(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def mapping(self, name: str) -> dict[str, str]:
        """A two-column list as a dict (first column -> second)."""
        return {row[0]: (row[1] if len(row) > 1 else "") for row in self.lists.get(name, [])}

    def words(self, name: str) -> list[str]:
        return [row[0] for row in self.lists.get(name, [])]


def read_text(path: Path, problems: list[str] | None = None) -> str:
    """A rules file as text (UTF-8, BOM allowed); bytes that are not UTF-8 are a problem with their line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        problem = f"{path}:{line}: not UTF-8 (byte 0x{data[e.start]:02x}); re-save the file as UTF-8"
        if problems is None:
            raise RulesError([problem]) from None
        problems.append(problem)
        return data.decode("utf-8-sig", errors="replace")


def read_list(path: Path, problems: list[str] | None = None) -> list[list[str]]:
    """Rows of a list file: one entry per line, columns split on whitespace, `#` comments."""
    rows = []
    for line in read_text(path, problems).splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.split())
    return rows


def _alternation(words: list[str]) -> str:
    """A regex alternation of literal words, longest first so the longest wins."""
    uniq = sorted(set(words), key=lambda w: (-len(w), w))
    return "(?:" + "|".join(regex.escape(w) for w in uniq) + ")" if uniq else "(?!)"


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of needle in text (1 if absent)."""
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else 1


def _toml(path: Path, problems: list[str]) -> tuple[dict, str]:
    """Parse a TOML file: (data, text); a syntax error is a problem with its line, and data is empty."""
    text = read_text(path, problems)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        # tomllib says "(at line N, column M)" or "(at end of document)": keep it, put file:line first
        m = regex.search(r"line (\d+)", str(e))
        line = m.group(1) if m else (text.count("\n") + (not text.endswith("\n")) if "end of document" in str(e)
                                     else 1)
        problems.append(f"{path}:{line}: bad TOML: {e}")
        return {}, text


def _rule_lines(text: str, n: int) -> list[int] | None:
    """1-based line of each of the n `[[rule]]` tables' `id` (or header); None if the file has other forms."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if regex.match(r"\s*\[\[\s*rule\s*\]\]", line)]
    if len(heads) != n:
        return None
    out = []
    for k, h in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(lines)
        out.append(next((i + 1 for i in range(h, end) if regex.match(r"\s*id\s*=", lines[i])), h + 1))
    return out


def expand(pattern: str, fragments: dict[str, str], where: str, problems: list[str], _depth: int = 0) -> str:
    """Replace {NAME} by its fragment, recursively; unknown names are problems."""
    def sub(m):
        name = m.group(1)
        if name not in fragments:
            problems.append(f"{where}: unknown fragment {{{name}}} (known: see rules/fragments.toml and "
                            f"rules/lists/*.txt)")
            return "(?!)"
        if _depth > 10:
            problems.append(f"{where}: fragment {{{name}}} refers to itself")
            return "(?!)"
        return "(?:" + expand(fragments[name], fragments, where, problems, _depth + 1) + ")"
    return FRAGMENT_REF.sub(sub, pattern)


def load_rules(rules_dir: Path | None = None, only_files: list[Path] | None = None) -> Rules:
    """Load and validate everything under rules_dir; raise RulesError listing every problem."""
    rules_dir = Path(rules_dir or default_rules_dir())
    problems: list[str] = []
    if not rules_dir.is_dir():
        raise RulesError([f"{rules_dir}: rules folder not found (set --rules or PIPELINE_RULES)"])
    digest = hashlib.sha256()
    for p in sorted(rules_dir.rglob("*")):
        if p.is_file() and p.suffix in (".toml", ".txt", ".dict"):
            digest.update(str(p.relative_to(rules_dir)).encode() + b"\0" + p.read_bytes())

    lists = {}
    for p in sorted((rules_dir / "lists").glob("*.txt")):
        lists[p.stem] = read_list(p, problems)
    problems += base_units.problems(lists.get(base_units.LIST_NAME, []),
                                    str(rules_dir / "lists" / f"{base_units.LIST_NAME}.txt"))
    fragments: dict[str, str] = {}
    for name, rows in lists.items():
        fragments[name.upper()] = _alternation([r[0] for r in rows])
    frag_path = rules_dir / "fragments.toml"
    raw_frags: dict[str, str] = {}
    if frag_path.exists():
        data, text = _toml(frag_path, problems)
        for name, pat in (data.get("fragment") or {}).items():
            if not isinstance(pat, str):
                problems.append(f"{frag_path}:{_line_of(text, name + ' =')}: fragment {name} must be a string")
                continue
            raw_frags[name] = pat
    fragments.update(raw_frags)
    expanded = {}
    for name, pat in raw_frags.items():
        where = f"{frag_path}:{_line_of(text, name + ' =')}: fragment {name}"
        expanded[name] = expand(pat, fragments, where, problems)
        try:
            regex.compile(expanded[name])
        except regex.error as e:
            problems.append(f"{where}: regex does not compile: {e}")
    fragments.update(expanded)

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for kind in KINDS:
        path = rules_dir / RULE_FILES[kind]
        if not path.exists():
            continue
        data, text = _toml(path, problems)
        entries = data.get("rule", []) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            problems.append(f"{path}:{_line_of(text, 'rule')}: rules must be [[rule]] tables")
            continue
        lines = _rule_lines(text, len(entries))
        for i, entry in enumerate(entries):
            rid = entry.get("id")
            line = lines[i] if lines else (_line_of(text, f'id = "{rid}"') if rid else 1)
            where = f"{path}:{line}"
            if not rid:
                problems.append(f"{where}: rule #{i + 1} has no id")
                continue
            unknown = set(entry) - RULE_FIELDS
            if unknown:
                problems.append(f"{where}: [{rid}] unknown field(s) {sorted(unknown)}")
            if rid in seen:
                problems.append(f"{where}: [{rid}] duplicate id (first at {seen[rid]})")
                continue
            seen[rid] = where
            if entry.get("kind", kind) != kind:
                problems.append(f"{where}: [{rid}] kind {entry.get('kind')!r} in {path.name}")
            pat = entry.get("pattern")
            if not isinstance(pat, str) or not pat:
                problems.append(f"{where}: [{rid}] missing field 'pattern'")
                continue
            for key in ("examples", "negatives", "known_failures"):
                if not isinstance(entry.get(key, []), list):
                    problems.append(f"{where}: [{rid}] {key} must be an array, e.g. {key} = [ ... ]")
                    entry[key] = []
            pr = entry.get("priority", 0)
            if not isinstance(pr, int):
                problems.append(f"{where}: [{rid}] priority must be an integer")
                pr = 0
            full = expand(pat, fragments, f"{where}: [{rid}]", problems)
            try:
                compiled = regex.compile(full)
            except regex.error as e:
                problems.append(f"{where}: [{rid}] regex does not compile: {e}")
                continue
            how = entry.get("interpret", "")
            if kind == "org" and how not in orgs.INTERPRETERS:
                problems.append(f"{where}: [{rid}] interpret must be one of {', '.join(orgs.INTERPRETERS)} "
                                f"(got {how!r})")
            elif kind != "org" and how:
                problems.append(f"{where}: [{rid}] interpret is for org rules only")
            trigger = None
            if "trigger" in entry:
                trig = entry["trigger"]
                try:
                    if not isinstance(trig, str) or not trig:
                        raise regex.error("must be a non-empty string")
                    trigger = regex.compile(expand(trig, fragments, f"{where}: [{rid}] trigger", problems))
                except regex.error as e:
                    problems.append(f"{where}: [{rid}] trigger does not compile: {e}")
            rules.append(Rule(id=rid, kind=kind, pattern=pat, regex=compiled, priority=pr, file=str(path),
                              line=line, note=entry.get("note", ""), unit=entry.get("unit", ""),
                              qualifier=entry.get("qualifier", ""), category=entry.get("category", ""),
                              examples=list(entry.get("examples", [])), negatives=list(entry.get("negatives", [])),
                              known_failures=list(entry.get("known_failures", [])), trigger=trigger,
                              interpret=how))
    boiler = _load_boilerplate(rules_dir / "boilerplate.toml", problems)
    loaded = Rules(rules_dir, rules, lists, fragments, boiler, digest.hexdigest()[:16])
    loaded.org = orgs.build_lexicon(rules_dir, lists, loaded.segment_words, problems)
    if problems:
        raise RulesError(problems)
    return loaded


def _load_boilerplate(path: Path, problems: list[str]) -> BoilerplateRules:
    if not path.exists():
        return BoilerplateRules(8, [], [])
    data, text = _toml(path, problems)

    def comp(entry, key, section):
        pat = entry.get(key)
        if pat is None:
            return None
        try:
            return regex.compile(pat, regex.M)
        except regex.error as e:
            problems.append(f"{path}:{_line_of(text, entry.get('id', ''))}: [{entry.get('id')}] {section} "
                            f"{key} does not compile: {e}")
            return regex.compile("(?!)")
    tail = [{"id": e.get("id", ""), "pattern": comp(e, "pattern", "tail"), "cuts_rest": bool(e.get("cuts_rest")),
             "source_pattern": comp(e, "source_pattern", "tail")} for e in data.get("tail", [])]
    dateline = [{"id": e.get("id", ""), "pattern": comp(e, "pattern", "dateline")} for e in data.get("dateline", [])]
    return BoilerplateRules(int(data.get("tail_lines", 8)), tail, dateline)
