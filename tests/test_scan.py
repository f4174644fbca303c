"""A plain alternation of words is scanned by `re` (extract.scan): the same matches as `regex`.

The rules' patterns are compiled by `regex` (time limits, Unicode classes). A pattern that is
only words, `|` and `(?:…)` groups cannot backtrack; extract.plain_words compiles it with the
standard library's faster `re`. That is a speed-up only: the spans must be those of `regex`.
"""
from __future__ import annotations

import random

import regex

from pipeline.stages.clean import clean
from pipeline.stages.extract import plain_words, scan
from pipeline.stages.read import read_file

from tests.helpers import corpus_articles, rules


def _plain(p: str):
    return plain_words(p, regex.compile(p).flags)


def test_only_plain_alternations_of_words_are_plain():
    for p in ("a|b", "(?:a|b)", "有限公司|公司", "ab(?:c|d)e", "kWh|km²|T/D"):
        assert _plain(p) is not None, p
    for p in (r"a\.b", "(?<=a)b", "a|", "(?:)", "[ab]", "a+", "(?P<x>a)", "a.b", "^a", "a{2}", r"\d"):
        assert _plain(p) is None, p
    assert plain_words("a|b", regex.compile("a|b", regex.IGNORECASE).flags) is None


def _patterns():
    """Every rule pattern and trigger of the loaded rules that is a plain alternation of words."""
    out = []
    for r in rules().rules:
        for p in (r.regex, r.trigger):
            if p is not None and plain_words(p.pattern, p.flags) is not None:
                out.append(p)
    return out


def test_the_suffix_and_name_rules_are_plain():
    ids = {r.id for r in rules().rules if plain_words(r.regex.pattern, r.regex.flags) is not None}
    assert {"org.named", "org.gazetteer"} <= ids


def test_same_matches_as_regex_on_the_corpus_and_on_word_soup():
    texts = [clean(read_file(p).text, rules().boilerplate).text for p in corpus_articles()]
    rnd = random.Random(5)
    for p in _patterns():
        words = regex.sub(r"\(\?:|\)", "", p.pattern).split("|")
        soup = "".join(rnd.choice(words + list("的和、，。 a1")) for _ in range(3000))
        for text in texts + [soup]:
            for pos, endpos in ((0, len(text)), (len(text) // 3, len(text) // 2)):
                got = [m.span() for m in scan(p, text, pos, endpos, 5.0)]
                assert got == [m.span() for m in p.finditer(text, pos, endpos)], p.pattern[:40]
