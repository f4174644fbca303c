"""value_base / unit_base: every unit of rules/lists/quantity_unit.txt has a base unit and a factor,
the arithmetic is exact, quantities of one dimension compare, amounts keep their currency."""
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.article import process_text
from pipeline.rules import RulesError, load_rules, read_list
from pipeline.stages import base_units

from tests.helpers import append, rules

UNIT_LIST = Path(__file__).resolve().parent.parent / "rules" / "lists" / "quantity_unit.txt"


def test_every_unit_of_the_list_has_a_factor():
    rows = read_list(UNIT_LIST)
    assert rows, "quantity_unit.txt is empty"
    assert base_units.problems(rows, str(UNIT_LIST)) == []
    table = base_units.factors(rows)
    assert sorted(table) == sorted(r[0] for r in rows)
    assert all(factor > 0 for _, factor in table.values())


def test_every_base_unit_is_a_unit_of_factor_one():
    """A base unit is the one unit of its dimension: some unit has it with factor 1 (a misspelt
    base unit, `kw` for `kW`, would be a dimension of its own with no such unit)."""
    table = base_units.factors(read_list(UNIT_LIST))
    for base in {b for b, _ in table.values()}:
        assert any(b == base and f == 1 for b, f in table.values()), base


@pytest.mark.parametrize("value,unit,expected", [
    ("500000", "千瓦", ("500000", "kW")),
    ("50", "兆瓦", ("50000", "kW")),
    ("0.05", "吉瓦", ("50000", "kW")),
    ("12000", "亩", ("8000000", "m²")),            # 亩's factor is 2000/3 cut: the tail is rounded off
    ("1", "亩", ("666.66666666666666667", "m²")),
    ("35.6", "平方公里", ("35600000", "m²")),
    ("0.5", "克", ("0.0000005", "t")),             # exact, no float noise (0.5 * 1e-6 in float: 5e-07)
    ("8573.9", "公斤", ("8.5739", "t")),
    ("3500000000", "斤", ("1750000", "t")),        # 35亿斤 of grain: a 斤 is half a 公斤
    ("-3", "吨", ("-3", "t")),
    ("100000", "光年", ("", "")),                   # a unit without factor: no base
    ("", "吨", ("", "")),
])
def test_to_base(value, unit, expected):
    assert base_units.to_base(value, unit, base_units.factors(read_list(UNIT_LIST))) == expected


def quantities(text: str) -> list[dict]:
    return [r for r in process_text("q", f"标题\n{text}", rules()).rows if r["kind"] == "quantity"]


def test_quantities_of_one_dimension_compare():
    rows = quantities("一期装机5万千瓦，二期50兆瓦，三期0.05吉瓦。")
    assert [(r["unit"], r["value_base"], r["unit_base"]) for r in rows] == [
        ("千瓦", "50000", "kW"), ("兆瓦", "50000", "kW"), ("吉瓦", "50000", "kW")]


def test_amounts_keep_their_currency():
    rows = [r for r in process_text("a", "标题\n总投资126亿元，另有外资300万美元。", rules()).rows
            if r["kind"] == "amount"]
    assert [(r["value"], r["unit"], r.get("value_base", ""), r.get("unit_base", "")) for r in rows] == [
        ("12600000000", "CNY", "", ""), ("3000000", "USD", "", "")]


@pytest.mark.parametrize("line,message", [
    ("马力 kW", "2 column(s)"),
    ("马力 kW 0.7355 x", "4 column(s)"),
    ("马力 kW 七百", "not a decimal number"),
    ("马力 kW 0", "must be a positive number"),
    ("马力 kW NaN", "must be a positive number"),
])
def test_a_unit_without_a_good_factor_is_a_rules_error(rules_dir, line, message):  # noqa: F811
    append(rules_dir / "lists" / "quantity_unit.txt", line + "\n")
    with pytest.raises(RulesError) as e:
        load_rules(rules_dir)
    assert "quantity_unit.txt" in str(e.value) and message in str(e.value) and "马力" in str(e.value)


def test_factor_table_is_decimal():
    assert base_units.factors([["亩", "m²", "666.666666666666666667"]])["亩"][1] == \
        Decimal("666.666666666666666667")
