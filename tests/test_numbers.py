"""Tests of pipeline.numbers: exact values, non-numbers, scale splitting, formatting, the regex
spans inside sentences, and adversarial inputs that must stay linear-time."""
import decimal
from decimal import Decimal

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stages.numbers import (CN_DIGITS, NUMBER_PATTERN, SCALE_PATTERN, format_decimal, has_scale,
                              parse_number, scale_of, split_scale)

VALUES = [
    # Arabic
    ('3', '3'), ('0', '0'), ('8573.9', '8573.9'), ('1,468.3', '1468.3'), ('601,293.11', '601293.11'),
    ('1,000,000', '1000000'), ('２２', '22'), ('１２．５', '12.5'), ('-12.6', '-12.6'), ('负3.9', '-3.9'),
    ('－５', '-5'), ('0.50', '0.5'), ('007', '7'),
    # Chinese
    ('八千五百七十三万', '85730000'), ('四十三亿七千万', '4370000000'), ('四亿五千万', '450000000'),
    ('一百二十', '120'), ('十二', '12'), ('十', '10'), ('两亿', '200000000'), ('两千', '2000'),
    ('二十五', '25'), ('一百万', '1000000'), ('三千五百万', '35000000'), ('零', '0'), ('一千零五', '1005'),
    ('一千零十', '1010'), ('二〇二三', '2023'), ('二○二三', '2023'), ('一九九八', '1998'), ('〇', '0'),
    ('壹佰贰拾叁', '123'), ('肆仟伍佰陆拾柒', '4567'), ('玖萬', '90000'), ('貳億', '200000000'),
    ('兩千', '2000'), ('廿', '20'), ('卅', '30'), ('廿五', '25'), ('十二点五', '12.5'), ('三点一四', '3.14'),
    ('拾万零五十六点叁叁', '100056.33'), ('四十一', '41'), ('一百二十点五', '120.5'), ('负一', '-1'),
    ('三百三', '330'), ('两万五', '25000'), ('一万亿', '1000000000000'), ('一万零五', '10005'),
    ('四十九兆九千五百九十二亿', '49959200000000'), ('十二点五万', '125000'),
    # mixed
    ('1.2万亿', '1200000000000'), ('3千万', '30000000'), ('8.27亿', '827000000'), ('2.1亿', '210000000'),
    ('12.6万', '126000'), ('5万', '50000'), ('4500亿', '450000000000'), ('十万', '100000'), ('1万', '10000'),
    ('100万', '1000000'), ('8573.9万', '85739000'), ('2亿5000万', '250000000'), ('1,468.3亿', '146830000000'),
    ('０.５亿', '50000000'), ('-3万', '-30000'),
]


@pytest.mark.parametrize('text,expected', VALUES)
def test_parse_number(text, expected):
    value = parse_number(text)
    assert value is not None and format_decimal(value) == expected
    assert value == Decimal(expected)


def test_exact_not_float():
    assert parse_number('8573.9万') == Decimal('85739000')
    assert parse_number('0.1万') + parse_number('0.2万') == Decimal('3000')


@pytest.mark.parametrize('text', ['', '万', '亿', '几', '数十', '十几', '第一', '1.2.3', '1,23', 'abc', '百万',
                                  '千万', '三五万', '一亿亿', '一万万', '三亿四万五亿', '一百一千', '1.', '3 万',
                                  '１，２３４', '百分之五', '点五', '负', '50兆瓦', None])
def test_not_numbers(text):
    assert parse_number(text) is None


@pytest.mark.parametrize('text,head,scale,size', [
    ('8573.9万', '8573.9', '万', 10**4), ('1.2万亿', '1.2', '万亿', 10**12), ('四十三亿七千万', '四十三亿七千万', '', 1),
    ('3', '3', '', 1), ('3千万', '3', '千万', 10**7), ('5亿', '5', '亿', 10**8), ('两万', '两', '万', 10**4),
    ('十万', '十', '万', 10**4), ('三千五百万', '三千五百', '万', 10**4), ('一万二千亿', '一万二千', '亿', 10**8),
    ('三百', '三', '百', 100), ('三万五千', '三万五千', '', 1), ('150', '150', '', 1), ('二十', '二十', '', 1),
    ('四十九兆九千五百九十二亿', '四十九兆九千五百九十二亿', '', 1), ('十二点五万', '十二点五', '万', 10**4),
    ('-3万', '-3', '万', 10**4), ('万', '万', '', 1), ('abc', 'abc', '', 1),
])
def test_scale(text, head, scale, size):
    assert split_scale(text) == (head, scale)
    assert has_scale(text) is bool(scale)
    assert scale_of(text) == Decimal(size)


@pytest.mark.parametrize('value,expected', [
    (Decimal('85739000.0'), '85739000'), (Decimal('1.2E+12'), '1200000000000'), (Decimal('0.50'), '0.5'),
    (Decimal('-0'), '0'), (Decimal('-0.00'), '0'), (Decimal('0E-7'), '0'), (Decimal('1E-7'), '0.0000001'),
    (Decimal('-12.60'), '-12.6'), (Decimal('100'), '100'), (Decimal('1E+2'), '100'),
    (Decimal('123456789.987'), '123456789.987'),
])
def test_format_decimal(value, expected):
    assert format_decimal(value) == expected


def test_format_decimal_rejects_non_finite():
    with pytest.raises(ValueError):
        format_decimal(Decimal('NaN'))


@pytest.mark.parametrize('sentence,spans', [
    ('总投资4500多亿元以上', ['4500']), ('实现总产值200多亿元', ['200']), ('四十三亿七千万元', ['四十三亿七千万']),
    ('营收8573.9万元，同比增长12.6%', ['8573.9万', '12.6']), ('共计1,468.3亿元', ['1,468.3亿']),
    ('2019-2020年', ['2019', '2020']), ('下降-12.6个百分点', ['-12.6']), ('3-5万人', ['3', '5万']),
    ('装机50兆瓦', ['50']), ('二〇二三年一月', ['二〇二三', '一']), ('万一失败', []), ('负责人表示', []),
    ('有1,23个', ['1']), ('2亿5000万元', ['2亿5000万']), ('十二点五万吨', ['十二点五万']), ('一点儿', ['一']),
    ('拾万零五十六点叁叁元', ['拾万零五十六点叁叁']), ('１２．５％', ['１２．５']),
])
def test_pattern_spans(sentence, spans):
    assert [m.group() for m in regex.finditer(NUMBER_PATTERN, sentence)] == spans


def test_pattern_spans_parse():
    for sentence in ['四十三亿七千万元', '共计1,468.3亿元', '2亿5000万元']:
        for m in regex.finditer(NUMBER_PATTERN, sentence):
            assert parse_number(m.group()) is not None


def test_pattern_never_empty_and_embeddable():
    assert regex.fullmatch(NUMBER_PATTERN, '') is None
    rule = regex.compile(rf'({NUMBER_PATTERN})({SCALE_PATTERN})?元')
    m = rule.search('合计8573.9万元')
    assert m.group(1) == '8573.9万'
    assert regex.fullmatch(SCALE_PATTERN, '万亿') and not regex.fullmatch(SCALE_PATTERN, '兆瓦')
    assert set('零一二三四五六七八九两〇') <= set(CN_DIGITS)


def test_adversarial_inputs_complete():
    big = '9' * 20000
    assert format_decimal(parse_number(big)) == big
    assert [m.group() for m in regex.finditer(NUMBER_PATTERN, big)] == [big]
    assert format_decimal(parse_number('九' * 20000)) == big
    grouped = '1' + ',000' * 7000
    assert format_decimal(parse_number(grouped)) == '1' + '0' * 21000
    assert format_decimal(parse_number('1' * 10000 + '.5万亿')) == '1' * 10000 + '5' + '0' * 11
    assert parse_number('亿' * 5000) is None and list(regex.finditer(NUMBER_PATTERN, '亿' * 5000)) == []
    assert parse_number('一' + '亿' * 5000) is None
    assert parse_number('一万' * 5000) is None
    assert parse_number('负' * 5000) is None
    assert split_scale('一' + '亿' * 5000)[1] == ''
    # a failing bigger rule must not backtrack quadratically
    for s in [big, '九' * 20000, '一' + '亿' * 5000, grouped]:
        assert regex.search(rf'(?:{NUMBER_PATTERN})X', s) is None


def test_global_context_untouched():
    before = decimal.getcontext().prec
    parse_number('9' * 5000)
    assert decimal.getcontext().prec == before


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[0-9]{1,40}(\.[0-9]{1,40})?", fullmatch=True))
def test_plain_numbers_fast_path_equals_the_general_parse(text):
    """parse_number reads plain ASCII numbers directly; the general tokeniser must agree."""
    import decimal
    from pipeline.stages.numbers import _evaluate
    with decimal.localcontext(prec=12 * len(text) + 40, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN):
        assert parse_number(text) == _evaluate(text)
