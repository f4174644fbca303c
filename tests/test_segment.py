"""Lazy segmentation (segment.Tokens) gives exactly jieba's tokens.

The pipeline segments a block only when the organisation rules ask for a
token in it. That is a speed-up only if it changes nothing: every token
`Tokens.at` returns must be the token `jieba.Tokenizer.tokenize` gives for the
whole text, whatever the text (Han runs, Latin and digits, punctuation,
whitespace, CRLF, very long blocks), and in whatever order it is asked.
"""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stages import segment
from pipeline.stages.read import read_file

from tests.helpers import corpus_articles, rules

PIECES = ["兰州大学", "甘肃省人民政府", "创新", "，", "。", "\n", "\r\n", " ", "\t", "8573.9", "万元", "%",
          "AI", "(", ")", "网易(兰州)", "第940医院", "·", "—", "和", "亿", "有限公司", "abc-12_x", "“", "”"]


def jieba_tokens(text: str) -> list[tuple[str, int, int]]:
    """The reference: jieba's own tokenize over the whole text."""
    r = rules()
    return list(segment.tokenizer(str(r.dir / "jieba_user.dict"), r.segment_words).tokenize(text, HMM=True))


def lazy(text: str) -> segment.Tokens:
    r = rules()
    return segment.lazy_tokens(text, str(r.dir / "jieba_user.dict"), r.segment_words)


def check(text: str, order: list[int], ref: list[tuple[str, int, int]] | None = None) -> None:
    ref = ref if ref is not None else jieba_tokens(text)
    holder = {p: t for t in ref for p in range(t[1], t[2])}
    toks = lazy(text)
    for pos in order:                          # random order: blocks segmented in any order
        assert toks.at(pos) == holder[pos], (text, pos)
    assert toks.all() == ref
    for w, s, e in ref:
        assert toks.starts_at(s) and toks.ends_at(e)
        assert toks.before((w, s, e)) == (holder[s - 1] if s > 0 else None)
    inner = [p for w, s, e in ref for p in range(s + 1, e)]
    assert not any(toks.starts_at(p) or toks.ends_at(p) for p in inner)


def test_corpus_texts_tokens_identical():
    for path in corpus_articles():
        text = read_file(path).text
        order = list(range(len(text)))
        random.Random(path.name).shuffle(order)
        check(text, order)


def test_long_block_cut_into_pieces_of_max_block():
    """A block over MAX_BLOCK characters is segmented in pieces of MAX_BLOCK (jieba's HMM is quadratic)."""
    assert segment.MAX_BLOCK == 500
    text = "兰州" + "亿" * 1203 + "，" + "1" * 777 + "有限公司"
    cuts = [0, 500, 1000, 1205, 1206, 1706, len(text)]      # "兰州亿…" is one block of 1205, "1…公司" one of 781
    ref = [(w, s + a, e + a) for a, b in zip(cuts, cuts[1:]) for w, s, e in jieba_tokens(text[a:b])]
    check(text, list(range(len(text)))[::-1], ref)


def test_untouched_blocks_are_not_segmented():
    toks = lazy("甘肃省人民政府，兰州大学。创新驱动发展")
    assert toks.at(9)[0] == "兰州大学"
    assert len(toks._segmented) == 1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.randoms(use_true_random=False))
def test_any_text_tokens_identical(pieces, rnd):
    text = "".join(pieces)
    order = list(range(len(text)))
    rnd.shuffle(order)
    check(text, order)


# Common characters and the pieces above: random runs give unknown words (jieba's HMM), ties
# between routes, words of our dictionary and single characters of zero frequency.
HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=HAN + "，。、0123456789%亿元", max_size=300))
def test_cut_block_words_are_jiebas(text):
    r = rules()
    tk = segment.tokenizer(str(r.dir / "jieba_user.dict"), r.segment_words)
    for m in segment.block_pattern().finditer(text):
        assert segment.cut_block(tk, m.group()) == list(tk.cut(m.group(), HMM=True))


def test_dictionary_tables_from_the_user_cache(tmp_path, monkeypatch):
    """jieba's FREQ and total and the word tags, kept in the per-user cache, are what jieba and
    dict.txt give, whether just built or read back; a damaged or differently keyed file is rebuilt."""
    import jieba

    from pipeline import usercache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    ref = jieba.Tokenizer()
    ref.initialize()
    ref_tags = segment._file_tags(segment.main_dict_path(), {})
    folder = tmp_path / "xdg" / usercache.APP
    for damage in (None, b"not marshal", None):
        if damage is not None:
            (folder / segment.FREQ_CACHE_FILE).write_bytes(damage)
            (folder / segment.TAGS_CACHE_FILE).write_bytes(damage)
        tk = jieba.Tokenizer()
        segment._initialize(tk)
        assert tk.initialized and tk.total == ref.total and tk.FREQ == ref.FREQ
        segment._tags.cache_clear()
        assert segment.word_tags(None) == ref_tags
    assert usercache.cached_marshal(segment.FREQ_CACHE_FILE, "another key", lambda: 7) == 7
    assert usercache.cached_marshal(segment.FREQ_CACHE_FILE, "another key", lambda: 8) == 7
    segment._tags.cache_clear()
