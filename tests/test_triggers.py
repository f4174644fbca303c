"""A rule's `trigger` is a speed-up only: with or without triggers the rows are the same."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from pipeline.article import process_text
from pipeline.stages.read import read_file
from tests.helpers import corpus_articles, rules

EXTERNAL = Path(os.environ.get("EXTERNAL_DIR") or Path(__file__).resolve().parent / "data" / "external")


def without_triggers():
    r = copy.copy(rules())
    r.rules = [copy.copy(rule) for rule in r.rules]
    for rule in r.rules:
        rule.trigger = None
    return r


def texts() -> list[tuple[str, str]]:
    out = [(p.stem, read_file(p).text) for p in corpus_articles()]
    for name in ("amount.jsonl", "percent.jsonl", "date.jsonl"):
        path = EXTERNAL / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                case = json.loads(line)
                out.append((case["id"], "标题\n" + case["text"]))
    return out


def rows(aid: str, text: str, r) -> list[tuple]:
    return [tuple(row.values()) for row in process_text(aid, text, r).rows]


def test_triggers_change_no_row():
    plain = without_triggers()
    cases = texts()
    assert any(rule.trigger is not None for rule in rules().rules)
    differ = [aid for aid, text in cases if rows(aid, text, rules()) != rows(aid, text, plain)]
    assert not differ, f"rows differ with and without triggers in {differ[:10]}"
