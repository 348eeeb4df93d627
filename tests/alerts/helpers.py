"""Batches and history rows as the import engine writes them, and alerts for the tests."""

from __future__ import annotations

import datetime
from typing import Any

from aixin.alerts.models import Alert, AlertStatus
from aixin.alerts.services import raise_alerts
from aixin.ingest.models import ImportBatch
from aixin.registry.models import ChildChange

TODAY = datetime.date.today()


def make_batch(tree: Any, source: str = "civil_affairs") -> ImportBatch:
    return ImportBatch.objects.create(source=source, scope=tree.city, status="running", file_name="台账.xlsx")


def change(batch: ImportBatch, child: Any, field: str, old: str = "", new: str = "") -> ChildChange:
    """One history row of the batch (display strings, as the engine writes them)."""
    return ChildChange.objects.create(
        child=child,
        field=field,
        old_value=old,
        new_value=new,
        source=batch.source,
        batch=batch,
        reason="部门数据导入",
    )


def created(batch: ImportBatch, child: Any) -> None:
    """The batch created the child (as the import stamps it)."""
    type(child).objects.filter(pk=child.pk).update(created_batch=batch)
    child.created_batch = batch


def born_turning_18_in(days: int, today: datetime.date = TODAY) -> datetime.date:
    day = today + datetime.timedelta(days=days)
    try:
        return day.replace(year=day.year - 18)
    except ValueError:
        return datetime.date(day.year - 18, 2, 28)


def make_alert(child: Any, kind: str, message: str = "测试预警") -> Alert:
    raise_alerts(kind, [child], lambda c: message)
    return Alert.objects.get(child=child, kind=kind, status=AlertStatus.OPEN)


def open_alerts(child: Any, kind: str | None = None) -> list[Alert]:
    qs = Alert.objects.filter(child=child, status=AlertStatus.OPEN)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)
