"""The main job: every article of the inputs through the stages into `outputs/`.

Articles are found recursively (`*.txt`), processed in order of article id
(by `--jobs` worker processes that each load jieba and the rules once), and
their rows streamed into temporary CSVs that replace the old ones only when
the run is complete: memory stays flat in the number of articles, and a run
killed half-way leaves the previous outputs whole.
"""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .article import ARTICLE_COLUMNS, EXTRACTION_COLUMNS, ArticleResult, process_file
from .rules import KINDS, Rules, load_rules
from .write import atomic_write, csv_bytes, write_clean_text


@dataclass(frozen=True)
class Job:
    article: str
    path: Path


def article_id(path: Path, root: Path) -> str:
    """Path relative to the input root, without .txt, with / as separator."""
    rel = path.relative_to(root) if root != path else Path(path.name)
    return rel.with_suffix("").as_posix() if rel.suffix == ".txt" else rel.as_posix()


def discover(inputs: list[Path]) -> tuple[list[Job], list[ArticleResult]]:
    """Jobs for every *.txt under the inputs (sorted by id); missing inputs become error rows."""
    jobs: dict[str, Job] = {}
    errors: list[ArticleResult] = []
    for inp in inputs:
        if inp.is_dir():
            found = sorted(p for p in inp.rglob("*.txt") if p.is_file() or p.is_symlink())
            pairs = [(article_id(p, inp), p) for p in found]
        elif inp.exists() or inp.is_symlink():
            pairs = [(article_id(inp, inp), inp)]
        else:
            errors.append(ArticleResult(inp.stem if inp.suffix == ".txt" else inp.as_posix(), status="error",
                                        error=f"{inp}: input not found; check the path"))
            continue
        for aid, p in pairs:
            if aid in jobs:
                errors.append(ArticleResult(aid + f" ({p})", status="error",
                                            error=f"{p}: same article id as {jobs[aid].path}; rename one of them"))
            else:
                jobs[aid] = Job(aid, p)
    return [jobs[k] for k in sorted(jobs)], errors


_RULES: Rules | None = None


def _init_worker(rules_dir: str) -> None:
    global _RULES
    _RULES = load_rules(Path(rules_dir))


def _work(job: Job) -> ArticleResult:
    return process_file(job.article, job.path, _RULES)


def results(jobs: list[Job], rules: Rules, n_jobs: int = 1):
    """ArticleResults in job order, from this process or from worker processes."""
    if n_jobs <= 1 or len(jobs) < 2:
        for job in jobs:
            yield process_file(job.article, job.path, rules)
        return
    import multiprocessing as mp
    ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
    with ctx.Pool(n_jobs, initializer=_init_worker, initargs=(str(rules.dir),)) as pool:
        yield from pool.imap(_work, jobs, chunksize=max(1, min(16, len(jobs) // (n_jobs * 8) or 1)))


@dataclass
class Summary:
    articles: int = 0
    errors: int = 0
    rows: Counter = None
    seconds: float = 0.0

    def line(self) -> str:
        kinds = ", ".join(f"{k} {self.rows.get(k, 0)}" for k in KINDS)
        return (f"{self.articles} articles, {sum(self.rows.values())} rows ({kinds}), "
                f"{self.errors} errors, {self.seconds:.1f} s")


def run(inputs: list[Path], out_dir: Path, rules: Rules | None = None, n_jobs: int = 1,
        progress: bool = True) -> Summary:
    """Process every article of the inputs and write out_dir/{extractions,articles}.csv and clean/."""
    t0 = time.perf_counter()
    rules = rules or load_rules()
    jobs, errors = discover(inputs)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = Summary(rows=Counter())
    all_results = []
    bar = None
    if progress and len(jobs) > 20:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), unit="article", file=sys.stderr, dynamic_ncols=True)
    ex_rows, art_rows = [], []
    for res in results(jobs, rules, n_jobs):
        if res.status == "ok":
            write_clean_text(out_dir, res.article, res.clean_text)
        ex_rows.extend(res.rows)
        art_rows.append(res.article_row())
        summary.articles += 1
        summary.errors += res.status != "ok"
        summary.rows.update(r["kind"] for r in res.rows)
        if bar:
            bar.update()
    if bar:
        bar.close()
    for res in errors:
        art_rows.append(res.article_row())
        summary.articles += 1
        summary.errors += 1
    art_rows.sort(key=lambda r: r["article"])
    atomic_write(out_dir / "extractions.csv", csv_bytes(EXTRACTION_COLUMNS, ex_rows))
    atomic_write(out_dir / "articles.csv", csv_bytes(ARTICLE_COLUMNS, art_rows))
    summary.seconds = time.perf_counter() - t0
    return summary
