"""Stages 2 and 3, clean and convert: decoded raw text -> cleaned Simplified text.

A list of named fixers, each `str -> list[Edit]`, run in order (after ftfy's
model): every edit is kept, so `explain` can say what was changed and why,
and the alignments compose so every offset of the cleaned text maps back to
the decoded raw text. Conversion to Simplified comes after the raw-level
repairs (they need the original characters) and before the boilerplate cut
(its patterns are written in Simplified).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import regex

from .align import Alignment, Chain, Edit, apply_edits
from .boilerplate import BoilerplateRules, Meta, cut_head, cut_tail, read_head, settle
from .convert import t2s_spans
from .readings import find_readings
from .repair import find_gbk_shift_damage

# Line ends and characters that are never text: CRLF and lone CR become LF;
# NUL, other C0 controls, DEL and a stray byte-order mark are removed.
CONTROL = regex.compile(r"\r\n?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def normalise_controls(text: str) -> list[Edit]:
    """Edits turning CRLF/CR into LF and deleting control characters."""
    edits = []
    for m in CONTROL.finditer(text):
        c = m.group(0)
        if c.startswith("\r"):
            edits.append(Edit(m.start(), m.end(), "\n", "normalise_controls", "line end"))
        else:
            edits.append(Edit(m.start(), m.end(), "", "normalise_controls", f"control U+{ord(c):04X}"))
    return edits


# The raw-level fixers, in order. Each sees the output of the one before.
RAW_FIXERS = [
    ("normalise_controls", normalise_controls),
    ("repair_gbk_shift", find_gbk_shift_damage),
    ("strip_readings", find_readings),
]


@dataclass
class Cleaned:
    text: str                       # cleaned Simplified text; offsets index it
    chain: Chain                    # maps cleaned spans back to the decoded raw text
    meta: Meta
    edits: list[tuple[str, Edit]] = field(default_factory=list)   # (stage text id, edit) for explain
    warnings: list[str] = field(default_factory=list)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        return self.chain.span(start, end)


def _conversion_alignment(n_src: int, spans) -> Alignment:
    """Alignment of t2s output to its input, from the places where length changed."""
    a = Alignment()
    src = dst = 0
    for s0, s1, d0, d1 in spans:
        if s0 > src:
            a._add(dst, src, s0 - src, s0 - src, True)
        a._add(d0, s0, d1 - d0, s1 - s0, False)
        src, dst = s1, d1
    if src < n_src:
        a._add(dst, src, n_src - src, n_src - src, True)
    return a


def clean(raw: str, rules: BoilerplateRules) -> Cleaned:
    """Run every fixer, convert, cut the boilerplate; keep the offsets map."""
    chain = Chain()
    log: list[tuple[str, Edit]] = []
    warnings: list[str] = []
    text = raw
    for name, fixer in RAW_FIXERS:
        edits = fixer(text)
        if edits:
            text, align = apply_edits(text, edits)
            chain.add(align)
            log += [(name, e) for e in edits]
            if name == "repair_gbk_shift":
                warnings += [f"repaired: {e.note}" for e in edits]
    converted, spans = t2s_spans(text)
    chain.add(_conversion_alignment(len(text), spans) if spans else Alignment.identity(len(text)))
    meta = Meta()
    tail = cut_tail(converted, rules, meta)
    cut = cut_head(converted, rules, meta, tail[0].start if tail else None) + tail
    if cut:                             # both cuts in one step: one alignment more, not two
        converted, align = apply_edits(converted, cut)
        chain.add(align)
        log += [("cut_boilerplate", e) for e in cut]
    read_head(converted, rules, meta)
    settle(meta)
    warnings += meta.notes
    return Cleaned(converted, chain, meta, log, warnings)
