"""Pinyin search keys for Chinese names: full pinyin and initials, so 张小明 is found by
"zhangxiaoming", "xiaoming" and "zxm".

Both keys are defined by pypinyin's ``lazy_pinyin(name, errors="ignore")``. That call costs about
20 µs, too slow for bulk imports of distinct names, so the result is assembled from cached
pieces instead, using pypinyin's own rules for how it splits a string:

* a string is first split into runs of Han characters and runs of everything else; with
  ``errors="ignore"`` the other runs produce nothing;
* a Han run is cut by pypinyin's forward maximum-matching segmenter, which only ever yields
  single characters and words from ``PHRASES_DICT``;
* each segment is converted on its own (phrase reading if it is a known phrase, otherwise the
  characters' own readings) and the results are concatenated.

So a name made only of Han characters, none of whose substrings of two or more characters is a
known phrase, converts character by character, and each character's result is cached. A name
that contains a known phrase is cut with pypinyin's own segmenter and each segment's result is
cached. Anything else (non-Han characters, long text) goes to ``lazy_pinyin`` unchanged.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.seg import mmseg

# Longer all-Han strings are not names; they take the plain lazy_pinyin path instead of the
# quadratic phrase check below.
_MAX_FAST_LEN = 8

# One segment's pinyin: (syllables joined as returned, lower-cased syllables joined, initials).
_Piece = tuple[str, str, str]


def _convert_segment(segment: str) -> _Piece:
    # lazy_pinyin converts a list item made only of Han characters as given, without segmenting
    # it again, so this is exactly this segment's share of lazy_pinyin(name) for any name that
    # pypinyin cuts into segments including this one.
    syllables = lazy_pinyin([segment], errors="ignore")
    lowered = [s.lower() for s in syllables]
    return "".join(syllables), "".join(lowered), "".join(s[0] for s in lowered if s)


# Han characters seen so far (bounded by the number of Han code points pypinyin knows). Like the
# lru_cache before it, this assumes pypinyin's dictionaries are not customised at run time
# (load_phrases_dict / load_single_dict); this project never does.
_char_pieces: dict[str, _Piece] = {}
_segment_piece = lru_cache(maxsize=65536)(_convert_segment)

# For each name length, the (start, stop) of every substring of two or more characters.
_SPANS = [tuple((i, j) for i in range(n) for j in range(i + 2, n + 1)) for n in range(_MAX_FAST_LEN + 1)]


def _converted(name: str) -> _Piece | None:
    """The pieces of lazy_pinyin(name, errors="ignore") concatenated, or None when the name is
    not a short run of Han characters."""
    if len(name) > _MAX_FAST_LEN:
        return None
    char_pieces = _char_pieces
    raw = full = initials = ""
    for ch in name:
        piece = char_pieces.get(ch)
        if piece is None:
            if not RE_HANS.match(ch):
                return None
            piece = char_pieces[ch] = _convert_segment(ch)
        raw += piece[0]
        full += piece[1]
        initials += piece[2]
    phrases = PHRASES_DICT
    for i, j in _SPANS[len(name)]:
        if name[i:j] in phrases:
            # The segmenter only yields phrases and single characters, so without a phrase
            # anywhere in the name the per-character pieces are exact; with one, let it decide.
            pieces = [_segment_piece(s) for s in mmseg.seg.cut(name)]
            return (
                "".join([p[0] for p in pieces]),
                "".join([p[1] for p in pieces]),
                "".join([p[2] for p in pieces]),
            )
    return raw, full, initials


def _search_key_from(syllables: list[str]) -> str:
    syllables = [s.lower() for s in syllables]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s)
    return f"{full} {initials}".strip()


def search_key(name: str) -> str:
    converted = _converted(name)
    if converted is None:
        return _search_key_from(lazy_pinyin(name, errors="ignore"))
    return f"{converted[1]} {converted[2]}".strip()


def sort_key(name: str) -> str:
    converted = _converted(name)
    if converted is None:
        return "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower()
    return converted[0].lower()
