"""A broken rules folder is refused with `file:line: [rule id] problem` and exit 2, never a traceback;
a rule that backtracks catastrophically is stopped, named, and does not cost the other rules' rows."""
from pathlib import Path

import pytest

from pipeline.commands import cli
from pipeline.article import process_text
from pipeline.rules import RulesError, load_rules
from tests.helpers import RULES, append


def check_rules(rules_dir: Path, capsys) -> tuple[int, str]:
    """Run `--rules DIR check-rules` in-process: (exit code, stdout + stderr)."""
    code = cli.main(["--rules", str(rules_dir), "check-rules"])
    out = capsys.readouterr()
    return code, out.out + out.err


BAD_RULE = '[[rule]]\nid = "amount.broken"\npriority = 10\npattern = \'{pattern}\'\n' \
           'examples = [{{ text = "5元", match = "5元" }}]\n'


@pytest.mark.parametrize("name,pattern,message", [
    ("bad_regex", "(?P<num>[0-9]+元", "regex does not compile"),
    ("unknown_fragment", "{NO_SUCH_FRAGMENT}元", "unknown fragment {NO_SUCH_FRAGMENT}"),
])
def test_bad_pattern_names_file_line_and_id(rules_dir, capsys, name, pattern, message):
    """A regex that does not compile or names an unknown fragment: file, id line, rule id."""
    line = append(rules_dir / "amount.toml", BAD_RULE.format(pattern=pattern)) + 1   # the id line
    code, out = check_rules(rules_dir, capsys)
    assert code == 2
    assert f"{rules_dir / 'amount.toml'}:{line}: [amount.broken]" in out
    assert message in out
    assert "Traceback" not in out


def test_bad_toml_names_file_and_line(rules_dir, capsys):
    """A TOML syntax error: file and the line of the error."""
    path = rules_dir / "count.toml"
    line = append(path, '[[rule]]\nid = "count.broken"\npriority = = 3\n') + 2
    code, out = check_rules(rules_dir, capsys)
    assert code == 2
    assert f"{path}:{line}: bad TOML" in out
    assert "Traceback" not in out


def test_duplicate_id_names_the_duplicate_and_the_first(rules_dir, capsys):
    """A duplicate id is reported at the duplicate, naming the first."""
    path = rules_dir / "amount.toml"
    first = load_rules(RULES).by_id("amount.number").line
    line = append(path, '[[rule]]\nid = "amount.number"\npattern = \'x\'\n') + 1
    code, out = check_rules(rules_dir, capsys)
    assert code == 2
    assert f"{path}:{line}: [amount.number] duplicate id (first at {path}:{first})" in out


def test_missing_pattern(rules_dir, capsys):
    """A rule without a pattern is reported at its id line."""
    path = rules_dir / "percent.toml"
    line = append(path, '[[rule]]\nid = "percent.nopattern"\nnote = "forgot it"\n') + 1
    code, out = check_rules(rules_dir, capsys)
    assert code == 2
    assert f"{path}:{line}: [percent.nopattern] missing field 'pattern'" in out


@pytest.mark.parametrize("name,file,edit,message", [
    ("unknown_field", "amount.toml", '[[rule]]\nid = "amount.typo"\npatern = \'x\'\npattern = \'x\'\n',
     "[amount.typo] unknown field(s) ['patern']"),
    ("examples_not_array", "amount.toml", '[[rule]]\nid = "amount.ex"\npattern = \'x\'\nexamples = "5元"\n',
     "[amount.ex] examples must be an array"),
    ("rule_not_table", "quantity.toml", 'rule = "oops"\n', "rules must be [[rule]] tables"),
    ("bad_fragment", "fragments.toml", "BROKEN = '[abc'\n", "fragment BROKEN: regex does not compile"),
])
def test_other_problems(rules_dir, capsys, name, file, edit, message):
    """Unknown fields, wrong types and bad fragments are problems with their file."""
    path = rules_dir / file
    if name == "rule_not_table":
        path.write_text(edit, encoding="utf-8")
    else:
        append(path, edit)
    code, out = check_rules(rules_dir, capsys)
    assert code == 2
    assert str(path) + ":" in out and message in out
    assert "Traceback" not in out


@pytest.mark.parametrize("file", ["date.toml", "lists/currency.txt"])
def test_file_not_utf8(rules_dir, capsys, file):
    """A rules or list file that is not UTF-8: file and line of the bad byte."""
    path = rules_dir / file
    data = path.read_bytes()
    path.write_bytes(data + b"\n\xff\xfe bad\n")
    code, out = check_rules(rules_dir, capsys)
    assert code == 2
    line = data.count(b"\n") + 2
    assert f"{path}:{line}: not UTF-8" in out


def test_every_problem_is_listed(rules_dir):
    """All problems come together, not only the first."""
    append(rules_dir / "amount.toml", BAD_RULE.format(pattern="(unclosed"))
    append(rules_dir / "count.toml", BAD_RULE.replace("amount.", "count.").format(pattern="{NOPE}"))
    with pytest.raises(RulesError) as e:
        load_rules(rules_dir)
    assert len(e.value.problems) == 2


@pytest.mark.parametrize("pattern,text", [
    (r"(?P<num>(?:a|aa)+)$", "a" * 55 + "b个"),       # 个: count rules run only near a measure word
    (r"(?P<num>(?:\p{Han}|\p{Han}\p{Han})+)$", "中" * 55 + "b个"),
])
def test_catastrophic_rule_is_stopped_and_named(rules_dir, monkeypatch, pattern, text):
    # the regex module itself defuses the textbook (a+)+$ and (\p{Han}+)+X; these alternations it cannot
    """A backtracking rule is stopped and named; the other rules' rows remain."""
    append(rules_dir / "count.toml", f"[[rule]]\nid = \"count.slow\"\npriority = 1\npattern = '{pattern}'\n"
                                     f"examples = [{{ text = \"aa\", match = \"aa\" }}]\n")
    rules = load_rules(rules_dir)
    monkeypatch.setitem(rules.settings, "match_timeout", 0.2)     # read at match time
    res = process_text("slow", f"标题\n项目总投资8573.9万元,增长27.3%。\n{text}\n", rules)
    assert res.status == "ok"
    assert any("count.slow" in w and "stopped" in w for w in res.warnings), res.warnings
    assert {(r["text"], r["rule"]) for r in res.rows} >= {("8573.9万元", "amount.number"), ("27.3%", "percent.sign")}


def test_catastrophic_trigger_is_stopped_and_its_rule_scans_all(rules_dir, monkeypatch):
    """A backtracking trigger is stopped and named; its rule then runs over the whole text."""
    append(rules_dir / "count.toml", "[[rule]]\nid = \"count.slow_trigger\"\npriority = 99\n"
                                     "trigger = '(?:a|aa)+$'\npattern = '(?P<num>7)(?P<unit>只)(?=zz)'\n"
                                     "examples = [{ text = \"7只zz\", match = \"7只\" }]\n")
    rules = load_rules(rules_dir)
    monkeypatch.setitem(rules.settings, "match_timeout", 0.2)
    res = process_text("slow", f"标题\n项目总投资8573.9万元。\n{'a' * 55}b 7只zz\n", rules)
    assert res.status == "ok"
    assert any("count.slow_trigger" in w and "whole text" in w for w in res.warnings), res.warnings
    assert {(r["text"], r["rule"]) for r in res.rows} >= {("8573.9万元", "amount.number"), ("7只", "count.slow_trigger")}
