"""External suites: peer-project test cases (Microsoft Recognizers-Text, JioNLP)
mapped to our contract, run in-process and scored exactly like their scorer.

The suites are copied from `../shared/external/` into `tests/data/external/`
(tests/test_vendored.py checks the copies are current where ../shared is
present); `$EXTERNAL_DIR` points elsewhere. Where that folder (or one of its
files) is absent, the tests skip and say so.

Each case becomes one article, `"标题\\n" + text` (the first line is a
title), processed by `pipeline.article.process_text`. A case passes when the
scorer (`score_external.py` of that folder, imported as it is, so the
matching is the same: a multiset on (kind, value, unit) or (kind, value) for
dates) counts it as exact: every expected row matched, no extra row of the
case's kind, qualifier and value_max right.

Two checks per file (amount.jsonl, percent.jsonl, date.jsonl):

- at least 95 % of its cases pass;
- `tests/external_known_failures.txt` lists exactly the failing cases
  (`case-id<TAB>reason`): a failing case not listed fails the test, and so
  does a listed case that now passes ("now passes: remove it from the known
  failures").
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from pipeline.article import process_text
from tests.helpers import rules

EXTERNAL = Path(os.environ.get("EXTERNAL_DIR") or Path(__file__).resolve().parent / "data" / "external")
SCORER = EXTERNAL / "score_external.py"
FILES = ("amount", "percent", "date")
MIN_PASS = 0.95
KNOWN_FAILURES = Path(__file__).with_name("external_known_failures.txt")
TITLE = "标题"


def _skip_unless(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"external suites not found: {path} is absent (copies of ../shared/external/ in "
                    f"tests/data/external; EXTERNAL_DIR points elsewhere)")


@pytest.fixture(scope="module")
def scorer():
    """The suites' own scorer module, imported from its file."""
    _skip_unless(EXTERNAL)
    _skip_unless(SCORER)
    spec = importlib.util.spec_from_file_location("score_external", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def known_failures() -> dict[str, str]:
    """case id -> reason, from tests/external_known_failures.txt (`#` comments and blank lines skipped)."""
    known = {}
    if not KNOWN_FAILURES.exists():
        return known
    for n, line in enumerate(KNOWN_FAILURES.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        case_id, _, reason = line.partition("\t")
        known[case_id.strip()] = reason.strip() or f"(no reason, line {n})"
    return known


class Suite:
    """One file's cases, each case's predicted rows and the scorer's verdict."""

    def __init__(self, scorer, name: str):
        path = EXTERNAL / f"{name}.jsonl"
        _skip_unless(path)
        self.name = name
        self.cases = scorer.load_gold([str(path)])
        r = rules()
        self.rows = {c["id"]: process_text(c["id"], f"{TITLE}\n{c['text']}", r).rows for c in self.cases}
        self.per_case = scorer.score(self.cases, self.rows)
        self.failing = [c for c in self.cases if not self.per_case[c["id"]][0].exact_cases]

    @property
    def ids(self) -> set[str]:
        return {c["id"] for c in self.cases}

    def rate(self) -> float:
        return 1 - len(self.failing) / len(self.cases) if self.cases else 1.0

    def show(self, case) -> str:
        """A failing case: its text, what was expected and what came out (its kind only)."""
        def row(r):
            extra = "".join(f" {k}={r.get(k)!r}" for k in ("value_max", "qualifier") if r.get(k))
            return f"{r.get('text', '')!r} value={r.get('value')!r} unit={r.get('unit', '')!r}{extra}"
        lines = [f"  {case['id']}  {case['text']!r}"]
        lines += [f"      want {row(e)}" for e in case["expected"]] or ["      want nothing"]
        got = [r for r in self.rows[case["id"]] if r["kind"] == case["kind"]]
        lines += [f"      got  {row(r)}  [{r.get('rule', '')}]" for r in got] or ["      got  nothing"]
        return "\n".join(lines)


_SUITES: dict[str, Suite] = {}


@pytest.fixture(scope="module", params=FILES)
def suite(request, scorer) -> Suite:
    if request.param not in _SUITES:
        _SUITES[request.param] = Suite(scorer, request.param)
    return _SUITES[request.param]


def test_pass_rate(suite):
    """At least 95 % of the file's cases pass exactly."""
    if suite.rate() < MIN_PASS:
        pytest.fail(f"{suite.name}.jsonl: {suite.rate():.1%} of {len(suite.cases)} cases pass, need "
                    f"{MIN_PASS:.0%}; failing:\n" + "\n".join(suite.show(c) for c in suite.failing), pytrace=False)


def test_known_failures_are_exact(suite):
    """Every failing case is listed in tests/external_known_failures.txt, and every listed case still fails."""
    known = known_failures()
    failing = {c["id"] for c in suite.failing}
    unlisted = [c for c in suite.failing if c["id"] not in known]
    now_pass = sorted((set(known) & suite.ids) - failing)
    problems = []
    if unlisted:
        problems.append(f"{len(unlisted)} failing case(s) of {suite.name}.jsonl not in {KNOWN_FAILURES.name} "
                        f"(fix the rules, or add `case-id<TAB>reason`):\n" + "\n".join(suite.show(c) for c in unlisted))
    for case_id in now_pass:
        problems.append(f"{case_id} now passes: remove it from the known failures ({KNOWN_FAILURES.name})")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_known_failures_file_is_well_formed(scorer):
    """One `case-id<TAB>reason` per line, a real reason, no duplicate, no id that no suite holds."""
    if not KNOWN_FAILURES.exists():
        return
    ids = set()
    for name in FILES:
        path = EXTERNAL / f"{name}.jsonl"
        if path.exists():
            ids |= {c["id"] for c in scorer.load_gold([str(path)])}
    seen, problems = set(), []
    for n, line in enumerate(KNOWN_FAILURES.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        case_id, tab, reason = line.partition("\t")
        where = f"{KNOWN_FAILURES.name}:{n}"
        if not tab or len(reason.strip()) < 10:
            problems.append(f"{where}: want `case-id<TAB>reason` with a real reason, got {line!r}")
        if case_id in seen:
            problems.append(f"{where}: {case_id} listed twice")
        seen.add(case_id)
        if case_id not in ids:
            problems.append(f"{where}: {case_id} is in no suite of {EXTERNAL}")
    assert not problems, "\n".join(problems)
