from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Schema

from aixin.accounts.access import STAFF, ScopedRouter, access, request_user
from aixin.regions import selectors

router = ScopedRouter(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    kind: str
    parent_code: str | None
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    successor_code: str | None
    statutory: bool


@router.get("", response=list[RegionOut], url_name="regions_list")
@access(*STAFF)
def regions_list(request: HttpRequest, parent: str | None = None) -> list[RegionOut]:
    """The direct children of region `parent` (default: the caller's own region)."""
    user = request_user(request)
    return [
        RegionOut(
            code=r.code,
            name=r.name,
            level=r.level,
            kind=r.kind,
            parent_code=r.parent.code if r.parent else None,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            successor_code=r.successor.code if r.successor else None,
            statutory=r.statutory,
        )
        for r in selectors.region_children_for_api(user, parent)
    ]
