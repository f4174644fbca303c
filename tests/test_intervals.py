"""date_from / date_to: the calendar days of every date shape of SPEC "date", for date rows and for a
figure's period, through the pure function and through the pipeline."""
import pytest

from pipeline.article import derived, process_text
from pipeline.stages.intervals import days, interval

from helpers import rules


@pytest.mark.parametrize("value,value_max,qualifier,expected", [
    # one per shape of SPEC "date": value, value_max, qualifier -> (date_from, date_to)
    ("2018", "", "", ("2018-01-01", "2018-12-31")),                         # a year
    ("2022-03", "", "", ("2022-03-01", "2022-03-31")),                      # a month
    ("2022-03-05", "", "", ("2022-03-05", "2022-03-05")),                   # a day
    ("--07-24", "", "", ("", "")),                                          # a month-day without year
    ("--10-25", "", "", ("", "")),
    ("2024-Q1", "", "", ("2024-01-01", "2024-03-31")),                      # a quarter
    ("2022-Q4", "", "", ("2022-10-01", "2022-12-31")),
    ("2023-H1", "", "", ("2023-01-01", "2023-06-30")),                      # a half
    ("2023-H2", "", "", ("2023-07-01", "2023-12-31")),
    ("2024-Q1", "2024-Q3", "", ("2024-01-01", "2024-09-30")),               # 前三季度
    ("2024-01", "2024-09", "", ("2024-01-01", "2024-09-30")),               # 1-9月
    ("2016", "2020", "", ("2016-01-01", "2020-12-31")),                     # a range of years
    ("2024-07-10", "2024-09-30", "", ("2024-07-10", "2024-09-30")),         # a range of days
    ("--07-24", "--07-26", "", ("", "")),                                   # a yearless range
    ("2018", "", "since", ("2018-01-01", "")),                              # 2018年以来
    ("2023-05-01", "", "since", ("2023-05-01", "")),                        # 2023年5月1日起
    ("2022", "", "until", ("", "2022-12-31")),                              # 截至2022年底
    ("2023-06", "", "until", ("", "2023-06-30")),                           # 截至2023年6月底
    ("2025", "", "", ("2025-01-01", "2025-12-31")),                         # a target year: plain
    ("2024-02", "", "", ("2024-02-01", "2024-02-29")),                      # a leap February
    ("2023-02", "", "", ("2023-02-01", "2023-02-28")),
])
def test_interval_of_each_date_shape(value, value_max, qualifier, expected):
    assert interval(value, value_max, qualifier) == expected


@pytest.mark.parametrize("iso", ["", "2023-02-30", "2024-13", "2024-00", "2024-Q5", "2024-H3", "0000",
                                 "--07", "2024-1", "24-03", "二〇二三", "2023-06-31"])
def test_no_calendar_date_has_no_days(iso):
    """Never raises: a value that is no calendar date (or has no year) covers no known day."""
    assert days(iso) is None
    assert interval(iso) == ("", "")


def test_each_bound_gives_its_own_side():
    """An upper bound without a year leaves the end open, not the start."""
    assert interval("2024-07-10", "--09-30") == ("2024-07-10", "")


@pytest.mark.parametrize("row,expected", [
    ({"kind": "date", "value": "2024-Q1", "value_max": "2024-Q3", "qualifier": ""}, ("2024-01-01", "2024-09-30")),
    ({"kind": "date", "value": "2023", "value_max": "", "qualifier": "until"}, ("", "2023-12-31")),
    # a figure: its period, never its own qualifier (more_than is about the number)
    ({"kind": "amount", "value": "126", "value_max": "", "qualifier": "more_than",
      "period": "2024-Q1", "period_max": "2024-Q3"}, ("2024-01-01", "2024-09-30")),
    ({"kind": "percent", "value": "9.6", "value_max": "", "qualifier": "", "period": "2023-H2",
      "period_max": ""}, ("2023-07-01", "2023-12-31")),
    ({"kind": "count", "value": "25", "value_max": "", "qualifier": "", "period": "", "period_max": ""},
     ("", "")),
    ({"kind": "quantity", "value": "5", "value_max": "", "qualifier": "", "unit": "吨", "period": "2024",
      "period_max": ""}, ("2024-01-01", "2024-12-31")),
])
def test_rows_get_the_days_of_their_date_or_period(row, expected):
    d = derived(row, {})
    assert (d["date_from"], d["date_to"]) == expected


def test_org_rows_have_no_interval():
    assert derived({"kind": "org", "value": "兰州大学", "value_max": "", "qualifier": ""}, {}) == {}


@pytest.mark.parametrize("phrase,expected", [
    ("截至2023年底", ("", "2023-12-31")),
    ("2024年前三季度", ("2024-01-01", "2024-09-30")),
    ("2023年下半年", ("2023-07-01", "2023-12-31")),
    ("2018年以来", ("2018-01-01", "")),
    ("2016年到2020年", ("2016-01-01", "2020-12-31")),
    ("10月25日", ("", "")),
])
def test_pipeline_fills_the_columns_of_date_rows(phrase, expected):
    rows = [r for r in process_text("t", f"标题\n{phrase}，全市各项工作稳步推进。", rules()).rows
            if r["kind"] == "date"]
    assert [(r["date_from"], r["date_to"]) for r in rows] == [expected]
