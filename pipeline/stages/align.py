"""Offsets that survive editing: apply edits to a text and map positions back.

Every cleaning step (strip readings, repair damage, normalise line ends, cut
boilerplate, convert) is a list of `Edit`s on its input. `apply_edits`
returns the new text and an `Alignment` that maps any span of the new text
to the span of the old text it came from. Alignments compose, so a row of
`extractions.csv` points back into the decoded raw file through every step.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple


class Edit(NamedTuple):
    """Replace `text[start:end]` with `replacement`; `fixer` and `note` say who and why.

    Immutable like the frozen dataclass it was, and made in a third of the time: the
    cleaning of a page with pinyin readings makes one per reading."""
    start: int
    end: int
    replacement: str
    fixer: str
    note: str = ""


class Alignment:
    """Piecewise map from positions of an edited text to its source.

    Stored as segments sorted by destination start. A segment is either a copy
    (same length, position by position) or a replacement (the whole destination
    piece maps to the whole source piece; deletions have an empty destination).
    """

    __slots__ = ("dst", "src", "dst_len", "src_len", "copy")

    def __init__(self) -> None:
        self.dst: list[int] = []
        self.src: list[int] = []
        self.dst_len: list[int] = []
        self.src_len: list[int] = []
        self.copy: list[bool] = []

    def _add(self, dst: int, src: int, dst_len: int, src_len: int, copy: bool) -> None:
        if dst_len == 0 and src_len == 0:
            return
        self.dst.append(dst)
        self.src.append(src)
        self.dst_len.append(dst_len)
        self.src_len.append(src_len)
        self.copy.append(copy)

    @classmethod
    def identity(cls, length: int) -> "Alignment":
        """The map of a text onto itself."""
        a = cls()
        a._add(0, 0, length, length, True)
        return a

    def is_identity(self) -> bool:
        """True when it maps each position of its text (0..length) onto itself: one copy from 0 to 0."""
        return len(self.dst) == 1 and self.copy[0] and self.dst[0] == self.src[0] == 0 \
            and self.dst_len[0] == self.src_len[0]

    def start(self, pos: int) -> int:
        """Source position where the character at destination `pos` begins."""
        i = bisect_right(self.dst, pos) - 1
        if i < 0:
            return 0
        # the last segment starting at or before pos is the non-empty one holding pos,
        # unless pos is past the end (then the source end)
        if pos < self.dst[i] + self.dst_len[i]:
            return self.src[i] + (pos - self.dst[i] if self.copy[i] else 0)
        return self.src[i] + self.src_len[i]

    def end(self, pos: int) -> int:
        """Source position where the destination span ending at `pos` ends.

        Deleted source text right after the span (a pinyin reading after the
        last character) is included, so the raw span covers the whole mention.
        """
        if pos <= 0:
            return 0
        i = bisect_right(self.dst, pos - 1) - 1
        while i >= 0 and self.dst_len[i] == 0:
            i -= 1
        if i < 0:
            return 0
        if self.copy[i]:
            e = self.src[i] + min(pos - self.dst[i], self.dst_len[i])
        else:
            e = self.src[i] + self.src_len[i]
        # swallow deletions that follow directly at destination pos
        j = i + 1
        while j < len(self.dst) and self.dst[j] == pos and self.dst_len[j] == 0 and self.src[j] == e:
            e += self.src_len[j]
            j += 1
        return e

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source span of the destination span [start, end)."""
        if end <= start:
            s = self.start(start)
            return s, s
        return self.start(start), self.end(end)


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, Alignment]:
    """Apply non-overlapping edits (any order) to `text`.

    Returns the new text and the alignment from new positions to old ones.
    Overlapping edits are a programming error and raise ValueError.
    """
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    out: list[str] = []
    align = Alignment()
    src = dst = 0
    for e in edits:
        if e.start < src:
            raise ValueError(f"overlapping edits at {e.start}: {e}")
        if e.start > src:
            n = e.start - src
            out.append(text[src:e.start])
            align._add(dst, src, n, n, True)
            dst += n
        out.append(e.replacement)
        align._add(dst, e.start, len(e.replacement), e.end - e.start, False)
        dst += len(e.replacement)
        src = e.end
    if src < len(text):
        n = len(text) - src
        out.append(text[src:])
        align._add(dst, src, n, n, True)
    return "".join(out), align


class Chain:
    """Alignments of successive steps, mapped through from last to first."""

    def __init__(self) -> None:
        self.steps: list[Alignment] = []
        self._moving: list[Alignment] = []     # the steps that move some position, last first

    def add(self, a: Alignment) -> None:
        self.steps.append(a)
        if not a.is_identity():
            self._moving.insert(0, a)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Span in the first text of the span [start, end) of the last text.

        A step that changed nothing (a conversion that kept every length) maps every
        span of its text onto itself, so it is passed over."""
        for a in self._moving:
            start, end = a.span(start, end)
        return start, end
