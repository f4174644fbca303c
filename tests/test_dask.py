"""`--engine dask`: the same per-article function on a Dask cluster, the same bytes as a local run."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from pipeline.article import process_file
from pipeline.commands.cli import main
from pipeline.run.engines import RulesPayload, _worker_rules, process_data, rules_files
from pipeline.rules import load_rules
from pipeline.run import discover, run
from test_parallel import make_corpus, tree


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


def test_worker_without_the_rules_folder_rebuilds_it(corpus_dir, rules, tmp_path):
    """A worker that cannot see rules.dir writes the shipped files to a local folder (jieba_user.dict!)."""
    elsewhere = dataclasses.replace(rules, dir=tmp_path / "not-on-this-worker")
    got = _worker_rules(RulesPayload(elsewhere, rules_files(rules)))
    assert got.dir != elsewhere.dir and (got.dir / "jieba_user.dict").read_bytes() == \
        (rules.dir / "jieba_user.dict").read_bytes()
    assert _worker_rules(RulesPayload(rules, rules_files(rules))).dir == rules.dir   # shared folder: as is
    job = discover([corpus_dir])[0][0]
    assert process_file(job.article, job.path, got) == process_file(job.article, job.path, rules)


def test_scheduler_needs_dask_engine(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1", "--no-report"]) == 2
    assert "--engine dask" in capsys.readouterr().err


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
