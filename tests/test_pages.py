"""Articles shaped like re-published news pages (tests/pages/): header and tail metadata lines,
datelines of many outlets, relative dates, the counts and units real reports use.

The articles, their facts and names are invented; `tests/pages/gold/<article>.csv` holds the
rows SPEC.md asks for (checked by hand) and `tests/pages/meta.csv` the articles.csv fields.
`python -m pipeline eval tests/pages/articles --gold tests/pages/gold` prints the same scores.
"""
import csv
import shutil
import time
from pathlib import Path

import pytest

from pipeline import rules as rules_module
from pipeline.article import process_file, process_text
from pipeline.commands.evaluate import load_golden, score
from pipeline.rules import load_rules

PAGES = Path(__file__).parent / "pages"
ARTICLES = sorted((PAGES / "articles").glob("*.txt"))
NUMERIC_AND_DATE = ("amount", "count", "percent", "quantity", "date")
META_FIELDS = ("source", "reporter", "editor", "date", "published")
# The metadata of each article as written in it: cut from the text (lines) or skipped
# (datelines, photo credits); none may give a row.
METADATA = {
    "p01": ["金城晚报 2023-05-16 09:12", "本报讯(记者 李明远)", "责任编辑:赵一凡"],
    "p02": ["2022-11-03 10:21  西北信息报", "中新网西宁11月2日电 (王小川)"],
    "p03": ["发布日期: 2023- 06- 08 10: 30 信息来源: 城西区统计局"],
    "p04": ["来源:西部产业资讯网   时间:2022-11-03"],
    "p05": ["原标题:储能龙头半年报出炉 净利同比增长超三成", "来源:财经时讯网作者:周文博2023-08-09 07:04",
            "导读:受益于海外订单放量,公司上半年出货量大幅增长。"],
    "p06": ["信息来源:丝路观察网 发布时间:2024/03/21 16:05:12", "丝路观察网酒泉3月21日电(记者 郑海波 通讯员 刘晓)"],
    "p07": ["2023\n03/15\n15:48", "每日陇上网3月15日讯(陇上晨报/掌上金城记者 吴佳宁)"],
    "p08": ["【本报讯】(记者 孟凡宇)", "孟凡宇 摄", "金城日报 2022-10-12 08:30", "编辑:钱宁"],
    "p09": ["时间:2021-06-03 来源:塞上新闻网", "塞上广播网银川6月2日消息(记者 韩立冬)"],
    "p10": ["来源:金城财经网", "作者:严思齐", "发布时间:2024-04-17 10:05"],
    "p11": ["中新网兰州9月22日电 (记者 冯一鸣)", "冯一鸣 摄"],
    "p12": ["2023-07-05 18:20:16 来源:高原牧业报", "编辑:沈佳", "导读:草畜平衡让牧民增收。"],
    "p13": ["您当前的位置 : 陇东新闻网 > 本地 > 经济", " 2020/08/18/ 08:53 来源:陇东晚报 记者 白雪松",
            "陇东新闻网8月18日讯"],
}


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def results(rules):
    return {p.stem: process_file(p.stem, p, rules) for p in ARTICLES}


def test_every_article_has_gold_and_metadata():
    """Each page article has its golden rows, its articles.csv fields and its metadata listed."""
    stems = {p.stem for p in ARTICLES}
    assert stems and stems == {p.stem for p in (PAGES / "gold").glob("*.csv")}
    assert stems == {r["article"] for r in _meta_rows()} == set(METADATA)


@pytest.mark.parametrize("kind", NUMERIC_AND_DATE)
def test_page_articles_score(results, kind):
    """Every numeric kind and dates: F1 of at least 0.97 on the page-shaped articles."""
    golden = load_golden(PAGES / "gold")
    s = score(golden, {a: r.rows for a, r in results.items()})
    p, r, f = s.prf(kind)
    missed = [(a, g["text"]) for a, g in s.missed if g["kind"] == kind]
    unexpected = [(a, g["text"], g["rule"]) for a, g in s.unexpected if g["kind"] == kind]
    assert f >= 0.97, f"{kind}: P {p:.3f} R {r:.3f} F1 {f:.3f}; missed {missed}; unexpected {unexpected}"


def _meta_rows():
    with open(PAGES / "meta.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("want", _meta_rows(), ids=lambda r: r["article"])
def test_page_articles_meta(results, want):
    """source, reporter, editor, date and published of articles.csv, from the metadata lines."""
    got = results[want["article"]].article_row()
    assert {k: got[k] for k in META_FIELDS} == {k: want[k] for k in META_FIELDS}


@pytest.mark.parametrize("article", sorted(METADATA))
def test_metadata_gives_no_mention(results, article):
    """A metadata line is cut from the text; a dateline or photo credit stays but gives no row."""
    r = results[article]
    raw = (PAGES / "articles" / f"{article}.txt").read_text(encoding="utf-8")
    for line in METADATA[article]:
        s = raw.index(line)
        inside = [row for row in r.rows if row["raw_start"] < s + len(line) and s < row["raw_end"]]
        assert not inside, f"{line!r} gave {[(x['kind'], x['text']) for x in inside]}"
        if not any(word in line for word in ("电", "讯", "消息", "摄")):
            assert line.strip() not in r.clean_text, f"{line!r} was not cut"


def test_title_is_not_a_metadata_line(results):
    """The title is the first line that is no metadata (p13 opens with a location bar; p11 with its dateline)."""
    assert results["p13"].article_row()["title"] == "陇东某县新建冷库群投用"
    assert results["p11"].article_row()["title"] == ""
    assert results["p05"].article_row()["title"] == "储能企业半年报:营收增长超三成"


def test_boilerplate_pattern_has_the_time_limit(tmp_path):
    """A boilerplate pattern that backtracks is stopped like an extraction rule and named in the warnings
    (it used to hang the run)."""
    shutil.copytree(rules_module.default_rules_dir(), tmp_path / "rules")
    with open(tmp_path / "rules" / "boilerplate.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[[dateline]]\nid = \"slow_dateline\"\npattern = '(?P<source>(?:\\p{Han}|\\p{Han}\\p{Han})+)[电讯]'\n")
    settings = tmp_path / "rules" / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("match_timeout = 2.0", "match_timeout = 0.2"),
                        encoding="utf-8")
    slow = load_rules(tmp_path / "rules")
    assert slow.settings["match_timeout"] == 0.2
    text = "标题\n" + "兰州新区化工新材料产业集群加速成势" * 3 + ",投资8573.9万元。\n"
    t0 = time.monotonic()
    result = process_text("slow", text, slow)
    assert time.monotonic() - t0 < 20
    assert any("slow_dateline" in w for w in result.warnings), result.warnings
    assert [r["value"] for r in result.rows if r["kind"] == "amount"] == ["85739000"]


def test_truncated_excerpt_without_title(rules):
    """An excerpt that opens with its source line (no title) and ends mid-character still dates its
    figures from the source line's date; the broken character is a warning, not an error."""
    from pipeline.article import process_bytes
    data = "来源:西部产业资讯网   时间:2022-11-03\n一季度,全省新增企业38家,其中5月新增".encode() + "企".encode()[:2]
    res = process_bytes("cut", data, rules)
    assert res.status == "ok" and any("U+FFFD" in w for w in res.warnings)
    assert res.article_row()["date"] == "2022-11-03"
    assert [(r["kind"], r["value"]) for r in res.rows] == [("date", "2022-Q1"), ("count", "38"), ("date", "2022-05")]


def test_one_line_dateline(rules):
    """A short text of one line is its title, even when it opens like a dateline; a long one is the
    first paragraph, and its dateline dates the article."""
    short = process_text("s", "中新网兰州3月5日讯 全市发布\n", rules).article_row()
    assert short["title"] == "中新网兰州3月5日讯 全市发布" and short["date"] == ""
    text = "中新社北京5月19日电 (记者 闫小虹)19日,全国跨区送电完成2402亿千瓦时,同比增长19.7%,增速比一季度加快,为近年来同期最快的增速水平。\n"
    long = process_text("l", text, rules)
    assert long.article_row()["title"] == "" and long.article_row()["date"] == "--05-19"
    assert [(r["kind"], r["value"]) for r in long.rows] == [("date", "--05-19"), ("quantity", "240200000000"),
                                                             ("percent", "19.7")]
