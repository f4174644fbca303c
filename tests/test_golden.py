"""Golden tests: every article of tests/data/corpus against its checked golden file (exactly),
and the offsets invariant for every row of every article."""
from __future__ import annotations

import pytest

from pipeline.article import process_file
from pipeline.stages.clean import clean
from pipeline.commands.evaluate import load_golden, score, show
from pipeline.commands.golden import write_golden
from pipeline.outputs import KINDS
from pipeline.stages.read import read_file
from tests.helpers import CORPUS, GOLDEN, corpus_articles, rules

ARTICLES = [p.relative_to(CORPUS).with_suffix("").as_posix() for p in corpus_articles()]
GOLD = load_golden(GOLDEN)


@pytest.fixture(scope="module", params=ARTICLES)
def result(request):
    aid = request.param
    return aid, process_file(aid, CORPUS / f"{aid}.txt", rules())


def test_every_corpus_article_has_a_golden_file():
    assert sorted(GOLD) == ARTICLES


def test_golden(result, update_golden):
    """Every golden row produced with its qualifier or category, and no other row (F1 1.000 for
    every kind, as `eval` and the README report). `pytest --update-golden` rewrites the file."""
    aid, res = result
    assert res.status == "ok", res.error
    if update_golden:
        changed = write_golden(GOLDEN, aid, res.rows)
        pytest.skip(f"golden file of {aid} rewritten (--update-golden), {len(changed)} line(s) of changes: "
                    f"review `git diff tests/golden`")
    s = score({aid: GOLD[aid]}, {aid: res.rows})
    if s.missed or s.unexpected or s.wrong_attr:
        lines = [f"{aid}: " + ", ".join(f"{kind} F1 {s.prf(kind)[2]:.3f}" for kind in KINDS),
                 "missing (golden, not produced):"]
        lines += [f"  - {show(g)}" for _, g in s.missed]
        lines += ["unexpected (produced, not golden):"] + [f"  + {show(r)}" for _, r in s.unexpected]
        lines += ["wrong qualifier/category:"] + [f"  ~ want {show(g)} / got {show(p)}" for _, g, p in s.wrong_attr]
        pytest.fail("\n".join(lines), pytrace=False)


def test_offsets(result):
    """clean[start:end] == text; the raw span, cleaned and converted, gives the same text.

    A repaired span (GBK shift damage) maps back as a whole: a mention that
    starts inside one covers the whole damaged raw span, whose repair also
    yields the characters before the mention; there the text must end the
    cleaned piece.
    """
    aid, res = result
    raw = read_file(CORPUS / f"{aid}.txt").text
    empty = rules().boilerplate.__class__(0, [], [])
    repaired = [e for e in clean(raw, rules().boilerplate).edits if e[0] == "repair_gbk_shift"]
    assert len(repaired) == sum("repaired" in w for w in res.warnings)
    for row in res.rows:
        assert res.clean_text[row["start"]:row["end"]] == row["text"], row
        piece = raw[row["raw_start"]:row["raw_end"]]
        got = clean(piece, empty).text
        if got != row["text"]:
            assert got.endswith(row["text"]) and "?" in piece, (row, piece, got)


# The context of the matched figures on the whole corpus, per field: the share right must not fall
# below these floors (measured; raise them as the context rules improve). The goal (issue: context)
# is 0.95 for indicator, entity and period and 0.99 for change; `python -m pipeline eval` lists
# every figure whose context differs from its golden row.
MIN_CONTEXT_RIGHT = {"indicator": 0.95, "entity": 0.90, "period": 0.97, "change": 0.99}


def test_golden_context():
    from pipeline.commands.evaluate import CONTEXT_FIELDS
    predicted = {aid: process_file(aid, CORPUS / f"{aid}.txt", rules()).rows for aid in ARTICLES}
    s = score(GOLD, predicted)
    assert s.figures == sum(g["kind"] not in ("date", "org") for rows in GOLD.values() for g in rows)
    low = {n: round(s.ctx_ok[n] / s.figures, 3) for n in CONTEXT_FIELDS
           if s.ctx_ok[n] / s.figures < MIN_CONTEXT_RIGHT[n]}
    assert not low, f"context right on fewer matched figures than the floor: {low} (floors {MIN_CONTEXT_RIGHT})"
