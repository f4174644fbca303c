"""Tests of pipeline.convert: the fast t2s must equal the reference on every input."""
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # lets plain `pytest` find the package without installing it
    sys.path.insert(0, str(ROOT))

from pipeline.stages import convert  # noqa: E402
from pipeline.stages.convert import loaded_opencc_is_reimplementation, t2s, t2s_reference, t2s_spans  # noqa: E402


def _raw_dir() -> Path:
    """The dev corpus: tests/data/corpus, a copy of ../shared/corpus-dev/raw (tests/test_vendored.py)."""
    return ROOT / "tests" / "data" / "corpus"


def _read_raw(path: Path) -> str:
    """Decode a corpus file: dev05.txt is GB18030, the others UTF-8."""
    return path.read_bytes().decode("gb18030" if path.name == "dev05.txt" else "utf-8")


def _dicts():
    """(phrases, characters) as the reference reads them, first value of each entry."""
    import opencc.opencc as ref_mod

    base = Path(ref_mod.__file__).parent / ref_mod.DICT_DIR
    return convert._read_dict(str(base / "TSPhrases.txt")), convert._read_dict(str(base / "TSCharacters.txt"))


SEPARATORS = list(" \t\n\r\u3000\u2003-,.?!*，。、；：？！…“”‘’『』「」—－（）《》〈〉～．／＼【】［］｛｝︵︶﹃﹄")
OTHER = list("()[]:;'\"%&$#@0123456789abcxyzABC_+=~^") + ["\u00a0", "\ufeff", "\U0001F600", "\ud800"]


def _big_text(target_bytes: int = 2_000_000, seed: int = 20240601) -> str:
    """Deterministic ~2 MB text: every key of both dictionaries (and their values)
    at least once, then random keys, key fragments, separators, ASCII and
    punctuation, with occasional long runs without any separator."""
    phrases, chars = _dicts()
    keys = list(phrases) + list(chars)
    rng = random.Random(seed)
    pool = keys + list(phrases.values()) + list(chars.values())
    rng.shuffle(pool)
    parts = []
    for k in pool:  # everything once
        parts.append(k)
        parts.append(rng.choice(SEPARATORS + OTHER + [""] * 20))
    size = sum(len(p.encode("utf-8", "surrogatepass")) for p in parts)
    while size < target_bytes:
        r = rng.random()
        if r < 0.45:
            p = rng.choice(keys)
        elif r < 0.6:
            p = rng.choice(list(phrases))
            p = p[rng.randrange(len(p)):] if rng.random() < 0.5 else p[: rng.randrange(1, len(p) + 1)]
        elif r < 0.8:
            p = rng.choice(SEPARATORS)
        elif r < 0.995:
            p = rng.choice(OTHER)
        else:  # a long chunk with no separator
            p = "".join(rng.choice(keys) for _ in range(300))
        parts.append(p)
        size += len(p.encode("utf-8", "surrogatepass"))
    return "".join(parts)


def test_loaded_opencc_is_reimplementation():
    assert loaded_opencc_is_reimplementation() is True


@pytest.mark.parametrize("kind", ["official-like", "copy-outside-distribution"])
def test_detector_rejects_other_opencc(tmp_path, kind):
    """A module `opencc` that shadows the installed distribution is not accepted."""
    pkg = tmp_path / "opencc"
    if kind == "official-like":  # layout of the official binding: no opencc.py, no dictionary/*.txt
        (pkg / "clib").mkdir(parents=True)
        (pkg / "__init__.py").write_text("class OpenCC:\n    def __init__(self, config='t2s.json'):\n"
                                         "        pass\n    def convert(self, text):\n        return text\n")
    else:  # even the same code, when not the installed distribution's files
        import opencc

        shutil.copytree(Path(opencc.__file__).parent, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
            "import opencc; assert opencc.__file__.startswith(sys.argv[1]), opencc.__file__\n"
            "from pipeline.stages.convert import loaded_opencc_is_reimplementation as f\n"
            "print(f())\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "False"


def test_corpus_files_identical():
    files = sorted(p for p in _raw_dir().iterdir() if p.is_file())
    assert len(files) >= 7
    for path in files:
        text = _read_raw(path)
        assert t2s(text) == t2s_reference(text), path.name
        assert t2s_spans(text) == (t2s_reference(text), []), path.name


def test_large_generated_text_identical():
    """~2 MB mixed text (runs in about 2 s, the reference being most of it)."""
    text = _big_text()
    assert len(text.encode("utf-8", "surrogatepass")) >= 2_000_000
    expected = t2s_reference(text)
    assert t2s(text) == expected
    assert t2s_spans(text) == (expected, [])


EDGE_CASES = {
    "": "",
    " ,.\n\t\u3000，。、…—－（）「」": " ,.\n\t\u3000，。、…—－（）「」",
    "乾隆": "乾隆",  # phrase mapped to itself protects 乾 from TSCharacters
    "乾,隆": "干,隆",  # a separator splits the phrase
    "乾隆,乾淨": "乾隆,干净",
    "乾嘉鎖鍊鐵鍊發覆盆子": "乾嘉锁链铁链发覆盆子",  # longest (覆盆子) beats an earlier shorter one (發覆)
    "明瞭藉故凌藉藉": "明了借故凌借藉",  # equal lengths: leftmost wins (凌藉, not 藉藉)
    "凌藉藉无名": "凌藉藉无名",  # 藉藉无名 (4) beats 凌藉 (2)
    "一目瞭然於心": "一目了然于心",
    "反反覆覆": "反反复复",
    "酒逢知己千鍾少話": "酒逢知己千锺少话",  # prefix of a 14-character key at the end
    "酒逢知己千鍾少話不投機半句多": "酒逢知己千锺少话不投机半句多",
    "二噁英": "二𫫇英",  # 噁 -> U+2AAC7: same code points, one more UTF-8 byte
    "𠀀𥪕噁": "𠀀𥪕恶",
    "龍鍾": "龙钟",  # multi-valued entry: first value
}


@pytest.mark.parametrize("text", list(EDGE_CASES))
def test_edge_cases(text):
    assert t2s_reference(text) == EDGE_CASES[text]
    assert t2s(text) == EDGE_CASES[text]
    assert t2s_spans(text) == (EDGE_CASES[text], [])


def test_phrase_at_chunk_ends_and_supplementary_plane():
    phrases, chars = _dicts()
    astral = [k for k in chars if ord(k) > 0xFFFF][:20] + [v for v in chars.values() if ord(v) > 0xFFFF][:20]
    rng = random.Random(7)
    for key in phrases:
        sep = rng.choice(SEPARATORS)
        for text in (key, key + sep + key, sep + key + sep, key[:-1] + sep + key[-1], rng.choice(astral) + key + rng.choice(astral)):
            assert t2s(text) == t2s_reference(text), text


def test_random_dense_overlaps_identical():
    """Short strings packed with phrase keys and fragments of them: stresses the
    choice among overlapping candidates (a left-to-right longest match fails here)."""
    phrases, _ = _dicts()
    keys = list(phrases)
    alphabet = sorted(set("".join(keys))) + [",", " ", "。", "（", "a", "\u3000", "𠀀", "\ud800"]
    rng = random.Random(12345)
    for _ in range(20000):
        parts = [rng.choice(keys) if rng.random() < 0.5 else rng.choice(alphabet) for _ in range(rng.randint(0, 10))]
        text = "".join(p[rng.randrange(len(p)):] if rng.random() < 0.3 else p for p in parts)
        assert t2s(text) == t2s_reference(text), text


def test_dictionaries_never_change_code_point_length():
    """Why t2s_spans returns [] with the installed data; UTF-8 length does change."""
    phrases, chars = _dicts()
    assert all(len(k) == len(v) for d in (phrases, chars) for k, v in d.items())
    assert phrases["二噁英"] == "二𫫇英"
    assert len("二噁英".encode()) + 1 == len(t2s("二噁英").encode())


def _check_spans(src: str, out: str, spans, replaced: dict):
    """Spans are ordered, and applying them reproduces positions and lengths."""
    shift, prev_end = 0, 0
    for ss, se, ds, de in spans:
        assert prev_end <= ss < se and ds == ss + shift
        assert (se - ss) != (de - ds)
        assert out[ds:de] == replaced[src[ss:se]]
        shift += (de - ds) - (se - ss)
        prev_end = se
    assert len(out) == len(src) + shift


def test_spans_with_length_changing_entries(monkeypatch):
    """Fake dictionary entries that change length exercise the span arithmetic."""
    table, phrases, first, lens = convert._tables()
    fake = dict(phrases, **{"乾隆": "乾隆帝", "反覆": "复", "二噁英": "二𫫇英"})
    monkeypatch.setattr(convert, "_tables", lambda: (table, fake, first, lens))
    src = "乾隆年間,反覆說。二噁英乾隆反覆x反反覆覆"
    out, spans = t2s_spans(src)
    assert out == "乾隆年间,复说。二𫫇英乾隆帝复x反反复复"
    assert [src[a:b] for a, b, _, _ in spans] == ["反覆", "乾隆", "反覆"]
    _check_spans(src, out, spans, fake)
    assert out == t2s(src)


def test_spans_empty_on_real_dictionaries():
    text = "二噁英乾隆皇帝反反覆覆" * 3
    out, spans = t2s_spans(text)
    assert spans == [] and len(out) == len(text) and out == t2s_reference(text)
    _check_spans(text, out, spans, {})
