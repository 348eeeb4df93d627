"""COPY text made outside the database connection (import build workers): every kind of value
comes back from PostgreSQL exactly as it went in, whatever characters a ledger's cells hold."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from aixin.lib import bulk
from aixin.registry.models import Child, ChildChange
from tests import factories

TRICKY = "第一行\n第二行\t制表符\\反斜杠\r回车 \\N 不是空值"


def test_a_line_escapes_tabs_newlines_and_backslashes_and_writes_none_as_null():
    row = bulk.new(ChildChange, child_id=7, field="notes", old_value=TRICKY, new_value="")
    row.batch_id = None
    row.created_at = row.updated_at = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
    line = bulk.copy_line(ChildChange, row, with_pk=False)
    assert line.endswith("\n") and line.count("\n") == 1
    cells = dict(zip(bulk.copy_columns(ChildChange, with_pk=False), line[:-1].split("\t"), strict=True))
    assert cells["old_value"] == "第一行\\n第二行\\t制表符\\\\反斜杠\\r回车 \\\\N 不是空值"
    assert cells["batch_id"] == "\\N" and cells["child_id"] == "7"
    assert cells["created_at"] == "2026-03-04T05:06:07+00:00"


def test_json_booleans_and_dates_are_written_as_postgresql_reads_them():
    child = bulk.new(Child, name="李小花", birth_date=datetime.date(2015, 3, 4))
    child.field_sources = {"name": "civil_affairs", "note": 'a "quoted" \\ word'}
    child.is_left_behind = True
    child.id = 5
    cells = dict(
        zip(
            bulk.copy_columns(Child, with_pk=True),
            bulk.copy_line(Child, child, with_pk=True)[:-1].split("\t"),
            strict=True,
        )
    )
    assert cells["id"] == "5" and cells["birth_date"] == "2015-03-04"
    assert cells["is_left_behind"] == "t" and cells["is_scattered_orphan"] == "f"
    assert cells["field_sources"] == '{"name":"civil_affairs","note":"a \\\\"quoted\\\\" \\\\\\\\ word"}'


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_rows_copied_as_text_read_back_exactly(tree):
    child = factories.make_child(tree.village_a1)
    now = timezone.now()
    rows = [
        bulk.new(
            ChildChange,
            child_id=child.pk,
            field="notes",
            old_value=TRICKY,
            new_value="新",
            created_at=now,
            updated_at=now,
        ),
        bulk.new(
            ChildChange,
            child_id=child.pk,
            field="grade",
            old_value="",
            new_value="三年级",
            created_at=now,
            updated_at=now,
        ),
    ]
    sent = bulk.copy_text(
        ChildChange, [bulk.copy_line(ChildChange, r, with_pk=False) for r in rows], with_pk=False
    )
    assert sent > 0
    stored = list(
        ChildChange.objects.filter(child=child)
        .order_by("pk")
        .values_list("old_value", "new_value", "created_at")
    )
    assert stored == [(TRICKY, "新", now), ("", "三年级", now)]
    ids = bulk.reserve_ids(Child, 3)
    assert len(set(ids)) == 3 and min(ids) > child.pk


# The generated line formatter against the per-column converters it inlines: any value of
# any kind of column comes out the same, so its fast paths can never write a cell PostgreSQL
# would read differently.
def _by_converters(model, row):
    fields = bulk._copy_fields(model, True)
    return "\t".join(bulk._converter(f)(row[f.attname]) for f in fields) + "\n"


_text = st.text(alphabet=st.sampled_from('李a1 \\\t\n\r\x00N."{}'), max_size=6) | st.text(max_size=6)
_VALUES = {
    bulk._copy_str: st.none() | _text | st.integers() | st.booleans(),
    bulk._copy_int: st.none() | st.integers() | st.booleans(),
    bulk._copy_bool: st.none() | st.booleans() | st.integers(0, 2),
    bulk._copy_date: st.none() | st.dates() | st.datetimes(),
    bulk._copy_datetime: st.none() | st.datetimes(timezones=st.just(datetime.UTC)),
    bulk._copy_float: st.none() | st.floats(allow_nan=False) | st.integers(),
    bulk._copy_json: st.none()
    | st.dictionaries(_text, _text, max_size=2)
    | st.lists(_text, max_size=2)
    | _text.map(lambda t: bulk.RawJson(json.dumps(t))),
}


@pytest.mark.parametrize("model", [Child, ChildChange])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_generated_line_is_what_the_per_column_converters_write(model, data):
    row = {
        f.attname: data.draw(_VALUES[bulk._converter(f)], label=f.attname)
        for f in bulk._copy_fields(model, True)
    }
    assert bulk.copy_formatter(model, with_pk=True)(row) == _by_converters(model, row)


def test_json_rendered_once_is_written_as_it_is_and_choice_defaults_as_their_values():
    child = bulk.new(Child, name="李小花", birth_date=datetime.date(2015, 3, 4))
    child.id = 5
    child.field_sources = bulk.RawJson('{"name":"civil_affairs"}')
    cells = dict(
        zip(
            bulk.copy_columns(Child, with_pk=True),
            bulk.copy_line(Child, child, with_pk=True)[:-1].split("\t"),
            strict=True,
        )
    )
    assert cells["field_sources"] == '{"name":"civil_affairs"}'
    assert type(child.status) is str and cells["status"] == "active"
