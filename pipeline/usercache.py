"""The per-user cache folder: `$XDG_CACHE_HOME/cn-news-facts`, by default `~/.cache/cn-news-facts`.

What is kept there is derived data that any process can rebuild and that
never changes a result: the GBK-repair tables built from jieba's dictionary
(stages/repair.py), jieba's word frequencies and the dictionary's word tags
(stages/segment.py, `cached_marshal`), the last rules loaded by a command, compiled
(`rules.pickle`, rules.load_rules(cached=True): keyed on the rules folder's
files and the loader's code) and, on a Dask worker that does not see the
rules folder of the main process, a copy of its files (run/engines.py). Never a shared
`/tmp` path: there another user's file would be read as ours, or block ours.
Deleting the folder is always safe. When it cannot be made (no home folder,
read-only), None: callers then do without it.
"""
from __future__ import annotations

import os
from pathlib import Path

APP = "cn-news-facts"


def user_cache_dir() -> Path | None:
    """The folder (made, mode 0700, when missing), or None when there is none to be had."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    folder = Path(base) / APP
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def cached_marshal(name: str, key: str, build):
    """build()'s value, kept in the per-user cache as the marshal file `name` under `key`.

    A later process whose key is the same reads it back (marshal.loads of the file's bytes:
    marshal.load on the file object reads it in small pieces and takes three times as long);
    a missing, damaged or differently keyed file is rebuilt and replaced (atomically: a
    concurrent process sees the old file or the new one). The value must be what marshal
    stores (dicts, strings, numbers...) and must not depend on anything the key leaves out.
    Without a cache folder, build() each time.
    """
    import marshal

    folder = user_cache_dir()
    path = folder / name if folder is not None else None
    if path is not None:
        try:
            with open(path, "rb") as fh:
                stored_key, value = marshal.loads(fh.read())
            if stored_key == key:
                return value
        except (OSError, EOFError, ValueError, TypeError):
            pass
    value = build()
    if path is not None:
        from .outputs import atomic_write
        try:
            atomic_write(path, marshal.dumps((key, value)), durable=False)
        except (OSError, ValueError):
            pass
    return value
