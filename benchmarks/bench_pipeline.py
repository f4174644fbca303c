"""Benchmark of `pipeline run`: throughput, stages, memory, parallel speed-up, cache.

    python benchmarks/bench_pipeline.py              # 20 MB corpus, all measurements (~5 min on 2 cores)
    python benchmarks/bench_pipeline.py --quick      # 2 MB, smaller memory runs (~1 min)
    python benchmarks/bench_pipeline.py --size-mb 50 --memory 10000,30000,100000
    python benchmarks/bench_pipeline.py --profile    # + cProfile of a sample, top functions

What it does, all in a temporary folder (or --work DIR, kept):

1. Builds a corpus of --size-mb MB in the raw format from the articles of
   corpus/: each generated article takes a title, 8-25 paragraphs shuffled
   from all articles, and a byline/editor/copyright tail; digits are varied
   so no two texts are alike (no cache can key on whole texts). The raw
   features stay: Traditional text, pinyin readings (`創(chuàng)`), ASCII
   punctuation, the GBK-shift damage, boilerplate tails, and a share of
   GB18030, UTF-8 with BOM and CRLF files. Nested folders (`2023/07/...`).
2. Baseline, in a subprocess over the same files: read + decode, the reading
   regex of pipeline/readings.py (a plain `sub`), the reference
   `opencc.OpenCC('t2s').convert` and `jieba.cut`; wall time including
   imports and loading jieba, as for the pipeline.
3. `python -m pipeline run --no-report` in subprocesses: --jobs 1 and
   --jobs 2 without cache (throughput, speed-up), then --jobs 2 with an
   empty cache, the unchanged re-run, and a re-run with 10 new articles.
   Peak RSS of the main process (RUSAGE_SELF) and of the largest worker
   (RUSAGE_CHILDREN), both ru_maxrss.
4. Time per stage, in this process on a sample of the corpus, with timers
   wrapped around the stage functions (bench-only; the normal path has none).
5. Memory against the number of articles: runs of N tiny articles
   (--memory, default 10000,30000): flat means streaming works.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1_000_000


# --- corpus --------------------------------------------------------------------------

TAIL_START = re.compile(r"^(□|責任編輯|责任编辑|版權聲明|版权声明)")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def load_sources(corpus: Path) -> list[dict]:
    """title, body paragraphs and tail lines of every article of corpus/ (decoded by the pipeline's reader)."""
    from pipeline.stages.read import read_file
    out = []
    for p in sorted(corpus.rglob("*.txt")):
        d = read_file(p)
        lines = [ln for ln in d.text.replace("\r\n", "\n").split("\n") if ln.strip()]
        cut = next((i for i, ln in enumerate(lines) if i > 0 and TAIL_START.match(ln)), len(lines))
        out.append({"title": lines[0], "body": lines[1:cut], "tail": lines[cut:], "name": p.stem})
    return out


def vary_numbers(text: str, rng: random.Random) -> str:
    def sub(m):
        s = m.group(0)
        whole, _, frac = s.partition(".")
        if len(whole) == 4 and whole[:2] in ("19", "20") and not frac:
            return str(rng.randint(2000, 2025))            # a year stays a plausible year
        new = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(len(whole) - 1))
        if whole == "0":
            new = "0"
        if frac:
            new += "." + "".join(str(rng.randint(0, 9)) for _ in range(len(frac) - 1)) + str(rng.randint(1, 9))
        return new
    return NUMBER.sub(sub, text)


def article_text(sources: list[dict], paras: list[str], rng: random.Random, n_paras: tuple[int, int]) -> str:
    src = rng.choice(sources)
    body = [vary_numbers(p, rng) for p in rng.sample(paras, min(len(paras), rng.randint(*n_paras)))]
    tail = rng.choice(sources)["tail"]
    return "\n".join([vary_numbers(src["title"], rng)] + body + tail) + "\n"


def encode(text: str, rng: random.Random) -> bytes:
    """Mostly UTF-8 (the raw format); some GB18030, UTF-8 with BOM, CRLF."""
    r = rng.random()
    if r < 0.07:
        return text.encode("gb18030")
    if r < 0.12:
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if r < 0.20:
        return text.replace("\n", "\r\n").encode("utf-8")
    return text.encode("utf-8")


def build_corpus(folder: Path, size_mb: float, seed: int = 20240416, n_paras=(8, 25), prefix: str = "a") -> tuple[int, int]:
    """Write articles under folder until size_mb MB; return (articles, bytes)."""
    rng = random.Random(seed)
    sources = load_sources(ROOT / "corpus")
    paras = [p for s in sources for p in s["body"]]
    total = n = 0
    while total < size_mb * MB:
        data = encode(article_text(sources, paras, rng, n_paras), rng)
        p = folder / f"{2015 + n % 10}" / f"{1 + n // 10 % 12:02d}" / f"{prefix}{n:06d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        total += len(data)
        n += 1
    return n, total


def build_tiny(folder: Path, n: int, seed: int = 7) -> int:
    """n tiny articles (a title and one or two short sentences): for memory against article count."""
    rng = random.Random(seed)
    sources = load_sources(ROOT / "corpus")
    sentences = [s for src in sources for p in src["body"] for s in re.split(r"(?<=[。;])", p) if 10 < len(s) < 80]
    total = 0
    for i in range(n):
        text = "\n".join([f"消息{i}", vary_numbers(rng.choice(sentences), rng), vary_numbers(rng.choice(sentences), rng)])
        p = folder / f"{i // 1000:03d}" / f"t{i:06d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        p.write_bytes(data)
        total += len(data)
    return total


def corpus_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.txt"))


def sample(folder: Path, mb: float) -> list[Path]:
    """The first files of the corpus, mb MB of them."""
    files, got = [], 0
    for f in corpus_files(folder):
        if got >= mb * MB:
            break
        files.append(f)
        got += f.stat().st_size
    return files


# --- baseline (run in a subprocess: python bench_pipeline.py --baseline DIR) -------------

def baseline(folder: Path) -> dict:
    t0 = time.perf_counter()
    import jieba
    import opencc
    from pipeline.stages.readings import READING_CANDIDATE
    jieba.setLogLevel(60)
    conv = opencc.OpenCC("t2s")
    jieba.initialize()
    t_load = time.perf_counter() - t0
    t = {"read": 0.0, "strip": 0.0, "t2s": 0.0, "cut": 0.0}
    n = size = 0
    for p in corpus_files(folder):
        a = time.perf_counter()
        data = p.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        b = time.perf_counter()
        text = READING_CANDIDATE.sub("", text)
        c = time.perf_counter()
        text = conv.convert(text)
        d = time.perf_counter()
        _ = list(jieba.cut(text))
        e = time.perf_counter()
        t["read"] += b - a
        t["strip"] += c - b
        t["t2s"] += d - c
        t["cut"] += e - d
        n += 1
        size += len(data)
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"articles": n, "bytes": size, "load": t_load, "stages": t, "seconds": time.perf_counter() - t0,
            "cpu": ru.ru_utime + ru.ru_stime}


# --- pipeline runs in subprocesses --------------------------------------------------------

RUNNER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from pipeline.commands.cli import main
rc = main(sys.argv[2:])
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "inner": time.perf_counter() - t0, "rss_main_kb": me.ru_maxrss,
                  "rss_worker_kb": kids.ru_maxrss, "cpu_main": me.ru_utime + me.ru_stime,
                  "cpu_workers": kids.ru_utime + kids.ru_stime}))
"""


def pipeline_run(inputs: Path, out: Path, *args: str, fresh: bool = True) -> dict:
    """`python -m pipeline run` in a fresh interpreter: wall time (startup included) and peak RSS.

    fresh: start from an empty output folder (no cache from an earlier benchmark)."""
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", RUNNER, str(ROOT), "run", str(inputs), "--out", str(out), "--no-report",
           "--quiet", *args]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"pipeline run failed ({p.returncode}):\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["wall"], res["load"] = wall, os.getloadavg()[0]   # 1-minute load average: others' work on the machine
    res["summary"] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    return res


def same_outputs(a: Path, b: Path) -> bool:
    """Byte-identical CSVs and clean texts (compared in chunks: this process must stay small, since
    Linux hands a parent's peak RSS down to the processes it starts)."""
    import filecmp
    for name in ("extractions.csv", "articles.csv"):
        if not filecmp.cmp(a / name, b / name, shallow=False):
            return False
    ca = sorted(p.relative_to(a / "clean") for p in (a / "clean").rglob("*.txt"))
    cb = sorted(p.relative_to(b / "clean") for p in (b / "clean").rglob("*.txt"))
    return ca == cb and all(filecmp.cmp(a / "clean" / p, b / "clean" / p, shallow=False) for p in ca)


# --- stages, in this process ---------------------------------------------------------------

def stage_times(files: list[Path], work: Path, profile: bool = False) -> dict:
    """Seconds per stage over `files`, by timers wrapped around the stage functions (bench only)."""
    import pipeline.article as art
    import pipeline.stages.clean as cl
    import pipeline.stages.context as ctx
    import pipeline.stages.segment as seg
    from pipeline.rules import load_rules
    from pipeline.outputs import CsvStream, render
    from pipeline.run.clean_texts import write_clean_if_changed

    rules = load_rules()
    t = dict.fromkeys(["read", "clean", "convert", "segment", "extract", "context", "write"], 0.0)

    def timed(mod, name, key):
        f = getattr(mod, name)

        def wrapper(*a, **k):
            s = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                t[key] += time.perf_counter() - s
        setattr(mod, name, wrapper)
        return f

    art.process_file("warm-up", files[0], rules)            # jieba, repair tables, pinyin: loaded once
    originals = [(art, "read_file", timed(art, "read_file", "read")),
                 (art, "clean", timed(art, "clean", "clean")),
                 (cl, "t2s_spans", timed(cl, "t2s_spans", "convert")),
                 (seg.Tokens, "_block", timed(seg.Tokens, "_block", "segment")),   # inside extract
                 (art, "context", timed(art, "context", "extract")),
                 (art, "candidates", timed(art, "candidates", "extract")),
                 (art, "resolve", timed(art, "resolve", "extract")),
                 (art, "rows_of", timed(art, "rows_of", "extract")),
                 (ctx, "contexts", timed(ctx, "contexts", "context"))]             # inside rows_of
    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    out = work / "stages-out"
    out.mkdir(parents=True, exist_ok=True)
    from pipeline.outputs import ARTICLE_COLUMNS, EXTRACTION_COLUMNS
    ex, ar = CsvStream(out / "extractions.csv", EXTRACTION_COLUMNS), CsvStream(out / "articles.csv", ARTICLE_COLUMNS)
    s0 = time.perf_counter()
    for i, p in enumerate(files):
        res = art.process_file(f"s{i}", p, rules)
        s = time.perf_counter()
        r = render(res)                      # CSV lines (in the worker), then written (in the main process)
        if r.ok:
            write_clean_if_changed(out, r.article, r.clean)
        ex.write_lines(r.extractions)
        ar.write_lines(r.article_line)
        t["write"] += time.perf_counter() - s
    ex.commit()
    ar.commit()
    total = time.perf_counter() - s0
    if prof:
        prof.disable()
    for mod, name, f in originals:
        setattr(mod, name, f)
    t["clean"] -= t["convert"]          # clean() includes the conversion
    t["extract"] -= t["segment"]        # blocks are segmented when the org rules first read them
    t["extract"] -= t["context"]        # rows_of runs the context stage
    t["other"] = total - sum(t.values())
    if prof:
        import io
        import pstats
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        t["_profile"] = buf.getvalue()
    t["_total"] = total
    return t


# --- report ----------------------------------------------------------------------------

def machine() -> str:
    cpu = ""
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        pass
    return f"{' '.join(platform.uname())}\nCPU: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=20.0, help="corpus size (default 20)")
    ap.add_argument("--quick", action="store_true", help="small run: 2 MB, memory runs of 2000 and 6000 articles")
    ap.add_argument("--memory", default=None, help="article counts of the memory runs (default 10000,30000)")
    ap.add_argument("--sample-mb", type=float, default=None, help="size of the in-process stage sample (default 2)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the stage sample")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run --jobs 1 and --jobs 2 this many times each, alternating, and keep the fastest "
                         "(a shared machine's other load only ever slows a run down)")
    ap.add_argument("--work", help="work folder (kept); default a temporary one (removed)")
    ap.add_argument("--baseline", help=argparse.SUPPRESS)
    ap.add_argument("--stages", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.baseline:
        print(json.dumps(baseline(Path(a.baseline))))
        return 0
    if a.stages:
        corpus, work, mb = a.stages
        files = sample(Path(corpus), float(mb))
        st = stage_times(files, Path(work))                   # timers only: the profiler would skew them
        if a.profile:
            st["_profile"] = stage_times(files, Path(work), profile=True)["_profile"]
        print(json.dumps(st))
        return 0
    size = 2.0 if a.quick and a.size_mb == 20.0 else a.size_mb
    mem_counts = [int(x) for x in (a.memory or ("2000,6000" if a.quick else "10000,30000")).split(",") if x]
    sample_mb = a.sample_mb or (0.5 if a.quick else 2.0)
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return bench(work, size, mem_counts, sample_mb, a.profile, a.repeat)
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


def bench(work: Path, size: float, mem_counts: list[int], sample_mb: float, profile: bool, repeat: int = 1) -> int:
    print("machine:", machine())
    corpus = work / "corpus"
    if not corpus.exists():
        n, nbytes = build_corpus(corpus, size)
    else:
        files = corpus_files(corpus)
        n, nbytes = len(files), sum(p.stat().st_size for p in files)
    mb = nbytes / MB
    print(f"\ncorpus: {n} articles, {mb:.1f} MB ({nbytes / n / 1000:.1f} kB per article) in {corpus}")

    def line(name, secs, extra=""):
        print(f"  {name:<34} {secs:7.1f} s  {mb / secs:6.2f} MB/s  {n / secs:7.1f} articles/s  {extra}")

    def cpu(r):
        return f"CPU {r['cpu_main']:.1f} s main + {r['cpu_workers']:.1f} s workers, load avg {r['load']:.1f}"

    print("\nthroughput (wall time of a fresh process: imports, jieba loading and writing included)")
    base = None
    for _ in range(max(1, repeat)):
        p = subprocess.run([sys.executable, __file__, "--baseline", str(corpus)], capture_output=True, text=True)
        if p.returncode:
            sys.exit(p.stderr)
        b = json.loads(p.stdout)
        base = b if base is None or b["seconds"] < base["seconds"] else base
    line("baseline (strip+OpenCC t2s+cut)", base["seconds"], f"CPU {base['cpu']:.1f} s, load avg "
                                                             f"{os.getloadavg()[0]:.1f}")
    bs = base["stages"]
    print("    baseline stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in bs.items()) + f", loading {base['load']:.1f} s")

    r1 = r2 = None
    for _ in range(max(1, repeat)):
        a = pipeline_run(corpus, work / "out-j1", "--jobs", "1", "--no-cache")
        b = pipeline_run(corpus, work / "out-j2", "--jobs", "2", "--no-cache")
        r1 = a if r1 is None or a["wall"] < r1["wall"] else r1
        r2 = b if r2 is None or b["wall"] < r2["wall"] else r2
    if repeat > 1:
        print(f"  (fastest of {repeat} alternating runs each)")
    line("pipeline run --jobs 1", r1["wall"], f"peak RSS {r1['rss_main_kb'] / 1024:.0f} MB; {cpu(r1)}")
    line("pipeline run --jobs 2", r2["wall"], f"peak RSS main {r2['rss_main_kb'] / 1024:.0f} MB, "
                                              f"worker {r2['rss_worker_kb'] / 1024:.0f} MB; {cpu(r2)}")
    print(f"  one process vs baseline: x{base['seconds'] / r1['wall']:.2f} (target >= 0.8); "
          f"by CPU time x{base['cpu'] / r1['cpu_main']:.2f}")
    print(f"  --jobs 2 vs --jobs 1:    x{r1['wall'] / r2['wall']:.2f} (target >= 1.8); CPU of --jobs 2 "
          f"= {(r2['cpu_main'] + r2['cpu_workers']) / r1['cpu_main']:.2f} x --jobs 1, so x"
          f"{2 * r1['cpu_main'] / (r2['cpu_main'] + r2['cpu_workers']):.2f} at best on 2 free cores")
    print(f"  outputs of --jobs 1 and --jobs 2 identical: {same_outputs(work / 'out-j1', work / 'out-j2')}")

    print("\ncache (--jobs 2)")
    out = work / "out-cache"
    full = pipeline_run(corpus, out, "--jobs", "2")
    line("first run, empty cache", full["wall"], cpu(full))
    again = pipeline_run(corpus, out, "--jobs", "2", fresh=False)
    line("unchanged re-run", again["wall"], f"= {100 * again['wall'] / full['wall']:.1f} % of the first "
                                           f"(target <= 5 %); peak RSS {again['rss_main_kb'] / 1024:.0f} MB")
    print(f"    {again['summary']}")
    new = build_corpus(corpus / "new", 10 * nbytes / n / MB, seed=99, prefix="new")
    more = pipeline_run(corpus, out, "--jobs", "2", fresh=False)
    per_article = r2["wall"] / n
    print(f"  re-run with {new[0]} new articles   {more['wall']:7.1f} s  (the run of {n} took {full['wall']:.1f} s; "
          f"{new[0]} articles at the --jobs 2 rate: {new[0] * per_article:.2f} s + startup)")
    print(f"    {more['summary']}")
    forced = work / "out-force"
    pipeline_run(corpus, forced, "--jobs", "2", "--no-cache")
    print(f"  outputs with and without cache identical: {same_outputs(out, forced)}")
    shutil.rmtree(corpus / "new")

    print(f"\nstages (one process, sample of {sample_mb:g} MB; jieba etc. loaded before timing)")
    files = sample(corpus, sample_mb)
    got = sum(f.stat().st_size for f in files)
    # in a subprocess, like every measurement: this process stays small, and the peak RSS of the
    # pipeline runs it starts is theirs (Linux keeps ru_maxrss across exec)
    cmd = [sys.executable, __file__, "--stages", str(corpus), str(work), str(sample_mb)] + (["--profile"] if profile else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit(p.stderr)
    st = json.loads(p.stdout)
    tot = st["_total"]
    for k in ("read", "clean", "convert", "segment", "extract", "context", "write", "other"):
        print(f"  {k:<8} {st[k]:6.2f} s  {100 * st[k] / tot:5.1f} %  {got / MB / st[k] if st[k] > 0 else 0:8.2f} MB/s")
    print(f"  total    {tot:6.2f} s  {got / MB / tot:.2f} MB/s over {len(files)} articles")
    print("  (clean = controls, GBK repair, readings, boilerplate; convert = pipeline.stages.convert.t2s;\n"
          "   segment = jieba on the blocks the org rules read (segment.Tokens, called from extract);\n"
          "   extract = rules, interpretation, overlaps, rows; write = CSV rows and clean texts)")
    if profile:
        print(st["_profile"])

    print("\nmemory against the number of articles (tiny articles, --jobs 2, cache on)")
    for count in mem_counts:
        tiny = work / f"tiny-{count}"
        if not tiny.exists():
            build_tiny(tiny, count)
        r = pipeline_run(tiny, work / f"out-tiny-{count}", "--jobs", "2")
        print(f"  {count:>7} articles: {r['wall']:6.1f} s, peak RSS main {r['rss_main_kb'] / 1024:5.0f} MB, "
              f"largest worker {r['rss_worker_kb'] / 1024:5.0f} MB")
        shutil.rmtree(work / f"out-tiny-{count}", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
