"""Pinyin search keys for Chinese names: full pinyin and initials, so 张小明 is found by
"zhangxiaoming", "xiaoming" and "zxm"."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def search_key(name: str) -> str:
    syllables = [s.lower() for s in lazy_pinyin(name, errors="ignore")]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s)
    return f"{full} {initials}".strip()


def sort_key(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower()
