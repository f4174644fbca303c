"""`eval INPUT...` scores the articles given, not every golden file."""
from __future__ import annotations

import shutil

from pipeline.commands import cli
from tests.helpers import CORPUS, GOLDEN


def call(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_of_some_articles_scores_only_them(capsys, tmp_path):
    """Two articles given: their rows scored (F1 1.000, nothing missed), the other golden files left out."""
    code, out, _ = call(capsys, "eval", CORPUS / "dev01.txt", CORPUS / "dev02.txt", "--gold", GOLDEN)
    assert code == 0
    assert "2 article(s) scored" in out
    assert "missed (in golden, not produced): 0" in out, out
    gold = sum(1 for a in ("dev01", "dev02") for _ in (GOLDEN / f"{a}.csv").open(encoding="utf-8")) - 2
    assert f"ALL         {gold}  " in out, out


def test_eval_lists_articles_without_a_golden_file(capsys, tmp_path):
    """An article without a golden file is named as not scored; the others are scored."""
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CORPUS / "dev01.txt", d / "dev01.txt")
    (d / "fresh.txt").write_text("标题\n投资5亿元。\n", encoding="utf-8")
    code, out, _ = call(capsys, "eval", d, "--gold", GOLDEN)
    assert code == 0
    assert "not scored, no golden file" in out and "fresh" in out
    assert "1 article(s) scored" in out


def test_eval_without_any_golden_article_is_refused(capsys, tmp_path):
    """No article given has a golden file: exit 2 and one line, not a table of zeros."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "fresh.txt").write_text("标题\n投资5亿元。\n", encoding="utf-8")
    code, out, err = call(capsys, "eval", d, "--gold", GOLDEN)
    assert code == 2 and "none of the 1 article(s) given has a golden file" in err
