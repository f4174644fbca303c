"""One number grammar: the numerals the rules match ({NUM} of rules/fragments.toml, built from
pipeline/stages/numbers.py FRAGMENTS) are the numerals pipeline.stages.numbers reads, and back.

numbers.NUMBER_PATTERN also reads an Arabic group after a unit (2亿5000万) and a sign, which no
{NUM} takes as one number; the properties below leave those out of their domain.
"""
import shutil

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline import rules as rules_module
from pipeline.article import process_text
from pipeline.rules import RulesError, load_rules
from pipeline.stages import numbers

RULES = load_rules()
NUM = regex.compile(RULES.fragments["NUM"])
NUM_SCALED = regex.compile(f"(?:{RULES.fragments['NUM']})(?:{RULES.fragments['SCALE']})?")
NUMBER = regex.compile(numbers.NUMBER_PATTERN)
UNIT_CHARS = "十拾百佰千仟廿卅万萬亿億兆"
ALPHABET = numbers.CN_DIGITS + UNIT_CHARS + "0123456789." + "点"
# An Arabic digit right after a unit character: numbers.py reads 2亿5000万 as one number, the rules do
# not; nor do they read a traditional scale glued to a simplified one (萬亿), which never meet in a text
# converted to Simplified, nor 兆 after 万 or 亿 (万兆, 亿兆: a network speed and a literary "countless",
# no figure of a report; numbers.py multiplies them out, the rules take one scale after a decimal).
MIXED = regex.compile(f"[{UNIT_CHARS}][0-9]|[萬億][万亿]|[万亿][萬億]|[万萬亿億]兆")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=7))
@example("叄")
@example("貳拾陸")
@example("四十九兆九千五百九十二亿")
@example("廿五")
def test_what_the_rules_match_numbers_reads(s):
    """Every numeral {NUM} matches whole is a number of numbers.NUMBER_PATTERN (its value, or None when
    vague such as 三五万: never a string the number module does not know)."""
    if NUM.fullmatch(s):
        assert NUMBER.fullmatch(s), f"{s!r}: matched by the rules' {{NUM}}, not by numbers.NUMBER_PATTERN"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=7))
@example("叄")
@example("十二点五万")
@example("1.2万亿")
@example("两万五")
@example("5十万")
def test_what_numbers_reads_the_rules_match(s):
    """Every number parse_number reads (but 2亿5000万, above) is matched whole by {NUM}, with a scale
    word after it when it ends with one (十二点五万, 1.2万亿)."""
    if parse_ok(s) and not MIXED.search(s):
        assert NUM_SCALED.fullmatch(s), f"{s!r} = {numbers.parse_number(s)}: not matched by the rules' {{NUM}}"


def parse_ok(s: str) -> bool:
    return numbers.parse_number(s) is not None


@pytest.mark.parametrize("digit", list(numbers.CN_DIGITS))
def test_every_digit_is_a_rules_digit(digit):
    """Each Chinese digit numbers.py reads is a {CN_DIGIT} of the rules (叄 was not)."""
    assert regex.fullmatch(RULES.fragments["CN_DIGIT"], digit)
    assert parse_ok(digit)


def test_the_grammar_fragments_come_from_numbers():
    """{CN_DIGIT}, {ZHAO}, {SCALE}... are numbers.FRAGMENTS; rules/fragments.toml may not redefine one."""
    for name, pattern in numbers.FRAGMENTS.items():
        assert RULES.fragments[name] == pattern


def test_redefining_a_grammar_fragment_is_a_rules_error(tmp_path):
    shutil.copytree(rules_module.default_rules_dir(), tmp_path / "rules")
    with open(tmp_path / "rules" / "fragments.toml", "a", encoding="utf-8") as fh:
        fh.write("CN_DIGIT = '[一二三]'\n")
    with pytest.raises(RulesError, match="CN_DIGIT is the number grammar's"):
        load_rules(tmp_path / "rules")


def test_a_word_added_to_qualifier_mid_is_matched(tmp_path):
    """{QUAL_MID} is the list rules/lists/qualifier_mid.txt: a word added there is read (it was a literal)."""
    shutil.copytree(rules_module.default_rules_dir(), tmp_path / "rules")
    with open(tmp_path / "rules" / "lists" / "qualifier_mid.txt", "a", encoding="utf-8") as fh:
        fh.write("来 about\n")
    rows = process_text("a", "标题\n全县新增企业30来家。\n", load_rules(tmp_path / "rules")).rows
    assert [(r["text"], r["value"], r["qualifier"]) for r in rows if r["kind"] == "count"] == [("30来家", "30", "about")]
