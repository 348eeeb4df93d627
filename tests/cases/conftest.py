from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories
from tests.cases import helpers


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def people(tree: Any, users: dict[str, Any]) -> helpers.People:
    return helpers.make_people(tree, users)


@pytest.fixture
def child_a(tree: Any) -> Any:
    return factories.make_child(tree.village_a1, name="甲童", difficulty_life=True)


@pytest.fixture
def child_b(tree: Any) -> Any:
    return factories.make_child(tree.village_b1, name="丙童", difficulty_life=True)


class Clock:
    """A frozen clock: `timezone.now()` answers `now` until moved."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> datetime.datetime:
        self.now = self.now + datetime.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    from django.utils import timezone

    frozen = Clock(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC))
    monkeypatch.setattr(timezone, "now", frozen)
    yield frozen
