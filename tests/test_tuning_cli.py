"""The rule-tuning commands in-process: check-rules, explain, diff, stats, golden accept, and their --help.

Assertions look at amounts, percentages and dates only: org rows depend on the org rules, which change
often, and must not break these tests.
"""
import hashlib
import shutil
from pathlib import Path

import pytest

from pipeline.commands import cli
from pipeline.outputs import GOLD_COLUMNS, read_csv
from pipeline.commands.golden import write_golden
from pipeline.rules import load_rules
from pipeline.run import run

RULES = Path(__file__).resolve().parent.parent / "rules"
ARTICLE = ("项目动态\n兰州新区签约项目总投资3亿至5亿元,同比增长27.3%。\n中哈合作项目总投资120亿坚戈。\n"
           "2023年5月1日起实施。\n")


def append_rule(path: Path, text: str) -> int:
    """Append a rule to a rules file; return the line of its `[[rule]]`."""
    old = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(old + text, encoding="utf-8")
    return old.count("\n") + 1


def call(capsys, *argv) -> tuple[int, str]:
    """cli.main(argv) in-process: (exit code, stdout + stderr)."""
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A corpus of one article, a1."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "a1.txt").write_text(ARTICLE, encoding="utf-8")
    return d


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """A private copy of rules/ to edit."""
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    return d


def commands() -> list[str]:
    """Every command of the parser (run, eval, ..., golden), as the parser itself lists them."""
    import argparse
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("argv", [[c] for c in commands()] + [["golden", "accept"]])
def test_help_has_an_example(capsys, argv):
    """Every command's --help shows an example of itself."""
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"python -m pipeline {argv[0]}" in out


def test_readme_documents_every_command():
    """Every command appears in the README's command tables as `python -m pipeline COMMAND`."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert [c for c in commands() if f"| `python -m pipeline {c}" not in readme] == []


# --- explain -----------------------------------------------------------------------------------------

def test_explain_shows_stages_candidates_and_overlaps(capsys):
    """explain: cleaning edits, conversion, tokens, kept and lost candidates, rows."""
    code, out = call(capsys, "explain", "標題\n創(chuàng)新項目總投資3億至5億元,增長27.3%。")
    assert code == 0
    assert "== cleaned text" in out and "创新项目总投资3亿至5亿元" in out
    assert "strip_readings" in out and "'(chuàng)' -> ''" in out          # the cleaning edit, raw span
    assert "創→创" in out                                                  # the conversion
    assert "== tokens" in out and " / " in out
    assert "amount.range" in out and "-> KEPT" in out
    assert "-> lost: overlaps amount.range '3亿至5亿元'" in out and "which wins on priority" in out
    assert "3亿至5亿元 = 300000000..500000000 CNY [amount.range]" in out
    assert "27.3% = 27.3 % [percent.sign]" in out


def test_explain_shows_rejections(capsys):
    """explain: a rejected candidate with its reason; --rule filters the candidates."""
    code, out = call(capsys, "explain", "会议于2023年2月30日召开", "--rule", "date")
    assert code == 0
    assert "rejected: day 30 of month 2" in out
    assert "amount." not in out.split("== candidates")[1].split("== final rows")[0]


def test_explain_file_in_gbk(capsys, tmp_path):
    """explain --file decodes the file like a run does."""
    path = tmp_path / "gbk.txt"
    path.write_bytes("标题\n投资8573.9万元。\n".encode("gbk"))
    code, out = call(capsys, "explain", "--file", path)
    assert code == 0
    assert "8573.9万元 = 85739000 CNY [amount.number]" in out


def test_explain_needs_text_or_file(capsys):
    """explain without TEXT or --file is a usage error."""
    code, out = call(capsys, "explain")
    assert code == 2 and "give a TEXT or --file" in out


# --- check-rules -------------------------------------------------------------------------------------

def test_check_rules_reports_failures_known_failures_and_missing_cases(capsys, rules_dir):
    """check-rules: failing example, passing known failure, no examples, no negatives."""
    path = rules_dir / "amount.toml"
    old = path.read_text(encoding="utf-8")
    path.write_text(old + '''
[[rule]]
id = "amount.tenge"
priority = 50
pattern = '(?P<num>{NUM})(?P<scale>{SCALE})?(?P<unit>坚戈)'
examples = [
  { text = "总投资120亿坚戈", match = "120亿坚戈", value = "12000000000", unit = "坚戈" },
  { text = "总投资7亿坚戈", match = "7亿坚戈", value = "7" },
]
negatives = ["坚戈货币"]
known_failures = [{ text = "折合80万坚戈", match = "80万坚戈", value = "800000" }]

[[rule]]
id = "amount.lonely"
pattern = '(?P<num>[0-9]+)XYZ元'
''', encoding="utf-8")
    line = old.count("\n") + 2
    code, out = call(capsys, "--rules", rules_dir, "check-rules", "--rule", "amount.tenge", "--rule", "amount.lonely")
    assert code == 1
    assert f"FAIL amount.tenge::example-2  {path}:{line + 6}" in out
    assert "expected: amount.tenge '7亿坚戈' value='7'" in out
    assert "got:      amount   7亿坚戈 = 700000000 坚戈 [amount.tenge]" in out
    assert f"FAIL amount.tenge::known_failure-1  {path}:{line + 9}" in out and "now passes: move it to examples" in out
    assert "ERROR amount.lonely" in out and "no examples" in out
    assert "warning amount.lonely" in out and "no negatives" in out
    assert "0/2 rules passed; 1/2 examples, 1/1 negatives, 0/1 known failures still failing" in out


def test_check_rules_of_one_file(capsys, rules_dir):
    """check-rules FILE runs that file's rules; an unknown --rule is an error."""
    (rules_dir / "quantity.toml").write_text('''
[[rule]]
id = "quantity.only"
pattern = '(?P<num>{NUM})(?P<unit>吨)'
examples = [{ text = "年产5吨", match = "5吨", value = "5", unit = "吨" }]
negatives = ["吨位"]
''', encoding="utf-8")
    code, out = call(capsys, "--rules", rules_dir, "check-rules", rules_dir / "quantity.toml")
    assert code == 0, out
    assert out.strip().endswith("1/1 rules passed; 1/1 examples, 1/1 negatives, 0/0 known failures still failing; "
                                "0 rules without negatives")
    code, out = call(capsys, "--rules", rules_dir, "check-rules", "--rule", "quantity.nope")
    assert code == 1 and "--rule quantity.nope: no such rule (same kind: quantity.only)" in out


def test_check_rules_reports_malformed_cases(capsys, rules_dir):
    """A case with a typo in a key, or a match not in its text, is a failure, known failure or not."""
    path = rules_dir / "count.toml"
    line = append_rule(path, '''[[rule]]
id = "count.typos"
pattern = '(?P<num>{NUM})(?P<unit>台)'
examples = [
  { text = "新增5台", mtch = "5台" },
  { text = "新增5台", match = "6台" },
]
negatives = ["台风"]
known_failures = [{ text = "新增5台", match = "5台", valeu = "5" }]
''')
    code, out = call(capsys, "--rules", rules_dir, "check-rules", "--rule", "count.typos")
    assert code == 1
    assert (f"FAIL count.typos::example-1  {path}:{line + 4}\n  text:     '新增5台'\n"
            "  malformed: unknown key(s) ['mtch']") in out
    assert f"FAIL count.typos::example-2  {path}:{line + 5}" in out
    assert "malformed: 'match' '6台' is not in 'text'" in out
    assert "FAIL count.typos::known_failure-1" in out and "malformed: unknown key(s) ['valeu']" in out


# --- diff --------------------------------------------------------------------------------------------

def test_diff_against_golden(capsys, corpus, tmp_path):
    """diff vs golden files: added, removed (under (golden)) and changed rows, summary."""
    gold = tmp_path / "golden"
    gold.mkdir()
    (gold / "a1.csv").write_text(
        "\ufeff" + ",".join(GOLD_COLUMNS) + "\n"
        "a1,amount,3亿至5亿元,300000000,500000000,CNY,,,总投资,兰州新区,,,\n"      # unchanged
        "a1,percent,27.3%,27.4,,%,,,总投资,兰州新区,,,up\n"                     # changed value
        "a1,count,12家,12,,家,,,,,,,\n",                                        # no longer produced
        encoding="utf-8")
    code, out = call(capsys, "diff", corpus, "--golden-dir", gold)
    assert code == 0
    assert "a1\n" in out
    assert "  percent.sign\n    ~ percent  27.3% = 27.3 % [percent.sign]   (value 27.4 -> 27.3)" in out
    assert "  date.full\n    + date     2023年5月1日起 = 2023-05-01 since [date.full]" in out
    assert "  (golden)\n    - count    12家 = 12 家" in out
    assert "3亿至5亿元" not in out
    assert "  amount    +0 -0 ~0" in out and "  percent   +0 -0 ~1" in out and "  count     +0 -1 ~0" in out


def test_diff_against_an_earlier_run_shows_the_gain(capsys, corpus, rules_dir, tmp_path):
    """diff vs an earlier run after a list edit: the new row, nothing lost."""
    before = tmp_path / "before"
    run([corpus], before, load_rules(rules_dir), n_jobs=1, progress=False)
    with open(rules_dir / "lists" / "currency.txt", "a", encoding="utf-8") as f:
        f.write("坚戈 KZT\n")
    code, out = call(capsys, "--rules", rules_dir, "diff", corpus, "--against", before)
    assert code == 0
    assert "  amount.number\n    + amount   120亿坚戈 = 12000000000 KZT [amount.number]" in out
    assert "  amount    +1 -0 ~0" in out and "  ALL       +1 -0 ~0" in out
    assert "summary (1 of 1 articles differ)" in out


def test_diff_without_changes_and_missing_folder(capsys, corpus, tmp_path):
    """diff with no change says so; a missing outputs folder is an error."""
    before = tmp_path / "before"
    run([corpus], before, load_rules(), n_jobs=1, progress=False)
    code, out = call(capsys, "diff", corpus, "--against", before)
    assert code == 0 and "no differences" in out and "  ALL       +0 -0 ~0" in out
    code, out = call(capsys, "diff", corpus, "--against", tmp_path / "nowhere")
    assert code == 2 and "extractions.csv not found" in out


# --- stats -------------------------------------------------------------------------------------------

def test_stats(capsys, corpus):
    """stats: hits, losses to the winner, rules that never fire."""
    code, out = call(capsys, "stats", corpus)
    assert code == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()
             if line[:1].isalpha() and "." in line.split()[0]}
    assert lines["amount.range"][1:4] == ["amount", "1", "0"]          # kind, hits, lost
    assert lines["amount.number"][2:4] == ["0", "1"]                   # 5亿元 lost to the range
    assert lines["percent.sign"][2] == "1"
    assert "amount.number                lost to amount.range×1" in out
    never = out.split("never fire")[1]
    assert "quantity.range" in never and "amount.range" not in never


# --- golden accept -----------------------------------------------------------------------------------

def test_golden_accept_writes_and_reports(capsys, corpus, tmp_path):
    """golden accept writes the BOM CSV in order and reports +/-/~."""
    gold = tmp_path / "golden"
    code, out = call(capsys, "golden", "accept", "a1", "--corpus", corpus, "--golden-dir", gold)
    assert code == 0, out
    path = gold / "a1.csv"
    assert f"a1: {path} created" in out and "+ amount   3亿至5亿元" in out
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode()) and data.decode("utf-8-sig").splitlines()[0] == ",".join(GOLD_COLUMNS)
    rows = read_csv(path)
    numeric = [(r["kind"], r["text"], r["value"], r["value_max"], r["unit"], r["qualifier"]) for r in rows
               if r["kind"] != "org"]
    assert numeric == [("amount", "3亿至5亿元", "300000000", "500000000", "CNY", ""),
                       ("percent", "27.3%", "27.3", "", "%", ""),
                       ("date", "2023年5月1日起", "2023-05-01", "", "", "since")]
    # accepting again changes nothing
    code, out = call(capsys, "golden", "accept", corpus / "a1.txt", "--corpus", corpus, "--golden-dir", gold)
    assert code == 0 and "+0 -0 ~0" in out
    # a golden file edited by hand is not overwritten: --dry-run shows what accept would do, --force does it
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8-sig").splitlines()
                              if "27.3%" not in line) + "\n", encoding="utf-8")
    edited = path.read_bytes()
    code, out = call(capsys, "golden", "accept", "a1", "--corpus", corpus, "--gold", gold)
    assert code == 1 and "a1.csv was edited by hand" in out and "nothing written" in out
    assert path.read_bytes() == edited
    code, out = call(capsys, "golden", "accept", "a1", "--corpus", corpus, "--gold", gold, "--dry-run")
    assert code == 0 and "would be written" in out and "  + percent  27.3% = 27.3 %" in out
    assert "dry run: nothing written" in out and path.read_bytes() == edited
    code, out = call(capsys, "golden", "accept", "a1", "--corpus", corpus, "--golden-dir", gold, "--force")
    assert "written" in out and "+1 -0 ~0" in out and "  + percent  27.3% = 27.3 %" in out
    assert (gold / ".accepted.sha256").read_text(encoding="utf-8") == \
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  a1.csv\n"   # `sha256sum -c` checks it


def test_golden_accept_from_outputs_and_unknown_article(capsys, corpus, tmp_path):
    """golden accept --from DIR; an unknown article writes nothing."""
    gold, out_dir = tmp_path / "golden", tmp_path / "out"
    run([corpus], out_dir, load_rules(), n_jobs=1, progress=False)
    code, out = call(capsys, "golden", "accept", "a1", "--from", out_dir, "--golden-dir", gold)
    assert code == 0 and (gold / "a1.csv").exists()
    code, out = call(capsys, "golden", "accept", "a1", "zz9", "--corpus", corpus, "--golden-dir", tmp_path / "g2")
    assert code == 1 and "no article 'zz9'" in out and "nothing written" in out
    assert not (tmp_path / "g2").exists()


def test_update_golden_fixture(update_golden, request, tmp_path):
    """The update_golden fixture follows --update-golden; write_golden writes a nested id."""
    assert update_golden is bool(request.config.getoption("--update-golden"))
    lines = write_golden(tmp_path, "x/y", [{"kind": "count", "text": "5家", "value": "5", "unit": "家",
                                            "start": 3, "end": 5, "rule": "count.number"}])
    assert lines[0].startswith(f"x/y: {tmp_path / 'x' / 'y.csv'} created (1 rows: +1 -0 ~0)")
    assert read_csv(tmp_path / "x" / "y.csv")[0]["article"] == "x/y"


def test_check_rules_says_when_a_trigger_hides_an_example(capsys, rules_dir):
    """A rule tried only near its trigger: an example without the trigger fails with a hint saying why."""
    path = rules_dir / "amount.toml"
    path.write_text(path.read_text(encoding="utf-8") + '''
[[rule]]
id = "amount.tenge"
trigger = '{CURRENCY}'
priority = 50
pattern = '(?P<num>{NUM})(?P<scale>{SCALE})?(?P<unit>坚戈)'
examples = [{ text = "总投资120亿坚戈", match = "120亿坚戈", value = "12000000000" }]
negatives = ["坚戈货币"]
''', encoding="utf-8")
    code, out = call(capsys, "--rules", rules_dir, "check-rules", "--rule", "amount.tenge")
    assert code == 1
    assert "FAIL amount.tenge::example-1" in out
    assert "does not occur in '120亿坚戈'" in out and "extend `trigger`" in out
