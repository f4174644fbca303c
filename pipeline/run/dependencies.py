"""The dependencies whose data and internals the stages rely on, checked once per process.

`stages/convert.py` reads OpenCC's dictionary files and checks their shape
when it loads them, `stages/readings.py` reads pypinyin's character table,
`stages/segment.py` uses jieba's dictionary file and some of its internals.
If an upgrade changed any of that, the first article would fail inside the
stages, and so would every other one, each blaming itself ("internal error
… please report this file"). `check()` runs these loaders before the first
article of a process and turns a failure into one `DependencyError` naming
the package and its version: the run stops with that one message instead.
"""
from __future__ import annotations

import importlib.metadata

from .errors import RunError


class DependencyError(RunError):
    """An installed dependency is not what the stages were written for."""


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _opencc() -> None:
    from ..stages import convert
    convert._tables()


def _pinyin() -> None:
    from ..stages import readings
    table = readings._pinyin_table()
    if not isinstance(table, dict) or not table.get(ord("中")):
        raise ValueError("pypinyin.pinyin_dict.pinyin_dict has no reading of 中")


def _jieba() -> None:
    from ..stages import segment
    jieba = segment._jieba()
    for name in ("Tokenizer", "re_han_default", "finalseg"):
        if not hasattr(jieba, name):
            raise AttributeError(f"jieba.{name} is missing")
    if not segment.main_dict_path().is_file():
        raise FileNotFoundError(f"jieba's dictionary {segment.main_dict_path()} is missing")


# (distribution, check): what each stage needs of it
CHECKS = (("opencc-python-reimplemented", _opencc), ("pypinyin", _pinyin), ("jieba", _jieba))
_PASSED: list[bool] = []


def check() -> None:
    """Raise DependencyError for the first dependency that does not load as the stages expect;
    once per process (a passed check is not repeated)."""
    if _PASSED:
        return
    for dist, test in CHECKS:
        try:
            test()
        except Exception as e:
            raise DependencyError(
                f"{dist} {_version(dist)} is not what the pipeline was written for ({type(e).__name__}: {e}); "
                f"reinstall the version this release was tested with (see pyproject.toml); no article was "
                f"processed") from None
    _PASSED.append(True)
