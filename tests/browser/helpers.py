"""Fixtures and helpers for the browser journeys.

The journeys run against pytest-django's `live_server`, i.e. a transactional test database
that is flushed after each test. Two things in the schema need care around that flush:

* the audit table is append-only by database triggers (aixin/audit/migrations/0002), so the
  flush itself (DELETE on SQLite, TRUNCATE on PostgreSQL) would be refused once a page has
  written an audit event. `browser_db` drops those triggers just for the flush and puts them
  back afterwards, exactly as the migration creates them;
* the "6+1" rules, school terms and festivals come from the care app's data migration
  (aixin/care/migrations/0002); the flush removes them, so `browser_db` seeds them before the
  test and again after the flush, leaving the database as the migrations left it.

A test module imports `transactional_db`, `_restore_after_flush`, `browser_db` (and `shoot`)
from here and requests `browser_db` (which brings `live_server` along).
"""

from __future__ import annotations

import contextlib
import importlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection

_TRIGGERS = importlib.import_module("aixin.audit.migrations.0002_append_only_triggers")
_CARE_SEED = importlib.import_module("aixin.care.migrations.0002_seed_rules_and_calendar")

SCREENSHOT_DIR = Path(tempfile.gettempdir()) / "aixin-browser-failures"


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _audit_triggers(*, on: bool) -> None:
    vendor = connection.vendor
    down = {"sqlite": _TRIGGERS.SQLITE_DOWN, "postgresql": _TRIGGERS.PG_DOWN}.get(vendor, [])
    up = {"sqlite": _TRIGGERS.SQLITE_UP, "postgresql": _TRIGGERS.PG_UP}.get(vendor, [])
    _run(down)
    if on:
        _run(up)


def seed_care_configuration() -> None:
    """The 6+1 rules, school terms and festivals, as the care app's data migration seeds them."""
    _CARE_SEED.seed(django_apps, None)


@pytest.fixture
def _restore_after_flush(django_db_blocker: Any) -> Iterator[None]:
    """Torn down after the flush: puts the audit triggers and the seeded configuration back."""
    yield
    with django_db_blocker.unblock():
        _audit_triggers(on=True)
        seed_care_configuration()


@pytest.fixture
def transactional_db(_restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    """pytest-django's transactional_db, with the audit triggers lifted only for its flush.

    pytest-django's autouse `_live_server_helper` asks for `transactional_db` by name, so this
    override (imported into a test module) wraps the flush for `live_server` tests too."""
    yield
    _audit_triggers(on=False)


@pytest.fixture
def browser_db(transactional_db: None, live_server: Any) -> Any:
    """The live server, with the migration-seeded configuration present."""
    seed_care_configuration()
    return live_server


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Iterator[list[Any]]:
    """Register pages here; if the test fails each gets a full-page screenshot in /tmp/."""
    pages: list[Any] = []
    failed_before = request.session.testsfailed
    yield pages
    if request.session.testsfailed == failed_before:
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)
    for n, page in enumerate(pages):
        # A page that is already closed must not hide the real failure.
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SCREENSHOT_DIR / f"{stem}-{n}.png"), full_page=True)


def text_of(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())
