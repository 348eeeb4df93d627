"""The row hash decides that a re-imported row is unchanged: it must not move when a ledger
only reorders its columns or adds unrecognised ones, and must move when a recognised cell
says something else. Its fast path (a row of plain text) must agree with the definition on
every row, or a stored hash from an earlier import would stop matching."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from aixin.ingest.engine import _cell_text, row_hash

KEYS = ["name", None, "id_number", "school", "grade"]


def defined_hash(source: str, keys: list[str | None], cells: list[object]) -> str:
    """The hash as first defined: the source, then each recognised cell's stripped text in
    the order of the keys, joined by \\x1f."""
    positions = [i for _k, i in sorted((k, i) for i, k in enumerate(keys) if k is not None)]
    parts = [source, *(_cell_text(cells[i]).strip() if i < len(cells) else "" for i in positions)]
    return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


cell = st.one_of(
    st.text(alphabet=st.sampled_from("李 a1\x1f\x1c\u3000\xa0\t\n,"), max_size=6),
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
)


@given(st.lists(cell, max_size=7))
def test_the_hash_of_any_row_is_the_defined_one(cells):
    assert row_hash("civil_affairs", KEYS, cells) == defined_hash("civil_affairs", KEYS, cells)


def test_column_order_and_unrecognised_columns_do_not_change_the_hash():
    row = ["李小花", "1", "500101201501010011", "中心小学", "三年级"]
    moved = ["三年级", "李小花", "中心小学", "500101201501010011"]
    assert row_hash("education", KEYS, row) == row_hash(
        "education", ["grade", "name", "school", "id_number"], moved
    )
    assert row_hash("education", KEYS, row) == row_hash("education", KEYS, [*row[:1], "99", *row[2:]])


def test_a_changed_cell_or_another_source_changes_the_hash_and_spaces_around_a_cell_do_not():
    row = ["李小花", "1", "500101201501010011", "中心小学", "三年级"]
    assert row_hash("education", KEYS, row) != row_hash("education", KEYS, [*row[:4], "四年级"])
    assert row_hash("education", KEYS, row) != row_hash("health", KEYS, row)
    assert row_hash("education", KEYS, row) == row_hash("education", KEYS, [" 李小花\u3000", *row[1:]])
