"""`--engine dask`: the same per-article function on a Dask cluster, the same bytes as a local run."""
from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import signal
import time

import pytest

from pipeline.article import process_file
from pipeline.commands.cli import main
from pipeline.outputs import render
from pipeline.run import engines
from pipeline.run.cache import CACHE_DIR, Cache, env_key, unpack
from pipeline.run.engines import DaskEngine, RulesPayload, _worker_rules, process_data, rules_files
from pipeline.rules import load_rules
from pipeline.run import discover, run
from test_parallel import make_corpus, tree


CORPUS_FILE = __import__("pathlib").Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus" / "dev01.txt"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("dask") / "in", n_generated=8, seed=5)


@pytest.fixture(scope="module")
def local_out(corpus_dir, rules, tmp_path_factory):
    out = tmp_path_factory.mktemp("dask") / "local"
    run([corpus_dir], out, rules, n_jobs=1, progress=False, cache=False)
    return out


# --- without a cluster: what the workers rely on -----------------------------------------

def test_rules_pickle(corpus_dir, rules):
    again = pickle.loads(pickle.dumps(rules))
    assert again.digest == rules.digest and [r.id for r in again.rules] == [r.id for r in rules.rules]
    for job in discover([corpus_dir])[0][:6]:
        assert process_file(job.article, job.path, again) == process_file(job.article, job.path, rules)


def test_process_data_is_process_file(corpus_dir, rules):
    for job in discover([corpus_dir])[0]:
        assert process_data(job.article, str(job.path), job.path.read_bytes(), rules) == \
            process_file(job.article, job.path, rules)


def test_worker_without_the_rules_folder_rebuilds_it(corpus_dir, rules, tmp_path, monkeypatch):
    """A worker that cannot see rules.dir writes the shipped files to a folder of the per-user cache
    ($XDG_CACHE_HOME/cn-news-facts, not a shared /tmp path), for jieba_user.dict."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    elsewhere = dataclasses.replace(rules, dir=tmp_path / "not-on-this-worker")
    got = _worker_rules(RulesPayload(elsewhere, rules_files(rules)))
    assert got.dir.parent == tmp_path / "xdg" / "cn-news-facts"
    assert got.dir != elsewhere.dir and (got.dir / "jieba_user.dict").read_bytes() == \
        (rules.dir / "jieba_user.dict").read_bytes()
    assert _worker_rules(RulesPayload(rules, rules_files(rules))).dir == rules.dir   # shared folder: as is
    job = discover([corpus_dir])[0][0]
    assert process_file(job.article, job.path, got) == process_file(job.article, job.path, rules)


def test_scheduler_needs_dask_engine(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1", "--no-report"]) == 2
    assert "--engine dask" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["10.0.0.5", "tcp://127.0.0.1:1"])
def test_a_bad_scheduler_is_a_one_line_error(address, tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(engines, "SCHEDULER_TIMEOUT", 1)
    rc = main(["run", str(CORPUS_FILE), "--out", str(tmp_path / "o"), "--quiet", "--no-report", "--engine", "dask",
               "--scheduler", address])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert f"error: cannot reach the Dask scheduler {address} (" in err and "check --scheduler" in err
    assert not (tmp_path / "o" / "articles.csv").exists()


# --- on a LocalCluster -------------------------------------------------------------------

try:
    import dask.distributed as distributed
except ImportError:
    distributed = None
needs_dask = pytest.mark.skipif(distributed is None, reason="dask is not installed: pip install -e '.[dask]' "
                                                           "to run the Dask engine tests")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c:
        yield c


@needs_dask
def test_dask_cluster_byte_identical(corpus_dir, rules, local_out, cluster, tmp_path):
    out = tmp_path / "dask"
    s = run([corpus_dir], out, rules, progress=False, engine="dask", scheduler=cluster.scheduler_address,
            cache=True)
    assert (s.processed, s.cached) == (s.articles, 0)
    assert tree(out) == tree(local_out)
    s = run([corpus_dir], out, rules, progress=False, engine="dask", scheduler=cluster.scheduler_address)
    assert (s.processed, s.cached) == (0, s.articles)        # the cache works the same
    assert tree(out) == tree(local_out)


@needs_dask
def test_cli_dask_local_cluster(corpus_dir, local_out, tmp_path):
    """Without --scheduler, a LocalCluster of --jobs workers is started and closed."""
    out = tmp_path / "cli"
    rc = main(["run", str(corpus_dir), "--out", str(out), "--engine", "dask", "--jobs", "2", "--no-report",
               "--quiet", "--no-cache"])
    assert rc == 1                       # the binary file, as locally
    assert tree(out) == tree(local_out)


@needs_dask
def test_an_edited_jieba_dictionary_is_seen_by_long_lived_workers(corpus_dir, cluster, tmp_path):
    """Workers keep their tokenizers: keyed on the dictionary's content, an edit is seen at once, and
    no row made with the old dictionary is cached under the new rules (served later by a local run)."""
    shutil.copytree(load_rules().dir, tmp_path / "rules")
    out = tmp_path / "out"
    run([corpus_dir], out, load_rules(tmp_path / "rules"), progress=False, engine="dask",
        scheduler=cluster.scheduler_address)
    before = tree(out)
    with open(tmp_path / "rules" / "jieba_user.dict", "a", encoding="utf-8") as f:
        f.write("兰州新区 5 p\n")                         # any edit of the user dictionary
    edited = load_rules(tmp_path / "rules")
    fresh = tmp_path / "fresh"
    run([corpus_dir], fresh, edited, n_jobs=1, progress=False, cache=False)
    assert tree(fresh) != before                       # the edit changes rows
    run([corpus_dir], out, edited, progress=False, engine="dask", scheduler=cluster.scheduler_address,
        force=True)
    assert tree(out) == tree(fresh)
    run([corpus_dir], out, edited, n_jobs=1, progress=False)                 # local, from the cache
    assert tree(out) == tree(fresh)


@needs_dask
def test_results_of_other_code_are_refused_and_not_cached(corpus_dir, rules, cluster, tmp_path, monkeypatch):
    """The worker's code version travels with its results: other code here than there is refused."""
    from pipeline.run.errors import RunError
    monkeypatch.setattr(engines, "code_version", lambda: "0.1.0+not-the-workers")
    out = tmp_path / "out"
    with pytest.raises(RunError, match="a Dask worker runs other code"):
        run([corpus_dir], out, rules, progress=False, engine="dask", scheduler=cluster.scheduler_address)
    with Cache(out / CACHE_DIR, env_key(rules.digest)) as c:
        assert len(c) == 0
    assert not (out / "articles.csv").exists()


@needs_dask
def test_a_cluster_that_loses_every_worker_still_has_the_rules(corpus_dir, rules):
    """The rules are a task the scheduler can compute again; scattered data would be lost for good."""
    jobs = discover([corpus_dir])[0][:2]
    tasks = [(j.article, str(j.path), j.path.read_bytes()) for j in jobs]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        eng = DaskEngine(rules, c.scheduler_address)
        try:
            eng.submit(tasks[:1]).result()
            client = eng._client
            old = set(client.run(os.getpid).values())
            for pid in old:
                os.kill(pid, signal.SIGKILL)             # the OOM killer; the nanny starts a new worker
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    now = set(client.run(os.getpid).values())
                    if now and not now & old:
                        break
                except Exception:
                    pass
                time.sleep(0.2)
            got = eng.submit(tasks[1:]).result()
        finally:
            eng.close()
    assert unpack(got[0]) == render(process_file(jobs[1].article, jobs[1].path, rules))
