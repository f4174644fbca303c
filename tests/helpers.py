"""Shared test helpers: the loaded rules, the corpus, a readable row diff."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipeline.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"          # the golden files' articles (never the user's corpus/)
GOLDEN = ROOT / "tests" / "golden"


@lru_cache(maxsize=1)
def rules():
    return load_rules()


def corpus_articles() -> list[Path]:
    return sorted(CORPUS.rglob("*.txt"))
