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
Writes are SQLite transactions, committed about once a second, at the end,
and before the run waits for an article to be processed (`flush`), so a
write lock is never held while articles are processed (another program
reading the cache is never kept waiting) and a killed run leaves a consistent
cache that lacks at most its last few entries; nothing half-written is ever
read back. After a complete run, entries of articles that were not part of
it are deleted, so the cache follows the outputs it sits beside.

The cache is only ever a speed-up: a cache that is damaged (any SQLite
"malformed" or "not a database" error, at any point of the run) or was made
by another layout is moved aside (`results.sqlite.broken-<time>`) with a
warning and the run goes on with an empty one; in a folder that cannot be
written it is opened read-only (an unchanged re-run then still succeeds).
stdlib only.
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

from .errors import RunError

SCHEMA = 1
CACHE_DIR = ".cache"
DB_NAME = "results.sqlite"
# The tables and their columns: a table of another layout (another release) moves the file aside.
TABLES = {
    "results": "article TEXT PRIMARY KEY, path TEXT NOT NULL, content TEXT NOT NULL, env TEXT NOT NULL, "
               "run INTEGER NOT NULL, result BLOB NOT NULL",
    # clean/<article>.txt as this cache last wrote or checked it: size, mtime and hash of its bytes
    "clean_files": "article TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, "
                   "content TEXT NOT NULL",
    # the outputs the last complete run wrote (run.up_to_date): one row, JSON
    "outputs": "id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT NOT NULL",
}
# Seconds to wait for another program's write lock on the cache before giving up with a message.
LOCK_TIMEOUT = 10
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


class CacheDamaged(Exception):
    """The cache file is not a database of our layout (damaged, or made by another release)."""


def _kind(e: sqlite3.Error) -> str:
    """What an SQLite error means for the cache: damaged, locked, readonly, full or other."""
    name = getattr(e, "sqlite_errorname", "") or ""
    for prefix, kind in (("SQLITE_CORRUPT", "damaged"), ("SQLITE_NOTADB", "damaged"), ("SQLITE_IOERR", "damaged"),
                         ("SQLITE_BUSY", "locked"), ("SQLITE_LOCKED", "locked"), ("SQLITE_READONLY", "readonly"),
                         ("SQLITE_FULL", "full"), ("SQLITE_CANTOPEN", "cantopen")):
        if name.startswith(prefix):
            return kind
    if type(e) is sqlite3.DatabaseError:
        return "damaged"
    return "other"


class Cache:
    """Results by article id, valid for one (content, path, env).

    read_only: the output folder cannot be written; the cache is read as it is
    (or not at all when there is none) and nothing is ever written to it.
    """

    COMMIT_EVERY = 1.0  # seconds
    forced = False      # --force: results and clean-text records are written, never read

    def __init__(self, folder: Path, env: str, read_only: bool = False):
        self.folder, self.env, self.read_only = Path(folder), env, read_only
        self.path = self.folder / DB_NAME
        self.run_id = time.time_ns() & 0x7FFFFFFFFFFFFFFF
        self.hits = self.stored = 0
        self._seen: list[tuple[int, str]] = []
        self._last_commit = time.monotonic()
        self._db: sqlite3.Connection | None = None
        if self.folder.exists() and not self.folder.is_dir():
            raise RunError(f"{self.folder} is a file, not the result cache folder; move it away, or run with "
                           f"--no-cache")
        if read_only:
            self._db = self._open_read_only()
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._connect()
        except (sqlite3.Error, CacheDamaged) as e:
            if isinstance(e, sqlite3.Error) and _kind(e) != "damaged":
                raise self._fatal(e) from None
            self._move_aside(e)
            self._db = self._connect()

    # --- opening --------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._check_layout(db)
            for name, columns in TABLES.items():
                db.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def _open_read_only(self) -> sqlite3.Connection | None:
        """The cache of a folder that cannot be written, or None (none there, or unusable)."""
        if not self.path.is_file():
            return None
        try:   # immutable: no -shm/-wal file can be made in a read-only folder, and none is needed
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True)
            self._check_layout(db)
            db.execute("SELECT count(*) FROM results").fetchone()
            return db
        except (sqlite3.Error, CacheDamaged, OSError):
            return None

    @staticmethod
    def _check_layout(db: sqlite3.Connection) -> None:
        """Raise CacheDamaged when a table exists with other columns than TABLES says (another release)."""
        for name, columns in TABLES.items():
            have = [row[1] for row in db.execute(f"PRAGMA table_info({name})")]
            want = [c.strip().split()[0] for c in columns.split(",") if not c.strip().startswith("CHECK")]
            if have and have != want:
                raise CacheDamaged(f"its table {name} has the columns {', '.join(have)}: made by another version")

    def _move_aside(self, why) -> None:
        """Put the unusable file aside (kept for inspection) and say so; the next connect starts afresh."""
        aside = self.path.with_name(f"{DB_NAME}.broken-{int(time.time())}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise RunError(f"the result cache {self.path} is unusable ({why}) and cannot be moved aside "
                           f"({e.strerror}); remove it, or run with --no-cache") from None
        for suffix in ("-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        print(f"warning: the result cache {self.path} was unreadable ({why}); moved to {aside.name}, "
              f"starting an empty one", file=sys.stderr)

    def _fatal(self, e: sqlite3.Error) -> Exception:
        """The RunError (or OSError, for the caller to word) of an SQLite error the cache cannot recover from."""
        kind = _kind(e)
        if kind == "locked":
            return RunError(f"the result cache {self.path} is locked by another program (waited {LOCK_TIMEOUT} s); "
                            f"close it, or run with --no-cache")
        if kind == "full":
            import errno
            return OSError(errno.ENOSPC, "No space left on device", str(self.path))
        if kind in ("readonly", "cantopen"):
            import errno
            return OSError(errno.EACCES, "Permission denied", str(self.path))
        return RunError(f"the result cache {self.path} cannot be used ({e}); run with --no-cache")

    # --- every use of the database goes through here ---------------------------------------------

    def _use(self, op, default=None, write: bool = False):
        """op(db), or default when there is no usable database; damage moves the cache aside (the
        run goes on with an empty one and recomputes), other errors stop the run with a message."""
        if self._db is None or (write and self.read_only):
            return default
        try:
            return op(self._db)
        except sqlite3.Error as e:
            if _kind(e) != "damaged" or self.read_only:
                if self.read_only:
                    self._db = None
                    return default
                raise self._fatal(e) from None
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
            self._seen.clear()
            self._move_aside(e)
            self._db = self._connect()
            return default

    # --- the outputs' state, the clean texts -------------------------------------------------------

    def outputs_state(self) -> dict | None:
        """What the last complete run recorded about its outputs, if made with this env."""
        row = self._use(lambda db: db.execute("SELECT state FROM outputs WHERE id = 0").fetchone())
        if row is None:
            return None
        try:
            state = json.loads(row[0])
        except ValueError:
            return None
        return state if isinstance(state, dict) and state.get("env") == self.env else None

    def set_outputs_state(self, state: dict | None) -> None:
        """Record (or, with None, forget) the outputs of a complete run; committed at once."""
        def op(db):
            db.execute("DELETE FROM outputs")
            if state is not None:
                db.execute("INSERT INTO outputs VALUES (0, ?)", (json.dumps({"env": self.env, **state}),))
            db.commit()
        self._use(op, write=True)

    def forget_clean_file(self, article: str) -> None:
        self._use(lambda db: db.execute("DELETE FROM clean_files WHERE article = ?", (article,)), write=True)

    def clean_file_stats(self) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of every clean text recorded, by article."""
        return self._use(lambda db: {a: (size, mtime) for a, size, mtime in
                                     db.execute("SELECT article, size, mtime_ns FROM clean_files")}, {})

    def clean_file_known(self, article: str, size: int, mtime_ns: int, content: str) -> bool:
        """True when clean/<article>.txt was recorded with this size and mtime, holding bytes of this hash."""
        if self.forced:
            return False
        row = self._use(lambda db: db.execute("SELECT size, mtime_ns, content FROM clean_files WHERE article = ?",
                                              (article,)).fetchone())
        return row is not None and tuple(row) == (size, mtime_ns, content)

    def record_clean_file(self, article: str, size: int, mtime_ns: int, content: str) -> None:
        self._use(lambda db: db.execute("INSERT OR REPLACE INTO clean_files VALUES (?, ?, ?, ?)",
                                        (article, size, mtime_ns, content)), write=True)

    # --- results -------------------------------------------------------------------------------------

    def get(self, article: str, path: str, content: str | None):
        """The cached result, or None. content None: whatever the file held (its folder cannot be
        listed, so the result of the last run is kept as it was)."""
        if self.forced:
            return None
        row = self._use(lambda db: db.execute("SELECT path, content, env, result FROM results WHERE article = ?",
                                              (article,)).fetchone())
        if row is None or (row[0], row[2]) != (path, self.env) or content is not None and row[1] != content:
            return None
        try:
            result = unpack(row[3])
        except Exception:  # unreadable entry: recompute it
            return None
        self.hits += 1
        self._seen.append((self.run_id, article))
        self._maybe_commit()
        return result

    def articles_under(self, folder: str) -> list[tuple[str, str]]:
        """(article, path) of the entries of this env whose path lies under folder (a path as given)."""
        prefix = folder.rstrip("/") + "/"
        rows = self._use(lambda db: db.execute("SELECT article, path FROM results WHERE env = ? AND "
                                               "substr(path, 1, ?) = ? ORDER BY article",
                                               (self.env, len(prefix), prefix)).fetchall(), [])
        return [tuple(r) for r in rows]

    def put(self, article: str, path: str, content: str, result=None, blob: bytes | None = None) -> None:
        """Store result (or its packed form, blob)."""
        if self._db is None or self.read_only:
            return
        blob = pack(result) if blob is None else blob
        self._use(lambda db: db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                                        (article, path, content, self.env, self.run_id, blob)), write=True)
        self.stored += 1
        self._maybe_commit()

    def flush(self) -> None:
        """Commit what is pending: called before the run waits for articles to be processed, so that
        no write lock is held meanwhile."""
        self._maybe_commit(force=True)

    def _maybe_commit(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._db is None or self.read_only or not (force or now - self._last_commit >= self.COMMIT_EVERY):
            return

        def op(db):
            if self._seen:
                db.executemany("UPDATE results SET run = ? WHERE article = ?", self._seen)
                self._seen.clear()
            db.commit()
        self._use(op, write=True)
        self._last_commit = now

    def close(self, prune: bool = False) -> None:
        """Commit; with prune (after a complete run), drop entries of articles this run did not see."""
        if self._db is None:
            return
        try:
            self._maybe_commit(force=True)
            if prune:
                def op(db):
                    db.execute("DELETE FROM results WHERE run != ?", (self.run_id,))
                    db.execute("DELETE FROM clean_files WHERE article NOT IN (SELECT article FROM results)")
                    db.commit()
                self._use(op, write=True)
        finally:
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
            self._db = None

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self._use(lambda db: db.execute("SELECT count(*) FROM results").fetchone()[0], 0)
