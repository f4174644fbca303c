"""Leftover numbers: every number of a cleaned text that no row covers.

The quickest way to find what the rules miss in a new article is to look at
the numbers no rule took (`1.4倍`, `千分之八`, `八成`, `15至30个基点`). A
number is found with the project's own number grammar, the
`{LEFTOVER_NUMBER}` fragment of `rules/fragments.toml` (built on `{NUM}` and
`{SCALE}`), never a regex of its own; it is a leftover when it overlaps no
row. The numbers SPEC leaves out on purpose (ages, durations, rankings,
multiples...) are listed too: the user decides whether a shape is worth a rule.

Each leftover carries the word that follows it (`{LEFTOVER_NEXT}`: a unit,
measure word or currency of the lists, else the next character), which
`stats` counts them by, and its sentence. They go to `leftovers.csv`
(written by the report step, `report.write_report`), to the review page
(marked in a neutral style) and to `stats`.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import regex

from ..article import sentence_ends, sentence_of
from ..rules import Rules

# What `stats` shows of the table: the most frequent words, then a count of the rest.
STATS_WORDS = 40


@dataclass(frozen=True)
class Leftover:
    """A number no row covers: its span in the cleaned text, its text and the word after it."""
    start: int
    end: int
    text: str
    next_word: str


@lru_cache(maxsize=8)
def _patterns(number: str, following: str) -> tuple:
    return regex.compile(number), regex.compile(following)


def patterns(rules: Rules) -> tuple:
    """The compiled (number, next word) fragments of the loaded rules."""
    return _patterns(rules.fragments["LEFTOVER_NUMBER"], rules.fragments["LEFTOVER_NEXT"])


def find(text: str, spans, rules: Rules) -> list[Leftover]:
    """The numbers of text that overlap none of spans ((start, end) of the rows), in order."""
    number, following = patterns(rules)
    taken = sorted((int(s), int(e)) for s, e in spans if e > s)
    starts = [s for s, _ in taken]
    reach = []                      # reach[i]: the furthest end among taken[0..i]
    for _, e in taken:
        reach.append(max(e, reach[-1]) if reach else e)
    out = []
    for m in number.finditer(text):
        s, e = m.span()
        i = bisect_left(starts, e) - 1      # the rows starting before the number ends
        if s == e or (i >= 0 and reach[i] > s):
            continue
        nxt = following.match(text, e)
        out.append(Leftover(s, e, m.group(0), nxt.group(0).strip() if nxt else ""))
    return out


def csv_rows(article: str, text: str, found: list[Leftover], settings: dict) -> list[dict]:
    """Rows of leftovers.csv (outputs.LEFTOVER_COLUMNS) for one article (settings: rules.settings,
    the sentence limits)."""
    ends = sentence_ends(text)
    cut = (settings["max_sentence"], settings["sentence_context"])
    return [{"article": article, "text": x.text, "next_word": x.next_word, "start": x.start, "end": x.end,
             "sentence": sentence_of(text, x.start, x.end, ends, *cut)} for x in found]


@dataclass
class WordCounts:
    """Leftovers over many articles, counted by the word that follows them, with a first example each."""
    counts: Counter
    example: dict
    articles: int = 0

    @classmethod
    def empty(cls) -> "WordCounts":
        return cls(Counter(), {})

    def add(self, article: str, found: list[Leftover]) -> None:
        self.articles += 1
        for x in found:
            self.counts[x.next_word] += 1
            self.example.setdefault(x.next_word, f"{x.text}{x.next_word} ({article})")


def format_table(w: WordCounts) -> str:
    """The leftover table of `stats`: how many numbers no rule took, by the word after them."""
    total = sum(w.counts.values())
    out = [f"leftover numbers (no row covers them) over {w.articles} articles: {total}, by the word that follows",
           f"  {'word':10} {'n':>5}  first seen"]
    for word, n in w.counts.most_common(STATS_WORDS):
        out.append(f"  {word or '(line end)':10} {n:5}  {w.example[word]}")
    rest = w.counts.most_common()[STATS_WORDS:]
    if rest:
        out.append(f"  … {len(rest)} more words, {sum(n for _, n in rest)} numbers (all in leftovers.csv of a run)")
    return "\n".join(out)
