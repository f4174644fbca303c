"""Shared test helpers: the loaded rules, the corpus, a readable row diff."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipeline.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"          # the golden files' articles (never the user's corpus/)
GOLDEN = ROOT / "tests" / "golden"
RULES = ROOT / "rules"


@lru_cache(maxsize=1)
def rules():
    return load_rules()


def corpus_articles() -> list[Path]:
    return sorted(CORPUS.rglob("*.txt"))


def append(path: Path, text: str) -> int:
    """Append text to a rules file (created if missing); return the 1-based line where it starts."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    path.write_text(old + text, encoding="utf-8")
    return old.count("\n") + 1
