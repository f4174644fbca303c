"""The main job: every article of the inputs through the stages into `outputs/`.

`run` goes through named steps:

1. find the inputs (inputs.py) and refuse, before anything is written, a
   missing input or an input folder without any article (a share that is not
   mounted would otherwise replace every output with nothing);
2. lock the output folder (lock.py: one run at a time) and open the cache;
3. plan the jobs: the articles found, plus, for a sub-folder that cannot be
   listed, the articles the last run found there, kept from the cache as
   they were (the folder gets an error row; nothing of it is deleted);
4. when the outputs already hold what this run would write, stop there
   (`up_to_date`: an unchanged daily re-run writes nothing);
5. otherwise stream the results into new outputs (OutputWriter).

The main process reads each file's bytes and looks them up in the result
cache (`outputs/.cache/`, see cache.py); the others go to an engine
(engines.py: this process, `--jobs` worker processes that each load jieba
and the rules once, or a Dask cluster) a few at a time, with a bounded
number in flight (OrderedResults). Results come back in article order,
already rendered as CSV lines (outputs.render), and are streamed into
temporary CSVs that replace the old ones only when the run is complete:
memory stays flat in the number of articles (only counters are kept), and a
run that fails or is killed half-way leaves the previous outputs whole (its
temporary files are removed when it can, else by the next run). The output
bytes do not depend on the engine, the number of jobs or the cache.

What the user can fix stops the run with a one-line RunError (errors.py);
a bad article is an error row and the run goes on.
"""
from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..article import ArticleResult
from ..outputs import (
    ARTICLE_COLUMNS,
    EXTRACTION_COLUMNS,
    KINDS,
    CsvStream,
    render,
    sweep_temp_files,
)
from ..rules import Rules, load_rules
from ..stages.read import ReadError, max_file_bytes, read_bytes, readable_path
from .cache import CACHE_DIR, Cache, content_hash, env_key, unpack
from .clean_texts import remove_stale_clean_texts, write_clean_if_changed
from .engines import Transient, make_engine
from .errors import RunError, write_error
from .inputs import Inputs, Job, find_inputs, unlisted_row
from .lock import OutputLock

# --- what each job's file holds ------------------------------------------------------


@dataclass(frozen=True)
class Kept(Job):
    """An article of a folder that cannot be listed: its result of the last run is kept, unread."""


@dataclass(frozen=True)
class Content:
    """What a job's file held when the run read it: its bytes and their hash, or why it cannot be read."""
    data: bytes | None
    digest: str = ""
    error: str = ""

    @property
    def key(self) -> str:
        """What the inputs key records of it: the hash, or the read error (a fixed file changes it)."""
        return self.digest if self.data is not None else "!" + self.error


KEPT = Content(None, error="kept")


def content_key(job: Job, limit: int | None = None) -> Content:
    """What process_file would read of job's file (never blocks on a FIFO, refuses folders,
    devices and files over `limit` bytes), with its hash."""
    if isinstance(job, Kept):
        return KEPT
    try:
        data = read_bytes(job.path, limit, listed=True)
    except ReadError as e:
        return Content(None, error=str(e))
    return Content(data, content_hash(data))


def _digest():
    return hashlib.blake2b(digest_size=16)


def _feed(h, *parts: str) -> None:
    h.update("\0".join(parts).encode("utf-8", "surrogatepass") + b"\n")


def jobs_key(jobs: list[Job], errors: list[ArticleResult]) -> str:
    """Key of the list of inputs: article ids, paths, and the error rows of discovery."""
    h = _digest()
    for j in jobs:
        _feed(h, j.article, readable_path(j.path))
    for e in errors:
        _feed(h, "!", e.article, e.error)
    return h.hexdigest()


def inputs_key(jobs: list[Job], limit: int | None = None) -> tuple[str, int]:
    """(key of what every job's file holds now, number of files that cannot be read): reads and
    hashes them all, as a run does."""
    h, unreadable = _digest(), 0
    for job in jobs:
        content = content_key(job, limit)
        unreadable += content.data is None
        _feed(h, job.article, content.key)
    return h.hexdigest(), unreadable


OUTPUT_FILES = ("extractions.csv", "articles.csv")


def file_stats(out_dir: Path) -> dict[str, list[int]]:
    """[size, mtime_ns] of the output CSVs (empty if one is missing)."""
    try:
        return {name: [st.st_size, st.st_mtime_ns] for name in OUTPUT_FILES for st in [(out_dir / name).stat()]}
    except OSError:
        return {}


# --- the summary -----------------------------------------------------------------------

@dataclass
class Summary:
    articles: int = 0
    errors: int = 0
    rows: Counter = None
    seconds: float = 0.0
    cached: int = 0       # articles taken from the cache
    processed: int = 0    # articles run through the stages
    unchanged: bool = False  # the outputs already held this result: nothing was written
    notes: list[str] = field(default_factory=list)   # what the user should know (files skipped...)

    def line(self) -> str:
        kinds = ", ".join(f"{k} {self.rows.get(k, 0)}" for k in KINDS)
        cached = f" ({self.cached} unchanged, from the cache)" if self.cached else ""
        return (f"{self.articles} articles{cached}, {sum(self.rows.values())} rows ({kinds}), "
                f"{self.errors} errors, {self.seconds:.1f} s")


def up_to_date(out_dir: Path, store: Cache, jobs: list[Job], jkey: str, limit: int | None = None) -> Summary | None:
    """The summary of the last complete run, when its outputs still hold exactly what this run would write.

    That is: same rules and code (the cache's env), same inputs (ids, paths,
    and bytes of every file, all read and hashed), output CSVs and clean texts
    untouched since that run wrote them (size and modification time, so a
    CSV saved from a spreadsheet or a deleted clean text is written again).
    Then nothing needs writing: an unchanged daily re-run only reads its inputs.
    """
    state = store.outputs_state()
    if state is None or state.get("jobs") != jkey or state.get("files") != file_stats(out_dir):
        return None
    for article, (size, mtime_ns) in store.clean_file_stats().items():
        try:
            st = (out_dir / "clean" / f"{article}.txt").stat()
        except OSError:
            return None
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return None
    key, unreadable = inputs_key(jobs, limit)
    if key != state.get("inputs"):
        return None
    return Summary(articles=state["articles"], errors=state["errors"], rows=Counter(state["rows"]),
                   cached=len(jobs) - unreadable, processed=unreadable, unchanged=True)


# --- results in article order --------------------------------------------------

@dataclass
class Stats:
    cached: int = 0       # served from the cache
    processed: int = 0    # run through the stages
    inputs: object = None  # hashlib object over every job's content key, in job order (inputs_key)
    transient: int = 0    # error rows of articles whose worker died (the next run tries them again)


class OrderedResults:
    """(job, Rendered result) for every job, in job order.

    Cache hits are answered at once; misses are sent to the engine in chunks
    of up to `chunk` consecutive articles, with a bounded number of articles
    in flight (enough to keep every worker of the engine busy), and fresh
    results are stored in the cache as they arrive. The cache is committed
    before every wait for the engine, so no write lock is held meanwhile.
    """

    def __init__(self, rules: Rules, engine, cache: Cache | None = None, force: bool = False,
                 stats: Stats | None = None, chunk: int = 4, limit: int | None = None):
        self.rules, self.engine, self.cache, self.force, self.chunk, self.limit = \
            rules, engine, cache, force, chunk, limit
        self.stats = stats if stats is not None else Stats()
        self.slots: deque = deque()   # ("done", [(job, rendered)]) or ("todo", future, [(job, digest)])
        self.building: list = []      # misses not yet submitted: (job, digest, task)
        self.in_flight = 0

    def __call__(self, jobs: list[Job]):
        for job in jobs:
            self._add(job)
            yield from self._ready()
        self._submit()
        while self.slots:
            yield from self._pop()

    def _add(self, job: Job) -> None:
        """Read job's file and answer it (read error, cache hit, kept result) or queue it for the engine."""
        content = content_key(job, self.limit)
        if self.stats.inputs is not None:
            _feed(self.stats.inputs, job.article, content.key)
        self.in_flight += 1
        if isinstance(job, Kept):
            hit = self.cache.get(job.article, readable_path(job.path), None) if self.cache is not None else None
            if hit is not None:
                self._done(job, hit, cached=True)
            else:
                self.in_flight -= 1
        elif content.data is None:                 # the error row process_file would give
            self._done(job, render(ArticleResult(job.article, status="error", error=content.error)))
        elif (hit := self._hit(job, content)) is not None:
            self._done(job, hit, cached=True)
        else:
            self.building.append((job, content.digest, (job.article, readable_path(job.path), content.data)))
            if len(self.building) >= self.chunk:
                self._submit()

    def _hit(self, job: Job, content: Content):
        if self.cache is None or self.force:
            return None
        return self.cache.get(job.article, readable_path(job.path), content.digest)

    def _done(self, job: Job, rendered, cached: bool = False) -> None:
        self._submit()                 # what was queued before goes first
        if cached:
            self.stats.cached += 1
        else:
            self.stats.processed += 1
        self.slots.append(("done", [(job, rendered)]))

    def _submit(self) -> None:
        if self.building:
            if self.cache is not None:
                self.cache.flush()
            self.slots.append(("todo", self.engine.submit([t for _, _, t in self.building]),
                               [(j, c) for j, c, _ in self.building]))
            self.building = []

    def _ready(self):
        """Hand on what is finished at the front; wait for it only when too much is in flight."""
        most = max(64, 4 * self.chunk * self.engine.capacity)
        while self.slots and (self.slots[0][0] == "done" or self.slots[0][1].done() or self.in_flight > most):
            yield from self._pop()

    def _pop(self) -> list:
        slot = self.slots.popleft()
        out = slot[1] if slot[0] == "done" else self._collect(slot[1], slot[2])
        self.in_flight -= len(out)
        return out

    def _collect(self, future, jobs: list) -> list:
        """The results of one chunk, stored in the cache (unless transient: a worker died)."""
        if self.cache is not None and not future.done():
            self.cache.flush()
        out = []
        for (job, digest), res in zip(jobs, future.result()):
            self.stats.processed += 1
            if isinstance(res, Transient):
                self.stats.transient += 1
                out.append((job, res.rendered))
                continue
            blob = res if isinstance(res, bytes) else None      # packed by a worker
            if blob is not None:
                res = unpack(blob)
            if self.cache is not None:
                self.cache.put(job.article, readable_path(job.path), digest, res, blob)
            out.append((job, res))
        return out


def ordered_results(jobs: list[Job], rules: Rules, engine, cache: Cache | None = None, force: bool = False,
                    stats: Stats | None = None, chunk: int = 4, limit: int | None = None):
    """(job, Rendered result) for every job, in job order (see OrderedResults)."""
    return OrderedResults(rules, engine, cache, force, stats, chunk, limit)(jobs)


def _chunk(n_articles: int, n_jobs: int, most: int = 4) -> int:
    return max(1, min(most, n_articles // (max(1, n_jobs) * 8)))


# --- writing ---------------------------------------------------------------------

class OutputWriter:
    """The outputs of one run, written as results arrive: the two CSVs streamed to temporary files
    (renamed into place by commit, removed by discard) and the clean texts.

    Error rows of discovery (`errors`, sorted by id) are merged in among the
    articles by id. An article whose clean text cannot be written because its
    name is too long for the file system becomes an error row; any other
    write failure stops the run (RunError: no space, no permission)."""

    def __init__(self, out_dir: Path, store: Cache | None, errors: list[ArticleResult], bar=None):
        self.out_dir, self.store, self.bar = out_dir, store, bar
        self.pending = deque(errors)
        self.summary = Summary(rows=Counter())
        self.with_clean: set[str] = set()       # articles whose clean text this run wrote or checked
        self.wrote_clean = False
        self.ex = self.art = None

    def open(self) -> None:
        """Start the temporary CSVs (discard removes whichever was started)."""
        self.ex = CsvStream(self.out_dir / "extractions.csv", EXTRACTION_COLUMNS)
        self.art = CsvStream(self.out_dir / "articles.csv", ARTICLE_COLUMNS)

    def add(self, job: Job, res) -> None:
        if res.ok:
            res = self._clean_text(job, res)
        self.ex.write_lines(res.extractions)
        self.summary.rows.update(res.kinds)
        self._errors_before(res.article)
        self.art.write_lines(res.article_line)
        self.summary.articles += 1
        self.summary.errors += not res.ok
        if self.bar:
            self.bar.update()

    def _clean_text(self, job: Job, res):
        try:
            self.wrote_clean |= write_clean_if_changed(self.out_dir, res.article, res.clean, self.store)
        except OSError as e:
            if e.errno != errno.ENAMETOOLONG:
                raise
            return render(ArticleResult(res.article, status="error", error=(
                f"{readable_path(job.path)}: its clean text cannot be written: clean/{res.article}.txt is too long "
                f"a name for the file system; shorten the file name (or its folders)")))
        self.with_clean.add(res.article)
        return res

    def _errors_before(self, article: str | None) -> None:
        while self.pending and (article is None or self.pending[0].article < article):
            self.art.write_lines(render(self.pending.popleft()).article_line)
            self.summary.articles += 1
            self.summary.errors += 1

    def commit(self) -> None:
        self._errors_before(None)
        if self.wrote_clean and hasattr(os, "sync"):
            os.sync()   # the clean texts reach the disk before the CSVs that point into them
        self.ex.commit()
        self.art.commit()

    def discard(self) -> None:
        for stream in (self.ex, self.art):
            if stream is not None:
                stream.discard()


def write_outputs(out_dir: Path, rules: Rules, store: Cache | None, jobs: list[Job], errors: list[ArticleResult],
                  *, n_jobs: int, engine: str, scheduler: str | None, packed: bool, force: bool,
                  limit: int | None, progress: bool, record: dict | None) -> Summary:
    """Process the jobs into new outputs (step 5); with `record` (jobs key), the cache records them
    as complete for the next run's up_to_date."""
    if store is not None:
        store.set_outputs_state(None)       # until this run completes, the outputs are not vouched for
    stats = Stats(inputs=_digest())
    n_jobs = max(1, n_jobs)
    eng = make_engine(rules, min(n_jobs, max(1, len(jobs))) if engine == "local" else n_jobs, engine, scheduler,
                      packed=packed)
    bar = None
    if progress and len(jobs) > 20:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), unit="article", file=sys.stderr, dynamic_ncols=True)
    writer, complete = OutputWriter(out_dir, store, errors, bar), False
    try:
        writer.open()
        chunk = _chunk(len(jobs), n_jobs, 16 if engine == "dask" else 4)
        for job, res in ordered_results(jobs, rules, eng, store, force, stats, chunk, limit):
            writer.add(job, res)
        writer.commit()
        complete = True
        if store is not None:
            remove_stale_clean_texts(out_dir, store, writer.with_clean)
            if record is not None and not stats.transient:     # else the next run must try those again
                s = writer.summary
                store.set_outputs_state({**record, "inputs": stats.inputs.hexdigest(), "files": file_stats(out_dir),
                                         "articles": s.articles, "errors": s.errors, "rows": dict(s.rows)})
    except OSError as e:
        raise write_error(e, out_dir) from None
    finally:
        if not complete:
            writer.discard()            # first: a full disk gets its space back whatever fails next
        if bar:
            bar.close()
        eng.close(cancel=not complete)
    summary = writer.summary
    summary.cached, summary.processed = stats.cached, stats.processed
    return summary


# --- the steps of a run -------------------------------------------------------------

def refuse_bad_inputs(found: Inputs, allow_empty: bool = False, writing: bool = True) -> None:
    """Step 1: a missing input, or an input folder without any article, stops the run before anything
    is written (a mistyped path or a share that is not mounted must not replace the outputs).
    writing: the command would write outputs (run), and the message says they are kept."""
    kept = "; nothing was written and the cache is kept" if writing else ""
    if found.missing:
        names = ", ".join(readable_path(p) for p in found.missing)
        raise RunError(f"input not found: {names}{kept}; check the path")
    if found.empty and not allow_empty:
        names = ", ".join(readable_path(p) for p in found.empty)
        raise RunError(f"{names}: holds no *.txt files (a share that is not mounted?){kept}"
                       + ("; --allow-empty writes empty outputs" if writing else ""))


def prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise RunError(f"--out {out_dir} is a file, not a folder; give a folder for the outputs")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise write_error(e, out_dir) from None


def open_cache(out_dir: Path, rules: Rules, read_only: bool, force: bool) -> Cache:
    """Step 2: the result cache of out_dir (read-only when out_dir cannot be written)."""
    try:
        store = Cache(out_dir / CACHE_DIR, env_key(rules.digest), read_only=read_only)
    except OSError as e:
        raise write_error(e, out_dir) from None
    store.forced = force
    return store


def close_cache(store: Cache | None, prune: bool, out_dir: Path, failing: bool) -> None:
    """Commit and close; when the run is already failing, a failure here (a full disk) is only reported."""
    if store is None:
        return
    try:
        store.close(prune=prune)
    except (OSError, sqlite3.Error, RunError) as e:
        if not failing:
            raise write_error(e, out_dir) if isinstance(e, OSError) else e
        print(f"warning: the result cache could not be closed ({e})", file=sys.stderr)


def plan_jobs(found: Inputs, store: Cache | None, force: bool) -> tuple[list[Job], list[ArticleResult]]:
    """Step 3: the jobs in order of id, and the error rows of discovery.

    A folder that cannot be listed gets an error row, and the articles the
    cache holds under it (made with these rules and code) are kept as Kept
    jobs: their rows and clean texts stay as the last run left them."""
    jobs, errors = list(found.jobs), list(found.errors)
    known = {j.article for j in jobs}
    for u in found.unlisted:
        kept = [] if store is None or force else \
            [Kept(a, Path(p)) for a, p in store.articles_under(readable_path(u.path)) if a not in known]
        known.update(k.article for k in kept)
        jobs += kept
        errors.append(unlisted_row(u, len(kept)))
    return sorted(jobs, key=lambda j: j.article), sorted(errors, key=lambda r: r.article)


def notes(found: Inputs) -> list[str]:
    """What discovery did that the user would not otherwise see."""
    out = []
    if found.skipped:
        shown = ", ".join(readable_path(p) for p in found.skipped[:10])
        more = f" and {len(found.skipped) - 10} more" if len(found.skipped) > 10 else ""
        out.append(f"{len(found.skipped)} file(s) skipped, not named *.txt: {shown}{more}")
    for p in found.excluded:
        out.append(f"{readable_path(p)} is the output folder: not read as input")
    return out


def run(inputs: list[Path], out_dir: Path, rules: Rules | None = None, n_jobs: int = 1,
        progress: bool = True, *, engine: str = "local", scheduler: str | None = None,
        cache: bool = True, force: bool = False, allow_empty: bool = False,
        max_file_mb: float | None = None) -> Summary:
    """Process every article of the inputs and write out_dir/{extractions,articles}.csv and clean/.

    n_jobs: worker processes (local engine; 1 = this process) or LocalCluster
    workers (dask engine without scheduler). cache: use and fill
    out_dir/.cache/; force: recompute every article (the cache is refilled,
    never read). allow_empty: an input folder without articles is no error.
    max_file_mb: largest article file (default read.MAX_FILE_MB). Raises
    RunError (nothing replaced) for what the user must fix.
    """
    t0 = time.perf_counter()
    rules = rules or load_rules()
    out_dir = Path(out_dir)
    limit = max_file_bytes(max_file_mb)
    found = find_inputs(inputs, exclude=[out_dir])
    refuse_bad_inputs(found, allow_empty)
    prepare_out_dir(out_dir)
    with OutputLock(out_dir) as lock:
        store = open_cache(out_dir, rules, lock.read_only, force) if cache else None
        complete = wrote = False
        try:
            jobs, errors = plan_jobs(found, store, force)
            jkey = jobs_key(jobs, errors)
            summary = up_to_date(out_dir, store, jobs, jkey, limit) if store is not None and not force else None
            if summary is None:
                wrote = True
                if lock.read_only:
                    raise RunError(f"cannot write to {out_dir} (permission denied); the previous outputs are kept")
                sweep_temp_files(out_dir, older_than=time.time())    # no other run writes here (the lock)
                summary = write_outputs(out_dir, rules, store, jobs, errors, n_jobs=n_jobs, engine=engine,
                                        scheduler=scheduler, packed=cache, force=force, limit=limit,
                                        progress=progress, record=None if found.unlisted else {"jobs": jkey})
            complete = True
        finally:
            # pruned only after outputs were written (an unchanged run marks no entry as seen), and not
            # after a folder that could not be listed: its articles stay in the cache
            close_cache(store, wrote and complete and not found.unlisted, out_dir, failing=not complete)
    summary.notes = notes(found)
    summary.seconds = time.perf_counter() - t0
    return summary
