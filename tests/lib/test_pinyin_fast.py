"""Pinyin search and sort keys (aixin.lib.pinyin): the fast path used for bulk imports gives exactly
what pypinyin's lazy_pinyin gives for the whole name, for real names and for arbitrary text."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from aixin.lib import pinyin
from aixin.lib.pinyin import search_key, sort_key


def reference_search_key(name: str) -> str:
    """search_key as it was before the fast path: one lazy_pinyin call on the whole name."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors="ignore")]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s)
    return f"{full} {initials}".strip()


def reference_sort_key(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower()


def contains_phrase(name: str) -> bool:
    return any(name[i:j] in PHRASES_DICT for i in range(len(name)) for j in range(i + 2, len(name) + 1))


# Common surnames, including polyphonic ones read differently as surnames (曾 单 解 仇 朴 区 查 盖
# 乐 尉 覃) and compound surnames that are phrases of their own (万俟 is "moqi", not "wanqi").
SURNAMES = [
    *"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭肖田董袁潘蒋蔡杜叶程苏魏吕丁",
    *"任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严武",
    *"曾单解仇朴区查盖乐尉覃万",
    *["万俟", "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙"],
]
# Given-name characters, including polyphones whose reading depends on the word they are in.
GIVEN = [
    *"伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玲文斌宇浩然子涵欣怡梓萱一诺思远",
    *"雨泽俊嘉轩博晨睿佳琪梦瑶雪晓小海燕春梅林凤云飞鹏辉宏立新成龙亮波玉珍丹凯琳婷欢天心安宁悦",
    *"可馨若曦宸逸昊鑫德福贵荣祥永秋月冬阳光江河山川石金银",
    *"乐长重行朝调传和都觉薄",
]


def generated_names() -> list[str]:
    # Every surname with every single given character, plus a fixed sample of two-character
    # given names: tens of thousands of distinct names.
    names = {s + g for s, g in itertools.product(SURNAMES, GIVEN)}
    rng = random.Random(20240601)
    while len(names) < 40_000:
        names.add(rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
    return sorted(names)


def test_generated_names_get_the_same_keys_as_a_whole_name_pypinyin_conversion():
    names = generated_names()
    with_phrase = [n for n in names if contains_phrase(n)]
    # The corpus exercises both ways a name is converted: character by character, and cut by
    # pypinyin's segmenter around a known phrase.
    assert len(with_phrase) > 1000
    assert len(names) - len(with_phrase) > 20_000

    wrong_search = [(n, search_key(n), reference_search_key(n)) for n in names]
    wrong_search = [row for row in wrong_search if row[1] != row[2]]
    assert wrong_search == []
    wrong_sort = [(n, sort_key(n), reference_sort_key(n)) for n in names]
    wrong_sort = [row for row in wrong_sort if row[1] != row[2]]
    assert wrong_sort == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张小明", "zhangxiaoming zxm"),
        # 长江 is a phrase: its 长 is "chang", although 长 on its own is "zhang".
        ("张长江", "zhangchangjiang zcj"),
        # 万俟 is a compound surname read "moqi".
        ("万俟乐", "moqile mql"),
        ("李朝阳", "lizhaoyang lzy"),
        ("", ""),
        ("Tom", ""),
        ("  ", ""),
        ("张 Tom", "zhang z"),
        ("买买提·艾力", "maimaitiaili mmtal"),
    ],
)
def test_names_get_the_search_keys_they_had_before(name, expected):
    assert search_key(name) == expected
    assert reference_search_key(name) == expected


def test_sort_key_is_the_lower_case_full_pinyin():
    assert sort_key("张小明") == "zhangxiaoming"
    assert sort_key("张长江") == "zhangchangjiang"
    assert sort_key("Tom") == ""


def test_phrase_free_names_are_built_from_cached_characters_without_converting_each_name(monkeypatch):
    names = ["张小明", "明小张", "小明张", "张明", "明张小明"]
    assert not any(contains_phrase(n) for n in names)
    expected = {n: reference_search_key(n) for n in names}
    search_key("张小明")  # the three characters are now known

    calls = []

    def counting_lazy_pinyin(*args, **kwargs):
        calls.append(args)
        return lazy_pinyin(*args, **kwargs)

    monkeypatch.setattr(pinyin, "lazy_pinyin", counting_lazy_pinyin)
    assert {n: search_key(n) for n in names} == expected
    assert calls == []


# Characters names and free text are made of: common name characters and phrase-forming ones,
# CJK (basic, extension A and B, compatibility, 〇), ASCII letters, digits, spaces, full-width
# forms, the middle dot of transliterated names, emoji, and anything else Unicode has.
_name_chars = "".join(SURNAMES) + "".join(GIVEN) + "长江重庆银行行长朝阳曾经海燕万俟大学生中国人"
TEXT_CHARS = st.one_of(
    st.sampled_from(_name_chars),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
    st.characters(min_codepoint=0xF900, max_codepoint=0xFAFF),
    st.sampled_from("〇·•　 \t"),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
    st.characters(),
)


@settings(max_examples=400, deadline=None)
@given(st.text(TEXT_CHARS, max_size=12))
def test_any_text_gets_the_same_keys_as_a_whole_name_pypinyin_conversion(text):
    assert search_key(text) == reference_search_key(text)
    assert sort_key(text) == reference_sort_key(text)
