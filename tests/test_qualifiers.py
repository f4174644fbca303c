"""Every qualifier word of SPEC.md gives its qualifier, and the word belongs to the mention's text."""
from __future__ import annotations

import pytest

from pipeline.article import process_text
from tests.helpers import rules

CASES = [
    ("超过820多个", "count", "820", "more_than"),
    ("总投资4500多亿元以上", "amount", "450000000000", "more_than"),   # both present: more_than
    ("2.1亿余元", "amount", "210000000", "more_than"),
    ("十几个", "count", "10", "more_than"),
    ("超100家", "count", "100", "more_than"),
    ("逾40%", "percent", "40", "more_than"),
    ("突破1000万人次", "count", "10000000", "more_than"),
    ("1亿元以上", "amount", "100000000", "at_least"),
    ("不少于300亿元", "amount", "30000000000", "at_least"),
    ("不低于5%", "percent", "5", "at_least"),
    ("至少20家", "count", "20", "at_least"),
    ("最低3000元", "amount", "3000", "at_least"),
    ("约260亿元", "amount", "26000000000", "about"),
    ("近1亿元", "amount", "100000000", "about"),
    ("80%左右", "percent", "80", "about"),
    ("大约15万吨", "quantity", "150000", "about"),
    ("8000张上下", "count", "8000", "about"),
    ("不到50家", "count", "50", "less_than"),
    ("不足3%", "percent", "3", "less_than"),
    ("少于100人", "count", "100", "less_than"),
    ("500万元以下", "amount", "5000000", "at_most"),
    ("3公里以内", "quantity", "3", "at_most"),
    ("不超过两千万元", "amount", "20000000", "at_most"),
    ("最高50万元", "amount", "500000", "at_most"),
    ("最多30名", "count", "30", "at_most"),
    ("2018年以来", "date", "2018", "since"),
    ("2023年5月1日起", "date", "2023-05-01", "since"),
    ("截至2022年底", "date", "2022", "until"),
    ("截至2023年6月底", "date", "2023-06", "until"),
]


@pytest.mark.parametrize("phrase, kind, value, qualifier", CASES, ids=[c[0] for c in CASES])
def test_qualifier(phrase, kind, value, qualifier):
    rows = [r for r in process_text("q", f"标题\n据统计，{phrase}。", rules()).rows if r["kind"] == kind]
    assert [(r["text"], r["value"], r["qualifier"]) for r in rows] == [(phrase.replace("总投资", ""), value,
                                                                       qualifier)]
