"""Every example, negative and known failure of every rule in rules/ is its own test case.

Ids name the rule and the case (`amount.number::example-3`, `count.number::negative-2`); a known failure
runs as a strict xfail, so the day it passes the test says so (move it to the rule's examples).
Each case runs the whole extraction on its text (see pipeline/checkrules.py for the semantics).
"""
import pytest

from pipeline.commands.checkrules import cases, describe, malformed, run_case
from pipeline.rules import RulesError, load_rules

try:
    RULES, LOAD_ERROR = load_rules(), ""
    CASES = cases(RULES)
except RulesError as e:                     # reported by test_rules_load, not as a collection error
    RULES, LOAD_ERROR, CASES = None, str(e), []


def test_rules_load():
    """The rules folder loads without problems."""
    assert not LOAD_ERROR, LOAD_ERROR


def _param(case):
    """The pytest parameter of a case: its id, and strict xfail for a known failure."""
    marks = [pytest.mark.xfail(strict=True, reason="known failure; if it passes, move it to examples")] \
        if case.kind == "known_failure" and not malformed(case) else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case):
    """One example, negative or known failure behaves as declared."""
    outcome = run_case(case, RULES)
    if not outcome.passed or outcome.problem:
        pytest.fail("\n".join(describe(outcome)), pytrace=False)


@pytest.mark.parametrize("rule", [pytest.param(r, id=r.id) for r in (RULES.rules if RULES else [])])
def test_rule_has_an_example(rule):
    """Every rule carries at least one example."""
    if not rule.examples:
        pytest.fail(f"{rule.where}: [{rule.id}] has no examples; add {{ text = ..., match = ... }}", pytrace=False)
