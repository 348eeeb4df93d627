"""What a backup holds and how each column travels: the models in dependency order, JSON-safe
column values, foreign keys into Django's own tables by natural key, migration state and the
highest id each table has handed out.

Every concrete, managed model is backed up except the tables that are rebuilt or worthless on
another instance (EXCLUDED). A foreign key into an excluded table (a user's permissions point
at auth_permission, whose ids differ between databases) is written as that row's natural key.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.migrations.recorder import MigrationRecorder
from django.utils.duration import duration_iso_string

# Rebuilt by `migrate` (content types, permissions) or not worth keeping (sessions: everyone
# logs in again after a restore). Huey's queue is not in this database.
EXCLUDED = frozenset({"sessions.session", "contenttypes.contenttype", "auth.permission"})

# Tables a fresh `migrate` fills with configuration (the 6+1 rules, school terms, festivals).
# A restore replaces their rows with the backup's; any other row makes the target "not empty".
SEEDED_BY_MIGRATIONS = frozenset({"care.carerule", "care.schoolterm", "care.festival"})


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    fields: tuple[models.Field[Any, Any], ...]  # concrete fields, primary key first

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> list[str]:
        return [f.attname for f in self.fields]

    @property
    def pk(self) -> models.Field[Any, Any]:
        pk = self.model._meta.pk
        assert pk is not None
        return pk


def tables() -> list[Table]:
    """Every backed-up table, a table after the tables it points at (self-references and
    cycles aside: foreign keys are checked at commit, so order is a courtesy, not a need)."""
    chosen = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and m._meta.label_lower not in EXCLUDED
    ]
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()
    visiting: set[type[models.Model]] = set()

    def place(model: type[models.Model]) -> None:
        if model in placed or model in visiting:
            return
        visiting.add(model)
        for f in model._meta.concrete_fields:
            target = f.related_model if f.is_relation else None
            if isinstance(target, type) and target is not model and target in chosen_set:
                place(target)
        visiting.discard(model)
        placed.add(model)
        ordered.append(model)

    chosen_set = set(chosen)
    for model in chosen:
        place(model)
    out = []
    for model in ordered:
        pk = model._meta.pk
        assert pk is not None
        fields = (pk, *(f for f in model._meta.concrete_fields if f is not pk))
        out.append(Table(model=model, fields=tuple(fields)))
    return out


def file_fields(backed_up: Sequence[Table]) -> list[tuple[Table, models.FileField]]:
    """The columns naming uploaded files (photos, consent evidence, case attachments): the
    backup carries the files themselves too."""
    return [(t, f) for t in backed_up for f in t.fields if isinstance(f, models.FileField)]


def _natural_key_target(field: models.Field[Any, Any]) -> type[models.Model] | None:
    target = field.related_model if field.is_relation else None
    if isinstance(target, type) and target._meta.label_lower in EXCLUDED:
        return target
    return None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def encoders(table: Table) -> list[Callable[[Any], Any]]:
    """One function per column: the value `values_list()` gives → a JSON-safe value."""
    out: list[Callable[[Any], Any]] = []
    for f in table.fields:
        target = _natural_key_target(f)
        if isinstance(f, models.JSONField):
            out.append(lambda v: v)
        elif target is not None:
            out.append(_natural_key_encoder(target))
        else:
            out.append(_plain)
    return out


def _natural_key_encoder(target: type[models.Model]) -> Callable[[Any], Any]:
    keys: dict[Any, list[Any]] = {}

    def encode(pk: Any) -> Any:
        if pk is None:
            return None
        if pk not in keys:
            keys[pk] = list(target._base_manager.get(pk=pk).natural_key())  # type: ignore[attr-defined]
        return keys[pk]

    return encode


class UnknownNaturalKey(LookupError):
    pass


def decoders(table: Table) -> list[Callable[[Any], Any]]:
    """One function per column: the JSON value → what the column takes on this database."""
    out: list[Callable[[Any], Any]] = []
    for f in table.fields:
        target = _natural_key_target(f)
        if target is not None:
            out.append(_natural_key_decoder(target, f))
        else:
            out.append(_field_decoder(f))
    return out


# Columns whose JSON value (str, int, float, bool) is already what the database driver takes.
_AS_IS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "BigIntegerField",
        "IntegerField",
        "SmallIntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "BooleanField",
        "FloatField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "FileField",
        "ImageField",
    }
)


def _as_is(value: Any) -> Any:
    return value


def _field_decoder(f: models.Field[Any, Any]) -> Callable[[Any], Any]:
    column = f.target_field if isinstance(f, models.ForeignKey) else f
    if column.get_internal_type() in _AS_IS:
        return _as_is
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per value
    to_python = f.to_python
    prep = f.get_db_prep_save
    if isinstance(f, models.JSONField):
        return lambda v: None if v is None else prep(v, db)

    def decode(value: Any) -> Any:
        if value is None:
            return None
        return prep(to_python(value), db)

    return decode


def _natural_key_decoder(target: type[models.Model], f: models.Field[Any, Any]) -> Callable[[Any], Any]:
    ids: dict[tuple[Any, ...], Any] = {}

    def decode(value: Any) -> Any:
        if value is None:
            return None
        key = tuple(value)
        if key not in ids:
            try:
                ids[key] = target._default_manager.get_by_natural_key(*key).pk  # type: ignore[attr-defined]
            except target.DoesNotExist:  # type: ignore[attr-defined]
                raise UnknownNaturalKey(f"{target._meta.label} {'.'.join(map(str, key))}") from None
        return ids[key]

    return decode


def migration_state(labels: Sequence[str]) -> dict[str, list[str]]:
    """The applied migrations of each app holding a backed-up table."""
    applied = MigrationRecorder(connection).applied_migrations()
    wanted = set(labels)
    state: dict[str, list[str]] = {app: [] for app in sorted(wanted)}
    for app, name in applied:
        if app in wanted:
            state[app].append(name)
    for names in state.values():
        names.sort()
    return state


def highest_id(table: Table) -> int | None:
    """The highest id the table's sequence has handed out (rows since deleted included), so that
    a restored database never hands an old id (still named in the audit log) to a new row."""
    if not isinstance(table.pk, models.AutoField):
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table.db_table, table.pk.column])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                return None
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 (from the catalogue)
            last, called = cursor.fetchone()
            return int(last) if called else int(last) - 1
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table.db_table])
            row = cursor.fetchone()
            return int(row[0]) if row else 0
    return None


def set_highest_id(table: Table, highest: int | None) -> None:
    """Move the table's sequence past both its rows and `highest` (from the backup)."""
    if not isinstance(table.pk, models.AutoField):
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX({quote(table.pk.column)}), 0) FROM {quote(table.db_table)}")  # noqa: S608
        top = max(int(cursor.fetchone()[0]), highest or 0)
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s, %s)",
                [table.db_table, table.pk.column, max(top, 1), top > 0],
            )
        elif connection.vendor == "sqlite" and top > 0:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [top, table.db_table])
            if cursor.rowcount == 0:
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table.db_table, top]
                )
