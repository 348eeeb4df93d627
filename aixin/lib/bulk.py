"""Bulk inserts (imports, matching proposals), without Django's per-object and per-field cost:
PostgreSQL COPY, or one SQLite executemany. Ids are assigned here (from the table's sequence on
PostgreSQL; on SQLite after the largest id ever used, which is safe because the caller holds
SQLite's single write lock: it has written in the same transaction before inserting).

Rows are plain namespaces made by `new(model, **values)` (a Django model instance costs
~50 µs to construct; a namespace ~2 µs), carrying every concrete field's `attname`. Values must
already be what the column takes: str, int, float, bool, date, aware datetime, None, or a
dict/list for JSON columns.
"""

from __future__ import annotations

import datetime
import enum
import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.db import connection, models


@cache
def _columns(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _defaults(model: type[models.Model]) -> tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]]:
    fixed: dict[str, Any] = {}
    made: list[tuple[str, Callable[[], Any]]] = []
    for f in _columns(model):
        if f.has_default() and callable(f.default):
            made.append((f.attname, f.default))
        elif f.has_default():
            # A choices member (ChildStatus.ACTIVE) as its plain value: what the column holds.
            fixed[f.attname] = f.default.value if isinstance(f.default, enum.Enum) else f.default
        elif f.null:
            fixed[f.attname] = None
        else:
            fixed[f.attname] = "" if isinstance(f, (models.CharField, models.TextField)) else None
    return fixed, tuple(made)


def new(model: type[models.Model], **values: Any) -> Any:
    """A row of `model` to insert: defaults for every column, then `values` (by attname)."""
    fixed, made = _defaults(model)
    row = SimpleNamespace(**fixed)
    for attname, factory in made:
        setattr(row, attname, factory())
    row.__dict__.update(values)
    row.pk = row.id = None
    return row


def insert(model: type[models.Model], rows: Sequence[Any]) -> None:
    """Insert `rows` (namespaces from `new`) and set their `pk`/`id`."""
    if not rows:
        return
    table = model._meta.db_table
    fields = _columns(model)
    pk = model._meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids: Sequence[int] = _pg_ids(cursor, table, pk.column, len(rows))
            _copy(cursor, table, pk.column, names, fields, attnames, rows, ids)
        else:
            assert connection.in_atomic_block, "SQLite ids are assigned under the batch's write lock"
            ids = _sqlite_ids(cursor, table, pk.column, len(rows))
            convert = _sqlite_converters(fields)
            placeholders = ", ".join(["%s"] * (len(fields) + 1))
            cursor.executemany(
                f"INSERT INTO {quote(table)} ({quote(pk.column)}, {names}) VALUES ({placeholders})",  # noqa: S608
                [
                    [
                        new_id,
                        *(
                            c(getattr(row, a)) if c else getattr(row, a)
                            for a, c in zip(attnames, convert, strict=True)
                        ),
                    ]
                    for row, new_id in zip(rows, ids, strict=True)
                ],
            )
    for row, new_id in zip(rows, ids, strict=True):
        row.pk = row.id = new_id


def _pg_ids(cursor: Any, table: str, column: str, n: int) -> Sequence[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, n]
    )
    return [r[0] for r in cursor.fetchall()]


def _copy(
    cursor: Any,
    table: str,
    pk_column: str,
    names: str,
    fields: Sequence[models.Field[Any, Any]],
    attnames: list[str],
    rows: Sequence[Any],
    ids: Sequence[int],
) -> None:
    from psycopg.types.json import Jsonb

    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    quote = connection.ops.quote_name
    raw = cursor.cursor  # the psycopg cursor under Django's wrapper
    with raw.copy(f"COPY {quote(table)} ({quote(pk_column)}, {names}) FROM STDIN") as copy:
        for row, new_id in zip(rows, ids, strict=True):
            values = [getattr(row, a) for a in attnames]
            for i in json_at:
                value = values[i]
                values[i] = Jsonb(json.loads(value) if type(value) is RawJson else value)
            copy.write_row([new_id, *values])


def _sqlite_ids(cursor: Any, table: str, column: str, n: int) -> range:
    quote = connection.ops.quote_name
    cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")  # noqa: S608
    highest = cursor.fetchone()[0]
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    found = cursor.fetchone()
    start = max(highest, found[0] if found else 0) + 1
    return range(start, start + n)


def _sqlite_converters(fields: Sequence[models.Field[Any, Any]]) -> list[Callable[[Any], Any] | None]:
    ops = connection.ops
    out: list[Callable[[Any], Any] | None] = []
    for f in fields:
        if isinstance(f, models.JSONField):
            out.append(_json_value)
        elif isinstance(f, models.DateTimeField):
            out.append(ops.adapt_datetimefield_value)
        elif isinstance(f, models.DateField):
            out.append(ops.adapt_datefield_value)
        else:
            out.append(None)
    return out


# ---------------------------------------------------------------------------------------------
# COPY text, made anywhere (worker processes too) and written by the process holding the
# transaction. Much cheaper than adapting every value through psycopg: an import formats its
# rows in the build workers and the engine only passes the text on.

_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _copy_str(value: Any) -> str:
    if value is None:
        return NULL
    if type(value) is not str:
        value = str(value)
    text: str = value.translate(_COPY_ESCAPE) if _COPY_SPECIAL.search(value) else value
    return text


def _copy_int(value: Any) -> str:
    return NULL if value is None else str(int(value))


def _copy_bool(value: Any) -> str:
    return NULL if value is None else ("t" if value else "f")


def _copy_float(value: Any) -> str:
    return NULL if value is None else repr(float(value))


def _copy_date(value: Any) -> str:
    return NULL if value is None else value.isoformat()


_DATETIMES: dict[datetime.datetime, str] = {}


def _copy_datetime(value: Any) -> str:
    """Aware datetimes keep their offset. Rows made together share their `now`: cached."""
    if value is None:
        return NULL
    text = _DATETIMES.get(value)
    if text is None:
        if len(_DATETIMES) > 64:
            _DATETIMES.clear()
        text = _DATETIMES[value] = value.isoformat()
    return text


class RawJson(str):
    """JSON text its maker rendered already (`copy_line` and `insert` take it as it is): the
    same small dict for thousands of rows of a batch is rendered once, not once a row."""

    __slots__ = ()


def raw_json(value: Any) -> RawJson:
    """`value` rendered as compact JSON text."""
    return RawJson(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _copy_json(value: Any) -> str:
    if value is None:
        return NULL
    return _copy_str(str(value if type(value) is RawJson else raw_json(value)))


def _json_value(value: Any) -> Any:
    """A JSON column's value for a database parameter (SQLite): text, or None for NULL."""
    if value is None:
        return None
    if type(value) is RawJson:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _converter(f: models.Field[Any, Any]) -> Callable[[Any], str]:
    if isinstance(f, models.JSONField):
        return _copy_json
    if isinstance(f, models.BooleanField):
        return _copy_bool
    if isinstance(f, models.DateTimeField):  # before DateField, its base
        return _copy_datetime
    if isinstance(f, models.DateField):
        return _copy_date
    if isinstance(f, models.FloatField):
        return _copy_float
    if isinstance(f, models.IntegerField | models.AutoField | models.ForeignKey):
        return _copy_int
    return _copy_str


def copy_columns(model: type[models.Model], *, with_pk: bool) -> tuple[str, ...]:
    """The attnames a COPY line of `model` holds, in order (the primary key first if asked;
    without it the database's identity default numbers the rows)."""
    return tuple(f.attname for f in _copy_fields(model, with_pk))


@cache
def _copy_fields(model: type[models.Model], with_pk: bool) -> tuple[models.Field[Any, Any], ...]:
    pk = model._meta.pk
    assert pk is not None
    return (pk, *_columns(model)) if with_pk else _columns(model)


# The fast path of each kind of column inside a generated line formatter (`{v}` is the value):
# the common value formatted inline, anything else (None, another type, a character to
# escape) handed to the kind's converter above, which decides.
_INLINE: dict[Callable[[Any], str], str] = {
    _copy_str: "(v if type(v := {v}) is str and v.isprintable() and BACKSLASH not in v else copy_str(v))",
    _copy_int: "(v if type(v := {v}) is int else copy_int(v))",
    _copy_bool: "('t' if (v := {v}) is True else 'f' if v is False else copy_bool(v))",
    _copy_date: "(v.isoformat() if type(v := {v}) is date else copy_date(v))",
    _copy_datetime: "copy_datetime({v})",
    _copy_float: "copy_float({v})",
    _copy_json: (
        "(v if type(v := {v}) is RawJson and v.isprintable() and BACKSLASH not in v else copy_json(v))"
    ),
}
_INLINE_NAMES = {
    "BACKSLASH": "\\",
    "date": datetime.date,
    "RawJson": RawJson,
    "copy_str": _copy_str,
    "copy_int": _copy_int,
    "copy_bool": _copy_bool,
    "copy_date": _copy_date,
    "copy_datetime": _copy_datetime,
    "copy_float": _copy_float,
    "copy_json": _copy_json,
}


@cache
def copy_formatter(model: type[models.Model], *, with_pk: bool) -> Callable[[dict[str, Any]], str]:
    """A function that formats one row of `model`, given as a dict by attname (a namespace's
    `__dict__`), as a line of PostgreSQL COPY text.

    The function is generated once per model, as one f-string over the columns with each kind's
    common case inline (as `dataclasses` generates `__init__`): an import formats five lines a
    child for half a million children, and a converter call per column costs three times as
    much. The names in the source are the model's attnames, checked to be identifiers."""
    parts = []
    for f in _copy_fields(model, with_pk):
        if not f.attname.isidentifier():
            raise ValueError(f"unexpected column name {f.attname!r}")
        parts.append("{" + _INLINE[_converter(f)].format(v=f"row[{f.attname!r}]") + "}")
    source = 'def line(row):\n    return f"' + "\\t".join(parts) + '\\n"\n'
    namespace: dict[str, Any] = dict(_INLINE_NAMES)
    exec(compile(source, f"<copy line of {model._meta.label}>", "exec"), namespace)  # noqa: S102
    line: Callable[[dict[str, Any]], str] = namespace["line"]
    return line


def copy_line(model: type[models.Model], row: Any, *, with_pk: bool) -> str:
    """One row (a namespace from `new`) as a line of PostgreSQL COPY text."""
    return copy_formatter(model, with_pk=with_pk)(row.__dict__)


def copy_sql(model: type[models.Model], *, with_pk: bool) -> str:
    """The COPY statement for lines made by `copy_line`."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in _copy_fields(model, with_pk))
    return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"


def copy_text(model: type[models.Model], lines: Iterable[str], *, with_pk: bool) -> int:
    """COPY lines made by `copy_line` into `model`'s table (PostgreSQL); returns the bytes sent."""
    data = "".join(lines).encode()
    if not data:
        return 0
    with connection.cursor() as cursor:
        return copy_raw(cursor.cursor.connection, copy_sql(model, with_pk=with_pk), data)


def copy_raw(raw: Any, sql: str, data: bytes) -> int:
    """Run a COPY … FROM STDIN of `data` on a psycopg connection (the one under Django's, also
    from another thread: psycopg serialises what runs on one connection)."""
    if not data:
        return 0
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)
    return len(data)


class CopyWriter:
    """COPYs run in order by a thread of its own on the psycopg connection under Django's
    (PostgreSQL), so that the caller goes on reading and checking the next rows while the
    database loads the last ones. psycopg serialises the connection: the caller's next query
    waits for the COPY that is running. The first error stops the writing and is raised by the
    caller's next `put` or by `close`; the caller's transaction is then rolled back whole."""

    def __init__(self, *, ahead: int = 2) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.error: BaseException | None = None
        self.queue: queue.Queue[list[tuple[str, bytes]] | None] = queue.Queue(maxsize=ahead)
        self.thread = threading.Thread(target=self._run, name="aixin-copy", daemon=True)
        self.thread.start()

    def put(self, copies: list[tuple[str, bytes]]) -> None:
        """Queue COPYs (statement, data), run in the order given after those queued before."""
        self._raise()
        self.queue.put(copies)

    def close(self) -> None:
        """Wait for every queued COPY; raises the first error of any."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _run(self) -> None:
        failed = False
        while (copies := self.queue.get()) is not None:
            if failed:
                continue  # drain: the caller raises at its next put or close
            try:
                for sql, data in copies:
                    copy_raw(self.raw, sql, data)
            except BaseException as exc:  # handed to the caller
                self.error, failed = exc, True


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` fresh primary keys from the table's sequence (PostgreSQL), for rows made elsewhere."""
    pk = model._meta.pk
    assert pk is not None
    if n <= 0:
        return []
    with connection.cursor() as cursor:
        return list(_pg_ids(cursor, model._meta.db_table, pk.column, n))
