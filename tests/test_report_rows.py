"""The report reads extractions.csv as lists of cells (report.RowLayout, outputs.iter_cells): every
cell it takes is the one `iter_csv`'s dict of the row holds (`row.get(column, "")`), whatever a
hand edit did to the file: a column removed, one named twice, rows short or long, quoted cells."""
import pytest

from pipeline.commands.report import ROW_COLUMNS, RowLayout, _START
from pipeline.outputs import EXTRACTION_COLUMNS, iter_cells, iter_csv

ROW = ["a1", "amount", "5亿元", "5", "", "亿元", "", "", "投资", "", "2024", "", "", "", "", "", "",
       "3", "6", "3", "6", "投资5亿元。", "amount.number"]


def header_without(column: str) -> list[str]:
    return [c for c in EXTRACTION_COLUMNS if c != column]


@pytest.mark.parametrize("header,rows", [
    (EXTRACTION_COLUMNS, [ROW, ["'=1" if i == 2 else c for i, c in enumerate(ROW)], ["'-5%"] + ROW[1:]]),
    (header_without("unit"), [ROW[:5] + ROW[6:]]),
    (EXTRACTION_COLUMNS[:-1] + ["text"], [ROW, ROW[:-1] + ["''=x"]]),          # `text` twice: the last
    (EXTRACTION_COLUMNS, [ROW[:10], ROW + ["extra", "'=y"], []]),               # short, long, blank
])
def test_cells_are_those_of_the_dict(tmp_path, header, rows):
    path = tmp_path / "extractions.csv"
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    cells = iter_cells(path)
    layout = RowLayout(next(cells))
    for row, as_dict in zip([layout.row(c) for c in cells], iter_csv(path), strict=True):
        assert layout.as_dict(row) == as_dict
        before = [as_dict.get(c, "") for c in ROW_COLUMNS[:_START]]
        after = [as_dict.get(c, "") for c in ROW_COLUMNS[_START + 2:-1]]
        assert list(layout.before(row)) == before and list(layout.after(row)) == after
        assert (row[layout.article], row[layout.kind], row[layout.text]) == \
            tuple(as_dict.get(c, "") for c in ("article", "kind", "text"))
        assert [row[layout.start], row[layout.end]] == [as_dict.get("start", ""), as_dict.get("end", "")]
