"""The review page in a real browser: headless Chromium driven by Selenium (tests/browser.py).

Viewing: the index, the marks, the golden comparison, filters, sorting, details.
Reviewing (verdicts, added mentions, leftovers, all rows) is in test_report_review_browser.py.
"""
from __future__ import annotations

import csv
import pathlib
from collections import Counter

import pytest

from pipeline.commands.report import write_report
from tests.browser import column, css, driver, no_alert, open_view  # noqa: F401 (driver: a fixture)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = pathlib.Path(__file__).resolve().parent / "report_fixture"
SCREENSHOT = ROOT / "outputs" / "report-screenshot.png"
HOSTILE_TITLE = '<script>alert(1)</script> 测试 "引号" & 符号'


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> pathlib.Path:
    """The report built from the fixture (with its golden files)."""
    dest = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(FIXTURE / "out", FIXTURE / "gold", dest)


def extraction_rows(out_dir: pathlib.Path) -> list[dict[str, str]]:
    with (out_dir / "extractions.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_index_lists_articles_errors_and_scores(driver, page):
    open_view(driver, page)
    links = [a.text for a in css(driver, "#index-table a.article-link")]
    assert links == ["a01", "2024/b02", "c03"]
    errors = css(driver, "#error-list li")
    assert len(errors) == 1 and "c03" in errors[0].text and "cannot decode" in errors[0].text
    # a01 has a golden file: 10 of 12 produced rows match 10 of 12 golden rows
    a01 = css(driver, "#index-table tbody tr")[0]
    assert [td.text for td in a01.find_elements("css selector", "td.c-P, td.c-R, td.c-F1")] == ["0.83"] * 3
    # the hostile title is shown as text, and did not run
    titles = [td.text for td in css(driver, "#index-table td.c-title")]
    assert HOSTILE_TITLE in titles
    assert no_alert(driver)
    assert driver.execute_script("return document.scripts.length") == 2


@pytest.mark.parametrize("article", ["a01", "2024/b02"])
def test_article_marks_every_row(driver, page, article):
    open_view(driver, page, article)
    expected = [r for r in extraction_rows(FIXTURE / "out") if r["article"] == article]
    marks = css(driver, "#text .mention:not(.cont)")  # one first piece per produced row
    assert len(marks) == len(expected)
    assert len(css(driver, "#rows-table tbody tr[data-ref^='r']")) == len(expected)
    title = css(driver, "#title")[0].text
    assert title == (HOSTILE_TITLE if article == "2024/b02" else "兰州新区化工产业集群加速成势")
    assert no_alert(driver)


def test_golden_differences_are_marked(driver, page):
    open_view(driver, page, "a01")
    missed = css(driver, "#text .missed")
    assert sorted(m.text for m in missed) == ["12万平方米", "兰州新区"]
    assert [m.text for m in css(driver, "#text .mention.unexpected")] == ["12万平方米", "约50亿元"]
    # the missed org sits at its first occurrence not taken by a matched row: the title line
    assert driver.execute_script(
        "const m = document.querySelector('#text .missed.k-org');"
        "const r = document.createRange(); r.setStart(document.getElementById('text'), 0); r.setEndBefore(m);"
        "return r.toString().length;") == 0
    statuses = Counter(column(driver, "status"))
    assert statuses == {"match": 10, "unexpected": 2, "missed": 2}


def test_kind_rule_and_text_filters(driver, page):
    from selenium.webdriver.support.ui import Select
    open_view(driver, page, "a01")
    Select(css(driver, "#f-kind")[0]).select_by_value("amount")
    assert column(driver, "kind") == ["amount"] * 3
    Select(css(driver, "#f-kind")[0]).select_by_value("quantity")
    assert column(driver, "kind") == ["quantity"] * 2
    assert sorted(column(driver, "status")) == ["missed", "unexpected"]
    Select(css(driver, "#f-kind")[0]).select_by_value("")
    Select(css(driver, "#f-rule")[0]).select_by_value("date.year")
    assert column(driver, "rule") == ["date.year"] * 2
    Select(css(driver, "#f-rule")[0]).select_by_index(0)
    css(driver, "#f-search")[0].send_keys("管委会")   # the org, and the amount whose entity it is
    assert column(driver, "text") == ["兰州新区管委会", "约50亿元"]
    assert column(driver, "entity") == ["", "兰州新区管委会"]
    assert css(driver, "#row-count")[0].text == "2 of 14 rows"


def test_click_header_sorts(driver, page):
    from selenium.webdriver.support.ui import Select
    open_view(driver, page, "a01")
    Select(css(driver, "#f-kind")[0]).select_by_value("amount")
    header = css(driver, "#rows-table th.c-value")[0]
    header.click()
    assert column(driver, "value") == ["5000000000", "41260000000", "110000000000"]  # numeric, not text order
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert column(driver, "value") == ["110000000000", "41260000000", "5000000000"]
    Select(css(driver, "#f-kind")[0]).select_by_value("")
    css(driver, "#rows-table th.c-start")[0].click()
    starts = [int(s) for s in column(driver, "start")]
    assert starts == sorted(starts) and len(starts) == 14  # the missed rows have a place too


def test_hover_and_click_show_details(driver, page):
    from selenium.webdriver.common.action_chains import ActionChains
    open_view(driver, page, "a01")
    marks = {m.text: m for m in css(driver, "#text .mention")}
    ActionChains(driver).move_to_element(marks["超过1100亿元"]).perform()
    details = css(driver, "#details")[0]
    assert css(driver, "#details .d-rule")[0].text == "amount.cny_scale"
    assert css(driver, "#details .d-value")[0].text == "110000000000"
    assert css(driver, "#details .d-start_end")[0].text == "42–50"
    marks["27.3%"].click()
    ActionChains(driver).move_to_element(css(driver, "#title")[0]).perform()  # leave the text: the pinned one stays
    assert css(driver, "#details .d-rule")[0].text == "percent.sign"
    assert "27.3" in details.text and "%" in details.text
    # a missed mention explains itself
    css(driver, "#text .missed.k-org")[0].click()
    assert "missed" in css(driver, "#details")[0].text
    # the crossing marks of b02: both pieces of the continued mark show the same row
    open_view(driver, page, "2024/b02")
    assert len(css(driver, "#text .cont")) >= 1
    css(driver, "#text .cont")[0].click()
    assert css(driver, "#details .d-rule")[0].text == "test.crossing"  # the count crossing the percent


def test_screenshot(driver, page):
    from selenium.webdriver.common.action_chains import ActionChains
    open_view(driver, page, "a01")
    mark = [m for m in css(driver, "#text .mention") if m.text == "超过1100亿元"][0]
    mark.click()
    ActionChains(driver).move_to_element(mark).perform()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    print(f"screenshot: {SCREENSHOT}")


def test_real_outputs(driver, tmp_path):
    """The page of a real run (the golden articles of tests/data/corpus) marks every row with valid offsets."""
    from pipeline.run import run
    from tests.helpers import CORPUS, rules
    out = tmp_path / "out"
    run([CORPUS], out, rules(), n_jobs=1, progress=False, cache=False)
    page = write_report(out, ROOT / "tests" / "golden", tmp_path / "report.html")
    rows = extraction_rows(out)
    assert rows
    article = rows[0]["article"]
    clean = (out / "clean" / f"{article}.txt").read_text(encoding="utf-8")
    valid = [r for r in rows if r["article"] == article and r["start"].isdigit() and r["end"].isdigit()
             and 0 <= int(r["start"]) < int(r["end"]) <= len(clean)]
    open_view(driver, page, article)
    assert len(css(driver, "#text .mention:not(.cont)")) == len(valid)
