"""Tests on committed data (`transactional_db`: real threads, the live server) end with a flush
that empties the database. Two things in the schema need care around it:

* several tables are append-only by database triggers (the audit log and its seals, case
  reports, entries and events, task-force notes), so the flush itself (DELETE on SQLite,
  TRUNCATE on PostgreSQL) would be refused once a test has written to one of them. The
  triggers are lifted just for the flush: on PostgreSQL the session stops firing user triggers
  (`session_replication_role = replica`; the apps share trigger functions, so dropping them one
  by one is fragile); on SQLite every trigger in the catalog is dropped and recreated afterwards
  from its stored definition;
* the "6+1" rules, school terms and festivals come from the care app's data migration
  (aixin/care/migrations/0002); the flush removes them, so they are seeded again after it,
  leaving the database as the migrations left it.

A test module imports `_restore_after_flush` (requested before `transactional_db`, so that it is
torn down after the flush) and calls `append_only_triggers(on=False)` at the end of its own
fixture, just before the flush.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection

_CARE_SEED = importlib.import_module("aixin.care.migrations.0002_seed_rules_and_calendar")

# SQLite trigger definitions dropped for the flush, to be recreated after it.
_LIFTED: list[str] = []


def append_only_triggers(*, on: bool) -> None:
    """Lift (on=False) or put back (on=True) every append-only trigger, around the flush."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = " + ("DEFAULT" if on else "replica"))
            return
        if connection.vendor != "sqlite":
            return
        if on:
            while _LIFTED:
                cursor.execute(_LIFTED.pop())
            return
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        for name, sql in cursor.fetchall():
            _LIFTED.append(sql)
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def seed_care_configuration() -> None:
    """The 6+1 rules, school terms and festivals, as the care app's data migration seeds them."""
    _CARE_SEED.seed(django_apps, None)


@pytest.fixture
def _restore_after_flush(django_db_blocker: Any) -> Iterator[None]:
    """Torn down after the flush: puts the triggers and the seeded configuration back, then
    closes the connection again as the flush left it (an open one would keep the PostgreSQL test
    database busy when it is dropped at the end of the run)."""
    yield
    with django_db_blocker.unblock():
        append_only_triggers(on=True)
        seed_care_configuration()
        connection.close()
