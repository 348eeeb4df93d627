"""The entry points of import worker processes (spawned). No Django import at module level:
a spawned process unpickles its arguments before it can set Django up, so the builder travels
as bytes and is unpickled after `django.setup()`."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aixin.ingest.build import NewRow

_BUILDER: Any = None


def init(payload: bytes) -> None:
    import django

    django.setup()
    global _BUILDER
    _BUILDER = pickle.loads(payload)  # noqa: S301 — made by the parent process a moment ago


def ready() -> bool:
    """Nothing: a first task, whose completion says the worker has started."""
    return _BUILDER is not None


def build(rows: list[NewRow], ids: Sequence[int] | None) -> Any:
    assert _BUILDER is not None, "worker not initialised"
    return _BUILDER.build(rows, ids)
