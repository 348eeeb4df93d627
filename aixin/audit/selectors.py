"""Reads of the audit log (R-1.3), always through `audit_events_visible_to`."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from aixin.accounts.access import audit_events_visible_to


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_event_list(
    *,
    user: Any,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Any]:
    """Events the user may read, newest first, filtered. Dates are whole local days (inclusive);
    they become a range on the indexed timestamp rather than a per-row date conversion."""
    events = audit_events_visible_to(user).select_related("region")
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_name__icontains=actor)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if date_from:
        events = events.filter(created_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(created_at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    return events.order_by("-created_at", "-id")


def audit_object_types(*, user: Any) -> list[str]:
    """The object types present in the user's events, for the filter's choices."""
    return sorted(
        t
        for t in audit_events_visible_to(user).order_by().values_list("object_type", flat=True).distinct()
        if t
    )
