"""`pipeline.load`: typed per-kind tables, checked cell by cell against the CSVs they are read from
(a run of the corpus plus a dated article whose title starts like a formula)."""
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipeline import load
from pipeline.outputs import KINDS, CsvReadError, EXTRACTION_COLUMNS, csv_bytes, read_csv
from pipeline.run import run
from pipeline.stages.intervals import interval
from pipeline.tables import (CATEGORY_COLUMNS, DAY_COLUMNS, EXACT, INT_COLUMNS, NOT_FILLED, NUMBER_COLUMNS,
                             TablesError)

from helpers import CORPUS, ROOT, rules

FORMULA_TITLE = '=HYPERLINK("http://example.invalid")新区快讯'
DATED = (f"{FORMULA_TITLE}\n新华社兰州2024年4月16日电 2024年前三季度，兰州新区完成固定资产投资126.5亿元，"
         f"同比增长9.6%，新增装机50兆瓦。\n")


def run_outputs(folder: Path) -> Path:
    """Run the corpus and the dated article into folder/outputs; return it."""
    extra = folder / "extra"
    extra.mkdir()
    (extra / "dated.txt").write_text(DATED, encoding="utf-8")
    out = folder / "outputs"
    run([CORPUS, extra], out, rules(), n_jobs=1, progress=False, cache=False)
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    return run_outputs(tmp_path_factory.mktemp("tables"))


@pytest.fixture(scope="module")
def tables(outputs):
    return load(outputs)


def cell(v) -> str:
    """A frame's cell as the CSV wrote it (missing -> empty)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return str(v)


def test_one_frame_per_kind_holds_every_row_of_it(outputs, tables):
    csv_rows = read_csv(outputs / "extractions.csv")
    for kind in KINDS:
        assert len(getattr(tables, kind)) == sum(r["kind"] == kind for r in csv_rows) > 0, kind
    assert len(tables.articles) == len(read_csv(outputs / "articles.csv"))


def test_cells_equal_the_csv(outputs, tables):
    """Every cell of every frame is its CSV cell, typed: same rows in the same order."""
    csv_rows = read_csv(outputs / "extractions.csv")
    articles = {r["article"]: r for r in read_csv(outputs / "articles.csv")}
    for kind in KINDS:
        df = getattr(tables, kind)
        rows = [r for r in csv_rows if r["kind"] == kind]
        assert len(df) == len(rows)
        assert list(df.columns[:3]) == ["article", "text", "value"]
        for (_, got), want in zip(df.iterrows(), rows):
            for c in df.columns:
                if c.endswith(EXACT):
                    assert got[c] == (Decimal(want[c[:-len(EXACT)]]) if want[c[:-len(EXACT)]] else None), c
                elif c in ("title", "source"):
                    assert cell(got[c]) == articles[want["article"]][c], c
                elif c == "article_date":
                    assert cell(got[c]) == interval(articles[want["article"]]["date"])[0], c
                elif c in NUMBER_COLUMNS and kind not in ("date", "org"):
                    assert (math.isnan(got[c]) and not want[c]) or got[c] == float(want[c]), c
                else:
                    assert cell(got[c]) == want[c], (kind, c, got[c], want[c])


def test_columns_a_kind_never_fills_are_left_out(tables):
    for kind in KINDS:
        df = getattr(tables, kind)
        assert "kind" not in df.columns
        assert not set(NOT_FILLED[kind]) & set(df.columns), kind
        assert list(df.columns[-3:]) == ["title", "source", "article_date"]


def test_types(tables):
    """Numbers float64 with a Decimal twin, days datetime64, vocabularies categorical, offsets Int64."""
    for kind in KINDS:
        df = getattr(tables, kind)
        for c in df.columns:
            if c in DAY_COLUMNS:
                assert pd.api.types.is_datetime64_any_dtype(df[c]), (kind, c)
            elif c in INT_COLUMNS:
                assert str(df[c].dtype) == "Int64", (kind, c)
            elif c in CATEGORY_COLUMNS:
                assert isinstance(df[c].dtype, pd.CategoricalDtype), (kind, c)
            elif c.endswith(EXACT):
                assert df[c].dtype == object and all(v is None or isinstance(v, Decimal) for v in df[c])
            elif c in NUMBER_COLUMNS and kind not in ("date", "org"):
                assert df[c].dtype == "float64", (kind, c)
            else:
                assert pd.api.types.is_string_dtype(df[c]), (kind, c, df[c].dtype)
    a = tables.articles
    assert pd.api.types.is_datetime64_any_dtype(a["published"]) and str(a["chars"].dtype) == "Int64"
    assert isinstance(a["status"].dtype, pd.CategoricalDtype)


def test_exact_numbers_sum_exactly(tables):
    """The Decimal twin sums without float noise; the float column is the same numbers."""
    a = tables.amount
    exact = sum(a["value" + EXACT], Decimal(0))
    assert exact == sum(Decimal(v) for v in a["value" + EXACT].astype(str))
    assert math.isclose(a["value"].sum(), float(exact), rel_tol=1e-12)


def test_the_dated_article(tables):
    """Its date is joined as a datetime, its quarter range has days, spreadsheet quoting is undone."""
    art = tables.articles.set_index("article").loc["dated"]
    assert art["title"] == FORMULA_TITLE and art["date"] == "2024-04-16"
    assert art["date_from"] == art["date_to"] == pd.Timestamp("2024-04-16")
    d = tables.date[tables.date.article == "dated"]
    assert list(d.value) == ["2024-Q1"] and list(d.value_max) == ["2024-Q3"]
    assert list(d.date_from) == [pd.Timestamp("2024-01-01")] and list(d.date_to) == [pd.Timestamp("2024-09-30")]
    amt = tables.amount[tables.amount.article == "dated"].iloc[0]
    assert amt["value_exact"] == Decimal("12650000000") and amt["unit"] == "CNY"
    assert amt["title"] == FORMULA_TITLE and amt["article_date"] == pd.Timestamp("2024-04-16")
    q = tables.quantity[tables.quantity.article == "dated"].iloc[0]
    assert (q["value"], q["value_base"], q["unit_base"]) == (50.0, 50000.0, "kW")


def test_every_quantity_of_the_corpus_has_its_base(tables):
    q = tables.quantity
    assert len(q) > 0 and q["value_base"].notna().all() and q["unit_base"].notna().all()


def test_missing_outputs_say_what_to_run(tmp_path):
    with pytest.raises(TablesError, match="extractions.csv not found: run `python -m pipeline run"):
        load(tmp_path)


def write(folder: Path, extractions: list[dict], articles: list[dict] | None = None) -> Path:
    from pipeline.outputs import ARTICLE_COLUMNS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "extractions.csv").write_bytes(csv_bytes(EXTRACTION_COLUMNS, extractions))
    (folder / "articles.csv").write_bytes(csv_bytes(ARTICLE_COLUMNS, articles or [
        {"article": "a", "title": "t", "status": "ok", "chars": 10}]))
    return folder


def test_a_cell_that_is_no_number_names_file_row_and_column(tmp_path):
    out = write(tmp_path, [{"article": "a", "kind": "amount", "value": "5", "start": 0, "end": 2},
                           {"article": "a", "kind": "amount", "value": "five", "start": 3, "end": 5}])
    with pytest.raises(TablesError, match=r"extractions.csv: row 3, column value: 'five' is not a number"):
        load(out)


def test_a_csv_resaved_as_gbk_is_named(tmp_path):
    out = write(tmp_path, [{"article": "a", "kind": "org", "value": "兰州大学", "text": "兰州大学",
                            "start": 0, "end": 4}])
    p = out / "extractions.csv"
    p.write_bytes(p.read_bytes().decode("utf-8-sig").encode("gbk"))
    with pytest.raises(CsvReadError, match="extractions.csv is not UTF-8"):
        load(out)


def test_an_older_file_without_the_new_columns_loads(tmp_path):
    """Outputs of a run before date_from/value_base existed: the frames have the columns the file has."""
    cols = [c for c in EXTRACTION_COLUMNS if c not in ("value_base", "unit_base", "date_from", "date_to")]
    out = tmp_path
    (out / "extractions.csv").write_bytes(csv_bytes(cols, [{"article": "a", "kind": "quantity", "value": "5",
                                                           "unit": "吨", "start": 0, "end": 2}]))
    write(tmp_path / "x", [])
    (out / "articles.csv").write_bytes((tmp_path / "x" / "articles.csv").read_bytes())
    t = load(out)
    assert list(t.quantity.value) == [5.0] and "value_base" not in t.quantity.columns


def test_import_pipeline_does_not_import_pandas():
    code = ("import sys, pipeline, pipeline.article, pipeline.commands.cli; "
            "assert 'pandas' not in sys.modules, 'pandas imported'; "
            "pipeline.load; assert 'pandas' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_rows_of_no_known_kind_are_left_out_with_a_warning(tmp_path):
    out = write(tmp_path, [{"article": "a", "kind": "org", "text": "兰州大学", "value": "兰州大学", "start": 0, "end": 4},
                           {"article": "a", "kind": "orgs", "text": "x", "value": "x", "start": 5, "end": 6}])
    with pytest.warns(UserWarning, match=r"rows of no known kind left out: \{'orgs': 1\}"):
        t = load(out)
    assert list(t.org.value) == ["兰州大学"]


def test_published_is_a_date_time(tmp_path):
    arts = [{"article": "a", "title": "t", "status": "ok", "published": "2024-03-21 16:05"},
            {"article": "b", "title": "u", "status": "ok", "published": ""}]
    t = load(write(tmp_path, [], arts))
    assert t.articles.published[0] == pd.Timestamp("2024-03-21 16:05") and t.articles.published.isna()[1]


def test_a_published_cell_of_another_shape_is_named(tmp_path):
    arts = [{"article": "a", "title": "t", "status": "ok", "published": "21.03.2024"}]
    with pytest.warns(UserWarning, match=r"articles.csv: row 2, column published: '21.03.2024' is not an ISO"):
        t = load(write(tmp_path, [], arts))
    assert t.articles.published.isna().all()
