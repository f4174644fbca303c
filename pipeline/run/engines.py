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

No worker's death loses a run. A local worker killed by the system (the
out-of-memory killer) breaks its pool, and every chunk in flight fails
with it: each of their articles is then tried again alone in a separate
one-worker pool, where a death can only be its own, and an article that
kills that worker twice becomes an error row (not cached; the next run tries
it again). Workers die with the main process (Linux: PR_SET_PDEATHSIG;
elsewhere a watchdog thread). On Dask the rules are a task the cluster can
recompute when it loses every worker, each result carries the code version
of the worker that made it, and a result made by other code is refused.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..article import ArticleResult, process_bytes
from ..outputs import Rendered, atomic_write, render
from ..rules import Rules
from ..usercache import user_cache_dir
from . import dependencies
from .cache import code_version, pack
from .errors import RunError

Task = tuple  # (article id, path as str, file bytes)


def process_data(article: str, path: str, data: bytes, rules: Rules) -> ArticleResult:
    """`article.process_file` on bytes already read from `path`: same result, never raises for bad input."""
    try:
        return process_bytes(article, data, rules, name=path)
    except RecursionError:                 # as process_file
        return ArticleResult(article, status="error", error=f"{path}: text too deeply nested to process")


def process_tasks(tasks: list[Task], rules: Rules) -> list[Rendered]:
    """Rendered results of tasks; the dependencies are checked first (once per process)."""
    dependencies.check()
    return [render(process_data(a, p, d, rules)) for a, p, d in tasks]


def process_tasks_packed(tasks: list[Task], rules: Rules) -> list[bytes]:
    """As process_tasks, each result packed (cache.pack) by the worker: smaller to send, and the
    main process stores it in the cache as it is."""
    return [pack(r) for r in process_tasks(tasks, rules)]


@dataclasses.dataclass
class Transient:
    """A result that must not be cached: the error row of an article whose worker died (a later run,
    with more memory free, may well process it)."""
    rendered: Rendered


def worker_died(task: Task) -> Transient:
    article, path, _ = task
    return Transient(render(ArticleResult(article, status="error", error=(
        f"{path}: the worker process processing it died twice (killed by the system: out of memory?); "
        f"it was not processed; the other files are fine"))))


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
PR_SET_PDEATHSIG = 1           # linux/prctl.h


def _die_with(parent: int) -> None:
    """End this worker when the process `parent` ends, however it ends (kill -9, the OOM killer):
    a worker left running would hold its memory (about 250 MB) for nothing."""
    import signal
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux") and libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:        # it died before the request took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()


def _init_worker(rules: Rules, parent: int | None = None) -> None:
    global _WORKER_RULES
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the main process's to handle
    if parent is not None:
        _die_with(parent)
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
        self._solo = None       # the one-worker pool where the articles of a dead worker are tried again

    def _new_pool(self, n: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        # fork: the workers inherit the loaded rules and imported modules (no pickling, no re-import)
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        return ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker, initargs=(self.rules, os.getpid()))

    def submit(self, tasks: list[Task]):
        if self._pool is None:
            self._pool = self._new_pool(self.n_jobs)
        return _Watched(self, self._pool, tasks, self._pool.submit(_work, tasks, self.packed))

    def pool_broke(self, pool) -> None:
        """A worker of pool died: the next chunks go to a fresh pool."""
        if self._pool is pool:
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def alone(self, task: Task):
        """The result of one task run by itself in the one-worker pool, where a death can only be its own;
        worker_died() when it kills that worker twice."""
        for _ in range(2):
            if self._solo is None:
                self._solo = self._new_pool(1)
            try:
                return self._solo.submit(_work, [task], self.packed).result()[0]
            except BrokenProcessPool:
                self._solo.shutdown(wait=False, cancel_futures=True)
                self._solo = None
        return worker_died(task)

    def close(self, cancel: bool = False) -> None:
        for pool in (self._pool, self._solo):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=cancel)
        self._pool = self._solo = None


class _Watched:
    """The future of one chunk in a worker pool; when a worker of the pool died (BrokenProcessPool:
    every chunk in flight fails, not only the dead worker's), its articles are tried again one by one."""

    def __init__(self, engine: ProcessEngine, pool, tasks: list[Task], future: Future):
        self.engine, self.pool, self.tasks, self.future = engine, pool, tasks, future

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> list:
        try:
            return self.future.result()
        except BrokenProcessPool:
            self.engine.pool_broke(self.pool)
            return [self.engine.alone(t) for t in self.tasks]


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


def _rules_copy(key: str, files: dict[str, bytes]) -> Path:
    """A folder holding exactly these files, in the per-user cache folder (or a private temporary one)."""
    base = user_cache_dir()
    if base is None:
        import tempfile
        base = Path(tempfile.mkdtemp(prefix="cn-news-facts-"))
    local = base / f"rules-{key[:16]}"
    for name, data in files.items():
        p = local / name
        if not (p.is_file() and p.read_bytes() == data):
            atomic_write(p, data, durable=False)
    return local


def _worker_rules(payload: RulesPayload) -> Rules:
    """The Rules to use on this Dask worker, once per worker and rules version.

    The Rules arrive pickled; the only thing read from the rules folder while
    processing is `jieba_user.dict` (by path), so when the worker does not see
    the same folder (no shared file system), the folder's files are written to
    a folder of the per-user cache (usercache.py) and `rules.dir` points there.
    Rule ids, files and lines (in messages) stay those of the main process.
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
            rules = dataclasses.replace(rules, dir=_rules_copy(key, files))
        got = _DASK_RULES[key + str(payload.rules.dir)] = rules
    return got


def _payload(payload: RulesPayload) -> RulesPayload:
    """The rules as a task: a cluster that loses every worker computes it again (scattered data is lost)."""
    return payload


def _dask_work(tasks: list[Task], payload: RulesPayload) -> tuple[str, list[bytes]]:
    """(this worker's code version, packed results): the main process refuses results of other code."""
    return code_version(), process_tasks_packed(tasks, _worker_rules(payload))


# Seconds to wait for the Dask scheduler before saying it cannot be reached.
SCHEDULER_TIMEOUT = 30


class DaskEngine:
    """A Dask cluster: `scheduler` address (`tcp://host:8786`), or a LocalCluster started here."""

    def __init__(self, rules: Rules, scheduler: str | None = None, n_workers: int | None = None):
        self.rules, self.scheduler, self.n_workers = rules, scheduler, n_workers
        self.capacity = n_workers or os.cpu_count() or 1
        self.name = f"dask, scheduler {scheduler}" if scheduler else f"dask, LocalCluster of {n_workers} workers"
        self.code = code_version()
        self._client = self._cluster = self._payload = None

    def start(self) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RunError("--engine dask needs dask.distributed: pip install -e '.[dask]' "
                           "(or pip install 'dask[distributed]')") from None
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, ValueError, TypeError) as e:
                raise RunError(f"cannot reach the Dask scheduler {self.scheduler} ({e}); check --scheduler "
                               f"(an address such as tcp://10.0.0.5:8786)") from None
        else:
            self._cluster = LocalCluster(n_workers=self.n_workers or os.cpu_count() or 1, threads_per_worker=1,
                                         processes=True, dashboard_address=":0")
            self._client = Client(self._cluster)
        payload = RulesPayload(self.rules, rules_files(self.rules))
        self._payload = self._client.submit(_payload, payload, key=f"rules-{_files_digest(payload.files)[:16]}-"
                                                                   f"{self.rules.digest}", pure=False)
        self.capacity = max(1, sum(self._client.nthreads().values()))

    def submit(self, tasks: list[Task]):
        if self._client is None:
            self.start()
        return _DaskResult(self, tasks, self._client.submit(_dask_work, tasks, self._payload, pure=False))

    def close(self, cancel: bool = False) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


class _DaskResult:
    """The future of one chunk on the cluster: its results, checked to come from this code version.

    A chunk whose tasks killed their workers (KilledWorker) is tried again one
    article at a time, and an article that does it alone is an error row; a
    cluster that lost the work otherwise stops the run with a message."""

    def __init__(self, engine: DaskEngine, tasks: list[Task], future):
        self.engine, self.tasks, self.future = engine, tasks, future

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> list:
        try:
            code, results = self.future.result()
        except RunError:
            raise
        except Exception as e:
            if type(e).__name__ != "KilledWorker":
                raise RunError(f"the Dask cluster lost the work ({type(e).__name__}: {e}); run again to continue "
                               f"(finished articles are cached)") from None
            if len(self.tasks) == 1:
                return [worker_died(self.tasks[0])]
            return [self.engine.submit([t]).result()[0] for t in self.tasks]
        if code != self.engine.code:
            raise RunError(f"a Dask worker runs other code or other dependency versions (cn-news-facts {code}) "
                           f"than this machine ({self.engine.code}); its results are refused and not cached: "
                           f"install the same versions on every machine")
        return results


def make_engine(rules: Rules, n_jobs: int = 1, engine: str = "local", scheduler: str | None = None,
                packed: bool = True):
    """packed: local workers send results packed for the cache (pass False when there is none)."""
    if engine == "dask":
        return DaskEngine(rules, scheduler, n_jobs)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r} (local or dask)")
    return InlineEngine(rules) if n_jobs <= 1 else ProcessEngine(rules, n_jobs, packed)
