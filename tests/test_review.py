"""Review without a browser: leftover numbers, golden accept (verdicts, --dry-run, --kind, hand
edits), and the report step (bounded memory, odd article ids, rebuilt when its sources change)."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import shutil
import tracemalloc

import pytest

from pipeline.commands import cli
from pipeline.commands.golden import accept_verdicts, read_manifest
from pipeline.commands.leftovers import find
from pipeline.commands.report import report_is_current, write_report
from pipeline.outputs import GOLD_COLUMNS, LEFTOVER_COLUMNS, VERDICT_COLUMNS, csv_bytes, read_csv
from pipeline.rules import load_rules
from tests.helpers import rules

RULES = pathlib.Path(__file__).resolve().parent.parent / "rules"
FIXTURE = pathlib.Path(__file__).resolve().parent / "report_fixture"
ARTICLE = ("园区动态\n园区产值是五年前的1.4倍，八成企业已投产，贷款利率下调15至30个基点，千分之八的企业外迁。\n"
           "全年新增投资3亿元，一般项目一百个，研发经费是上年的2.6倍。\n")


def report_helpers():
    spec = importlib.util.spec_from_file_location("report_tests", pathlib.Path(__file__).with_name("test_report.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def call(capsys, *argv) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def corpus(tmp_path) -> pathlib.Path:
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "a1.txt").write_text(ARTICLE, encoding="utf-8")
    return d


# --- leftover numbers ------------------------------------------------------------------------------

def test_leftovers_are_the_numbers_no_row_covers():
    text = "产值是五年前的1.4倍，八成企业投产，利率下调15至30个基点，千分之八，统一一般，一百个，投资3亿元。"
    row = text.index("3亿元")
    found = find(text, [(row, row + 3)], rules())
    assert [(x.text, x.next_word) for x in found] == [
        ("五", "年"), ("1.4", "倍"), ("八", "成"), ("15", "至"), ("30", "个"), ("八", "，"), ("一百", "个")]
    assert all(text[x.start:x.end] == x.text for x in found)
    # a row that only touches a number covers it; nothing is found twice
    assert [x.text for x in find(text, [(text.index("1.4") + 1, text.index("1.4") + 2)], rules())][:2] == ["五", "八"]


def test_leftovers_follow_the_fragments_of_the_loaded_rules(tmp_path):
    """The number grammar is the rules' (LEFTOVER_NUMBER in fragments.toml), not a regex of the code."""
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    frag = d / "fragments.toml"
    text = frag.read_text(encoding="utf-8")
    start = text.index("LEFTOVER_NUMBER = ")
    frag.write_text(text[:start] + "LEFTOVER_NUMBER = '{ARABIC}'" + text[text.index("\n", start):], encoding="utf-8")
    assert [x.text for x in find("五年前的1.4倍，八成", [], load_rules(d))] == ["1.4"]


def test_run_writes_leftovers_csv_beside_the_outputs(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    code, said = call(capsys, "run", corpus, "--out", out, "--quiet", "--jobs", "1")
    assert code == 0, said
    data = (out / "leftovers.csv").read_bytes()
    assert data.decode("utf-8-sig").split("\n")[0] == ",".join(LEFTOVER_COLUMNS)
    left = read_csv(out / "leftovers.csv")
    # (15至30个基点 is taken by count.range as 15..30 个, so its numbers are covered)
    assert [(r["text"], r["next_word"]) for r in left] == [
        ("五", "年"), ("1.4", "倍"), ("八", "成"), ("八", "的"), ("2.6", "倍")]
    clean = (out / "clean" / "a1.txt").read_text(encoding="utf-8")
    assert all(clean[int(r["start"]):int(r["end"])] == r["text"] and r["text"] in r["sentence"] for r in left)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    # --no-report skips the report step: no page, no leftovers
    code, _ = call(capsys, "run", corpus, "--out", tmp_path / "bare", "--quiet", "--jobs", "1", "--no-report")
    assert code == 0 and not (tmp_path / "bare" / "leftovers.csv").exists()


def test_stats_prints_the_leftover_table(corpus, capsys):
    code, said = call(capsys, "stats", corpus)
    assert code == 0
    table = said[said.index("leftover numbers"):]
    assert table.splitlines()[0] == "leftover numbers (no row covers them) over 1 articles: 5, by the word that follows"
    assert "  倍              2  1.4倍 (a1)" in table and "  成              1  八成 (a1)" in table


# --- golden accept --verdicts -----------------------------------------------------------------------

def verdict(article, verdict, kind, text, **cells):
    return {"article": article, "verdict": verdict, "kind": kind, "text": text, **cells}


def write_verdicts(path: pathlib.Path, rows: list[dict]) -> pathlib.Path:
    path.write_bytes(csv_bytes(VERDICT_COLUMNS, rows))
    return path


def gold_file(gold: pathlib.Path, article: str, rows: list[tuple]) -> str:
    """A golden file (as accept writes it, recorded in the manifest); its SHA-256."""
    keys = ("kind", "text", "value", "value_max", "unit", "qualifier")
    data = csv_bytes(GOLD_COLUMNS, [{"article": article, **dict(zip(keys, r))} for r in rows])
    (gold / f"{article}.csv").parent.mkdir(parents=True, exist_ok=True)
    (gold / f"{article}.csv").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (gold / ".accepted.sha256").write_text(f"{digest}  {article}.csv\n", encoding="utf-8")
    return digest


def test_verdicts_keep_right_drop_wrong_interpret_added_and_keep_the_rest(tmp_path):
    gold = tmp_path / "gold"
    sha = gold_file(gold, "a1", [("amount", "3亿元", "300000000", "", "CNY", ""), ("count", "236个", "236", "", "个", ""),
                                 ("percent", "27.3%", "27.3", "", "%", "")])
    path = write_verdicts(tmp_path / "verdicts.csv", [
        verdict("a1", "right", "amount", "3亿元", value="300000000", unit="CNY", start="10", end="13",
                indicator="投资", golden_sha256=sha),
        verdict("a1", "wrong", "count", "236个", value="236", unit="个", start="20", end="24", golden_sha256=sha),
        verdict("a1", "added", "quantity", "3.5万吨", start="30", end="35", golden_sha256=sha),
        verdict("a1", "added", "percent", "八成", value="80", unit="%", start="2", end="4", golden_sha256=sha)])
    lines, ok = accept_verdicts(path, rules(), gold)
    said = "\n".join(lines)
    # ~1: the reviewer gave the 3亿元 row its indicator (diff compares the context columns too)
    assert ok and "a1: " in said and "written (4 rows: +2 -1 ~1)" in said
    assert "complete by hand: percent '八成'" in said and "reviewer's (80 %)" in said
    rows = [(r["kind"], r["text"], r["value"], r["unit"], r["indicator"]) for r in read_csv(gold / "a1.csv")]
    # in the order of the text where known; the unmentioned golden row stays where it was
    assert rows == [("percent", "八成", "80", "%", ""), ("amount", "3亿元", "300000000", "CNY", "投资"),
                    ("percent", "27.3%", "27.3", "%", ""), ("quantity", "3.5万吨", "35000", "吨", "")]
    assert read_manifest(gold)["a1.csv"] == hashlib.sha256((gold / "a1.csv").read_bytes()).hexdigest()
    # the same verdicts again: given against the earlier file, they are skipped, nothing changes
    before = (gold / "a1.csv").read_bytes()
    lines, ok = accept_verdicts(path, rules(), gold)
    assert ok and "(4 rows: +0 -0 ~0)" in lines[0] and "4 verdict(s) skipped" in "\n".join(lines)
    assert (gold / "a1.csv").read_bytes() == before


def test_verdicts_dry_run_only_and_a_new_golden_file(tmp_path, capsys):
    gold = tmp_path / "gold"
    path = write_verdicts(tmp_path / "v.csv", [
        verdict("a1", "right", "amount", "3亿元", value="300000000", unit="CNY", start="1", end="4", golden_sha256=""),
        verdict("b/2", "right", "count", "5家", value="5", unit="家", start="1", end="3", golden_sha256="")])
    code, said = call(capsys, "golden", "accept", "--verdicts", path, "--gold", gold, "--dry-run")
    assert code == 0 and "a1: " in said and "would be created (1 rows: +1 -0 ~0)" in said
    assert "dry run: nothing written" in said and not gold.exists()
    code, said = call(capsys, "golden", "accept", "--verdicts", path, "--golden-dir", gold, "b/2")
    assert code == 0 and "a1" not in said and (gold / "b" / "2.csv").is_file() and not (gold / "a1.csv").exists()
    assert read_csv(gold / "b" / "2.csv")[0]["article"] == "b/2"
    code, said = call(capsys, "golden", "accept", "--verdicts", path, "--gold", gold, "zz")
    assert code == 1 and "no verdict on article 'zz'" in said


@pytest.mark.parametrize("rows, message", [
    ([verdict("a1", "maybe", "amount", "3亿元")], "v.csv:2: verdict must be one of right, wrong, added"),
    ([verdict("a1", "added", "amount", "3亿元")], "v.csv:2: an added mention needs its text and start"),
    ([verdict("../../etc/x", "right", "amount", "3亿元")], "would put its golden file outside"),
])
def test_bad_verdicts_are_refused_by_line(tmp_path, capsys, rows, message):
    path = write_verdicts(tmp_path / "v.csv", rows)
    code, said = call(capsys, "golden", "accept", "--verdicts", path, "--gold", tmp_path / "gold")
    assert code == 1 and message in said and "nothing written" in said and not (tmp_path / "gold").exists()


def test_verdicts_file_without_the_columns(tmp_path, capsys):
    (tmp_path / "v.csv").write_text("article,text\na1,3亿元\n", encoding="utf-8")
    code, said = call(capsys, "golden", "accept", "--verdicts", tmp_path / "v.csv", "--gold", tmp_path / "gold")
    assert code == 1 and "has no column verdict, kind" in said


def test_accept_some_kinds_only(corpus, tmp_path, capsys):
    gold = tmp_path / "gold"
    gold_file(gold, "a1", [("amount", "3亿元", "1", "", "CNY", ""), ("org", "某公司", "某公司", "", "", "")])
    code, said = call(capsys, "golden", "accept", "a1", "--corpus", corpus, "--gold", gold, "--kind", "amount")
    assert code == 0 and "~ amount   3亿元 = 300000000 CNY   (value 1 -> 300000000; indicator ∅ -> 投资)" in said
    assert sorted((r["kind"], r["text"], r["value"]) for r in read_csv(gold / "a1.csv")) == [
        ("amount", "3亿元", "300000000"), ("org", "某公司", "某公司")]   # the org row is not touched


def test_accept_refuses_an_id_outside_the_golden_folder(tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(FIXTURE / "out", out)
    code, said = call(capsys, "golden", "accept", "--from", out, "--gold", tmp_path / "gold", "--", "../evil")
    assert code == 1 and "outside" in said and not (tmp_path / "evil.csv").exists()


def test_one_option_name_for_the_golden_folder():
    parser = cli.build_parser()
    for argv in (["run"], ["eval"], ["report"], ["diff"], ["golden", "accept", "x"]):
        for spelling in ("--gold", "--golden-dir"):
            assert parser.parse_args(argv + [spelling, "/g"]).gold == "/g"


# --- the report step --------------------------------------------------------------------------------

def test_report_memory_stays_bounded(tmp_path):
    """The page's data is written one article at a time: the peak grows by the index entry of an
    article (about 2 kB), not by its text and rows (64 kB each in this synthetic output before)."""
    helpers = report_helpers()
    r = rules()
    peaks = {}
    for n in (150, 600):
        out = tmp_path / f"out{n}"
        helpers.synthetic_output(out, n_articles=n, n_rows=40)
        tracemalloc.start()
        write_report(out, rules=r)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    per_article = (peaks[600] - peaks[150]) / 450
    print(f"\nreport memory: peak {peaks[150] / 1e6:.1f} MB at 150 articles, {peaks[600] / 1e6:.1f} MB at 600: "
          f"{per_article / 1e3:.1f} kB per article")
    assert per_article < 8_000


@pytest.mark.parametrize("order", [lambda r: r[4:] + r[:4],                 # the first article's rows last
                                   lambda r: r[:2] + r[4:] + r[2:4]])       # its rows apart
def test_rows_out_of_order_in_extractions_csv(tmp_path, order):
    """A hand-edited extractions.csv, its rows in another order: the page still has every row."""
    from pipeline.outputs import EXTRACTION_COLUMNS
    helpers = report_helpers()
    out = tmp_path / "out"
    helpers.synthetic_output(out, n_articles=3, n_rows=4)
    rows = read_csv(out / "extractions.csv")
    (out / "extractions.csv").write_bytes(csv_bytes(EXTRACTION_COLUMNS, order(rows)))
    arts = helpers.page_articles(write_report(out))
    assert [len(a["rows"]) for a in arts] == [4, 4, 4]
    assert [a["article"] for a in arts] == [r["article"] for r in read_csv(out / "articles.csv")]


def test_ids_starting_like_a_formula_keep_text_and_golden_file(tmp_path, capsys):
    """Articles named -快讯, @兰州, =x, +y: their clean text and golden comparison are on the page."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("-快讯", "@兰州", "=x", "+y", "plain"):
        (src / f"{name}.txt").write_text(ARTICLE, encoding="utf-8")
    out, gold = tmp_path / "out", tmp_path / "gold"
    assert call(capsys, "run", src, "--out", out, "--quiet", "--jobs", "1", "--no-report")[0] == 0
    code, said = call(capsys, "golden", "accept", "--from", out, "--corpus", src, "--gold", gold,
                      "--", "-快讯", "@兰州", "=x", "+y")
    assert code == 0, said
    arts = report_helpers().page_articles(write_report(out, gold))
    assert {a["article"]: (a["text"] is not None, a["gold"]) for a in arts} == {
        "-快讯": (True, True), "@兰州": (True, True), "=x": (True, True), "+y": (True, True), "plain": (True, False)}
    assert all(not a["missed"] for a in arts)


def test_the_page_is_rebuilt_when_its_golden_files_change(corpus, tmp_path, capsys):
    """An unchanged re-run keeps the page, unless a golden file (at any depth) or --gold changed."""
    out, gold, other = tmp_path / "out", tmp_path / "gold", tmp_path / "other"
    (gold / "sub").mkdir(parents=True)
    other.mkdir()
    shutil.copytree(corpus, tmp_path / "in" / "sub")
    run = ["run", tmp_path / "in", "--out", out, "--quiet", "--jobs", "1", "--gold"]
    assert call(capsys, *run, gold)[0] == 0
    code, said = call(capsys, "golden", "accept", "--from", out, "--corpus", tmp_path / "in", "--gold", gold, "sub/a1")
    assert code == 0, said
    page = out / "report.html"

    def built() -> int:
        return page.stat().st_mtime_ns

    call(capsys, *run, gold)
    first = built()
    assert report_is_current(out, gold, rules())
    call(capsys, *run, gold)
    assert built() == first                       # nothing changed: kept
    nested = gold / "sub" / "a1.csv"
    nested.write_bytes(nested.read_bytes() + "sub/a1,amount,99亿元,9900000000,,CNY,,\n".encode())
    os.utime(nested, ns=(first - 10**9, first - 10**9))   # even with an older time
    assert not report_is_current(out, gold, rules())
    call(capsys, *run, gold)
    assert built() != first
    a1 = next(a for a in report_helpers().page_articles(page) if a["article"] == "sub/a1")
    assert a1["missed"] and a1["missed"][0][1] == "99亿元"
    second = built()
    call(capsys, *run, other)                     # another golden folder
    assert built() != second
    assert not next(a for a in report_helpers().page_articles(page) if a["article"] == "sub/a1")["gold"]


def test_a_right_verdict_never_changes_a_golden_cell(tmp_path):
    """A golden row corrected by hand (qualifier about) that a right verdict matches keeps its cells and
    gains the empty ones (the indicator); the difference is listed."""
    gold = tmp_path / "gold"
    sha = gold_file(gold, "a1", [("amount", "约3亿元", "300000000", "", "CNY", "about")])
    path = write_verdicts(tmp_path / "v.csv", [verdict(
        "a1", "right", "amount", "3亿元", value="300000000", unit="CNY", qualifier="more_than", indicator="投资",
        start="5", end="8", golden_sha256=sha)])
    lines, ok = accept_verdicts(path, rules(), gold)
    (row,) = read_csv(gold / "a1.csv")
    assert (row["text"], row["qualifier"], row["indicator"]) == ("约3亿元", "about", "投资")
    said = "\n".join(lines)
    assert "kept the golden text '约3亿元' (the reviewed row has '3亿元')" in said
    assert "kept the golden qualifier 'about' (the reviewed row has 'more_than')" in said
