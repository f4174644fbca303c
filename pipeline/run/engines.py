"""Where the per-article work runs: in this process, in worker processes, or on a Dask cluster.

Every engine runs the same function, `process_data`, on tasks
`(article, path, data)`: the main process has already read the file's bytes
(it hashes them for the cache), so workers never touch the input files (a
Dask cluster needs no shared file system for the articles) and the result
always belongs to exactly the bytes that were hashed.

The worker also renders the result (`outputs.render`): the CSV lines of its rows and
of its articles.csv row, its clean text and its counts. The main process then
only writes strings (and the cache keeps them as they are), so it stays a
small share of the work however many workers feed it.

An engine is started lazily, on the first task, so a run where every article
comes from the cache never loads jieba or starts a worker. `submit(tasks)`
returns a future-like object whose `result()` is the list of Rendered
results in task order (packed into bytes by worker processes when there is a
cache); the caller keeps the futures in order, so output order never depends
on which worker finishes first.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import tempfile
from concurrent.futures import Future
from pathlib import Path

from ..article import ArticleResult, process_bytes
from ..outputs import Rendered, render
from ..rules import Rules
from .cache import pack

Task = tuple  # (article id, path as str, file bytes)


def process_data(article: str, path: str, data: bytes, rules: Rules) -> ArticleResult:
    """`article.process_file` on bytes already read from `path`: same result, never raises for bad input."""
    try:
        return process_bytes(article, data, rules, name=path)
    except RecursionError:                 # as process_file
        return ArticleResult(article, status="error", error=f"{path}: text too deeply nested to process")


def process_tasks(tasks: list[Task], rules: Rules) -> list[Rendered]:
    return [render(process_data(a, p, d, rules)) for a, p, d in tasks]


def process_tasks_packed(tasks: list[Task], rules: Rules) -> list[bytes]:
    """As process_tasks, each result packed (cache.pack) by the worker: smaller to send, and the
    main process stores it in the cache as it is."""
    return [pack(r) for r in process_tasks(tasks, rules)]


class InlineEngine:
    """Everything in this process (`--jobs 1`)."""

    name = "local, 1 process"
    capacity = 1          # articles processed at the same time

    def __init__(self, rules: Rules):
        self.rules = rules

    def submit(self, tasks: list[Task]) -> Future:
        f: Future = Future()
        f.set_result(process_tasks(tasks, self.rules))
        return f

    def close(self, cancel: bool = False) -> None:
        pass


# --- worker processes -------------------------------------------------------

_WORKER_RULES: Rules | None = None


def _init_worker(rules: Rules) -> None:
    global _WORKER_RULES
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the main process's to handle
    _WORKER_RULES = rules


def _work(tasks: list[Task], packed: bool) -> list:
    return process_tasks_packed(tasks, _WORKER_RULES) if packed else process_tasks(tasks, _WORKER_RULES)


class ProcessEngine:
    """`n_jobs` worker processes, each with the rules (inherited, not re-read) and its own jieba.

    packed: workers send results packed for the cache (cache.pack, compressed); without a
    cache they send them as they are (compressing only to decompress would cost CPU).
    """

    def __init__(self, rules: Rules, n_jobs: int, packed: bool = True):
        self.rules, self.n_jobs, self.packed = rules, n_jobs, packed
        self.name = f"local, {n_jobs} worker processes"
        self.capacity = n_jobs
        self._pool = None

    def submit(self, tasks: list[Task]) -> Future:
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor
            # fork: the workers inherit the loaded rules and imported modules (no pickling, no re-import)
            ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            self._pool = ProcessPoolExecutor(self.n_jobs, mp_context=ctx, initializer=_init_worker,
                                             initargs=(self.rules,))
        return self._pool.submit(_work, tasks, self.packed)

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


# --- Dask ---------------------------------------------------------------------

def rules_files(rules: Rules) -> dict[str, bytes]:
    """Every file of the rules folder (relative path -> bytes), to rebuild it on a worker that lacks it."""
    root = Path(rules.dir)
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _files_digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


@dataclasses.dataclass
class RulesPayload:
    """What a Dask worker needs: the loaded Rules and the bytes of the rules folder's files."""
    rules: Rules
    files: dict[str, bytes]


_DASK_RULES: dict[str, Rules] = {}


def _worker_rules(payload: RulesPayload) -> Rules:
    """The Rules to use on this Dask worker, once per worker and rules version.

    The Rules arrive pickled; the only thing read from the rules folder while
    processing is `jieba_user.dict` (by path), so when the worker does not see
    the same folder (no shared file system), the folder's files are written to
    a local temporary folder and `rules.dir` points there. Rule ids, files and
    lines (in messages) stay those of the main process.
    """
    rules, files = payload.rules, payload.files
    key = _files_digest(files)
    got = _DASK_RULES.get(key + str(rules.dir))
    if got is None:
        try:
            same = _files_digest(rules_files(rules)) == key
        except OSError:
            same = False
        if not same:
            local = Path(tempfile.gettempdir()) / f"cn-news-facts-rules-{key[:16]}"
            for name, data in files.items():
                p = local / name
                if not (p.exists() and p.read_bytes() == data):
                    p.parent.mkdir(parents=True, exist_ok=True)
                    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
                    tmp.write_bytes(data)
                    os.replace(tmp, p)
            rules = dataclasses.replace(rules, dir=local)
        got = _DASK_RULES[key + str(payload.rules.dir)] = rules
    return got


def _dask_work(tasks: list[Task], payload: RulesPayload) -> list[bytes]:
    return process_tasks_packed(tasks, _worker_rules(payload))


class DaskEngine:
    """A Dask cluster: `scheduler` address (`tcp://host:8786`), or a LocalCluster started here."""

    def __init__(self, rules: Rules, scheduler: str | None = None, n_workers: int | None = None):
        self.rules, self.scheduler, self.n_workers = rules, scheduler, n_workers
        self.capacity = n_workers or os.cpu_count() or 1
        self.name = f"dask, scheduler {scheduler}" if scheduler else f"dask, LocalCluster of {n_workers} workers"
        self._client = self._cluster = self._payload = None

    def start(self) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError("--engine dask needs dask.distributed: pip install -e '.[dask]' "
                               "(or pip install 'dask[distributed]')") from None
        if self.scheduler:
            self._client = Client(self.scheduler)
        else:
            self._cluster = LocalCluster(n_workers=self.n_workers or os.cpu_count() or 1, threads_per_worker=1,
                                         processes=True, dashboard_address=":0")
            self._client = Client(self._cluster)
        # the rules go to every worker once; tasks refer to them
        self._payload = self._client.scatter(RulesPayload(self.rules, rules_files(self.rules)), broadcast=True)
        self.capacity = max(1, sum(self._client.nthreads().values()))

    def submit(self, tasks: list[Task]):
        if self._client is None:
            self.start()
        return self._client.submit(_dask_work, tasks, self._payload, pure=False)

    def close(self, cancel: bool = False) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_engine(rules: Rules, n_jobs: int = 1, engine: str = "local", scheduler: str | None = None,
                packed: bool = True):
    """packed: local workers send results packed for the cache (pass False when there is none)."""
    if engine == "dask":
        return DaskEngine(rules, scheduler, n_jobs)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r} (local or dask)")
    return InlineEngine(rules) if n_jobs <= 1 else ProcessEngine(rules, n_jobs, packed)
