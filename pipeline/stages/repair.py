"""Repair "one byte out of step" GBK damage in Chinese news text.

A GBK byte stream read one byte out of step loses a lead byte (shown as ``?``
or U+FFFD), decodes the following double-byte characters from the wrong byte
pairs, and gets back in step at an ASCII byte (the trail byte, 0x40-0x7E, of a
GBK/3-4 character).  Afterwards full-width punctuation was turned into ASCII.
We undo both steps for candidate spans and keep a repair only if the result
reads as Chinese: its characters are common and sit inside dictionary words.
"""
from __future__ import annotations

import functools
import math
import os
import re

from .align import Edit

FIXER = "repair_gbk_shift"
# Full-width punctuation that was turned into ASCII after the damage.
ASCIIFIED = {"！": "!", "，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "？": "?", "％": "%"}
FULLWIDTH = {a: f for f, a in ASCIIFIED.items()}
# Punctuation the lost character most likely was (GBK rows A1/A3), best first;
# the first COMMON_PUNCT of them yield only to a frequent word, the rest to any word.
PUNCT = "，。、“”：；（）《》「」？！…—·‘’『』【】〈〉％～"
COMMON_PUNCT = 12
MAX_RUN = 8            # longest mis-paired run we try; real runs are short
CONTEXT = (2, 3)       # characters of context left/right used to find words
MIN_CHAR_LOGFREQ = 5.0  # a rarer character makes a repair implausible
MIN_WORD_FREQ = 5      # jieba words seen fewer times are mostly noise
STRONG_WORD = 7.0      # log frequency of a word that beats the punctuation prior
MIN_WORD_SHARE = 2 / 3  # share of repaired ideographs that must be inside words
COMMON_CHAR = 11.5     # log frequency of a character common enough to stand alone

# CANDIDATE_RE finds the only shape the damage can have, so the costly check
# runs on few spans: the lost lead byte (``?``/U+FFFD), 1..MAX_RUN mis-paired
# double-byte characters (ASCII only where full-width punctuation was
# ASCII-fied), then the re-synchronising trail byte 0x40-0x7E, which must be
# followed by Chinese text (an ideograph or CJK punctuation).
CANDIDATE_RE = re.compile(
    rf"[?\uFFFD]((?:[^\x00-\x7F\uFFFD]|[!,:;()?%]){{1,{MAX_RUN}}})([\x40-\x7E])"
    r"(?=[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF。、「」『』“”《》…—])"
)
# HAN_RE recognises CJK ideographs, the only non-punctuation a repair may yield.
HAN_RE = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]")


TABLES_FILE = "repair-tables.marshal"


@functools.cache
def _jieba_tables() -> tuple[dict[str, float], dict[str, float]]:
    """Log frequencies of characters and of 2-4 character words from jieba's
    (Simplified) dictionary (segment.main_dict_path()).  Loaded lazily, once a candidate exists.

    Building them reads the whole dictionary (~1 s), so they are kept in a
    marshal file in the per-user cache folder (usercache.py), keyed on the
    dictionary's path, size and time and on jieba's version; every later
    process loads them in ~0.03 s (marshal.loads of the file's bytes: marshal.load on
    the file object reads it in small pieces and takes four times as long).
    Without a cache folder they are built each time.
    """
    import importlib.metadata

    from ..usercache import cached_marshal
    from .segment import main_dict_path
    dict_path = main_dict_path()
    st = os.stat(dict_path)
    key = f"{dict_path}|{st.st_size}|{st.st_mtime_ns}|{importlib.metadata.version('jieba')}|{MIN_WORD_FREQ}"

    def build() -> tuple[dict[str, float], dict[str, float]]:
        chars: dict[str, int] = {}
        words: dict[str, float] = {}
        with open(dict_path, "rb") as fh:
            for raw in fh:
                word, freq = raw.decode("utf-8").split(" ")[:2]
                for ch in word:
                    chars[ch] = chars.get(ch, 0) + int(freq)
                if 2 <= len(word) <= 4 and int(freq) >= MIN_WORD_FREQ:
                    words[word] = math.log(int(freq))
        return {c: math.log(n) for c, n in chars.items()}, words

    tables = cached_marshal(TABLES_FILE, key, build)
    return tables[0], tables[1]


def _t2s(text: str) -> str:
    """OpenCC's Traditional->Simplified characters (convert.py's table, one character for one),
    so that Traditional text can be looked up in jieba's Simplified dictionary."""
    from .convert import _tables
    return text.translate(_tables()[0])


def _big5(ch: str) -> int | None:
    """The Big5 code of ``ch``, or None.  Damage that re-synchronises on a
    GBK/3-4 trail byte only happens in Traditional text, whose characters are
    all in Big5; Simplified-only characters in a repair mean a false repair."""
    code = ch.encode("big5", errors="ignore")
    return int.from_bytes(code, "big") if len(code) == 2 else None


@functools.cache
def _score(ch: str) -> float:
    """Plausibility of one character (higher is better, -inf: reject).

    Punctuation ranks by PUNCT, above any ideograph.  An ideograph scores its
    jieba log frequency; one in Big5's "frequent" block (A440-C67E) may use that
    of its Simplified form (rare Traditional variants may not).
    """
    if ch in PUNCT:
        return 100.0 - PUNCT.index(ch)
    code = _big5(ch)
    if not HAN_RE.match(ch) or code is None:
        return -math.inf
    freq = _jieba_tables()[0]
    score = freq.get(ch, 0.0)
    if 0xA440 <= code <= 0xC67E:
        score = max(score, freq.get(_t2s(ch), 0.0))
    return score if score >= MIN_CHAR_LOGFREQ else -math.inf


def _word_cover(window: str) -> list[float]:
    """For each character of ``window``: log frequency of the most frequent
    dictionary word (2-4 chars, after mapping to Simplified) containing it; 0 if none."""
    words = _jieba_tables()[1]
    simp = _t2s(window)
    cover = [0.0] * len(simp)
    for a in range(len(simp)):
        for n in range(2, min(4, len(simp) - a) + 1):
            f = words.get(simp[a:a + n], 0.0)
            cover[a:a + n] = [max(c, f) for c in cover[a:a + n]]
    return cover


def _cover_at(window: str, i: int) -> float:
    """_word_cover(window)[i], computed from the words through position i only."""
    words = _jieba_tables()[1]
    simp = _t2s(window)
    best = 0.0
    for a in range(max(0, i - 3), i + 1):
        for n in range(max(2, i - a + 1), min(4, len(simp) - a) + 1):
            best = max(best, words.get(simp[a:a + n], 0.0))
    return best


def _repair_run(run: str, left: str, right: str) -> str | None:
    """Original text of a damaged run (the text after ``?``), or None if implausible.

    The run's GBK bytes minus the first re-pair in step into original chars 2..n.
    The lost first char is (lost lead, first byte): common punctuation unless an
    ideograph forms a frequent word with its neighbours.  The repair must be
    common characters, mostly inside words, anchored by a word not made only
    by the freely chosen first char.
    """
    try:
        raw = b"".join(FULLWIDTH.get(c, c).encode("gb18030") for c in run)
        rest = raw[1:].decode("gbk")  # chars 2..n, decoded in step
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    # All but the last byte belong to double-byte chars; odd ones were original lead bytes.
    if len(raw) != 2 * len(run) - 1 or min(raw[:-1]) < 0x81 or len(rest) != len(run) - 1 \
            or any(_score(c) == -math.inf for c in rest):
        return None
    firsts = []
    for lead in range(0x81, 0xFF):
        try:
            firsts.append(bytes((lead, raw[0])).decode("gbk"))
        except UnicodeDecodeError:
            continue

    def rank(x: str) -> tuple[float, float]:
        """(best word through x in context, x's own frequency) for an ideograph."""
        return _cover_at(left + x + rest + right, len(left)), _score(x)

    ideographs = [x for x in firsts if x not in PUNCT and _score(x) > -math.inf]
    best = max(ideographs, key=rank, default=None)
    best_word = rank(best)[0] if best else 0.0
    punct = min((x for x in firsts if x in PUNCT), key=PUNCT.index, default=None)
    if punct and best_word <= (STRONG_WORD if PUNCT.index(punct) < COMMON_PUNCT else 0.0):
        best, best_word = punct, math.inf  # punctuation: the prior is the anchor
    if best is None:
        return None
    fixed = best + rest
    cover = _word_cover(left + fixed + right)[len(left):len(left) + len(fixed)]
    han = [f > 0 or _score(c) >= COMMON_CHAR for f, c in zip(cover, fixed) if HAN_RE.match(c)]
    anchored = best_word >= STRONG_WORD or any(_word_cover(rest + right)[:len(rest)])
    if han and sum(han) / len(han) < MIN_WORD_SHARE or not anchored:
        return None
    return fixed


def find_gbk_shift_damage(text: str) -> list[Edit]:
    """Return non-overlapping edits, sorted by start, that repair the damage.

    A regex scan finds candidate spans; only those get the byte-level
    re-decoding and the plausibility check.  Repaired full-width punctuation is
    ASCII-fied again so that it matches the rest of the article.
    """
    edits: list[Edit] = []
    pos = 0
    while (m := CANDIDATE_RE.search(text, pos)) is not None:
        left = text[max(0, m.start() - CONTEXT[0]):m.start()]
        fixed = _repair_run(m.group(1) + m.group(2), left, text[m.end():m.end() + CONTEXT[1]])
        if fixed is None:
            pos = m.start() + 1
            continue
        fixed = "".join(ASCIIFIED.get(c, c) for c in fixed)
        edits.append(Edit(m.start(), m.end(), fixed, FIXER,
                          f"GBK one-byte shift: {m.group(0)!r} -> {fixed!r}"))
        pos = m.end()
    return edits
