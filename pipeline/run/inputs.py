"""The inputs of a run: every article file under the input paths, with its article id.

An article is a file whose name ends in `.txt` in any case (`a.TXT` from a
Windows machine too). Folders are walked with `os.scandir` rather than
pathlib's `rglob`, which skips a sub-folder it cannot list without a word:
here such a folder is reported (`Inputs.unlisted`), and so is every file
skipped because of its name (`Inputs.skipped`), every input that does not
exist (`missing`) and every input folder without a single article (`empty`),
so the run can refuse before it replaces an earlier run's outputs with
nothing. The output folder, when it lies inside an input folder, is not
walked (its clean texts are not articles). Symbolic links to folders are not
followed (no loops); links to files are articles like the files.

The same file named twice (`in`, `./in/`, an absolute path, a symbolic link
to the folder) is one job: files are compared by device and inode, not by
spelling. Two different files with one article id are an error row for the
second in path order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..article import ArticleResult
from ..stages.read import readable_path

# What makes a file an article, compared in lower case.
ARTICLE_SUFFIX = ".txt"


@dataclass(frozen=True)
class Job:
    article: str
    path: Path


@dataclass(frozen=True)
class Unlisted:
    """A folder under an input that could not be listed: its articles are unknown."""
    article: str        # the folder's id, `2024-05/` (sorts among the article ids)
    path: Path
    reason: str         # `permission denied`


@dataclass
class Inputs:
    """Everything discovery found: jobs in order of id, and what the user must hear about."""
    jobs: list[Job] = field(default_factory=list)
    errors: list[ArticleResult] = field(default_factory=list)   # rows: two files with one id
    unlisted: list[Unlisted] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)          # inputs that do not exist
    empty: list[Path] = field(default_factory=list)            # input folders without any article
    skipped: list[Path] = field(default_factory=list)          # files that are not *.txt
    excluded: list[Path] = field(default_factory=list)         # the output folder inside an input


def is_article_name(name: str) -> bool:
    return name.lower().endswith(ARTICLE_SUFFIX)


def article_id(path: Path, root: Path) -> str:
    """Path relative to the input root, without .txt (any case), with / as separator."""
    rel = path.relative_to(root) if root != path else Path(path.name)
    # readable_path: a file name in GBK bytes (not UTF-8) becomes its Chinese name, not surrogates
    s = rel.as_posix()
    return readable_path(s[:-len(ARTICLE_SUFFIX)] if is_article_name(rel.name) and rel.name != ARTICLE_SUFFIX
                         else s)


def _identity(path: Path):
    """What makes two spellings one file: (device, inode), or the absolute path of what cannot be stat'ed."""
    for stat in (os.stat, os.lstat):
        try:
            st = stat(path)
            return st.st_dev, st.st_ino
        except OSError:
            pass
    return os.path.abspath(path)


def _walk(top: Path, exclude: set, found: Inputs) -> list[Path]:
    """Every file named *.txt under top (folders named so too: they get an error row), unsorted.

    Unlistable folders go to found.unlisted, other files to found.skipped,
    folders in `exclude` (identities) to found.excluded."""
    articles: list[Path] = []
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as e:
            rel = folder.relative_to(top).as_posix()
            aid = readable_path(rel if rel != "." else folder.as_posix().rstrip("/")) + "/"
            found.unlisted.append(Unlisted(aid, folder, (e.strerror or str(e)).lower()))
            continue
        for entry in entries:
            path = folder / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir and _identity(path) in exclude:
                found.excluded.append(path)
                continue
            if is_article_name(entry.name):
                articles.append(path)
            elif not is_dir:
                found.skipped.append(path)
            if is_dir:
                stack.append(path)
    return articles


def find_inputs(inputs: list[Path], exclude: list[Path] = ()) -> Inputs:
    """The jobs of the inputs (sorted by id) and what discovery has to report (see Inputs)."""
    found = Inputs()
    skip = {_identity(p) for p in exclude if os.path.isdir(p)}
    every: list[tuple[str, Path, int]] = []      # (article id, path, index of the input)
    for i, inp in enumerate(inputs):
        if inp.is_dir():
            before = len(found.unlisted)
            files = _walk(inp, skip, found)
            if not files and len(found.unlisted) == before:
                found.empty.append(inp)
            every += [(article_id(p, inp), p, i) for p in files]
        elif inp.exists() or inp.is_symlink():
            every.append((article_id(inp, inp), inp, i))
        else:
            found.missing.append(inp)
    # in order of id, then path: which of two files with one id is kept does not depend on the
    # order of the inputs
    jobs: dict[str, tuple[Job, object]] = {}
    seen: dict[object, int] = {}                   # file identity -> the input it was first found under
    for aid, p, i in sorted(every, key=lambda t: (t[0], str(t[1]))):
        ident = _identity(p)
        if seen.get(ident, i) != i:
            continue               # the same file through another input (`in` and `./in/`, a link): one job
        seen.setdefault(ident, i)
        if aid not in jobs:
            jobs[aid] = (Job(aid, p), ident)
        elif ident != jobs[aid][1]:
            shown, first = readable_path(p), readable_path(jobs[aid][0].path)
            found.errors.append(ArticleResult(aid + f" ({shown})", status="error",
                                              error=f"{shown}: same article id as {first}, another file; "
                                                    f"rename one of them"))
    found.jobs = [jobs[k][0] for k in sorted(jobs)]
    found.unlisted = sorted({u.article: u for u in found.unlisted}.values(), key=lambda u: u.article)
    found.skipped.sort()
    return found


def unlisted_row(u: Unlisted, kept: int = 0) -> ArticleResult:
    """The error row of a folder that cannot be listed (kept: articles of it the last run had, kept as they were)."""
    shown = readable_path(u.path)
    what = (f"the {kept} article(s) the last run found there are kept as they were" if kept
            else "its articles are not read")
    return ArticleResult(u.article, status="error",
                         error=f"{shown}: folder cannot be listed ({u.reason}); {what}; check its access rights "
                               f"(chmod +rx)")


def missing_row(inp: Path) -> ArticleResult:
    return ArticleResult(readable_path(inp.stem if is_article_name(inp.name) else inp.as_posix()), status="error",
                         error=f"{readable_path(inp)}: input not found; check the path")


def discover(inputs: list[Path]) -> tuple[list[Job], list[ArticleResult]]:
    """Jobs for every article under the inputs (sorted by id), and error rows: inputs not found,
    folders that cannot be listed, two files with one id (for stats, diff and golden)."""
    found = find_inputs(inputs)
    errors = found.errors + [unlisted_row(u) for u in found.unlisted] + [missing_row(p) for p in found.missing]
    return found.jobs, sorted(errors, key=lambda r: r.article)
