"""The main job: every article of the inputs through the stages into `outputs/`.

Articles are found recursively (`*.txt`) and handled in order of article id.
The main process reads each file's bytes and looks them up in the result
cache (`outputs/.cache/`, see cache.py); the others go to an engine
(engines.py: this process, `--jobs` worker processes that each load jieba
and the rules once, or a Dask cluster) a few at a time, with a bounded
number in flight. Results come back in article order, already rendered as
CSV lines (outputs.render), and are streamed into temporary CSVs that
replace the old ones only when the run is complete: memory stays flat in the
number of articles (only counters are kept), and a run killed half-way
leaves the previous outputs whole. The output bytes do not depend on the
engine, the number of jobs or the cache.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass
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
from ..stages.read import ReadError, read_bytes, readable_path
from .cache import CACHE_DIR, Cache, content_hash, env_key, unpack
from .clean_texts import remove_stale_clean_texts, write_clean_if_changed
from .engines import make_engine
from .inputs import Job, discover

# --- results in article order --------------------------------------------------

@dataclass
class Stats:
    cached: int = 0       # served from the cache
    processed: int = 0    # run through the stages
    inputs: object = None  # hashlib object over every job's content key, in job order (inputs_key)


def content_key(job: Job) -> tuple[bytes | None, str]:
    """(the file's bytes or None, the key of what was read: its hash, or the read error)."""
    try:
        data = read_bytes(job.path)
    except ReadError as e:
        return None, "error:" + str(e)
    return data, content_hash(data)


def _digest():
    return hashlib.blake2b(digest_size=16)


def _feed(h, *parts: str) -> None:
    h.update("\0".join(parts).encode("utf-8", "surrogatepass") + b"\n")


def jobs_key(jobs: list[Job], errors: list[ArticleResult]) -> str:
    """Key of the list of inputs: article ids, paths, and the error rows of inputs not found."""
    h = _digest()
    for j in jobs:
        _feed(h, j.article, readable_path(j.path))
    for e in errors:
        _feed(h, "!", e.article, e.error)
    return h.hexdigest()


def inputs_key(jobs: list[Job]) -> tuple[str, int]:
    """(key of what every job's file holds now, number of files that cannot be read): reads and
    hashes them all, as a run does."""
    h, unreadable = _digest(), 0
    for job in jobs:
        data, key = content_key(job)
        unreadable += data is None
        _feed(h, job.article, key)
    return h.hexdigest(), unreadable


OUTPUT_FILES = ("extractions.csv", "articles.csv")


def file_stats(out_dir: Path) -> dict[str, list[int]]:
    """[size, mtime_ns] of the output CSVs (empty if one is missing)."""
    try:
        return {name: [st.st_size, st.st_mtime_ns] for name in OUTPUT_FILES for st in [(out_dir / name).stat()]}
    except OSError:
        return {}


def up_to_date(out_dir: Path, store: Cache, jobs: list[Job], jkey: str) -> Summary | None:
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
    key, unreadable = inputs_key(jobs)
    if key != state.get("inputs"):
        return None
    return Summary(articles=state["articles"], errors=state["errors"], rows=Counter(state["rows"]),
                   cached=len(jobs) - unreadable, processed=unreadable, unchanged=True)


def ordered_results(jobs: list[Job], rules: Rules, engine, cache: Cache | None = None, force: bool = False,
                    stats: Stats | None = None, chunk: int = 4):
    """(job, Rendered result) for every job, in job order.

    Cache hits are answered here; misses are sent to the engine in chunks of up
    to `chunk` consecutive articles, with a bounded number of articles in
    flight (enough to keep every worker of the engine busy), and fresh results
    are stored in the cache as they arrive.
    """
    stats = stats if stats is not None else Stats()
    slots: deque = deque()      # ("done", [(job, rendered)]) or ("todo", future, [(job, content)])
    building: list = []         # misses not yet submitted: (job, content, task)
    in_flight = 0

    def submit():
        if building:
            slots.append(("todo", engine.submit([t for _, _, t in building]), [(j, c) for j, c, _ in building]))
            building.clear()

    def pop_first():
        slot = slots.popleft()
        if slot[0] == "done":
            return slot[1]
        results = slot[1].result()
        out = []
        for (job, content), res in zip(slot[2], results):
            stats.processed += 1
            blob = res if isinstance(res, bytes) else None      # packed by a worker
            if blob is not None:
                res = unpack(blob)
            if cache is not None:
                cache.put(job.article, readable_path(job.path), content, res, blob)
            out.append((job, res))
        return out

    for job in jobs:
        # what process_file reads: never blocks on a FIFO, refuses folders, devices, giant files
        data, content = content_key(job)
        if stats.inputs is not None:
            _feed(stats.inputs, job.article, content)
        if data is None:                   # the error row process_file would give
            submit()
            stats.processed += 1
            slots.append(("done", [(job, render(ArticleResult(job.article, status="error",
                                                              error=content[len("error:"):])))]))
        else:
            hit = (cache.get(job.article, readable_path(job.path), content)
                   if cache is not None and not force else None)
            if hit is not None:
                submit()
                stats.cached += 1
                slots.append(("done", [(job, hit)]))
            else:
                building.append((job, content, (job.article, readable_path(job.path), data)))
                if len(building) >= chunk:
                    submit()
        in_flight += 1
        # hand on what is finished at the front; wait for it only when too much is in flight
        while slots and (slots[0][0] == "done" or slots[0][1].done()
                         or in_flight > max(64, 4 * chunk * engine.capacity)):
            done = pop_first()
            in_flight -= len(done)
            yield from done
    submit()
    while slots:
        yield from pop_first()


def _chunk(n_articles: int, n_jobs: int, most: int = 4) -> int:
    return max(1, min(most, n_articles // (max(1, n_jobs) * 8)))


# --- writing ---------------------------------------------------------------------

@dataclass
class Summary:
    articles: int = 0
    errors: int = 0
    rows: Counter = None
    seconds: float = 0.0
    cached: int = 0       # articles taken from the cache
    processed: int = 0    # articles run through the stages
    unchanged: bool = False  # the outputs already held this result: nothing was written

    def line(self) -> str:
        kinds = ", ".join(f"{k} {self.rows.get(k, 0)}" for k in KINDS)
        cached = f" ({self.cached} unchanged, from the cache)" if self.cached else ""
        return (f"{self.articles} articles{cached}, {sum(self.rows.values())} rows ({kinds}), "
                f"{self.errors} errors, {self.seconds:.1f} s")


def run(inputs: list[Path], out_dir: Path, rules: Rules | None = None, n_jobs: int = 1,
        progress: bool = True, *, engine: str = "local", scheduler: str | None = None,
        cache: bool = True, force: bool = False) -> Summary:
    """Process every article of the inputs and write out_dir/{extractions,articles}.csv and clean/.

    n_jobs: worker processes (local engine; 1 = this process) or LocalCluster
    workers (dask engine without scheduler). cache: use and fill
    out_dir/.cache/; force: recompute every article (the cache is refilled).
    """
    t0, started = time.perf_counter(), time.time()
    rules = rules or load_rules()
    jobs, errors = discover(inputs)
    errors.sort(key=lambda r: r.article)          # stable, like the sort of all rows before
    out_dir.mkdir(parents=True, exist_ok=True)
    store = Cache(out_dir / CACHE_DIR, env_key(rules.digest)) if cache else None
    jkey = jobs_key(jobs, errors)
    if store is not None and not force:
        done = up_to_date(out_dir, store, jobs, jkey)
        if done is not None:
            store.close()
            sweep_temp_files(out_dir, older_than=started)
            done.seconds = time.perf_counter() - t0
            return done
    if store is not None:
        store.set_outputs_state(None)       # until this run completes, the outputs are not vouched for
    summary = Summary(rows=Counter())
    stats = Stats(inputs=_digest())
    n_jobs = max(1, n_jobs)
    eng = make_engine(rules, min(n_jobs, max(1, len(jobs))) if engine == "local" else n_jobs, engine, scheduler,
                      packed=cache)
    ex = CsvStream(out_dir / "extractions.csv", EXTRACTION_COLUMNS)
    art = CsvStream(out_dir / "articles.csv", ARTICLE_COLUMNS)
    bar = None
    if progress and len(jobs) > 20:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), unit="article", file=sys.stderr, dynamic_ncols=True)
    pending = deque(errors)
    rows = summary.rows
    wrote_clean = complete = False
    with_clean: set[str] = set()       # articles whose clean text this run wrote or checked
    chunk = _chunk(len(jobs), n_jobs, 16 if engine == "dask" else 4)
    try:
        for _, res in ordered_results(jobs, rules, eng, store, force, stats, chunk):
            if res.ok:
                wrote_clean |= write_clean_if_changed(out_dir, res.article, res.clean, store)
                with_clean.add(res.article)
            ex.write_lines(res.extractions)
            rows.update(res.kinds)
            while pending and pending[0].article < res.article:
                art.write(pending.popleft().article_row())
                summary.articles += 1
                summary.errors += 1
            art.write_lines(res.article_line)
            summary.articles += 1
            summary.errors += not res.ok
            if bar:
                bar.update()
        while pending:
            art.write(pending.popleft().article_row())
            summary.articles += 1
            summary.errors += 1
        if wrote_clean and hasattr(os, "sync"):
            os.sync()   # the clean texts reach the disk before the CSVs that point into them
        ex.commit()
        art.commit()
        complete = True
        if store is not None:
            remove_stale_clean_texts(out_dir, store, with_clean)
            store.set_outputs_state({"jobs": jkey, "inputs": stats.inputs.hexdigest(), "files": file_stats(out_dir),
                                     "articles": summary.articles, "errors": summary.errors, "rows": dict(rows)})
        sweep_temp_files(out_dir, older_than=started)   # what killed runs left behind
    finally:
        if bar:
            bar.close()
        eng.close(cancel=not complete)
        if store is not None:
            store.close(prune=complete)
        if not complete:
            ex.discard()
            art.discard()
    summary.cached, summary.processed = stats.cached, stats.processed
    summary.seconds = time.perf_counter() - t0
    return summary
