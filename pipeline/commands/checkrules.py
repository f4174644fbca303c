"""Run every rule's examples, negatives and known failures through the whole pipeline.

A rule's `examples` say what it must produce, its `negatives` where it must
produce nothing, its `known_failures` what it should produce but does not yet.
Each one is a `Case`, checked by running the whole extraction on its text
(`article.analyse`: clean, convert, every rule, the overlap policy), so an
example also fails when another rule wins the overlap.

- example: a final row of THIS rule whose text is `match` (as written in the
  cleaned text, or covering exactly `match` in the example text) and whose
  given fields (value, value_max, unit, qualifier, category) are equal.
- negative (a string, or a table with `text` and an optional `match` that
  narrows it to a span): no final row of this rule (overlapping `match`).
- known failure: shaped like an example and expected to FAIL; one that
  passes is an error ("now passes: move it to examples").

`python -m pipeline check-rules` prints the summary; tests/test_rule_examples.py
makes each case its own pytest case.

The patterns of rules/context.toml have cases too: an example names a
`figure` (as written) and the context fields it must get; a negative names a
figure none of whose context fields this pattern may decide.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import regex

from ..article import analyse, rows_of
from ..rules import Rule, Rules
from ..stages import context as context_stage
from .evaluate import show

FIELDS = ("value", "value_max", "unit", "qualifier", "category")
EXAMPLE_KEYS = {"text", "match", *FIELDS}
CONTEXT_FIELDS = ("indicator", "entity", "period", "period_max", "change")
CONTEXT_KEYS = {"text", "figure", *CONTEXT_FIELDS}
SECTIONS = (("example", "examples"), ("negative", "negatives"), ("known_failure", "known_failures"))


@dataclass
class Case:
    """One example, negative or known failure of one rule."""
    rule: Rule
    kind: str               # example | negative | known_failure
    n: int                  # 1-based position in its list
    spec: object            # the TOML value: a table, or a string for a negative
    line: int

    @property
    def id(self) -> str:
        """Pytest id: `amount.number::example-3`."""
        return f"{self.rule.id}::{self.kind}-{self.n}"

    @property
    def where(self) -> str:
        """`file:line` of the case in its rules file (relative to the current folder when inside it)."""
        return f"{display_path(self.rule.file)}:{self.line}"

    @property
    def text(self) -> str:
        """The text the case runs on."""
        return self.spec if isinstance(self.spec, str) else str(self.spec.get("text", ""))


@dataclass
class Outcome:
    """The result of one case: passed, what was expected, what came out."""
    case: Case
    passed: bool
    expected: str
    got: list[str] = field(default_factory=list)       # the final rows, shown
    notes: list[str] = field(default_factory=list)     # this rule's lost and rejected candidates
    problem: str = ""                                  # the case itself is malformed

    @property
    def ok(self) -> bool:
        """True when the case behaves as declared (a known failure must fail) and is well-formed."""
        return not self.problem and self.passed != (self.case.kind == "known_failure")


def display_path(path) -> str:
    """path relative to the current folder when it lies inside it, else as given."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _where(rule: Rule) -> str:
    """`file:line` of a rule, for messages."""
    return f"{display_path(rule.file)}:{rule.line}"


def _block(lines: list[str], rule: Rule) -> tuple[int, int]:
    """0-based [first, last) line range of the rule's `[[rule]]` table in its file."""
    start = max(rule.line - 1, 0)
    end = next((i for i in range(start + 1, len(lines)) if regex.match(r"\s*\[\[", lines[i])), len(lines))
    return start, end


def _quoted(s: str) -> tuple[str, ...]:
    """The ways a TOML file may write s as a one-line string."""
    return (f'"{s}"', f"'{s}'")


def cases(rules: Rules, rule_ids=None) -> list[Case]:
    """Every case of every rule (or of the rules named), with its line in the rules file; the
    boilerplate rules' cases (rules/boilerplate.toml) come last."""
    out: list[Case] = []
    files: dict[str, list[str]] = {}
    patterns = list(rules.context.patterns.values()) if rules.context is not None else []
    for rule in [*rules.rules, *patterns, *rules.boilerplate.all()]:
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        if rule.file not in files:
            try:
                files[rule.file] = Path(rule.file).read_text(encoding="utf-8").splitlines()
            except OSError:
                files[rule.file] = []
        lines = files[rule.file]
        first, last = _block(lines, rule)
        used: set[int] = set()
        for kind, attr in SECTIONS:
            for n, spec in enumerate(getattr(rule, attr) or [], 1):
                out.append(Case(rule, kind, n, spec, _line(lines, first, last, spec, used) or rule.line))
    return out


def _line(lines: list[str], first: int, last: int, spec, used: set[int]) -> int:
    """1-based line of spec in lines[first:last] (0 if not found); a table's line is used once."""
    if isinstance(spec, str):
        needles = [spec]
    elif isinstance(spec, dict):
        needles = [spec.get("text", ""), spec.get("match", "")]
    else:
        needles = []
    for i in range(first, last):
        if i in used and not isinstance(spec, str):
            continue
        if needles and all(any(q in lines[i] for q in _quoted(str(s))) for s in needles if s):
            if not isinstance(spec, str):
                used.add(i)
            return i + 1
    return 0


def malformed(case: Case) -> str:
    """What is wrong with the shape of a case ('' when nothing)."""
    spec = case.spec
    if isinstance(case.rule, context_stage.Pattern):
        if not isinstance(spec, dict):
            return "must be a table { text = ..., figure = ..., indicator = ... }"
        unknown = set(spec) - CONTEXT_KEYS
        if unknown:
            return f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(sorted(CONTEXT_KEYS))}"
        if not spec.get("text") or not spec.get("figure") or spec["figure"] not in spec["text"]:
            return "needs 'text' and a 'figure' written in it"
        return ""
    if case.kind == "negative" and isinstance(spec, str):
        return "" if spec else "empty text"
    if not isinstance(spec, dict):
        return f"must be a table {{ text = ..., match = ... }}, not {type(spec).__name__}"
    unknown = set(spec) - (EXAMPLE_KEYS if case.kind != "negative" else {"text", "match"})
    if unknown:
        return f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(sorted(EXAMPLE_KEYS))}"
    if not isinstance(spec.get("text"), str) or not spec["text"]:
        return "missing 'text'"
    if case.kind != "negative" and (not isinstance(spec.get("match"), str) or not spec["match"]):
        return "missing 'match'"
    if spec.get("match") and spec["match"] not in spec["text"]:
        return f"'match' {spec['match']!r} is not in 'text'"
    return ""


def _covers(row: dict, match: str, raw: str) -> bool:
    """The row is the mention `match`: same cleaned text, or the same raw characters (舉辦兩期: 两期)."""
    return row["text"] == match or raw[row["raw_start"]:row["raw_end"]] == match


# The fields of articles.csv a boilerplate example may check.
META_FIELDS = ("source", "reporter", "editor", "date", "published")
# The articles a boilerplate example's text is tried in: as a header line and as a
# tail line (metadata lines), at the end (tail), opening the first paragraph (dateline),
# after a title (credit). The rest of each article holds no mention.
META_ARTICLES = {"line": ("标题\n{text}\n正文没有数字。", "标题\n正文没有数字。\n{text}"),
                 "tail": ("标题\n正文没有数字。\n{text}",), "dateline": ("标题\n{text}",),
                 "credit": ("标题\n{text}\n正文没有数字。",)}


def run_meta_case(case: Case, rules: Rules) -> tuple[bool, str, list[str]]:
    """A boilerplate example: in every article of META_ARTICLES, the rule matches, no row comes out and
    the fields given are articles.csv's; a negative: the rule's pattern leaves the text alone."""
    rule, spec = case.rule, case.spec
    if case.kind == "negative":
        line = case.text.strip()
        how = {"line": "fullmatch", "tail": "search", "dateline": "match", "credit": "search"}.get(rule.section,
                                                                                                 "search")
        m = getattr(rule.pattern, how)(line)
        return m is None, f"{rule.id} leaves {line!r} alone", [f"matched {m.group(0)!r}"] if m else []
    want = {k: str(spec[k]) for k in META_FIELDS if k in spec}
    got, ok = [], True
    shapes = META_ARTICLES.get(rule.section, ("标题\n{text}",))
    for shape in shapes[:1] if getattr(rule, "lines", 1) > 1 else shapes:
        a = analyse(shape.format(text=spec["text"]), rules)
        meta = a.cleaned.meta
        fields = {k: getattr(meta, k) for k in META_FIELDS}
        # in the tail a line may be taken by a tail rule of the same shape (编辑:… by `editor`)
        took = rule.id in meta.matched or (rule.section == "dateline" and meta.dateline) or \
            (rule.section == "credit" and meta.skips) or (shape.endswith("{text}") and rule.section == "line"
                                                          and bool(meta.matched))
        rows = rows_of("", a)
        ok = ok and bool(took) and not rows and all(fields[k] == v for k, v in want.items())
        got.append(f"{'matched' if took else 'not matched'}, {len(rows)} rows, " +
                   ", ".join(f"{k}={v!r}" for k, v in fields.items() if v))
    return ok, f"{rule.id} takes it, no row" + "".join(f", {k}={v!r}" for k, v in want.items()), got


def run_case(case: Case, rules: Rules) -> Outcome:
    """Run one case through the whole extraction and judge it."""
    problem = malformed(case)
    if problem and getattr(case.rule, "section", None) and case.kind != "negative" and \
            problem.startswith(("missing 'match'", "unknown key")) and \
            not set(case.spec) - {"text", *META_FIELDS}:
        problem = ""            # a boilerplate example names articles.csv fields, not a match
    if not problem and getattr(case.rule, "section", None):
        passed, expected, got = run_meta_case(case, rules)
        return Outcome(case, passed, expected, got)
    if problem:
        return Outcome(case, False, f"a well-formed {case.kind}", problem=problem)
    raw = case.text
    a = analyse(raw, rules)
    rows = rows_of("", a)
    if isinstance(case.rule, context_stage.Pattern):
        return _run_context_case(case, a, rows)
    mine = [r for r in rows if r["rule"] == case.rule.id]
    notes = [f"lost     {c.text!r} [{c.start},{c.end}): {c.dropped}" for c in a.lost if c.rule == case.rule.id]
    notes += [f"rejected {c.text!r} [{c.start},{c.end}): {c.dropped}" for c in a.rejected if c.rule == case.rule.id]
    notes += [w for w in a.warnings if case.rule.id in w]
    got = [show(r) for r in rows]
    if case.kind == "negative":
        match = case.spec.get("match") if isinstance(case.spec, dict) else None
        bad = mine
        if match:
            s = raw.find(match)
            bad = [r for r in mine if r["raw_start"] < s + len(match) and s < r["raw_end"]]
        return Outcome(case, not bad, f"no row of {case.rule.id}" + (f" over {match!r}" if match else ""),
                       got, notes)
    spec = case.spec
    want = {k: str(spec[k]) for k in FIELDS if k in spec}
    passed = any(_covers(r, spec["match"], raw) and all(r[k] == v for k, v in want.items())
                 for r in mine)
    trigger = case.rule.trigger
    if not passed and trigger is not None and not trigger.search(spec["match"]):
        notes.append(f"the rule's trigger {trigger.pattern[:60]!r} does not occur in {spec['match']!r}: the rule is "
                     f"only tried near its trigger; extend `trigger` (or remove it)")
    expected = f"{case.rule.id} {spec['match']!r}" + "".join(f" {k}={v!r}" for k, v in want.items())
    return Outcome(case, passed, expected, got, notes)


def _run_context_case(case: Case, a, rows: list[dict]) -> Outcome:
    """A case of a context pattern: the figure's fields (example) or none decided by it (negative)."""
    spec, pid = case.spec, case.rule.id
    chosen = context_stage.contexts(a.cleaned.text, rows, a.context_rules, a.cleaned.meta.datelines)
    figs = [(r, c) for r, c in zip(rows, chosen) if r["text"] == spec["figure"] and c]
    got = [f"{show(r)} | " + " ".join(f"{k}={r.get(k, '')!r}[{c[k].rule}]" for k in CONTEXT_FIELDS)
           for r, c in figs] or ["(no figure row " + repr(spec["figure"]) + ")"]
    if case.kind == "negative":
        passed = bool(figs) and not any(c[k].rule == pid and c[k].value for _, c in figs for k in CONTEXT_FIELDS)
        return Outcome(case, passed, f"{spec['figure']!r} with no field decided by {pid}", got)
    want = {k: str(spec[k]) for k in CONTEXT_FIELDS if k in spec}
    passed = any(all(r.get(k, "") == v for k, v in want.items()) for r, _ in figs)
    return Outcome(case, passed, f"{spec['figure']!r}" + "".join(f" {k}={v!r}" for k, v in want.items()), got)


@dataclass
class Report:
    """Everything check-rules found."""
    outcomes: list[Outcome]
    no_examples: list[Rule]
    no_negatives: list[Rule]
    n_rules: int                # extraction rules checked
    n_boilerplate: int = 0      # boilerplate rules checked (rules/boilerplate.toml)

    @property
    def failures(self) -> list[Outcome]:
        """Cases that do not behave as declared."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        """No failing case and every rule has an example."""
        return not self.failures and not self.no_examples


def check(rules: Rules, rule_ids=None) -> Report:
    """Run every case of the selected rules (all when rule_ids is None; context and boilerplate rules too)."""
    patterns = list(rules.context.patterns.values()) if rules.context is not None else []
    selected = [r for r in [*rules.rules, *patterns, *rules.boilerplate.all()]
                if rule_ids is None or r.id in rule_ids]
    selected = [r for r in selected if getattr(r, "section", "") != "field"]   # fields are tried by the lines
    outcomes = [run_case(c, rules) for c in cases(rules, {r.id for r in selected})]
    n_boiler = sum(1 for r in selected if getattr(r, "section", ""))
    return Report(outcomes, [r for r in selected if not r.examples], [r for r in selected if not r.negatives],
                  len(selected) - n_boiler, n_boiler)


def _tally(report: Report, kind: str) -> str:
    """`12/13 examples passed` for one kind of case."""
    mine = [o for o in report.outcomes if o.case.kind == kind]
    label = {"example": "examples", "negative": "negatives", "known_failure": "known failures still failing"}[kind]
    return f"{sum(o.ok for o in mine)}/{len(mine)} {label}"


def describe(o: Outcome) -> list[str]:
    """A failing case as lines: id, file:line, the text, expected vs got, this rule's lost/rejected candidates."""
    c = o.case
    lines = [f"FAIL {c.id}  {c.where}", f"  text:     {c.text!r}"]
    if o.problem:
        return lines + [f"  malformed: {o.problem}"]
    if c.kind == "known_failure":
        return lines + [f"  now passes: move it to examples ({o.expected})"]
    lines.append(f"  expected: {o.expected}")
    lines += [f"  got:      {g}" for g in o.got] or ["  got:      (no rows)"]
    return lines + [f"  note:     {n}" for n in o.notes]


def format_report(report: Report) -> str:
    """The check-rules output: failures with file:line, expected and got, then the summary."""
    out = [line for o in report.failures for line in describe(o)]
    for r in report.no_examples:
        out.append(f"ERROR {r.id}  {_where(r)}: no examples (add at least one: {{ text = ..., match = ... }})")
    for r in report.no_negatives:
        out.append(f"warning {r.id}  {_where(r)}: no negatives")
    bad = {o.case.rule.id for o in report.failures} | {r.id for r in report.no_examples}
    bad_boiler = {o.case.rule.id for o in report.failures if getattr(o.case.rule, "section", "")} | \
        {r.id for r in report.no_examples if getattr(r, "section", "")}
    rules_ok = report.n_rules - len(bad - bad_boiler)
    boiler = (f"; {report.n_boilerplate - len(bad_boiler)}/{report.n_boilerplate} boilerplate rules passed"
              if report.n_boilerplate else "")
    out.append(f"{rules_ok}/{report.n_rules} rules passed; " + ", ".join(
        _tally(report, k) for k, _ in SECTIONS) + f"; {len(report.no_negatives)} rules without negatives" + boiler)
    return "\n".join(out)


def select(rules: Rules, files: list[str], ids: list[str]) -> tuple[set[str] | None, list[str], list[str]]:
    """Rule ids of the named files and ids (None = all), and the names that match nothing:
    (ids, files not found or holding no rules, unknown ids)."""
    if not files and not ids:
        return None, [], []
    bad_files, bad_ids, chosen = [], [], set()
    for f in files:
        p = Path(f)
        hit = {r.id for r in rules.rules if Path(r.file).resolve() == p.resolve() or
               (not p.exists() and Path(r.file).name == p.name)}
        if not hit:
            bad_files.append(f"{f}: file not found" if not p.exists() else
                             f"{f}: no rules of {rules.dir} come from this file (the rules loaded are the "
                             f"*.toml files of that folder; use --rules DIR for another folder)")
        chosen |= hit
    known = {r.id for r in rules.rules}
    for i in ids:
        if i not in known:
            near = sorted(k for k in known if k.split(".")[0] == i.split(".")[0])
            bad_ids.append(f"--rule {i}: no such rule" + (f" (same kind: {', '.join(near)})" if near else ""))
        chosen.add(i)
    return chosen & known, bad_files, bad_ids


def check_command(rules: Rules, files: list[str], ids: list[str]) -> tuple[str, int]:
    """check-rules: the report text and the exit code (1 on any failure or unknown rule id, 2 when a
    file named is not found or holds no rules). The loading warnings come first."""
    chosen, bad_files, bad_ids = select(rules, files, ids)
    if bad_files or bad_ids:
        return "\n".join(f"error: {p}" for p in bad_files + bad_ids), 2 if bad_files else 1
    report = check(rules, chosen)
    warnings = [f"warning: {w}" for w in rules.warnings]
    return "\n".join([*warnings, format_report(report)]), 0 if report.ok else 1
