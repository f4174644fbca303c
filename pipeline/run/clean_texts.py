"""clean/<article>.txt of a run: written only when changed, and removed when their article is gone.

The cache records each clean text it wrote (size, modification time, hash),
so an unchanged file is not even read again, and only files the run wrote
itself are ever deleted.
"""
from __future__ import annotations

from pathlib import Path

from ..outputs import atomic_write
from .cache import Cache, content_hash


def write_clean_if_changed(out_dir: Path, article: str, data: bytes, cache: Cache | None = None) -> bool:
    """clean/<article>.txt (data: its UTF-8) through a temporary file and a rename; untouched if already equal.

    With a cache, a file it recorded (size, mtime, hash of the bytes) and
    that still has that size and mtime is not even read. No fsync per file
    (it costs as much as processing a small article): `run` syncs once
    before it replaces the CSVs.
    """
    path = out_dir / "clean" / f"{article}.txt"
    digest = content_hash(data) if cache is not None else ""
    try:
        st = path.stat()
        if st.st_size == len(data):
            if cache is not None and cache.clean_file_known(article, st.st_size, st.st_mtime_ns, digest):
                return False
            if path.read_bytes() == data:
                if cache is not None:
                    cache.record_clean_file(article, st.st_size, st.st_mtime_ns, digest)
                return False
    except OSError:
        pass
    atomic_write(path, data, durable=False)
    if cache is not None:
        st = path.stat()
        cache.record_clean_file(article, st.st_size, st.st_mtime_ns, digest)
    return True


def remove_stale_clean_texts(out_dir: Path, store: Cache, keep: set[str]) -> None:
    """Delete clean/<article>.txt of articles this run has no clean text for (input removed, or now
    an error), as a fresh run would not have them: only files the cache recorded writing, unchanged
    since (same size and modification time); a file someone else put there is left alone."""
    for article, (size, mtime_ns) in store.clean_file_stats().items():
        if article in keep:
            continue
        path = out_dir / "clean" / f"{article}.txt"
        try:
            st = path.stat()
            if (st.st_size, st.st_mtime_ns) == (size, mtime_ns):
                path.unlink()
        except OSError:
            pass
        store.forget_clean_file(article)
