"""The review page (`pipeline.report`), checked without a browser."""
from __future__ import annotations

import csv
import json
import pathlib
import re
import shutil
import time

import pytest

from pipeline.commands.report import match_key, match_rows, place_missed, write_report
from pipeline.outputs import read_csv, unneutralise

FIXTURE = pathlib.Path(__file__).resolve().parent / "report_fixture"
HOSTILE = "<script>alert(1)</script>"
EXTRACTION_HEADER = ("article,kind,text,value,value_max,unit,qualifier,category,start,end,"
                     "raw_start,raw_end,sentence,rule").split(",")
ARTICLE_HEADER = ("article,title,source,reporter,editor,date,chars,n_amount,n_count,n_percent,"
                  "n_quantity,n_date,n_org,status,error,warnings").split(",")
GOLD_HEADER = "article,kind,text,value,value_max,unit,qualifier,category".split(",")


def page_data(html: str) -> dict:
    """The JSON embedded in the page: the index."""
    m = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


CHUNK_CALL = re.compile(r"REVIEW_CHUNK\((\d+),(.*)\);\n", re.S)


def page_articles(page: pathlib.Path) -> list[dict]:
    """Every article as the page sees it once opened: its index entry with its chunk's data."""
    data = page_data(page.read_text(encoding="utf-8"))
    chunks = {}
    for n in range(data["chunks"]):
        m = CHUNK_CALL.fullmatch((page.parent / data["data_dir"] / f"{n}.js").read_text(encoding="utf-8"))
        assert m and int(m.group(1)) == n
        chunks[n] = {e["article"]: e for e in json.loads(m.group(2))}
    return [{**a, **chunks[a["chunk"]][a["article"]]} for a in data["articles"]]


def page_without_data(html: str) -> str:
    """The page with the embedded JSON cut out: the template's own HTML, CSS and JS."""
    return re.sub(r'(<script id="report-data" type="application/json">).*?(</script>)', r"\1\2", html, flags=re.S)


def write_csv(path: pathlib.Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture()
def fixture_page(tmp_path) -> pathlib.Path:
    return write_report(FIXTURE / "out", FIXTURE / "gold", tmp_path / "report.html")


def test_writes_to_out_dir_by_default_and_atomically(tmp_path):
    out = tmp_path / "out"
    shutil.copytree(FIXTURE / "out", out)
    path = write_report(out)
    assert path == out / "report.html" and path.is_file()
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
    assert all(not a["gold"] for a in page_data(path.read_text(encoding="utf-8"))["articles"])


def test_page_is_self_contained(fixture_page):
    html = fixture_page.read_text(encoding="utf-8")
    own = page_without_data(html)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in own and "@import" not in own and "@font-face" not in own and "url(" not in own
    assert not re.search(r"\bsrc\s*=", own)  # no external scripts or images
    assert own.count("<script") == 2 and html.count("</script") == 2  # data + the page's own code
    assert "default-src 'none'" in own  # and the browser is told to load nothing


def test_embedded_json_holds_every_row(fixture_page):
    data = page_data(fixture_page.read_text(encoding="utf-8"))
    col = {c: i for i, c in enumerate(data["columns"])}
    data["articles"] = page_articles(fixture_page)
    expected = sorted(read_csv(FIXTURE / "out" / "extractions.csv"), key=lambda e: (e["article"], int(e["start"])))
    got = sorted(((a["article"], r) for a in data["articles"] for r in a["rows"]), key=lambda x: (x[0], x[1][col["start"]]))
    assert len(got) == len(expected) == 19
    for (article, r), e in zip(got, expected):
        assert article == e["article"]
        for c in ("kind", "text", "value", "value_max", "unit", "qualifier", "category", "rule",
                  "raw_start", "raw_end", "indicator", "entity", "period", "period_max", "change"):
            assert r[col[c]] == e[c], c
        assert (r[col["start"]], r[col["end"]]) == (int(e["start"]), int(e["end"]))
    # offsets point at the text in the embedded clean text
    for a in data["articles"]:
        for r in a["rows"]:
            assert a["text"][r[col["start"]]:r[col["end"]]] == r[col["text"]]
    assert [a["article"] for a in data["articles"]] == ["a01", "2024/b02", "c03"]
    c03 = data["articles"][2]
    assert c03["status"] == "error" and "cannot decode" in c03["error"] and c03["text"] is None


def test_neutralised_cells_are_restored(fixture_page):
    b02 = next(a for a in page_articles(fixture_page) if a["article"] == "2024/b02")
    texts = [r[1] for r in b02["rows"]]
    assert "-12.6%" in texts and "'-12.6%" not in texts
    assert unneutralise("'=SUM(A1)") == "=SUM(A1)"
    assert unneutralise("'+86") == "+86" and unneutralise("'@x") == "@x"
    assert unneutralise("'引号'") == "'引号'" and unneutralise("'") == "'" and unneutralise("") == ""


def test_hostile_text_cannot_run(tmp_path):
    out = tmp_path / "out"
    evil = HOSTILE + '</script><script>alert(2)</script><!-- " & \u2028'
    clean = "标题\n" + evil + "投资5亿元。\n"
    start = clean.index("5亿元")
    write_csv(out / "articles.csv", ARTICLE_HEADER,
              [["x", evil, evil, "", "", "", len(clean), 1, 0, 0, 0, 0, 0, "ok", "", evil]])
    write_csv(out / "extractions.csv", EXTRACTION_HEADER,
              [["x", "amount", "5亿元", "500000000", "", "CNY", "", "", start, start + 4, start, start + 4,
                evil, "amount." + HOSTILE]])
    (out / "clean").mkdir()
    (out / "clean" / "x.txt").write_text(clean, encoding="utf-8")
    page = write_report(out)
    html = page.read_text(encoding="utf-8")
    assert HOSTILE not in html and "<script>alert" not in html  # never in its raw form, as a tag
    assert html.count("<script") == 2 and html.count("</script") == 2  # no tag in the data
    embedded = html.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    chunk = next((page.parent / "report-data").glob("*/0.js")).read_text(encoding="utf-8")
    for data in (embedded, CHUNK_CALL.fullmatch(chunk).group(2)):   # the chunk is a script too
        assert "<" not in data and ">" not in data and "&" not in data and "\u2028" not in data
    data = page_data(html)
    assert data["articles"][0]["title"] == evil  # the data still says exactly what the article says
    (a,) = page_articles(page)
    assert a["warnings"] == evil and a["rows"][0][data["columns"].index("rule")] == "amount." + HOSTILE


def test_golden_match_missed_and_unexpected(fixture_page):
    data = page_data(fixture_page.read_text(encoding="utf-8"))
    data["articles"] = page_articles(fixture_page)
    a01 = data["articles"][0]
    start, end = data["gold_columns"].index("start"), data["gold_columns"].index("end")
    status = [r[-1] for r in a01["rows"]]
    assert status.count("match") == 10 and status.count("unexpected") == 2
    unexpected = [r[1] for r in a01["rows"] if r[-1] == "unexpected"]
    assert unexpected == ["12万平方米", "约50亿元"]
    # missed: the second 兰州新区 goes to the title (the body one is matched), 12万平方米 to its place
    assert sorted((m[0], m[1], m[start], m[end]) for m in a01["missed"]) == [
        ("org", "兰州新区", 0, 4), ("quantity", "12万平方米", 87, 93)]
    assert a01["prf"]["amount"] == [2, 3, 2] and a01["prf"]["quantity"] == [0, 1, 1]
    assert a01["prf"]["org"] == [2, 2, 3]
    assert not data["articles"][1]["gold"] and data["articles"][1]["missed"] == []


def test_match_keys_follow_the_eval():
    row = dict(kind="date", text="2023年", value="2023", value_max="", unit="x", qualifier="since")
    assert match_key(row) == ("date", "2023", "")  # unit and qualifier do not count for dates
    assert match_key(dict(kind="org", text="兰大", value="兰州大学")) == ("org", "兰大")
    assert match_key(dict(kind="count", text="3家", value="3", value_max="", unit="家")) == ("count", "3", "", "家")
    produced = [dict(kind="org", text="兰大"), dict(kind="org", text="兰大"), dict(kind="org", text="中科院")]
    gold = [dict(kind="org", text="兰大"), dict(kind="org", text="兰州大学")]
    assert match_rows(produced, gold) == ([True, False, False], [True, False])


def test_place_missed_uses_first_free_occurrence():
    text = "兰州新区和兰州新区以及兰州新区"
    used = [(5, 9, "org")]  # the second occurrence is a matched org
    missed = [dict(kind="org", text="兰州新区")] * 3
    assert place_missed(text, missed, used) == [0, 11, -1]
    # a matched row of another kind does not take the place
    assert place_missed(text, missed[:1], [(0, 4, "date")]) == [0]
    assert place_missed(text, [dict(kind="org", text="不在文中")], []) == [-1]


def test_missing_clean_text_and_unlisted_article(tmp_path):
    out = tmp_path / "out"
    write_csv(out / "articles.csv", ARTICLE_HEADER, [])
    write_csv(out / "extractions.csv", EXTRACTION_HEADER,
              [["../../etc/passwd", "count", "3家", "3", "", "家", "", "", 0, 2, 0, 2, "3家", "count.measure"]])
    (a,) = page_articles(write_report(out))
    assert a["article"] == "../../etc/passwd" and a["text"] is None and len(a["rows"]) == 1


def synthetic_output(out: pathlib.Path, n_articles: int = 500, n_rows: int = 40,
                     gold: pathlib.Path | None = None) -> int:
    """Write a synthetic outputs folder (every 5th article with a golden file); return the row count."""
    forms = [("amount", "{n}亿元", "{n}00000000", "CNY"), ("count", "{n}个", "{n}", "个"),
             ("percent", "{n}%", "{n}", "%"), ("quantity", "{n}万吨", "{n}0000", "吨"),
             ("date", "20{y}年", "20{y}", ""), ("org", "兰州第{n}科技有限公司", "兰州第{n}科技有限公司", "")]
    filler = "据介绍，该项目围绕产业链延链补链强链，持续优化营商环境，推动高质量发展，"
    articles, extractions = [], []
    for a in range(n_articles):
        art = f"batch{a % 7}/article{a:03d}"
        clean, rows = f"合成新闻第{a}篇\n", []
        for i in range(n_rows):
            kind, form, value, unit = forms[i % len(forms)]
            n, y = a * n_rows + i + 1, f"{10 + i % 15:02d}"
            text, value = form.format(n=n, y=y), value.format(n=n, y=y)
            clean += filler
            start = len(clean)
            clean += text + "。" + ("\n" if i % 8 == 7 else "")
            cat = "company" if kind == "org" else ""
            rows.append([art, kind, text, value, "", unit, "", cat, start, start + len(text),
                         start, start + len(text), filler + text + "。", f"{kind}.synthetic"])
        (out / "clean" / f"{art}.txt").parent.mkdir(parents=True, exist_ok=True)
        (out / "clean" / f"{art}.txt").write_text(clean, encoding="utf-8")
        extractions += rows
        articles.append([art, f"合成新闻第{a}篇", "兰州日报社", "记者", "编辑", "2024", len(clean)]
                        + [n_rows // 6] * 6 + ["ok", "", ""])
        if gold is not None and a % 5 == 0:
            write_csv(gold / f"{art}.csv", GOLD_HEADER, [r[:8] for r in rows[2:]] + [[art, "count", "9个", "9", "", "个", "", ""]])
    write_csv(out / "extractions.csv", EXTRACTION_HEADER, extractions)
    write_csv(out / "articles.csv", ARTICLE_HEADER, articles)
    return len(extractions)


def test_500_articles_20000_rows_build(tmp_path):
    """The page of 500 articles x 40 rows: every row in the chunks, and the page itself only an index
    (the build time is printed: a figure, not a limit)."""
    out, gold = tmp_path / "out", tmp_path / "gold"
    n = synthetic_output(out, gold=gold)
    t0 = time.perf_counter()
    path = write_report(out, gold)
    seconds = time.perf_counter() - t0
    size = path.stat().st_size
    chunks = sum(p.stat().st_size for p in (out / "report-data").rglob("*.js"))
    print(f"\n500 articles x 40 rows: built in {seconds:.2f} s, page {size / 1e6:.2f} MB, chunks {chunks / 1e6:.1f} MB")
    assert size < 500 * 1000 and chunks < 15_000_000
    articles = page_articles(path)
    assert sum(len(a["rows"]) for a in articles) == n == 20_000
    assert sum(1 for a in articles if a["gold"]) == 100
