"""Benchmark: MB/s of the reference t2s (opencc-python-reimplemented) vs pipeline.stages.convert.t2s.

Builds a deterministic ~5 MB (UTF-8) text from the dev corpus plus random
dictionary keys, separators and ASCII, converts it with both, prints the speeds
and checks that the outputs are identical.  Run: python benchmarks/bench_convert.py
"""
import glob
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pipeline.stages.convert import _read_dict, t2s, t2s_reference  # noqa: E402

TARGET_BYTES = 5 * 1024 * 1024


def build_text(target: int = TARGET_BYTES, seed: int = 1234) -> str:
    """Deterministic mixed text: real dev-corpus paragraphs interleaved with random
    dictionary keys, separators and ASCII, until `target` UTF-8 bytes."""
    import opencc.opencc as ref_mod

    base = os.path.join(os.path.dirname(ref_mod.__file__), ref_mod.DICT_DIR)
    keys = list(_read_dict(os.path.join(base, "TSPhrases.txt")))
    keys += list(_read_dict(os.path.join(base, "TSCharacters.txt")))
    corpus = []
    for path in sorted(glob.glob("/work/shared/corpus-dev/raw/*")):
        raw = open(path, "rb").read()
        corpus.append(raw.decode("gb18030" if path.endswith("dev05.txt") else "utf-8"))
    rng = random.Random(seed)
    seps = [" ", "\n", ",", ".", "，", "。", "、", "「", "」", "—", "（", "）", "(", ")", "abc", "2024"]
    parts, size = [], 0
    while size < target:
        if rng.random() < 0.5 and corpus:
            piece = rng.choice(corpus)
        else:
            piece = "".join(rng.choice(keys) if rng.random() < 0.8 else rng.choice(seps) for _ in range(200))
        parts.append(piece)
        size += len(piece.encode("utf-8"))
    return "".join(parts)


def timed(fn, text):
    """Return (output, seconds) of fn(text), after a warm-up call that loads dictionaries."""
    fn("乾隆")
    t0 = time.perf_counter()
    out = fn(text)
    return out, time.perf_counter() - t0


def corpus_text(target: int = TARGET_BYTES) -> str:
    """Realistic text: the dev corpus files repeated up to `target` UTF-8 bytes."""
    docs = []
    for path in sorted(glob.glob("/work/shared/corpus-dev/raw/*")):
        raw = open(path, "rb").read()
        docs.append(raw.decode("gb18030" if path.endswith("dev05.txt") else "utf-8"))
    one = "\n".join(docs)
    return one * (target // len(one.encode("utf-8")) + 1)


def main() -> int:
    """Print MB/s of reference and fast converter on the same texts; exit 1 on mismatch."""
    ok = True
    for name, text in (("mixed (corpus + dictionary keys)", build_text()), ("dev corpus repeated", corpus_text())):
        mb = len(text.encode("utf-8")) / 1e6
        ref, t_ref = timed(t2s_reference, text)
        fast, t_fast = timed(t2s, text)
        print(f"{name}: {mb:.2f} MB UTF-8, {len(text)} code points")
        print(f"  reference: {mb / t_ref:8.2f} MB/s ({t_ref:.2f} s)")
        print(f"  fast:      {mb / t_fast:8.2f} MB/s ({t_fast:.3f} s)  speed-up x{t_ref / t_fast:.0f}")
        print("  identical:", ref == fast)
        ok = ok and ref == fast
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
