"""Stage 1, read: the bytes of a file to text.

Accepts UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK and Big5.
GB18030 and Big5 both decode many byte strings without error, so when both
succeed the one whose characters are more often common Chinese characters
wins. A file that is mostly valid but has a few bad bytes is decoded with
replacement characters and a warning; one that is none of these is refused
with a `ReadError` saying what is wrong and what to try.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from functools import lru_cache

# Share of undecodable bytes up to which a file is kept, with a warning.
MAX_BAD_SHARE = 0.01


class ReadError(Exception):
    """A file that cannot be turned into text; the message is for the user."""


@dataclass
class Decoded:
    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """The level-1 characters of GB2312 (Simplified) and Big5 (Traditional).

    Right decodings are made mostly of these; a wrong codec gives rare ones.
    """
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                chars.add(bytes([lead, trail]).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


def _score(text: str) -> float:
    """Share of non-ASCII characters that are common Chinese characters or CJK punctuation."""
    common = _common_chars()
    sample = [c for c in text[:20000] if ord(c) > 0x7F]
    if not sample:
        return 1.0
    good = sum(1 for c in sample if c in common or 0x3000 <= ord(c) <= 0x303F or 0xFF00 <= ord(c) <= 0xFFEF
               or c in "“”‘’…—·")
    return good / len(sample)


def _bad_count(text: str) -> int:
    return text.count("\ufffd")


def decode(data: bytes, name: str = "<bytes>") -> Decoded:
    """Decode the bytes of one article; raise ReadError when it is not text."""
    if data.startswith(codecs.BOM_UTF8):
        enc, body = "utf-8-sig", data
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return _checked(data.decode("utf-16"), "utf-16", name)
        except UnicodeDecodeError as e:
            raise ReadError(f"{name}: starts with a UTF-16 byte-order mark but is not valid UTF-16 ({e.reason} "
                            f"at byte {e.start}); re-save it as UTF-8") from None
    else:
        enc, body = "utf-8", data
    try:
        return _checked(body.decode(enc), enc, name)
    except UnicodeDecodeError:
        pass
    candidates = []
    for codec in ("gb18030", "big5"):
        try:
            candidates.append((_score(t := data.decode(codec)), codec, t))
        except UnicodeDecodeError:
            pass
    if candidates:
        score, codec, text = max(candidates)
        return _checked(text, codec, name)
    # none decodes cleanly: keep a mostly valid file, with the damage reported
    best = None
    for codec in ("utf-8", "gb18030", "big5"):
        text = data.decode(codec, errors="replace")
        bad = _bad_count(text)
        if best is None or bad < best[0]:
            best = (bad, codec, text)
    bad, codec, text = best
    if bad <= max(1, MAX_BAD_SHARE * len(text)):
        d = _checked(text, codec, name)
        d.warnings.insert(0, f"{bad} undecodable byte sequence(s) replaced by U+FFFD (read as {codec})")
        return d
    raise ReadError(f"{name}: not text in UTF-8, UTF-16, GB18030/GBK or Big5 ({bad} undecodable sequences in "
                    f"{len(data)} bytes even as {codec}); check that it is an article and re-save it as UTF-8")


def _checked(text: str, encoding: str, name: str) -> Decoded:
    """Refuse binary files that happen to decode (many control characters)."""
    if text:
        controls = sum(1 for c in text[:20000] if ord(c) < 32 and c not in "\n\r\t\f\v")
        if controls > max(8, 0.05 * min(len(text), 20000)):
            raise ReadError(f"{name}: looks like a binary file ({controls} control characters in the first "
                            f"{min(len(text), 20000)}); only plain-text articles can be read")
    d = Decoded(text, encoding)
    if "\x00" in text:
        d.warnings.append(f"{text.count(chr(0))} NUL character(s) removed")
    return d


def read_file(path) -> Decoded:
    """Read and decode one file; every failure becomes a ReadError naming the file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ReadError(f"{path}: file not found (was it moved or deleted during the run?)") from None
    except IsADirectoryError:
        raise ReadError(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise ReadError(f"{path}: permission denied; check the file's access rights") from None
    except OSError as e:
        raise ReadError(f"{path}: cannot be read ({e.strerror or e})") from None
    return decode(data, str(path))
