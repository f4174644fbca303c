"""Stage 4, segment: jieba with our own Tokenizer and the domain dictionary.

The dictionary is `rules/jieba_user.dict` in jieba's own `word freq tag`
format: names and mentions that jieba would otherwise cut through. One
Tokenizer per process (loading takes about a second), never jieba's global.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import jieba
import regex

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=4)
def tokenizer(user_dict: str | None, extra_words: tuple[str, ...] = ()) -> jieba.Tokenizer:
    """A jieba Tokenizer with the user dictionary and extra words (names of the rules' lists) loaded."""
    tk = jieba.Tokenizer()
    tk.initialize()
    if user_dict and Path(user_dict).exists():
        tk.load_userdict(user_dict)
    for w in extra_words:
        if w not in tk.FREQ or not tk.FREQ[w]:
            tk.add_word(w)
    return tk


# jieba cuts a text into blocks of these characters and segments each block on its
# own; its HMM (finalseg.viterbi) copies a path list per character, so it is
# quadratic in a block's length. Real text has punctuation every few dozen
# characters; a longer block (50,000 x 亿, a 20,000-digit number) is cut into
# pieces of MAX_BLOCK characters, segmented one by one.
MAX_BLOCK = 500
LONG_BLOCK = regex.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]{" + str(MAX_BLOCK + 1) + ",}")


def tokens(text: str, user_dict: str | None, extra_words: tuple[str, ...] = ()) -> list[tuple[str, int, int]]:
    """(word, start, end) for every token of text, in order, covering it exactly."""
    tk = tokenizer(user_dict, extra_words)
    if not LONG_BLOCK.search(text):
        return list(tk.tokenize(text, HMM=True))
    out: list[tuple[str, int, int]] = []

    def add(piece: str, offset: int) -> None:
        out.extend((w, s + offset, e + offset) for w, s, e in tk.tokenize(piece, HMM=True))

    pos = 0
    for m in LONG_BLOCK.finditer(text):      # starts where jieba's block starts (the match is greedy)
        if m.start() > pos:
            add(text[pos:m.start()], pos)
        for a in range(m.start(), m.end(), MAX_BLOCK):
            add(text[a:min(a + MAX_BLOCK, m.end())], a)
        pos = m.end()
    if pos < len(text):
        add(text[pos:], pos)
    return out


def boundaries(toks: list[tuple[str, int, int]]) -> set[int]:
    """Every offset where a token starts or ends."""
    out = set()
    for _, s, e in toks:
        out.add(s)
        out.add(e)
    return out


def word_tags(user_dict: str | None) -> dict[str, str]:
    """Part-of-speech tag of every dictionary word (jieba's dict and ours), for cheap lookups."""
    return _tags(user_dict)


@lru_cache(maxsize=4)
def _tags(user_dict: str | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    main = Path(jieba.__file__).parent / "dict.txt"
    for path in (main, Path(user_dict) if user_dict else None):
        if path is None or not path.exists():
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    tags[parts[0]] = parts[2]
    return tags
