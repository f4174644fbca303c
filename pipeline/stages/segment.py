"""Stage 4, segment: jieba with our own Tokenizer and the domain dictionary.

The dictionary is `rules/jieba_user.dict` in jieba's own `word freq tag`
format: names and mentions that jieba would otherwise cut through. One
Tokenizer per process and dictionary (loading takes about a second), never
jieba's global. Tokenizers and tags are cached by the dictionary's *content*
(a hash of its bytes), not by its path: a long-lived process (a Dask worker)
that sees the same path after the file was edited builds a new one.
"""
from __future__ import annotations

import hashlib
import logging
from bisect import bisect_right
from functools import lru_cache
from math import log
from pathlib import Path


@lru_cache(maxsize=1)
def _jieba():
    """jieba, imported when first needed: a run served from the cache does without its 70 ms."""
    import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba


def main_dict_path() -> Path:
    """jieba's own dictionary (`word freq tag` lines), as its Tokenizer loads it by default."""
    return Path(_jieba().__file__).parent / "dict.txt"


def dict_key(user_dict: str | None) -> str:
    """What a tokenizer built from user_dict depends on: a hash of the file's bytes ('' when none).

    The dictionary is small (read in microseconds), so it is read each time rather than
    trusted by its path or modification time."""
    if not user_dict:
        return ""
    try:
        with open(user_dict, "rb") as f:
            return hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    except OSError:
        return ""


def tokenizer(user_dict: str | None, extra_words: tuple[str, ...] = ()) -> "jieba.Tokenizer":
    """A jieba Tokenizer with the user dictionary and extra words (names of the rules' lists) loaded."""
    return _tokenizer(user_dict, dict_key(user_dict), extra_words)


@lru_cache(maxsize=4)
def _tokenizer(user_dict: str | None, content: str, extra_words: tuple[str, ...]) -> "jieba.Tokenizer":
    """tokenizer() for one content of user_dict (`content`: its dict_key)."""
    tk = _jieba().Tokenizer()
    _initialize(tk)
    if user_dict and Path(user_dict).exists():
        tk.load_userdict(user_dict)
    for w in extra_words:
        if w not in tk.FREQ or not tk.FREQ[w]:
            tk.add_word(w)
    return tk


def _main_dict_key() -> str:
    """What jieba's own dictionary tables depend on: the file (path, size, time) and jieba's version."""
    import importlib.metadata
    path = main_dict_path()
    st = path.stat()
    return f"{path}|{st.st_size}|{st.st_mtime_ns}|{importlib.metadata.version('jieba')}"


def _initialize(tk: "jieba.Tokenizer") -> None:
    """tk.initialize() for jieba's own dictionary: the same FREQ and total, kept in the per-user
    cache (usercache.cached_marshal) and read back in about a third of the time jieba takes to
    read its own cache (marshal.load on the file object: 0.5 s a process)."""
    def build():
        fresh = _jieba().Tokenizer()
        fresh.initialize()
        return fresh.FREQ, fresh.total

    from ..usercache import cached_marshal
    tk.FREQ, tk.total = cached_marshal(FREQ_CACHE_FILE, _main_dict_key(), build)
    tk.initialized = True


FREQ_CACHE_FILE = "jieba-freq.marshal"
TAGS_CACHE_FILE = "jieba-tags.marshal"


def block_pattern():
    """jieba cuts a text into blocks of the characters of its `re_han_default` and
    segments each block on its own: a block's tokens do not depend on the text around
    it. Every other character is a token by itself ("\r\n" is one token)."""
    return _jieba().re_han_default


# jieba's HMM (finalseg.viterbi) copies a path list per character, so it is quadratic
# in a block's length. Real text has punctuation every few dozen characters; a longer
# block (50,000 x 亿, a 20,000-digit number) is cut into pieces of MAX_BLOCK
# characters, segmented one by one.
MAX_BLOCK = 500


def cut_block(tk: "jieba.Tokenizer", block: str) -> list[str]:
    """The words of one block, exactly as jieba's `Tokenizer.cut(block, HMM=True)` gives them.

    jieba's own code (`get_DAG`, `calc`, `__cut_DAG`) in one pass, about 1.8x
    faster: the word graph and the best route are built together from the end
    of the block, without a DAG dict or a generator per position, and each
    word's log-probability is computed once per tokenizer, by the same
    expression, so every float and every tie (the longer word wins) is as
    jieba's. Runs of single characters go to jieba's HMM (`finalseg.cut`) as
    jieba sends them. tests/test_segment.py compares the words with jieba's.
    """
    logp, logtotal = _log_probabilities(tk)
    freq = tk.FREQ
    n = len(block)
    best = [0.0] * (n + 1)        # best[k]: log-probability of the best route from k to the end
    last = [0] * (n + 1)          # last[k]: end index (exclusive) of the first word of that route
    for k in range(n - 1, -1, -1):
        bv, bx = _NO_ROUTE, k + 1
        i = k + 1
        frag = block[k]                       # block[k:i], sliced (and hashed) once for both look-ups
        p = logp.get(frag, _UNKNOWN)
        while True:                           # every dictionary word starting at k (jieba's get_DAG)
            if p is _UNKNOWN:                 # first time this fragment is seen: look it up in jieba's FREQ
                f = freq.get(frag)
                if f is None:
                    break                     # no word starts with it
                p = logp[frag] = log(f) - logtotal if f else None
            if p is not None:                 # a word (None: only a prefix of words)
                v = p + best[i]
                if v >= bv:                   # jieba's max((v, x)): on a tie the longer word
                    bv, bx = v, i
            if i == n:
                break
            i += 1
            frag = block[k:i]
            p = logp.get(frag, _UNKNOWN)
        if bv == _NO_ROUTE:                   # no word: the character alone
            bv = log(freq.get(block[k]) or 1) - logtotal + best[k + 1]
        best[k], last[k] = bv, bx
    words: list[str] = []
    x, buf = 0, ""
    while x < n:                              # jieba's __cut_DAG
        y = last[x]
        if y - x == 1:
            buf += block[x]
        else:
            if buf:
                _flush(buf, freq, words)
                buf = ""
            words.append(block[x:y])
        x = y
    if buf:
        _flush(buf, freq, words)
    return words


_UNKNOWN = object()            # a fragment not yet looked up in jieba's FREQ
_NO_ROUTE = float("-inf")      # below every route's log-probability


def _log_probabilities(tk: "jieba.Tokenizer") -> tuple[dict, float]:
    """(fragment -> log-probability of the word, None for a fragment that is only a prefix of words;
    log of jieba's total), filled as fragments are met, kept on the tokenizer for its current total
    (add_word changes the total). Only fragments of jieba's FREQ are kept, so it never outgrows FREQ."""
    cache = tk.__dict__.get("_pipeline_logp")
    if cache is None or cache[0] != tk.total:
        cache = tk.__dict__["_pipeline_logp"] = (tk.total, log(tk.total), {})
    return cache[2], cache[1]


def _flush(buf: str, freq: dict, words: list[str]) -> None:
    """A run of single characters: one word, its own characters (a known word), or jieba's HMM."""
    if len(buf) == 1:
        words.append(buf)
    elif not freq.get(buf):
        from jieba import finalseg
        words.extend(finalseg.cut(buf))
    else:
        words.extend(buf)


class Tokens:
    """jieba's tokens of one text, each block segmented the first time a token in it is asked for.

    Only the organisation rules read tokens, and only around their suffixes:
    segmenting just those blocks gives the same tokens as segmenting the whole
    text (blocks are independent) at about half the cost. `all()` gives every
    token, as `jieba.Tokenizer.tokenize` would.
    """

    def __init__(self, text: str, tk: "jieba.Tokenizer"):
        self.text = text
        self._tk = tk
        self._block_starts: list[int] = []
        self._block_ends: list[int] = []
        for m in block_pattern().finditer(text):
            for a in range(m.start(), m.end(), MAX_BLOCK):
                self._block_starts.append(a)
                self._block_ends.append(min(a + MAX_BLOCK, m.end()))
        self._segmented: dict[int, tuple[list[int], list[tuple[str, int, int]]]] = {}
        # position -> the token holding it, for every position asked for so far: the org
        # rules ask for the same positions many times (one dict lookup then)
        self._held: dict[int, tuple[str, int, int]] = {}

    def _block(self, b: int) -> tuple[list[int], list[tuple[str, int, int]]]:
        """(token starts, tokens) of block b, segmented once."""
        hit = self._segmented.get(b)
        if hit is None:
            a = self._block_starts[b]
            toks = []
            for w in cut_block(self._tk, self.text[a:self._block_ends[b]]):
                toks.append((w, a, a + len(w)))
                a += len(w)
            hit = self._segmented[b] = ([s for _, s, _ in toks], toks)
        return hit

    def at(self, pos: int) -> tuple[str, int, int]:
        """(word, start, end) of the token holding position pos (0 <= pos < len(text))."""
        tok = self._held.get(pos)
        if tok is None:
            tok = self._held[pos] = self._find(pos)
        return tok

    def _find(self, pos: int) -> tuple[str, int, int]:
        """at() of a position not asked for yet: in its block (segmented if need be), or outside blocks."""
        b = bisect_right(self._block_starts, pos) - 1
        if b >= 0 and pos < self._block_ends[b]:
            starts, toks = self._block(b)
            return toks[bisect_right(starts, pos) - 1]
        text = self.text
        if text[pos] == "\r" and text[pos + 1:pos + 2] == "\n":
            return ("\r\n", pos, pos + 2)
        if text[pos] == "\n" and pos > 0 and text[pos - 1] == "\r":
            return ("\r\n", pos - 1, pos + 1)
        return (text[pos], pos, pos + 1)

    def before(self, tok: tuple[str, int, int]) -> tuple[str, int, int] | None:
        """The token just before tok, None at the start of the text."""
        return self.at(tok[1] - 1) if tok[1] > 0 else None

    def starts_at(self, pos: int) -> bool:
        """True when a token starts at pos (or pos is the end of the text)."""
        return pos >= len(self.text) or self.at(pos)[1] == pos

    def ends_at(self, pos: int) -> bool:
        """True when a token ends at pos (or pos is 0)."""
        return pos <= 0 or self.at(pos - 1)[2] == pos

    def all(self) -> list[tuple[str, int, int]]:
        """Every token, in order, covering the text exactly."""
        out, pos = [], 0
        while pos < len(self.text):
            tok = self.at(pos)
            out.append(tok)
            pos = tok[2]
        return out


def lazy_tokens(text: str, user_dict: str | None, extra_words: tuple[str, ...] = ()) -> Tokens:
    """The tokens of text, segmented on demand (see Tokens)."""
    return Tokens(text, tokenizer(user_dict, extra_words))


def word_tags(user_dict: str | None) -> dict[str, str]:
    """Part-of-speech tag of every dictionary word (jieba's dict and ours), for cheap lookups."""
    return _tags(user_dict, dict_key(user_dict))


@lru_cache(maxsize=4)
def _tags(user_dict: str | None, content: str) -> dict[str, str]:
    """word_tags() for one content of user_dict (`content`: its dict_key): the tags of jieba's
    dictionary (kept in the per-user cache: reading them from dict.txt takes 0.25 s a process),
    then those of the user dictionary over them."""
    from ..usercache import cached_marshal
    tags = cached_marshal(TAGS_CACHE_FILE, _main_dict_key(), lambda: _file_tags(main_dict_path(), {}))
    return _file_tags(Path(user_dict), tags) if user_dict else tags


def _file_tags(path: Path, tags: dict[str, str]) -> dict[str, str]:
    """tags with the tag of every `word freq tag` line of the file at path (none when it is missing)."""
    if path.exists():
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    tags[parts[0]] = parts[2]
    return tags
