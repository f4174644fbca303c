"""Traditional -> Simplified Chinese conversion, fast and identical to the reference.

The reference is ``opencc.OpenCC('t2s').convert`` from opencc-python-reimplemented
0.1.7 (~0.6 MB/s).  Its semantics, read from ``opencc/opencc.py``:

* the text is split with ``split_chars_re``; separators are copied unchanged and
  each chunk between them is converted on its own, so no match crosses a separator;
* ``t2s`` is ONE dictionary group [TSPhrases, TSCharacters].  Per chunk,
  ``StringTree.create_parse_tree`` repeatedly takes, inside a still unmatched
  segment, the LONGEST phrase key occurring anywhere in it (the leftmost one among
  equally long keys), replaces it by the first value of the entry, and goes on
  with the pieces left and right of it.  Replaced text is never matched again.
  That is the same as: sort all phrase occurrences by (-length, start) and accept
  each one that overlaps no accepted one.  Segments with no phrase then go through
  TSCharacters, whose keys are all one code point: a plain ``str.translate``.

This module loads the same two files from the installed package (once per process)
and does exactly that: ``str.translate`` everywhere, plus the greedy choice among
phrase occurrences, which are found by a regex over the phrases' first characters.

Length: no entry of either file changes the length in code points (checked when
loading; ``二噁英 -> 二𫫇英`` is 3 -> 3 code points), so the spans list of
``t2s_spans`` is always empty with these dictionaries.  UTF-8 and UTF-16 lengths
DO change (e.g. 噁 U+5641 -> 𫫇 U+2AAC7, 3 -> 4 UTF-8 bytes): keep offsets in code points.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import json
import os
import re

_DIST = "opencc-python-reimplemented"


@functools.lru_cache(maxsize=None)
def _reference():
    """The single cached reference converter (building it reads the dictionaries)."""
    import opencc

    return opencc.OpenCC("t2s")


def _read_dict(path: str) -> dict[str, str]:
    """Read an OpenCC .txt dictionary exactly as the reference does (strip, split on
    tab, later duplicates win) and keep only the first of space-separated values."""
    table = {}
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            key, value = line.strip().split("\t")
            table[key] = value
    return {k: v.split(" ")[0] for k, v in table.items()}


@functools.lru_cache(maxsize=None)
def _tables():
    """Load, once per process, the t2s tables from the installed package's files.

    Returns (translate table, phrases dict, regex matching a possible phrase
    start, sorted key lengths per first character).  Checks the
    assumptions the fast path relies on, so that a different package version fails
    loudly instead of converting differently.
    """
    if not loaded_opencc_is_reimplementation():
        raise RuntimeError("module `opencc` is not opencc-python-reimplemented (official binding shadowing it?)")
    import opencc.opencc as ref_mod

    base = os.path.dirname(ref_mod.__file__)
    with open(os.path.join(base, ref_mod.CONFIG_DIR, "t2s.json"), encoding="utf-8") as f:
        chain = json.load(f)["conversion_chain"]
    files = [d["file"] for d in chain[0]["dict"]["dicts"]] if len(chain) == 1 else None
    if files != ["TSPhrases.txt", "TSCharacters.txt"]:
        raise RuntimeError(f"unexpected t2s conversion chain: {chain!r}")
    phrases, chars = (_read_dict(os.path.join(base, ref_mod.DICT_DIR, n)) for n in files)
    sep = ref_mod.OpenCC().split_chars_re  # the reference's own regex
    if any(not v for v in phrases.values()) or any(len(k) != 1 or len(v) != 1 for k, v in chars.items()):
        # empty value = "no match" for the tree; multi-char keys would need the tree.
        raise RuntimeError("TSCharacters/TSPhrases no longer fit the fast path")
    if min(map(len, phrases)) < 2:  # one-char phrases would preempt TSCharacters
        raise RuntimeError("unexpected one-character key in TSPhrases")
    # A separator is never inside a chunk: such keys can never match in the reference
    # (none in 0.1.7; filtering them makes "no match crosses a separator" hold by construction).
    phrases = {k: v for k, v in phrases.items() if not sep.search(k)}
    table = _translate_list({ord(k): ord(v) for k, v in chars.items() if k != v and not sep.match(k)})
    lens: dict[str, list[int]] = {}
    for k in phrases:
        lens.setdefault(k[0], []).append(len(k))
    lens = {c: sorted(set(ls)) for c, ls in lens.items()}
    first = re.compile("[" + "".join(re.escape(c) for c in sorted(lens)) + "]")
    return table, phrases, first, lens


def _translate_list(table: dict[int, int]) -> list[int]:
    """A ``str.translate`` table (code point -> code point) as a list indexed by code point, each
    code point it lacks mapped to itself: the same translation, 2.4x as fast on Chinese text (a
    dict raises and clears a KeyError for every character it lacks). A code point past the list's
    end is left as it is (IndexError is a LookupError)."""
    out = list(range(max(table) + 1)) if table else []
    for k, v in table.items():
        out[k] = v
    return out


def _accepted_phrases(text: str) -> list[tuple[int, int]]:
    """The phrase occurrences the reference's tree replaces, as sorted (start, end).

    Occurrences are grouped into clusters of overlapping ones; inside a cluster the
    reference order (longest first, then leftmost) decides, an occurrence being
    kept when it overlaps none kept before.  Clusters do not interact.
    """
    _, phrases, first, lens = _tables()
    occ, size = [], len(text)  # occurrences by start, then length
    for m in first.finditer(text):
        i = m.start()
        for n in lens[m.group()]:  # ascending
            if i + n > size:  # a slice past the end is shorter: no false match
                break
            if text[i:i + n] in phrases:
                occ.append((i, i + n))
    accepted: list[tuple[int, int]] = []
    k = 0
    while k < len(occ):
        j, end = k + 1, occ[k][1]
        while j < len(occ) and occ[j][0] < end:
            end = max(end, occ[j][1])
            j += 1
        if j == k + 1:
            accepted.append(occ[k])
        else:
            kept: list[tuple[int, int]] = []
            for s, e in sorted(occ[k:j], key=lambda o: (o[0] - o[1], o[0])):
                if all(e <= ks or s >= ke for ks, ke in kept):
                    kept.append((s, e))
            accepted.extend(sorted(kept))
        k = j
    return accepted


def _pieces(text: str):
    """Yield (src_start, src_end, converted) covering the text in order: the
    character-converted gaps (one ``str.translate`` of the whole text, which keeps
    code-point positions since every TSCharacters value is one code point) and the
    replaced phrases."""
    table, phrases, _, _ = _tables()
    conv, pos = text.translate(table), 0
    for s, e in _accepted_phrases(text):
        if s > pos:
            yield pos, s, conv[pos:s]
        yield s, e, phrases[text[s:e]]
        pos = e
    if pos < len(text) or not text:
        yield pos, len(text), conv[pos:]


def t2s(text: str) -> str:
    """Traditional -> Simplified, byte-identical to opencc-python-reimplemented's t2s.

    Same dictionaries and same match semantics as the reference (see module doc),
    at 20-35x its speed (~30 MB/s): mostly one ``str.translate`` of the whole text.
    """
    return "".join(piece for _, _, piece in _pieces(text))


def t2s_reference(text: str) -> str:
    """The reference: opencc.OpenCC('t2s').convert (one cached instance).

    Slow; kept for tests, benchmarks and spot checks of ``t2s``.
    """
    return _reference().convert(text)


def t2s_spans(text: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The converted text and the list of places where the length changed:
    (src_start, src_end, dst_start, dst_end) for each replaced piece whose source
    and converted lengths differ (empty list when the text kept its length, which is the usual case).
    Everywhere else position i of the output corresponds to position i (shifted by earlier changes) of the input.

    Lengths are in code points (Python ``str`` indices).  With the installed
    dictionaries no entry changes the code-point length, so the list is always
    empty; it is computed anyway so that the offsets stay right if that changes.
    """
    out, spans, dst = [], [], 0
    for s, e, piece in _pieces(text):
        if len(piece) != e - s:
            spans.append((s, e, dst, dst + len(piece)))
        out.append(piece)
        dst += len(piece)
    return "".join(out), spans


def loaded_opencc_is_reimplementation() -> bool:
    """True when the imported module `opencc` is opencc-python-reimplemented (not the official binding that shadows it).

    Both install a top-level ``opencc`` package, so the module name proves nothing.
    We require: the distribution ``opencc-python-reimplemented`` is installed, its
    RECORD lists the files of the imported module (``opencc/__init__.py`` and
    ``opencc/opencc.py``) at the imported paths with matching sha256 (the official
    binding, installed over it, would change or lack them), the module exposes its
    ``OpenCC`` class from ``opencc.opencc``, and the t2s dictionaries are there.
    """
    try:
        import opencc
        import opencc.opencc as impl

        dist = importlib.metadata.distribution(_DIST)
    except Exception:
        return False
    if getattr(opencc, "OpenCC", None) is not getattr(impl, "OpenCC", False):
        return False
    records = {os.path.realpath(p.locate()): p for p in (dist.files or [])}
    for mod in (opencc, impl):
        path = os.path.realpath(getattr(mod, "__file__", None) or "")
        rec = records.get(path)
        if rec is None or rec.hash is None or rec.hash.mode != "sha256":
            return False
        with open(path, "rb") as f:
            digest = base64.urlsafe_b64encode(hashlib.sha256(f.read()).digest()).rstrip(b"=")
        if digest.decode() != rec.hash.value:
            return False
    base = os.path.dirname(impl.__file__)
    return all(os.path.isfile(os.path.join(base, "dictionary", n)) for n in ("TSPhrases.txt", "TSCharacters.txt"))
