"""What the inputs of a run can do wrong, and how nothing of an earlier run is lost by it.

A mistyped path, an empty (unmounted) folder, a sub-folder that cannot be
listed, the output folder inside an input, one file named twice, names
too long for the file system, upper-case `.TXT`, files skipped, header
cells too long for a spreadsheet, the size limit as an option. Each test
reproduces a finding of the reliability review (../shared/repro/FINDINGS.md).
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeline.run.cache import CACHE_DIR, DB_NAME
from safe_helpers import CORPUS, QUIET, as_user, cli, copy_corpus, one_line_error, outputs


def rows(out: Path, name: str = "articles.csv") -> list[dict]:
    with open(out / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def cache_entries(out: Path) -> int:
    with sqlite3.connect(out / CACHE_DIR / DB_NAME) as db:
        return db.execute("SELECT count(*) FROM results").fetchone()[0]


# --- A2 and the mistyped path: refused before anything is written -------------------------------

def test_mistyped_input_path_keeps_the_earlier_outputs(tmp_path):
    out = tmp_path / "out"
    assert cli("run", copy_corpus(tmp_path / "news"), "--out", out, *QUIET)[0] == 0
    before = outputs(out)
    rc, _, err = cli("run", tmp_path / "newz", "--out", out, *QUIET)
    assert rc == 2
    assert "input not found" in one_line_error(err) and "newz" in err and "nothing was written" in err
    assert outputs(out) == before and cache_entries(out) == 3


def test_empty_input_folder_is_refused_and_the_cache_kept(tmp_path):
    share, out = tmp_path / "mnt" / "archive", tmp_path / "facts"
    copy_corpus(share)
    assert cli("run", share, "--out", out, *QUIET)[0] == 0
    before = outputs(out)
    shutil.rmtree(share)
    share.mkdir()                                  # the share is not mounted today
    rc, _, err = cli("run", share, "--out", out, *QUIET)
    assert rc == 2 and "holds no *.txt files" in one_line_error(err) and "--allow-empty" in err
    assert outputs(out) == before and cache_entries(out) == 3
    # asked for: empty outputs
    assert cli("run", share, "--out", out, *QUIET, "--allow-empty")[0] == 0
    assert rows(out) == [] and not list((out / "clean").rglob("*.txt"))


# --- A1: a sub-folder that cannot be listed ----------------------------------------------------

def test_unreadable_sub_folder_is_an_error_row_and_keeps_its_articles(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    copy_corpus(inp, ["dev01"])
    copy_corpus(inp / "2024-05", ["dev02", "dev03"])
    p = as_user("run", inp, "--out", out, *QUIET)
    assert p.returncode == 0, p.stderr
    before = rows(out, "extractions.csv")
    (inp / "2024-05").chmod(0)                    # copied by another user, an NFS glitch
    try:
        p = as_user("run", inp, "--out", out, *QUIET)
    finally:
        (inp / "2024-05").chmod(0o755)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    arts = {r["article"]: r for r in rows(out)}
    assert set(arts) == {"dev01", "2024-05/dev02", "2024-05/dev03", "2024-05/"}
    assert arts["2024-05/"]["status"] == "error"
    assert "cannot be listed (permission denied)" in arts["2024-05/"]["error"]
    assert "2 article(s) the last run found there are kept" in arts["2024-05/"]["error"]
    assert rows(out, "extractions.csv") == before
    assert sorted(p.relative_to(out / "clean").as_posix() for p in (out / "clean").rglob("*.txt")) == \
        ["2024-05/dev02.txt", "2024-05/dev03.txt", "dev01.txt"]


def test_unreadable_sub_folder_without_cache_is_an_error_row(tmp_path):
    inp = tmp_path / "in"
    copy_corpus(inp, ["dev01"])
    copy_corpus(inp / "sub", ["dev02"])
    (inp / "sub").chmod(0o311)                    # can be entered, not listed
    try:
        p = as_user("run", inp, "--out", tmp_path / "out", *QUIET, "--no-cache")
    finally:
        (inp / "sub").chmod(0o755)
    assert p.returncode == 1
    arts = {r["article"]: r for r in rows(tmp_path / "out")}
    assert set(arts) == {"dev01", "sub/"} and "its articles are not read" in arts["sub/"]["error"]


# --- A3: --out inside an input folder -------------------------------------------------------------

def test_out_inside_the_input_folder_is_not_read(tmp_path):
    inp = copy_corpus(tmp_path / "in", ["dev01", "dev02"])
    for _ in range(3):
        rc, _, err = cli("run", inp, "--out", inp / "out", *QUIET)
        assert rc == 0
    assert [r["article"] for r in rows(inp / "out")] == ["dev01", "dev02"]
    assert "is the output folder: not read as input" in err
    assert not (inp / "out" / "clean" / "out").exists()


# --- C1: the same file named twice --------------------------------------------------------------

def test_the_same_file_in_other_spellings_is_one_job(tmp_path, monkeypatch):
    inp = copy_corpus(tmp_path / "in", ["dev01", "dev02"])
    (tmp_path / "alias").symlink_to(inp)
    monkeypatch.chdir(tmp_path)
    rc, _, err = cli("run", "in", inp / "dev01.txt", "--out", "o1", *QUIET)
    assert rc == 0, err
    assert [r["article"] for r in rows(tmp_path / "o1")] == ["dev01", "dev02"]
    rc, _, err = cli("run", "in", "./in/", inp, "alias", "--out", "o2", *QUIET)
    assert rc == 0, err
    assert [(r["article"], r["status"]) for r in rows(tmp_path / "o2")] == [("dev01", "ok"), ("dev02", "ok")]
    assert outputs(tmp_path / "o1") == outputs(tmp_path / "o2")


def test_two_different_files_with_one_id_are_one_error_row(tmp_path):
    a, b = copy_corpus(tmp_path / "a", ["dev01"]), tmp_path / "b"
    b.mkdir()
    (b / "dev01.txt").write_text("另一篇文章。\n", encoding="utf-8")
    rc, _, _ = cli("run", a, b, a, "--out", tmp_path / "out", *QUIET)
    assert rc == 1
    errors = [r for r in rows(tmp_path / "out") if r["status"] == "error"]
    assert len(errors) == 1 and "same article id" in errors[0]["error"] and "another file" in errors[0]["error"]


# --- *.TXT and files skipped --------------------------------------------------------------------

def test_upper_case_txt_is_read_and_skipped_files_are_listed(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copyfile(CORPUS / "dev01.txt", inp / "WINDOWS.TXT")
    shutil.copyfile(CORPUS / "dev02.txt", inp / "b.Txt")
    (inp / "notes.doc").write_bytes(b"not an article")
    (inp / "page.html").write_text("<html></html>")
    rc, _, err = cli("run", inp, "--out", tmp_path / "out", *QUIET)
    assert rc == 0
    assert [r["article"] for r in rows(tmp_path / "out")] == ["WINDOWS", "b"]
    assert "2 file(s) skipped, not named *.txt" in err and "notes.doc" in err and "page.html" in err


# --- stats, diff and eval with a bad path ---------------------------------------------------------

@pytest.mark.parametrize("command", [["stats"], ["diff"], ["eval"]])
def test_stats_diff_eval_refuse_a_missing_input(command, tmp_path):
    rc, out, err = cli(*command, tmp_path / "nowhere")
    assert rc == 2 and "input not found" in one_line_error(err) and "nowhere" in err
    assert out == ""                              # no table of zeros


def test_stats_refuses_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    rc, out, err = cli("stats", tmp_path / "empty")
    assert rc == 2 and "holds no *.txt files" in one_line_error(err) and out == ""


# --- B1: long file names and deep paths -------------------------------------------------------------

def test_long_file_names_are_written_or_error_rows(tmp_path):
    inp = copy_corpus(tmp_path / "in", ["dev01"])
    data = (CORPUS / "dev02.txt").read_bytes()
    fits = ("兰州新区" * 20).encode("gbk") + b".txt"          # 164 bytes; as UTF-8 id 244 bytes: fits in 255
    too_long = ("兰州新区" * 25).encode("gbk") + b".txt"      # 204 bytes; its UTF-8 clean text: 304 bytes
    for name in (fits, too_long):
        with open(os.path.join(os.fsencode(inp), name), "wb") as f:
            f.write(data)
    rc, _, err = cli("run", inp, "--out", tmp_path / "out", *QUIET)
    assert rc == 1 and "Traceback" not in err
    arts = {r["article"]: r for r in rows(tmp_path / "out")}
    assert arts["兰州新区" * 20]["status"] == "ok"
    assert (tmp_path / "out" / "clean" / ("兰州新区" * 20 + ".txt")).is_file()
    long_row = arts["兰州新区" * 25]
    assert long_row["status"] == "error" and "too long a name for the file system" in long_row["error"]
    assert arts["dev01"]["status"] == "ok" and rows(tmp_path / "out", "extractions.csv")


def test_a_path_too_deep_for_the_clean_texts_is_an_error_row(tmp_path):
    inp = tmp_path / "in"
    deep = inp
    while len(os.fsencode(deep)) < 3800:          # readable here, too long once under out/clean/
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    shutil.copyfile(CORPUS / "dev01.txt", deep / "a.txt")
    copy_corpus(inp, ["dev02"])
    out = tmp_path / ("o" * 250)
    rc, _, err = cli("run", inp, "--out", out, *QUIET)
    assert rc == 1 and "Traceback" not in err
    arts = {r["article"]: r for r in rows(out)}
    assert arts["dev02"]["status"] == "ok"
    (deep_row,) = [r for a, r in arts.items() if a.endswith("/a")]
    assert deep_row["status"] == "error" and "too long a name" in deep_row["error"]


# --- C2: header and tail cells clipped like the title ---------------------------------------------

def test_reporter_and_editor_cells_are_clipped(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.txt").write_text("标题\n兰州新区投资1亿元。\n记者 " + " ".join(["张三"] * 12000) + "\n", encoding="utf-8")
    (inp / "b.txt").write_text("标题\n兰州新区投资1亿元。\n责任编辑：" + "、".join(["王旭伟"] * 12000) + "\n",
                               encoding="utf-8")
    assert cli("run", inp, "--out", tmp_path / "out", *QUIET)[0] == 0
    arts = rows(tmp_path / "out")
    assert max(len(r[c]) for r in arts for c in ("title", "source", "reporter", "editor")) <= 201
    assert any(r["reporter"].endswith("…") for r in arts) and any(r["editor"].endswith("…") for r in arts)
    assert max(len(v) for r in arts for v in r.values()) <= 32768


# --- the size limit is a documented option ---------------------------------------------------------

def test_max_file_mb_is_a_run_option(tmp_path):
    inp = copy_corpus(tmp_path / "in", ["dev01"])
    rc, _, err = cli("run", inp, "--out", tmp_path / "out", *QUIET, "--max-file-mb", "0.001")
    assert rc == 1
    (row,) = rows(tmp_path / "out")
    assert row["status"] == "error" and "more than the 0.001 MB" in row["error"] and "--max-file-mb" in row["error"]
    rc, _, _ = cli("run", inp, "--out", tmp_path / "out", *QUIET, "--max-file-mb", "1")
    assert rc == 0 and rows(tmp_path / "out")[0]["status"] == "ok"


def test_run_help_documents_the_options_and_exit_status():
    from pipeline.commands.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["run"]
    text = sub.format_help()
    for words in ("--max-file-mb", "--allow-empty", "exit status", "2 the run was refused"):
        assert words in text


# --- C5: messages that fit the situation ------------------------------------------------------

def test_explain_of_a_missing_file_does_not_speak_of_a_run(tmp_path):
    rc, out, err = cli("explain", "--file", tmp_path / "missing.txt")
    assert rc != 0 and "file not found; check the path" in err and "during the run" not in err
