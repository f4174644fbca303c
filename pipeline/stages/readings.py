"""Strip inline pinyin readings: `創(chuàng)新` -> `創新`.

Mirror sites add a reading in parentheses after some characters. A
parenthesised group is a reading only when it is one pinyin syllable right
after a CJK character AND one of that character's real readings (pypinyin
knows them), so real parentheses stay: `網易(蘭州)`, `人才(團隊)`, `(第6號)`,
and so does `(AI)` or `(Ma)` after a character they do not belong to.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

from .align import Edit

# A candidate reading: ASCII or full-width parentheses holding 1-7 lowercase
# pinyin letters (tone-marked vowels included) right after a Han character.
# Capitals are excluded on purpose: readings are lowercase, acronyms are not.
READING_CANDIDATE = regex.compile(
    r"(?<=\p{Han})[(（](?P<syl>[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêḿńňǹ\u0300-\u036f]{1,7})[)）]")


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    """pypinyin's character table (code point -> readings), pypinyin.pinyin_dict.pinyin_dict."""
    try:
        return _standalone_pinyin_dict().pinyin_dict
    except Exception:           # another layout of the package: the ordinary import
        from pypinyin.pinyin_dict import pinyin_dict
        return pinyin_dict


def _standalone_pinyin_dict():
    """The module pypinyin/pinyin_dict.py run on its own (it needs nothing of its package), under a
    private name: importing it as pypinyin.pinyin_dict runs the package's __init__ first, which
    loads the phrase dictionary we never use (0.13 s a process instead of 0.02 s)."""
    import importlib.util
    import os

    package = importlib.util.find_spec("pypinyin")      # found, not run
    path = os.path.join(package.submodule_search_locations[0], "pinyin_dict.py")
    spec = importlib.util.spec_from_file_location("_pipeline_pinyin_dict", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=4096)
def readings_of(char: str) -> frozenset[str]:
    """All readings of a character, tone-marked, NFC (empty when unknown)."""
    table = _pinyin_table()
    found = table.get(ord(char))
    if found is None:
        # Traditional variants pypinyin lacks: try the Simplified form
        from .convert import t2s
        simple = t2s(char)
        found = table.get(ord(simple)) if simple != char else None
    if not found:
        return frozenset()
    return frozenset(unicodedata.normalize("NFC", r) for r in found.split(","))


def find_readings(text: str) -> list[Edit]:
    """Edits deleting every parenthesised pinyin reading of the character before it."""
    edits = []
    for m in READING_CANDIDATE.finditer(text):
        syl = unicodedata.normalize("NFC", m.group("syl"))
        if syl in readings_of(text[m.start() - 1]):
            edits.append(Edit(m.start(), m.end(), "", "strip_readings", f"reading {m.group(0)}"))
    return edits
