"""Unit tests of the clean stage: readings, controls, alignment, boilerplate and metadata."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.stages.align import Edit, apply_edits
from pipeline.article import process_file
from pipeline.stages.clean import clean, normalise_controls
from pipeline.stages.readings import find_readings
from tests.helpers import CORPUS, rules

DATA = Path(__file__).resolve().parent / "data"          # copies of ../shared/corpus-dev (tests/test_vendored.py)


def strip(text: str) -> str:
    return apply_edits(text, find_readings(text))[0]


@pytest.mark.parametrize("raw, want", [
    ("創(chuàng)新", "創新"),                      # tone-marked reading of the character before
    ("發(fā)展和產(chǎn)業(yè)", "發展和產業"),
    ("的(de)", "的"),                           # neutral tone: no mark
    ("網易(蘭州)聯合", "網易(蘭州)聯合"),           # real parentheses: not pinyin
    ("人才(團隊)", "人才(團隊)"),
    ("措施(第6號)", "措施(第6號)"),
    ("中國(AI)產業", "中國(AI)產業"),              # capitals: an acronym, not a reading
    ("媽(Ma)", "媽(Ma)"),
    ("你(chuàng)好", "你(chuàng)好"),            # a syllable that is not a reading of 你
    ("use (de) here", "use (de) here"),         # no CJK character before it
])
def test_readings(raw, want):
    assert strip(raw) == want


def test_controls_and_line_ends():
    text = "一\r\n二\r三\x00四\ufeff"
    out, _ = apply_edits(text, normalise_controls(text))
    assert out == "一\n二\n三四"


def test_alignment_maps_back_through_deleted_readings():
    raw = "創(chuàng)新區(qū)X"
    out, a = apply_edits(raw, find_readings(raw))
    assert out == "創新區X"
    assert raw[slice(*a.span(0, 3))] == "創(chuàng)新區(qū)"     # the reading after the last character is included
    assert raw[slice(*a.span(1, 2))] == "新"
    assert raw[slice(*a.span(3, 4))] == "X"


def test_overlapping_edits_are_refused():
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "", "t"), Edit(2, 4, "", "t")])


def test_seed_article_cleaned_text_equals_the_shared_clean_text():
    raw = (CORPUS / "000_02898c15ca762943.txt").read_text(encoding="utf-8")
    want = DATA / "gold" / "000_02898c15ca762943.clean.txt"
    got = clean(raw, rules().boilerplate).text
    assert got.strip() == want.read_text(encoding="utf-8-sig").strip()


# the articles whose metadata a person checked (tests/data/meta/<article>.meta.json)
META = sorted(p.name.removesuffix(".meta.json") for p in (DATA / "meta").glob("*.meta.json"))


@pytest.mark.parametrize("aid", META)
def test_metadata_matches_the_gold_metadata(aid):
    """title, source, reporter, editor, date: from the first line, byline, dateline, editor line, copyright."""
    meta_path = DATA / "meta" / f"{aid}.meta.json"
    want = json.loads(meta_path.read_text(encoding="utf-8"))
    got = process_file(aid, CORPUS / f"{aid}.txt", rules()).meta
    for key in ("title", "source", "reporter", "editor", "date"):
        assert got.get(key, "") == want.get(key, ""), key


def test_tail_is_cut_and_title_kept():
    res = process_file("dev01", CORPUS / "dev01.txt", rules())
    assert res.clean_text.startswith("兰州新区化工新材料产业集群加速成势\n")
    assert "责任编辑" not in res.clean_text and "版权声明" not in res.clean_text and "记者 马晓东" not in res.clean_text
    assert res.clean_text.endswith("建成在全国具有影响力的化工新材料产业基地。")


def test_every_dateline_of_a_roundup_is_skipped_and_the_first_dates_the_article():
    text = ("西部省区一季度经济速览\n新华社西宁2024年4月18日电(记者 张三)今年一季度青海省生产总值增长5.2%。\n"
            "新华社银川4月18日电(记者 李四)宁夏工业增加值增长8.1%。\n")
    from pipeline.article import process_text
    res = process_text("roundup", text, rules())
    assert res.meta["date"] == "2024-04-18" and res.meta["source"] == "新华社" and res.meta["reporter"] == "张三"
    dates = [(r["text"], r["value"]) for r in res.rows if r["kind"] == "date"]
    # no row from either dateline; 今年 resolves to 2024, the title's yearless 一季度 takes the article's year
    assert dates == [("一季度", "2024-Q1"), ("今年一季度", "2024-Q1")]
