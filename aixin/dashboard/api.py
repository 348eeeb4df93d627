"""Stats API: `GET /api/v1/stats/overview?region=CODE` — the dashboard's numbers as JSON."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError

from aixin.accounts.access import STAFF, ScopedRouter, access
from aixin.dashboard.schemas import OverviewOut
from aixin.dashboard.selectors import cached_overview, region_for_user

router = ScopedRouter(tags=["dashboard"])


@router.get("/overview", response=OverviewOut, url_name="stats_overview")
@access(*STAFF)
def stats_overview(request: HttpRequest, region: str = "") -> Any:
    """Statistics for a region in the caller's scope (default: the caller's own region)."""
    place = region_for_user(user=request.user, code=region.strip() or None)
    if place is None:
        raise HttpError(404, "区划不存在或不在你的管辖范围内")
    return cached_overview(user=request.user, region=place)
