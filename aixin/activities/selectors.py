"""Reads of group activities, always through `activities_visible_to`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from aixin.accounts.access import activities_visible_to


def activity_list(*, user: Any, kind: str = "", year: int | None = None) -> QuerySet[Any]:
    """Activities in the user's scope, newest first, each with its number of children."""
    activities = activities_visible_to(user).select_related("region", "district")
    if kind:
        activities = activities.filter(kind=kind)
    if year:
        activities = activities.filter(held_on__year=year)
    return activities.annotate(n_children=Count("participations")).order_by("-held_on", "-id")
