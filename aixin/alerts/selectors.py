"""Reads for alerts: the scoped list, the open counts per kind for the staff home page, and a
child's open alerts for the child's file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from aixin.accounts.access import alerts_visible_to, regions_visible_to
from aixin.alerts.models import AlertKind, AlertStatus
from aixin.regions.models import Region, RegionLevel

# How alerts are narrowed to a region of each level (the city needs no filter).
_REGION_FIELDS: dict[int, str] = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "region_id",
}


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


def region_for_filter(user: Any, code: str | None) -> Region | None:
    """The visible region named by `code`, or None (no code, or not visible)."""
    if not code:
        return None
    region: Region | None = regions_visible_to(user).filter(code=code).first()
    return region


def _narrow(qs: QuerySet[Any], region: Region | None) -> QuerySet[Any]:
    if region is None or region.level not in _REGION_FIELDS:
        return qs
    return qs.filter(**{_REGION_FIELDS[region.level]: region.pk})


def alert_list(
    user: Any, *, kind: str = "", status: str = AlertStatus.OPEN, region: Region | None = None
) -> QuerySet[Any]:
    qs = _narrow(alerts_visible_to(user), region)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("child", "region", "town", "district", "resolved_by")


def open_alerts_by_kind(user: Any, *, region: Region | None = None) -> list[KindCount]:
    """Open alerts per kind in the user's scope (narrowed to `region`), every kind listed:
    one grouped query."""
    qs = _narrow(alerts_visible_to(user), region).filter(status=AlertStatus.OPEN)
    counts = {row["kind"]: row["n"] for row in qs.order_by().values("kind").annotate(n=Count("pk"))}
    return [KindCount(kind=k.value, label=str(k.label), count=counts.get(k.value, 0)) for k in AlertKind]


def open_alerts_of_child(user: Any, child: Any) -> QuerySet[Any]:
    """The child's open alerts that `user` may see (the alert list's scope), newest first: shown
    on the child's file so that nobody pairs a child who is about to be handed over unawares."""
    return (
        alerts_visible_to(user)
        .filter(child_id=child.pk, status=AlertStatus.OPEN)
        .order_by("-created_at", "-id")
    )
