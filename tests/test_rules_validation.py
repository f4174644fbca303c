"""The rules folder is validated whole: every file in it, every list line, every named group,
every setting. Each problem is one line `file:line: what is wrong`; `check-rules` lists them
and exits 2, and a run with a broken rules folder is refused the same way (exit 2, nothing written)."""
import inspect
import shutil
from pathlib import Path

import pytest

from pipeline import rules as rules_module
from pipeline.article import process_text
from pipeline.commands import cli
from pipeline.rules import RulesError, load_rules
from tests.helpers import RULES, append


def check_rules(rules_dir: Path, capsys, *args) -> tuple[int, str]:
    """`--rules DIR check-rules ARGS` in-process: (exit code, stdout + stderr)."""
    code = cli.main(["--rules", str(rules_dir), "check-rules", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def problems(rules_dir: Path) -> list[str]:
    """The problems load_rules reports ([] when the folder loads)."""
    try:
        load_rules(rules_dir)
    except RulesError as e:
        return e.problems
    return []


def one_problem(rules_dir: Path, where: str, *words: str) -> str:
    """The one problem reported, which starts with `where` and holds every word."""
    found = problems(rules_dir)
    assert len(found) == 1, found
    assert found[0].startswith(where), found
    for w in words:
        assert w in found[0], found
    return found[0]


# -- files the user adds ------------------------------------------------------------------------

TENGE = ('[[rule]]\nid = "amount.tenge"\npriority = 70\n'
         "pattern = '(?P<num>{NUM})(?P<scale>{SCALE})?(?P<unit>坚戈)'\n"
         'examples = [ { text = "项目总投资120亿坚戈", match = "120亿坚戈", value = "12000000000" } ]\n'
         'negatives = [ "坚戈是货币" ]\n')


def test_extra_rules_file_is_loaded_by_id_prefix(rules_dir, capsys):
    """rules/my_rules.toml is loaded: its rules are of the kind their id starts with, and check-rules runs them."""
    base = load_rules(RULES)
    n = len(base.rules) + len(base.context.patterns)     # check-rules runs the context patterns too
    append(rules_dir / "my_rules.toml", TENGE)
    rules = load_rules(rules_dir)
    rule = rules.by_id("amount.tenge")
    assert rule is not None and rule.kind == "amount" and rule.file.endswith("my_rules.toml")
    code, out = check_rules(rules_dir, capsys)
    assert code == 0, out
    assert f"{n + 1}/{n + 1} rules passed" in out
    rows = process_text("t", "标题\n项目总投资120亿坚戈。\n", rules).rows
    assert [(r["text"], r["value"], r["rule"]) for r in rows] == [("120亿坚戈", "12000000000", "amount.tenge")]


def test_extra_rules_file_kind_key(rules_dir):
    """A rule of an extra file may say its kind with `kind =` when its id has no kind prefix."""
    append(rules_dir / "my_rules.toml", TENGE.replace('id = "amount.tenge"', 'id = "tenge"\nkind = "amount"'))
    assert load_rules(rules_dir).by_id("tenge").kind == "amount"


def test_extra_rules_file_rule_without_kind_is_refused(rules_dir):
    """A rule of an extra file with neither a kind prefix nor `kind =`: refused at its line, naming the kinds."""
    path = rules_dir / "my_rules.toml"
    line = append(path, TENGE.replace('id = "amount.tenge"', 'id = "tenge"')) + 1
    one_problem(rules_dir, f"{path}:{line}: [tenge]", "kind", "amount")


def test_list_in_a_subfolder_is_refused_by_name(rules_dir):
    """rules/lists/extra/x.txt is never loaded: refused by name, saying where lists go."""
    (rules_dir / "lists" / "extra").mkdir()
    path = rules_dir / "lists" / "extra" / "currency2.txt"
    path.write_text("# columns: word code\n坚戈 KZT\n", encoding="utf-8")
    one_problem(rules_dir, f"{path}: not loaded", "rules/lists/")


# -- list files ---------------------------------------------------------------------------------

def test_every_list_declares_its_columns():
    """Every list of rules/lists/ has a `# columns:` header, and its lines have that many columns."""
    rules = load_rules(RULES)
    for p in sorted((RULES / "lists").glob("*.txt")):
        assert p.stem in rules.columns, p
        assert all(len(row) == len(rules.columns[p.stem]) for row in rules.lists[p.stem]), p


def test_list_without_header_is_refused(rules_dir):
    """A list without `# columns:` is refused, naming the file and the convention."""
    path = rules_dir / "lists" / "measure_word.txt"
    path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(True)
                            if not line.startswith("# columns:")), encoding="utf-8")
    one_problem(rules_dir, f"{path}:1: ", "# columns:")


def test_list_line_with_wrong_number_of_columns(rules_dir):
    """`Hong Kong dollar HKD` splits into 4 columns: an error at its line, naming the columns expected."""
    path = rules_dir / "lists" / "currency.txt"
    line = append(path, "Hong Kong dollar HKD\n")
    one_problem(rules_dir, f"{path}:{line}: 'Hong Kong dollar HKD': 4 column(s)", "word code")


def test_list_entry_repeated_with_another_value(rules_dir):
    """`美元 EUR` after `美元 USD`: an error at the repeat, naming the first line and its value."""
    path = rules_dir / "lists" / "currency.txt"
    first = next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if l.startswith("美元 "))
    line = append(path, "美元 EUR\n")
    one_problem(rules_dir, f"{path}:{line}: duplicate entry 美元", f"line {first}", "USD")


def test_list_entry_repeated_with_the_same_value_is_a_warning(rules_dir, capsys):
    """The same entry twice: loads, with a warning check-rules prints (and exit 0)."""
    path = rules_dir / "lists" / "measure_word.txt"
    line = append(path, "个\n")
    rules = load_rules(rules_dir)
    assert any(w.startswith(f"{path}:{line}: ") and "repeated" in w for w in rules.warnings), rules.warnings
    code, out = check_rules(rules_dir, capsys)
    assert code == 0 and f"{path}:{line}: " in out


@pytest.mark.parametrize("file,line,words", [
    ("org_gazetteer.txt", "某某集团 石油天然气集团\n", ["unknown category '石油天然气集团'", "company"]),
    ("org_suffix.txt", "某某研究坊 assocation\n", ["unknown category 'assocation'"]),
    ("currency.txt", "坚戈 kzt\n", ["'kzt'", "three capital letters"]),
    ("qualifier_pre.txt", "某某约 around\n", ["unknown qualifier 'around'", "about"]),
    ("date_qualifier_post.txt", "某某之后 after\n", ["unknown date_qualifier 'after'", "since"]),
    ("relative_year.txt", "某某年 one\n", ["'one'", "integer"]),
    ("org_suffix.txt", "银行|公司 company\n", ["'银行|公司'", "regex"]),
    ("measure_word.txt", "个+\n", ["'个+'", "regex"]),
])
def test_list_values_are_checked(rules_dir, file, line, words):
    """Categories and qualifiers against settings.toml, currency codes, year offsets, words without regex syntax."""
    path = rules_dir / "lists" / file
    n = append(path, line)
    one_problem(rules_dir, f"{path}:{n}: ", *words)


# -- rules --------------------------------------------------------------------------------------

def test_rule_id_of_another_kind(rules_dir):
    """`amount.x` in quantity.toml is refused (it would make quantity rows)."""
    path = rules_dir / "quantity.toml"
    line = append(path, "[[rule]]\nid = \"amount.x\"\npattern = '(?P<num>[0-9]+)吨'\n") + 1
    one_problem(rules_dir, f"{path}:{line}: [amount.x]", "quantity.toml", "amount")


def test_misspelt_named_group(rules_dir):
    """A group no interpreter reads (`nmu` for `num`) is refused at load time, listing the groups read."""
    path = rules_dir / "amount.toml"
    line = append(path, "[[rule]]\nid = \"amount.typo\"\npattern = '(?P<nmu>[0-9]+)(?P<unit>元)'\n") + 1
    one_problem(rules_dir, f"{path}:{line}: [amount.typo]", "nmu", "num")


def test_group_used_by_the_pattern_itself_is_allowed(rules_dir):
    """A helper group the pattern refers back to ((?P=sep), (?(and)...)) is not an error."""
    append(rules_dir / "amount.toml", "[[rule]]\nid = \"amount.sep\"\n"
                                      "pattern = '(?P<num>[0-9]+)(?P<sep>-)(?P=sep)(?P<unit>元)'\n"
                                      'examples = [ { text = "5--元", match = "5--元" } ]\n')
    assert load_rules(rules_dir).by_id("amount.sep") is not None


def test_numeric_rule_without_num(rules_dir):
    """A number rule without the `num` group would drop every match: refused."""
    path = rules_dir / "count.toml"
    line = append(path, "[[rule]]\nid = \"count.nonum\"\npattern = '(?P<unit>个)'\n") + 1
    one_problem(rules_dir, f"{path}:{line}: [count.nonum]", "num")


def test_rule_category_checked(rules_dir):
    """A rule's `category` field is one of the categories of settings.toml."""
    path = rules_dir / "org.toml"
    line = append(path, "[[rule]]\nid = \"org.typo\"\ninterpret = \"quoted\"\ncategory = \"compnay\"\n"
                        "pattern = '(?P<name>某某厂)'\n") + 1
    one_problem(rules_dir, f"{path}:{line}: [org.typo]", "unknown category 'compnay'")


# -- messages -----------------------------------------------------------------------------------

def test_check_rules_file_not_found(capsys):
    """`check-rules nonexistent.toml`: `file not found`, exit 2."""
    code, out = check_rules(RULES, capsys, "nonexistent.toml")
    assert code == 2
    assert "nonexistent.toml: file not found" in out


def test_jieba_dict_saved_as_gbk(rules_dir, tmp_path, capsys):
    """A GBK jieba_user.dict: one message naming the file and line; check-rules and run exit 2; no article blamed."""
    path = rules_dir / "jieba_user.dict"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    code, out = check_rules(rules_dir, capsys)
    assert code == 2 and f"{path}:1: not UTF-8" in out and "Traceback" not in out, out
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("标题\n投资5亿元。\n", encoding="utf-8")
    code = cli.main(["--rules", str(rules_dir), "run", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                     "--quiet", "--no-report"])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:1: not UTF-8" in err
    assert not (tmp_path / "out" / "articles.csv").exists()


def test_jieba_dict_bad_line(rules_dir):
    """A dictionary line that is not `word [freq] [tag]` is refused at its line."""
    path = rules_dir / "jieba_user.dict"
    line = append(path, "兰州新区 many ns\n")
    one_problem(rules_dir, f"{path}:{line}: ", "word [freq] [tag]")


def test_run_with_broken_rules_is_refused_with_exit_2(rules_dir, tmp_path, capsys):
    """A run with a broken rules folder: exit 2, the file:line message, nothing written."""
    path = rules_dir / "lists" / "currency.txt"
    line = append(path, "Hong Kong dollar HKD\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("标题\n投资5亿元。\n", encoding="utf-8")
    code = cli.main(["--rules", str(rules_dir), "run", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                     "--quiet", "--no-report"])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:{line}: " in err
    assert not (tmp_path / "out" / "extractions.csv").exists()


# -- settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("edit,words", [
    ("match_timeout = \"fast\"", ["match_timeout", "number"]),
    ("match_timeout = -1", ["match_timeout", "between"]),
    ("before_trigger = 2.5", ["before_trigger", "integer"]),
    ("match_timout = 2", ["unknown setting 'match_timout'"]),
])
def test_settings_are_validated(rules_dir, edit, words):
    """settings.toml: types, ranges and names checked, at the line of the setting."""
    path = rules_dir / "settings.toml"
    key = edit.split(" =")[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    if key in rules_module.SETTINGS:
        n = next(i for i, l in enumerate(lines, 1) if l.startswith(key + " ="))
        lines[n - 1] = edit
    else:
        n = next(i for i, l in enumerate(lines, 1) if l.startswith("[extract]")) + 1
        lines.insert(n - 1, edit)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_problem(rules_dir, f"{path}:{n}: ", *words)


def test_settings_are_used(rules_dir):
    """A smaller trigger window in settings.toml loses the qualifier far before its currency word."""
    text = "标题\n总投资超过1,234,567,890,123,456,789元。\n"
    before = process_text("s", text, load_rules(rules_dir)).rows
    assert [r["qualifier"] for r in before if r["kind"] == "amount"] == ["more_than"]
    path = rules_dir / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("before_trigger = 60", "before_trigger = 10"),
                    encoding="utf-8")
    rules = load_rules(rules_dir)
    assert rules.settings["before_trigger"] == 10
    after = process_text("s", text, rules).rows
    assert [r["qualifier"] for r in after if r["kind"] == "amount"] != ["more_than"]


def test_missing_settings_take_the_defaults(rules_dir):
    """A rules folder without settings.toml (made before it existed) loads with the default settings."""
    (rules_dir / "settings.toml").unlink()
    assert load_rules(rules_dir).settings == load_rules(RULES).settings


# -- the code -----------------------------------------------------------------------------------

def test_load_rules_is_named_steps():
    """load_rules reads as its steps: no function of rules.py is longer than 40 lines."""
    long = [name for name, f in inspect.getmembers(rules_module, inspect.isfunction)
            if f.__module__ == rules_module.__name__ and len(inspect.getsourcelines(f)[0]) > 40]
    assert long == []


def test_year_pivot_setting(rules_dir):
    """settings.toml's year_pivot reads two-digit years: 30年 is 2030 under pivot 50, 1930 under pivot 20."""
    text = "标题\n该项目30年5月建成。\n"
    dates = lambda rules: [r["value"] for r in process_text("y", text, rules).rows if r["kind"] == "date"]
    assert dates(load_rules(rules_dir)) == ["2030-05"]
    path = rules_dir / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("year_pivot = 50", "year_pivot = 20"), encoding="utf-8")
    assert dates(load_rules(rules_dir)) == ["1930-05"]


def test_unread_date_groups_are_refused(rules_dir):
    """y_, m_, d_ are read by nothing any more: a date rule naming one is refused."""
    path = rules_dir / "date.toml"
    line = append(path, "[[rule]]\nid = \"date.old\"\npattern = '(?P<y_>20[0-9]{2})年'\n") + 1
    one_problem(rules_dir, f"{path}:{line}: [date.old]", "y_")


def test_output_limits_are_settings(rules_dir):
    """settings.toml [output]: a sentence over max_sentence is cut to sentence_context each side."""
    text = "一二三四五六七八九十" * 8 + "\n" + "甲" * 300 + "投资5亿元" + "乙" * 300 + "。\n"
    path = rules_dir / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("max_sentence = 1000", "max_sentence = 100")
                    .replace("sentence_context = 200", "sentence_context = 20"), encoding="utf-8")
    res = process_text("o", text, load_rules(rules_dir))
    amount = next(r for r in res.rows if r["kind"] == "amount")
    assert amount["sentence"] == "…" + "甲" * 18 + "投资5亿元" + "乙" * 20 + "…"


@pytest.mark.parametrize("place,words", [
    ("extra/my_rules.toml", ["rules files are the *.toml files directly in rules/"]),
    ("currency2.txt", ["rules/lists/"]),
    ("lists/old/currency.txt", ["rules/lists/"]),
    ("my_words.dict", ["rules/jieba_user.dict"]),
])
def test_files_nothing_loads_are_refused_by_name(rules_dir, place, words):
    """A rules-like file in a place nothing loads is refused by name (it would be ignored silently)."""
    path = rules_dir / place
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# columns: word code\n坚戈 KZT\n" if place.endswith(".txt") else "", encoding="utf-8")
    one_problem(rules_dir, f"{path}: not loaded", *words)


def test_the_digest_follows_the_settings_in_effect(rules_dir, tmp_path, monkeypatch):
    """The rules digest (the cache key) changes with a setting taken from the default rules, when
    the user's folder has no settings.toml (its own files are unchanged)."""
    (rules_dir / "settings.toml").unlink()
    defaults = tmp_path / "defaults"
    shutil.copytree(RULES, defaults)
    monkeypatch.setattr(rules_module, "PACKAGE_RULES", defaults)
    before = load_rules(rules_dir).digest
    path = defaults / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("before_trigger = 60", "before_trigger = 30"),
                    encoding="utf-8")
    assert load_rules(rules_dir).digest != before
