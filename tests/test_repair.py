"""Tests for pipeline.repair: "one byte out of step" GBK damage."""
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stages.align import Edit
from pipeline.stages.repair import ASCIIFIED, CANDIDATE_RE, MAX_RUN, find_gbk_shift_damage

# Traditional Chinese news sentences (written for these tests) to damage.
SENTENCES = [
    "蘭州新區緊扣建設西部地區重要化工新材料基地的定位，推動精細化工產業集聚發展。",
    "記者近日從甘肅省科學技術廳獲悉，駐蘭高校和科研院所共獲得國家科學技術獎二十七項。",
    "報告顯示，全市財政運行總體平穩，一般公共預算收入完成二百七十六億元。",
    "黃河風情線遊人如織，蘭州文旅市場持續升溫。",
    "據統計，今年前三季度全省進出口總值同比增長百分之十二。",
    "市政府常務會議研究部署了城市更新和老舊小區改造工作。",
    "該項目總投資約三十億元，建成後將新增就業崗位兩千個。",
    "專家認為，數字經濟已成為推動經濟高質量發展的重要引擎。",
    "國家統計局發佈的數據顯示，居民消費價格指數溫和上漲。",
    "甘肅農業大學與西北師範大學簽署了戰略合作協議。",
    "當地醫院開設了綠色通道，為老年患者提供便利服務。",
    "農業農村部門積極推廣節水灌溉技術，保障糧食穩產增產。",
    "銀行業金融機構持續加大對小微企業的信貸支持力度。",
    "鐵路部門表示，春運期間將加開臨時旅客列車。",
    "「十四五」期間，蘭州將建成一批重大基礎設施項目。",
    "《關於加快發展現代服務業的實施意見》近日正式印發。",
    "著眼“五區”定位要求，著力探索西部欠發達地區依靠創新驅動的新路子。",
    "會議強調，要堅持問題導向，切實解決群眾急難愁盼問題。",
]


def asciify(text: str) -> str:
    """Apply the later full-width -> ASCII punctuation step of the damage."""
    return "".join(ASCIIFIED.get(c, c) for c in text)


def apply(text: str, edits: list[Edit]) -> str:
    """Apply sorted, non-overlapping edits to text (test-local, no alignment)."""
    for e in reversed(edits):
        text = text[:e.start] + e.replacement + text[e.end:]
    return text


def shift_damage(text: str, i: int):
    """Damage ``text`` as the mirror sites did: lose the GBK lead byte of text[i]
    (shown as '?'), decode out of step until an ASCII trail byte (0x40-0x7E)
    brings the decoder back, then ASCII-fy punctuation.  Returns
    (damaged, start, end, j) with damaged[start:end] the damage replacing
    text[i:j], or None where the damage would not have this shape."""
    data = text.encode("gbk")
    starts, pos = [], 0
    for ch in text:
        starts.append(pos)
        pos += len(ch.encode("gbk"))
    if len(text[i].encode("gbk")) != 2:
        return None
    pos, out = starts[i] + 1, []
    while pos < len(data) and data[pos] >= 0x81 and pos + 1 < len(data):
        try:
            out.append(data[pos:pos + 2].decode("gbk"))
        except UnicodeDecodeError:
            return None
        pos += 2
    if pos >= len(data) or pos in starts or not 0x40 <= data[pos] <= 0x7E:
        return None
    out.append(chr(data[pos]))
    j = starts.index(pos + 1)
    if not "\u4e00" <= text[j] <= "\u9fff" or not 2 <= len(out) <= MAX_RUN + 1:
        return None
    run = asciify("".join(out))
    damaged = asciify(text[:i]) + "?" + run + asciify(text[j:])
    return damaged, i, i + 1 + len(run), j


def test_real_example_quote_and_lan():
    """Real damage: lost A1 before A3 A1B0 CC6D, i.e. '。“蘭' read as '?!疤m'."""
    raw = "建成國家級農業科技示范基地”?!疤m州高新區生物醫藥產業"
    edits = find_gbk_shift_damage(raw)
    assert [(raw[e.start:e.end], e.replacement) for e in edits] == [("?!疤m", "。“蘭")]
    assert apply(raw, edits) == "建成國家級農業科技示范基地”。“蘭州高新區生物醫藥產業"
    e = edits[0]
    assert isinstance(e, Edit) and e.fixer == "repair_gbk_shift"
    assert "?!疤m" in e.note and "。“蘭" in e.note


def test_real_example_enumeration_comma():
    """Real damage: '、甘肅' read as '?⒏拭C'; exactly those 4 chars are replaced."""
    raw = "蘭州大學、西北師範大學?⒏拭C農業(yè)大學等高校"
    edits = find_gbk_shift_damage(raw)
    assert len(edits) == 1 and edits[0].end - edits[0].start == 4
    # the pinyin reading "(yè)" is another fixer's business: left alone here
    assert apply(raw, edits) == "蘭州大學、西北師範大學、甘肅農業(yè)大學等高校"


def test_replacement_character_as_lost_byte():
    """The lost byte may also show as U+FFFD instead of '?'."""
    raw = "西北師範大學\ufffd⒏拭C農業大學"
    assert apply(raw, find_gbk_shift_damage(raw)) == "西北師範大學、甘肅農業大學"


@pytest.mark.parametrize("text, i, expected", [
    ("活動圓滿結束。“蘭州馬拉松”吸引了大批遊客。", 6, "。“蘭"),  # '!' inside the run
    ("他說：「蘭州的發展很快」", 2, "：「蘭"),           # restored '：' comes back as ':'
    ("項目包括：醫療、教育、體育等領域", 10, "、體"),
    ("報告顯示，全市財政運行總體平穩。", 1, "告顯"),       # lost ideograph
    ("甘肅農業大學與西北師範大學簽署了戰略合作協議。", 7, "西北師範大學"),
    ("該項目總投資約三十億元，建成後將新增就業崗位兩千個。", 12, "建成後將新增就業"),
])
def test_synthetic_damage_is_repaired(text, i, expected):
    """Damage made with shift_damage at a known position is repaired exactly."""
    damage = shift_damage(text, i)
    assert damage is not None
    damaged, start, end, j = damage
    assert text[i:j] == expected
    edits = find_gbk_shift_damage(damaged)
    assert [(e.start, e.end) for e in edits] == [(start, end)]
    assert apply(damaged, edits) == asciify(text)


def test_synthetic_damage_property_over_all_positions():
    """Every position of every sentence: edits only ever touch the damaged span,
    the in-step part of a repair is always right, and most repairs are exact."""
    cases = exact = 0
    for text in SENTENCES:
        assert find_gbk_shift_damage(asciify(text)) == []
        for i in range(len(text)):
            damage = shift_damage(text, i)
            if damage is None:
                continue
            damaged, start, end, j = damage
            cases += 1
            edits = find_gbk_shift_damage(damaged)
            assert all((e.start, e.end) == (start, end) for e in edits), (text, i)
            for e in edits:
                assert e.replacement[1:] == asciify(text[i + 1:j])
            exact += apply(damaged, edits) == asciify(text)
    assert cases >= 40
    assert exact / cases >= 0.7, (exact, cases)


@pytest.mark.parametrize("text", [
    "你好?他说A股上涨",
    "是否?IBM公司",
    "Q&A环节",
    "人工智能(AI)发展",
    "5G?手機",
    "為什麼?中國A股今天大漲",
    "是嗎?台灣B型肝炎",
    "請見 https://example.com/news?id=12&q=蘭州 網址",
    "What?Really?OK中文",
    "真的嗎?我們去X光室",
    "產業(yè)發(fā)展?創(chuàng)新",
    "他問:「是嗎?」B組勝出",
])
def test_ordinary_text_is_left_alone(text):
    """Question marks, ASCII words, URLs and readings in normal text are not damage."""
    assert find_gbk_shift_damage(text) == []


def test_unlikely_repairs_are_rejected():
    """Candidates whose repair reads as gibberish are rejected."""
    # Same shape as damage (so the regex picks them), but re-pairing yields
    # rare, private-use or Simplified-only characters, or no words.
    for text in ["他說?呢嗎A股", "結果?甘肅省K線", "你好?他说A股上涨", "為什麼?中國A股今天大漲"]:
        assert CANDIDATE_RE.search(text)
        assert find_gbk_shift_damage(text) == []


@pytest.mark.parametrize("text", [
    "怎麼辦?市民到K歌房唱歌",   # would give '皇忻竦終'
    "怎麼選?文化B旅遊博覽會",   # would give '拔幕疊'
    "能否?收入A有望達到",       # would give '皇杖階'
    "如何?耗材X集中帶量採購",   # would give '院牟腦'
])
def test_repairs_of_common_characters_but_no_words_are_rejected(text):
    """Re-paired characters can all be common yet form no words: only the word
    check (dictionary words in context) stops these false repairs."""
    assert CANDIDATE_RE.search(text)
    assert find_gbk_shift_damage(text) == []


def test_several_repairs_sorted_and_disjoint():
    """Several damaged spans give sorted, non-overlapping edits."""
    raw = "示范基地”?!疤m州高新區與西北師範大學?⒏拭C農業大學"
    edits = find_gbk_shift_damage(raw)
    assert [e.replacement for e in edits] == ["。“蘭", "、甘肅"]
    assert edits[0].end <= edits[1].start


def test_large_text_is_fast():
    """MBs of text with many '?' are scanned quickly (regex first)."""
    text = ("記者從蘭州市獲悉?今年全市經濟運行平穩,A股上市公司增至三十家。" * 20000)
    t0 = time.perf_counter()
    assert find_gbk_shift_damage(text) == []
    assert time.perf_counter() - t0 < 10


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="的一是在不了有和人這中大為上個國我以要他時來用們生到作地於出就分對成會可主發年動同"
                        "工也能下過子說產種面而方後多定行學法所民得經十三之進著等部度家電力，。、", min_size=1, max_size=14),
       st.data())
def test_cover_at_is_word_cover_at_that_position(window, data):
    """The repair ranks candidates with _cover_at, the one position of _word_cover it needs."""
    from pipeline.stages.repair import _cover_at, _word_cover
    i = data.draw(st.integers(0, len(window) - 1))
    assert _cover_at(window, i) == _word_cover(window)[i]
