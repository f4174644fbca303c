"""The result cache of incremental runs: `<out>/.cache/results.sqlite`.

A daily job re-runs on a growing folder; an article whose bytes, rules and
code did not change gives the same result, so it is taken from here instead
of going through the stages again. One row per article id:

    article (key) | path | content | env | run | result

- `content`: BLAKE2b of the file's bytes (what was actually processed).
- `path`: the input path as given (messages and warnings quote it).
- `env`: the cache schema, `rules.digest` and `code_version()`: the package
  version plus a hash of the package's source (IN_KEY: the modules that shape a
  result or its CSV form) and the
  versions of jieba, OpenCC, regex, pypinyin and Python. Any change there makes every entry a miss, so
  an entry is never served stale.
- `result`: the article's result as the outputs hold it (engines.Rendered:
  its lines of extractions.csv, its line of articles.csv with meta, counts
  and warnings, its clean text, its counts per kind), pickled and
  zlib-compressed. A hit is written out as it is: no parsing, no formatting.

An entry is used only when all four of article, path, content and env match.
Writes are SQLite transactions (committed about once a second and at the
end), so a killed run leaves a consistent cache that lacks at most the last
second of entries; nothing half-written is ever read back. After a complete
run, entries of articles that were not part of it are deleted, so the cache
follows the outputs it sits beside. stdlib only.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import pickle
import sqlite3
import sys
import time
import zlib
from pathlib import Path

SCHEMA = 1
CACHE_DIR = ".cache"
DB_NAME = "results.sqlite"
# Dependencies whose behaviour shapes a result.
DEPENDENCIES = ("jieba", "opencc-python-reimplemented", "regex", "pypinyin")
# The package source that shapes a result or its CSV lines: the stages, the per-article path, the
# rules loader and the output schema (paths relative to the package; a folder means every module in
# it, new ones included). The run machinery (run/) and the commands (commands/) cannot change a row:
# editing them keeps the cache.
IN_KEY = ("stages", "article.py", "rules.py", "outputs.py")


def result_modules() -> list[Path]:
    """The package files of IN_KEY, sorted."""
    pkg = Path(__file__).resolve().parent.parent
    found = []
    for name in IN_KEY:
        p = pkg / name
        found += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return found


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Package version + hash of the result-shaping package source and dependency versions."""
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "none"
    h = hashlib.sha256()
    for dist in DEPENDENCIES:
        h.update(f"{dist}={version(dist)}\n".encode())
    h.update(f"python={sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    pkg = Path(__file__).resolve().parent.parent
    for p in result_modules():
        h.update(p.relative_to(pkg).as_posix().encode() + b"\0" + p.read_bytes())
    return f"{version('cn-news-facts')}+{h.hexdigest()[:16]}"


def env_key(rules_digest: str) -> str:
    return f"schema{SCHEMA}:{rules_digest}:{code_version()}"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def pack(result) -> bytes:
    """The stored form of a result (workers pack, so the main process only stores and unpacks)."""
    return zlib.compress(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(blob: bytes):
    return pickle.loads(zlib.decompress(blob))


class Cache:
    """Results by article id, valid for one (content, path, env)."""

    COMMIT_EVERY = 1.0  # seconds

    def __init__(self, folder: Path, env: str):
        self.folder, self.env = Path(folder), env
        self.path = self.folder / DB_NAME
        self.run_id = time.time_ns() & 0x7FFFFFFFFFFFFFFF
        self.hits = self.stored = 0
        self._seen: list[tuple[int, str]] = []
        self._last_commit = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as e:
            # not a database any more (disk trouble, edited by hand): start afresh, keep the old file aside
            aside = self.path.with_name(f"{DB_NAME}.broken-{int(time.time())}")
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            print(f"warning: the result cache {self.path} was unreadable ({e}); moved to {aside.name}, "
                  f"starting an empty one", file=sys.stderr)
            self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS results (article TEXT PRIMARY KEY, path TEXT NOT NULL, "
                   "content TEXT NOT NULL, env TEXT NOT NULL, run INTEGER NOT NULL, result BLOB NOT NULL)")
        # clean/<article>.txt as this cache last wrote or checked it: size, mtime and hash of its bytes
        db.execute("CREATE TABLE IF NOT EXISTS clean_files (article TEXT PRIMARY KEY, size INTEGER NOT NULL, "
                   "mtime_ns INTEGER NOT NULL, content TEXT NOT NULL)")
        # the outputs the last complete run wrote (run.up_to_date): one row, JSON
        db.execute("CREATE TABLE IF NOT EXISTS outputs (id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT NOT NULL)")
        db.commit()
        return db

    def outputs_state(self) -> dict | None:
        """What the last complete run recorded about its outputs, if made with this env."""
        row = self._db.execute("SELECT state FROM outputs WHERE id = 0").fetchone()
        if row is None:
            return None
        try:
            state = json.loads(row[0])
        except ValueError:
            return None
        return state if isinstance(state, dict) and state.get("env") == self.env else None

    def set_outputs_state(self, state: dict | None) -> None:
        """Record (or, with None, forget) the outputs of a complete run; committed at once."""
        self._db.execute("DELETE FROM outputs")
        if state is not None:
            self._db.execute("INSERT INTO outputs VALUES (0, ?)", (json.dumps({"env": self.env, **state}),))
        self._db.commit()

    def forget_clean_file(self, article: str) -> None:
        self._db.execute("DELETE FROM clean_files WHERE article = ?", (article,))

    def clean_file_stats(self) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of every clean text recorded, by article."""
        return {a: (size, mtime) for a, size, mtime in self._db.execute("SELECT article, size, mtime_ns FROM clean_files")}

    def clean_file_known(self, article: str, size: int, mtime_ns: int, content: str) -> bool:
        """True when clean/<article>.txt was recorded with this size and mtime, holding bytes of this hash."""
        row = self._db.execute("SELECT size, mtime_ns, content FROM clean_files WHERE article = ?",
                               (article,)).fetchone()
        return row is not None and tuple(row) == (size, mtime_ns, content)

    def record_clean_file(self, article: str, size: int, mtime_ns: int, content: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO clean_files VALUES (?, ?, ?, ?)", (article, size, mtime_ns, content))

    def get(self, article: str, path: str, content: str):
        """The cached ArticleResult, or None."""
        row = self._db.execute("SELECT path, content, env, result FROM results WHERE article = ?",
                               (article,)).fetchone()
        if row is None or (row[0], row[1], row[2]) != (path, content, self.env):
            return None
        try:
            result = unpack(row[3])
        except Exception:  # unreadable entry: recompute it
            return None
        self.hits += 1
        self._seen.append((self.run_id, article))
        self._maybe_commit()
        return result

    def put(self, article: str, path: str, content: str, result=None, blob: bytes | None = None) -> None:
        """Store result (or its packed form, blob)."""
        blob = pack(result) if blob is None else blob
        self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                         (article, path, content, self.env, self.run_id, blob))
        self.stored += 1
        self._maybe_commit()

    def _maybe_commit(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_commit >= self.COMMIT_EVERY:
            if self._seen:
                self._db.executemany("UPDATE results SET run = ? WHERE article = ?", self._seen)
                self._seen.clear()
            self._db.commit()
            self._last_commit = now

    def close(self, prune: bool = False) -> None:
        """Commit; with prune (after a complete run), drop entries of articles this run did not see."""
        if self._db is None:
            return
        try:
            self._maybe_commit(force=True)
            if prune:
                self._db.execute("DELETE FROM results WHERE run != ?", (self.run_id,))
                self._db.execute("DELETE FROM clean_files WHERE article NOT IN (SELECT article FROM results)")
                self._db.commit()
        finally:
            self._db.close()
            self._db = None

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM results").fetchone()[0]
