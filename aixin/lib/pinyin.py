"""Pinyin search keys for Chinese names: full pinyin and initials, so 张小明 is found by
"zhangxiaoming", "xiaoming" and "zxm"."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)  # names repeat: an import of 500,000 rows has far fewer distinct ones
def search_key(name: str) -> str:
    syllables = [s.lower() for s in lazy_pinyin(name, errors="ignore")]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s)
    return f"{full} {initials}".strip()


def sort_key(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower()
