"""Stage 1, read: the bytes of a file to text.

Accepts UTF-8 (with or without BOM), UTF-16 and UTF-32 with BOM, UTF-16
without BOM (recognised by its zero bytes), GB18030/GBK and Big5. The
decoders are tried from the most to the least telling:

1. a byte-order mark decides;
2. strict UTF-8 (random or GB/Big5 bytes almost never pass it);
3. UTF-8 with a few bad byte sequences, when nearly all (90 %) of the
   non-ASCII text is valid UTF-8: a UTF-8 file damaged in transit;
4. UTF-16 without BOM, when the zero bytes of its ASCII characters show it;
5. strict GB18030 or Big5; both decode many byte strings without error, so
   the one whose characters are more often common Chinese characters wins,
   and a result made of rare characters is refused as gibberish;
6. UTF-8 with a few bad sequences in a mostly ASCII text;
7. GB18030 or Big5 with a few bad sequences (5 % of the non-ASCII text at most)
   that is not gibberish.

What was damaged (bad bytes replaced by U+FFFD, NUL characters removed) goes
into the warnings, and the file is processed. A file that is none of these,
or looks binary (many control characters, or a known file signature such as
PNG, PDF or ZIP), is refused with a `ReadError` whose message names the
file, says what is wrong and what to try. `read_file` turns every way a
path can fail (missing, dangling link, folder, FIFO, permission, too large)
into such a message too; it never blocks on a FIFO.
"""
from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache

import regex

# A UTF-8 file is kept with damage when at most this share of its non-ASCII characters is bad.
UTF8_MAX_BAD_SHARE = 0.10
# A mostly ASCII file (few non-ASCII characters to judge by) is kept as UTF-8 when at
# most this share of all its characters is bad.
ASCII_MAX_BAD_SHARE = 0.005
# A GB18030/Big5 file is kept with damage when at most this share of its non-ASCII characters is bad
# (random bytes read as GB18030 have about 20 %).
CJK_MAX_BAD_SHARE = 0.05
# Below this share of common characters a GB18030/Big5 decoding is gibberish (right ones score > 0.9).
MIN_SCORE = 0.5
# Non-ASCII characters needed before the score is trusted to refuse a decoding.
MIN_SCORE_SAMPLE = 20
# Control characters (other than tab, line ends, form feed) beyond this share: a binary file.
MAX_CONTROL_SHARE = 0.05
# Largest file read, in MB (10^6 bytes), unless `run --max-file-mb` says otherwise: a bigger
# file is almost never one article (a crawl dump, a log), and one article needs about 100 times
# its size in memory.
MAX_FILE_MB = 64
MAX_FILE_OPTION = "--max-file-mb"

CONTROLS = regex.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
NON_ASCII = regex.compile(r"[^\x00-\x7f]")
REPLACEMENT = "\ufffd"


class ReadError(Exception):
    """A file that cannot be turned into text; the message is for the user."""


@dataclass
class Decoded:
    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


# --- what the bytes are --------------------------------------------------------------

# (signature, offset, what it is, what to try): files that are certainly not text.
SIGNATURES = [
    (b"%PDF-", 0, "a PDF document", "export its text as UTF-8 (e.g. `pdftotext -enc UTF-8 file.pdf file.txt`)"),
    (b"PK\x03\x04", 0, "a ZIP archive (or a .docx/.xlsx/.epub document, which are ZIP archives)",
     "unzip it, or save the document as plain text (UTF-8)"),
    (b"PK\x05\x06", 0, "an empty ZIP archive", "remove it"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an old Microsoft Office document (.doc/.xls/.ppt)",
     "save it as plain text (UTF-8)"),
    (b"{\\rtf", 0, "an RTF document", "save it as plain text (UTF-8)"),
    (b"\x1f\x8b", 0, "a gzip-compressed file", "decompress it first (`gunzip`)"),
    (b"BZh", 0, "a bzip2-compressed file", "decompress it first (`bunzip2`)"),
    (b"\xfd7zXZ\x00", 0, "an xz-compressed file", "decompress it first (`unxz`)"),
    (b"\x28\xb5\x2f\xfd", 0, "a zstd-compressed file", "decompress it first (`unzstd`)"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive", "unpack it first"),
    (b"Rar!\x1a\x07", 0, "a RAR archive", "unpack it first"),
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image", "remove it from the input folder"),
    (b"\xff\xd8\xff", 0, "a JPEG image", "remove it from the input folder"),
    (b"GIF87a", 0, "a GIF image", "remove it from the input folder"),
    (b"GIF89a", 0, "a GIF image", "remove it from the input folder"),
    (b"WEBP", 8, "a WebP image", "remove it from the input folder"),
    (b"ftyp", 4, "a video or audio file (MP4/MOV)", "remove it from the input folder"),
    (b"ID3", 0, "an MP3 file", "remove it from the input folder"),
    (b"\x7fELF", 0, "a program (ELF executable)", "remove it from the input folder"),
    (b"MZ", 0, "a Windows program (.exe/.dll)", "remove it from the input folder"),
    (b"SQLite format 3\x00", 0, "an SQLite database", "export the articles from it as text files"),
]


def file_kind(data: bytes) -> tuple[str, str] | None:
    """(what it is, what to try) when the bytes start with the signature of a known non-text format."""
    for sig, at, what, hint in SIGNATURES:
        if data[at:at + len(sig)] == sig:
            return what, hint
    return None


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


def _sample(text: str) -> list[str]:
    """The non-ASCII characters of the first 20,000 (replacement characters left out)."""
    return [c for c in text[:20000] if ord(c) > 0x7F and c != REPLACEMENT]


def _score(text: str) -> float:
    """Share of non-ASCII characters that are common Chinese characters or CJK punctuation."""
    common = _common_chars()
    sample = _sample(text)
    if not sample:
        return 1.0
    good = sum(1 for c in sample if c in common or 0x3000 <= ord(c) <= 0x303F or 0xFF00 <= ord(c) <= 0xFFEF
               or c in "“”‘’…—·")
    return good / len(sample)


def _gibberish(text: str) -> bool:
    """True when a GB18030/Big5 decoding is made of rare characters (the wrong codec)."""
    return len(_sample(text)) >= MIN_SCORE_SAMPLE and _score(text) < MIN_SCORE


def _bad(text: str) -> tuple[int, int]:
    """(replacement characters, non-ASCII characters, replacements included)."""
    return text.count(REPLACEMENT), len(NON_ASCII.findall(text))


# --- decoding -----------------------------------------------------------------------

def decode(data: bytes, name: str = "<bytes>") -> Decoded:
    """Decode the bytes of one article; raise ReadError when it is not text."""
    name = readable_path(name)
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF8, "utf-8-sig"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _with_bom(data, codec, name)
    try:
        return _checked(data.decode("utf-8"), "utf-8", data, name)
    except UnicodeDecodeError as e:
        utf8_until = e.start
    as_utf8 = data.decode("utf-8", errors="replace")
    bad, non_ascii = _bad(as_utf8)
    if bad <= UTF8_MAX_BAD_SHARE * non_ascii:
        return _damaged(as_utf8, "utf-8", bad, data, name)
    guess = _utf16_without_bom(data)
    if guess is not None:
        return _checked(data.decode(guess), guess, data, name)
    candidates = []
    for codec in ("gb18030", "big5"):
        try:
            t = data.decode(codec)
        except UnicodeDecodeError:
            continue
        candidates.append((_score(t), codec, t))
    if candidates:
        score, codec, text = max(candidates)
        if not _gibberish(text):
            return _checked(text, codec, data, name)
    if bad <= ASCII_MAX_BAD_SHARE * len(as_utf8):
        return _damaged(as_utf8, "utf-8", bad, data, name)
    best = None
    for codec in ("gb18030", "big5"):
        text = data.decode(codec, errors="replace")
        n_bad, n_non_ascii = _bad(text)
        if best is None or n_bad < best[0]:
            best = (n_bad, n_non_ascii, codec, text)
    n_bad, n_non_ascii, codec, text = best
    if n_bad <= CJK_MAX_BAD_SHARE * n_non_ascii and not _gibberish(text):
        return _damaged(text, codec, n_bad, data, name)
    hint = "check that it is an article; if it is, re-save it as UTF-8"
    if utf8_until > max(100, 0.1 * len(data)) and max(data[:utf8_until]) >= 0x80:
        line = data[:utf8_until].count(b"\n") + 1
        hint = (f"it is valid UTF-8 up to line {line} (byte {utf8_until}) and not after: was it joined from "
                f"files in different encodings? Re-save each part as UTF-8")
    raise _refused(data, name, f"not text in UTF-8, UTF-16, GB18030/GBK or Big5 ({min(bad, n_bad)} undecodable "
                               f"byte sequences in {len(data)} bytes)", hint)


def _with_bom(data: bytes, codec: str, name: str) -> Decoded:
    label = {"utf-32": "UTF-32", "utf-16": "UTF-16", "utf-8-sig": "UTF-8"}[codec]
    try:
        return _checked(data.decode(codec), codec, data, name)
    except UnicodeDecodeError as e:
        first = e
    text = data.decode(codec, errors="replace")
    bad, non_ascii = _bad(text)
    if bad <= max(1, UTF8_MAX_BAD_SHARE * non_ascii, ASCII_MAX_BAD_SHARE * len(text)):
        return _damaged(text, codec, bad, data, name)
    raise _refused(data, name, f"starts with a {label} byte-order mark but is not valid {label} "
                               f"({first.reason} at byte {first.start}, {bad} bad sequences)",
                   "re-save it as UTF-8")


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes are UTF-16 text without a byte-order mark.

    Such text has a zero byte in every ASCII character (digits, punctuation, line
    ends), all on the same side of the pairs; other encodings have next to none.
    """
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:40000]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    for zeros, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= max(2, 0.05 * pairs) and other <= 0.01 * pairs:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if not CONTROLS.search(text[:20000]) and _score(text) >= MIN_SCORE:
                return codec
    return None


def _damaged(text: str, codec: str, bad: int, data: bytes, name: str) -> Decoded:
    d = _checked(text, codec, data, name, replaced=bad)
    d.warnings.insert(0, f"{bad} undecodable byte sequence(s) replaced by U+FFFD (read as {codec}); "
                         f"the characters there are lost")
    return d


def _checked(text: str, encoding: str, data: bytes, name: str, replaced: int = 0) -> Decoded:
    """Refuse binary files that happen to decode (many control characters); note damage and oddities."""
    if text:
        controls = len(CONTROLS.findall(text))
        if controls > max(8, MAX_CONTROL_SHARE * len(text)):
            raise _refused(data, name, f"looks like a binary file ({controls} control characters in "
                                       f"{len(text)})", "only plain-text articles can be read")
    d = Decoded(text, encoding)
    if "\x00" in text:
        d.warnings.append(f"{text.count(chr(0))} NUL character(s) removed")
    others = len(CONTROLS.findall(text)) - text.count("\x00") if text else 0
    if others:
        d.warnings.append(f"{others} control character(s) removed")
    already = text.count(REPLACEMENT) - replaced
    if already > 0:
        d.warnings.append(f"{already} replacement character(s) U+FFFD already in the file (text lost before "
                          f"it was saved)")
    head = text.lstrip("\ufeff \t\r\n")[:15].lower()
    if head.startswith(("<!doctype html", "<html")):
        d.warnings.append("looks like an HTML page: its markup is read as article text (save the page as text "
                          "to avoid that)")
    return d


def _refused(data: bytes, name: str, what: str, hint: str) -> ReadError:
    """The ReadError for bytes that are not an article, naming a known file format when it is one."""
    kind = file_kind(data)
    if kind:
        return ReadError(f"{name}: is {kind[0]}, not a plain-text article; {kind[1]}")
    return ReadError(f"{name}: {what}; {hint}")


# --- files --------------------------------------------------------------------------

def readable_path(path) -> str:
    """The path as text a person can read and a UTF-8 CSV can hold.

    A file name whose bytes are not UTF-8 (a GBK name from a Chinese zip archive)
    reaches Python with surrogates in it; each such part is decoded as GB18030 or
    Big5 when it is one, else shown with \\xNN escapes.
    """
    s = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        pass
    parts = []
    for part in s.split("/"):
        try:
            raw = part.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            parts.append(part.encode("utf-8", "backslashreplace").decode("utf-8"))
            continue
        for codec in ("utf-8", "gb18030", "big5"):
            try:
                parts.append(raw.decode(codec))
                break
            except UnicodeDecodeError:
                pass
        else:
            parts.append(raw.decode("utf-8", "backslashreplace"))
    return "/".join(parts)


def max_file_bytes(mb: float | None = None) -> int:
    """The size limit of one article file in bytes: `mb` MB, or MAX_FILE_MB."""
    return int((MAX_FILE_MB if mb is None else mb) * 1_000_000)


_KINDS = [(stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a block device")]


def read_bytes(path, limit: int | None = None, listed: bool = False) -> bytes:
    """The bytes of one regular file of at most `limit` bytes (default: max_file_bytes());
    every failure becomes a ReadError naming the file.

    Opened without blocking and checked with fstat, so a FIFO, a socket or a device
    named *.txt is refused instead of hanging or reading forever. `listed`: the file was
    found when the run listed its folder, so a missing file was moved or deleted since.
    """
    limit = max_file_bytes() if limit is None else limit
    path, shown = os.fspath(path), readable_path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            target = readable_path(os.readlink(path))
            raise ReadError(f"{shown}: file not found: it is a symbolic link to {target}, which does not exist; "
                            f"fix or remove the link") from None
        if listed:
            raise ReadError(f"{shown}: file not found (was it moved or deleted during the run?); check the path") \
                from None
        raise ReadError(f"{shown}: file not found; check the path") from None
    except IsADirectoryError:
        raise ReadError(f"{shown}: is a folder, not a file") from None
    except PermissionError:
        raise ReadError(f"{shown}: permission denied; check the file's access rights (chmod +r)") from None
    except OSError as e:
        raise ReadError(f"{shown}: cannot be opened ({e.strerror or e}); check the path") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ReadError(f"{shown}: is a folder, not a file; rename it if it is not meant to be an article")
        for test, what in _KINDS:
            if test(st.st_mode):
                raise ReadError(f"{shown}: is {what}, not a regular file; only files can be read (copy the "
                                f"article into a file)")
        if st.st_size > limit:
            raise ReadError(_too_large(shown, st.st_size, limit))
        with os.fdopen(fd, "rb") as f:
            fd = None
            data = f.read(limit + 1)
        if len(data) > limit:
            raise ReadError(_too_large(shown, len(data), limit))
        return data
    except OSError as e:
        raise ReadError(f"{shown}: cannot be read ({e.strerror or e}); check the disk or copy the file again") \
            from None
    finally:
        if fd is not None:
            os.close(fd)


def _too_large(path, size: int, limit: int) -> str:
    return (f"{path}: is {size / 1e6:.1f} MB, more than the {limit / 1e6:g} MB an article may have; split it "
            f"into articles, or raise the limit with {MAX_FILE_OPTION} <MB>")


def read_file(path) -> Decoded:
    """Read and decode one file; every failure becomes a ReadError naming the file."""
    return decode(read_bytes(path), readable_path(path))
