"""Fixtures and helpers for the browser journeys.

The journeys run against pytest-django's `live_server`, i.e. a transactional test database
that is flushed after each test. Two things in the schema need care around that flush:

* several tables are append-only by database triggers (the audit log and its seals, case
  reports, entries and events, task-force notes), so the flush itself (DELETE on SQLite,
  TRUNCATE on PostgreSQL) would be refused once a page has written to one of them. The
  triggers are lifted just for the flush: on PostgreSQL the session stops firing user triggers
  (`session_replication_role = replica`; the apps share trigger functions, so dropping them one
  by one is fragile); on SQLite every trigger in the catalog is dropped and recreated afterwards
  from its stored definition;
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

_CARE_SEED = importlib.import_module("aixin.care.migrations.0002_seed_rules_and_calendar")

SCREENSHOT_DIR = Path(tempfile.gettempdir()) / "aixin-browser-failures"


# SQLite trigger definitions dropped for the flush, to be recreated after it.
_LIFTED: list[str] = []


def _append_only_triggers(*, on: bool) -> None:
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
    closes the connection again as the flush left it (an open one would keep the test database
    busy when it is dropped at the end of the run)."""
    yield
    with django_db_blocker.unblock():
        _append_only_triggers(on=True)
        seed_care_configuration()
        connection.close()


@pytest.fixture
def transactional_db(_restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    """pytest-django's transactional_db, with the append-only triggers lifted only for its flush.

    pytest-django's autouse `_live_server_helper` asks for `transactional_db` by name, so this
    override (imported into a test module) wraps the flush for `live_server` tests too."""
    yield
    _append_only_triggers(on=False)


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


@pytest.fixture
def own_queue(tmp_path: Path) -> Iterator[Any]:
    """Huey with a queue storage of this test only (restored afterwards)."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import SqliteStorage

    storage, immediate = HUEY.storage, HUEY.immediate
    HUEY.immediate = False  # (switching the mode replaces the storage: set it first)
    HUEY.storage = SqliteStorage(name=HUEY.name, filename=str(tmp_path / "queue.sqlite3"))
    try:
        yield HUEY
    finally:
        HUEY.immediate = immediate
        HUEY.storage = storage


def run_queued_tasks(huey: Any) -> int:
    """What the consumer does: take each task from the queue and execute it."""
    done = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        done += 1
    return done


class PollGate:
    """Holds a page's polling requests to `pattern` while the test runs queued tasks itself, so
    that the live server never uses the test's database connection at the same time (on
    SQLite both threads share it). Requests wait in this handler, which runs only inside
    Playwright calls; `hold()` lets a poll already through be answered, `release()` lets the
    held ones go on."""

    def __init__(self, page: Any, pattern: str) -> None:
        self.page = page
        self.pattern = re.compile(pattern)
        self.holding = False
        self.held: list[Any] = []
        page.route(self.pattern, self._route)

    def _route(self, route: Any) -> None:
        if self.holding:
            self.held.append(route)
        else:
            route.continue_()

    def hold(self) -> None:
        self.holding = True
        self.page.wait_for_timeout(1500)  # a poll already let through is answered; new ones wait

    def release(self) -> None:
        self.holding = False
        held, self.held = self.held, []
        for route in held:
            route.continue_()

    def remove(self) -> None:
        self.page.unroute(self.pattern)
