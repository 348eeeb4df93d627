"""Fixtures and helpers for the browser journeys.

The journeys run against pytest-django's `live_server`, i.e. a transactional test database
that is flushed after each test; tests/flush.py lifts the append-only triggers for the flush and
puts them and the seeded care configuration back afterwards.

A test module imports `transactional_db`, `_restore_after_flush`, `browser_db` (and `shoot`)
from here and requests `browser_db` (which brings `live_server` along).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.flush import _restore_after_flush, append_only_triggers, seed_care_configuration

__all__ = ["_restore_after_flush", "browser_db", "seed_care_configuration", "shoot", "transactional_db"]

SCREENSHOT_DIR = Path(tempfile.gettempdir()) / "aixin-browser-failures"


@pytest.fixture
def transactional_db(_restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    """pytest-django's transactional_db, with the append-only triggers lifted only for its flush.

    pytest-django's autouse `_live_server_helper` asks for `transactional_db` by name, so this
    override (imported into a test module) wraps the flush for `live_server` tests too."""
    yield
    append_only_triggers(on=False)


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


# The screen's width in CSS pixels: the layout viewport's (width=device-width). Not
# window.innerWidth: a phone browser zooms out to show a page wider than the screen, and
# innerWidth then grows with the page.
SCREEN_WIDTH = "document.documentElement.clientWidth"


def assert_fits_phone(page: Any) -> None:
    """Nothing sticks out sideways on the phone's screen (no horizontal scrolling of the page)."""
    overflow = page.evaluate(f"document.documentElement.scrollWidth - {SCREEN_WIDTH}")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
