"""`export --xlsx`: the workbook read back: one sheet per kind plus articles, number cells, date cells,
frozen header, filters, widths, spreadsheet-safe text; a clear error without openpyxl."""
import datetime
import sys
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from pipeline import load
from pipeline.commands import cli, export
from pipeline.outputs import neutralise
from pipeline.tables import DAY_COLUMNS, EXACT

from test_tables import FORMULA_TITLE, run_outputs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    return run_outputs(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def workbook(outputs):
    path = outputs / "facts.xlsx"
    assert cli.main(["export", "--out", str(outputs), "--xlsx", str(path)]) == 0
    return openpyxl.load_workbook(path)


def frames(outputs) -> dict[str, pd.DataFrame]:
    t = load(outputs)
    return {name: getattr(t, name) for name in export.SHEETS}


def test_one_sheet_per_kind_and_articles(workbook):
    assert workbook.sheetnames == ["amount", "count", "percent", "quantity", "date", "org", "articles"]


def test_header_frozen_filters_on_widths_readable(workbook, outputs):
    for name, df in frames(outputs).items():
        ws = workbook[name]
        header = [c.value for c in ws[1]]
        assert header == [c for c in df.columns if not c.endswith(EXACT)], name
        assert ws.max_row == len(df) + 1, name
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        for j, c in enumerate(header, start=1):
            width = ws.column_dimensions[ws.cell(1, j).column_letter].width
            assert len(c) < width <= export.MAX_WIDTH, (name, c, width)
    sentence = [c.value for c in workbook["amount"][1]].index("sentence") + 1
    assert workbook["amount"].column_dimensions[workbook["amount"].cell(1, sentence).column_letter].width == \
        export.MAX_WIDTH


def test_cells_are_typed_and_safe(workbook, outputs):
    """Numbers are number cells of the exact value, days date cells, text as in the CSVs."""
    seen = {"n": 0, "d": 0, "s": 0}
    for name, df in frames(outputs).items():
        ws = workbook[name]
        header = [c.value for c in ws[1]]
        for i, (_, row) in enumerate(df.iterrows(), start=2):
            for j, c in enumerate(header, start=1):
                got, want = ws.cell(i, j), row[c + EXACT] if c + EXACT in df.columns else row[c]
                if want is None or want is pd.NaT or (not isinstance(want, (str, Decimal)) and pd.isna(want)):
                    assert got.value is None, (name, c)
                elif isinstance(want, Decimal):
                    assert got.data_type == "n" and Decimal(str(got.value)) == want, (name, c)
                    assert got.number_format.startswith("#,##0")
                    seen["n"] += 1
                elif c in DAY_COLUMNS:
                    assert isinstance(got.value, datetime.datetime) and got.value == want.to_pydatetime()
                    assert got.number_format == export.DAY_FORMAT
                    seen["d"] += 1
                elif isinstance(want, str):
                    assert got.data_type == "s" and got.value == neutralise(want), (name, c)
                    seen["s"] += 1
                else:
                    assert got.value == want, (name, c)
    assert min(seen.values()) > 100


def test_a_formula_title_stays_text(workbook):
    ws = workbook["articles"]
    titles = [c.value for c in ws["B"]]
    assert "'" + FORMULA_TITLE in titles
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_pandas_reads_the_numbers_back(outputs, workbook):
    sheets = pd.read_excel(outputs / "facts.xlsx", sheet_name=None)
    t = load(outputs)
    assert list(sheets["amount"]["value"]) == list(t.amount["value"])
    assert list(sheets["quantity"]["value_base"]) == list(t.quantity["value_base"])
    assert list(sheets["count"]["start"]) == list(t.count["start"])


def test_big_numbers_show_all_their_digits():
    """Thousands separators and every decimal: Excel's General format would show 1.265E+10."""
    assert export._number_format(Decimal("12650000000")) == "#,##0"
    assert export._number_format(Decimal("9.6")) == "#,##0.0"
    assert export._number_format(Decimal("0.0000005")) == "#,##0.0000000"


def test_cells_a_workbook_cannot_hold_are_mended():
    df = pd.DataFrame({"text": ["bell\x07here", "x" * 40000, "=1+1", "-12.6"], "value": [1.0, 2.0, 3.0, 4.0],
                       "value_exact": [Decimal(1), Decimal(2), Decimal(3), Decimal("4")]})
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    shown, numbers = export.sheet_frame(df, ILLEGAL_CHARACTERS_RE)
    assert numbers == ["value"] and list(shown.columns) == ["text", "value"]
    assert list(shown.value) == [Decimal(1), Decimal(2), Decimal(3), Decimal(4)]
    assert shown.text[0] == "bell\ufffdhere"
    assert len(shown.text[1]) == export.MAX_CELL and shown.text[1].endswith("…")
    assert list(shown.text[2:]) == ["'=1+1", "-12.6"]


def test_without_openpyxl_the_error_says_how_to_install(outputs, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    path = tmp_path / "facts.xlsx"
    assert cli.main(["export", "--out", str(outputs), "--xlsx", str(path)]) == 2
    assert "pip install -e '.[xlsx]'" in capsys.readouterr().err
    assert not path.exists()


def test_a_failed_export_keeps_the_earlier_workbook(outputs, monkeypatch, capsys, tmp_path):
    path = tmp_path / "facts.xlsx"
    assert cli.main(["export", "--out", str(outputs), "--xlsx", str(path)]) == 0
    before = path.read_bytes()
    monkeypatch.setattr(export, "MAX_ROWS", 5)
    assert cli.main(["export", "--out", str(outputs), "--xlsx", str(path)]) == 2
    assert "Excel holds 5 rows" in capsys.readouterr().err
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["facts.xlsx"]


def test_missing_csvs_say_what_to_run(tmp_path, capsys):
    assert cli.main(["export", "--out", str(tmp_path), "--xlsx", str(tmp_path / "f.xlsx")]) == 2
    assert "extractions.csv not found: run `python -m pipeline run" in capsys.readouterr().err


def test_a_kind_without_rows_is_a_sheet_with_its_header(tmp_path):
    from test_tables import write
    out = write(tmp_path, [{"article": "a", "kind": "org", "text": "兰州大学", "value": "兰州大学",
                            "category": "university", "start": 0, "end": 4}])
    wb = openpyxl.load_workbook(export.write_xlsx(out, out / "facts.xlsx"))
    assert wb["amount"].max_row == 1 and [c.value for c in wb["amount"][1]][:3] == ["article", "text", "value"]
    assert [c.value for c in wb["org"][2]][:4] == ["a", "兰州大学", "兰州大学", "university"]
