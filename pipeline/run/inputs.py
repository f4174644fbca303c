"""The inputs of a run: every article file under the input paths, with its article id."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..article import ArticleResult
from ..stages.read import readable_path


@dataclass(frozen=True)
class Job:
    article: str
    path: Path


def article_id(path: Path, root: Path) -> str:
    """Path relative to the input root, without .txt, with / as separator."""
    rel = path.relative_to(root) if root != path else Path(path.name)
    # readable_path: a file name in GBK bytes (not UTF-8) becomes its Chinese name, not surrogates
    return readable_path(rel.with_suffix("").as_posix() if rel.suffix == ".txt" else rel.as_posix())


def discover(inputs: list[Path]) -> tuple[list[Job], list[ArticleResult]]:
    """Jobs for every *.txt under the inputs (sorted by id); missing inputs become error rows."""
    jobs: dict[str, Job] = {}
    errors: list[ArticleResult] = []
    every: list[tuple[str, Path]] = []
    for inp in inputs:
        if inp.is_dir():
            # everything named *.txt: a folder, FIFO or dangling link so named gets an error row
            found = sorted(inp.rglob("*.txt"))
            pairs = [(article_id(p, inp), p) for p in found]
        elif inp.exists() or inp.is_symlink():
            pairs = [(article_id(inp, inp), inp)]
        else:
            errors.append(ArticleResult(readable_path(inp.stem if inp.suffix == ".txt" else inp.as_posix()),
                                        status="error",
                                        error=f"{readable_path(inp)}: input not found; check the path"))
            continue
        every += pairs
    # in order of id, then path: which of two files with one id is kept does not depend on the
    # order of the inputs; the same file named twice is one job
    for aid, p in sorted(every, key=lambda pair: (pair[0], str(pair[1]))):
        if aid not in jobs:
            jobs[aid] = Job(aid, p)
        elif p != jobs[aid].path:
            shown, first = readable_path(p), readable_path(jobs[aid].path)
            errors.append(ArticleResult(aid + f" ({shown})", status="error",
                                        error=f"{shown}: same article id as {first}; rename one of them"))
    return [jobs[k] for k in sorted(jobs)], errors
