"""The README's pandas session runs as written: on a run of the corpus (its results checked against
the CSV), and on outputs whose context columns are filled (its results checked against numbers)."""
import math
import re
from decimal import Decimal

from pipeline.article import derived
from pipeline.outputs import ARTICLE_COLUMNS, EXTRACTION_COLUMNS, csv_bytes, read_csv

from helpers import ROOT
from test_tables import run_outputs

SECTION = "## Analysing the results: pandas and Excel"


def session_code() -> str:
    """The first python block of the README's section on pandas, as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(SECTION):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_session(folder, monkeypatch) -> dict:
    """Run the session in folder (which holds outputs/); its variables."""
    monkeypatch.chdir(folder)
    names: dict = {}
    exec(compile(session_code(), "README.md", "exec"), names)
    return names


def expected(rows: list[dict]) -> tuple[dict, list]:
    """What the session computes, straight from the CSV rows: investment per (entity, year) in 亿元,
    and the signed growth rates of 地区生产总值 as (entity, period, rate)."""
    investment: dict = {}
    for r in rows:
        if r["kind"] == "amount" and r["unit"] == "CNY" and "投资" in r["indicator"] and r["entity"] \
                and r["date_from"]:
            key = (r["entity"], int(r["date_from"][:4]))
            investment[key] = investment.get(key, Decimal(0)) + Decimal(r["value"]) / Decimal(10**8)
    growth = [(r["entity"] or None, r["period"] or None, float(r["value"]) * (1 if r["change"] == "up" else -1))
              for r in rows if r["kind"] == "percent" and r["indicator"] == "地区生产总值" and r["change"]]
    return investment, growth


def results(names: dict) -> tuple[dict, list]:
    inv = {(e, int(y)): v for (e, y), v in names["investment"].items()}
    g = names["growth"][["entity", "period", "rate"]]
    growth = [(e if isinstance(e, str) else None, p if isinstance(p, str) else None, r)
              for e, p, r in g.itertuples(index=False)]
    return inv, growth


def assert_same(got: tuple[dict, list], want: tuple[dict, list]) -> None:
    assert got[0].keys() == want[0].keys()
    for k, v in want[0].items():
        assert math.isclose(got[0][k], float(v), rel_tol=1e-12), k
    assert got[1] == want[1]


def test_session_on_the_corpus(tmp_path, monkeypatch, capsys):
    out = run_outputs(tmp_path)
    names = run_session(tmp_path, monkeypatch)
    assert_same(results(names), expected(read_csv(out / "extractions.csv")))
    assert "investment" in names and "growth" in names and capsys.readouterr().out


def figure(kind, value, unit, indicator, entity, period, period_max="", change="", start=0) -> dict:
    row = {"article": "a", "kind": kind, "text": value, "value": value, "unit": unit, "indicator": indicator,
           "entity": entity, "period": period, "period_max": period_max, "change": change, "start": start,
           "end": start + 1, "value_max": "", "qualifier": ""}
    row.update(derived(row, {}))
    return row


def test_session_on_filled_context(tmp_path, monkeypatch):
    """Outputs whose figures carry indicator, entity and period: the session's numbers."""
    rows = [
        figure("amount", "66800000000", "CNY", "固定资产投资", "兰州新区", "2023", start=1),
        figure("amount", "12600000000", "CNY", "总投资", "兰州新区", "2023", start=2),
        figure("amount", "15050000000", "CNY", "固定资产投资", "兰州新区", "2024-Q1", "2024-Q3", start=3),
        figure("amount", "1230000000", "CNY", "项目投资", "白银市", "2023-H2", start=4),
        figure("amount", "50000000", "USD", "外商投资", "白银市", "2023", start=5),          # not yuan
        figure("amount", "265873000000", "CNY", "地区生产总值", "兰州新区", "2023", start=6),  # no investment
        figure("amount", "900000000", "CNY", "投资", "", "2023", start=7),                    # whose: unknown
        figure("percent", "6.1", "%", "地区生产总值", "兰州新区", "2023", change="up", start=8),
        figure("percent", "1.2", "%", "地区生产总值", "兰州新区", "2024-Q1", "2024-Q3", change="down", start=9),
        figure("percent", "60", "%", "地区生产总值", "兰州新区", "2024", start=10),            # a share
        figure("percent", "9.6", "%", "一般公共预算收入", "兰州新区", "2023", change="up", start=11),
    ]
    out = tmp_path / "outputs"
    out.mkdir()
    (out / "extractions.csv").write_bytes(csv_bytes(EXTRACTION_COLUMNS, rows))
    (out / "articles.csv").write_bytes(csv_bytes(ARTICLE_COLUMNS, [
        {"article": "a", "title": "兰州新区经济运行情况", "source": "兰州日报", "date": "2024-10-20", "status": "ok"}]))
    got = results(run_session(tmp_path, monkeypatch))
    assert got[0].keys() == {("兰州新区", 2023), ("兰州新区", 2024), ("白银市", 2023)}
    assert math.isclose(got[0][("兰州新区", 2023)], 794)
    assert math.isclose(got[0][("兰州新区", 2024)], 150.5)
    assert math.isclose(got[0][("白银市", 2023)], 12.3)
    assert got[1] == [("兰州新区", "2023", 6.1), ("兰州新区", "2024-Q1", -1.2)]
    assert_same(got, expected(rows))
